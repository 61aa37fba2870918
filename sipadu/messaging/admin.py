"""Admin pages: the outbox, the inbox, kept webhook bodies, office numbers, attachments.

Messages are records, so the admin shows them read-only; office numbers are editable.
"""

from __future__ import annotations

from django.contrib import admin

from sipadu.core.admin_base import ReadOnlyAdmin
from sipadu.messaging.models import (
    Attachment,
    Conversation,
    InboundMessage,
    OutboundMessage,
    WebhookDelivery,
    WhatsAppNumber,
)


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "channel", "kind", "state", "attempts", "error_code"]
    list_filter = ["channel", "state", "kind", "error_code"]


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "channel", "type", "state", "attempts"]
    list_filter = ["channel", "type", "state"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "channel", "state", "error"]
    list_filter = ["channel", "state"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "mime_type", "size", "state", "error_code"]
    list_filter = ["state", "error_code"]


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ["updated_at", "channel", "state", "office"]
    list_filter = ["channel", "office"]


@admin.register(WhatsAppNumber)
class WhatsAppNumberAdmin(admin.ModelAdmin):
    list_display = ["display", "phone_number_id", "office"]
