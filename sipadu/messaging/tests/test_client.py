"""The Graph API client's parsing helpers and failure classification, over real HTTP."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from sipadu.messaging.tests.conftest import PHONE_NUMBER_ID, TOKEN
from sipadu.messaging.types.whatsapp import config
from sipadu.messaging.types.whatsapp.client import (
    GraphClient,
    GraphError,
    parse_retry_after,
    sha256_matches,
)
from sipadu.messaging.types.whatsapp.fake import FakeCloudAPI


def test_retry_after_parsing() -> None:
    now = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
    assert parse_retry_after("7") == dt.timedelta(seconds=7)
    assert parse_retry_after("Mon, 05 Jan 2026 08:00:30 GMT", now) == dt.timedelta(seconds=30)
    assert parse_retry_after("99999") == dt.timedelta(hours=1)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_sha256_in_hex_or_base64() -> None:
    digest = hashlib.sha256(b"abc").digest()
    assert sha256_matches(digest, digest.hex())
    assert sha256_matches(digest, base64.b64encode(digest).decode())
    assert not sha256_matches(digest, "0" * 64)
    assert not sha256_matches(digest, "not base64!")


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("SIPADU_WHATSAPP_GRAPH_URL", "SIPADU_WHATSAPP_GRAPH_VERSION"):
        monkeypatch.delenv(key, raising=False)
    cfg = config.load()
    assert cfg.graph_url == "https://graph.facebook.com"
    assert cfg.graph_version == "v21.0"
    monkeypatch.setenv("SIPADU_WHATSAPP_GRAPH_VERSION", "v22.0")
    assert config.load().graph_version == "v22.0"


def test_unreachable_api_is_retryable(wa_env: Any) -> None:
    with GraphClient() as client, pytest.raises(GraphError) as err:
        client.send_text(PHONE_NUMBER_ID, "6281234567890", "x")
    assert err.value.retryable and not err.value.ambiguous


def test_upload_and_download_round_trip(fake_api: FakeCloudAPI) -> None:
    with GraphClient() as client:
        media_id = client.upload_media(PHONE_NUMBER_ID, b"%PDF data", "application/pdf", "a.pdf")
        data, info = client.download_media(media_id)
    assert data == b"%PDF data"
    assert info.mime_type == "application/pdf"
    assert info.file_size == 9


def test_streamed_size_limit(fake_api: FakeCloudAPI) -> None:
    media_id, _digest = fake_api.add_media(b"x" * 5000)
    with GraphClient() as client, pytest.raises(GraphError) as err:
        client.download_media(media_id, max_bytes=1000)
    assert err.value.code == "media_too_large"


def test_fake_runs_as_a_command() -> None:
    with FakeCloudAPI() as probe:  # borrow a free port, then free it
        port = int(probe.url.rsplit(":", 1)[1])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sipadu.messaging.types.whatsapp.fake",
            "--port",
            str(port),
            "--token",
            TOKEN,
        ],
        stdout=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/_fake/sent")
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert response.json() == {"data": []}
        denied = httpx.get(f"http://127.0.0.1:{port}/v21.0/123")
        assert denied.status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)
