"""Read helpers of the SOP runtime: who may act on a task, the inbox, return targets.

The actions use the same predicates to refuse illegal moves, so what the UI offers and
what the actions accept cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from django.db.models import Q, QuerySet

from sipadu.core.models import Membership, Office, Role
from sipadu.sop.engine import SOP, Activity
from sipadu.sop.models import LIVE_STATES, CaseState, Task, TaskState


class Move(StrEnum):
    """The moves an officer can make on a task (the case page shows the allowed ones)."""

    CLAIM = "claim"
    RELEASE = "release"
    COMPLETE = "complete"
    DECIDE = "decide"
    RETURN = "return"
    REASSIGN = "reassign"
    CANCEL = "cancel"
    ATTACH = "attach"
    RESUME = "resume"


def roles_in(user: Any, office: Office | int) -> set[str]:
    """Codes of the roles ``user`` holds (actively) in ``office``; empty for anonymous users."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", True):
        return set()
    office_id = office if isinstance(office, int) else office.pk
    return set(
        Membership.objects.filter(user=user, office_id=office_id, active=True).values_list(
            "role__code", flat=True
        )
    )


def may_take(task: Task, roles: set[str]) -> bool:
    """True when a holder of ``roles`` may claim and complete ``task``.

    The executor role may, and for an external party's activity so may the receiving office
    role (``queue_role``), acting on the party's behalf.
    """
    return task.role_code in roles or (task.external and task.queue_role in roles)


def acts_on_behalf(task: Task, roles: set[str]) -> bool:
    """True when completing ``task`` with ``roles`` is done on an external party's behalf."""
    return task.external and task.role_code not in roles


def supervisor_codes(role_codes: set[str] | list[str]) -> set[str]:
    """The codes of the roles directly above the given roles (Role.supervisor)."""
    return set(
        Role.objects.filter(code__in=list(role_codes), supervisor__isnull=False).values_list(
            "supervisor__code", flat=True
        )
    )


def is_supervisor(user: Any, task: Task, roles: set[str] | None = None) -> bool:
    """True when ``user`` is staff or holds, in the task's office, the role above its role."""
    if getattr(user, "is_staff", False) and getattr(user, "is_active", False):
        return True
    held = roles if roles is not None else roles_in(user, task.office_id)
    return bool(held & supervisor_codes({task.role_code, task.queue_role}))


def inbox_for(user: Any, office: Office) -> QuerySet[Task]:
    """The Kotak Tugas of ``user`` in ``office``: their own tasks and their roles' open ones.

    Sorted by due time (tasks without one last), then by age. Each task comes with its case,
    the case's revision (for the activity text; the YAML text itself is deferred, the parsed
    SOP is cached per process) and the assignee.

    The order is the ``task_inbox`` index (live tasks of an office by ``due_sort``), so the
    database reads the first page in order, filtering roles inside the index, and stops
    after the page instead of sorting the whole queue: keep the ``due_sort__isnull`` term (it
    selects the partial index: waiting tasks only) and the order in step with that index.
    """
    held = dict(roles_and_kinds(user, office))
    mine = Q(assignee=user, state=TaskState.CLAIMED)
    waiting = Q(state=TaskState.OPEN, queue_role__in=sorted(held))
    external = sorted(code for code, is_external in held.items() if is_external)
    if external:
        # A partner or village account also sees its own steps (role_code is not in the
        # index: only such accounts pay for the row lookups).
        waiting |= Q(state=TaskState.OPEN, external=True, role_code__in=external)
    return (
        Task.objects.filter(office=office, due_sort__isnull=False)
        .filter(mine | waiting)
        .select_related("case", "case__revision", "assignee")
        .defer("case__revision__text")
        .order_by("due_sort", "started_at", "id")
    )


def roles_and_kinds(user: Any, office: Office | int) -> list[tuple[str, bool]]:
    """(code, is external) of each role ``user`` actively holds in ``office``, in one query."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", True):
        return []
    office_id = office if isinstance(office, int) else office.pk
    return list(
        Membership.objects.filter(user=user, office_id=office_id, active=True).values_list(
            "role__code", "role__external"
        )
    )


def activity_of(task: Task) -> Activity:
    """The SOP activity of ``task`` (from the case's pinned revision)."""
    return task.case.sop.activity(task.activity_id)


def return_targets(task: Task, sop: SOP | None = None) -> list[Activity]:
    """Earlier activities of the case, already done, that ``task`` may be returned to."""
    sop = sop or task.case.sop
    here = sop.index(task.activity_id)
    done = set(
        Task.objects.filter(case_id=task.case_id, state=TaskState.DONE).values_list(
            "activity_id", flat=True
        )
    )
    return [a for a in sop.activities[:here] if a.id in done]


def allowed_actions(task: Task, user: Any) -> set[Move]:
    """The moves ``user`` may make on ``task`` right now (what the actions would accept)."""
    if task.case.state != CaseState.OPEN:
        return set()
    roles = roles_in(user, task.office_id)
    moves: set[Move] = set()
    supervisor = is_supervisor(user, task, roles)
    if roles or supervisor:
        moves.add(Move.ATTACH)
    if task.state in LIVE_STATES and supervisor:
        moves.update({Move.REASSIGN, Move.CANCEL})
    if task.state == TaskState.OPEN and may_take(task, roles):
        moves.add(Move.CLAIM)
    mine = task.state == TaskState.CLAIMED and task.assignee_id == getattr(user, "pk", None)
    if task.suspended_at is not None and task.state in LIVE_STATES and (mine or supervisor):
        # The awaited answer came another way (e.g. files brought to the counter).
        moves.add(Move.RESUME)
    if mine:
        moves.add(Move.RELEASE)
        if may_take(task, roles) and task.suspended_at is None:
            # A suspended task cannot be finished until it is resumed.
            activity = activity_of(task)
            moves.add(Move.DECIDE if activity.is_decision else Move.COMPLETE)
            if return_targets(task):
                moves.add(Move.RETURN)
    return moves


def overdue_tasks(moment: dt.datetime) -> QuerySet[Task]:
    """Waiting tasks past their due time at ``moment`` and not yet flagged, oldest due first."""
    return (
        Task.objects.filter(
            # due_sort IS NOT NULL and NOT breached match the partial index "task_due".
            due_sort__isnull=False,
            state__in=LIVE_STATES,
            breached=False,
            due_at__lt=moment,
            suspended_at__isnull=True,
        )
        .select_related("case", "case__revision", "office", "assignee")
        .order_by("due_at")
    )
