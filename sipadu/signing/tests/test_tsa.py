"""PAdES B-T: an RFC 3161 timestamp from a TSA over HTTP (a local fake)."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from sipadu.signing.error_codes import SigningError, SigningErrorCode
from sipadu.signing.fake_bsre import FakeTsa
from sipadu.signing.providers import SignerRef
from sipadu.signing.providers.local import LocalProvider
from sipadu.signing.tests.conftest import EC_KEY, RSA_KEY, DemoPki, pdfsig
from sipadu.signing.verify import VerificationStatus, verify_pdf


@pytest.mark.parametrize("key_id", [EC_KEY, RSA_KEY])
def test_b_t_signature_carries_a_timestamp_token(
    pki: DemoPki, fake_tsa: FakeTsa, unsigned_pdf: bytes, tmp_path: Path, key_id: str
) -> None:
    signed = LocalProvider().sign(unsigned_pdf, signer=SignerRef(key_id=key_id))
    assert fake_tsa.requests >= 1

    sig = PdfFileReader(io.BytesIO(signed), strict=False).embedded_signatures[0]
    unsigned_attrs = sig.signer_info["unsigned_attrs"].native
    assert any(a["type"] == "signature_time_stamp_token" for a in unsigned_attrs)

    result = verify_pdf(signed)
    assert result.status is VerificationStatus.VALID
    assert result.signatures[0].timestamp is not None
    assert any("Cap waktu (TSA)" in line for line in result.lines())

    path = tmp_path / "b-t.pdf"
    path.write_bytes(signed)
    assert "Signature Validation: Signature is Valid." in pdfsig(path).stdout


def test_without_tsa_the_signature_is_b_b(pki: DemoPki, unsigned_pdf: bytes) -> None:
    signed = LocalProvider().sign(unsigned_pdf, signer=SignerRef(key_id=EC_KEY))
    sig = PdfFileReader(io.BytesIO(signed), strict=False).embedded_signatures[0]
    attrs = sig.signer_info["unsigned_attrs"].native or []
    assert not any(a["type"] == "signature_time_stamp_token" for a in attrs)
    assert verify_pdf(signed).signatures[0].timestamp is None


def test_tsa_error_is_a_clear_retryable_error(
    pki: DemoPki, fake_tsa: FakeTsa, unsigned_pdf: bytes
) -> None:
    fake_tsa.fail_status = 503
    original = bytes(unsigned_pdf)
    with pytest.raises(SigningError) as caught:
        LocalProvider().sign(unsigned_pdf, signer=SignerRef(key_id=EC_KEY))
    assert caught.value.code is SigningErrorCode.TSA_UNAVAILABLE
    assert caught.value.retryable
    assert "cap waktu" in caught.value.message.lower()
    assert unsigned_pdf == original
    fake_tsa.fail_status = None
    assert verify_pdf(LocalProvider().sign(unsigned_pdf, signer=SignerRef(key_id=EC_KEY))).ok


def test_unreachable_tsa_is_a_clear_error(
    pki: DemoPki, unsigned_pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("SIPADU_TSA_URL", f"http://127.0.0.1:{port}/tsa")
    with pytest.raises(SigningError) as caught:
        LocalProvider().sign(unsigned_pdf, signer=SignerRef(key_id=EC_KEY))
    assert caught.value.code is SigningErrorCode.TSA_UNAVAILABLE
