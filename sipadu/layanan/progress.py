"""What the citizen's status page shows: the SOP steps done and current, and the expected
completion time computed from the standard times (SLA) of the steps still ahead."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from sipadu.layanan.models import DocumentRequest, RequestStatus
from sipadu.sop.models import CaseState
from sipadu.sop.sla import calendar_for, standard_for


@dataclass(frozen=True)
class StepView:
    """One SOP activity on the status page: number, text, output and its state."""

    number: int
    text: str
    output: str
    state: str  # done | current | pending


@dataclass(frozen=True)
class Progress:
    """The steps and the expected completion time (None when unknown or finished)."""

    steps: list[StepView]
    expected_at: dt.datetime | None
    finished: bool


def progress_of(req: DocumentRequest, now: dt.datetime | None = None) -> Progress:
    """Where ``req`` is in its SOP, and when it is expected to finish.

    The expected time starts at the current task's due time (or now, when it is overdue or
    has none) and adds each following step's standard time in the office's working calendar.
    While the request waits for the citizen, no time is promised.
    """
    moment = now or timezone.now()
    case = req.case
    if case is None:
        return Progress([], None, False)
    sop = case.sop
    finished = case.state == CaseState.DONE
    live = case.live_tasks().first()
    current_index = sop.index(live.activity_id) if live is not None else None
    steps: list[StepView] = []
    for index, activity in enumerate(sop.activities):
        if finished or (current_index is not None and index < current_index):
            state = "done"
        elif index == current_index:
            state = "current"
        else:
            state = "pending"
        steps.append(StepView(activity.number, activity.text, activity.output, state))
    expected: dt.datetime | None = None
    if (
        live is not None
        and current_index is not None
        and req.status != RequestStatus.WAITING_CITIZEN
    ):
        calendar = calendar_for(req.office)
        cursor = live.due_at if live.due_at and live.due_at > moment else moment
        for activity in sop.activities[current_index + 1 :]:
            standard = standard_for(activity, calendar, cursor)
            if standard.due_at is not None:
                cursor = standard.due_at
        expected = cursor
    return Progress(steps, expected, finished)
