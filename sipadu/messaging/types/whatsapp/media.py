"""Received media: download through the Graph API, check sha256 and size, store the file.

The :class:`Attachment` row is written before the download, so whatever happens (timeout,
mismatch, oversize) the message and the attempt are on record and the citizen is told.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes

from django.core.files.base import ContentFile

from sipadu.messaging.error_codes import ErrorCode
from sipadu.messaging.models import Attachment, AttachmentState, InboundMessage
from sipadu.messaging.types.whatsapp.client import GraphClient, GraphError

log = logging.getLogger(__name__)

MEDIA_TYPES = frozenset({"image", "document"})
#: Download attempts inside one processing run (a timeout is often momentary).
DOWNLOAD_ATTEMPTS = 2

_ERROR_CODES = {
    "media_too_large": ErrorCode.MEDIA_TOO_LARGE,
    "media_mismatch": ErrorCode.MEDIA_MISMATCH,
}


def store_media(inbound: InboundMessage) -> Attachment | None:
    """Download and keep the media of ``inbound``; returns its attachment (stored or failed).

    Idempotent: a media already stored is not downloaded again.
    """
    media = inbound.payload.get(inbound.type)
    if not isinstance(media, dict) or not media.get("id"):
        return None
    attachment, _created = Attachment.objects.get_or_create(
        inbound=inbound,
        media_id=str(media["id"])[:128],
        defaults={
            "mime_type": str(media.get("mime_type") or "")[:100],
            "filename": str(media.get("filename") or "")[:255],
            "expected_sha256": str(media.get("sha256") or "")[:100],
        },
    )
    if attachment.state == AttachmentState.STORED:
        return attachment
    error: GraphError | None = None
    data = b""
    with GraphClient() as client:
        for _attempt in range(DOWNLOAD_ATTEMPTS):
            try:
                data, info = client.download_media(
                    attachment.media_id, expected_sha256=attachment.expected_sha256
                )
            except GraphError as exc:
                error = exc
                if not exc.retryable:
                    break
            else:
                error = None
                if info.mime_type and not attachment.mime_type:
                    attachment.mime_type = info.mime_type[:100]
                break
    if error is not None:
        attachment.state = AttachmentState.FAILED
        attachment.error_code = _ERROR_CODES.get(error.code, ErrorCode.MEDIA_UNAVAILABLE)
        attachment.save(update_fields=["state", "error_code", "mime_type"])
        log.warning("attachment %s not downloaded: %s", attachment.pk, error.code)
        return attachment
    suffix = mimetypes.guess_extension(attachment.mime_type.split(";")[0].strip()) or ".bin"
    attachment.file.save(f"media{suffix}", ContentFile(data), save=False)
    attachment.sha256 = hashlib.sha256(data).hexdigest()
    attachment.size = len(data)
    attachment.state = AttachmentState.STORED
    attachment.error_code = ""
    attachment.save()
    return attachment
