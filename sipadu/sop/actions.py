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
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, NamedTuple

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files import File
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import Exists, F, OuterRef
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from sipadu.audit import rawsql
from sipadu.audit.services import record_event
from sipadu.core.models import Membership, Office, Role, User
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
    SopRevision,
    Task,
    TaskState,
    local_year,
    parsed_sop,
    subject_of,
)
from sipadu.sop.queries import (
    acts_on_behalf,
    is_supervisor,
    may_take,
    overdue_tasks,
    return_targets,
    roles_in,
    supervisor_codes,
)
from sipadu.sop.sla import calendar_for, case_due, holidays_version_sql, standard_for

__all__ = [
    "WorkflowError",
    "attach_file",
    "cancel",
    "claim",
    "complete",
    "decide",
    "mark_breaches",
    "mark_notifications_read",
    "reassign",
    "release",
    "resume_task",
    "return_to",
    "start_case",
    "suspend_task",
]

#: Largest attachment accepted (bytes); settings.SIPADU_MAX_ATTACHMENT_BYTES overrides it.
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
#: Longest free text (output, notes, reasons) accepted, to keep a typo from filling the DB.
MAX_TEXT = 10_000

TaskRef = Task | int


# --------------------------------------------------------------------------- helpers


# The completion path is the runtime's hottest code (issue #3: 1,000 completions/s). Its
# statements are plain SQL built once per backend from the models' metadata and run on the
# driver's cursor (sipadu.audit.rawsql), with values prepared as the model fields prepare
# them: building an ORM query, or even passing through Django's cursor wrapper, costs more
# than SQLite takes to run the statement. Everything else uses the ORM.

#: The objects _load builds, in SELECT order: (relation from the task, model, alias).
_LOADED: tuple[tuple[str, type[models.Model], str], ...] = (
    ("", Task, "t"),
    ("case", Case, "c"),
    ("office", Office, "o"),
)

Converter = Callable[[Any, Any, Any], Any]


class _Part(NamedTuple):
    """One model of the task load: its columns' slice of the row and their converters."""

    model: type[models.Model]
    attnames: list[str]
    start: int
    stop: int
    #: (index in the slice, column, converters) of the columns that need converting.
    converting: tuple[tuple[int, Any, tuple[Converter, ...]], ...]


class _LoadPlan(NamedTuple):
    stmt: rawsql.Statement
    parts: tuple[_Part, ...]
    user: rawsql.Prep
    active: rawsql.Prep


@cache
def _load_plan(vendor: str) -> _LoadPlan:
    """The task load's statement and how to turn its row into model instances."""
    quote = connection.ops.quote_name
    columns: list[str] = []
    parts = []
    for _path, model, alias in _LOADED:
        fields = list(model._meta.concrete_fields)
        converting = []
        for i, field in enumerate(fields):
            col = field.get_col(alias)
            converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if converters:
                converting.append((i, col, tuple(converters)))
        start = len(columns)
        columns += [f"{alias}.{quote(f.column)}" for f in fields]
        parts.append(
            _Part(model, [f.attname for f in fields], start, len(columns), tuple(converting))
        )
    # The revision's content hash names the parsed SOP (cached per process): the revision
    # itself (and its YAML text) is not built.
    columns.append(f"r.{quote('content_hash')}")
    member = quote(Membership._meta.db_table)
    role = quote(Role._meta.db_table)
    for task_column in ("role_code", "queue_role"):
        # Does the actor (first parameter) actively hold this role in the task's office?
        columns.append(
            f"EXISTS (SELECT 1 FROM {member} m INNER JOIN {role} rl"  # noqa: S608 (names from _meta)
            f" ON m.{quote('role_id')} = rl.id WHERE m.{quote('user_id')} = %s"
            f" AND m.{quote('office_id')} = t.{quote('office_id')} AND m.{quote('active')} = %s"
            f" AND rl.{quote('code')} = t.{quote(task_column)})"
        )
    columns.append(holidays_version_sql())

    def table(model: type[models.Model]) -> str:
        return quote(model._meta.db_table)

    sql = (
        f"SELECT {', '.join(columns)} FROM {table(Task)} t"  # noqa: S608 (names from _meta)
        f" INNER JOIN {table(Case)} c ON c.id = t.{quote('case_id')}"
        f" INNER JOIN {table(SopRevision)} r ON r.id = c.{quote('revision_id')}"
        f" INNER JOIN {table(Office)} o ON o.id = t.{quote('office_id')}"
        " WHERE t.id = %s"
    )
    return _LoadPlan(
        rawsql.statement(sql, vendor),
        tuple(parts),
        rawsql.preparer(Membership._meta.get_field("user"), vendor),
        rawsql.preparer(Membership._meta.get_field("active"), vendor),
    )


def _load(task: TaskRef, actor: Any = None) -> Task:
    """The task, fresh, with its case (and the case's parsed SOP) and office.

    Always re-read: the caller's instance may be stale, and the checks need fresh state.
    The same statement says whether ``actor`` holds the task's executor and receiving roles
    in its office (see :func:`_roles`) and reads the holiday list's version for the office
    calendar: one statement instead of four. The case's revision and definition are not
    built (``case.sop`` comes from the per-process cache); reading them costs a query.
    """
    db = connections[DEFAULT_DB_ALIAS]  # one lookup of the thread's connection
    pk = task.pk if isinstance(task, Task) else task
    plan = _load_plan(db.vendor)
    user = plan.user(actor.pk if _may_hold_roles(actor) else None, db)
    active = plan.active(True, db)
    row = rawsql.fetchone(db, plan.stmt, [user, active, user, active, int(pk)])
    if row is None:
        raise WorkflowError(ErrorCode.TASK_NOT_OPEN)
    built = []
    for part in plan.parts:
        values = list(row[part.start : part.stop])
        for i, col, converters in part.converting:
            value = values[i]
            for convert in converters:
                value = convert(value, col, db)
            values[i] = value
        built.append(part.model.from_db(db.alias, part.attnames, values))
    current, case, office = built
    assert isinstance(current, Task) and isinstance(case, Case)
    # Wire the objects as select_related would (a case's office is its tasks' office).
    Task._meta.get_field("case").set_cached_value(current, case)
    Task._meta.get_field("office").set_cached_value(current, office)
    Case._meta.get_field("office").set_cached_value(case, office)
    content_hash, holds_role, holds_queue, holidays_n, holidays_at = row[plan.parts[-1].stop :]
    sop = parsed_sop(content_hash)
    if sop is not None:
        case._sop = sop
    current._holds_role = bool(holds_role)
    current._holds_queue = bool(holds_queue)
    current._holidays_version = (holidays_n, holidays_at)
    return current


def _insert(model: type[models.Model], values: dict[str, Any]) -> Any:
    """INSERT one row of ``model`` given by attname (others: defaults); returns its pk."""
    return rawsql.insert(connections[DEFAULT_DB_ALIAS], model._meta.label, values)


class _UpdatePlan(NamedTuple):
    stmt: rawsql.Statement
    set_preps: tuple[rawsql.Prep, ...]
    where_preps: tuple[rawsql.Prep, ...]


@cache
def _update_plan(
    label: str,
    vendor: str,
    changes: tuple[str, ...],
    where: tuple[tuple[str, bool], ...],
) -> _UpdatePlan:
    quote = connection.ops.quote_name
    meta = apps.get_model(label)._meta
    set_fields = [meta.get_field(name) for name in changes]
    terms = [(meta.get_field(name), is_null) for name, is_null in where]
    sql = (
        f"UPDATE {quote(meta.db_table)} SET "  # noqa: S608 (names from _meta)
        + ", ".join(f"{quote(f.column)} = %s" for f in set_fields)
        + " WHERE id = %s"
        + "".join(f" AND {quote(f.column)} {'IS NULL' if n else '= %s'}" for f, n in terms)
    )
    return _UpdatePlan(
        rawsql.statement(sql, vendor),
        tuple(rawsql.preparer(f, vendor) for f in set_fields),
        tuple(rawsql.preparer(f, vendor) for f, is_null in terms if not is_null),
    )


def _update_if(
    model: type[models.Model], pk: int, where: dict[str, Any], changes: dict[str, Any]
) -> int:
    """``model.objects.filter(pk=pk, **where).update(**changes)``; returns the rows changed.

    Foreign keys are given by field name with the related pk as value; None in ``where``
    means IS NULL.
    """
    db = connections[DEFAULT_DB_ALIAS]  # one lookup of the thread's connection
    plan = _update_plan(
        model._meta.label,
        db.vendor,
        tuple(changes),
        tuple((name, value is None) for name, value in where.items()),
    )
    params = [prep(v, db) for prep, v in zip(plan.set_preps, changes.values(), strict=True)]
    params.append(int(pk))
    params += [
        prep(v, db)
        for prep, v in zip(
            plan.where_preps, [v for v in where.values() if v is not None], strict=True
        )
    ]
    return rawsql.execute(db, plan.stmt, params)


def _may_hold_roles(actor: Any) -> bool:
    # The same rule as queries.roles_in: anonymous and deactivated users hold no role.
    return bool(getattr(actor, "is_authenticated", False) and getattr(actor, "is_active", True))


def _roles(task: Task, actor: Any) -> set[str]:
    """The roles among the task's executor and receiving roles that ``actor`` holds.

    Read from the annotations of :func:`_load`; enough for ``may_take`` and
    ``acts_on_behalf``, which look at no other role.
    """
    if not _may_hold_roles(actor):
        return set()
    roles = set()
    if getattr(task, "_holds_role", False):
        roles.add(task.role_code)
    if getattr(task, "_holds_queue", False):
        roles.add(task.queue_role)
    return roles


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


class _Opened(NamedTuple):
    """A task just opened by :func:`_new_task`: what its callers need of it."""

    pk: int
    activity_id: str
    return_reason: str


def _new_task(
    case: Case,
    sop: SOP,
    activity: Activity,
    calendar: WorkingCalendar,
    now: dt.datetime,
    *,
    previous: Task | None = None,
    return_reason: str = "",
) -> _Opened:
    queue_role, external = queue_role_of(sop, activity)
    standard = standard_for(activity, calendar, now)
    pk = _insert(
        Task,
        {
            "case_id": case.pk,
            "office_id": case.office_id,
            "activity_id": activity.id,
            "role_code": sop.role_of(activity.id),
            "queue_role": queue_role,
            "external": external,
            "started_at": now,
            "due_at": standard.due_at,
            "standard_seconds": standard.seconds,
            "previous_id": previous.pk if previous is not None else None,
            "return_reason": return_reason,
        },
    )
    return _Opened(pk, activity.id, return_reason)


def _event(
    case: Case,
    kind: Any,
    actor: Any,
    now: dt.datetime,
    *,
    task: Task | _Opened | None = None,
    text: str = "",
    data: dict[str, Any] | None = None,
    on_behalf_of: str = "",
) -> dict[str, Any]:
    """A timeline line (CaseEvent values by attname), written by :func:`_add_events`."""
    return {
        "case_id": case.pk,
        "task_id": task.pk if task is not None else None,
        "kind": kind,
        "at": now,
        "actor_id": actor.pk if getattr(actor, "is_authenticated", False) else None,
        "activity_id": task.activity_id if task is not None else "",
        "on_behalf_of": on_behalf_of,
        "text": text,
        "data": data or {},
    }


def _add_events(*events: dict[str, Any]) -> None:
    """Append timeline lines (one INSERT for all)."""
    rawsql.insert_many(connections[DEFAULT_DB_ALIAS], CaseEvent._meta.label, events)


def case_link(case: Case) -> str:
    """The URL of the case page in the officers' work pages (``kerja:case``)."""
    return reverse("kerja:case", args=[case.reference])


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
    _add_events(
        _event(
            case,
            EventKind.STARTED,
            actor,
            now,
            task=task,
            data={"revision": revision.number, "version": revision.version},
        )
    )
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
    current = _load(task, actor)
    _require_open_case(current.case)
    if not may_take(current, _roles(current, actor)):
        raise WorkflowError(ErrorCode.NOT_EXECUTOR)
    now = timezone.now()
    won = _update_if(
        Task,
        current.pk,
        {"state": TaskState.OPEN, "assignee": None},
        {"state": TaskState.CLAIMED, "assignee": actor.pk, "claimed_at": now},
    )
    if not won:
        fresh = Task.objects.only("state", "assignee_id").get(pk=current.pk)
        if fresh.state == TaskState.CLAIMED and fresh.assignee_id == actor.pk:
            return _load(current.pk)
        if fresh.state == TaskState.CLAIMED:
            raise WorkflowError(ErrorCode.TASK_TAKEN)
        raise WorkflowError(ErrorCode.TASK_NOT_OPEN)
    current.state, current.assignee, current.claimed_at = TaskState.CLAIMED, actor, now
    _add_events(_event(current.case, EventKind.CLAIMED, actor, now, task=current))
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
    _add_events(_event(current.case, EventKind.RELEASED, actor, now, task=current))
    record_event(
        actor,
        "sop.task.release",
        current,
        office=current.office,
        request=request,
        data={"case": current.case_id, "activity": current.activity_id},
    )
    return current


# --------------------------------------------------------------------------- suspension


def _may_pause(actor: Any, task: Task) -> bool:
    """Who may suspend or resume a waiting task.

    An officer: its assignee (claimed task), the role above or staff. Any other actor is the
    system acting on an outside event that the calling domain code has already checked (the
    citizen's upload from the status page, authenticated by the request's PIN); an
    anonymous web user never is.
    """
    if isinstance(actor, AnonymousUser):
        return False
    if not getattr(actor, "is_authenticated", False):
        return actor is not None
    if task.state == TaskState.CLAIMED and task.assignee_id == actor.pk:
        return True
    return is_supervisor(actor, task)


@transaction.atomic
def suspend_task(
    actor: Any, task: TaskRef, reason: str, *, request: HttpRequest | None = None
) -> Task:
    """Pause the SLA clock of a waiting task while it waits for someone outside the office.

    E.g. the request went back to the citizen for missing files. Until :func:`resume_task`
    the task has no due time (the breach job passes it over, the inbox shows it paused) and
    cannot be finished; it keeps its place and assignee. The due time held back, and the
    case's limit, move forward on resume by the office time spent suspended.
    """
    current = _load(task, actor)
    _require_open_case(current.case)
    if current.state not in LIVE_STATES:
        raise WorkflowError(
            ErrorCode.TASK_NOT_OPEN,
            _("Tugas yang sudah selesai atau dibatalkan tidak dapat ditangguhkan."),
        )
    if current.suspended_at is not None:
        raise WorkflowError(ErrorCode.TASK_SUSPENDED, _("Tugas ini sudah ditangguhkan."))
    if not _may_pause(actor, current):
        raise WorkflowError(ErrorCode.NOT_ASSIGNEE)
    why = _text(reason)[:300]
    if not why:
        raise WorkflowError(ErrorCode.REASON_REQUIRED, _("Alasan penangguhan wajib diisi."))
    now = timezone.now()
    # due_at → NULL in the same statement that keeps it (the UPDATE reads the old row).
    won = Task.objects.filter(
        pk=current.pk, state__in=LIVE_STATES, suspended_at__isnull=True
    ).update(suspended_at=now, suspended_due_at=F("due_at"), due_at=None, suspend_reason=why)
    if not won:
        raise WorkflowError(ErrorCode.TASK_SUSPENDED, _("Tugas ini sudah ditangguhkan."))
    held = current.due_at
    current.suspended_at, current.suspended_due_at, current.due_at = now, held, None
    current.suspend_reason = why
    _add_events(
        _event(
            current.case,
            EventKind.SUSPENDED,
            actor,
            now,
            task=current,
            text=why,
            data={"due_at": held.isoformat() if held else None},
        )
    )
    record_event(
        actor,
        "sop.task.suspend",
        current,
        office=current.office,
        request=request,
        data={
            "case": current.case_id,
            "activity": current.activity_id,
            "due_at": held.isoformat() if held else None,
        },
    )
    return current


@transaction.atomic
def resume_task(actor: Any, task: TaskRef, *, request: HttpRequest | None = None) -> Task:
    """Restart the SLA clock of a suspended task (the awaited answer has come).

    The due time held back moves forward by the office time (working calendar of the
    office) that passed while suspended, and so does the case's limit when it has one;
    that time adds up in ``paused_seconds`` and does not count as the officer's work.
    """
    current = _load(task, actor)
    _require_open_case(current.case)
    if current.state not in LIVE_STATES or current.suspended_at is None:
        raise WorkflowError(ErrorCode.NOT_SUSPENDED)
    if not _may_pause(actor, current):
        raise WorkflowError(ErrorCode.NOT_ASSIGNEE)
    now = timezone.now()
    calendar = calendar_for(current.office, version=getattr(current, "_holidays_version", None))
    paused = calendar.working_time_between(current.suspended_at, now)
    seconds = int(paused.total_seconds())
    held = current.suspended_due_at
    due = calendar.add_working(held, paused) if held is not None else None
    won = Task.objects.filter(
        pk=current.pk, state__in=LIVE_STATES, suspended_at=current.suspended_at
    ).update(
        suspended_at=None,
        suspended_due_at=None,
        suspend_reason="",
        due_at=due,
        paused_seconds=F("paused_seconds") + seconds,
    )
    if not won:
        raise WorkflowError(ErrorCode.NOT_SUSPENDED)
    since = current.suspended_at
    current.suspended_at, current.suspended_due_at, current.suspend_reason = None, None, ""
    current.due_at = due
    current.paused_seconds += seconds
    case = current.case
    limit = None
    if case.due_at is not None:
        limit = calendar.add_working(case.due_at, paused)
        Case.objects.filter(pk=case.pk).update(due_at=limit)
        case.due_at = limit
    data = {
        "paused_seconds": seconds,
        "since": since.isoformat(),
        "due_at": due.isoformat() if due else None,
        "case_due_at": limit.isoformat() if limit else None,
    }
    _add_events(_event(case, EventKind.RESUMED, actor, now, task=current, data=data))
    record_event(
        actor,
        "sop.task.resume",
        current,
        office=current.office,
        request=request,
        data={"case": case.pk, "activity": current.activity_id, **data},
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
    roles = _roles(current, actor)
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
    # After the checks, whose message says more (e.g. which files the citizen still owes).
    if current.suspended_at is not None:
        raise WorkflowError(ErrorCode.TASK_SUSPENDED)

    now = timezone.now()
    calendar = calendar_for(current.office, version=getattr(current, "_holidays_version", None))
    # Office time taken, without the time the task spent suspended (waiting for others).
    taken = calendar.working_time_between(current.started_at, now).total_seconds()
    work = max(0, int(taken) - current.paused_seconds)
    within = None if current.due_at is None else now <= current.due_at
    new_state = TaskState.RETURNED if returning else TaskState.DONE
    won = _update_if(
        Task,
        current.pk,
        {"state": TaskState.CLAIMED, "assignee": actor.pk, "suspended_at": None},
        {
            "state": new_state,
            "completed_at": now,
            "completed_by": actor.pk,
            "outcome": outcome,
            "output": output,
            "notes": notes,
            "on_behalf_of": behalf,
            "work_seconds": work,
            "within_standard": within,
        },
    )
    if not won:
        raise WorkflowError(ErrorCode.TASK_NOT_OPEN)
    current.state, current.completed_at, current.completed_by = new_state, now, actor
    current.outcome, current.output, current.notes = outcome, output, notes
    current.on_behalf_of, current.work_seconds = behalf, work
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

    next_task: _Opened | None = None
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
        _update_if(Case, case.pk, {}, {"state": CaseState.DONE, "completed_at": now})
        case.state, case.completed_at = CaseState.DONE, now
        events.append(_event(case, EventKind.FINISHED, actor, now))
    _add_events(*events)

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
    current = _load(task, actor)
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
    current = _load(task, actor)
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
    current = _load(task, actor)
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
    _add_events(
        _event(
            current.case,
            EventKind.REASSIGNED,
            actor,
            now,
            task=current,
            text=why,
            data={"to": str(to_user.pk), "from": str(previous) if previous else None},
        )
    )
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
    _add_events(_event(current, EventKind.CANCELLED, actor, now, text=why))
    record_event(
        actor,
        "sop.case.cancel",
        current,
        office=current.office,
        request=request,
        data={"tasks": [t.pk for t in live]},
    )
    handlers.run_on_cancel(current.sop.code, current, actor)
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
    _add_events(
        _event(
            current, EventKind.ATTACHED, actor, now, task=task, data={"attachment": attachment.pk}
        )
    )
    record_event(
        actor,
        "sop.attachment.add",
        attachment,
        office=current.office,
        request=request,
        data={"case": current.pk, "size": attachment.size, "sha256": attachment.sha256},
    )
    return attachment


# --------------------------------------------------------------------------- notifications


@transaction.atomic
def mark_notifications_read(
    user: Any, ids: Iterable[int] | None = None, *, request: HttpRequest | None = None
) -> int:
    """Mark ``user``'s unread notifications as read: those of ``ids``, or all when None.

    Only the user's own notifications are touched (ids of someone else's are ignored).
    Returns how many changed; one audit event records which, when any did.
    """
    if not getattr(user, "is_authenticated", False):
        return 0
    unread = Notification.objects.filter(user=user, read=False)
    if ids is not None:
        unread = unread.filter(pk__in=[int(pk) for pk in ids])
    marked = list(unread.values_list("pk", flat=True))
    if not marked:
        return 0
    Notification.objects.filter(pk__in=marked, read=False).update(read=True)
    record_event(
        user,
        "sop.notification.read",
        user,
        request=request,
        data={"notifications": marked},
    )
    return len(marked)


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
    due = overdue_tasks(moment)[:batch]
    for task in list(due):
        with transaction.atomic():
            if not Task.objects.filter(pk=task.pk, breached=False).update(breached=True):
                continue
            sop = task.case.sop
            _add_events(_event(task.case, EventKind.BREACHED, None, moment, task=task))
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
        # The case's clock stops while its task waits suspended (resume moves the limit).
        .exclude(
            Exists(
                Task.objects.filter(
                    case=OuterRef("pk"), state__in=LIVE_STATES, suspended_at__isnull=False
                )
            )
        )
        .select_related("office")
        .order_by("due_at")[:batch]
    )
    for case in list(cases):
        with transaction.atomic():
            if not Case.objects.filter(pk=case.pk, breached=False).update(breached=True):
                continue
            _add_events(_event(case, EventKind.CASE_BREACHED, None, moment))
            people: list[User] = []
            for live in case.live_tasks().select_related("office", "assignee"):
                people.extend(_breach_recipients(live))
            text = _("Perkara %(ref)s melewati batas waktu penyelesaian.") % {"ref": case.reference}
            sent = _notify(people, text, case, moment)
            record_event(None, "sop.case.breach", case, office=case.office, data={"notified": sent})
            flagged += 1
    return flagged
