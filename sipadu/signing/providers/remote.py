"""Remote provider: a TTE service in the style of BSrE's (BSSN) eSign REST API.

``POST {SIPADU_SIGNING_REMOTE_URL}/api/sign/pdf`` as ``multipart/form-data`` with the fields
``file`` (the PDF), ``nik``, ``passphrase``, ``tampilan=invisible``, ``reason``, ``location``,
authenticated by HTTP Basic credentials of this application. The answer is the signed PDF
(``application/pdf``) or a JSON error ``{"error": "...", "status_code": N}``. The service
keeps the signer's key and applies its own timestamp.
"""

from __future__ import annotations

import httpx

from sipadu.signing import config
from sipadu.signing.error_codes import SigningError, SigningErrorCode
from sipadu.signing.providers import SignerRef, SigningProvider, register

# Error codes of the service (BSrE-style numbering) → our named errors.
SERVICE_CODES: dict[int, SigningErrorCode] = {
    2011: SigningErrorCode.CERTIFICATE_NOT_FOUND,  # NIK has no certificate
    2021: SigningErrorCode.CERTIFICATE_EXPIRED,  # certificate expired or revoked
    2031: SigningErrorCode.WRONG_PASSPHRASE,
}
SIGN_PATH = "/api/sign/pdf"


def _error_from_response(response: httpx.Response) -> SigningError:
    """Name the problem an error answer of the service describes."""
    if response.status_code >= 500:
        return SigningError(SigningErrorCode.SERVICE_UNAVAILABLE, f"HTTP {response.status_code}")
    code: object = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = body.get("status_code")
    if isinstance(code, int | str) and str(code).isdigit() and int(code) in SERVICE_CODES:
        return SigningError(SERVICE_CODES[int(code)], f"service code {code}")
    if response.status_code in (401, 403):
        return SigningError(SigningErrorCode.CLIENT_REJECTED, f"HTTP {response.status_code}")
    return SigningError(SigningErrorCode.SERVICE_ERROR, f"HTTP {response.status_code} {code}")


@register("remote")
class RemoteProvider(SigningProvider):
    """Client of a remote TTE signing service (BSrE-style)."""

    asks_passphrase = True

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        """Defaults come from ``SIPADU_SIGNING_REMOTE_URL``/``_USER``/``_PASSWORD``/``_TIMEOUT``."""
        self.base_url = (base_url or config.remote_url()).rstrip("/")
        self.timeout = timeout or config.remote_timeout()
        self.credentials = credentials if credentials is not None else config.remote_credentials()

    def sign(
        self,
        pdf: bytes,
        *,
        signer: SignerRef,
        reason: str = "",
        location: str = "",
        field_name: str = "TTE",
    ) -> bytes:
        """Send the PDF to the service and return the signed PDF it answers with."""
        if not self.base_url:
            raise SigningError(SigningErrorCode.SERVICE_UNAVAILABLE, "no remote URL configured")
        if not signer.nik:
            # A set-up problem, not the service's "no certificate for this NIK": name the
            # setting to fill in (its name only; there is no NIK to show).
            setting = (
                config.remote_nik_env_name(signer.key_id)
                if signer.key_id
                else config.remote_nik_env_name("<KEY_ID>")
            )
            raise SigningError(
                SigningErrorCode.SIGNER_NOT_CONFIGURED,
                f"{setting} is not set",
                params={"setting": setting},
            )
        if not signer.passphrase:
            # Never send an empty passphrase: the service would count it as a wrong one.
            raise SigningError(SigningErrorCode.PASSPHRASE_REQUIRED, "no passphrase given")
        fields = {
            "nik": signer.nik,
            "passphrase": signer.passphrase,
            "tampilan": "invisible",
            "reason": reason,
            "location": location,
            "field_name": field_name,
        }
        try:
            response = httpx.post(
                self.base_url + SIGN_PATH,
                data=fields,
                files={"file": ("dokumen.pdf", pdf, "application/pdf")},
                auth=self.credentials,
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise SigningError(SigningErrorCode.SERVICE_UNAVAILABLE, type(exc).__name__) from exc
        if response.status_code != 200:
            raise _error_from_response(response)
        signed = response.content
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        # A signed PDF is the original plus an incremental update: anything else means the
        # service answered with something we must not hand to a citizen.
        if (
            content_type != "application/pdf"
            or not signed.startswith(b"%PDF")
            or len(signed) <= len(pdf)
        ):
            raise SigningError(SigningErrorCode.SERVICE_ERROR, f"unexpected reply {content_type}")
        return signed
