"""Shared fixtures of the WhatsApp conversation tests of the document service.

The citizen's messages go to the real webhook (signed), the worker runs inline, and the
answers are read back from the local fake Cloud API's record. The layanan fixtures (SOPs and
catalogue loaded, the Balangan personas, residents) are re-exported here.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

from sipadu.layanan.tests.conftest import (  # noqa: F401  (fixtures)
    desa,
    make_resident,
    plain_pdf,
    png_bytes,
    setup,
    staff,
)
from sipadu.messaging.models import Conversation
from sipadu.messaging.tests.conftest import CITIZEN
from sipadu.messaging.types.whatsapp import payloads
from sipadu.messaging.types.whatsapp.fake import FakeCloudAPI

Chat = Callable[..., list[str]]


def jpeg_bytes(color: str = "white") -> bytes:
    """A small JPEG, as a phone camera would send."""
    out = io.BytesIO()
    Image.new("RGB", (80, 60), color).save(out, format="JPEG")
    return out.getvalue()


def texts_of(records: list[dict[str, Any]]) -> list[str]:
    """The readable text of each sent record (text body or document caption)."""
    result = []
    for record in records:
        body = record["body"]
        if record["type"] == "text":
            result.append(body["text"]["body"])
        elif record["type"] == "document":
            result.append("[dokumen] " + body["document"].get("caption", ""))
        else:
            result.append(f"[{record['type']}]")
    return result


@pytest.fixture
def chat(citizen_says: Callable[..., Any], fake_api: FakeCloudAPI) -> Chat:
    """Send one message as the citizen (text, or a Meta-shaped dict); returns the replies."""

    def say(message: dict[str, Any] | str, sender: str = CITIZEN) -> list[str]:
        before = len(fake_api.sent)
        citizen_says(payloads.text(sender, message) if isinstance(message, str) else message)
        return texts_of([r for r in fake_api.sent[before:] if r["to"] == sender])

    return say


@pytest.fixture
def send_file(chat: Chat, fake_api: FakeCloudAPI) -> Callable[..., list[str]]:
    """Send a photo (JPEG/PNG) or a document as the citizen; returns the replies."""

    def send(
        data: bytes,
        *,
        mime: str = "image/jpeg",
        filename: str = "berkas.pdf",
        sender: str = CITIZEN,
    ) -> list[str]:
        media_id, digest = fake_api.add_media(data, mime_type=mime)
        if mime.startswith("image/"):
            message = payloads.image(sender, media_id, digest)
            message["image"]["mime_type"] = mime
        else:
            message = payloads.document(sender, media_id, digest, filename=filename)
            message["document"]["mime_type"] = mime
        return chat(message, sender)

    return send


def state(sender: str = CITIZEN) -> str:
    """The conversation state of ``sender``."""
    return Conversation.objects.get(sender=sender).state


def data(sender: str = CITIZEN) -> dict[str, Any]:
    """The conversation data of ``sender``."""
    return dict(Conversation.objects.get(sender=sender).data)


def answers_for(person: Any) -> list[str]:
    """What the citizen types for an akta kelahiran, in the order the fields are asked."""
    return [
        person.nik,
        person.full_name,
        "perempuan" if person.sex == "P" else "laki-laki",
        person.birth_place,
        person.birth_date.strftime("%d-%m-%Y"),
        person.keluarga_id,
        person.father_name,
        person.mother_name,
        "Ahmad Fauzi",
    ]


#: A second WhatsApp number (another citizen).
OTHER = "6285712345678"


def start_akta(chat: Chat) -> None:
    """From the greeting to the first data question of an akta kelahiran application."""
    chat("halo")
    chat("1")
    replies = chat("akte lahir")
    assert any("Anda memilih *Akta Kelahiran*" in r for r in replies), replies
    assert state() == "ajukan:data"


def fill_fields(chat: Chat, person: Any) -> list[str]:
    """Answer every data question for ``person``; the last replies."""
    replies: list[str] = []
    for answer in answers_for(person):
        replies = chat(answer)
        assert not any("belum dapat diterima" in r for r in replies), (answer, replies)
    return replies


def send_required_files(send_file: Callable[..., list[str]]) -> list[str]:
    """The three files an akta kelahiran needs; the replies to the last one."""
    send_file(jpeg_bytes())
    send_file(png_bytes(), mime="image/png")
    return send_file(plain_pdf(), mime="application/pdf", filename="ktp-ortu.pdf")
