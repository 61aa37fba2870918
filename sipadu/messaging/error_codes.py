"""Named errors of the messaging layer and the exception that carries them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _


class ErrorCode(StrEnum):
    """Why a messaging action was refused or a delivery failed."""

    UNKNOWN_CHANNEL = "unknown_channel"
    BAD_RECIPIENT = "bad_recipient"
    ONE_CONTENT = "one_content"
    TEXT_TOO_LONG = "text_too_long"
    BAD_TEMPLATE = "bad_template"
    BAD_DOCUMENT = "bad_document"
    NOT_CONFIGURED = "not_configured"
    PROVIDER_REJECTED = "provider_rejected"
    OUTCOME_UNKNOWN = "outcome_unknown"
    RETRIES_EXHAUSTED = "retries_exhausted"
    MEDIA_TOO_LARGE = "media_too_large"
    MEDIA_MISMATCH = "media_mismatch"
    MEDIA_UNAVAILABLE = "media_unavailable"


MESSAGES: dict[ErrorCode, Any] = {
    ErrorCode.UNKNOWN_CHANNEL: _("Kanal pesan tidak dikenal."),
    ErrorCode.BAD_RECIPIENT: _("Alamat penerima tidak valid."),
    ErrorCode.ONE_CONTENT: _("Isi pesan harus tepat satu: teks, templat, atau dokumen."),
    ErrorCode.TEXT_TOO_LONG: _("Teks pesan terlalu panjang."),
    ErrorCode.BAD_TEMPLATE: _("Templat pesan tidak lengkap."),
    ErrorCode.BAD_DOCUMENT: _("Dokumen pesan tidak lengkap."),
    ErrorCode.NOT_CONFIGURED: _("Kanal WhatsApp belum dikonfigurasi."),
    ErrorCode.PROVIDER_REJECTED: _("Penyedia layanan menolak pesan."),
    ErrorCode.OUTCOME_UNKNOWN: _(
        "Hasil pengiriman tidak diketahui; pesan tidak dikirim ulang otomatis."
    ),
    ErrorCode.RETRIES_EXHAUSTED: _("Pesan gagal dikirim setelah beberapa kali percobaan."),
    ErrorCode.MEDIA_TOO_LARGE: _("Berkas terlalu besar."),
    ErrorCode.MEDIA_MISMATCH: _("Berkas rusak saat diterima (sidik sha256 tidak cocok)."),
    ErrorCode.MEDIA_UNAVAILABLE: _("Berkas tidak dapat diunduh saat ini."),
}


class MessagingError(Exception):
    """A refused messaging request: a stable ``code`` and a message in the user's language."""

    def __init__(self, code: ErrorCode, message: Any = None) -> None:
        self.code = code
        self.message = str(message if message is not None else MESSAGES[code])
        super().__init__(f"{code}: {self.message}")
