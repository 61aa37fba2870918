"""Webhook authentication and parsing for the WhatsApp Cloud API (pure functions, no I/O).

Meta signs every POST with ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body
keyed by the app secret>``; the body is only parsed after that signature is verified.
The payload shape: ``entry[].changes[].value`` holds ``metadata.phone_number_id``,
``messages[]`` (what users sent) and ``statuses[]`` (what happened to what we sent).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sipadu.messaging.actions import InboundItem, StatusItem
from sipadu.messaging.types.whatsapp.signature import sign, signature_valid, verify_token_valid

#: Message types the conversation understands; anything else is stored and answered politely.
__all__ = [
    "MalformedPayload",
    "ParsedDelivery",
    "parse",
    "sign",
    "signature_valid",
    "verify_token_valid",
]

SUPPORTED_TYPES = frozenset({"text", "image", "document", "interactive", "button"})
STATUS_VALUES = frozenset({"sent", "delivered", "read", "failed"})
#: Personal or bulky fields not needed to process a message are dropped before storing.
_DROP_FIELDS = frozenset({"from", "id", "timestamp"})


class MalformedPayload(ValueError):
    """The body is not JSON or not the documented object shape."""


@dataclass
class ParsedDelivery:
    """What one webhook body holds, plus notes on items that could not be used."""

    messages: list[InboundItem] = field(default_factory=list)
    statuses: list[StatusItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _timestamp(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _as_list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{what} is not a list")
    return value


def parse(body: bytes) -> ParsedDelivery:
    """Parse a (signature-checked) webhook body.

    Raises :class:`MalformedPayload` when the body is not JSON or its skeleton is wrong; a
    single unusable message or status inside an otherwise good body is skipped and noted in
    ``problems`` (the caller keeps the body for inspection).
    """
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedPayload(f"not JSON: {exc.msg if hasattr(exc, 'msg') else exc}") from None
    if not isinstance(data, dict):
        raise MalformedPayload("top level is not an object")
    parsed = ParsedDelivery()
    for e_index, entry in enumerate(_as_list(data.get("entry"), "entry")):
        if not isinstance(entry, dict):
            raise MalformedPayload(f"entry[{e_index}] is not an object")
        for change in _as_list(entry.get("changes"), "changes"):
            if not isinstance(change, dict):
                raise MalformedPayload("a change is not an object")
            value = change.get("value")
            if change.get("field", "messages") != "messages" or not isinstance(value, dict):
                # Other subscriptions (template status, account updates) are not ours.
                continue
            metadata = value.get("metadata")
            if not isinstance(metadata, dict):
                metadata = {}
            phone_number_id = str(metadata.get("phone_number_id") or "")
            for index, msg in enumerate(_as_list(value.get("messages"), "messages")):
                item = _message(msg, phone_number_id)
                if item is None:
                    parsed.problems.append(f"message {index}: missing id, from or type")
                else:
                    parsed.messages.append(item)
            for index, status in enumerate(_as_list(value.get("statuses"), "statuses")):
                s_item = _status(status)
                if s_item is None:
                    parsed.problems.append(f"status {index}: missing id or unknown status")
                else:
                    parsed.statuses.append(s_item)
    return parsed


def _message(msg: Any, phone_number_id: str) -> InboundItem | None:
    if not isinstance(msg, dict):
        return None
    message_id, sender, kind = msg.get("id"), msg.get("from"), msg.get("type")
    if not (isinstance(message_id, str) and message_id and sender and isinstance(kind, str)):
        return None
    if len(message_id) > 128 or len(str(sender)) > 64 or len(kind) > 30:
        return None
    payload = {k: v for k, v in msg.items() if k not in _DROP_FIELDS}
    return InboundItem(
        provider_message_id=message_id,
        recipient=phone_number_id,
        sender=str(sender),
        type=kind,
        payload=payload,
        sent_at=_timestamp(msg.get("timestamp")),
    )


def _status(status: Any) -> StatusItem | None:
    if not isinstance(status, dict):
        return None
    message_id, value = status.get("id"), status.get("status")
    if not (isinstance(message_id, str) and message_id) or value not in STATUS_VALUES:
        return None
    errors = status.get("errors")
    if not isinstance(errors, list):
        errors = []
    return StatusItem(
        provider_message_id=message_id[:128],
        status=str(value),
        at=_timestamp(status.get("timestamp")),
        errors=errors,
    )
