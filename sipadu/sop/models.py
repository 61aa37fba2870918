"""The SOP runtime in the database: definitions and their revisions, cases, tasks, events.

A :class:`SopRevision` stores the exact YAML text a case was started on, so a running case
keeps following its revision after the file changes. A :class:`Case` is one run of an SOP in
an office; a :class:`Task` is one activity of that run waiting for (or done by) an officer.
Writes happen only in :mod:`sipadu.sop.actions`; this module holds state and read helpers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from sipadu.core.models import AppendOnlyModel
from sipadu.sop.engine import SOP, load_text

#: Parsed SOPs of this process by revision content hash. A revision's text never changes, so
#: the parsed (immutable) SOP is reused by every request without going stale; the text
#: itself is only read from the database on a miss (queries may defer it).
_PARSED: dict[str, SOP] = {}
_PARSED_MAX = 256


def _parse(content_hash: str, text: str) -> SOP:
    sop = _PARSED.get(content_hash)
    if sop is None:
        sop = load_text(text, source=f"revision {content_hash[:12]}")
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[content_hash] = sop
    return sop


def parsed_sop(content_hash: str) -> SOP | None:
    """The SOP of a revision this process has already parsed, else None (no query)."""
    return _PARSED.get(content_hash)


class SopDefinition(models.Model):
    """An SOP known to the system by its stable ``code`` (the YAML file's code).

    ``current`` is the revision new cases start on; ``prefix`` starts every case reference
    number (``DJM-2026-000123``) and may be edited in the admin.
    """

    code = models.SlugField(_("kode"), max_length=80, unique=True)
    name = models.CharField(_("nama"), max_length=300)
    prefix = models.CharField(_("awalan nomor perkara"), max_length=8)
    current = models.ForeignKey(
        "SopRevision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revisi berlaku"),
    )
    active = models.BooleanField(_("aktif"), default=True)
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)

    class Meta:
        verbose_name = _("definisi SOP")
        verbose_name_plural = _("definisi SOP")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SopRevision(models.Model):
    """One loaded text of an SOP definition; never changed once written.

    ``number`` counts revisions of the definition (1, 2 …); ``version`` is the version the
    YAML declares; ``content_hash`` is the SHA-256 of the text.
    """

    definition = models.ForeignKey(
        SopDefinition, on_delete=models.PROTECT, related_name="revisions"
    )
    number = models.PositiveIntegerField(_("revisi ke"))
    version = models.CharField(_("versi"), max_length=40)
    content_hash = models.CharField(_("hash isi"), max_length=64)
    text = models.TextField(_("isi YAML"))
    source = models.CharField(_("berkas sumber"), max_length=300, blank=True)
    loaded_at = models.DateTimeField(_("dimuat"), auto_now_add=True)

    class Meta:
        verbose_name = _("revisi SOP")
        verbose_name_plural = _("revisi SOP")
        ordering = ["definition", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["definition", "number"], name="sop_revision_number"),
            models.UniqueConstraint(
                fields=["definition", "content_hash"], name="sop_revision_content"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.definition.code} r{self.number} (v{self.version})"

    @property
    def sop(self) -> SOP:
        """The parsed, immutable SOP of this revision (cached per process by content hash).

        The text is read only when this process has not parsed the revision yet, so hot
        queries may defer it (``defer("case__revision__text")``).
        """
        cached = _PARSED.get(self.content_hash)
        if cached is not None:
            return cached
        return _parse(self.content_hash, self.text)


class CaseState(models.TextChoices):
    """Where a case stands."""

    OPEN = "open", _("Berjalan")
    DONE = "done", _("Selesai")
    CANCELLED = "cancelled", _("Dibatalkan")


class Case(models.Model):
    """One run of an SOP in an office (a perkara / berkas), pinned to its SOP revision.

    ``subject_label`` is a free description without personal data (e.g. "Akta Kelahiran");
    ``subject`` optionally points at the domain object the case is about (a document request,
    a PKS …). ``due_at`` is the whole-case limit (SIJARLA: 3 days), None when there is none.
    """

    reference = models.CharField(_("nomor perkara"), max_length=32, unique=True)
    definition = models.ForeignKey(SopDefinition, on_delete=models.PROTECT, related_name="cases")
    revision = models.ForeignKey(SopRevision, on_delete=models.PROTECT, related_name="cases")
    office = models.ForeignKey("core.Office", on_delete=models.PROTECT, related_name="cases")
    state = models.CharField(
        _("status"), max_length=12, choices=CaseState.choices, default=CaseState.OPEN
    )
    subject_label = models.CharField(_("perihal"), max_length=200, blank=True)
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject_id = models.CharField(max_length=64, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(_("dimulai"))
    completed_at = models.DateTimeField(_("selesai"), null=True, blank=True)
    due_at = models.DateTimeField(_("batas waktu perkara"), null=True, blank=True)
    breached = models.BooleanField(_("melewati batas waktu"), default=False)
    cancel_reason = models.CharField(_("alasan pembatalan"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("perkara")
        verbose_name_plural = _("perkara")
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["office", "state", "started_at"], name="case_office_state"),
            models.Index(fields=["subject_type", "subject_id"], name="case_subject"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def sop(self) -> SOP:
        """The SOP this case follows (its pinned revision, not the current file).

        The actions' task load attaches the parsed SOP (``_sop``) by the revision's content
        hash without building the revision; otherwise the revision is read.
        """
        parsed = self.__dict__.get("_sop")
        if parsed is not None:
            return parsed
        return self.revision.sop

    def live_tasks(self) -> models.QuerySet[Task]:
        """Tasks waiting for someone (open or claimed)."""
        return self.tasks.filter(state__in=LIVE_STATES)


class ReferenceCounter(models.Model):
    """The last sequence number used for a reference prefix in a year (row-locked)."""

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="reference_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class TaskState(models.TextChoices):
    """The life of a task: open → claimed → done (or returned / cancelled)."""

    OPEN = "open", _("Menunggu")
    CLAIMED = "claimed", _("Dikerjakan")
    DONE = "done", _("Selesai")
    RETURNED = "returned", _("Dikembalikan")
    CANCELLED = "cancelled", _("Dibatalkan")


#: Task states in which someone still has to act.
LIVE_STATES: tuple[str, ...] = ("open", "claimed")

#: The inbox sort key of a task without a due time: after every real due time.
NO_DUE_TIME = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


class Outcome(models.TextChoices):
    """The answer of a decision activity."""

    YES = "yes", _("Ya")
    NO = "no", _("Tidak")


class Task(models.Model):
    """One activity of a case for an executor role, with its standard time as a due time.

    ``role_code`` is the executor's role; ``queue_role`` is the role whose holders see and may
    take the task — the same role for office roles, and for an external party (Masyarakat,
    Walikota …) the office role that receives their work (see docs/runtime.md).
    ``standard_seconds`` is the office time the SOP allows (None when it sets none);
    ``work_seconds`` the office time actually taken, measured at completion.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    # Denormalised from the case so the inbox query is one indexed table scan.
    office = models.ForeignKey("core.Office", on_delete=models.PROTECT, related_name="+")
    activity_id = models.CharField(_("kegiatan"), max_length=80)
    role_code = models.CharField(_("peran pelaksana"), max_length=60)
    queue_role = models.CharField(_("peran penerima"), max_length=60)
    external = models.BooleanField(_("pihak luar"), default=False)
    state = models.CharField(
        _("status"), max_length=12, choices=TaskState.choices, default=TaskState.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sop_tasks",
        verbose_name=_("petugas"),
        db_index=False,  # covered by the task_assignee index
    )
    previous = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # never searched by; one index fewer to write per completion
    )
    started_at = models.DateTimeField(_("tersedia sejak"))
    claimed_at = models.DateTimeField(_("diambil"), null=True, blank=True)
    completed_at = models.DateTimeField(_("selesai"), null=True, blank=True)
    due_at = models.DateTimeField(_("batas waktu"), null=True, blank=True)
    # The inbox order of a waiting task: its due time, tasks without one last. NULL once the
    # task is finished, so the partial index "task_inbox" holds waiting tasks only. The
    # database computes it (also through queryset updates of due_at or state); a query that
    # wants the index filters on ``due_sort__isnull=False`` (a literal term, unlike
    # ``state__in`` whose bound parameters keep SQLite from matching a partial index).
    due_sort = models.GeneratedField(
        expression=models.Case(
            models.When(
                Q(state__in=["open", "claimed"]), then=Coalesce("due_at", Value(NO_DUE_TIME))
            ),
            default=None,
        ),
        output_field=models.DateTimeField(null=True),
        db_persist=True,
    )
    standard_seconds = models.PositiveIntegerField(null=True, blank=True)
    work_seconds = models.PositiveIntegerField(null=True, blank=True)
    within_standard = models.BooleanField(null=True, blank=True)
    breached = models.BooleanField(_("terlambat"), default=False)
    outcome = models.CharField(_("keputusan"), max_length=3, choices=Outcome.choices, blank=True)
    output = models.TextField(_("keluaran"), blank=True)
    notes = models.TextField(_("catatan"), blank=True)
    return_reason = models.TextField(_("alasan dikembalikan"), blank=True)
    on_behalf_of = models.CharField(_("atas nama"), max_length=60, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # never searched by; one index fewer per completion
    )
    # Suspension (the SLA clock paused while the task waits for someone outside the office,
    # e.g. the citizen's missing files): ``due_at`` is NULL while suspended, so the breach
    # job, the inbox order (``due_sort``) and the time left all see "no due time" without a
    # special case; the due time held back is ``suspended_due_at``. On resume the due time
    # moves forward by the office time spent suspended, which adds up in ``paused_seconds``
    # and is left out of ``work_seconds``.
    suspended_at = models.DateTimeField(_("ditangguhkan sejak"), null=True, blank=True)
    suspended_due_at = models.DateTimeField(_("batas waktu tertahan"), null=True, blank=True)
    # Database defaults too, so plain-SQL inserts that predate suspension keep working.
    suspend_reason = models.CharField(
        _("alasan penangguhan"), max_length=300, blank=True, default="", db_default=""
    )
    paused_seconds = models.PositiveIntegerField(
        _("lama ditangguhkan (detik kerja)"), default=0, db_default=0
    )

    class Meta:
        verbose_name = _("tugas")
        verbose_name_plural = _("tugas")
        ordering = ["started_at", "id"]
        indexes = [
            # The Kotak Tugas: waiting tasks of an office in inbox order. Partial (waiting
            # tasks only) so finished history never lengthens it; the trailing columns make
            # the role/assignee filter index-only while the first page is read in order.
            models.Index(
                fields=[
                    "office",
                    "due_sort",
                    "started_at",
                    "id",
                    "state",
                    "queue_role",
                    "assignee",
                ],
                condition=Q(due_sort__isnull=False),
                name="task_inbox",
            ),
            # An officer's tasks (held, done): unclaimed tasks stay out of it, so creating a
            # task writes one index page fewer.
            models.Index(
                fields=["assignee", "state", "due_at"],
                condition=Q(assignee__isnull=False),
                name="task_assignee",
            ),
            # The breach job: waiting tasks not yet flagged, by due time. Partial like the
            # inbox, so a finished or flagged task leaves it; the job filters on
            # ``due_sort__isnull=False`` and ``breached=False`` to match it. Look-ups by
            # activity go through the inbox index (live tasks of an office) instead of an
            # index of their own: every index on this table is written by each completion.
            models.Index(
                fields=["due_at"],
                condition=Q(due_sort__isnull=False, breached=False),
                name="task_due",
            ),
        ]
        constraints = [
            # Every seed SOP is a single path: a case has at most one task waiting.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(state__in=["open", "claimed"]),
                name="task_one_live_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.activity_id} ({self.state})"

    @property
    def is_live(self) -> bool:
        """True while someone still has to act on the task."""
        return self.state in LIVE_STATES


class EventKind(models.TextChoices):
    """What happened to a case."""

    STARTED = "started", _("Perkara dimulai")
    CLAIMED = "claimed", _("Tugas diambil")
    RELEASED = "released", _("Tugas dilepas")
    COMPLETED = "completed", _("Kegiatan selesai")
    DECIDED = "decided", _("Keputusan diambil")
    RETURNED = "returned", _("Berkas dikembalikan")
    REASSIGNED = "reassigned", _("Tugas dialihkan")
    CANCELLED = "cancelled", _("Perkara dibatalkan")
    ATTACHED = "attached", _("Berkas dilampirkan")
    BREACHED = "breached", _("Melewati waktu baku")
    CASE_BREACHED = "case_breached", _("Perkara melewati batas waktu")
    SCHEDULED = "scheduled", _("Kegiatan berulang dijadwalkan")
    FINISHED = "finished", _("Perkara selesai")
    SUSPENDED = "suspended", _("Tugas ditangguhkan")
    RESUMED = "resumed", _("Tugas dilanjutkan")


class CaseEvent(AppendOnlyModel):
    """One line of a case's timeline (who did what when); never changed or deleted.

    ``data`` holds codes and ids only — no NIK, names or phone numbers.
    """

    # The (case, at) index serves every look-up by case.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", db_index=False)
    task = models.ForeignKey(
        Task, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    kind = models.CharField(_("jenis"), max_length=16, choices=EventKind.choices)
    at = models.DateTimeField(_("waktu"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # the timeline is read by case, never by actor
    )
    activity_id = models.CharField(max_length=80, blank=True)
    on_behalf_of = models.CharField(max_length=60, blank=True)
    text = models.TextField(_("keterangan"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("riwayat perkara")
        verbose_name_plural = _("riwayat perkara")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_case")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} @ {self.at:%Y-%m-%d %H:%M}"


def attachment_path(instance: Attachment, filename: str) -> str:
    """Store uploads by case and content hash, never under the uploaded (personal) name."""
    return f"sop/{instance.case_id}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    """A file attached to a case (optionally to the task it was uploaded with).

    Attachments stay when a task is returned: the history of what was submitted is kept.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    task = models.ForeignKey(
        Task, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(_("berkas"), upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("nama berkas"), max_length=255)
    size = models.PositiveBigIntegerField(_("ukuran"))
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(_("jenis"), max_length=120, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("diunggah"))

    class Meta:
        verbose_name = _("lampiran")
        verbose_name_plural = _("lampiran")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class HolidayKind(models.TextChoices):
    """Why offices are closed on a day."""

    LIBUR_NASIONAL = "libur_nasional", _("Libur nasional")
    CUTI_BERSAMA = "cuti_bersama", _("Cuti bersama")
    LIBUR_DAERAH = "libur_daerah", _("Libur daerah")


class Holiday(models.Model):
    """A day on which offices do not work: national (``office`` empty) or one office's own.

    Seeded from the shipped list (:func:`sipadu.sop.engine.holidays.load_holidays`) and
    editable in the admin; due times count around these days.
    """

    date = models.DateField(_("tanggal"))
    name = models.CharField(_("nama"), max_length=200)
    kind = models.CharField(_("jenis"), max_length=20, choices=HolidayKind.choices)
    office = models.ForeignKey(
        "core.Office",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="holidays",
        help_text=_("Kosongkan untuk libur yang berlaku di semua kantor."),
    )
    provisional = models.BooleanField(_("perkiraan"), default=False)
    # With the row count, the latest change is the version stamp of the holiday list that
    # per-process calendar caches are keyed by (sipadu.sop.sla.calendar_for).
    changed_at = models.DateTimeField(_("diubah"), auto_now=True)

    class Meta:
        verbose_name = _("hari libur")
        verbose_name_plural = _("hari libur")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["date"], condition=Q(office__isnull=True), name="holiday_national_unique"
            ),
            models.UniqueConstraint(fields=["date", "office"], name="holiday_office_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class Notification(models.Model):
    """A short message for one user (overdue work, a returned file …), shown by the UI."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sop_notifications"
    )
    text = models.CharField(_("pesan"), max_length=300)
    link = models.CharField(_("tautan"), max_length=300, blank=True)
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    read = models.BooleanField(_("dibaca"), default=False)
    created_at = models.DateTimeField(_("dibuat"))

    class Meta:
        verbose_name = _("notifikasi")
        verbose_name_plural = _("notifikasi")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read", "created_at"], name="notification_user")]

    def __str__(self) -> str:
        return self.text


def subject_of(obj: models.Model | None) -> dict[str, Any]:
    """The subject fields of a case pointing at ``obj`` (empty when there is none)."""
    if obj is None:
        return {}
    return {"subject_type": ContentType.objects.get_for_model(obj), "subject_id": str(obj.pk)}


def local_year(moment: dt.datetime, office: Any) -> int:
    """The calendar year of ``moment`` in the office's time zone (reference numbers use it)."""
    return moment.astimezone(office.tzinfo).year
