"""Standard times as SLAs across weekends and holidays in WITA, breaches and notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sipadu.audit.models import AuditEvent
from sipadu.sop import actions, sla
from sipadu.sop.models import EventKind, Holiday, HolidayKind, Notification, Task
from sipadu.sop.tests.runtime_support import live, loaded, step, world

__all__ = ["loaded", "world"]

WITA = ZoneInfo("Asia/Makassar")
WIB = ZoneInfo("Asia/Jakarta")


def at(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


@pytest.mark.django_db
def test_holidays_are_seeded_once_per_day() -> None:
    christmas = Holiday.objects.get(date=dt.date(2026, 12, 25), office__isnull=True)
    assert christmas.kind == HolidayKind.LIBUR_NASIONAL
    assert Holiday.objects.get(date=dt.date(2026, 12, 24)).kind == HolidayKind.CUTI_BERSAMA
    from sipadu.sop.definitions_sync import sync_holidays

    assert sync_holidays() == 0


@pytest.mark.django_db
def test_due_time_skips_cuti_bersama_christmas_and_the_weekend(world: dict[str, Any]) -> None:
    staff = world["balangan"]
    # Wednesday 23 December 2026, 15:58 WITA: two minutes of office time are left that day;
    # 24 Dec is cuti bersama, 25 Dec Christmas, then the weekend.
    with time_machine.travel(at(WITA, 2026, 12, 23, 15, 58), tick=False):
        case = actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", staff["office"])
    task = live(case)
    assert task.due_at == at(WITA, 2026, 12, 28, 8, 3)
    assert task.standard_seconds == 5 * 60
    with time_machine.travel(at(WITA, 2026, 12, 28, 8, 10), tick=False):
        actions.claim(staff["operator-layanan"], task)
        done = actions.complete(staff["operator-layanan"], task)
    # Only office time counts: 2 minutes on Wednesday and 10 on Monday.
    assert done.work_seconds == 12 * 60
    assert done.within_standard is False
    nxt = live(case)
    assert nxt.due_at == at(WITA, 2026, 12, 28, 8, 15)


@pytest.mark.django_db
def test_regional_holiday_and_office_hours_move_the_due_time(world: dict[str, Any]) -> None:
    staff = world["balangan"]
    office = staff["office"]
    Holiday.objects.create(
        date=dt.date(2026, 12, 28),
        name="Hari Jadi Kabupaten",
        kind=HolidayKind.LIBUR_DAERAH,
        office=office,
    )
    with time_machine.travel(at(WITA, 2026, 12, 23, 15, 58), tick=False):
        case = actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", office)
    assert live(case).due_at == at(WITA, 2026, 12, 29, 8, 3)
    # Another office is not closed by Balangan's own holiday.
    bima = world["bima"]
    with time_machine.travel(at(WITA, 2026, 12, 23, 15, 0), tick=False):
        other = actions.start_case(bima["kasi-inovasi"], "inovasi-pelayanan-bima", bima["office"])
    # 1 hari = 8 office hours: 1 h on Wednesday, 7 h on Monday 28th.
    assert live(other).due_at == at(WITA, 2026, 12, 28, 15, 0)
    office.hours_start, office.hours_end = dt.time(7, 30), dt.time(15, 30)
    office.save()
    with time_machine.travel(at(WITA, 2026, 12, 23, 15, 28), tick=False):
        later = actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", office)
    assert live(later).due_at == at(WITA, 2026, 12, 29, 7, 33)


@pytest.mark.django_db
def test_breaches_are_marked_once_and_notify_the_role_and_the_role_above(
    world: dict[str, Any],
) -> None:
    staff = world["balangan"]
    with time_machine.travel(at(WITA, 2026, 12, 23, 15, 58), tick=False):
        case = actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", staff["office"])
    task = live(case)
    with time_machine.travel(at(WITA, 2026, 12, 28, 8, 2), tick=False):
        assert actions.mark_breaches() == 0
        assert sla.urgency(task) == sla.Urgency.NEAR
    with time_machine.travel(at(WITA, 2026, 12, 28, 8, 4), tick=False):
        assert sla.urgency(task) == sla.Urgency.OVERDUE
        assert sla.format_left(sla.time_left(task)) == "-1 m"
        assert actions.mark_breaches() == 1
        assert actions.mark_breaches() == 0
    assert Task.objects.get(pk=task.pk).breached is True
    notified = set(Notification.objects.filter(case=case).values_list("user__username", flat=True))
    # Nobody holds the task yet: the holders of its role, and the Kasi above them.
    assert notified == {"balangan-operator-layanan", "balangan-kasi-pelayanan"}
    assert case.events.filter(kind=EventKind.BREACHED).count() == 1
    assert AuditEvent.objects.filter(action="sop.task.breach").count() == 1


@pytest.mark.django_db
def test_breach_of_a_claimed_task_tells_its_assignee_and_the_role_above(
    world: dict[str, Any],
) -> None:
    staff = world["balangan"]
    with time_machine.travel(at(WITA, 2026, 11, 23, 9, 0), tick=False):
        case = actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", staff["office"])
        step(staff, case)
        task = live(case)
        actions.claim(staff["operator-siak"], task)
    with time_machine.travel(at(WITA, 2026, 11, 23, 9, 6), tick=False):
        assert actions.mark_breaches() == 1
    notified = set(Notification.objects.filter(case=case).values_list("user__username", flat=True))
    assert notified == {"balangan-operator-siak", "balangan-kasi-pelayanan"}


@pytest.mark.django_db
def test_sijarla_whole_case_limit_of_three_days(world: dict[str, Any]) -> None:
    staff = world["solok"]
    # Friday 27 November 2026, 10:00 WIB + 3 working days = Wednesday 2 December 10:00.
    with time_machine.travel(at(WIB, 2026, 11, 27, 10, 0), tick=False):
        case = actions.start_case(staff["kabid-pelayanan"], "sijarla-solok", staff["office"])
    assert case.due_at == at(WIB, 2026, 12, 2, 10, 0)
    with time_machine.travel(at(WIB, 2026, 12, 2, 9, 59), tick=False):
        assert actions.mark_breaches() == 0
    with time_machine.travel(at(WIB, 2026, 12, 2, 10, 1), tick=False):
        assert actions.mark_breaches() == 1
        assert actions.mark_breaches() == 0
    case.refresh_from_db()
    assert case.breached is True
    assert case.events.filter(kind=EventKind.CASE_BREACHED).count() == 1
    notified = set(Notification.objects.filter(case=case).values_list("user__username", flat=True))
    assert notified == {"solok-kabid-pelayanan", "solok-kepala-dinas"}


def test_format_left_units() -> None:
    assert sla.format_left(None) == ""
    assert sla.format_left(dt.timedelta(minutes=5)) == "5 m"
    assert sla.format_left(dt.timedelta(hours=2, minutes=5)) == "2 j 5 m"
    assert sla.format_left(dt.timedelta(days=3, hours=2)) == "3 h 2 j"
    assert sla.format_left(-dt.timedelta(minutes=15)) == "-15 m"


@pytest.mark.django_db
def test_periodic_job_marks_breaches(world: dict[str, Any]) -> None:
    from sipadu.sop.tasks import check_breaches

    staff = world["balangan"]
    with time_machine.travel(at(WITA, 2026, 11, 23, 9, 0), tick=False):
        case = actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", staff["office"])
    with time_machine.travel(at(WITA, 2026, 11, 23, 9, 30), tick=False):
        check_breaches.call_local()
    assert live(case).breached is True
