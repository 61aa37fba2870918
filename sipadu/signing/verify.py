"""Checking presented PDFs: is the signature intact, who signed, is the signer trusted?

``inspect_upload`` is the gate for every PDF a person hands to SIPADU (not a PDF, encrypted,
or carrying JavaScript → refused with a reason). ``verify_pdf`` adds the signature check
and says, in plain Indonesian, what an officer needs to know.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from django.utils import timezone
from django.utils.translation import gettext as _
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import (
    EmbeddedPdfSignature,
    SignatureCoverageLevel,
    validate_pdf_signature,
)
from pyhanko_certvalidator import ValidationContext

from sipadu.signing import config
from sipadu.signing.pades import run_sync

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# Names whose presence means the PDF can run a script when opened.
SCRIPT_KEYS = frozenset({"/JS", "/JavaScript"})
# A PDF with more objects than this is not one of ours; stop walking instead of hanging.
MAX_OBJECTS_WALKED = 200_000
TRUST_SUFFIXES = (".pem", ".crt", ".cer", ".der")

IssuedLookup = Callable[[str], str | None]


class UploadProblem(StrEnum):
    """Why an uploaded file is refused (``OK`` when it is acceptable)."""

    OK = "ok"
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_PDF = "not_pdf"
    CORRUPT = "corrupt"
    ENCRYPTED = "encrypted"
    JAVASCRIPT = "javascript"


def _upload_message(problem: UploadProblem, max_bytes: int) -> str:
    """The sentence shown to the person who handed the file in."""
    if problem is UploadProblem.EMPTY:
        return _("Berkas kosong (0 byte). Unggah ulang berkas PDF-nya.")
    if problem is UploadProblem.TOO_LARGE:
        return _("Berkas terlalu besar; ukuran maksimum %(mb)s MB.") % {
            "mb": max_bytes // (1024 * 1024)
        }
    if problem is UploadProblem.NOT_PDF:
        return _("Berkas ini bukan PDF. Unggah dokumen dalam format PDF.")
    if problem is UploadProblem.CORRUPT:
        return _("Berkas PDF rusak atau tidak lengkap sehingga tidak dapat dibaca.")
    if problem is UploadProblem.ENCRYPTED:
        return _("PDF ini dikunci dengan kata sandi/enkripsi. Unggah PDF yang tidak dikunci.")
    if problem is UploadProblem.JAVASCRIPT:
        return _(
            "PDF ini berisi skrip (JavaScript) dan ditolak demi keamanan. Dokumen resmi "
            "tidak pernah berisi skrip."
        )
    return _("Berkas PDF dapat diterima.")


@dataclass(frozen=True)
class UploadCheck:
    """The verdict on an uploaded file; ``message`` is ready to show."""

    problem: UploadProblem
    message: str
    sha256: str = ""

    @property
    def ok(self) -> bool:
        """True when the file may be accepted."""
        return self.problem is UploadProblem.OK


def _walk(reader: PdfFileReader) -> Iterator[generic.PdfObject]:
    """Every object reachable from the trailer, each indirect object once."""
    seen: set[tuple[int, int]] = set()
    stack: list[generic.PdfObject] = [reader.trailer_view]
    walked = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, generic.IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            obj = obj.get_object()
        walked += 1
        if walked > MAX_OBJECTS_WALKED:
            raise ValueError("too many objects")
        yield obj
        if isinstance(obj, dict):
            stack.extend(dict.values(obj))
        elif isinstance(obj, list):
            stack.extend(obj)


def contains_script(reader: PdfFileReader) -> bool:
    """True if any reachable dictionary has a /JS or /JavaScript entry or action type.

    The walk uses the parsed object graph, so names written with ``#`` escapes and objects
    packed in compressed object streams are seen as well.
    """
    for obj in _walk(reader):
        if isinstance(obj, dict):
            if SCRIPT_KEYS.intersection(dict.keys(obj)):
                return True
            if dict.get(obj, "/S") == "/JavaScript":
                return True
    return False


def _open(data: bytes) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(data), strict=False)


def inspect_upload(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> UploadCheck:
    """Refuse empty, oversized, non-PDF, corrupt, encrypted and script-bearing files."""
    digest = hashlib.sha256(data).hexdigest() if data else ""

    def verdict(problem: UploadProblem) -> UploadCheck:
        return UploadCheck(problem, _upload_message(problem, max_bytes), digest)

    if not data:
        return verdict(UploadProblem.EMPTY)
    if len(data) > max_bytes:
        return verdict(UploadProblem.TOO_LARGE)
    # The header may follow a little junk (PDF readers tolerate up to 1 KiB of it).
    if b"%PDF-" not in data[:1024]:
        return verdict(UploadProblem.NOT_PDF)
    try:
        reader = _open(data)
        if reader.encrypted:
            return verdict(UploadProblem.ENCRYPTED)
        scripted = contains_script(reader)
    except Exception as exc:  # any parser failure means "unreadable", never a 500
        log.info("unreadable PDF upload: %s", type(exc).__name__)
        return verdict(UploadProblem.CORRUPT)
    if scripted:
        return verdict(UploadProblem.JAVASCRIPT)
    return verdict(UploadProblem.OK)


class VerificationStatus(StrEnum):
    """Overall verdict on a presented PDF."""

    VALID = "valid"
    UNTRUSTED = "untrusted"
    ALTERED = "altered"
    INVALID = "invalid"
    UNSIGNED = "unsigned"
    UNSAFE = "unsafe"
    UNREADABLE = "unreadable"

    @property
    def exit_code(self) -> int:
        """Command exit status: 0 valid, 2 unreadable, 1 anything else."""
        if self is VerificationStatus.VALID:
            return 0
        return 2 if self is VerificationStatus.UNREADABLE else 1


@dataclass
class SignatureInfo:
    """What one embedded signature says, in facts an officer can read."""

    field_name: str
    signer_name: str = ""
    signer_organisation: str = ""
    signer_serial: str = ""
    signed_at: dt.datetime | None = None
    timestamp: dt.datetime | None = None
    intact: bool = False
    valid: bool = False
    covers_whole_document: bool = False
    trusted: bool = False
    error: str = ""


@dataclass
class VerificationResult:
    """The answer for one presented PDF."""

    status: VerificationStatus
    summary: str
    sha256: str = ""
    signatures: list[SignatureInfo] = field(default_factory=list)
    issued: str = ""

    @property
    def ok(self) -> bool:
        """True only for an intact, whole-document signature from a trusted signer."""
        return self.status is VerificationStatus.VALID

    @property
    def exit_code(self) -> int:
        """0 valid, 1 invalid/altered/untrusted/unsigned/unsafe, 2 unreadable."""
        return self.status.exit_code

    def lines(self) -> list[str]:
        """The report as lines of Indonesian text for the console or a page."""
        out = [self.summary]
        for sig in self.signatures:
            out.append(_("Tanda tangan “%(field)s”:") % {"field": sig.field_name})
            if sig.signer_name:
                out.append(_("  Penanda tangan : %(name)s") % {"name": sig.signer_name})
            if sig.signer_organisation:
                out.append(_("  Instansi       : %(org)s") % {"org": sig.signer_organisation})
            if sig.signed_at:
                out.append(_("  Waktu tanda tangan: %(t)s") % {"t": _fmt(sig.signed_at)})
            if sig.timestamp:
                out.append(_("  Cap waktu (TSA): %(t)s") % {"t": _fmt(sig.timestamp)})
            out.append(
                _("  Keutuhan       : %(s)s")
                % {
                    "s": _("utuh, mencakup seluruh dokumen")
                    if sig.intact and sig.covers_whole_document
                    else _("TIDAK utuh / dokumen berubah")
                }
            )
            out.append(
                _("  Sertifikat     : %(s)s")
                % {
                    "s": _("terpercaya (berantai ke akar yang dipasang)")
                    if sig.trusted
                    else _("TIDAK terpercaya")
                }
            )
            if sig.error:
                out.append(_("  Catatan        : %(e)s") % {"e": sig.error})
        if self.issued:
            out.append(_("Diterbitkan di sini: %(s)s") % {"s": self.issued})
        if self.sha256:
            out.append(f"SHA-256: {self.sha256}")
        return out


def _fmt(moment: dt.datetime) -> str:
    """A moment in the project's time zone, e.g. ``02-01-2026 09:15:00 WIB``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return timezone.localtime(moment).strftime("%d-%m-%Y %H:%M:%S %Z")


_issued_lookup: IssuedLookup | None = None


def set_issued_lookup(lookup: IssuedLookup | None) -> None:
    """Install the default "was this issued here?" hook (the document service does this).

    The hook takes the SHA-256 (hex) of the whole file and returns a sentence such as
    "Ya — Kutipan Akta Kelahiran No. …, diterbitkan 02-01-2026", or None if unknown.
    """
    global _issued_lookup
    _issued_lookup = lookup


def load_trust_roots(folder: Path | None = None) -> list[asn1_x509.Certificate]:
    """Root certificates installed in the trust folder (PEM or DER; bad files skipped)."""
    folder = folder or config.trust_dir()
    roots: list[asn1_x509.Certificate] = []
    if not folder.is_dir():
        return roots
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in TRUST_SUFFIXES or not path.is_file():
            continue
        try:
            roots.extend(load_certs_from_pemder_data(path.read_bytes()))
        except (ValueError, OSError):
            log.warning("skipping unreadable trust root %s", path.name)
    return roots


def _subject(cert: asn1_x509.Certificate) -> tuple[str, str, str]:
    """Common name, organisation and serial of a certificate subject."""
    native = cert.subject.native
    return (
        str(native.get("common_name", "")),
        str(native.get("organization_name", "")),
        format(cert.serial_number, "x"),
    )


def _check_signature(
    sig: EmbeddedPdfSignature, roots: list[asn1_x509.Certificate]
) -> SignatureInfo:
    """Validate one signature; failures become facts, never exceptions."""
    info = SignatureInfo(field_name=str(sig.field_name or "?"))
    try:
        info.signer_name, info.signer_organisation, info.signer_serial = _subject(sig.signer_cert)
    except Exception:  # a broken CMS blob is reported, not raised
        info.error = _("Data tanda tangan rusak.")
        return info
    context = ValidationContext(
        trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail"
    )
    try:
        status = run_sync(lambda: validate_pdf_signature(sig, context))
    except Exception as exc:  # pyHanko raises many types on tampered files
        log.info("signature validation failed: %s", type(exc).__name__)
        info.error = _("Tanda tangan tidak dapat diperiksa: berkas telah dimanipulasi.")
        return info
    info.intact = bool(status.intact)
    info.valid = bool(status.valid)
    info.trusted = bool(status.trusted)
    info.signed_at = status.signer_reported_dt
    if status.timestamp_validity is not None:
        info.timestamp = status.timestamp_validity.timestamp
    modification = status.modification_level
    info.covers_whole_document = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and modification is not None
        and modification <= ModificationLevel.LTA_UPDATES
    )
    return info


def verify_pdf(
    data: bytes,
    *,
    issued_lookup: IssuedLookup | None = None,
    trust_roots: list[asn1_x509.Certificate] | None = None,
) -> VerificationResult:
    """Verify a presented PDF: safe to open, signed, intact, trusted, issued here?"""
    check = inspect_upload(data)
    if check.problem is UploadProblem.JAVASCRIPT:
        return VerificationResult(VerificationStatus.UNSAFE, check.message, check.sha256)
    if not check.ok:
        return VerificationResult(VerificationStatus.UNREADABLE, check.message, check.sha256)
    lookup = issued_lookup or _issued_lookup
    issued = (lookup(check.sha256) if lookup else None) or _("tidak diketahui")
    try:
        embedded = _open(data).embedded_regular_signatures
    except Exception as exc:  # a malformed signature dictionary is "altered"
        log.info("cannot enumerate signatures: %s", type(exc).__name__)
        return VerificationResult(
            VerificationStatus.INVALID,
            _("Struktur tanda tangan pada PDF ini rusak; dokumen tidak dapat dipercaya."),
            check.sha256,
            issued=issued,
        )
    if not embedded:
        return VerificationResult(
            VerificationStatus.UNSIGNED,
            _("PDF ini tidak memiliki tanda tangan elektronik (TTE)."),
            check.sha256,
            issued=issued,
        )
    roots = load_trust_roots() if trust_roots is None else trust_roots
    infos = [_check_signature(sig, roots) for sig in embedded]
    result = VerificationResult(VerificationStatus.VALID, "", check.sha256, infos, issued)
    if not all(i.intact and i.covers_whole_document for i in infos):
        result.status = VerificationStatus.ALTERED
        result.summary = _(
            "TIDAK SAH: dokumen telah diubah setelah ditandatangani, atau tanda tangannya "
            "rusak. Jangan terima dokumen ini."
        )
    elif not all(i.valid for i in infos):
        result.status = VerificationStatus.INVALID
        result.summary = _("TIDAK SAH: tanda tangan elektronik tidak valid.")
    elif not all(i.trusted for i in infos):
        result.status = VerificationStatus.UNTRUSTED
        result.summary = _(
            "BELUM DAPAT DIPERCAYA: dokumen utuh, tetapi sertifikat penanda tangan tidak "
            "berasal dari otoritas yang dipasang di sini (CA demo atau akar BSrE)."
        )
    else:
        result.summary = _(
            "SAH: tanda tangan elektronik utuh, mencakup seluruh dokumen, dan sertifikat "
            "penanda tangan terpercaya."
        )
    return result
