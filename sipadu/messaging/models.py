"""The outbox, the inbox and the WhatsApp bookkeeping of the messaging layer.

Phone numbers (recipient and sender addresses) are stored here because delivery needs them;
they never appear in logs, audit data or URLs — rows are named by their UUID instead.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MessageKind(models.TextChoices):
    """What an outbound message carries."""

    TEXT = "text", _("Teks")
    TEMPLATE = "template", _("Templat")
    DOCUMENT = "document", _("Dokumen")


class OutboundState(models.TextChoices):
    """Life of an outbound message; provider callbacks only ever move it forward."""

    QUEUED = "queued", _("Antre")
    SENDING = "sending", _("Sedang dikirim")
    SENT = "sent", _("Terkirim")
    DELIVERED = "delivered", _("Diterima")
    READ = "read", _("Dibaca")
    FAILED = "failed", _("Gagal")


#: Order of the provider-reported states. A callback is applied only when it ranks higher
#: than the current state, so late or repeated callbacks never move a message backwards.
#: ``failed`` ranks above ``sent`` (a sent message may still fail to reach the phone) but
#: below ``delivered``: proof of delivery wins over a contradicting failure report.
STATE_RANK: dict[str, int] = {
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "failed": 3,
    "delivered": 4,
    "read": 5,
}


def states_below(state: str) -> list[str]:
    """States a provider callback reporting ``state`` may overwrite."""
    rank = STATE_RANK[state]
    return [s for s, r in STATE_RANK.items() if r < rank]


class OutboundMessage(models.Model):
    """One message to send through a channel: the outbox row and its delivery record.

    ``idempotency_key`` makes :func:`sipadu.messaging.actions.send` safe to call twice for the
    same event (a retried job, a double click): the second call returns the first row.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(_("kanal"), max_length=30)
    office = models.ForeignKey(
        "core.Office",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbound_messages",
        verbose_name=_("kantor"),
    )
    # The channel's address: a WhatsApp number, or for the web channel the reference of the
    # page that shows the message (a request's UUID). Personal data: never logged.
    recipient = models.CharField(_("penerima"), max_length=64)
    # The sending address when a channel has several (a WhatsApp phone_number_id per office).
    sender = models.CharField(_("pengirim"), max_length=64, blank=True)
    kind = models.CharField(_("jenis"), max_length=10, choices=MessageKind.choices)
    payload = models.JSONField(_("isi"), default=dict)
    state = models.CharField(
        _("status"), max_length=10, choices=OutboundState.choices, default=OutboundState.QUEUED
    )
    attempts = models.PositiveIntegerField(_("percobaan"), default=0)
    provider_message_id = models.CharField(
        _("ID pesan penyedia"), max_length=128, null=True, blank=True, unique=True
    )
    idempotency_key = models.CharField(_("kunci idempotensi"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diubah"), auto_now=True)
    next_attempt_at = models.DateTimeField(_("percobaan berikutnya"), null=True, blank=True)
    sending_since = models.DateTimeField(_("mulai dikirim"), null=True, blank=True)
    sent_at = models.DateTimeField(_("waktu terkirim"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("waktu diterima"), null=True, blank=True)
    read_at = models.DateTimeField(_("waktu dibaca"), null=True, blank=True)
    error_code = models.CharField(_("kode galat"), max_length=40, blank=True)
    error = models.TextField(_("galat"), blank=True)

    class Meta:
        verbose_name = _("pesan keluar")
        verbose_name_plural = _("pesan keluar")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbound_due"),
            models.Index(fields=["channel", "recipient", "created_at"], name="outbound_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.kind} {self.pk} ({self.state})"

    @property
    def text(self) -> str:
        """The human-readable text of the message (for pages and the simulator)."""
        return str(self.payload.get("text") or self.payload.get("caption") or "")


class InboundState(models.TextChoices):
    """Processing state of a received message."""

    RECEIVED = "received", _("Diterima")
    PROCESSING = "processing", _("Diproses")
    PROCESSED = "processed", _("Selesai")
    FAILED = "failed", _("Gagal diproses")


class InboundMessage(models.Model):
    """A message a citizen sent us, stored once: the provider's message id is unique."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(_("kanal"), max_length=30)
    provider_message_id = models.CharField(_("ID pesan penyedia"), max_length=128, unique=True)
    # The receiving address (WhatsApp phone_number_id): routes the message to an office.
    recipient = models.CharField(_("nomor tujuan"), max_length=64, blank=True)
    sender = models.CharField(_("pengirim"), max_length=64)
    type = models.CharField(_("jenis"), max_length=30)
    payload = models.JSONField(_("isi"), default=dict)
    sent_at = models.DateTimeField(_("waktu kirim"), null=True, blank=True)
    received_at = models.DateTimeField(_("waktu terima"))
    state = models.CharField(
        _("status"), max_length=12, choices=InboundState.choices, default=InboundState.RECEIVED
    )
    attempts = models.PositiveIntegerField(_("percobaan"), default=0)
    processed_at = models.DateTimeField(_("waktu diproses"), null=True, blank=True)
    error = models.TextField(_("galat"), blank=True)

    class Meta:
        verbose_name = _("pesan masuk")
        verbose_name_plural = _("pesan masuk")
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["state", "received_at"], name="inbound_state")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.type} {self.pk} ({self.state})"

    @property
    def body(self) -> str:
        """The text the citizen typed or the title of the button/list row chosen."""
        p = self.payload
        if self.type == "text":
            return str((p.get("text") or {}).get("body") or "")
        if self.type == "interactive":
            inter = p.get("interactive") or {}
            reply = inter.get(inter.get("type") or "") or {}
            return str(reply.get("title") or "")
        if self.type == "button":
            return str((p.get("button") or {}).get("text") or "")
        if self.type in {"image", "document"}:
            return str((p.get(self.type) or {}).get("caption") or "")
        return ""

    @property
    def choice_id(self) -> str:
        """The id of the button/list row chosen (the payload of a template button)."""
        p = self.payload
        if self.type == "interactive":
            inter = p.get("interactive") or {}
            return str((inter.get(inter.get("type") or "") or {}).get("id") or "")
        if self.type == "button":
            return str((p.get("button") or {}).get("payload") or "")
        return ""


class StatusEvent(models.Model):
    """A delivery-status callback, kept so that one arriving before we recorded the provider
    message id (the send response and the callback race) is applied when the id is known."""

    channel = models.CharField(_("kanal"), max_length=30)
    provider_message_id = models.CharField(_("ID pesan penyedia"), max_length=128)
    status = models.CharField(_("status"), max_length=10, choices=OutboundState.choices)
    at = models.DateTimeField(_("waktu"), null=True, blank=True)
    errors = models.JSONField(_("galat"), default=list, blank=True)
    received_at = models.DateTimeField(_("waktu terima"), auto_now_add=True)
    applied = models.BooleanField(_("diterapkan"), default=False)

    class Meta:
        verbose_name = _("status pengiriman")
        verbose_name_plural = _("status pengiriman")
        constraints = [
            models.UniqueConstraint(
                fields=["provider_message_id", "status"], name="status_event_once"
            )
        ]
        indexes = [models.Index(fields=["applied", "provider_message_id"], name="status_pending")]

    def __str__(self) -> str:
        return f"{self.provider_message_id} → {self.status}"


class WebhookDelivery(models.Model):
    """A webhook body we could not (fully) use, kept for an administrator to inspect.

    Only bodies whose signature was valid are kept: an unsigned body is never stored.
    """

    class State(models.TextChoices):
        MALFORMED = "malformed", _("Tidak dapat dibaca")
        PARTIAL = "partial", _("Sebagian tidak dapat dibaca")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(_("kanal"), max_length=30)
    state = models.CharField(_("status"), max_length=10, choices=State.choices)
    body = models.BinaryField(_("isi mentah"))
    error = models.TextField(_("galat"))
    received_at = models.DateTimeField(_("waktu terima"), auto_now_add=True)

    class Meta:
        verbose_name = _("kiriman webhook bermasalah")
        verbose_name_plural = _("kiriman webhook bermasalah")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.channel} {self.state} {self.pk}"


class WhatsAppNumber(models.Model):
    """A WhatsApp Business phone number of an office; inbound messages to it are routed to
    that office and replies go out from it."""

    office = models.ForeignKey(
        "core.Office",
        on_delete=models.CASCADE,
        related_name="whatsapp_numbers",
        verbose_name=_("kantor"),
    )
    phone_number_id = models.CharField(_("phone_number_id"), max_length=64, unique=True)
    display = models.CharField(_("nomor tampilan"), max_length=32)

    class Meta:
        verbose_name = _("nomor WhatsApp kantor")
        verbose_name_plural = _("nomor WhatsApp kantor")

    def __str__(self) -> str:
        return f"{self.display} ({self.office})"


class WhatsAppContact(models.Model):
    """What we know of a WhatsApp user: when they last wrote (the 24-hour service window)."""

    wa_id = models.CharField(_("nomor WhatsApp"), max_length=32, unique=True)
    last_inbound_at = models.DateTimeField(_("pesan terakhir"), null=True, blank=True)

    class Meta:
        verbose_name = _("kontak WhatsApp")
        verbose_name_plural = _("kontak WhatsApp")

    def __str__(self) -> str:
        return f"kontak {self.pk}"


class Conversation(models.Model):
    """Per-sender conversation state of the WhatsApp service (menu, flow, collected data)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(_("kanal"), max_length=30, default="whatsapp")
    sender = models.CharField(_("pengirim"), max_length=64)
    office = models.ForeignKey(
        "core.Office",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("kantor"),
    )
    # ``menu`` or ``<flow>`` or ``<flow>:<step>``: the flow owns everything after the colon.
    state = models.CharField(_("status"), max_length=80, default="new")
    data = models.JSONField(_("data"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("diubah"), auto_now=True)

    class Meta:
        verbose_name = _("percakapan")
        verbose_name_plural = _("percakapan")
        constraints = [
            models.UniqueConstraint(fields=["channel", "sender"], name="conversation_sender")
        ]

    def __str__(self) -> str:
        return f"percakapan {self.pk} ({self.state})"

    @property
    def flow(self) -> str:
        """The flow the conversation is in (``menu`` when none)."""
        return self.state.split(":", 1)[0]


class AttachmentState(models.TextChoices):
    """Whether a received file is safely stored."""

    PENDING = "pending", _("Menunggu unduhan")
    STORED = "stored", _("Tersimpan")
    FAILED = "failed", _("Gagal diunduh")


def attachment_path(instance: Attachment, filename: str) -> str:
    """Received files live under messaging/YYYY/MM/ with a random name (no personal data)."""
    suffix = Path(filename).suffix.lower()[:10]
    return f"messaging/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    """A file a citizen sent (photo, PDF), downloaded from the provider and sha256-checked.

    The row exists before the download, so a failed or timed-out download is recorded and
    the citizen asked to send again; nothing received is silently dropped.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    inbound = models.ForeignKey(
        InboundMessage,
        on_delete=models.PROTECT,
        related_name="attachments",
        verbose_name=_("pesan masuk"),
    )
    media_id = models.CharField(_("ID media"), max_length=128)
    mime_type = models.CharField(_("jenis berkas"), max_length=100, blank=True)
    filename = models.CharField(_("nama berkas"), max_length=255, blank=True)
    expected_sha256 = models.CharField(_("sha256 yang diharapkan"), max_length=100, blank=True)
    sha256 = models.CharField(_("sha256"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("ukuran"), default=0)
    file = models.FileField(_("berkas"), upload_to=attachment_path, blank=True)
    state = models.CharField(
        _("status"),
        max_length=10,
        choices=AttachmentState.choices,
        default=AttachmentState.PENDING,
    )
    error_code = models.CharField(_("kode galat"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)

    class Meta:
        verbose_name = _("lampiran pesan")
        verbose_name_plural = _("lampiran pesan")
        constraints = [
            models.UniqueConstraint(fields=["inbound", "media_id"], name="attachment_once")
        ]

    def __str__(self) -> str:
        return f"lampiran {self.pk} ({self.state})"
