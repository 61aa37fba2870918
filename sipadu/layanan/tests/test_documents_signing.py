"""Signing on TTE (step 6): the real signer renders the document and signs it with the office's
Kepala Dinas key; pyHanko and poppler's pdfsig both accept it, and both reject a copy with one
byte changed. A signing failure leaves the step open with a message."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sipadu.layanan import documents, issuing
from sipadu.layanan.models import IssuedDocument, RequestStatus
from sipadu.layanan.tests.conftest import claim_for, verified
from sipadu.layanan.tests.test_flow import fresh, take, to_tte
from sipadu.signing.fake_bsre import FakeTsa, dummy_stamper, serve
from sipadu.signing.tests.conftest import flip_byte_in_stream
from sipadu.signing.verify import VerificationStatus, verify_pdf
from sipadu.sop import actions as sop
from sipadu.sop.error_codes import ErrorCode, WorkflowError
from sipadu.sop.tests.runtime_support import live


def pdfsig(path: Path) -> subprocess.CompletedProcess[str]:
    """poppler's independent verifier (skip when it is not installed)."""
    exe = shutil.which("pdfsig")
    if exe is None:
        pytest.skip("pdfsig is missing (apt-get install poppler-utils)")
    return subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60)


def sign_at_tte(staff: dict[str, Any], req: Any) -> IssuedDocument:
    """Take a request through step 6 with the Kepala Dinas (second factor passed)."""
    to_tte(staff, req)
    task = take(staff, req, "kepala-dinas")
    sop.complete(verified(staff["kepala-dinas"]), task)
    return IssuedDocument.objects.get(request=req)


def test_the_signer_is_installed() -> None:
    assert documents._pdf_signer is issuing.sign_issued


def test_tte_signs_the_rendered_document(
    staff: dict[str, Any],
    make_resident: Callable[..., Any],
    submit: Callable[..., Any],
    tmp_path: Path,
) -> None:
    staff["kepala-dinas"].first_name, staff["kepala-dinas"].last_name = "Rahmadi", "Noor"
    staff["kepala-dinas"].save()
    req = submit(claim_for(make_resident()))
    issued = sign_at_tte(staff, req)
    assert fresh(req).status == RequestStatus.SIGNED
    data = issued.file.read()
    assert data.startswith(b"%PDF") and issued.sha256

    result = verify_pdf(data)
    assert result.status is VerificationStatus.VALID, result.lines()
    assert result.signatures[0].signer_name.startswith("Kepala Dinas Dukcapil")
    assert "Akta Kelahiran No. " + issued.number in result.issued
    path = tmp_path / "signed.pdf"
    path.write_bytes(data)
    check = pdfsig(path)
    assert "Signature is Valid" in check.stdout, check.stdout
    assert "Total document signed" in check.stdout

    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    assert issued.number in flat and "RAHMADI NOOR" in flat
    assert f"/v/{issued.token}" in flat.replace(" ", ""), flat  # the caption may wrap

    altered = tmp_path / "altered.pdf"
    altered.write_bytes(flip_byte_in_stream(data))
    assert verify_pdf(altered.read_bytes()).status is VerificationStatus.ALTERED
    bad = pdfsig(altered)
    assert "Signature is Valid" not in bad.stdout
    assert "Digest Mismatch" in bad.stdout or "Invalid" in bad.stdout, bad.stdout


def test_kk_is_signed_with_the_family_table(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    from datetime import date

    head = make_resident(full_name="Ahmad Fauzi", sex="L", birth_date=date(1990, 1, 1))
    req = submit(claim_for(head, "kk"), "kk")
    issued = sign_at_tte(staff, req)
    data = issued.file.read()
    assert verify_pdf(data).ok
    assert head.nik.encode() not in data  # text is in compressed streams; checked below
    html = issuing.render_html(documents.document_data(fresh(req)), office=req.office)
    assert head.nik in html and "KARTU KELUARGA" in html


def test_b_t_signature_when_a_tsa_is_configured(
    staff: dict[str, Any],
    make_resident: Callable[..., Any],
    submit: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sipadu.signing.ca import load_or_create_ca

    with serve(FakeTsa(dummy_stamper(load_or_create_ca()))) as url:
        monkeypatch.setenv("SIPADU_TSA_URL", url + "/tsa")
        issued = sign_at_tte(staff, submit(claim_for(make_resident())))
    result = verify_pdf(issued.file.read())
    assert result.ok and result.signatures[0].timestamp is not None


def test_missing_key_leaves_the_step_open_with_a_message(
    staff: dict[str, Any],
    make_resident: Callable[..., Any],
    submit: Callable[..., Any],
    settings: Any,
    tmp_path: Path,
) -> None:
    req = submit(claim_for(make_resident()))
    to_tte(staff, req)
    task = take(staff, req, "kepala-dinas")
    settings.DATA_DIR = tmp_path  # no keys here
    with pytest.raises(WorkflowError) as refused:
        sop.complete(verified(staff["kepala-dinas"]), task)
    assert refused.value.code == ErrorCode.STEP_REFUSED
    assert "kunci" in refused.value.message.lower() or "key" in refused.value.message.lower()
    assert not IssuedDocument.objects.filter(request=req).exists()
    still = live(req.case)
    assert still.activity_id == "tte" and still.assignee_id == staff["kepala-dinas"].pk
    assert fresh(req).status == RequestStatus.IN_PROCESS


def test_tsa_down_is_a_retryable_message(
    staff: dict[str, Any],
    make_resident: Callable[..., Any],
    submit: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIPADU_TSA_URL", "http://127.0.0.1:9/tsa")
    monkeypatch.setenv("SIPADU_TSA_TIMEOUT", "2")
    req = submit(claim_for(make_resident()))
    to_tte(staff, req)
    task = take(staff, req, "kepala-dinas")
    with pytest.raises(WorkflowError) as refused:
        sop.complete(verified(staff["kepala-dinas"]), task)
    assert refused.value.message
    assert not IssuedDocument.objects.filter(request=req).exists()
    assert live(req.case).activity_id == "tte"


def test_kk_labels_stay_indonesian_when_the_officer_reads_english(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    from django.utils import translation

    seen: list[dict[str, Any]] = []

    def capture(issued: IssuedDocument, data: dict[str, Any], actor: Any) -> bytes:
        seen.append(data)
        return issuing.sign_issued(issued, data, actor)

    head = make_resident(sex="L")
    req = submit(claim_for(head, "kk"), "kk")
    previous = documents.set_pdf_signer(capture)
    try:
        with translation.override("en"):
            sign_at_tte(staff, req)
    finally:
        documents.set_pdf_signer(previous)
    family = seen[0]["family"]
    assert [m["sex"] for m in family if m["nik"] == head.nik] == ["Laki-laki"]
