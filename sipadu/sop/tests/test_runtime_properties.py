"""Random sequences of actions (hypothesis) keep the runtime's invariants.

Two officers per role act on two Dik Jamila Me-WA cases and one Palangka Raya case (external
steps, a recurring step). Whatever they try, in any order: a case has at most one waiting
task and an open case has exactly one; a finished task never comes back; an open task has no
assignee and a claimed one has; the timeline only grows and old entries never change; a
refused move is a WorkflowError and changes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sipadu.sop import actions
from sipadu.sop.error_codes import WorkflowError
from sipadu.sop.models import LIVE_STATES, Case, CaseEvent, CaseState, Task, TaskState
from sipadu.sop.tests.runtime_support import loaded, office_staff

__all__ = ["loaded"]

MOVES = ["claim", "release", "complete", "yes", "no", "return", "reassign", "cancel"]

move = st.tuples(
    st.sampled_from(MOVES),
    st.integers(0, 2),  # which case
    st.integers(0, 1),  # which of the two officers of the role
    st.integers(0, 3),  # which earlier activity to return to
)


def _snapshot_done() -> dict[int, tuple[Any, ...]]:
    return {
        t.pk: (t.state, t.completed_at, t.outcome, t.assignee_id, t.work_seconds)
        for t in Task.objects.exclude(state__in=LIVE_STATES)
    }


def _snapshot_events() -> dict[int, tuple[Any, ...]]:
    return {
        e.pk: (e.case_id, e.kind, e.at, e.actor_id, e.task_id, e.text, e.on_behalf_of)
        for e in CaseEvent.objects.all()
    }


def _check_invariants(before_done: dict[int, Any], before_events: dict[int, Any]) -> None:
    for case in Case.objects.all():
        live = list(case.tasks.filter(state__in=LIVE_STATES))
        assert len(live) <= 1
        assert (len(live) == 1) == (case.state == CaseState.OPEN)
    for task in Task.objects.all():
        if task.state == TaskState.OPEN:
            assert task.assignee_id is None
        if task.state == TaskState.CLAIMED:
            assert task.assignee_id is not None
    done = _snapshot_done()
    for pk, snap in before_done.items():
        assert done[pk] == snap  # a finished task is never reopened or rewritten
    events = _snapshot_events()
    for pk, snap in before_events.items():
        assert events[pk] == snap
    assert len(events) >= len(before_events)


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(moves=st.lists(move, min_size=1, max_size=40))
def test_random_action_sequences_keep_the_invariants(
    loaded: None, make_office: Any, moves: list[tuple[str, int, int, int]]
) -> None:
    with transaction.atomic():
        balangan, palangka = make_office("balangan"), make_office("palangkaraya")
        teams = {
            balangan.pk: [office_staff(balangan), office_staff(balangan, "-b")],
            palangka.pk: [office_staff(palangka), office_staff(palangka, "-b")],
        }
        cases = [
            actions.start_case(
                teams[balangan.pk][0]["kasi-pelayanan"], "dik-jamila-mewa", balangan
            ),
            actions.start_case(
                teams[balangan.pk][0]["kasi-pelayanan"], "dik-jamila-mewa", balangan
            ),
            actions.start_case(
                teams[palangka.pk][0]["kabid-piak"], "pemanfaatan-data-palangkaraya", palangka
            ),
        ]
        for name, which, who, back in moves:
            case = cases[which]
            case.refresh_from_db()
            task = case.tasks.order_by("-id").first()
            assert task is not None
            team = teams[case.office_id][who]
            user = team.get(task.role_code) or team[task.queue_role]
            before_done, before_events = _snapshot_done(), _snapshot_events()
            before_tasks = Task.objects.count()
            try:
                with transaction.atomic():
                    _apply(name, user, team, task, back)
            except WorkflowError:
                # A refused move changes nothing at all.
                assert Task.objects.count() == before_tasks
                assert _snapshot_events() == before_events
            _check_invariants(before_done, before_events)
        transaction.set_rollback(True)


def _apply(name: str, user: Any, team: dict[str, Any], task: Task, back: int) -> None:
    if name == "claim":
        actions.claim(user, task)
    elif name == "release":
        actions.release(user, task)
    elif name == "complete":
        actions.complete(user, task, output="ok")
    elif name in ("yes", "no"):
        actions.decide(user, task, name == "yes", reason="alasan")
    elif name == "return":
        sop = task.case.sop
        target = sop.activities[min(back, len(sop.activities) - 1)].id
        actions.return_to(user, task, target, "dikembalikan")
    elif name == "reassign":
        boss = next(iter(team.values()))
        for code, person in team.items():
            if code in ("kasi-pelayanan", "kabid-piak", "kepala-dinas"):
                boss = person
        actions.reassign(boss, task, user)
    elif name == "cancel":
        actions.cancel(team["kepala-dinas"], task.case, "batal")
