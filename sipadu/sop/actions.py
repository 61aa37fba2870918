"""Every write of the SOP runtime: start a case, claim, release, complete, decide, return,
reassign, cancel, attach a file, and mark breached standard times.

Each action takes the acting user, runs in one transaction, records one audit event and the
case timeline, and schedules side effects after commit. An illegal move raises
:class:`WorkflowError` with a code and an Indonesian message, never a database error: every
transition is a conditional UPDATE, so of two officers acting at once exactly one wins.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import models, transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from sipadu.audit.services import record_event
from sipadu.core.models import Office, User
from sipadu.core.services import users_with_role
from sipadu.sop import handlers
from sipadu.sop.engine import SOP, Activity
from sipadu.sop.engine.calendar import WorkingCalendar
from sipadu.sop.error_codes import ErrorCode, WorkflowError
from sipadu.sop.models import (
    LIVE_STATES,
    Attachment,
    Case,
    CaseEvent,
    CaseState,
    EventKind,
    Notification,
    Outcome,
    ReferenceCounter,
    SopDefinition,
    Task,
    TaskState,
    local_year,
    subject_of,
)
from sipadu.sop.queries import (
    acts_on_behalf,
    is_supervisor,
    may_take,
    return_targets,
    roles_in,
    supervisor_codes,
)
from sipadu.sop.sla import calendar_for, case_due, standard_for

__all__ = [
    "WorkflowError",
    "attach_file",
    "cancel",
    "claim",
    "complete",
    "decide",
    "mark_breaches",
    "reassign",
    "release",
    "return_to",
    "start_case",
]

#: Largest attachment accepted (bytes); settings.SIPADU_MAX_ATTACHMENT_BYTES overrides it.
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
#: Longest free text (output, notes, reasons) accepted, to keep a typo from filling the DB.
MAX_TEXT = 10_000

TaskRef = Task | int


# --------------------------------------------------------------------------- helpers


def _load(task: TaskRef) -> Task:
    # Always re-read: the caller's instance may be stale, and the checks need fresh state.
    pk = task.pk if isinstance(task, Task) else task
    try:
        return Task.objects.select_related(
            "case", "case__revision", "case__definition", "office"
        ).get(pk=pk)
    except Task.DoesNotExist:
        raise WorkflowError(ErrorCode.TASK_NOT_OPEN) from None


def _text(value: str | None, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise WorkflowError(ErrorCode.REASON_REQUIRED)
    if len(text) > MAX_TEXT:
        raise WorkflowError(ErrorCode.TEXT_TOO_LONG)
    return text


def _require_open_case(case: Case) -> None:
    if case.state != CaseState.OPEN:
        raise WorkflowError(ErrorCode.CASE_CLOSED)


def queue_role_of(sop: SOP, activity: Activity) -> tuple[str, bool]:
    """(role whose holders take the task, whether its executor is an external party).

    An external party's step is recorded by the office role that receives its result: the
    role of the next office activity, else of the nearest earlier one.
    """
    executor = sop.executor(activity.executor)
    role = sop.role_of(activity.id)
    if not executor.external:
        return role, False
    seen: set[str] = set()
    cursor: Activity | None = activity
    while cursor is not None and cursor.id not in seen:
        seen.add(cursor.id)
        if not sop.executor(cursor.executor).external:
            return sop.role_of(cursor.id), True
        following = cursor.successors()
        cursor = sop.activity(following[0]) if following else None
    for earlier in reversed(sop.activities[: sop.index(activity.id)]):
        if not sop.executor(earlier.executor).external:
            return sop.role_of(earlier.id), True
    return role, True


def _new_task(
    case: Case,
    sop: SOP,
    activity: Activity,
    calendar: WorkingCalendar,
    now: dt.datetime,
    *,
    previous: Task | None = None,
    return_reason: str = "",
) -> Task:
    queue_role, external = queue_role_of(sop, activity)
    standard = standard_for(activity, calendar, now)
    return Task.objects.create(
        case=case,
        office_id=case.office_id,
        activity_id=activity.id,
        role_code=sop.role_of(activity.id),
        queue_role=queue_role,
        external=external,
        started_at=now,
        due_at=standard.due_at,
        standard_seconds=standard.seconds,
        previous=previous,
        return_reason=return_reason,
    )


def _event(
    case: Case,
    kind: Any,
    actor: Any,
    now: dt.datetime,
    *,
    task: Task | None = None,
    text: str = "",
    data: dict[str, Any] | None = None,
    on_behalf_of: str = "",
) -> CaseEvent:
    return CaseEvent(
        case=case,
        task=task,
        kind=kind,
        at=now,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        activity_id=task.activity_id if task is not None else "",
        on_behalf_of=on_behalf_of,
        text=text,
        data=data or {},
    )


def case_link(case: Case) -> str:
    """The URL of the case page, or "" while the UI has no such page."""
    try:
        return reverse("sop:case", args=[case.reference])
    except NoReverseMatch:
        return ""


def _notify(users: Iterable[Any], text: str, case: Case, now: dt.datetime) -> int:
    link = case_link(case)
    unique = {u.pk: u for u in users if u is not None}
    Notification.objects.bulk_create(
        Notification(user=u, text=text[:300], link=link, case=case, created_at=now)
        for u in unique.values()
    )
    return len(unique)


def _activity_label(sop: SOP, activity_id: str) -> str:
    activity = sop.activity(activity_id)
    text = activity.text if len(activity.text) <= 80 else activity.text[:77] + "…"
    return f"{activity.number}. {text}"


# --------------------------------------------------------------------------- start


@transaction.atomic
def start_case(
    actor: Any,
    sop_code: str,
    office: Office,
    *,
    subject_label: str = "",
    subject: models.Model | None = None,
    request: HttpRequest | None = None,
) -> Case:
    """Start a case of SOP ``sop_code`` in ``office`` on the SOP's current revision.

    The actor must be an officer of the office (any role) or staff. The first activity
    becomes an open task with its due time; an SOP time limit sets the case due time.
    """
    definition = (
        SopDefinition.objects.select_related("current")
        .filter(code=sop_code, active=True, current__isnull=False)
        .first()
    )
    if definition is None or definition.current is None:
        raise WorkflowError(ErrorCode.UNKNOWN_SOP)
    if not (getattr(actor, "is_staff", False) or roles_in(actor, office)):
        raise WorkflowError(ErrorCode.NOT_MEMBER)
    label = _text(subject_label)[:200]
    now = timezone.now()
    revision = definition.current
    sop = revision.sop
    calendar = calendar_for(office)
    year = local_year(now, office)
    counter, _created = ReferenceCounter.objects.get_or_create(prefix=definition.prefix, year=year)
    # The UPDATE row-locks the counter until commit, so concurrent starts queue here.
    ReferenceCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    counter.refresh_from_db(fields=["last"])
    case = Case.objects.create(
        reference=f"{definition.prefix}-{year}-{counter.last:06d}",
        definition=definition,
        revision=revision,
        office=office,
        subject_label=label,
        started_by=actor if getattr(actor, "is_authenticated", False) else None,
        started_at=now,
        due_at=case_due(sop.time_limit, calendar, now),
        **subject_of(subject),
    )
    task = _new_task(case, sop, sop.start, calendar, now)
    _event(
        case,
        EventKind.STARTED,
        actor,
        now,
        task=task,
        data={"revision": revision.number, "version": revision.version},
    ).save()
    record_event(
        actor,
        "sop.case.start",
        case,
        office=office,
        request=request,
        data={"sop": sop.code, "revision": revision.number, "task": task.pk},
    )
    return case


# --------------------------------------------------------------------------- claim / release


@transaction.atomic
def claim(actor: Any, task: TaskRef, *, request: HttpRequest | None = None) -> Task:
    """Take an open task (assign-before-act). Of two officers claiming at once, one wins.

    Only a holder of the executor role in the case's office may claim — or, for an external
    party's activity, a holder of the receiving office role (see docs/runtime.md).
    """
    current = _load(task)
    _require_open_case(current.case)
    roles = roles_in(actor, current.office_id)
    if not may_take(current, roles):
        raise WorkflowError(ErrorCode.NOT_EXECUTOR)
    now = timezone.now()
    won = Task.objects.filter(pk=current.pk, state=TaskState.OPEN, assignee__isnull=True).update(
        state=TaskState.CLAIMED, assignee=actor, claimed_at=now
    )
    if not won:
        fresh = Task.objects.only("state", "assignee_id").get(pk=current.pk)
        if fresh.state == TaskState.CLAIMED and fresh.assignee_id == actor.pk:
            return _load(current.pk)
        if fresh.state == TaskState.CLAIMED:
            raise WorkflowError(ErrorCode.TASK_TAKEN)
        raise WorkflowError(ErrorCode.TASK_NOT_OPEN)
    current.state, current.assignee, current.claimed_at = TaskState.CLAIMED, actor, now
    _event(current.case, EventKind.CLAIMED, actor, now, task=current).save()
    record_event(
        actor,
        "sop.task.claim",
        current,
        office=current.office,
        request=request,
        data={"case": current.case_id, "activity": current.activity_id},
    )
    return current


@transaction.atomic
def release(actor: Any, task: TaskRef, *, request: HttpRequest | None = None) -> Task:
    """Give a claimed task back to the role's queue; only its assignee may."""
    current = _load(task)
    _require_open_case(current.case)
    if current.state not in LIVE_STATES:
        raise WorkflowError(ErrorCode.TASK_NOT_OPEN)
    now = timezone.now()
    done = Task.objects.filter(
        pk=current.pk, state=TaskState.CLAIMED, assignee_id=getattr(actor, "pk", None)
    ).update(state=TaskState.OPEN, assignee=None, claimed_at=None)
    if not done:
        raise WorkflowError(ErrorCode.NOT_ASSIGNEE)
    current.state, current.assignee, current.claimed_at = TaskState.OPEN, None, None
    _event(current.case, EventKind.RELEASED, actor, now, task=current).save()
    record_event(
        actor,
        "sop.task.release",
        current,
        office=current.office,
        request=request,
        data={"case": current.case_id, "activity": current.activity_id},
    )
    return current


# --------------------------------------------------------------------------- finishing a task


def _finish(
    actor: Any,
    current: Task,
    *,
    kind: Any,
    outcome: str = "",
    output: str = "",
    notes: str = "",
    reason: str = "",
    target: str | None = None,
    attachments: Iterable[File] = (),
    end_recurrence: bool = False,
    request: HttpRequest | None = None,
) -> Task:
    """The shared body of complete, decide and return_to (inside the caller's transaction).

    ``current`` is freshly loaded by the caller; ``target`` is the activity to go to next,
    None to follow the SOP (``next``).
    """
    case = current.case
    _require_open_case(case)
    if current.state not in LIVE_STATES:
        raise WorkflowError(ErrorCode.TASK_NOT_OPEN)
    if current.state != TaskState.CLAIMED or current.assignee_id != getattr(actor, "pk", None):
        raise WorkflowError(ErrorCode.NOT_ASSIGNEE)
    roles = roles_in(actor, current.office_id)
    if not may_take(current, roles):
        raise WorkflowError(ErrorCode.NOT_EXECUTOR)
    sop = case.sop
    activity = sop.activity(current.activity_id)
    if end_recurrence and activity.recurrence is None:
        raise WorkflowError(ErrorCode.NOT_RECURRING)
    behalf = current.role_code if acts_on_behalf(current, roles) else ""
    returning = kind == EventKind.RETURNED
    if not returning:
        ctx = handlers.StepContext(
            task=current, case=case, actor=actor, output=output, notes=notes, outcome=outcome
        )
        try:
            handlers.run_checks(sop.code, ctx)
        except handlers.StepRefused as refused:
            raise WorkflowError(ErrorCode.STEP_REFUSED, refused.message) from None

    now = timezone.now()
    calendar = calendar_for(current.office)
    work = calendar.working_time_between(current.started_at, now)
    within = None if current.due_at is None else now <= current.due_at
    new_state = TaskState.RETURNED if returning else TaskState.DONE
    won = Task.objects.filter(pk=current.pk, state=TaskState.CLAIMED, assignee_id=actor.pk).update(
        state=new_state,
        completed_at=now,
        completed_by=actor,
        outcome=outcome,
        output=output,
        notes=notes,
        on_behalf_of=behalf,
        work_seconds=int(work.total_seconds()),
        within_standard=within,
    )
    if not won:
        raise WorkflowError(ErrorCode.TASK_NOT_OPEN)
    current.state, current.completed_at, current.completed_by = new_state, now, actor
    current.outcome, current.output, current.notes = outcome, output, notes
    current.on_behalf_of, current.work_seconds = behalf, int(work.total_seconds())
    current.within_standard = within

    events = [
        _event(
            case,
            kind,
            actor,
            now,
            task=current,
            on_behalf_of=behalf,
            text=reason or notes,
            data={"outcome": outcome} if outcome else {},
        )
    ]
    for upload in attachments:
        attachment = _store_attachment(actor, case, upload, current, now)
        events.append(
            _event(
                case,
                EventKind.ATTACHED,
                actor,
                now,
                task=current,
                data={"attachment": attachment.pk},
            )
        )

    next_task: Task | None = None
    if end_recurrence:
        pass
    elif target is not None:
        next_task = _new_task(
            case,
            sop,
            sop.activity(target),
            calendar,
            now,
            previous=current,
            return_reason=reason if sop.is_return(activity.id, target) else "",
        )
    elif activity.recurrence is not None:
        next_task = _new_task(case, sop, activity, calendar, now, previous=current)
        events.append(_event(case, EventKind.SCHEDULED, None, now, task=next_task))
    elif activity.next is not None:
        next_task = _new_task(
            case, sop, sop.activity(activity.next), calendar, now, previous=current
        )
    if next_task is None:
        Case.objects.filter(pk=case.pk).update(state=CaseState.DONE, completed_at=now)
        case.state, case.completed_at = CaseState.DONE, now
        events.append(_event(case, EventKind.FINISHED, actor, now))
    CaseEvent.objects.bulk_create(events)

    if next_task is not None and next_task.return_reason:
        earlier = (
            Task.objects.filter(
                case=case,
                activity_id=next_task.activity_id,
                state=TaskState.DONE,
                completed_by__isnull=False,
            )
            .order_by("-completed_at")
            .values_list("completed_by", flat=True)
            .first()
        )
        if earlier is not None:
            text = _("Berkas perkara %(ref)s dikembalikan ke kegiatan %(act)s: %(why)s") % {
                "ref": case.reference,
                "act": _activity_label(sop, next_task.activity_id),
                "why": reason,
            }
            _notify(User.objects.filter(pk=earlier), text, case, now)

    record_event(
        actor,
        f"sop.task.{'return' if returning else kind}",
        current,
        office=current.office,
        request=request,
        data={
            "case": case.pk,
            "activity": current.activity_id,
            "outcome": outcome,
            "on_behalf_of": behalf,
            "next": next_task.activity_id if next_task else None,
        },
    )
    if not returning:
        handlers.run_on_complete(sop.code, ctx)
    return current


@transaction.atomic
def complete(
    actor: Any,
    task: TaskRef,
    *,
    output: str = "",
    notes: str = "",
    attachments: Iterable[File] = (),
    end_recurrence: bool = False,
    request: HttpRequest | None = None,
) -> Task:
    """Finish a claimed (non-decision) task with its output, notes and attachments.

    The activity's check handlers run first and may refuse. The next activity becomes an
    open task; after the last one the case is done. A recurring activity schedules its next
    round unless ``end_recurrence`` is given (e.g. the PKS has ended), which closes the case.
    """
    current = _load(task)
    if current.case.sop.activity(current.activity_id).is_decision:
        raise WorkflowError(ErrorCode.USE_DECIDE)
    return _finish(
        actor,
        current,
        kind=EventKind.COMPLETED,
        output=_text(output),
        notes=_text(notes),
        attachments=attachments,
        end_recurrence=end_recurrence,
        request=request,
    )


@transaction.atomic
def decide(
    actor: Any,
    task: TaskRef,
    approve: bool,
    *,
    output: str = "",
    notes: str = "",
    reason: str = "",
    attachments: Iterable[File] = (),
    request: HttpRequest | None = None,
) -> Task:
    """Answer a decision activity: ``approve`` follows its "Ya" branch, else its "Tidak" one.

    When the "Tidak" branch sends the file back to an earlier step, ``reason`` is required and
    is shown on the returned task.
    """
    current = _load(task)
    activity = current.case.sop.activity(current.activity_id)
    if activity.decision is None:
        raise WorkflowError(ErrorCode.NOT_A_DECISION)
    target = activity.decision.yes if approve else activity.decision.no
    why = _text(reason, required=current.case.sop.is_return(activity.id, target))
    return _finish(
        actor,
        current,
        kind=EventKind.DECIDED,
        outcome=str(Outcome.YES if approve else Outcome.NO),
        output=_text(output),
        notes=_text(notes),
        reason=why,
        target=target,
        attachments=attachments,
        request=request,
    )


@transaction.atomic
def return_to(
    actor: Any, task: TaskRef, activity_id: str, reason: str, *, request: HttpRequest | None = None
) -> Task:
    """Send the file back to an earlier activity that was already done, with a reason.

    The current task ends as "returned"; the earlier activity opens again for its role and
    the officer who did it last is notified. Attachments stay with the case.
    """
    current = _load(task)
    why = _text(reason, required=True)
    if activity_id not in {a.id for a in return_targets(current)}:
        raise WorkflowError(ErrorCode.BAD_RETURN_TARGET)
    return _finish(
        actor,
        current,
        kind=EventKind.RETURNED,
        reason=why,
        notes=why,
        target=activity_id,
        request=request,
    )


# --------------------------------------------------------------------------- supervision


@transaction.atomic
def reassign(
    actor: Any,
    task: TaskRef,
    to_user: User,
    *,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Task:
    """Give a waiting task to ``to_user``; only staff or the role above the executor may.

    ``to_user`` must be able to take the task (hold its role in the office). The task is
    claimed for them and they are notified.
    """
    current = _load(task)
    _require_open_case(current.case)
    if not is_supervisor(actor, current):
        raise WorkflowError(ErrorCode.NOT_SUPERVISOR)
    if not may_take(current, roles_in(to_user, current.office_id)):
        raise WorkflowError(ErrorCode.BAD_ASSIGNEE)
    why = _text(reason)
    now = timezone.now()
    previous = current.assignee_id
    won = Task.objects.filter(pk=current.pk, state__in=LIVE_STATES).update(
        state=TaskState.CLAIMED, assignee=to_user, claimed_at=now
    )
    if not won:
        raise WorkflowError(ErrorCode.TASK_NOT_OPEN)
    current.state, current.assignee, current.claimed_at = TaskState.CLAIMED, to_user, now
    _event(
        current.case,
        EventKind.REASSIGNED,
        actor,
        now,
        task=current,
        text=why,
        data={"to": str(to_user.pk), "from": str(previous) if previous else None},
    ).save()
    sop = current.case.sop
    _notify(
        [to_user],
        _("Anda ditugaskan pada perkara %(ref)s: %(act)s")
        % {"ref": current.case.reference, "act": _activity_label(sop, current.activity_id)},
        current.case,
        now,
    )
    record_event(
        actor,
        "sop.task.reassign",
        current,
        office=current.office,
        request=request,
        data={
            "case": current.case_id,
            "to": str(to_user.pk),
            "from": str(previous) if previous else None,
        },
    )
    return current


@transaction.atomic
def cancel(
    actor: Any, case: Case | int, reason: str, *, request: HttpRequest | None = None
) -> Case:
    """Stop a running case with a reason; only staff or the role above a waiting task's role.

    Waiting tasks are cancelled; done tasks, events and attachments stay.
    """
    pk = case.pk if isinstance(case, Case) else case
    current = Case.objects.select_related("office").get(pk=pk)
    _require_open_case(current)
    why = _text(reason, required=True)
    live = list(current.live_tasks())
    roles = roles_in(actor, current.office_id)
    if not any(is_supervisor(actor, t, roles) for t in live) and not (
        getattr(actor, "is_staff", False) and getattr(actor, "is_active", False)
    ):
        raise WorkflowError(ErrorCode.NOT_SUPERVISOR)
    now = timezone.now()
    if not Case.objects.filter(pk=pk, state=CaseState.OPEN).update(
        state=CaseState.CANCELLED, completed_at=now, cancel_reason=why[:500]
    ):
        raise WorkflowError(ErrorCode.CASE_CLOSED)
    Task.objects.filter(case=current, state__in=LIVE_STATES).update(
        state=TaskState.CANCELLED, completed_at=now
    )
    current.state, current.completed_at, current.cancel_reason = (
        CaseState.CANCELLED,
        now,
        why[:500],
    )
    _event(current, EventKind.CANCELLED, actor, now, text=why).save()
    record_event(
        actor,
        "sop.case.cancel",
        current,
        office=current.office,
        request=request,
        data={"tasks": [t.pk for t in live]},
    )
    return current


# --------------------------------------------------------------------------- attachments


def _max_bytes() -> int:
    return int(getattr(settings, "SIPADU_MAX_ATTACHMENT_BYTES", MAX_ATTACHMENT_BYTES))


def _store_attachment(
    actor: Any, case: Case, upload: File, task: Task | None, now: dt.datetime
) -> Attachment:
    size = upload.size or 0
    if size <= 0:
        raise WorkflowError(ErrorCode.FILE_EMPTY)
    if size > _max_bytes():
        raise WorkflowError(
            ErrorCode.FILE_TOO_LARGE,
            _("Berkas terlalu besar (maksimal %(mb)d MB).") % {"mb": _max_bytes() // 2**20},
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = (getattr(upload, "name", "") or "berkas").rsplit("/", 1)[-1][:255]
    attachment = Attachment(
        case=case,
        task=task,
        original_name=name,
        size=size,
        sha256=digest.hexdigest(),
        content_type=(getattr(upload, "content_type", "") or "")[:120],
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        uploaded_at=now,
    )
    # The file lands on disk before commit; a rollback leaves an unreferenced,
    # content-addressed file that a later upload of the same bytes simply reuses.
    attachment.file.save(name, upload, save=False)
    attachment.save()
    return attachment


@transaction.atomic
def attach_file(
    actor: Any,
    case: Case | int,
    upload: File,
    *,
    task: Task | None = None,
    request: HttpRequest | None = None,
) -> Attachment:
    """Attach a file to a running case (optionally to one of its tasks).

    Any officer of the case's office (or staff) may attach. The name the user gave the file
    is kept for display only: it is never used as a path and never written to the audit log.
    """
    pk = case.pk if isinstance(case, Case) else case
    current = Case.objects.select_related("office").get(pk=pk)
    _require_open_case(current)
    if not (getattr(actor, "is_staff", False) or roles_in(actor, current.office_id)):
        raise WorkflowError(ErrorCode.NOT_MEMBER)
    if task is not None and task.case_id != current.pk:
        raise WorkflowError(ErrorCode.TASK_NOT_OPEN)
    now = timezone.now()
    attachment = _store_attachment(actor, current, upload, task, now)
    _event(
        current, EventKind.ATTACHED, actor, now, task=task, data={"attachment": attachment.pk}
    ).save()
    record_event(
        actor,
        "sop.attachment.add",
        attachment,
        office=current.office,
        request=request,
        data={"case": current.pk, "size": attachment.size, "sha256": attachment.sha256},
    )
    return attachment


# --------------------------------------------------------------------------- breaches


def _breach_recipients(task: Task) -> list[User]:
    people: list[User] = []
    if task.assignee_id is not None:
        people.append(task.assignee)
    else:
        people.extend(users_with_role(task.office, task.queue_role))
    for code in supervisor_codes({task.role_code, task.queue_role}):
        people.extend(users_with_role(task.office, code))
    return people


def mark_breaches(now: dt.datetime | None = None, *, batch: int = 500) -> int:
    """Flag waiting tasks and open cases past their due time, once each, and notify.

    The assignee (or, for an unclaimed task, the holders of its role) and the holders of the
    role above (Role.supervisor) get a notification. Returns how many were flagged. Each
    breach is its own small transaction, so a long run never holds the write lock.
    """
    moment = now or timezone.now()
    flagged = 0
    due = (
        Task.objects.filter(state__in=LIVE_STATES, breached=False, due_at__lt=moment)
        .select_related("case", "case__revision", "office", "assignee")
        .order_by("due_at")[:batch]
    )
    for task in list(due):
        with transaction.atomic():
            if not Task.objects.filter(pk=task.pk, breached=False).update(breached=True):
                continue
            sop = task.case.sop
            _event(task.case, EventKind.BREACHED, None, moment, task=task).save()
            text = _("Tugas %(act)s pada perkara %(ref)s melewati waktu baku.") % {
                "act": _activity_label(sop, task.activity_id),
                "ref": task.case.reference,
            }
            sent = _notify(_breach_recipients(task), text, task.case, moment)
            record_event(
                None,
                "sop.task.breach",
                task,
                office=task.office,
                data={"case": task.case_id, "activity": task.activity_id, "notified": sent},
            )
            flagged += 1
    cases = (
        Case.objects.filter(state=CaseState.OPEN, breached=False, due_at__lt=moment)
        .select_related("office")
        .order_by("due_at")[:batch]
    )
    for case in list(cases):
        with transaction.atomic():
            if not Case.objects.filter(pk=case.pk, breached=False).update(breached=True):
                continue
            _event(case, EventKind.CASE_BREACHED, None, moment).save()
            people: list[User] = []
            for live in case.live_tasks().select_related("office", "assignee"):
                people.extend(_breach_recipients(live))
            text = _("Perkara %(ref)s melewati batas waktu penyelesaian.") % {"ref": case.reference}
            sent = _notify(people, text, case, moment)
            record_event(None, "sop.case.breach", case, office=case.office, data={"notified": sent})
            flagged += 1
    return flagged
