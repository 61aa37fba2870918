"""Compliance monitoring (the SOP evaluation PermenPAN-RB 35/2012 asks for).

Per SOP and activity: how many were done, median and 90th percentile of the office time
they took against the standard, the share done within the standard, and the open backlog.
Per officer: workload (tasks held), overdue tasks and work done. Rows are plain dataclasses;
:func:`to_csv` and :func:`to_xlsx` export any of them with Indonesian column headers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sipadu.core.models import Office, User
from sipadu.sop.models import LIVE_STATES, SopDefinition, Task, TaskState
from sipadu.sop.sla import calendar_for


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class ActivityStat:
    """Compliance of one activity of one SOP over the chosen period and offices.

    Times are office (working) seconds; ``within_share`` is 0..1, None when nothing done had
    a due time.
    """

    sop_code: str
    sop_name: str
    number: str
    activity_id: str
    activity: str
    role_code: str
    standard: str
    standard_seconds: int | None
    done: int
    median_seconds: float | None
    p90_seconds: float | None
    within_share: float | None
    open_backlog: int
    overdue_open: int


def _tasks(office: Office | None, sop_code: str | None) -> QuerySet[Task]:
    tasks = Task.objects.all()
    if office is not None:
        tasks = tasks.filter(office=office)
    if sop_code:
        tasks = tasks.filter(case__definition__code=sop_code)
    return tasks


def activity_stats(
    *,
    office: Office | None = None,
    sop_code: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> list[ActivityStat]:
    """One row per activity of every (or one) SOP, in the SOP's printed order.

    ``since``/``until`` bound the completion time of the tasks counted as done; the backlog
    is always the tasks waiting now.
    """
    moment = now or timezone.now()
    done = _tasks(office, sop_code).filter(state=TaskState.DONE)
    if since is not None:
        done = done.filter(completed_at__gte=since)
    if until is not None:
        done = done.filter(completed_at__lt=until)
    times: dict[tuple[str, str], list[int]] = defaultdict(list)
    within: dict[tuple[str, str], list[bool]] = defaultdict(list)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for code, activity_id, seconds, ok in done.values_list(
        "case__definition__code", "activity_id", "work_seconds", "within_standard"
    ).iterator(chunk_size=5000):
        key = (code, activity_id)
        counts[key] += 1
        if seconds is not None:
            times[key].append(seconds)
        if ok is not None:
            within[key].append(ok)
    backlog = {
        (row["case__definition__code"], row["activity_id"]): (row["n"], row["late"])
        for row in _tasks(office, sop_code)
        .filter(due_sort__isnull=False, state__in=LIVE_STATES)  # the inbox index
        .values("case__definition__code", "activity_id")
        .annotate(n=Count("id"), late=Count("id", filter=Q(due_at__lt=moment)))
    }
    definitions = SopDefinition.objects.select_related("current").filter(current__isnull=False)
    if sop_code:
        definitions = definitions.filter(code=sop_code)
    rows: list[ActivityStat] = []
    for definition in definitions:
        sop = definition.current.sop
        for activity in sop.activities:
            key = (sop.code, activity.id)
            values = times.get(key, [])
            oks = within.get(key, [])
            duration = activity.recurrence.every if activity.recurrence else activity.duration
            open_n, late_n = backlog.get(key, (0, 0))
            rows.append(
                ActivityStat(
                    sop_code=sop.code,
                    sop_name=sop.identity.name,
                    number=activity.number,
                    activity_id=activity.id,
                    activity=activity.text,
                    role_code=sop.role_of(activity.id),
                    standard=activity.duration.text,
                    standard_seconds=_standard_seconds(activity.id, duration, definition, office),
                    done=counts.get(key, 0),
                    median_seconds=percentile(values, 50),
                    p90_seconds=percentile(values, 90),
                    within_share=(sum(oks) / len(oks)) if oks else None,
                    open_backlog=open_n,
                    overdue_open=late_n,
                )
            )
    return rows


def _standard_seconds(
    activity_id: str, duration: Any, definition: SopDefinition, office: Office | None
) -> int | None:
    # Days depend on the office day length: the office's calendar tells; across offices,
    # the time one task recorded (any one: no order, so the scan stops at the first).
    if duration.minutes is not None:
        return int(duration.minutes) * 60
    if office is not None:
        length = calendar_for(office).working_length(duration)
        return int(length.total_seconds()) if length is not None else None
    recorded = (
        Task.objects.filter(
            case__definition=definition, activity_id=activity_id, standard_seconds__isnull=False
        )
        .order_by()
        .values_list("standard_seconds", flat=True)[:1]
    )
    return next(iter(recorded), None)


@dataclass(frozen=True)
class OfficerLoad:
    """The work of one officer in an office: held now, overdue now, done in the period."""

    user_id: str
    username: str
    full_name: str
    held: int
    overdue: int
    done: int
    done_within_share: float | None


def officer_workload(
    office: Office, *, since: dt.datetime | None = None, now: dt.datetime | None = None
) -> list[OfficerLoad]:
    """Every officer of ``office`` with tasks held or done, busiest first."""
    moment = now or timezone.now()
    done_filter = Q(sop_tasks__state=TaskState.DONE, sop_tasks__office=office)
    if since is not None:
        done_filter &= Q(sop_tasks__completed_at__gte=since)
    held_filter = Q(sop_tasks__state=TaskState.CLAIMED, sop_tasks__office=office)
    users = (
        User.objects.filter(Q(sop_tasks__office=office))
        .annotate(
            held=Count("sop_tasks", filter=held_filter, distinct=True),
            overdue=Count(
                "sop_tasks", filter=held_filter & Q(sop_tasks__due_at__lt=moment), distinct=True
            ),
            done=Count("sop_tasks", filter=done_filter, distinct=True),
            done_ok=Count(
                "sop_tasks", filter=done_filter & Q(sop_tasks__within_standard=True), distinct=True
            ),
            done_measured=Count(
                "sop_tasks",
                filter=done_filter & Q(sop_tasks__within_standard__isnull=False),
                distinct=True,
            ),
        )
        .distinct()
    )
    rows = [
        OfficerLoad(
            user_id=str(u.pk),
            username=u.username,
            full_name=u.get_full_name(),
            held=u.held,
            overdue=u.overdue,
            done=u.done,
            done_within_share=(u.done_ok / u.done_measured) if u.done_measured else None,
        )
        for u in users
        if u.held or u.done
    ]
    return sorted(rows, key=lambda r: (-r.held, -r.overdue, r.username))


#: Export columns of :class:`ActivityStat`: (field, header).
ACTIVITY_COLUMNS: list[tuple[str, Any]] = [
    ("sop_code", _("Kode SOP")),
    ("sop_name", _("Nama SOP")),
    ("number", _("No.")),
    ("activity", _("Kegiatan")),
    ("role_code", _("Pelaksana")),
    ("standard", _("Waktu baku")),
    ("done", _("Jumlah selesai")),
    ("median_minutes", _("Median waktu (menit)")),
    ("p90_minutes", _("Persentil 90 waktu (menit)")),
    ("within_percent", _("Sesuai waktu baku (%)")),
    ("open_backlog", _("Tunggakan")),
    ("overdue_open", _("Tunggakan terlambat")),
]

#: Export columns of :class:`OfficerLoad`: (field, header).
OFFICER_COLUMNS: list[tuple[str, Any]] = [
    ("username", _("Nama pengguna")),
    ("full_name", _("Nama")),
    ("held", _("Tugas dipegang")),
    ("overdue", _("Tugas terlambat")),
    ("done", _("Tugas selesai")),
    ("within_percent", _("Sesuai waktu baku (%)")),
]


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _record(row: Any) -> dict[str, Any]:
    record = asdict(row)
    if "median_seconds" in record:
        record["median_minutes"] = _minutes(record["median_seconds"])
        record["p90_minutes"] = _minutes(record["p90_seconds"])
    share = record.get("within_share", record.get("done_within_share"))
    record["within_percent"] = None if share is None else round(share * 100, 1)
    return record


def to_csv(rows: Iterable[Any], columns: list[tuple[str, Any]]) -> str:
    """The rows as CSV text (header row first; empty cells for missing values)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(header) for _key, header in columns])
    for row in rows:
        record = _record(row)
        writer.writerow(["" if record.get(k) is None else record[k] for k, _h in columns])
    return out.getvalue()


def to_xlsx(
    rows: Iterable[Any], columns: list[tuple[str, Any]], *, title: str = "Monitoring"
) -> bytes:
    """The rows as an Excel workbook (one sheet, bold header, frozen first row)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([str(header) for _key, header in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in rows:
        record = _record(row)
        sheet.append([record.get(k) for k, _h in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
