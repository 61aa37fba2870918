"""Milestone notices to the applicant: received, files missing, signed, ready, done.

Every notice goes to the web channel (shown on the status page, addressed by the tracking
number) and, when the applicant gave a WhatsApp number and the WhatsApp channel is
configured, to WhatsApp as well. Both go through :func:`sipadu.messaging.actions.send` (the
outbox), inside the caller's transaction: a rolled-back step sends nothing. Each notice has an
idempotency key, so repeating a step never sends it twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.utils import translation
from django.utils.translation import gettext as _

from sipadu.messaging.actions import send
from sipadu.messaging.error_codes import MessagingError

if TYPE_CHECKING:
    from sipadu.layanan.models import DocumentRequest

log = logging.getLogger(__name__)


class Milestone:
    """The notice kinds (part of each notice's idempotency key)."""

    RECEIVED = "received"
    INCOMPLETE = "incomplete"
    RESUMED = "resumed"
    SIGNED = "signed"
    READY = "ready"
    DONE = "done"


def whatsapp_enabled() -> bool:
    """Whether the WhatsApp channel can send (its access token and number are configured)."""
    try:
        from sipadu.messaging.types.whatsapp.config import load
    except ImportError:  # the channel is a plugin; a deployment may ship without it
        return False
    return load().can_send


def text_for(req: DocumentRequest, milestone: str, detail: str = "") -> str:
    """The notice text (Indonesian source text; no NIK or name in it)."""
    doc = req.document_type.name
    number = req.tracking_number
    texts = {
        Milestone.RECEIVED: _(
            "Permohonan %(doc)s Anda dengan nomor %(no)s telah kami terima dan akan diproses."
        ),
        Milestone.INCOMPLETE: _(
            "Berkas permohonan %(no)s belum lengkap. Mohon lengkapi: %(detail)s. Unggah "
            "kekurangannya melalui halaman status permohonan."
        ),
        Milestone.RESUMED: _(
            "Kekurangan berkas permohonan %(no)s telah kami terima; permohonan diproses kembali."
        ),
        Milestone.SIGNED: _("Dokumen %(doc)s permohonan %(no)s telah ditandatangani (TTE)."),
        Milestone.READY: _(
            "Dokumen %(doc)s permohonan %(no)s sudah siap. Silakan unduh melalui halaman status "
            "atau ambil di kantor Dinas."
        ),
        Milestone.DONE: _("Dokumen %(doc)s permohonan %(no)s telah diserahkan. Terima kasih."),
    }
    return texts[milestone] % {"doc": doc, "no": number, "detail": detail}


def notify(
    req: DocumentRequest, milestone: str, *, detail: str = "", round_: int = 0, actor: Any = None
) -> None:
    """Queue the ``milestone`` notice for the applicant of ``req`` (web + WhatsApp).

    ``actor`` is the officer whose step triggered it (None: the citizen or the system).
    """
    # The citizen reads Indonesian, whatever language the officer's screen is in.
    with translation.override("id"):
        text = text_for(req, milestone, detail)
        whatsapp_text = text
        if milestone == Milestone.INCOMPLETE:
            whatsapp_text += "\n" + _(
                "Berkas juga dapat dikirim di sini: ketik *status*, lalu nomor permohonan Anda."
            )
    key = f"layanan:{req.pk}:{milestone}:{round_}"
    send(
        "web",
        req.tracking_number,
        text=text,
        idempotency_key=f"{key}:web",
        office=req.office,
        actor=actor or f"masyarakat:{req.pk}",
    )
    if req.whatsapp and whatsapp_enabled():
        try:
            send(
                "whatsapp",
                req.whatsapp,
                text=whatsapp_text,
                idempotency_key=f"{key}:wa",
                office=req.office,
                actor=actor,
            )
            if milestone == Milestone.READY:
                # The signed PDF itself, for requests made in the WhatsApp conversation.
                from sipadu.layanan.whatsapp import send_signed_document

                send_signed_document(req, f"{key}:wa-pdf", actor)
        except MessagingError:
            # A refused address must not undo the officer's step; the web notice stands.
            log.warning("whatsapp notice for request %s refused", req.pk)
