"""A small client of the WhatsApp Cloud (Graph) API over httpx.

It sends text, template and document messages, uploads media, and downloads received media
(media id → URL → bytes, with size limit and sha256 check). Every failure becomes a
:class:`GraphError` that says whether retrying is safe.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.utils
import hashlib
from dataclasses import dataclass
from typing import Any

import httpx

from sipadu.messaging.types.whatsapp.config import WhatsAppConfig
from sipadu.messaging.types.whatsapp.config import load as load_config

#: Longest Retry-After we honour; a provider asking for more is retried after this.
MAX_RETRY_AFTER = dt.timedelta(hours=1)


class GraphError(Exception):
    """A failed Graph API call.

    ``retryable``: the request certainly was not acted on (connect error, 429, 5xx).
    ``ambiguous``: it may have been (read timeout, connection dropped mid-response).
    """

    def __init__(
        self,
        code: str,
        detail: str = "",
        *,
        status: int | None = None,
        retryable: bool = False,
        ambiguous: bool = False,
        retry_after: dt.timedelta | None = None,
    ) -> None:
        self.code = code
        self.detail = detail
        self.status = status
        self.retryable = retryable
        self.ambiguous = ambiguous
        self.retry_after = retry_after
        super().__init__(f"{code} (HTTP {status}): {detail}" if status else f"{code}: {detail}")


@dataclass(frozen=True)
class MediaInfo:
    """What the Graph API says about a media object."""

    url: str
    mime_type: str
    sha256: str
    file_size: int


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> dt.timedelta | None:
    """Parse a Retry-After header (seconds or an HTTP date), capped at one hour."""
    if not value:
        return None
    value = value.strip()
    delay: dt.timedelta | None
    if value.isdigit():
        delay = dt.timedelta(seconds=int(value))
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        delay = max(when - (now or dt.datetime.now(dt.UTC)), dt.timedelta(0))
    return min(delay, MAX_RETRY_AFTER)


def sha256_matches(data_digest: bytes, expected: str) -> bool:
    """Compare a digest with Meta's sha256 field, which appears as hex or as base64."""
    expected = expected.strip()
    if not expected:
        return True
    if len(expected) == 64:
        try:
            return bytes.fromhex(expected) == data_digest
        except ValueError:
            pass
    try:
        return base64.b64decode(expected, validate=True) == data_digest
    except (binascii.Error, ValueError):
        return False


class GraphClient:
    """One configured connection to the Graph API (use as a context manager)."""

    def __init__(self, config: WhatsAppConfig | None = None) -> None:
        self.config = config or load_config()
        self._http = httpx.Client(
            base_url=f"{self.config.graph_url}/{self.config.graph_version}",
            headers={"Authorization": f"Bearer {self.config.access_token}"},
            timeout=httpx.Timeout(self.config.timeout_s, connect=min(5.0, self.config.timeout_s)),
        )

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    # ------------------------------------------------------------------ transport

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # The request never reached the server: always safe to try again.
            raise GraphError("unreachable", type(exc).__name__, retryable=True) from exc
        except httpx.WriteTimeout as exc:
            # The body was not fully sent, so the server cannot have acted on it.
            raise GraphError("timeout", "write timeout", retryable=True) from exc
        except (httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise GraphError("timeout", type(exc).__name__, ambiguous=True) from exc
        except httpx.HTTPError as exc:
            raise GraphError("http_error", type(exc).__name__, ambiguous=True) from exc
        self._raise_for_status(response)
        return response

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        detail = ""
        try:
            error = response.json().get("error") or {}
            detail = f"{error.get('code', '')} {error.get('message', '')}".strip()
        except (ValueError, AttributeError):
            detail = response.reason_phrase
        if status == 429:
            raise GraphError(
                "rate_limited",
                detail,
                status=status,
                retryable=True,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status >= 500:
            raise GraphError(
                "server_error",
                detail,
                status=status,
                retryable=True,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        raise GraphError("rejected", detail, status=status)

    # ------------------------------------------------------------------ messages

    def _send(self, phone_number_id: str, to: str, kind: str, body: dict[str, Any]) -> str:
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": kind,
            kind: body,
        }
        response = self._request("POST", f"/{phone_number_id}/messages", json=payload)
        try:
            return str(response.json()["messages"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            # The provider accepted the call but the answer is unreadable: it may have sent.
            raise GraphError("bad_response", "no message id", ambiguous=True) from exc

    def send_text(self, phone_number_id: str, to: str, text: str) -> str:
        """Send a free-form text (only inside the 24-hour window); returns the message id."""
        return self._send(phone_number_id, to, "text", {"preview_url": False, "body": text})

    def send_template(
        self,
        phone_number_id: str,
        to: str,
        name: str,
        language: str,
        params: list[str] | None = None,
    ) -> str:
        """Send an approved template with body parameters; returns the message id."""
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        if params:
            template["components"] = [
                {"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}
            ]
        return self._send(phone_number_id, to, "template", template)

    def send_document(
        self,
        phone_number_id: str,
        to: str,
        *,
        media_id: str | None = None,
        link: str | None = None,
        filename: str = "",
        caption: str = "",
    ) -> str:
        """Send a document by uploaded media id or by public link; returns the message id."""
        if bool(media_id) == bool(link):
            raise ValueError("give exactly one of media_id and link")
        document: dict[str, Any] = {"id": media_id} if media_id else {"link": link}
        if filename:
            document["filename"] = filename
        if caption:
            document["caption"] = caption
        return self._send(phone_number_id, to, "document", document)

    # ------------------------------------------------------------------ media

    def upload_media(self, phone_number_id: str, data: bytes, mime_type: str, filename: str) -> str:
        """Upload a file for later sending; returns its media id."""
        response = self._request(
            "POST",
            f"/{phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, data, mime_type)},
        )
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise GraphError("bad_response", "no media id", retryable=True) from exc

    def media_info(self, media_id: str) -> MediaInfo:
        """Look up a received media object's download URL, type, hash and size."""
        response = self._request("GET", f"/{media_id}")
        try:
            body = response.json()
            return MediaInfo(
                url=str(body["url"]),
                mime_type=str(body.get("mime_type") or ""),
                sha256=str(body.get("sha256") or ""),
                file_size=int(body.get("file_size") or 0),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise GraphError("bad_response", "unreadable media info", retryable=True) from exc

    def download_media(
        self, media_id: str, *, expected_sha256: str = "", max_bytes: int | None = None
    ) -> tuple[bytes, MediaInfo]:
        """Download a received media object, refusing oversize files and hash mismatches.

        The size is checked against the announced size and again while streaming, so a lying
        or endless response cannot fill memory.
        """
        limit = max_bytes if max_bytes is not None else self.config.max_media_bytes
        info = self.media_info(media_id)
        if info.file_size > limit:
            raise GraphError("media_too_large", f"{info.file_size} bytes")
        digest = hashlib.sha256()
        chunks: list[bytes] = []
        size = 0
        try:
            with self._http.stream("GET", info.url) as response:
                self._raise_for_status(response)
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise GraphError("media_too_large", f"more than {limit} bytes")
                    digest.update(chunk)
                    chunks.append(chunk)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            # A download is a read: retrying it is always safe.
            raise GraphError("timeout", type(exc).__name__, retryable=True) from exc
        data = b"".join(chunks)
        for expected in (expected_sha256, info.sha256):
            if expected and not sha256_matches(digest.digest(), expected):
                raise GraphError("media_mismatch", "sha256 differs")
        return data, info
