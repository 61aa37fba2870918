"""Local fakes of the outside services signing talks to, for tests, demos and benchmarks.

- :class:`FakeBsre`: a remote TTE service in the style of BSrE's eSign REST API. It holds
  a PKCS#12 signer per NIK and really signs (PAdES, pyHanko), so the remote provider is
  exercised over real HTTP. Failure injection: ``fail_status`` (answer every request with
  that HTTP status) and ``delay`` (seconds to wait before answering, to provoke timeouts).
- :class:`FakeTsa`: an RFC 3161 timestamp authority over HTTP (pyHanko's DummyTimeStamper
  behind a WSGI endpoint).
- :func:`serve`: run a WSGI app on ``127.0.0.1:<free port>`` in a background thread.

Never used in production code paths; nothing here listens beyond the loopback interface.
"""

from __future__ import annotations

import base64
import json
import socketserver
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign import signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from sipadu.signing.ca import CertificateAuthority, KeyAlgorithm, generate_key, name
from sipadu.signing.error_codes import SigningError
from sipadu.signing.pades import pades_sign

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Environ = dict[str, Any]

# BSrE-style status codes of the eSign API (see providers/remote.py for their meaning).
CODE_NIK_UNKNOWN = 2011
CODE_CERT_EXPIRED = 2021
CODE_WRONG_PASSPHRASE = 2031


def _reply(
    start_response: StartResponse, status: str, body: bytes, content_type: str
) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def _json(start_response: StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    return _reply(start_response, status, json.dumps(payload).encode(), "application/json")


def _body(environ: Environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return bytes(environ["wsgi.input"].read(length)) if length else b""


def parse_multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    """The fields of a ``multipart/form-data`` body (name → raw bytes)."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, bytes] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            fields[name] = payload if isinstance(payload, bytes) else b""
    return fields


@dataclass
class FakeUser:
    """A certificate holder at the fake service."""

    signer: signers.Signer
    passphrase: str
    expired: bool = False


class FakeBsre:
    """WSGI app: ``POST /api/sign/pdf`` and ``GET /api/user/status/<nik>``."""

    def __init__(
        self,
        *,
        client: tuple[str, str] = ("sipadu", "rahasia-klien"),
        timestamper: Any = None,
    ) -> None:
        """``client`` are the Basic credentials expected of the calling application."""
        self.client = client
        self.timestamper = timestamper
        self.users: dict[str, FakeUser] = {}
        self.fail_status: int | None = None
        self.delay = 0.0
        # Received requests, without passphrases: (path, nik, size of the PDF).
        self.received: list[tuple[str, str, int]] = []

    def add_user(
        self, nik: str, signer: signers.Signer, passphrase: str, *, expired: bool = False
    ) -> None:
        """Register a certificate holder (a NIK, its signer and its passphrase)."""
        self.users[nik] = FakeUser(signer, passphrase, expired)

    def _authorised(self, environ: Environ) -> bool:
        header = environ.get("HTTP_AUTHORIZATION", "")
        expected = base64.b64encode(f"{self.client[0]}:{self.client[1]}".encode()).decode()
        return header == f"Basic {expected}"

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request."""
        if self.delay:
            time.sleep(self.delay)
        path = environ.get("PATH_INFO", "")
        if self.fail_status:
            return _reply(
                start_response, f"{self.fail_status} Error", b"<html>error</html>", "text/html"
            )
        if not self._authorised(environ):
            return _json(start_response, "401 Unauthorized", {"error": "Unauthorized"})
        if path.startswith("/api/user/status/"):
            return self._status(path.rsplit("/", 1)[-1], start_response)
        if path == "/api/sign/pdf" and environ.get("REQUEST_METHOD") == "POST":
            return self._sign(environ, start_response)
        return _json(start_response, "404 Not Found", {"error": "Not found"})

    def _status(self, nik: str, start_response: StartResponse) -> list[bytes]:
        user = self.users.get(nik)
        if user is None:
            return _json(
                start_response,
                "404 Not Found",
                {"status_code": CODE_NIK_UNKNOWN, "message": "NIK tidak terdaftar"},
            )
        if user.expired:
            return _json(
                start_response,
                "200 OK",
                {"status_code": CODE_CERT_EXPIRED, "message": "Sertifikat kedaluwarsa"},
            )
        return _json(start_response, "200 OK", {"status_code": 1111, "message": "ISSUE"})

    def _sign(self, environ: Environ, start_response: StartResponse) -> list[bytes]:
        fields = parse_multipart(environ.get("CONTENT_TYPE", ""), _body(environ))
        nik = fields.get("nik", b"").decode("utf-8", "replace")
        pdf = fields.get("file", b"")
        self.received.append(("/api/sign/pdf", nik, len(pdf)))
        user = self.users.get(nik)
        if user is None:
            return _json(
                start_response,
                "400 Bad Request",
                {"error": "NIK tidak terdaftar", "status_code": CODE_NIK_UNKNOWN},
            )
        if user.expired:
            return _json(
                start_response,
                "400 Bad Request",
                {"error": "Sertifikat kedaluwarsa", "status_code": CODE_CERT_EXPIRED},
            )
        if fields.get("passphrase", b"").decode("utf-8", "replace") != user.passphrase:
            return _json(
                start_response,
                "400 Bad Request",
                {"error": "Passphrase anda salah", "status_code": CODE_WRONG_PASSPHRASE},
            )
        try:
            signed = pades_sign(
                pdf,
                user.signer,
                reason=fields.get("reason", b"").decode("utf-8", "replace"),
                location=fields.get("location", b"").decode("utf-8", "replace"),
                field_name=fields.get("field_name", b"TTE").decode("utf-8", "replace") or "TTE",
                timestamper=self.timestamper,
            )
        except SigningError:
            return _json(
                start_response,
                "400 Bad Request",
                {"error": "Dokumen tidak valid", "status_code": 2001},
            )
        return _reply(start_response, "200 OK", signed, "application/pdf")


class FakeTsa:
    """WSGI app: an RFC 3161 timestamp authority answering any path with a signed token."""

    def __init__(self, stamper: DummyTimeStamper) -> None:
        """``stamper`` holds the TSA certificate and (RSA) key."""
        self.stamper = stamper
        self.requests = 0
        self.fail_status: int | None = None

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one TimeStampReq."""
        self.requests += 1
        if self.fail_status:
            return _reply(start_response, f"{self.fail_status} Error", b"", "text/plain")
        if environ.get("CONTENT_TYPE", "").split(";")[0] != "application/timestamp-query":
            return _reply(start_response, "415 Unsupported Media Type", b"", "text/plain")
        try:
            request = tsp.TimeStampReq.load(_body(environ))
            response = self.stamper.request_tsa_response(request)
        except ValueError:
            return _reply(start_response, "400 Bad Request", b"", "text/plain")
        return _reply(start_response, "200 OK", response.dump(), "application/timestamp-reply")


def dummy_stamper(authority: CertificateAuthority) -> DummyTimeStamper:
    """A timestamper whose TSA certificate (RSA, EKU timeStamping) ``authority`` issues."""
    key = generate_key(KeyAlgorithm.RSA_2048)
    cert = authority.issue(
        name("SIPADU Demo TSA", "SIPADU (demo, bukan BSrE)"),
        key.public_key(),
        timestamping=True,
    )
    der = serialization.Encoding.DER
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(der)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        ),
        certs_to_embed=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(authority.cert.public_bytes(der))]
        ),
    )


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged (they would carry nothing useful into test output)."""


@contextmanager
def serve(app: Callable[[Environ, StartResponse], Iterable[bytes]]) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 at a free port; yields the base URL (no trailing slash)."""
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
