"""The document layouts: every PDF type renders on one A4 page with its number, office, date,
signer, TTE note and a QR code that decodes to the verification URL."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sipadu.core.models import Office
from sipadu.layanan import issuing
from sipadu.signing.error_codes import SigningError

DRAFTS: dict[str, dict[str, str]] = {
    "akta-kelahiran": {
        "nik": "6311014903240101",
        "full_name": "Nur Aisyah",
        "sex": "P",
        "birth_place": "Paringin",
        "birth_date": "2024-03-09",
        "no_kk": "6311010201200101",
        "father_name": "Ahmad Fauzi",
        "mother_name": "Siti Rahmah",
        "applicant_name": "Ahmad Fauzi",
    },
    "akta-kematian": {
        "nik": "6311010501500102",
        "full_name": "Abdul Karim",
        "no_kk": "6311010201200102",
        "death_date": "2025-12-01",
        "death_place": "Paringin",
        "death_cause": "Sakit",
        "applicant_name": "Rahmat",
        "reporter_relation": "Anak",
    },
    "akta-perkawinan": {
        "nik": "6311011203950103",
        "full_name": "Yohanes Pratama",
        "spouse_nik": "6311015507970104",
        "spouse_name": "Maria Lestari",
        "marriage_date": "2025-11-20",
        "marriage_place": "Paringin",
        "religious_leader": "Pdt. Samuel",
    },
    "akta-perceraian": {
        "nik": "6311011203950103",
        "full_name": "Yohanes Pratama",
        "spouse_nik": "6311015507970104",
        "spouse_name": "Maria Lestari",
        "court_decision_no": "123/Pdt.G/2025/PN Amt",
        "court_decision_date": "2025-10-02",
    },
    "pengakuan-anak": {
        "nik": "6311014903240101",
        "full_name": "Nur Aisyah",
        "birth_date": "2024-03-09",
        "no_kk": "6311010201200101",
        "father_nik": "6311010101900105",
        "father_name": "Ahmad Fauzi",
        "mother_name": "Siti Rahmah",
    },
    "pengesahan-anak": {
        "nik": "6311014903240101",
        "full_name": "Nur Aisyah",
        "birth_date": "2024-03-09",
        "no_kk": "6311010201200101",
        "father_name": "Ahmad Fauzi",
        "mother_name": "Siti Rahmah",
        "marriage_cert_no": "KW-2025-001",
    },
    "kk": {
        "nik": "6311010101900105",
        "full_name": "Ahmad Fauzi",
        "no_kk": "6311010201200101",
        "birth_date": "1990-01-01",
        "kk_reason": "perubahan",
    },
}

FAMILY = [
    {
        "nik": f"63110101019001{i:02d}",
        "full_name": name,
        "sex": sex,
        "birth_place": "Paringin",
        "birth_date": dt.date(1990 + i * 5, 1, 1),
        "religion": "Islam",
        "education": "SLTA/Sederajat",
        "occupation": "Wiraswasta",
        "marital_status": "Kawin" if i < 2 else "Belum kawin",
        "relationship": rel,
        "nationality": "WNI",
        "father_name": "Fulan",
        "mother_name": "Fulanah",
    }
    for i, (name, sex, rel) in enumerate(
        [
            ("Ahmad Fauzi", "Laki-laki", "Kepala keluarga"),
            ("Siti Rahmah", "Perempuan", "Istri"),
            ("Nur Aisyah", "Perempuan", "Anak"),
            ("Muhammad Alif", "Laki-laki", "Anak"),
        ]
    )
]


def sample_data(code: str, number: str = "6311-LU-15012026-0007") -> dict[str, Any]:
    """What ``documents.document_data`` gives for an issued document of type ``code``."""
    return {
        "type_code": code,
        "type_name": code.replace("-", " ").title(),
        "data": DRAFTS[code],
        "family": FAMILY if code == "kk" else [],
        "number": number,
        "issue_date": dt.date(2026, 1, 15),
        "verification_url": "http://127.0.0.1:8000/v/tok-abc_123",
    }


def pdftext(pdf: bytes, tmp_path: Path, *extra: str) -> str:
    """Text of a PDF with poppler's pdftotext (skip when missing)."""
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext is missing (poppler-utils)")
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [exe, *extra, str(path), "-"], capture_output=True, text=True, timeout=60, check=True
    )
    return out.stdout


def pdfinfo(pdf: bytes, tmp_path: Path) -> str:
    """poppler's pdfinfo output."""
    exe = shutil.which("pdfinfo")
    if exe is None:
        pytest.skip("pdfinfo is missing (poppler-utils)")
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [exe, str(path)], capture_output=True, text=True, timeout=60, check=True
    ).stdout


@pytest.mark.parametrize("code", sorted(issuing.TEMPLATES))
def test_each_document_renders_on_one_a4_page(code: str, office: Office, tmp_path: Path) -> None:
    pdf = issuing.render_pdf(sample_data(code), office=office, signer_name="Drs. H. Rahmadi")
    info = pdfinfo(pdf, tmp_path)
    assert "Pages:           1" in info, info
    # A4 is 595 x 842 points; the KK is landscape.
    size = "841.89 x 595.276" if code == "kk" else "595.276 x 841.89"
    assert f"Page size:       {size} pts" in info, info
    text = " ".join(pdftext(pdf, tmp_path).split())
    assert issuing.TITLES[code].replace(" ", "") in text.replace(" ", "")  # letter-spaced
    assert "Nomor: 6311-LU-15012026-0007" in text
    assert "PEMERINTAH KABUPATEN BALANGAN" in text
    assert "Balangan, 15 Januari 2026" in text
    assert "DRS. H. RAHMADI" in text
    assert "Kepala Dinas Kependudukan dan Pencatatan Sipil Kabupaten Balangan" in text
    assert "Ditandatangani secara elektronik" in text
    assert "http://127.0.0.1:8000/v/tok-abc_123" in text
    assert DRAFTS[code]["full_name"].upper() in text
    if code == "kk":
        for member in FAMILY:
            assert str(member["nik"]) in text and str(member["full_name"]).upper() in text
    # No font other than DejaVu is embedded (system fonts, nothing fetched).
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "info.pdf")], capture_output=True, text=True, check=False
    ).stdout
    assert "DejaVu" in fonts
    if os.environ.get("SIPADU_DUMP_DOCUMENTS"):  # to look at the layouts: pdftoppm → PNG
        target = Path(os.environ["SIPADU_DUMP_DOCUMENTS"])
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{code}.pdf").write_bytes(pdf)


@pytest.mark.parametrize("code", sorted(issuing.TEMPLATES))
def test_layouts_are_xhtml_with_their_style_outside(code: str, office: Office) -> None:
    """The templates are well-formed XHTML (the fast XML parser reads them) and carry no
    ``<style>``: their CSS files are parsed once per process."""
    from xml.etree import ElementTree

    html = issuing.render_html(sample_data(code), office=office, signer_name="Drs. H. Rahmadi")
    root = ElementTree.fromstring(html.split(">", 1)[1])  # noqa: S314 - our own template
    assert root.tag == "html" and root.find("head/style") is None
    sheets = issuing.stylesheets(code)
    assert len(sheets) == (2 if code == "kk" else 1)
    assert all(a is b for a, b in zip(sheets, issuing.stylesheets(code), strict=True))


def test_qr_code_carries_the_verification_url(office: Office) -> None:
    html = issuing.render_html(sample_data("akta-kelahiran"), office=office)
    assert 'src="data:image/png;base64,' in html
    assert "http://" not in html.split("<body>")[0]  # no remote stylesheet or font
    assert "<link" not in html


def test_dates_and_names_are_printed_as_on_a_kutipan(office: Office, tmp_path: Path) -> None:
    pdf = issuing.render_pdf(sample_data("akta-kelahiran"), office=office)
    text = " ".join(pdftext(pdf, tmp_path).split())
    assert "di Paringin pada tanggal 09 Maret 2024 telah lahir" in text
    assert "PEREMPUAN" in text
    assert "anak perempuan dari ayah AHMAD FAUZI dan ibu SITI RAHMAH" in text


def test_card_types_have_no_pdf_layout(office: Office) -> None:
    data = sample_data("kk")
    data["type_code"] = "ktp-el"
    with pytest.raises(SigningError) as failed:
        issuing.render_pdf(data, office=office)
    assert failed.value.message


def test_indonesian_dates() -> None:
    assert issuing.indonesian_date("2026-08-17") == "17 Agustus 2026"
    assert issuing.indonesian_date(dt.datetime(2026, 1, 2, 3, 4)) == "02 Januari 2026"
    assert issuing.indonesian_date("bukan tanggal") == "bukan tanggal"
