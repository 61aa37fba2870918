"""Standard times as SLAs: an office's working calendar, due times and time left.

Due times are computed by the pure engine clock (:class:`WorkingCalendar`) from the office's
time zone, hours and working days and the :class:`~sipadu.sop.models.Holiday` rows (national
ones plus the office's own). Everything is stored in UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from sipadu.core.models import Office
from sipadu.sop.engine import Activity, Duration, DurationKind
from sipadu.sop.engine.calendar import WorkingCalendar
from sipadu.sop.models import LIVE_STATES, Holiday, Task

#: How far back holidays are loaded: enough to measure the time of any task still open.
HOLIDAY_LOOKBACK = dt.timedelta(days=800)

#: A live task is "near" its due time when less than this share of its standard is left.
NEAR_SHARE = 0.25


#: A version stamp of the holiday list: (number of rows, latest change as the database
#: returns it). Only compared for equality, never interpreted.
HolidaysVersion = tuple[Any, Any]


def holidays_version_sql() -> str:
    """Two SQL expressions (count, latest change) that read the holiday list's version.

    The actions add them to the task load they make anyway, so the version costs no extra
    statement; :func:`holidays_version` runs them on their own.
    """
    table = connection.ops.quote_name(Holiday._meta.db_table)
    column = connection.ops.quote_name(Holiday._meta.get_field("changed_at").column)
    # Names from the model's metadata, no input: not an injection vector.
    return f"(SELECT COUNT(*) FROM {table}), (SELECT MAX({column}) FROM {table})"  # noqa: S608


def holidays_version() -> HolidaysVersion:
    """The current version of the holiday list (one small statement)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {holidays_version_sql()}")
        count, latest = cursor.fetchone()
    return (count, latest)


def calendar_for(
    office: Office,
    *,
    today: dt.date | None = None,
    version: HolidaysVersion | None = None,
) -> WorkingCalendar:
    """The working calendar of ``office``: its zone, hours, weekdays and holidays.

    Calendars are cached per process, keyed by the office's calendar fields, the day and the
    holiday list's ``version`` (read when not given): an edited office or holiday list gives
    a new key, so every process sees the change on its next call without shared state.
    """
    since = (today or timezone.now().date()) - HOLIDAY_LOOKBACK
    return _calendar(
        office.pk,
        office.timezone,
        office.hours_start,
        office.hours_end,
        office.working_days,
        since,
        version if version is not None else holidays_version(),
    )


@lru_cache(maxsize=128)
def _calendar(
    office_id: int,
    tz: str,
    opens: dt.time,
    closes: dt.time,
    working_days: str,
    since: dt.date,
    version: HolidaysVersion,
) -> WorkingCalendar:
    dates = Holiday.objects.filter(Q(office__isnull=True) | Q(office_id=office_id), date__gte=since)
    return WorkingCalendar(
        tz=tz,
        opens=opens,
        closes=closes,
        weekdays=frozenset(int(d) for d in working_days.split(",") if d.strip()),
        holidays=frozenset(dates.values_list("date", flat=True)),
    )


@receiver(post_save, sender=Holiday)
@receiver(post_delete, sender=Holiday)
def _forget_calendars(**kwargs: Any) -> None:
    # The version key already covers other processes; this also covers two edits with equal
    # stamps in this one (a frozen clock in tests, a rolled-back transaction).
    _calendar.cache_clear()


@dataclass(frozen=True)
class Standard:
    """The SLA of a task started now: its due time and the office time the SOP allows."""

    due_at: dt.datetime | None
    seconds: int | None


def standard_for(activity: Activity, calendar: WorkingCalendar, start: dt.datetime) -> Standard:
    """Due time and allowed office time of ``activity`` started at ``start``.

    A recurring activity ("6 bulan sekali") is due one period after it becomes available;
    "Tentatif" and "Jam kerja harian" have no due time.
    """
    duration: Duration = activity.duration
    if activity.recurrence is not None:
        duration = activity.recurrence.every
    due = calendar.add(start, duration)
    length = calendar.working_length(duration)
    return Standard(due, int(length.total_seconds()) if length is not None else None)


def case_due(
    limit: Duration | None, calendar: WorkingCalendar, start: dt.datetime
) -> dt.datetime | None:
    """The whole-case due time of an SOP limit (SIJARLA: 3 days), None without a limit."""
    if limit is None or limit.kind in (DurationKind.TENTATIVE, DurationKind.CONTINUOUS):
        return None
    return calendar.add(start, limit)


class Urgency(StrEnum):
    """How a live task stands against its due time (the inbox colours by it)."""

    NONE = "none"
    OK = "ok"
    NEAR = "near"
    OVERDUE = "overdue"
    #: Suspended: waiting for someone outside the office, the clock stopped.
    PAUSED = "paused"


def time_left(task: Task, now: dt.datetime | None = None) -> dt.timedelta | None:
    """Wall-clock time until the task is due (negative when overdue), None without due time."""
    if task.due_at is None:
        return None
    return task.due_at - (now or timezone.now())


def urgency(task: Task, now: dt.datetime | None = None) -> Urgency:
    """NONE without a due time, OVERDUE past it, NEAR in the last quarter of the standard.

    PAUSED while the task is suspended (it has no due time then).
    """
    if task.suspended_at is not None and task.state in LIVE_STATES:
        return Urgency.PAUSED
    left = time_left(task, now)
    if left is None:
        return Urgency.NONE
    if left <= dt.timedelta(0):
        return Urgency.OVERDUE
    span = (task.due_at - task.started_at) if task.due_at else dt.timedelta(0)
    if left <= span * NEAR_SHARE:
        return Urgency.NEAR
    return Urgency.OK


def format_left(left: dt.timedelta | None) -> str:
    """A compact text for time left ("2 j 5 m", "-15 m", "3 h 2 j"); "" without a due time.

    Units are Indonesian abbreviations: h(ari), j(am), m(enit).
    """
    if left is None:
        return ""
    sign = "-" if left < dt.timedelta(0) else ""
    total = int(abs(left).total_seconds()) // 60
    days_, rest = divmod(total, 24 * 60)
    hours_, minutes_ = divmod(rest, 60)
    if days_:
        return f"{sign}{days_} h {hours_} j"
    if hours_:
        return f"{sign}{hours_} j {minutes_} m"
    return f"{sign}{minutes_} m"


def annotate_urgency(tasks: list[Task], now: dt.datetime | None = None) -> list[Any]:
    """Attach ``time_left``, ``time_left_text`` and ``urgency`` to each task (for templates)."""
    moment = now or timezone.now()
    for task in tasks:
        left = time_left(task, moment)
        task.time_left = left
        task.time_left_text = format_left(left)
        task.urgency = urgency(task, moment)
    return tasks
