"""The document service (Dik Jamila Me-WA): catalogue, citizens' requests, their files, the
draft document, and what was issued.

The catalogue (:class:`DocumentType`, :class:`Requirement`) is shipped as data
(:mod:`sipadu.layanan.catalogue`) and editable in the admin. A :class:`DocumentRequest` is one
citizen's application; it runs on the Dik Jamila SOP as a :class:`sipadu.sop.models.Case`
whose label is the tracking number (never a name or NIK). Writes happen only in
:mod:`sipadu.layanan.actions` and :mod:`sipadu.layanan.documents`.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

#: The SOP every request of this app runs on.
SOP_CODE = "dik-jamila-mewa"


class DocumentKind(models.TextChoices):
    """The nine documents of the Dik Jamila Me-WA SOP (its "Keterkaitan")."""

    KTP_EL = "ktp-el", _("KTP-el")
    KK = "kk", _("Kartu Keluarga")
    KIA = "kia", _("Kartu Identitas Anak")
    AKTA_KELAHIRAN = "akta-kelahiran", _("Akta Kelahiran")
    AKTA_KEMATIAN = "akta-kematian", _("Akta Kematian")
    AKTA_PERKAWINAN = "akta-perkawinan", _("Akta Perkawinan")
    AKTA_PERCERAIAN = "akta-perceraian", _("Akta Perceraian")
    PENGAKUAN_ANAK = "pengakuan-anak", _("Pengakuan Anak")
    PENGESAHAN_ANAK = "pengesahan-anak", _("Pengesahan Anak")


class OutputKind(models.TextChoices):
    """What issuing produces: a signed PDF (self-printed on A4), or a card print job."""

    PDF = "pdf", _("Dokumen PDF ber-TTE")
    PRINT_JOB = "print_job", _("Cetak kartu (blangko)")


class DocumentType(models.Model):
    """One document of the catalogue: what it is, the data it needs, what issuing produces.

    ``fields`` lists the applicant-data field codes of :mod:`sipadu.layanan.fields` the portal
    asks for, in order. ``registry_kind`` names the registry document kind
    (:data:`sipadu.registry.actions.DOCUMENT_FIELDS`) issuing marks, blank when the registry
    keeps no ownership flag for it.
    """

    code = models.SlugField(_("kode"), max_length=40, unique=True, choices=DocumentKind.choices)
    name = models.CharField(_("nama"), max_length=120)
    description = models.TextField(_("keterangan"), blank=True)
    output_kind = models.CharField(
        _("keluaran"), max_length=12, choices=OutputKind.choices, default=OutputKind.PDF
    )
    fields = models.JSONField(_("data pemohon"), default=list)
    registry_kind = models.CharField(_("jenis dokumen di registri"), max_length=40, blank=True)
    number_prefix = models.CharField(_("awalan nomor dokumen"), max_length=20, blank=True)
    legal_basis = models.CharField(_("dasar hukum"), max_length=300, blank=True)
    active = models.BooleanField(_("aktif"), default=True)
    order = models.PositiveSmallIntegerField(_("urutan"), default=0)

    class Meta:
        verbose_name = _("jenis dokumen")
        verbose_name_plural = _("jenis dokumen")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_card(self) -> bool:
        """True for KTP-el and KIA: printed on card blanks, no PDF."""
        return self.output_kind == OutputKind.PRINT_JOB


class Requirement(models.Model):
    """One item of a document's requirement checklist (Perpres 96/2018, Permendagri 108/2019).

    ``required`` items must be ticked by the Operator Layanan before the file is complete;
    ``upload`` says whether the citizen uploads a file for it on the portal (a scan or photo).
    """

    document_type = models.ForeignKey(
        DocumentType, on_delete=models.CASCADE, related_name="requirements"
    )
    code = models.SlugField(_("kode"), max_length=60)
    text = models.CharField(_("persyaratan"), max_length=300)
    help_text = models.CharField(_("petunjuk"), max_length=300, blank=True)
    required = models.BooleanField(_("wajib"), default=True)
    upload = models.BooleanField(_("diunggah"), default=True)
    order = models.PositiveSmallIntegerField(_("urutan"), default=0)

    class Meta:
        verbose_name = _("persyaratan")
        verbose_name_plural = _("persyaratan")
        ordering = ["document_type", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["document_type", "code"], name="requirement_code")
        ]

    def __str__(self) -> str:
        return self.text


class RequestStatus(models.TextChoices):
    """Where a request stands, as the citizen sees it."""

    SUBMITTED = "submitted", _("Diterima")
    WAITING_CITIZEN = "waiting_citizen", _("Menunggu kelengkapan berkas")
    IN_PROCESS = "in_process", _("Diproses")
    SIGNED = "signed", _("Ditandatangani")
    READY = "ready", _("Siap diambil/diunduh")
    DONE = "done", _("Selesai")
    CANCELLED = "cancelled", _("Dibatalkan")


class Channel(models.TextChoices):
    """Where the citizen applied (the Dik Jamila Me-WA innovation counts its WhatsApp share)."""

    WEB = "web", _("Portal web")
    WHATSAPP = "whatsapp", _("WhatsApp")


class HandoverMode(models.TextChoices):
    """How the document reached the applicant (SOP step 8)."""

    SOFTCOPY = "softcopy", _("Softcopy (diunduh pemohon)")
    HARDCOPY = "hardcopy", _("Hardcopy (diserahkan langsung)")


def new_tracking_number() -> str:
    """A tracking number like ``DJM-7K3Q-9MZ2``: random (not guessable from a neighbour's),
    in an alphabet without look-alike characters, easy to read over the phone."""
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    body = "".join(secrets.choice(alphabet) for _i in range(8))
    return f"DJM-{body[:4]}-{body[4:]}"


class DocumentRequest(models.Model):
    """One citizen's application for a document, running on the Dik Jamila SOP.

    ``data`` holds what the applicant claims (field code → text), ``draft`` the document data
    drafted by the Operator SIAK (pre-filled from the registry). ``checklist`` maps requirement
    codes to the Operator Layanan's ticks; ``missing`` lists what the citizen was asked for.
    The PIN is stored hashed only. Personal data: never logged, never in a URL.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tracking_number = models.CharField(_("nomor permohonan"), max_length=20, unique=True)
    pin_hash = models.CharField(max_length=200)
    pin_expires_at = models.DateTimeField(_("PIN berlaku sampai"))
    office = models.ForeignKey(
        "core.Office", on_delete=models.PROTECT, related_name="document_requests"
    )
    document_type = models.ForeignKey(
        DocumentType, on_delete=models.PROTECT, related_name="requests"
    )
    case = models.OneToOneField(
        "sop.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="document_request",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.SUBMITTED
    )
    data = models.JSONField(_("data pemohon"), default=dict)
    whatsapp = models.CharField(_("nomor WhatsApp"), max_length=20, blank=True)
    channel = models.CharField(
        _("kanal pengajuan"), max_length=10, choices=Channel.choices, default=Channel.WEB
    )
    checklist = models.JSONField(_("ceklis persyaratan"), default=dict, blank=True)
    missing = models.JSONField(_("kekurangan berkas"), default=list, blank=True)
    missing_note = models.TextField(_("catatan kekurangan"), blank=True)
    missing_round = models.PositiveSmallIntegerField(default=0)
    penduduk = models.ForeignKey(
        "registry.Penduduk",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    match_summary = models.JSONField(_("hasil pencocokan SIAK"), default=dict, blank=True)
    draft = models.JSONField(_("draf dokumen"), default=dict, blank=True)
    handover_mode = models.CharField(
        _("cara penyerahan"), max_length=10, choices=HandoverMode.choices, blank=True
    )
    receiver_name = models.CharField(_("nama penerima"), max_length=150, blank=True)
    receiver_id_number = models.CharField(_("nomor identitas penerima"), max_length=40, blank=True)
    handed_over_at = models.DateTimeField(_("diserahkan"), null=True, blank=True)
    created_at = models.DateTimeField(_("diajukan"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diubah"), auto_now=True)

    class Meta:
        verbose_name = _("permohonan dokumen")
        verbose_name_plural = _("permohonan dokumen")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["office", "status"], name="docreq_office_status")]

    def __str__(self) -> str:
        return self.tracking_number

    def requirement_files(self) -> dict[int | None, list[RequestFile]]:
        """The uploaded files grouped by requirement id (None: not tied to one), oldest first."""
        grouped: dict[int | None, list[RequestFile]] = {}
        for f in self.files.all():
            grouped.setdefault(f.requirement_id, []).append(f)
        return grouped


class FileSource(models.TextChoices):
    """Who uploaded a file."""

    CITIZEN = "citizen", _("Pemohon")
    OFFICER = "officer", _("Petugas")


def request_file_path(instance: RequestFile, filename: str) -> str:
    """Store by request id and content hash, never under the uploaded (personal) name."""
    ext = "pdf" if instance.content_type == "application/pdf" else "jpg"
    return f"layanan/{instance.request_id}/{instance.sha256[:2]}/{instance.sha256}.{ext}"


class RequestFile(models.Model):
    """A file the applicant (or an officer) sent for a request; every upload is kept.

    Images are stored re-encoded (orientation applied, metadata stripped, downscaled); PDFs
    as sent after the safety check. ``round`` is 0 for the application, then the number of the
    "files missing" round an upload answered.
    """

    request = models.ForeignKey(DocumentRequest, on_delete=models.PROTECT, related_name="files")
    requirement = models.ForeignKey(
        Requirement, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file = models.FileField(_("berkas"), upload_to=request_file_path, max_length=300)
    original_name = models.CharField(_("nama berkas"), max_length=255)
    content_type = models.CharField(_("jenis"), max_length=60)
    size = models.PositiveIntegerField(_("ukuran"))
    sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=10, choices=FileSource.choices, default=FileSource.CITIZEN)
    round = models.PositiveSmallIntegerField(default=0)
    uploaded_at = models.DateTimeField(_("diunggah"), auto_now_add=True)

    class Meta:
        verbose_name = _("berkas permohonan")
        verbose_name_plural = _("berkas permohonan")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class DraftEdit(models.Model):
    """One change an officer made to the draft document (before → after), kept for review."""

    request = models.ForeignKey(
        DocumentRequest, on_delete=models.CASCADE, related_name="draft_edits"
    )
    field = models.CharField(_("isian"), max_length=60)
    before = models.TextField(_("sebelum"), blank=True)
    after = models.TextField(_("sesudah"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    activity_id = models.CharField(max_length=80, blank=True)
    at = models.DateTimeField(_("waktu"), auto_now_add=True)

    class Meta:
        verbose_name = _("perubahan draf")
        verbose_name_plural = _("perubahan draf")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id}:{self.field}"


class IssuedStatus(models.TextChoices):
    """The standing of an issued document, shown on the public verification page."""

    VALID = "valid", _("Berlaku")
    REVOKED = "revoked", _("Dicabut")
    REPLACED = "replaced", _("Diganti")


def new_verification_token() -> str:
    """The random token of a document's public verification URL (``/v/<token>``)."""
    return secrets.token_urlsafe(18)


def issued_file_path(instance: IssuedDocument, filename: str) -> str:
    """Signed PDFs live under the office and the token, never under a person's name."""
    return f"dokumen/{instance.office_id}/{instance.token}.pdf"


class IssuedDocument(models.Model):
    """A document issued for a request: its number, date, office and — for PDFs — the signed
    file and its SHA-256, with the token of its public verification page.

    For cards (KTP-el, KIA) there is no file: ``print_state`` follows the card print job.
    Revoking or replacing (:mod:`sipadu.layanan.revocation`) sets ``status``,
    ``status_changed_at`` and ``status_reason`` (and ``replaced_by``).
    """

    request = models.ForeignKey(
        DocumentRequest, on_delete=models.PROTECT, related_name="issued_documents"
    )
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, related_name="+")
    office = models.ForeignKey("core.Office", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("nomor dokumen"), max_length=60, unique=True)
    issue_date = models.DateField(_("tanggal terbit"))
    token = models.CharField(max_length=40, unique=True, default=new_verification_token)
    file = models.FileField(_("berkas"), upload_to=issued_file_path, max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=IssuedStatus.choices, default=IssuedStatus.VALID
    )
    replaced_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status_changed_at = models.DateTimeField(_("status berubah"), null=True, blank=True)
    status_reason = models.CharField(_("alasan pencabutan/penggantian"), max_length=300, blank=True)
    print_state = models.CharField(_("status cetak"), max_length=10, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    released_at = models.DateTimeField(_("dirilis ke pemohon"), null=True, blank=True)
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)

    class Meta:
        verbose_name = _("dokumen terbit")
        verbose_name_plural = _("dokumen terbit")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.number

    @property
    def verification_path(self) -> str:
        """The path of the public verification page the QR code points at."""
        return f"/v/{self.token}"


class DocumentCounter(models.Model):
    """The last sequence number of a document number prefix in a year (row-locked)."""

    prefix = models.CharField(max_length=40)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="document_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}/{self.year}: {self.last}"


def field_value(request: DocumentRequest, code: str) -> Any:
    """A claimed value of the request ("" when absent)."""
    return (request.data or {}).get(code, "")
