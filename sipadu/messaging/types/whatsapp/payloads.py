"""Builders of webhook bodies in the shape the WhatsApp Cloud API documents.

Shared by the tests, the local fake, the benchmark and the simulator page, so that all of
them speak the same dialect as Meta: ``{"object": "whatsapp_business_account", "entry":
[{"id", "changes": [{"field": "messages", "value": {"messaging_product", "metadata",
"contacts", "messages" | "statuses"}}]}]}``.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from typing import Any

_counter = itertools.count(1)


def new_message_id() -> str:
    """A unique id shaped like Meta's ``wamid.`` ids."""
    return f"wamid.{secrets.token_hex(12)}{next(_counter):06d}"


def envelope(
    phone_number_id: str,
    *,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    contacts: list[dict[str, Any]] | None = None,
    display_phone_number: str = "6281100000000",
    waba_id: str = "102290129340398",
) -> dict[str, Any]:
    """One delivery holding ``messages`` and/or ``statuses`` for one business number."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": display_phone_number,
            "phone_number_id": phone_number_id,
        },
    }
    if messages is not None:
        value["contacts"] = contacts or [
            {"profile": {"name": "Warga"}, "wa_id": m["from"]} for m in messages[:1]
        ]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"field": "messages", "value": value}]}],
    }


def _base(sender: str, kind: str, message_id: str | None, timestamp: int | None) -> dict[str, Any]:
    return {
        "from": sender,
        "id": message_id or new_message_id(),
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "type": kind,
    }


def text(sender: str, body: str, **kw: Any) -> dict[str, Any]:
    """A text message."""
    return {
        **_base(sender, "text", kw.get("message_id"), kw.get("timestamp")),
        "text": {"body": body},
    }


def image(
    sender: str, media_id: str, sha256: str, *, caption: str = "", **kw: Any
) -> dict[str, Any]:
    """A photo (media to download by id)."""
    media = {"mime_type": "image/jpeg", "sha256": sha256, "id": media_id}
    if caption:
        media["caption"] = caption
    return {**_base(sender, "image", kw.get("message_id"), kw.get("timestamp")), "image": media}


def document(
    sender: str, media_id: str, sha256: str, *, filename: str = "berkas.pdf", **kw: Any
) -> dict[str, Any]:
    """A document (PDF) message."""
    media = {
        "filename": filename,
        "mime_type": "application/pdf",
        "sha256": sha256,
        "id": media_id,
    }
    return {
        **_base(sender, "document", kw.get("message_id"), kw.get("timestamp")),
        "document": media,
    }


def button_reply(sender: str, reply_id: str, title: str, **kw: Any) -> dict[str, Any]:
    """The user tapped a reply button of an interactive message."""
    return {
        **_base(sender, "interactive", kw.get("message_id"), kw.get("timestamp")),
        "context": {"from": "6281100000000", "id": new_message_id()},
        "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
    }


def list_reply(
    sender: str, reply_id: str, title: str, description: str = "", **kw: Any
) -> dict[str, Any]:
    """The user chose a row of an interactive list message."""
    return {
        **_base(sender, "interactive", kw.get("message_id"), kw.get("timestamp")),
        "context": {"from": "6281100000000", "id": new_message_id()},
        "interactive": {
            "type": "list_reply",
            "list_reply": {"id": reply_id, "title": title, "description": description},
        },
    }


def template_button(sender: str, text_: str, payload: str, **kw: Any) -> dict[str, Any]:
    """The user tapped a quick-reply button of a template message."""
    return {
        **_base(sender, "button", kw.get("message_id"), kw.get("timestamp")),
        "context": {"from": "6281100000000", "id": new_message_id()},
        "button": {"text": text_, "payload": payload},
    }


def sticker(sender: str, **kw: Any) -> dict[str, Any]:
    """A sticker (not supported by the service)."""
    return {
        **_base(sender, "sticker", kw.get("message_id"), kw.get("timestamp")),
        "sticker": {"mime_type": "image/webp", "sha256": "x", "id": "9001", "animated": False},
    }


def location(sender: str, **kw: Any) -> dict[str, Any]:
    """A shared location (not supported)."""
    return {
        **_base(sender, "location", kw.get("message_id"), kw.get("timestamp")),
        "location": {"latitude": -2.3, "longitude": 115.6, "name": "Paringin"},
    }


def reaction(sender: str, to_message_id: str, emoji: str = "👍", **kw: Any) -> dict[str, Any]:
    """A reaction to one of our messages (not supported)."""
    return {
        **_base(sender, "reaction", kw.get("message_id"), kw.get("timestamp")),
        "reaction": {"message_id": to_message_id, "emoji": emoji},
    }


def unsupported(sender: str, **kw: Any) -> dict[str, Any]:
    """A message type the Cloud API itself does not support (``type: unknown``)."""
    return {
        **_base(sender, "unknown", kw.get("message_id"), kw.get("timestamp")),
        "errors": [
            {
                "code": 131051,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }
        ],
    }


def status(
    message_id: str,
    value: str,
    recipient: str,
    *,
    timestamp: int | None = None,
    error_code: int = 131026,
) -> dict[str, Any]:
    """A status callback (sent, delivered, read or failed) for one of our messages."""
    item: dict[str, Any] = {
        "id": message_id,
        "status": value,
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "recipient_id": recipient,
    }
    if value in {"sent", "delivered"}:
        item["conversation"] = {"id": secrets.token_hex(8), "origin": {"type": "service"}}
        item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
    if value == "failed":
        item["errors"] = [
            {
                "code": error_code,
                "title": "Message undeliverable",
                "message": "Message undeliverable",
                "error_data": {"details": "Message failed to send."},
            }
        ]
    return item


def dumps(delivery: dict[str, Any]) -> bytes:
    """The raw body as Meta would send it (compact UTF-8 JSON)."""
    return json.dumps(delivery, separators=(",", ":"), ensure_ascii=False).encode()
