"""Guards of the runtime's performance work: statement counts, the inbox index, the caches.

Timing is measured by bench/engine.py, never here; these tests fail when a change brings
back a statement or a full sort of the queue.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sipadu.audit import rawsql
from sipadu.audit.models import AuditEvent
from sipadu.audit.services import verify
from sipadu.sop import actions, handlers
from sipadu.sop import models as sop_models
from sipadu.sop.models import (
    NO_DUE_TIME,
    Case,
    CaseEvent,
    Holiday,
    HolidayKind,
    Notification,
    Task,
    TaskState,
)
from sipadu.sop.queries import inbox_for, overdue_tasks
from sipadu.sop.sla import calendar_for, holidays_version
from sipadu.sop.tests.runtime_support import live, loaded, taker, world

__all__ = ["loaded", "world"]

#: Statements of a completion: load (task, case, office, the revision's content hash,
#: roles, holiday version), the conditional UPDATE, the next task, the timeline event, and
#: the audit head read, entry and head move. Inside a test's transaction the action's atomic
#: block adds a SAVEPOINT and its RELEASE. (The hot path runs on the driver's cursor; while
#: queries are captured, as here, it goes through Django's wrapper so each one is counted.)
COMPLETION_STATEMENTS = 7
CLAIM_STATEMENTS = 6
SAVEPOINT_PAIR = 2


@pytest.fixture
def no_domain_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count the runtime's own statements: domain apps' step handlers add their own."""
    monkeypatch.setattr(handlers, "_checks", defaultdict(list))
    monkeypatch.setattr(handlers, "_actions", defaultdict(list))


def _claimed(staff: dict[str, Any]) -> tuple[Task, Any]:
    case = actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", staff["office"])
    task = live(case)
    user = taker(staff, task)
    actions.claim(user, task.pk)
    return task, user


def test_completion_statement_count(world: dict[str, Any], no_domain_handlers: None) -> None:
    staff = world["balangan"]
    warm, user = _claimed(staff)
    actions.complete(user, warm.pk, output="ok")  # builds this process's office calendar
    task, user = _claimed(staff)
    before = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        done = actions.complete(user, task.pk, output="ok")
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= COMPLETION_STATEMENTS + SAVEPOINT_PAIR, "\n".join(statements)
    # What the statements did: the task is done, the next one open, the chain intact.
    assert done.state == TaskState.DONE
    assert Task.objects.get(pk=task.pk).state == TaskState.DONE
    assert live(task.case).activity_id == "kesesuaian-siak"
    assert AuditEvent.objects.count() == before + 1
    assert list(verify()) == []


def test_claim_statement_count(world: dict[str, Any], no_domain_handlers: None) -> None:
    staff = world["balangan"]
    case = actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", staff["office"])
    task = live(case)
    with CaptureQueriesContext(connection) as queries:
        actions.claim(taker(staff, task), task.pk)
    assert len(queries) <= CLAIM_STATEMENTS + SAVEPOINT_PAIR, [
        q["sql"] for q in queries.captured_queries
    ]
    assert Task.objects.get(pk=task.pk).state == TaskState.CLAIMED


def test_role_check_still_refuses_without_the_role(world: dict[str, Any]) -> None:
    staff = world["balangan"]
    case = actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", staff["office"])
    task = live(case)
    with pytest.raises(actions.WorkflowError):
        actions.claim(staff["kasi-pelayanan"], task.pk)
    # A deactivated membership takes the role away at once (no role cache).
    user = taker(staff, task)
    user.memberships.update(active=False)
    with pytest.raises(actions.WorkflowError):
        actions.claim(user, task.pk)
    assert Task.objects.get(pk=task.pk).state == TaskState.OPEN


def test_due_sort_follows_due_time_and_state(world: dict[str, Any]) -> None:
    staff = world["balangan"]
    case = actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", staff["office"])
    task = Task.objects.get(pk=live(case).pk)
    assert task.due_at is not None and task.due_sort == task.due_at
    Task.objects.filter(pk=task.pk).update(due_at=None)
    assert Task.objects.get(pk=task.pk).due_sort == NO_DUE_TIME
    Task.objects.filter(pk=task.pk).update(state=TaskState.CANCELLED)
    assert Task.objects.get(pk=task.pk).due_sort is None


def _plan(sql: str, params: Any) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A test table is tiny, so make the planner show whether the index can serve
            # the query at all (what it does with 100,000 rows is in docs/PERFORMANCE.md).
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(row) for row in cursor.fetchall())


def test_inbox_first_page_reads_the_index_in_order(world: dict[str, Any]) -> None:
    staff = world["balangan"]
    for _i in range(5):
        actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", staff["office"])
    claimed, user = _claimed(staff)
    page = inbox_for(user, staff["office"])[:50]
    rows = list(page)
    assert claimed.pk in {t.pk for t in rows} and len(rows) == 6
    assert [t.due_sort for t in rows] == sorted(t.due_sort for t in rows)
    sql, params = page.query.sql_with_params()
    plan = _plan(sql, params)
    assert "task_inbox" in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan and "Sort Key" not in plan, plan


def test_calendar_cache_sees_a_new_holiday(world: dict[str, Any]) -> None:
    office = world["balangan"]["office"]
    day = dt.date(2031, 3, 3)  # a Monday without a holiday in the shipped list
    before = calendar_for(office, version=holidays_version())
    assert before.is_working_day(day)
    Holiday.objects.create(date=day, name="Libur daerah", kind=HolidayKind.LIBUR_DAERAH)
    assert not calendar_for(office).is_working_day(day)
    # Another process has no signal: it sees the change through the version key.
    stale = holidays_version()
    Holiday.objects.filter(date=day).delete()
    assert holidays_version() != stale
    assert calendar_for(office, version=holidays_version()).is_working_day(day)


def test_mark_notifications_read_touches_only_own(world: dict[str, Any]) -> None:
    staff = world["balangan"]
    me, other = staff["operator-layanan"], staff["kasi-pelayanan"]
    now = dt.datetime.now(dt.UTC)
    mine = [Notification.objects.create(user=me, text=f"n{i}", created_at=now) for i in range(3)]
    theirs = Notification.objects.create(user=other, text="x", created_at=now)
    assert actions.mark_notifications_read(me, [mine[0].pk, theirs.pk]) == 1
    assert set(Notification.objects.filter(read=True).values_list("pk", flat=True)) == {mine[0].pk}
    audit = AuditEvent.objects.filter(action="sop.notification.read").get()
    assert audit.data == {"notifications": [mine[0].pk]}
    assert actions.mark_notifications_read(me) == 2
    assert not Notification.objects.filter(user=me, read=False).exists()
    assert Notification.objects.get(pk=theirs.pk).read is False
    assert actions.mark_notifications_read(me) == 0
    assert AuditEvent.objects.filter(action="sop.notification.read").count() == 2


def test_case_link_points_at_the_case_page(world: dict[str, Any]) -> None:
    staff = world["balangan"]
    case = actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", staff["office"])
    assert actions.case_link(case) == f"/kerja/perkara/{case.reference}/"


def test_completion_with_a_cold_sop_cache_reads_the_revision(
    world: dict[str, Any], no_domain_handlers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = world["balangan"]
    task, user = _claimed(staff)
    monkeypatch.setattr(sop_models, "_PARSED", {})
    with CaptureQueriesContext(connection) as queries:
        done = actions.complete(user, task.pk, output="ok")
    assert done.state == TaskState.DONE
    # One more statement than warm: the revision, read to parse it once.
    assert len(queries) <= COMPLETION_STATEMENTS + 1 + SAVEPOINT_PAIR
    assert any("sop_soprevision" in q["sql"] for q in queries.captured_queries)
    assert live(task.case).activity_id == "kesesuaian-siak"


def _samples(field: Any) -> list[Any]:
    kind = field.target_field.get_internal_type() if field.is_relation else None
    kind = kind or field.get_internal_type()
    wita = ZoneInfo("Asia/Makassar")
    samples: dict[str, list[Any]] = {
        "CharField": ["", "open", TaskState.OPEN, None],
        "TextField": ["", "catatan ✓", None],
        "BooleanField": [True, False, None, 1],
        "DateTimeField": [
            dt.datetime(2026, 12, 23, 7, 50, 1, 5, tzinfo=dt.UTC),
            dt.datetime(2026, 12, 23, 15, 50, tzinfo=wita),
            None,
        ],
        "UUIDField": [uuid.uuid4(), str(uuid.uuid4()), None],
        "JSONField": [{}, {"a": [1, "x"]}, None],
        "GenericIPAddressField": ["10.1.2.3", None],
    }
    if "Integer" in kind or "AutoField" in kind:
        return [0, 7, 2**40, None]
    return samples.get(kind, [])


@pytest.mark.parametrize("model", [Task, CaseEvent, Case, AuditEvent])
@pytest.mark.django_db
def test_value_shortcuts_prepare_as_the_fields_do(model: Any) -> None:
    checked = 0
    for field in model._meta.concrete_fields:
        if field.generated:
            continue
        prep = rawsql.preparer(field, connection.vendor)
        for value in _samples(field):
            expected = field.get_db_prep_save(value, connection)
            got = prep(value, connection)
            assert type(got) is type(expected), (field.name, value)
            # psycopg's Jsonb wrapper compares by identity: compare what it wraps.
            assert getattr(got, "obj", got) == getattr(expected, "obj", expected), field.name
            checked += 1
    assert checked > 10


@pytest.mark.django_db(transaction=False)
def test_plain_sql_errors_are_djangos(world: dict[str, Any]) -> None:
    staff = world["balangan"]
    case = actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", staff["office"])
    task = live(case)
    twin = {"case_id": case.pk, "office_id": task.office_id, "activity_id": "x"}
    twin |= {"role_code": "r", "queue_role": "r", "started_at": task.started_at}
    with pytest.raises(IntegrityError), transaction.atomic():
        rawsql.insert(connection, "sop.Task", twin)  # a second live task of the case
    assert Task.objects.filter(case=case).count() == 1


def test_breach_job_reads_only_waiting_unflagged_tasks_by_due_time(
    world: dict[str, Any],
) -> None:
    staff = world["balangan"]
    actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", staff["office"])
    later = timezone.now() + dt.timedelta(days=30)
    assert overdue_tasks(later).count() == 1
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL picks among the partial indexes by table size")
    sql, params = overdue_tasks(later)[:500].query.sql_with_params()
    plan = _plan(sql, params)
    assert "task_due" in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan and "Sort Key" not in plan, plan
