"""Checking and normalising the files citizens upload (photos and PDFs).

The type is decided by the file's first bytes, never by its name or the browser's claim.
Photos are re-encoded with Pillow: EXIF orientation applied, every metadata block dropped
(phone photos carry GPS positions), downscaled to a readable size, saved as JPEG. PDFs go
through :func:`sipadu.signing.verify.inspect_upload` (refuses non-PDF, corrupt, encrypted and
script-bearing files). Every refusal is an :class:`UploadRejected` with a message for the
citizen.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

#: Largest file accepted (bytes); settings.SIPADU_LAYANAN_MAX_UPLOAD_BYTES overrides it.
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
#: Longest side of a stored photo (pixels): enough to read a KK, small enough to send.
MAX_SIDE = 2000
#: Refuse images larger than this many pixels before decoding them (decompression bombs).
MAX_PIXELS = 50_000_000
#: Most files one submission may carry.
MAX_FILES = 20

_IMAGE_MAGIC = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
}


class UploadRejected(ValueError):
    """An uploaded file that cannot be accepted; ``message`` is for the citizen."""

    def __init__(self, message: str, name: str = "") -> None:
        self.message = message
        self.name = name
        super().__init__(message)


@dataclass(frozen=True)
class CleanFile:
    """An accepted file, ready to store: normalised bytes, their type, hash and the name the
    citizen gave (for display only)."""

    data: bytes
    content_type: str
    sha256: str
    original_name: str

    @property
    def size(self) -> int:
        """Stored size in bytes."""
        return len(self.data)


def max_upload_bytes() -> int:
    """The size limit in force."""
    return int(getattr(settings, "SIPADU_LAYANAN_MAX_UPLOAD_BYTES", MAX_UPLOAD_BYTES))


def _display_name(upload: Any) -> str:
    name = str(getattr(upload, "name", "") or "berkas").replace("\\", "/").rsplit("/", 1)[-1]
    return name[:255] or "berkas"


def _read(upload: Any, limit: int) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise UploadRejected(_too_large(limit))
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise UploadRejected(_too_large(limit))
    return bytes(data)


def _too_large(limit: int) -> str:
    return _("Berkas terlalu besar (maksimal %(mb)d MB).") % {"mb": limit // (1024 * 1024)}


def _normalise_image(data: bytes) -> bytes:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise UploadRejected(_("Gambar terlalu besar ukurannya (jumlah piksel)."))
            probe.verify()  # structure check; the object is unusable afterwards
            image: Image.Image = Image.open(io.BytesIO(data))
            image.load()
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected(_("Gambar terlalu besar ukurannya (jumlah piksel).")) from None
    except Exception:  # any decoder failure means "unreadable", never a 500
        raise UploadRejected(
            _("Gambar rusak atau tidak dapat dibaca. Silakan foto ulang dokumen Anda.")
        ) from None
    image = ImageOps.exif_transpose(image) or image
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # A fresh save without exif/icc arguments writes no metadata at all.
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def clean_upload(upload: Any) -> CleanFile:
    """Check one uploaded file and return its normalised form, or raise UploadRejected."""
    name = _display_name(upload)
    limit = max_upload_bytes()
    try:
        data = _read(upload, limit)
    except UploadRejected as rejected:
        rejected.name = name
        raise
    if not data:
        raise UploadRejected(_("Berkas kosong."), name)
    if data.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        from sipadu.signing.verify import inspect_upload

        check = inspect_upload(data, max_bytes=limit)
        if not check.ok:
            raise UploadRejected(str(check.message), name)
        return CleanFile(data, "application/pdf", hashlib.sha256(data).hexdigest(), name)
    if any(data.startswith(magic) for magic in _IMAGE_MAGIC):
        try:
            normalised = _normalise_image(data)
        except UploadRejected as rejected:
            rejected.name = name
            raise
        return CleanFile(normalised, "image/jpeg", hashlib.sha256(normalised).hexdigest(), name)
    raise UploadRejected(
        _("Jenis berkas tidak diterima. Unggah foto (JPG atau PNG) atau berkas PDF."), name
    )
