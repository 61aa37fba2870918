"""The local provider: PAdES with EC and RSA keys, checked by pyHanko and by poppler's pdfsig."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import (
    PdfSignatureStatus,
    SignatureCoverageLevel,
    validate_pdf_signature,
)
from pyhanko_certvalidator import ValidationContext

from sipadu.signing.error_codes import SigningError, SigningErrorCode
from sipadu.signing.providers import SignerRef, get_provider
from sipadu.signing.providers.local import LocalProvider, load_signer
from sipadu.signing.tests.conftest import EC_KEY, RSA_KEY, DemoPki, flip_byte_in_stream, pdfsig
from sipadu.signing.verify import VerificationStatus, load_trust_roots, verify_pdf


def _pyhanko_status(pdf: bytes, pki: DemoPki) -> PdfSignatureStatus:
    sig = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[0]
    context = ValidationContext(trust_roots=load_trust_roots(pki.trust), allow_fetching=False)
    return validate_pdf_signature(sig, context)


@pytest.mark.parametrize(("key_id", "algorithm"), [(EC_KEY, "ec"), (RSA_KEY, "rsa")])
def test_signature_valid_for_pyhanko_and_pdfsig(
    pki: DemoPki, unsigned_pdf: bytes, tmp_path: Path, key_id: str, algorithm: str
) -> None:
    signed = get_provider("local").sign(
        unsigned_pdf,
        signer=SignerRef(key_id=key_id),
        reason="TTE Kepala Dinas",
        location="Paringin",
    )
    assert signed.startswith(unsigned_pdf)  # incremental update: the original is kept as is

    status = _pyhanko_status(signed, pki)
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.public_key.algorithm == algorithm
    sig = PdfFileReader(io.BytesIO(signed), strict=False).embedded_signatures[0]
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert sig.sig_object["/Reason"] == "TTE Kepala Dinas"

    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    report = pdfsig(path)
    assert "Signature Validation: Signature is Valid." in report.stdout
    assert "Total document signed" in report.stdout
    assert "ETSI.CAdES.detached" in report.stdout


@pytest.mark.parametrize("key_id", [EC_KEY, RSA_KEY])
def test_one_byte_changed_fails_pyhanko_and_pdfsig(
    pki: DemoPki, unsigned_pdf: bytes, tmp_path: Path, key_id: str
) -> None:
    signed = LocalProvider().sign(unsigned_pdf, signer=SignerRef(key_id=key_id))
    altered = flip_byte_in_stream(signed)
    assert altered != signed and len(altered) == len(signed)

    assert not _pyhanko_status(altered, pki).intact
    assert verify_pdf(altered).status is VerificationStatus.ALTERED

    path = tmp_path / "altered.pdf"
    path.write_bytes(altered)
    report = pdfsig(path)
    assert "Signature is Valid" not in report.stdout
    assert "Digest Mismatch" in report.stdout or "Invalid" in report.stdout


def test_signer_is_loaded_once_and_reloaded_when_the_key_file_changes(pki: DemoPki) -> None:
    first = load_signer(EC_KEY)
    assert load_signer(EC_KEY) is first
    p12 = pki.keys / f"{EC_KEY}.p12"
    stat = p12.stat()
    os.utime(p12, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_signer(EC_KEY) is not first


def test_missing_key_is_a_clear_error(pki: DemoPki, unsigned_pdf: bytes) -> None:
    with pytest.raises(SigningError) as caught:
        LocalProvider().sign(unsigned_pdf, signer=SignerRef(key_id="solok-kepala-dinas"))
    assert caught.value.code is SigningErrorCode.KEY_NOT_FOUND
    assert "init-demo-ca" in caught.value.message


@pytest.mark.parametrize("key_id", ["../keys/balangan-kepala-dinas", "", "a/b", ".hidden"])
def test_key_ids_cannot_walk_out_of_the_keys_folder(pki: DemoPki, key_id: str) -> None:
    with pytest.raises(SigningError) as caught:
        load_signer(key_id)
    assert caught.value.code is SigningErrorCode.KEY_NOT_FOUND


def test_password_file_readable_by_others_is_refused(pki: DemoPki) -> None:
    (pki.keys / f"{EC_KEY}.pass").chmod(0o644)
    with pytest.raises(SigningError) as caught:
        load_signer(EC_KEY)
    assert caught.value.code is SigningErrorCode.KEY_PASSWORD_FILE_UNSAFE
    assert "0600" in caught.value.message


def test_password_from_environment_wins_over_the_file(
    pki: DemoPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIPADU_KEY_PASSWORD_BALANGAN_KEPALA_DINAS", "bukan-kata-sandinya")
    with pytest.raises(SigningError) as caught:
        load_signer(EC_KEY)
    assert caught.value.code is SigningErrorCode.KEY_UNREADABLE
    correct = (pki.keys / f"{EC_KEY}.pass").read_text()
    (pki.keys / f"{EC_KEY}.pass").unlink()
    monkeypatch.setenv("SIPADU_KEY_PASSWORD_BALANGAN_KEPALA_DINAS", correct)
    cert = load_signer(EC_KEY).signing_cert
    assert cert is not None
    assert cert.subject.native["organizational_unit_name"] == "Kepala Dinas"


def test_missing_password_is_a_clear_error(pki: DemoPki) -> None:
    (pki.keys / f"{EC_KEY}.pass").unlink()
    with pytest.raises(SigningError) as caught:
        load_signer(EC_KEY)
    assert caught.value.code is SigningErrorCode.KEY_PASSWORD_MISSING


@pytest.mark.parametrize("data", [b"", b"bukan pdf", b"%PDF-1.7\nrusak"])
def test_signing_something_that_is_not_a_pdf_is_refused(pki: DemoPki, data: bytes) -> None:
    with pytest.raises(SigningError) as caught:
        LocalProvider().sign(data, signer=SignerRef(key_id=EC_KEY))
    assert caught.value.code is SigningErrorCode.NOT_A_PDF
    assert "PDF" in caught.value.message


def test_unknown_provider_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIPADU_SIGNING_PROVIDER", "pkcs99")
    with pytest.raises(SigningError) as caught:
        get_provider()
    assert caught.value.code is SigningErrorCode.PROVIDER_UNKNOWN
    with pytest.raises(SigningError):
        get_provider("../local")
