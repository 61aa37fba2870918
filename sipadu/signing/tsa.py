"""RFC 3161 timestamp client over HTTP (httpx), used for PAdES B-T signatures."""

from __future__ import annotations

import functools
import ssl

import certifi
import httpx
from asn1crypto import tsp
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from sipadu.signing import config

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for all TSA calls: building one loads the CA bundle (~50 ms)."""
    return ssl.create_default_context(cafile=certifi.where())


class HttpTimeStamper(TimeStamper):
    """Ask a timestamp authority for a token: POST a DER TimeStampReq, read a TimeStampResp."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        """``url`` is the TSA endpoint; ``timeout`` bounds the whole exchange."""
        super().__init__()
        self.url = url
        self.timeout = timeout

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """Send one request; any transport or protocol problem is a TimestampRequestError."""
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=_ssl_context()) as client:
                response = await client.post(
                    self.url, content=req.dump(), headers={"Content-Type": QUERY_TYPE}
                )
        except httpx.HTTPError as exc:
            raise TimestampRequestError(f"TSA unreachable: {type(exc).__name__}") from exc
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if response.status_code != 200 or content_type != REPLY_TYPE:
            raise TimestampRequestError(
                f"TSA answered HTTP {response.status_code} ({content_type or 'no type'})"
            )
        try:
            return tsp.TimeStampResp.load(response.content)
        except ValueError as exc:
            raise TimestampRequestError("TSA reply is not a TimeStampResp") from exc


def configured_timestamper() -> HttpTimeStamper | None:
    """The timestamper of ``SIPADU_TSA_URL``, or None (PAdES B-B) when it is unset."""
    url = config.tsa_url()
    return HttpTimeStamper(url, timeout=config.tsa_timeout()) if url else None
