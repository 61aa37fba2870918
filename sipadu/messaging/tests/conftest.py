"""Fixtures of the messaging tests: WhatsApp configuration, the local fake Cloud API, and a
helper that posts signed webhook deliveries through the Django test client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from sipadu.messaging.types.whatsapp import payloads
from sipadu.messaging.types.whatsapp.fake import FakeCloudAPI
from sipadu.messaging.types.whatsapp.webhook import sign

APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
TOKEN = "test-access-token"
PHONE_NUMBER_ID = "109876543210987"
CITIZEN = "6281234567890"
WEBHOOK = "/webhooks/whatsapp/"


@pytest.fixture(autouse=True)
def _webhook_urls(settings: Any) -> Iterator[None]:
    """Mount the webhooks under /webhooks/ as the project does; start with no wake key."""
    from django.core.cache import cache

    settings.ROOT_URLCONF = "sipadu.messaging.tests.urls"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def wa_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """WhatsApp configured (no reachable Graph API unless ``fake_api`` is used)."""
    values = {
        "SIPADU_WHATSAPP_APP_SECRET": APP_SECRET,
        "SIPADU_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "SIPADU_WHATSAPP_ACCESS_TOKEN": TOKEN,
        "SIPADU_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "SIPADU_WHATSAPP_GRAPH_URL": "http://127.0.0.1:9",
        "SIPADU_WHATSAPP_TIMEOUT_S": "1",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def fake_api(wa_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCloudAPI]:
    """The local fake Cloud API on a free loopback port, configured as the Graph URL."""
    with FakeCloudAPI(token=TOKEN, app_secret=APP_SECRET) as fake:
        monkeypatch.setenv("SIPADU_WHATSAPP_GRAPH_URL", fake.url)
        yield fake


@pytest.fixture
def post_signed(client: Client, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """POST a delivery to the webhook, signed with the app secret, running its jobs."""

    def post(
        delivery: dict[str, Any] | bytes,
        *,
        secret: str = APP_SECRET,
        signature: str | None = None,
    ) -> Any:
        body = delivery if isinstance(delivery, bytes) else payloads.dumps(delivery)
        headers = {}
        if signature is None:
            headers["HTTP_X_HUB_SIGNATURE_256"] = sign(body, secret)
        elif signature:
            headers["HTTP_X_HUB_SIGNATURE_256"] = signature
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(WEBHOOK, data=body, content_type="application/json", **headers)

    return post


@pytest.fixture
def citizen_says(post_signed: Callable[..., Any]) -> Callable[..., Any]:
    """Deliver one message from the citizen (a Meta-shaped message dict) to the webhook."""

    def say(message: dict[str, Any], sender: str = CITIZEN) -> Any:
        response = post_signed(payloads.envelope(PHONE_NUMBER_ID, messages=[message]))
        assert response.status_code == 200, response.content
        return response

    return say


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks: Any) -> Callable[[Callable[[], Any]], Any]:
    """Run ``fn`` and the jobs it schedules on commit."""

    def run(fn: Callable[[], Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return fn()

    return run
