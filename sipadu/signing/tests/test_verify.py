"""Verification of presented PDFs and the upload gate (inspect_upload)."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PdfFileWriter

from sipadu.signing import verify
from sipadu.signing.providers import SignerRef
from sipadu.signing.providers.local import LocalProvider
from sipadu.signing.tests.conftest import EC_KEY, DemoPki, flip_byte_in_stream, pdf_with
from sipadu.signing.verify import (
    UploadProblem,
    VerificationStatus,
    inspect_upload,
    set_issued_lookup,
    verify_pdf,
)


def _js_action() -> generic.DictionaryObject:
    return generic.DictionaryObject(
        {
            generic.NameObject("/S"): generic.NameObject("/JavaScript"),
            generic.NameObject("/JS"): generic.TextStringObject("app.alert('hai')"),
        }
    )


@pytest.fixture
def signed(pki: DemoPki, unsigned_pdf: bytes) -> bytes:
    """The kutipan signed by the Kepala Dinas of Balangan (demo CA, trusted)."""
    return LocalProvider().sign(unsigned_pdf, signer=SignerRef(key_id=EC_KEY))


def test_intact_signed_document_is_valid_and_says_who_signed(signed: bytes) -> None:
    result = verify_pdf(signed)
    assert result.status is VerificationStatus.VALID and result.exit_code == 0
    sig = result.signatures[0]
    assert sig.signer_name == "Kepala Dinas Dukcapil Kabupaten Balangan"
    assert sig.signer_organisation.endswith("Kabupaten Balangan")
    assert sig.signed_at is not None and sig.covers_whole_document and sig.trusted
    text = "\n".join(result.lines())
    assert text.startswith("SAH")
    assert "Kepala Dinas Dukcapil Kabupaten Balangan" in text
    assert "Diterbitkan di sini: tidak diketahui" in text
    assert "WIB" in text  # times are shown in the office's zone, not UTC


def test_signer_outside_the_trust_roots_is_not_valid(signed: bytes) -> None:
    result = verify_pdf(signed, trust_roots=[])
    assert result.status is VerificationStatus.UNTRUSTED and result.exit_code == 1
    assert "tidak berasal dari otoritas" in result.summary


def test_one_byte_changed_is_altered(signed: bytes) -> None:
    result = verify_pdf(flip_byte_in_stream(signed))
    assert result.status is VerificationStatus.ALTERED and result.exit_code == 1
    assert result.summary.startswith("TIDAK SAH")


def test_changes_appended_after_signing_are_detected(signed: bytes) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    writer.root["/Lang"] = generic.TextStringObject("en")  # any change to the catalogue
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    result = verify_pdf(out.getvalue())
    assert result.status is VerificationStatus.ALTERED
    assert result.signatures[0].intact and not result.signatures[0].covers_whole_document


def test_unsigned_pdf(unsigned_pdf: bytes, pki: DemoPki) -> None:
    result = verify_pdf(unsigned_pdf)
    assert result.status is VerificationStatus.UNSIGNED and result.exit_code == 1
    assert "tidak memiliki tanda tangan" in result.summary


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", UploadProblem.EMPTY),
        (b"GIF89a\x01\x00", UploadProblem.NOT_PDF),
        (b"%PDF-1.7\n1 0 obj << >> endobj\n", UploadProblem.CORRUPT),
    ],
)
def test_unreadable_files_exit_2(data: bytes, problem: UploadProblem) -> None:
    assert inspect_upload(data).problem is problem
    result = verify_pdf(data)
    assert result.status is VerificationStatus.UNREADABLE and result.exit_code == 2
    assert result.summary == inspect_upload(data).message
    assert not any("Diterbitkan" in line for line in result.lines())


def test_upload_gate_accepts_a_plain_pdf(unsigned_pdf: bytes) -> None:
    check = inspect_upload(unsigned_pdf)
    assert check.ok and check.problem is UploadProblem.OK and len(check.sha256) == 64


def test_upload_gate_refuses_oversized_files() -> None:
    check = inspect_upload(b"%PDF-1.7\n" + b"0" * 1024 * 1024, max_bytes=1024 * 1024)
    assert check.problem is UploadProblem.TOO_LARGE
    assert "maksimum 1 MB" in check.message


def test_upload_gate_refuses_encrypted_pdf() -> None:
    writer = PdfFileWriter()
    writer.encrypt("pemilik", "pengguna")
    out = io.BytesIO()
    writer.write(out)
    check = inspect_upload(out.getvalue())
    assert check.problem is UploadProblem.ENCRYPTED
    assert "enkripsi" in check.message
    assert verify_pdf(out.getvalue()).exit_code == 2


def test_upload_gate_refuses_javascript_in_an_open_action() -> None:
    data = pdf_with({"/OpenAction": _js_action()})
    check = inspect_upload(data)
    assert check.problem is UploadProblem.JAVASCRIPT
    assert "JavaScript" in check.message
    result = verify_pdf(data)
    assert result.status is VerificationStatus.UNSAFE and result.exit_code == 1


def test_javascript_hidden_in_a_compressed_object_stream_is_found() -> None:
    writer = PdfFileWriter(stream_xrefs=True)
    stream = writer.prepare_object_stream()
    action = writer.add_object(_js_action(), obj_stream=stream)
    names = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Names"): generic.ArrayObject(
                    [generic.TextStringObject("x"), action]
                )
            }
        ),
        obj_stream=stream,
    )
    writer.root["/Names"] = generic.DictionaryObject({generic.NameObject("/JavaScript"): names})
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    assert b"app.alert" not in data  # not visible to a naive byte scan
    assert inspect_upload(data).problem is UploadProblem.JAVASCRIPT


def test_issued_lookup_hook(signed: bytes) -> None:
    seen: list[str] = []

    def lookup(sha256: str) -> str | None:
        seen.append(sha256)
        return "Ya — Kutipan Akta Kelahiran No. 6311-LT-02012026-0001"

    result = verify_pdf(signed, issued_lookup=lookup)
    assert seen == [result.sha256]
    assert result.issued.startswith("Ya")
    try:
        set_issued_lookup(lambda digest: None)
        assert verify_pdf(signed).issued == "tidak diketahui"
        set_issued_lookup(lambda digest: "Tidak — tidak ada dokumen dengan sidik ini")
        assert verify_pdf(signed).issued.startswith("Tidak")
    finally:
        set_issued_lookup(None)


def test_bad_files_in_the_trust_folder_are_skipped(pki: DemoPki) -> None:
    (pki.trust / "rusak.pem").write_text("bukan sertifikat")
    (pki.trust / "catatan.txt").write_text("diabaikan")
    roots = verify.load_trust_roots()
    assert [r.subject.native["common_name"] for r in roots] == ["SIPADU Demo Root CA"]
