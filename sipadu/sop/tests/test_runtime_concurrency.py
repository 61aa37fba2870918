"""Two officers acting at once on PostgreSQL: exactly one claim wins, references stay unique."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from sipadu.sop import actions
from sipadu.sop.definitions_sync import sync_definitions
from sipadu.sop.error_codes import ErrorCode, WorkflowError
from sipadu.sop.models import CaseEvent, Task, TaskState
from sipadu.sop.tests.runtime_support import office_staff, persona

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks between threads need PostgreSQL"
    ),
]


def race(workers: list[Callable[[], Any]]) -> list[Any]:
    """Run the callables in threads released together; returns results or exceptions."""
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(i: int, func: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = func()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_of_two_officers_claiming_at_once_exactly_one_wins(make_office: Any) -> None:
    sync_definitions()
    office = make_office("balangan")
    staff = office_staff(office)
    rivals = [staff["operator-layanan"]] + [
        persona(office, "operator-layanan", f"-{i}") for i in range(3)
    ]
    for _round in range(5):
        case = actions.start_case(staff["kasi-pelayanan"], "dik-jamila-mewa", office)
        task = case.tasks.get()
        results = race([functools.partial(actions.claim, u, task.pk) for u in rivals])
        winners = [r for r in results if isinstance(r, Task)]
        losers = [r for r in results if isinstance(r, WorkflowError)]
        assert len(winners) == 1, results
        assert len(losers) == len(rivals) - 1
        assert {e.code for e in losers} == {ErrorCode.TASK_TAKEN}
        fresh = Task.objects.get(pk=task.pk)
        assert fresh.state == TaskState.CLAIMED and fresh.assignee_id == winners[0].assignee_id
        assert CaseEvent.objects.filter(task=task, kind="claimed").count() == 1


def test_concurrent_completion_and_reassign_do_not_both_win(make_office: Any) -> None:
    sync_definitions()
    office = make_office("balangan")
    staff = office_staff(office)
    colleague = persona(office, "operator-layanan", "-2")
    case = actions.start_case(staff["kasi-pelayanan"], "dik-jamila-mewa", office)
    task = case.tasks.get()
    actions.claim(staff["operator-layanan"], task)
    results = race(
        [
            lambda: actions.complete(staff["operator-layanan"], task.pk),
            lambda: actions.complete(staff["operator-layanan"], task.pk),
        ]
    )
    assert sum(isinstance(r, Task) for r in results) == 1, results
    assert case.tasks.filter(state__in=["open", "claimed"]).count() == 1
    assert case.tasks.filter(activity_id="kesesuaian-siak").count() == 1
    assert colleague.pk


def test_concurrent_starts_get_distinct_references(make_office: Any) -> None:
    sync_definitions()
    office = make_office("balangan")
    staff = office_staff(office)
    results = race(
        [
            lambda: actions.start_case(staff["kasi-pelayanan"], "dik-jamila-mewa", office)
            for _i in range(6)
        ]
    )
    references = [r.reference for r in results if not isinstance(r, Exception)]
    assert len(references) == 6, results
    assert len(set(references)) == 6
