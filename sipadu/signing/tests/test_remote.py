"""The remote provider against a fake BSrE-style TTE service over real HTTP."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from sipadu.signing.error_codes import SigningError, SigningErrorCode
from sipadu.signing.fake_bsre import FakeTsa, parse_multipart
from sipadu.signing.providers import SignerRef, get_provider
from sipadu.signing.providers.local import load_signer
from sipadu.signing.providers.remote import RemoteProvider
from sipadu.signing.tests.conftest import EC_KEY, DemoPki, RunningBsre, pdfsig
from sipadu.signing.verify import VerificationStatus, verify_pdf


def _sign(bsre: RunningBsre, pdf: bytes, **ref: str) -> bytes:
    signer = SignerRef(
        nik=ref.get("nik", bsre.nik), passphrase=ref.get("passphrase", bsre.passphrase)
    )
    return get_provider("remote").sign(pdf, signer=signer, reason="TTE", location="Paringin")


def _error(bsre: RunningBsre, pdf: bytes, **ref: str) -> SigningError:
    with pytest.raises(SigningError) as caught:
        _sign(bsre, pdf, **ref)
    return caught.value


def test_remote_signature_is_valid_and_sent_without_leaking_the_passphrase(
    pki: DemoPki,
    fake_bsre: RunningBsre,
    unsigned_pdf: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIPADU_SIGNING_PROVIDER", "remote")
    signed = get_provider().sign(
        unsigned_pdf, signer=SignerRef(nik=fake_bsre.nik, passphrase=fake_bsre.passphrase)
    )
    assert isinstance(get_provider(), RemoteProvider)
    result = verify_pdf(signed)
    assert result.status is VerificationStatus.VALID
    assert result.signatures[0].signer_name == "Kepala Dinas Dukcapil Kabupaten Balangan"
    assert fake_bsre.app.received == [("/api/sign/pdf", fake_bsre.nik, len(unsigned_pdf))]
    path = tmp_path / "remote.pdf"
    path.write_bytes(signed)
    assert "Signature is Valid" in pdfsig(path).stdout
    assert fake_bsre.passphrase not in repr(SignerRef(nik="1", passphrase=fake_bsre.passphrase))


def test_remote_service_may_add_its_own_timestamp(
    pki: DemoPki, fake_bsre: RunningBsre, fake_tsa: FakeTsa, unsigned_pdf: bytes
) -> None:
    from sipadu.signing.tsa import configured_timestamper

    fake_bsre.app.timestamper = configured_timestamper()
    signed = _sign(fake_bsre, unsigned_pdf)
    assert verify_pdf(signed).signatures[0].timestamp is not None


def test_wrong_passphrase_gets_a_clear_message(fake_bsre: RunningBsre, unsigned_pdf: bytes) -> None:
    error = _error(fake_bsre, unsigned_pdf, passphrase="salah")
    assert error.code is SigningErrorCode.WRONG_PASSPHRASE
    assert error.message.startswith("Passphrase TTE salah")
    assert not error.retryable and error.stops_batch


def test_no_passphrase_is_refused_before_calling_the_service(
    fake_bsre: RunningBsre, unsigned_pdf: bytes
) -> None:
    error = _error(fake_bsre, unsigned_pdf, passphrase="")
    assert error.code is SigningErrorCode.PASSPHRASE_REQUIRED
    assert error.message == "Passphrase TTE belum dimasukkan."
    assert not error.retryable and error.stops_batch
    assert fake_bsre.app.received == []  # an empty passphrase never counts as a wrong one


def test_missing_nik_setting_names_the_variable(
    fake_bsre: RunningBsre, unsigned_pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sipadu.signing import config

    monkeypatch.delenv("SIPADU_SIGNING_REMOTE_NIK_BALANGAN_KEPALA_DINAS", raising=False)
    signer = SignerRef(
        key_id="balangan-kepala-dinas",
        nik=config.remote_nik("balangan-kepala-dinas"),
        passphrase=fake_bsre.passphrase,
    )
    with pytest.raises(SigningError) as caught:
        get_provider("remote").sign(unsigned_pdf, signer=signer)
    error = caught.value
    assert error.code is SigningErrorCode.SIGNER_NOT_CONFIGURED
    assert "SIPADU_SIGNING_REMOTE_NIK_BALANGAN_KEPALA_DINAS" in error.message
    assert "Sertifikat elektronik" not in error.message  # not the service's "no certificate"
    assert not error.retryable and error.stops_batch
    assert fake_bsre.app.received == []
    # Without a key id (a bare SignerRef) the message still names the setting's pattern.
    assert "SIPADU_SIGNING_REMOTE_NIK_<KEY_ID>" in _error(fake_bsre, unsigned_pdf, nik="").message


def test_unknown_nik_and_expired_certificate(
    pki: DemoPki, fake_bsre: RunningBsre, unsigned_pdf: bytes
) -> None:
    assert _error(fake_bsre, unsigned_pdf, nik="6311019999999999").code is (
        SigningErrorCode.CERTIFICATE_NOT_FOUND
    )
    fake_bsre.app.add_user("6311010101800002", load_signer(EC_KEY), "pp", expired=True)
    error = _error(fake_bsre, unsigned_pdf, nik="6311010101800002", passphrase="pp")
    assert error.code is SigningErrorCode.CERTIFICATE_EXPIRED
    assert "kedaluwarsa" in error.message


def test_wrong_client_credentials(
    fake_bsre: RunningBsre, unsigned_pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIPADU_SIGNING_REMOTE_PASSWORD", "bukan")
    assert _error(fake_bsre, unsigned_pdf).code is SigningErrorCode.CLIENT_REJECTED


@pytest.mark.parametrize("status", [500, 502, 503])
def test_service_5xx_is_retryable_and_loses_nothing(
    fake_bsre: RunningBsre, unsigned_pdf: bytes, status: int
) -> None:
    original = bytes(unsigned_pdf)
    fake_bsre.app.fail_status = status
    error = _error(fake_bsre, unsigned_pdf)
    assert error.code is SigningErrorCode.SERVICE_UNAVAILABLE
    assert error.retryable
    assert "tetap tersimpan" in error.message
    assert unsigned_pdf == original
    fake_bsre.app.fail_status = None  # the service is back: the same request now succeeds
    assert verify_pdf(_sign(fake_bsre, unsigned_pdf)).ok


def test_timeout_is_a_clear_error(
    fake_bsre: RunningBsre, unsigned_pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIPADU_SIGNING_REMOTE_TIMEOUT", "0.3")
    fake_bsre.app.delay = 1.0
    error = _error(fake_bsre, unsigned_pdf)
    assert error.code is SigningErrorCode.SERVICE_UNAVAILABLE


def test_service_down_or_unconfigured(
    pki: DemoPki, unsigned_pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = SignerRef(nik="6311010101800001", passphrase="x")
    with pytest.raises(SigningError) as caught:
        RemoteProvider(base_url="").sign(unsigned_pdf, signer=signer)
    assert caught.value.code is SigningErrorCode.SERVICE_UNAVAILABLE
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SigningError) as caught:
        RemoteProvider(base_url=f"http://127.0.0.1:{port}").sign(unsigned_pdf, signer=signer)
    assert caught.value.code is SigningErrorCode.SERVICE_UNAVAILABLE


def test_a_reply_that_is_not_a_signed_pdf_is_refused(pki: DemoPki, unsigned_pdf: bytes) -> None:
    from sipadu.signing.fake_bsre import serve

    def liar(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/pdf")])
        return [b"<html>not a pdf</html>"]

    with serve(liar) as url, pytest.raises(SigningError) as caught:
        RemoteProvider(base_url=url).sign(unsigned_pdf, signer=SignerRef(nik="1", passphrase="p"))
    assert caught.value.code is SigningErrorCode.SERVICE_ERROR


def test_multipart_parser_of_the_fake_reads_files_and_fields() -> None:
    body = (
        b'--xx\r\nContent-Disposition: form-data; name="nik"\r\n\r\n123\r\n'
        b'--xx\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.7 \x00\xff\r\n--xx--\r\n"
    )
    fields = parse_multipart("multipart/form-data; boundary=xx", body)
    assert fields == {"nik": b"123", "file": b"%PDF-1.7 \x00\xff"}


def test_fake_status_endpoint_reports_certificate_state(fake_bsre: RunningBsre) -> None:
    import httpx

    auth = fake_bsre.app.client
    base = fake_bsre.url + "/api/user/status/"
    assert httpx.get(base + fake_bsre.nik, auth=auth).json()["status_code"] == 1111
    assert httpx.get(base + "0000", auth=auth).json()["status_code"] == 2011
    assert httpx.get(base + fake_bsre.nik).status_code == 401
