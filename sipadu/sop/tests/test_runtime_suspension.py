"""Suspending a waiting task: the SLA clock stops while it waits for someone outside the office.

Balangan works 08:00–16:00 WITA, Monday to Friday; 24 December 2026 is cuti bersama and
25 December Christmas. Step 1 of Dik Jamila Me-WA (kelengkapan) has a standard time of five
minutes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser

from sipadu.audit.models import AuditEvent
from sipadu.audit.services import verify
from sipadu.sop import actions, sla
from sipadu.sop.error_codes import ErrorCode, WorkflowError
from sipadu.sop.models import NO_DUE_TIME, Case, CaseEvent, EventKind, Task
from sipadu.sop.queries import Move, allowed_actions, inbox_for
from sipadu.sop.tests.runtime_support import live, loaded, step, taker, world
from sipadu.sop.work_views import decorate

__all__ = ["loaded", "world"]

WITA = ZoneInfo("Asia/Makassar")


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=WITA)


def _claimed(staff: dict[str, Any], when: dt.datetime) -> tuple[Case, Task]:
    with time_machine.travel(when, tick=False):
        case = actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", staff["office"])
        task = live(case)
        actions.claim(staff["operator-layanan"], task)
    return case, task


@pytest.mark.django_db
def test_resume_moves_the_due_time_by_the_office_time_suspended(world: dict[str, Any]) -> None:
    staff = world["balangan"]
    operator = staff["operator-layanan"]
    # Wednesday 23 December, 15:50: due at 15:55.
    case, task = _claimed(staff, at(23, 15, 50))
    assert task.due_at == at(23, 15, 55)
    with time_machine.travel(at(23, 15, 52), tick=False):
        paused = actions.suspend_task(operator, task, "Menunggu berkas pemohon")
    stored = Task.objects.get(pk=task.pk)
    assert stored.suspended_at == at(23, 15, 52) and paused.due_at is None
    assert stored.due_at is None and stored.suspended_due_at == at(23, 15, 55)
    # No due time while suspended: last in the inbox order, never overdue.
    assert stored.due_sort == NO_DUE_TIME
    assert sla.urgency(stored, at(28, 12)) == sla.Urgency.PAUSED

    # Monday 28 December, 09:00. Office time suspended: 8 minutes on Wednesday (24 is cuti
    # bersama, 25 Christmas, then the weekend) and 60 on Monday.
    with time_machine.travel(at(28, 9), tick=False):
        resumed = actions.resume_task(operator, task)
    stored = Task.objects.get(pk=task.pk)
    assert stored.suspended_at is None and stored.suspended_due_at is None
    assert stored.paused_seconds == resumed.paused_seconds == 68 * 60
    # The 3 minutes that were left remain: 15:55 + 68 office minutes.
    assert stored.due_at == resumed.due_at == at(28, 9, 3)
    assert stored.due_sort == at(28, 9, 3)
    assert sla.urgency(stored, at(28, 9, 1)) == sla.Urgency.NEAR

    with time_machine.travel(at(28, 9, 2), tick=False):
        done = actions.complete(operator, task)
    # 10 minutes on Wednesday and 62 on Monday, less the 68 suspended.
    assert done.work_seconds == 4 * 60
    assert done.within_standard is True

    kinds = list(
        CaseEvent.objects.filter(case=case).order_by("at", "id").values_list("kind", "text")
    )
    assert (EventKind.SUSPENDED, "Menunggu berkas pemohon") in kinds
    resumed_event = CaseEvent.objects.get(case=case, kind=EventKind.RESUMED)
    assert resumed_event.data["paused_seconds"] == 68 * 60
    assert resumed_event.actor == operator
    audit = AuditEvent.objects.filter(action__in=["sop.task.suspend", "sop.task.resume"])
    assert [e.action for e in audit.order_by("seq")] == ["sop.task.suspend", "sop.task.resume"]
    assert list(verify()) == []


@pytest.mark.django_db
def test_resume_on_a_holiday_adds_no_office_time(world: dict[str, Any]) -> None:
    staff = world["balangan"]
    operator = staff["operator-layanan"]
    _case, task = _claimed(staff, at(23, 10))
    with time_machine.travel(at(23, 16, 30), tick=False):  # after closing
        actions.suspend_task(operator, task, "Menunggu pemohon")
    with time_machine.travel(at(25, 11), tick=False):  # Christmas
        resumed = actions.resume_task(operator, task)
    assert resumed.paused_seconds == 0
    assert resumed.due_at == at(23, 10, 5)


@pytest.mark.django_db
def test_resume_moves_the_case_limit_too(world: dict[str, Any]) -> None:
    staff = world["solok"]
    office = staff["office"]
    start = dt.datetime(2026, 12, 21, 9, 0, tzinfo=ZoneInfo(office.timezone))  # a Monday
    with time_machine.travel(start, tick=False):
        case = actions.start_case(staff["kabid-pelayanan"], "sijarla-solok", office)
    assert case.due_at is not None
    task = live(case)
    user = taker(staff, task)
    with time_machine.travel(start + dt.timedelta(minutes=30), tick=False):
        actions.claim(user, task)
        actions.suspend_task(user, task, "Menunggu surat dari nagari")
    back = start + dt.timedelta(days=3, hours=2)  # Thursday 11:00
    with time_machine.travel(back, tick=False):
        actions.resume_task(user, task)
    calendar = sla.calendar_for(office)
    paused = calendar.working_time_between(start + dt.timedelta(minutes=30), back)
    assert paused > dt.timedelta(hours=8)  # 24 Dec (cuti bersama) and 25 Dec not counted
    assert Case.objects.get(pk=case.pk).due_at == calendar.add_working(case.due_at, paused)


@pytest.mark.django_db
def test_breach_job_passes_over_a_suspended_task_and_its_case(world: dict[str, Any]) -> None:
    # A Dik Jamila task (due in five minutes) and a SIJARLA case (3-day limit; its first
    # step has no standard time), both suspended.
    staff = world["balangan"]
    _case, task = _claimed(staff, at(21, 9))
    with time_machine.travel(at(21, 9, 2), tick=False):
        actions.suspend_task(staff["operator-layanan"], task, "Menunggu pemohon")
    solok = world["solok"]
    start = dt.datetime(2026, 12, 21, 9, 0, tzinfo=ZoneInfo(solok["office"].timezone))
    with time_machine.travel(start, tick=False):
        case = actions.start_case(solok["kabid-pelayanan"], "sijarla-solok", solok["office"])
        first = live(case)
        user = taker(solok, first)
        actions.claim(user, first)
        actions.suspend_task(user, first, "Menunggu surat dari nagari")
    assert case.due_at is not None and task.due_at is not None
    much_later = start + dt.timedelta(days=60)
    assert actions.mark_breaches(much_later) == 0
    assert not Task.objects.get(pk=task.pk).breached
    assert not Case.objects.get(pk=case.pk).breached
    with time_machine.travel(much_later, tick=False):
        resumed = actions.resume_task(staff["operator-layanan"], task)
        actions.resume_task(user, first)
    assert resumed.due_at is not None and resumed.due_at > much_later
    assert Case.objects.get(pk=case.pk).due_at > much_later
    # Once the clocks run again, what is past its (moved) due time is flagged as before.
    assert actions.mark_breaches(much_later + dt.timedelta(days=30)) == 2
    assert Task.objects.get(pk=task.pk).breached and Case.objects.get(pk=case.pk).breached


@pytest.mark.django_db
def test_illegal_suspensions_are_refused_with_a_message(world: dict[str, Any]) -> None:
    staff = world["balangan"]
    operator = staff["operator-layanan"]
    case, task = _claimed(staff, at(23, 9))
    with pytest.raises(WorkflowError) as refused:
        actions.resume_task(operator, task)
    assert refused.value.code == ErrorCode.NOT_SUSPENDED
    assert refused.value.message == "Tugas ini tidak sedang ditangguhkan."
    with pytest.raises(WorkflowError) as refused:
        actions.suspend_task(operator, task, "  ")
    assert refused.value.code == ErrorCode.REASON_REQUIRED
    # Neither a colleague without the role above nor an anonymous visitor may.
    for outsider in (staff["operator-siak"], AnonymousUser()):
        with pytest.raises(WorkflowError) as refused:
            actions.suspend_task(outsider, task, "Menunggu")
        assert refused.value.code == ErrorCode.NOT_ASSIGNEE

    actions.suspend_task(operator, task, "Menunggu")
    with pytest.raises(WorkflowError) as refused:
        actions.suspend_task(operator, task, "Menunggu lagi")
    assert refused.value.code == ErrorCode.TASK_SUSPENDED
    # A suspended task cannot be finished, and the page does not offer it.
    assert Move.COMPLETE not in allowed_actions(Task.objects.get(pk=task.pk), operator)
    with pytest.raises(WorkflowError) as refused:
        actions.complete(operator, task)
    assert refused.value.code == ErrorCode.TASK_SUSPENDED
    assert "ditangguhkan" in refused.value.message
    # The role above may resume it.
    actions.resume_task(staff["kasi-pelayanan"], task)
    assert Move.COMPLETE in allowed_actions(Task.objects.get(pk=task.pk), operator)
    done = actions.complete(operator, task)

    with pytest.raises(WorkflowError) as refused:
        actions.suspend_task(operator, done, "Menunggu")
    assert refused.value.code == ErrorCode.TASK_NOT_OPEN
    assert "sudah selesai" in refused.value.message
    with pytest.raises(WorkflowError) as refused:
        actions.resume_task(operator, done)
    assert refused.value.code == ErrorCode.NOT_SUSPENDED
    assert Task.objects.get(pk=done.pk).suspended_at is None
    assert step(staff, case).activity_id == "kesesuaian-siak"


@pytest.mark.django_db
def test_inbox_and_case_page_show_a_suspended_task(world: dict[str, Any], client: Any) -> None:
    staff = world["balangan"]
    operator = staff["operator-layanan"]
    case, task = _claimed(staff, at(23, 9))
    actions.suspend_task(operator, task, "Menunggu berkas akta")
    row = next(t for t in inbox_for(operator, staff["office"]) if t.pk == task.pk)
    decorate([row])
    assert row.urgency == sla.Urgency.PAUSED and row.row_class == "sla-paused"
    client.force_login(operator)
    page = client.get(f"/kerja/perkara/{case.reference}/").content.decode()
    assert 'id="task-paused"' in page and "Menunggu berkas akta" in page


def test_officer_resumes_from_the_case_page(world: dict[str, Any], client: Any) -> None:
    """The awaited files came another way: the assignee resumes the task and can finish it."""
    staff = world["balangan"]
    operator = staff["operator-layanan"]
    case, task = _claimed(staff, at(23, 9))
    actions.suspend_task(operator, task, "Menunggu berkas akta")
    assert Move.RESUME in allowed_actions(Task.objects.get(pk=task.pk), operator)
    assert Move.COMPLETE not in allowed_actions(Task.objects.get(pk=task.pk), operator)
    client.force_login(operator)
    url = f"/kerja/perkara/{case.reference}/tugas/{task.pk}/resume/"
    page = client.get(f"/kerja/perkara/{case.reference}/").content.decode()
    assert 'id="resume-task"' in page and url in page
    response = client.post(url)
    assert response.status_code == 302
    resumed = Task.objects.get(pk=task.pk)
    assert resumed.suspended_at is None and resumed.due_at is not None
    assert Move.COMPLETE in allowed_actions(Task.objects.get(pk=task.pk), operator)
    # Resuming again is refused with a message, not a server error.
    again = client.post(url)
    assert again.status_code in (400, 409) and "tidak sedang ditangguhkan" in again.content.decode()
    # Someone without the role above sees no resume button and is refused.
    other = staff["operator-siak"]
    actions.suspend_task(operator, task, "Menunggu lagi")
    assert Move.RESUME not in allowed_actions(Task.objects.get(pk=task.pk), other)
    client.force_login(other)
    assert client.post(url).status_code in (403, 409)
    assert Task.objects.get(pk=task.pk).suspended_at is not None
