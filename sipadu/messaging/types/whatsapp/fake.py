"""A local fake of the WhatsApp Cloud API for tests, the benchmark and the demo.

It speaks the endpoints SIPADU uses —

* ``POST /{version}/{phone_number_id}/messages`` (text, template, document, …)
* ``POST /{version}/{phone_number_id}/media`` (multipart upload → ``{"id"}``)
* ``GET /{version}/{media_id}`` (→ ``{url, mime_type, sha256, file_size, id}``)
* ``GET <url>`` (the media bytes; bearer token required, as at Meta)

— checks the bearer token, records what was sent (``GET /_fake/sent``), injects failures on
request (a share of 5xx, 429 with Retry-After, slow answers that time clients out), and can
post correctly signed webhook deliveries (messages, status callbacks) to a target URL.

Run it alone: ``python -m sipadu.messaging.types.whatsapp.fake --port 8765``; start it from a
test: ``with FakeCloudAPI() as fake: ... fake.url``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from sipadu.messaging.types.whatsapp import payloads
from sipadu.messaging.types.whatsapp.signature import sign

_MESSAGES = re.compile(r"^/(v\d+\.\d+)/([^/]+)/messages$")
_MEDIA_UPLOAD = re.compile(r"^/(v\d+\.\d+)/([^/]+)/media$")
_MEDIA_INFO = re.compile(r"^/(v\d+\.\d+)/([0-9A-Za-z_-]+)$")
_MEDIA_BYTES = re.compile(r"^/_media/([0-9A-Za-z_-]+)$")
SEND_TYPES = frozenset(
    {"text", "template", "document", "image", "interactive", "audio", "video", "sticker"}
)


@dataclass
class Media:
    """A media object held by the fake."""

    data: bytes
    mime_type: str
    sha256: str
    filename: str = ""
    #: Seconds to wait before answering the byte download (to time a client out).
    delay: float = 0.0


@dataclass
class Failures:
    """Failure injection; counters are consumed by successive send requests."""

    fail_rate: float = 0.0
    fail_status: int = 503
    rate_limit_next: int = 0
    retry_after: str = "2"
    timeout_next: int = 0
    timeout_seconds: float = 2.0
    #: Whether a timed-out send was recorded (the worst case: it went out but the client
    #: never heard) or not.
    timeout_records: bool = False


@dataclass
class FakeState:
    """Everything the fake remembers; guarded by ``lock``."""

    token: str
    app_secret: str = ""
    webhook_url: str = ""
    auto_status: bool = False
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    failures: Failures = field(default_factory=Failures)
    sent: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, Media] = field(default_factory=dict)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(code: int, message: str, kind: str = "OAuthException") -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": kind,
            "code": code,
            "fbtrace_id": secrets.token_urlsafe(9),
        }
    }


def _validate_message(body: Any) -> str | None:
    """Why a send-message body would be refused by the Cloud API (None when it is fine)."""
    if not isinstance(body, dict):
        return "body is not an object"
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    to = str(body.get("to") or "")
    if not to.isdigit() or not 8 <= len(to) <= 15:
        return "invalid to"
    kind = body.get("type", "text")
    if kind not in SEND_TYPES or not isinstance(body.get(kind), dict):
        return f"missing {kind} object"
    obj = body[kind]
    if kind == "text" and not (0 < len(str(obj.get("body") or "")) <= 4096):
        return "text.body must be 1..4096 characters"
    if kind == "template":
        language = obj.get("language")
        if not obj.get("name") or not isinstance(language, dict) or not language.get("code"):
            return "template needs name and language.code"
    if kind == "document" and bool(obj.get("id")) == bool(obj.get("link")):
        return "document needs exactly one of id and link"
    return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the fake is used in tests."""

    # -- helpers
    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorized(self) -> bool:
        expected = f"Bearer {self.server.state.token}"
        if self.headers.get("Authorization") != expected:
            self._json(401, _error(190, "Invalid OAuth access token."))
            return False
        return True

    # -- routes
    def do_GET(self) -> None:
        state = self.server.state
        parsed = urlparse(self.path)
        if parsed.path == "/_fake/sent":
            to = parse_qs(parsed.query).get("to", [""])[0]
            with state.lock:
                records = [r for r in state.sent if not to or r["to"] == to]
            self._json(200, {"data": records})
            return
        if not self._authorized():
            return
        if m := _MEDIA_BYTES.match(parsed.path):
            media = state.media.get(m.group(1))
            if media is None:
                self._json(404, _error(100, "Unsupported get request."))
                return
            if media.delay:
                time.sleep(media.delay)
            self.send_response(200)
            self.send_header("Content-Type", media.mime_type)
            self.send_header("Content-Length", str(len(media.data)))
            self.end_headers()
            # A client that timed out has gone away: nothing to answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(media.data)
            return
        if m := _MEDIA_INFO.match(parsed.path):
            media_id = m.group(2)
            media = state.media.get(media_id)
            if media is None:
                self._json(404, _error(100, "Unsupported get request."))
                return
            self._json(
                200,
                {
                    "messaging_product": "whatsapp",
                    "url": f"{self.server.url}/_media/{media_id}",
                    "mime_type": media.mime_type,
                    "sha256": media.sha256,
                    "file_size": len(media.data),
                    "id": media_id,
                },
            )
            return
        self._json(404, _error(100, "Unknown path."))

    def do_POST(self) -> None:
        state = self.server.state
        path = urlparse(self.path).path
        body = self._read_body()
        if not self._authorized():
            return
        if m := _MESSAGES.match(path):
            self._send_message(m.group(2), body)
            return
        if m := _MEDIA_UPLOAD.match(path):
            media_id, media = self._parse_upload(body)
            if media is None:
                self._json(400, _error(100, "Param file must be a file upload."))
                return
            with state.lock:
                state.media[media_id] = media
            self._json(200, {"id": media_id})
            return
        self._json(404, _error(100, "Unknown path."))

    def _send_message(self, phone_number_id: str, raw: bytes) -> None:
        state = self.server.state
        failures = state.failures
        with state.lock:
            state.requests += 1
            rate_limited = failures.rate_limit_next > 0
            if rate_limited:
                failures.rate_limit_next -= 1
            timing_out = not rate_limited and failures.timeout_next > 0
            if timing_out:
                failures.timeout_next -= 1
            failing = (
                not rate_limited
                and not timing_out
                and failures.fail_rate > 0
                and state.rng.random() < failures.fail_rate
            )
        if rate_limited:
            self._json(
                429,
                _error(130429, "Rate limit hit", "OAuthException"),
                {"Retry-After": failures.retry_after},
            )
            return
        if failing:
            self._json(failures.fail_status, _error(131000, "Something went wrong"))
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._json(400, _error(100, "Invalid JSON"))
            return
        problem = _validate_message(body)
        if problem:
            self._json(400, _error(100, f"Invalid parameter: {problem}"))
            return
        document = body.get("document") if body.get("type") == "document" else None
        if document and document.get("id") and document["id"] not in state.media:
            self._json(400, _error(131053, "Media upload error: unknown media id"))
            return
        message_id = payloads.new_message_id()
        record = {
            "id": message_id,
            "phone_number_id": phone_number_id,
            "to": body["to"],
            "type": body.get("type", "text"),
            "body": body,
            "at": time.time(),
        }
        if timing_out:
            if failures.timeout_records:
                with state.lock:
                    state.sent.append(record)
            time.sleep(failures.timeout_seconds)
            self._json(500, _error(131000, "Timed out"))
            return
        with state.lock:
            state.sent.append(record)
        self._json(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": message_id}],
            },
        )
        if state.auto_status and state.webhook_url and state.app_secret:
            threading.Thread(
                target=_post_statuses,
                args=(state, phone_number_id, message_id, body["to"]),
                daemon=True,
            ).start()

    def _parse_upload(self, body: bytes) -> tuple[str, Media | None]:
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            return "", None
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        fields: dict[str, str] = {}
        file_part: Any = None
        data = b""
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition") or "")
            payload = part.get_payload(decode=True)
            raw = payload if isinstance(payload, bytes) else b""
            if name == "file":
                file_part, data = part, raw
            elif name:
                fields[name] = raw.decode()
        if file_part is None or fields.get("messaging_product") != "whatsapp":
            return "", None
        mime = fields.get("type") or file_part.get_content_type()
        media_id = str(self.server.state.rng.randrange(10**15, 10**16))
        filename = file_part.get_param("filename", header="content-disposition") or ""
        return media_id, Media(data, mime, hashlib.sha256(data).hexdigest(), str(filename))


def _post_statuses(state: FakeState, phone_number_id: str, message_id: str, to: str) -> None:
    for value in ("sent", "delivered"):
        time.sleep(0.2)
        delivery = payloads.envelope(
            phone_number_id, statuses=[payloads.status(message_id, value, to)]
        )
        try:
            post_webhook(state.webhook_url, delivery, state.app_secret, timeout=5)
        except httpx.HTTPError:
            return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeState
    url: str


class FakeCloudAPI:
    """The fake, run in a background thread on 127.0.0.1 (a free port unless one is given)."""

    def __init__(
        self,
        *,
        token: str = "fake-token",  # noqa: S107 (a test double)
        app_secret: str = "",
        webhook_url: str = "",
        auto_status: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
    ) -> None:
        self.state = FakeState(
            token=token,
            app_secret=app_secret,
            webhook_url=webhook_url,
            auto_status=auto_status,
            rng=random.Random(seed),
        )
        self._server = _Server((host, port), _Handler)
        self._server.state = self.state
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._server.url = self.url
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> FakeCloudAPI:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeCloudAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control and inspection
    @property
    def failures(self) -> Failures:
        """Failure injection settings (mutable)."""
        return self.state.failures

    @property
    def sent(self) -> list[dict[str, Any]]:
        """A copy of the record of accepted messages."""
        with self.state.lock:
            return list(self.state.sent)

    def add_media(
        self,
        data: bytes,
        *,
        mime_type: str = "image/jpeg",
        sha256: str | None = None,
        delay: float = 0.0,
        filename: str = "",
    ) -> tuple[str, str]:
        """Hold a media object as if a user had sent it; returns ``(media_id, sha256)``.

        Pass a wrong ``sha256`` to simulate a corrupted download, ``delay`` a slow one.
        """
        digest = sha256 if sha256 is not None else hashlib.sha256(data).hexdigest()
        with self.state.lock:
            media_id = str(self.state.rng.randrange(10**15, 10**16))
            self.state.media[media_id] = Media(data, mime_type, digest, filename, delay)
        return media_id, digest

    def media_bytes(self, media_id: str) -> bytes:
        """The bytes of an uploaded media object."""
        return self.state.media[media_id].data


def post_webhook(
    url: str,
    delivery: dict[str, Any] | bytes,
    app_secret: str,
    *,
    bad_signature: bool = False,
    client: httpx.Client | None = None,
    timeout: float = 10,
) -> httpx.Response:
    """POST a webhook delivery signed like Meta signs it (or deliberately wrongly)."""
    body = delivery if isinstance(delivery, bytes) else payloads.dumps(delivery)
    signature = sign(body, app_secret + ("x" if bad_signature else ""))
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
    if client is not None:
        return client.post(url, content=body, headers=headers)
    return httpx.post(url, content=body, headers=headers, timeout=timeout)


def main(argv: list[str] | None = None) -> None:
    """Serve the fake in the foreground."""
    parser = argparse.ArgumentParser(description="Local fake of the WhatsApp Cloud API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default="fake-token", help="bearer token to accept")
    parser.add_argument("--app-secret", default="", help="to sign status webhooks")
    parser.add_argument("--webhook-url", default="", help="where to post status webhooks")
    parser.add_argument("--auto-status", action="store_true", help="post sent/delivered")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of sends to fail")
    args = parser.parse_args(argv)
    fake = FakeCloudAPI(
        token=args.token,
        app_secret=args.app_secret,
        webhook_url=args.webhook_url,
        auto_status=args.auto_status,
        host=args.host,
        port=args.port,
    )
    fake.failures.fail_rate = args.fail_rate
    print(f"fake WhatsApp Cloud API on {fake.url}", flush=True)
    try:
        fake._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake._server.server_close()


if __name__ == "__main__":
    main()
