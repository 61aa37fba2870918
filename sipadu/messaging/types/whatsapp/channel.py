"""The WhatsApp channel type: delivers outbox rows through the Cloud API and hands received
messages to the conversation.

The 24-hour customer-service window: WhatsApp only lets a business send free-form messages
within 24 hours of the user's last message. Outside it, a text (or document) is sent as the
approved fallback template carrying the text as its one parameter.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone

from sipadu.messaging.channels import Delivered, DeliveryError
from sipadu.messaging.error_codes import ErrorCode, MessagingError
from sipadu.messaging.models import (
    InboundMessage,
    MessageKind,
    OutboundMessage,
    WhatsAppContact,
    WhatsAppNumber,
)
from sipadu.messaging.types.whatsapp import config
from sipadu.messaging.types.whatsapp.client import GraphClient, GraphError

#: The window is 24 hours; we stop a little early so a message queued at 23:59 still fits.
WINDOW = dt.timedelta(hours=24) - dt.timedelta(minutes=5)
#: Template parameters may not hold newlines, tabs or 4+ consecutive spaces.
_PARAM_SPACES = re.compile(r"\s+")
MAX_TEMPLATE_PARAM = 1000


def normalize_number(address: str) -> str:
    """A WhatsApp id (country code + number, digits only) from what people type.

    Indonesian numbers written with a leading 0 (``0812…``) get the 62 country code.
    """
    digits = re.sub(r"[\s\-().+]", "", address or "")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    if not digits.isdigit() or not 8 <= len(digits) <= 15:
        raise MessagingError(ErrorCode.BAD_RECIPIENT)
    return digits


def touch_window(wa_id: str, at: dt.datetime) -> None:
    """Record that ``wa_id`` wrote at ``at`` (only ever moves the time forward)."""
    WhatsAppContact.objects.get_or_create(wa_id=wa_id, defaults={"last_inbound_at": at})
    WhatsAppContact.objects.filter(wa_id=wa_id).filter(
        Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lt=at)
    ).update(last_inbound_at=at)


def in_window(wa_id: str, now: dt.datetime | None = None) -> bool:
    """Whether free-form messages may be sent to ``wa_id`` now."""
    last = (
        WhatsAppContact.objects.filter(wa_id=wa_id)
        .values_list("last_inbound_at", flat=True)
        .first()
    )
    return last is not None and (now or timezone.now()) - last < WINDOW


def sending_number(message: OutboundMessage, cfg: config.WhatsAppConfig) -> str:
    """The phone_number_id to send from: the row's, else the office's, else the default."""
    if message.sender:
        return message.sender
    if message.office_id:
        number = (
            WhatsAppNumber.objects.filter(office_id=message.office_id)
            .values_list("phone_number_id", flat=True)
            .first()
        )
        if number:
            return number
    return cfg.phone_number_id


def template_param(text: str) -> str:
    """``text`` made acceptable as a template body parameter."""
    flat = _PARAM_SPACES.sub(" ", text).strip()
    return flat if len(flat) <= MAX_TEMPLATE_PARAM else flat[: MAX_TEMPLATE_PARAM - 1] + "…"


def _delivery_error(exc: GraphError) -> DeliveryError:
    return DeliveryError(
        exc.code,
        exc.detail,
        retryable=exc.retryable,
        ambiguous=exc.ambiguous,
        retry_after=exc.retry_after,
    )


class WhatsAppChannel:
    """WhatsApp Business Cloud API."""

    name: ClassVar[str] = "whatsapp"

    def normalize_recipient(self, address: str) -> str:
        """Digits of the WhatsApp id (see :func:`normalize_number`)."""
        return normalize_number(address)

    def deliver(self, message: OutboundMessage) -> Delivered:
        """Send one outbox row; a free-form row outside the window goes as a template."""
        cfg = config.load()
        if not cfg.can_send:
            raise DeliveryError(ErrorCode.NOT_CONFIGURED, "access token or number missing")
        number = sending_number(message, cfg)
        payload: dict[str, Any] = message.payload
        update: dict[str, Any] | None = None
        try:
            with GraphClient(cfg) as client:
                if message.kind == MessageKind.TEMPLATE:
                    tpl = payload["template"]
                    provider_id = client.send_template(
                        number, message.recipient, tpl["name"], tpl["language"], tpl["params"]
                    )
                elif not in_window(message.recipient):
                    text = payload.get("text") or payload.get("caption") or ""
                    doc = payload.get("document") or {}
                    if doc.get("link"):
                        text = f"{text} {doc['link']}".strip()
                    param = template_param(text or doc.get("filename", ""))
                    provider_id = client.send_template(
                        number,
                        message.recipient,
                        cfg.fallback_template,
                        cfg.template_language,
                        [param],
                    )
                    update = {
                        "sent_as": "template",
                        "template": {
                            "name": cfg.fallback_template,
                            "language": cfg.template_language,
                            "params": [param],
                        },
                    }
                elif message.kind == MessageKind.TEXT:
                    provider_id = client.send_text(number, message.recipient, payload["text"])
                else:
                    provider_id = self._send_document(client, number, message)
        except GraphError as exc:
            raise _delivery_error(exc) from exc
        return Delivered(provider_message_id=provider_id, payload_update=update)

    def _send_document(self, client: GraphClient, number: str, message: OutboundMessage) -> str:
        doc = message.payload["document"]
        caption = message.payload.get("caption", "")
        if doc.get("link"):
            return client.send_document(
                number,
                message.recipient,
                link=doc["link"],
                filename=doc["filename"],
                caption=caption,
            )
        try:
            with default_storage.open(doc["storage_name"], "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise DeliveryError(ErrorCode.BAD_DOCUMENT, "stored file missing") from exc
        media_id = client.upload_media(number, data, doc["mime_type"], doc["filename"])
        return client.send_document(
            number, message.recipient, media_id=media_id, filename=doc["filename"], caption=caption
        )

    def handle_inbound(self, inbound: InboundMessage) -> None:
        """Open the service window, fetch media, then let the conversation answer."""
        from sipadu.messaging.types.whatsapp import conversation, media

        touch_window(inbound.sender, inbound.sent_at or inbound.received_at)
        attachment = media.store_media(inbound) if inbound.type in media.MEDIA_TYPES else None
        conversation.dispatch(inbound, attachment)
