"""The default WhatsApp conversation, the flow seam, and received media."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from sipadu.messaging import tasks
from sipadu.messaging.models import (
    Attachment,
    AttachmentState,
    Conversation,
    InboundMessage,
    InboundState,
    OutboundMessage,
    WhatsAppContact,
    WhatsAppNumber,
)
from sipadu.messaging.tests.conftest import CITIZEN, PHONE_NUMBER_ID
from sipadu.messaging.types.whatsapp import conversation, payloads
from sipadu.messaging.types.whatsapp.fake import FakeCloudAPI

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _placeholder_flows() -> Iterator[None]:
    """These tests exercise the seam itself: the placeholder flows stand in for the document
    service's real ones (tested in test_flows.py)."""
    saved = dict(conversation._FLOWS)
    for key in ("ajukan", "status"):
        entry = saved[key]
        conversation.register_flow(
            key, entry.title, conversation.ComingSoon(entry.title), aliases=entry.aliases
        )
    yield
    conversation._FLOWS.clear()
    conversation._FLOWS.update(saved)


@pytest.fixture
def chat(
    citizen_says: Callable[..., Any], fake_api: FakeCloudAPI
) -> Callable[[dict[str, Any] | str], list[str]]:
    """Send one message as the citizen; return the texts the service answered."""

    def say(message: dict[str, Any] | str) -> list[str]:
        before = len(fake_api.sent)
        citizen_says(payloads.text(CITIZEN, message) if isinstance(message, str) else message)
        return [r["body"]["text"]["body"] for r in fake_api.sent[before:]]

    return say


def _state() -> str:
    return Conversation.objects.get(sender=CITIZEN).state


def test_first_message_greets_and_shows_the_menu(chat: Callable[..., list[str]]) -> None:
    welcome, menu = chat("halo")
    assert "Selamat datang" in welcome
    assert "1. Ajukan dokumen" in menu
    assert "2. Cek status" in menu
    assert "3. Bantuan" in menu
    assert _state() == "menu"
    assert WhatsAppContact.objects.get(wa_id=CITIZEN).last_inbound_at is not None


def test_menu_choices(chat: Callable[..., list[str]]) -> None:
    chat("halo")
    (apply,) = [t for t in chat("1") if "segera tersedia" in t]
    assert "Ajukan dokumen" in apply
    assert _state() == "menu"
    assert any("segera tersedia" in t and "Cek status" in t for t in chat("2"))
    assert "Dik Jamila Me-WA" in chat("3")[0]
    assert "Dik Jamila Me-WA" in chat("Bantuan")[0]


def test_typos_and_free_text(chat: Callable[..., list[str]]) -> None:
    chat("halo")
    assert "Dik Jamila Me-WA" in chat("bntuan")[0]
    assert any("segera tersedia" in t for t in chat("ajukn"))
    (answer,) = chat("apa kabar pak?")
    assert "tidak dikenali" in answer
    assert "1. Ajukan dokumen" in answer


def test_interactive_and_template_button_replies(chat: Callable[..., list[str]]) -> None:
    chat("halo")
    reply = chat(payloads.button_reply(CITIZEN, "menu:bantuan", "Bantuan"))
    assert "Dik Jamila Me-WA" in reply[0]
    reply = chat(payloads.list_reply(CITIZEN, "menu:status", "Cek status"))
    assert any("Cek status" in t for t in reply)
    reply = chat(payloads.template_button(CITIZEN, "Bantuan", "bantuan"))
    assert "Dik Jamila Me-WA" in reply[0]


class _EchoFlow:
    """A test flow standing in for the document service."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def start(self, ctx: conversation.Context) -> None:
        ctx.set_state("ajukan:jenis", started=True)
        ctx.reply("Dokumen apa yang ingin diajukan?")

    def handle(self, ctx: conversation.Context) -> None:
        self.seen.append(ctx.text)
        if ctx.text == "selesai":
            ctx.reply("Terima kasih.")
            ctx.to_menu()
            return
        ctx.set_state("ajukan:data", last=ctx.text)
        ctx.reply(f"Dicatat: {ctx.text}")


@pytest.fixture
def echo_flow() -> Iterator[_EchoFlow]:
    flow = _EchoFlow()
    original = conversation._FLOWS["ajukan"]
    conversation.register_flow("ajukan", original.title, flow, aliases=original.aliases)
    yield flow
    conversation._FLOWS["ajukan"] = original


def test_a_registered_flow_takes_over_and_batal_resets(
    chat: Callable[..., list[str]], echo_flow: _EchoFlow
) -> None:
    chat("halo")
    assert chat("1") == ["Dokumen apa yang ingin diajukan?"]
    assert chat("Kartu Keluarga") == ["Dicatat: Kartu Keluarga"]
    conv = Conversation.objects.get(sender=CITIZEN)
    assert conv.state == "ajukan:data"
    assert conv.data == {"started": True, "last": "Kartu Keluarga"}
    cancelled, menu = chat("BATAL")
    assert "dibatalkan" in cancelled
    assert "1. Ajukan dokumen" in menu
    assert _state() == "menu"
    assert Conversation.objects.get(sender=CITIZEN).data == {}
    assert echo_flow.seen == ["Kartu Keluarga"]


def test_menu_word_inside_a_flow_returns_to_menu(
    chat: Callable[..., list[str]], echo_flow: _EchoFlow
) -> None:
    chat("halo")
    chat("1")
    (menu,) = chat("menu")
    assert "1. Ajukan dokumen" in menu
    assert _state() == "menu"


def test_long_pause_restarts_at_the_menu(
    chat: Callable[..., list[str]], echo_flow: _EchoFlow
) -> None:
    chat("halo")
    chat("1")
    with time_machine.travel(timezone.now() + dt.timedelta(days=4)):
        ended, menu = chat("KTP")
    assert "berakhir" in ended
    assert "1. Ajukan dokumen" in menu
    assert echo_flow.seen == []


def test_replacing_the_whole_handler(citizen_says: Callable[..., Any], wa_env: Any) -> None:
    handled: list[str] = []

    class Recorder:
        def handle(self, inbound: InboundMessage) -> None:
            handled.append(inbound.provider_message_id)

    conversation.register_handler(Recorder())
    try:
        message = payloads.text(CITIZEN, "halo")
        citizen_says(message)
    finally:
        conversation.register_handler(None)
    assert handled == [message["id"]]
    assert isinstance(conversation.get_handler(), conversation.MenuHandler)


def test_reprocessing_does_not_send_replies_twice(
    chat: Callable[..., list[str]], fake_api: FakeCloudAPI
) -> None:
    chat("halo")
    inbound = InboundMessage.objects.get()
    InboundMessage.objects.filter(pk=inbound.pk).update(state=InboundState.RECEIVED)
    Conversation.objects.all().delete()  # would greet again if replies were not idempotent
    before = len(fake_api.sent)
    tasks.sweep()
    assert len(fake_api.sent) == before
    assert OutboundMessage.objects.count() == 2


def test_office_is_routed_by_phone_number_id(
    chat: Callable[..., list[str]], office: Any, fake_api: FakeCloudAPI
) -> None:
    WhatsAppNumber.objects.create(office=office, phone_number_id=PHONE_NUMBER_ID, display="x")
    chat("halo")
    assert Conversation.objects.get().office == office
    assert {r["phone_number_id"] for r in fake_api.sent} == {PHONE_NUMBER_ID}


def test_failed_processing_is_kept_and_retried(
    citizen_says: Callable[..., Any], fake_api: FakeCloudAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(inbound: InboundMessage, attachment: Any = None) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(conversation, "dispatch", broken)
    citizen_says(payloads.text(CITIZEN, "halo"))
    inbound = InboundMessage.objects.get()
    assert inbound.state == InboundState.RECEIVED
    assert inbound.attempts == 1
    tasks.sweep()
    tasks.sweep()
    inbound.refresh_from_db()
    assert inbound.state == InboundState.FAILED
    assert inbound.error == "RuntimeError"
    monkeypatch.undo()
    tasks.sweep()
    assert InboundMessage.objects.get().state == InboundState.FAILED  # left for a person


# --------------------------------------------------------------------------- media

PHOTO = b"\xff\xd8\xff\xe0 fake jpeg bytes of a KTP photo" * 10


def test_photo_is_downloaded_checked_and_stored(
    chat: Callable[..., list[str]], fake_api: FakeCloudAPI
) -> None:
    chat("halo")
    media_id, hex_digest = fake_api.add_media(PHOTO)
    # Webhooks carry the hash base64-encoded; the media endpoint hex: both are accepted.
    b64 = base64.b64encode(hashlib.sha256(PHOTO).digest()).decode()
    (answer,) = chat(payloads.image(CITIZEN, media_id, b64, caption="KTP"))
    assert "sudah kami simpan" in answer
    attachment = Attachment.objects.get()
    assert attachment.state == AttachmentState.STORED
    assert attachment.sha256 == hex_digest
    assert attachment.size == len(PHOTO)
    with attachment.file.open("rb") as handle:
        assert handle.read() == PHOTO
    assert attachment.file.name.endswith(".jpg")
    assert CITIZEN not in attachment.file.name
    assert Conversation.objects.get().data["attachments"] == [str(attachment.pk)]


def test_pdf_document_is_stored(chat: Callable[..., list[str]], fake_api: FakeCloudAPI) -> None:
    chat("halo")
    pdf = b"%PDF-1.4 akta"
    media_id, digest = fake_api.add_media(pdf, mime_type="application/pdf")
    chat(payloads.document(CITIZEN, media_id, digest, filename="akta.pdf"))
    attachment = Attachment.objects.get()
    assert attachment.state == AttachmentState.STORED
    assert attachment.filename == "akta.pdf"
    assert attachment.file.name.endswith(".pdf")


def test_sha256_mismatch_keeps_the_message_and_tells_the_user(
    chat: Callable[..., list[str]], fake_api: FakeCloudAPI
) -> None:
    chat("halo")
    media_id, _ = fake_api.add_media(PHOTO, sha256="0" * 64)
    (answer,) = chat(payloads.image(CITIZEN, media_id, "0" * 64))
    assert "rusak" in answer and "kirim ulang" in answer
    attachment = Attachment.objects.get()
    assert attachment.state == AttachmentState.FAILED
    assert attachment.error_code == "media_mismatch"
    assert not attachment.file
    assert InboundMessage.objects.get(type="image").state == InboundState.PROCESSED


def test_media_download_timeout_keeps_the_message_and_tells_the_user(
    chat: Callable[..., list[str]], fake_api: FakeCloudAPI
) -> None:
    chat("halo")
    media_id, digest = fake_api.add_media(PHOTO, delay=1.5)  # client timeout is 1 s
    (answer,) = chat(payloads.image(CITIZEN, media_id, digest))
    assert "tidak dapat diunduh" in answer
    attachment = Attachment.objects.get()
    assert attachment.state == AttachmentState.FAILED
    assert attachment.error_code == "media_unavailable"
    assert InboundMessage.objects.filter(type="image").exists()


def test_oversized_media_is_refused(
    chat: Callable[..., list[str]], fake_api: FakeCloudAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIPADU_WHATSAPP_MAX_MEDIA_BYTES", "100")
    chat("halo")
    media_id, digest = fake_api.add_media(PHOTO)
    (answer,) = chat(payloads.image(CITIZEN, media_id, digest))
    assert "terlalu besar" in answer
    assert Attachment.objects.get().error_code == "media_too_large"


def test_unknown_media_id_is_reported(
    chat: Callable[..., list[str]], fake_api: FakeCloudAPI
) -> None:
    chat("halo")
    (answer,) = chat(payloads.image(CITIZEN, "404404", "abc"))
    assert "tidak dapat diunduh" in answer
    assert Attachment.objects.get().state == AttachmentState.FAILED
