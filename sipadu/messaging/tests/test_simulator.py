"""The WhatsApp simulator page: messages go over HTTP to the real webhook, signed, and the
replies come back from the fake Cloud API's record."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from sipadu.core.models import User
from sipadu.messaging.models import Attachment, AttachmentState, InboundMessage
from sipadu.messaging.simulator import DEFAULT_NUMBER
from sipadu.messaging.types.whatsapp.fake import FakeCloudAPI

PAGE = "/simulator-wa/"
SEND = "/simulator-wa/kirim/"
POLL = "/simulator-wa/pesan/"


@pytest.fixture
def sim_urls(settings: Any) -> None:
    """Mount the simulator at /simulator-wa/ (as the project does)."""
    settings.ROOT_URLCONF = "sipadu.messaging.tests.sim_urls"


@pytest.fixture
def simulator_on(
    sim_urls: None, fake_api: FakeCloudAPI, live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> FakeCloudAPI:
    """The simulator enabled, posting to the live server's webhook, replies from the fake."""
    monkeypatch.setenv("SIPADU_WHATSAPP_SIMULATOR", "1")
    monkeypatch.setenv(
        "SIPADU_WHATSAPP_SIMULATOR_WEBHOOK_URL", f"{live_server.url}/webhooks/whatsapp/"
    )
    return fake_api


@pytest.fixture
def officer_client(make_officer: Callable[..., User]) -> Client:
    client = Client()
    client.force_login(make_officer("operator-layanan"))
    return client


@pytest.mark.django_db
def test_off_unless_enabled(
    sim_urls: None, officer_client: Client, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.delenv("SIPADU_WHATSAPP_SIMULATOR", raising=False)
    settings.DEBUG = False
    assert officer_client.get(PAGE).status_code == 404
    assert officer_client.post(SEND, {"text": "halo"}).status_code == 404
    monkeypatch.setenv("SIPADU_WHATSAPP_SIMULATOR", "1")
    assert officer_client.get(PAGE).status_code == 200


@pytest.mark.django_db
def test_officers_only(sim_urls: None, monkeypatch: pytest.MonkeyPatch, client: Client) -> None:
    monkeypatch.setenv("SIPADU_WHATSAPP_SIMULATOR", "1")
    response = client.get(PAGE)
    assert response.status_code == 302 and "/masuk/" in response["Location"]
    citizen = User.objects.create_user(username="bukan-petugas", password="pw-test-12345")
    client.force_login(citizen)
    assert client.get(PAGE).status_code == 403
    citizen.is_staff = True
    citizen.save()
    # Staff are let in (the project first asks them to set up their second factor).
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/otp/")


@pytest.mark.django_db(transaction=True)
def test_a_typed_message_goes_through_the_webhook_and_the_reply_appears(
    simulator_on: FakeCloudAPI, officer_client: Client
) -> None:
    page = officer_client.get(PAGE)
    assert page.status_code == 200
    assert "Simulator WhatsApp" in page.content.decode()

    response = officer_client.post(SEND, {"text": "halo"})
    assert response.status_code == 200
    body = response.content.decode()
    inbound = InboundMessage.objects.get()
    assert inbound.sender == DEFAULT_NUMBER and inbound.body == "halo"
    assert "Selamat datang" in body and "1. Ajukan dokumen" in body
    assert 'data-direction="in"' in body and 'data-direction="out"' in body
    # The reply went out through the real client to the fake API.
    assert any(r["to"] == DEFAULT_NUMBER for r in simulator_on.sent)

    poll = officer_client.get(POLL).content.decode()
    assert "Selamat datang" in poll and DEFAULT_NUMBER not in POLL

    # "3" (help) answers from the conversation.
    officer_client.post(SEND, {"text": "3"})
    assert "Dik Jamila Me-WA" in officer_client.get(POLL).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_picked_file_is_uploaded_to_the_fake_and_downloaded_by_the_webhook(
    simulator_on: FakeCloudAPI, officer_client: Client
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sipadu.layanan.tests.conftest import png_bytes

    officer_client.post(SEND, {"text": "halo"})
    photo = png_bytes()
    upload = SimpleUploadedFile("kk.png", photo, content_type="image/png")
    response = officer_client.post(SEND, {"text": "", "file": upload})
    assert response.status_code == 200
    attachment = Attachment.objects.get()
    assert attachment.state == AttachmentState.STORED
    assert attachment.sha256 == hashlib.sha256(photo).hexdigest()
    assert "sudah kami simpan" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_changing_the_number_starts_another_conversation(
    simulator_on: FakeCloudAPI, officer_client: Client
) -> None:
    officer_client.post(SEND, {"text": "halo"})
    response = officer_client.post("/simulator-wa/nomor/", {"number": "0812 9999 0000"})
    assert response.status_code == 302 and "0812" not in response["Location"]
    assert "Belum ada pesan" in officer_client.get(POLL).content.decode()
    officer_client.post(SEND, {"text": "halo"})
    assert InboundMessage.objects.filter(sender="6281299990000").exists()
    bad = officer_client.post("/simulator-wa/nomor/", {"number": "abc"}, follow=True)
    assert "tidak valid" in bad.content.decode()


@pytest.mark.django_db
def test_empty_message_and_unreachable_fake_are_reported(
    sim_urls: None, officer_client: Client, wa_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIPADU_WHATSAPP_SIMULATOR", "1")
    body = officer_client.post(SEND, {"text": "  "}).content.decode()
    assert "Tulis pesan" in body
    assert "tidak terjangkau" in body  # wa_env points the Graph URL at a closed port
    assert officer_client.get("/simulator-wa/media/123/").status_code == 404


@pytest.mark.parametrize(
    "graph_url",
    [
        "https://graph.facebook.com",
        "http://10.1.2.3:8765",
        "http://127.0.0.1.example.com:8765",
        "http://127.0.0.1@graph.example.com",
        "ftp://127.0.0.1:8765",
    ],
)
@pytest.mark.django_db
def test_refuses_to_send_unless_the_graph_url_is_the_local_fake(
    sim_urls: None,
    officer_client: Client,
    wa_env: Any,
    monkeypatch: pytest.MonkeyPatch,
    graph_url: str,
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sipadu.layanan.tests.conftest import png_bytes
    from sipadu.messaging import simulator

    monkeypatch.setenv("SIPADU_WHATSAPP_SIMULATOR", "1")
    monkeypatch.setenv("SIPADU_WHATSAPP_GRAPH_URL", graph_url)
    called: list[str] = []

    def must_not_run(*args: Any, **kwargs: Any) -> Any:
        called.append(str(args[:1]))
        raise AssertionError("nothing may be sent")

    monkeypatch.setattr(simulator, "post_webhook", must_not_run)
    monkeypatch.setattr(simulator, "GraphClient", must_not_run)
    monkeypatch.setattr(simulator.httpx, "get", must_not_run)

    response = officer_client.post(SEND, {"text": "halo"})
    assert response.status_code == 409
    body = response.content.decode()
    assert "tidak menunjuk ke fake Cloud API lokal" in body and "WhatsApp sungguhan" in body
    upload = SimpleUploadedFile("kk.png", png_bytes(), content_type="image/png")
    assert officer_client.post(SEND, {"text": "", "file": upload}).status_code == 409
    assert officer_client.get("/simulator-wa/media/123/").status_code == 404
    # The page says why (and still loads).
    page = officer_client.get(PAGE)
    assert page.status_code == 200 and "WhatsApp sungguhan" in page.content.decode()
    assert called == []
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(
    ("graph_url", "local"),
    [
        ("http://127.0.0.1:8765", True),
        ("http://127.8.9.10:8765/", True),
        ("http://localhost:8765", True),
        ("http://[::1]:8765", True),
        ("https://graph.facebook.com", False),
        ("http://localhost.example.com", False),
        ("http://[bad", False),
        ("", False),
    ],
)
def test_graph_is_local(graph_url: str, local: bool) -> None:
    import dataclasses

    from sipadu.messaging import simulator
    from sipadu.messaging.types.whatsapp import config

    cfg = dataclasses.replace(config.load(), graph_url=graph_url)
    assert simulator.graph_is_local(cfg) is local
