"""The officers' work pages: Kotak Tugas, the case page, starting and searching cases.

Views parse and validate input, then call :mod:`sipadu.sop.actions`; every refused move
(:class:`WorkflowError`) becomes its Indonesian message on the page with a 4xx status.
An officer only ever sees cases of offices where he holds an active role (404 otherwise).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from sipadu.core.models import Membership, Office, User
from sipadu.core.services import users_with_role
from sipadu.sop import actions
from sipadu.sop.error_codes import ErrorCode, WorkflowError
from sipadu.sop.models import (
    LIVE_STATES,
    Attachment,
    Case,
    CaseEvent,
    Notification,
    SopDefinition,
    Task,
)
from sipadu.sop.queries import Move, allowed_actions, inbox_for, return_targets
from sipadu.sop.sla import annotate_urgency
from sipadu.sop.work_forms import (
    AttachForm,
    CancelForm,
    CompleteForm,
    DecideForm,
    InboxFilterForm,
    ReassignForm,
    ReturnForm,
    SearchForm,
    StartCaseForm,
)

#: Rows per page of Kotak Tugas.
PER_PAGE = 25
#: Most cases a search lists.
SEARCH_LIMIT = 50

#: The HTTP status of each refusal: someone else got there first → 409, not yours → 403.
_STATUS = {
    ErrorCode.TASK_TAKEN: 409,
    ErrorCode.TASK_NOT_OPEN: 409,
    ErrorCode.CASE_CLOSED: 409,
    ErrorCode.NOT_MEMBER: 403,
    ErrorCode.NOT_EXECUTOR: 403,
    ErrorCode.NOT_SUPERVISOR: 403,
    ErrorCode.NOT_ASSIGNEE: 403,
}


def status_for(error: WorkflowError) -> int:
    """The 4xx status a refused move is answered with."""
    return _STATUS.get(error.code, 400)


# --------------------------------------------------------------------------- presentation


def humanize_left(left: dt.timedelta | None) -> str:
    """Time left as officers say it: "sisa 2 jam 10 menit", "terlambat 1 hari"; "" if none."""
    if left is None:
        return ""
    late = left < dt.timedelta(0)
    minutes_total = int(abs(left).total_seconds()) // 60
    days, rest = divmod(minutes_total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts: list[str] = []
    if days:
        parts.append(ngettext("%(n)d hari", "%(n)d hari", days) % {"n": days})
    if hours:
        parts.append(ngettext("%(n)d jam", "%(n)d jam", hours) % {"n": hours})
    if minutes and not days:
        parts.append(ngettext("%(n)d menit", "%(n)d menit", minutes) % {"n": minutes})
    text = " ".join(parts) or _("kurang dari 1 menit")
    if late:
        return _("terlambat %(time)s") % {"time": text}
    return _("sisa %(time)s") % {"time": text}


def decorate(tasks: list[Task], now: dt.datetime | None = None) -> list[Task]:
    """Attach what a task row shows: activity, executor, urgency and time left in words.

    Reads only the already loaded case revision (parsed once per process), so a page of
    tasks costs no extra query.
    """
    moment = now or timezone.now()
    annotate_urgency(tasks, moment)
    for task in tasks:
        sop = task.case.revision.sop
        activity = sop.activity(task.activity_id)
        task.activity = activity
        task.executor_label = sop.executor(activity.executor).name
        task.left_text = humanize_left(task.time_left)
        task.row_class = {
            "overdue": "sla-late",
            "near": "sla-near",
            "ok": "sla-ok",
            "paused": "sla-paused",
        }.get(str(task.urgency), "")
    return tasks


# --------------------------------------------------------------------------- access


def visible_offices(user: Any) -> QuerySet[Office]:
    """The offices whose cases ``user`` may open: where he holds an active role (staff: all)."""
    if user.is_staff:
        return Office.objects.all()
    ids = Membership.objects.filter(user=user, active=True).values("office_id")
    return Office.objects.filter(pk__in=ids)


def visible_cases(user: Any) -> QuerySet[Case]:
    """Cases of the offices ``user`` may see."""
    return Case.objects.filter(office__in=visible_offices(user))


def case_or_404(request: HttpRequest, reference: str) -> Case:
    """The case ``reference`` if the user may see it; 404 otherwise (no hint it exists)."""
    case = get_object_or_404(
        visible_cases(request.user).select_related("definition", "revision", "office"),
        reference=reference,
    )
    # Show its times in the case's own zone, which may differ from the session's office.
    timezone.activate(case.office.tzinfo)
    return case


def require_office(request: HttpRequest) -> Office:
    """The officer's current office; 403 for a user without any office role."""
    office = getattr(request, "office", None)
    if office is None:
        raise PermissionDenied(_("Anda belum terdaftar sebagai petugas di kantor mana pun."))
    return office


def available_definitions(office: Office) -> list[SopDefinition]:
    """The active SOPs the office runs (its region's SOPs and those bound to no region)."""
    definitions = SopDefinition.objects.select_related("current").filter(
        active=True, current__isnull=False
    )
    region = str(office.region_id)
    return [
        d for d in definitions if d.current is not None and d.current.sop.office in ("", region)
    ]


def unread_count(user: Any) -> int:
    """How many notifications the user has not read yet (the inbox badge)."""
    return Notification.objects.filter(user=user, read=False).count()


# --------------------------------------------------------------------------- inbox


@dataclass
class InboxPage:
    """One page of Kotak Tugas without a COUNT over the whole queue (it can be huge)."""

    tasks: list[Task]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def inbox_page(
    user: Any, office: Office, *, sop_code: str = "", state: str = "", number: int = 1
) -> InboxPage:
    """The tasks of one inbox page, filtered, sorted by due time and decorated."""
    tasks = inbox_for(user, office)
    if sop_code:
        tasks = tasks.filter(case__definition__code=sop_code)
    if state:
        tasks = tasks.filter(state=state)
    start = (number - 1) * PER_PAGE
    rows = list(tasks[start : start + PER_PAGE + 1])
    return InboxPage(decorate(rows[:PER_PAGE]), number, len(rows) > PER_PAGE)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Kotak Tugas: my claimed tasks and the waiting tasks of my roles in my office."""
    office = require_office(request)
    definitions = available_definitions(office)
    form = InboxFilterForm(request.GET or None, definitions=definitions)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        filters = {
            "sop_code": form.cleaned_data["sop"] or "",
            "state": form.cleaned_data["state"] or "",
            "number": form.cleaned_data["page"] or 1,
        }
    page = inbox_page(request.user, office, **filters)
    context = {
        "form": form,
        "page": page,
        "unread": unread_count(request.user),
        "query": _filter_query(filters),
    }
    template = "sop/work/inbox.html"
    if getattr(request, "htmx", False) and request.htmx.target == "inbox-list":
        template = "sop/work/_inbox_list.html"
    return render(request, template, context)


def _filter_query(filters: dict[str, Any]) -> str:
    # The pager links keep the filters (SOP code and state: no personal data).
    parts = [f"{k}={filters[k]}" for k in ("sop_code", "state") if filters.get(k)]
    return "&".join(p.replace("sop_code=", "sop=") for p in parts)


def _task_or_404(request: HttpRequest, pk: int) -> Task:
    return get_object_or_404(
        Task.objects.select_related("case", "case__revision", "case__definition", "assignee"),
        pk=pk,
        office__in=visible_offices(request.user),
    )


def _row_response(
    request: HttpRequest, task: Task, *, error: str = "", status: int = 200
) -> HttpResponse:
    task = _task_or_404(request, task.pk)
    decorate([task])
    return render(request, "sop/work/_task_row.html", {"task": task, "error": error}, status=status)


@login_required
@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a waiting task; from the inbox (htmx) answers with the updated row."""
    task = _task_or_404(request, pk)
    try:
        actions.claim(request.user, task.pk, request=request)
    except WorkflowError as refused:
        return _refused(request, task, refused)
    if getattr(request, "htmx", False):
        return _row_response(request, task)
    messages.success(request, _("Tugas berhasil diambil."))
    return redirect("kerja:case", reference=task.case.reference)


@login_required
@require_POST
def release(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a claimed task back to the queue of its role."""
    task = _task_or_404(request, pk)
    try:
        actions.release(request.user, task.pk, request=request)
    except WorkflowError as refused:
        return _refused(request, task, refused)
    if getattr(request, "htmx", False):
        return _row_response(request, task)
    messages.success(request, _("Tugas dilepas kembali ke antrean."))
    return redirect("kerja:case", reference=task.case.reference)


def _refused(request: HttpRequest, task: Task, refused: WorkflowError) -> HttpResponse:
    """A refused claim/release: the row with the message (htmx) or the case page, 4xx."""
    if getattr(request, "htmx", False):
        return _row_response(request, task, error=refused.message, status=status_for(refused))
    return case_page(request, task.case, error=refused.message, status=status_for(refused))


# --------------------------------------------------------------------------- case page


def case_page(
    request: HttpRequest,
    case: Case,
    *,
    error: str = "",
    status: int = 200,
    forms: dict[str, Any] | None = None,
) -> HttpResponse:
    """Render the case page: header, timeline, current activity, attachments, allowed moves."""
    timezone.activate(case.office.tzinfo)
    sop = case.revision.sop
    tasks = list(
        case.tasks.select_related("assignee", "completed_by", "case__revision").order_by(
            "started_at", "id"
        )
    )
    current = next((t for t in tasks if t.state in LIVE_STATES), None)
    moves: set[Move] = set()
    activity = None
    if current is not None:
        decorate([current])
        activity = sop.activity(current.activity_id)
        moves = allowed_actions(current, request.user)
    events = list(CaseEvent.objects.filter(case=case).select_related("actor").order_by("at", "id"))
    for event in events:
        event.activity_label = _activity_label(sop, event.activity_id) if event.activity_id else ""
    bound = forms or {}
    context: dict[str, Any] = {
        "case": case,
        "sop": sop,
        "tasks": tasks,
        "current": current,
        "activity": activity,
        "moves": {m.value for m in moves},
        "events": events,
        "attachments": list(case.attachments.select_related("uploaded_by")),
        "error": error,
        "attach_form": bound.get("attach") or AttachForm(),
        "can_attach": case.state == "open"
        and (request.user.is_staff or _holds_role(request.user, case.office_id)),
        "can_cancel": False,
    }
    if current is not None:
        context["complete_form"] = bound.get("complete") or CompleteForm()
        context["decide_form"] = bound.get("decide") or DecideForm()
        if Move.RETURN in moves:
            context["return_form"] = bound.get("return") or ReturnForm(
                targets=_return_choices(current)
            )
        if Move.REASSIGN in moves:
            context["reassign_form"] = bound.get("reassign") or ReassignForm(
                candidates=_reassign_choices(current)
            )
        if Move.CANCEL in moves:
            context["can_cancel"] = True
            context["cancel_form"] = bound.get("cancel") or CancelForm()
    return render(request, "sop/work/case.html", context, status=status)


def _holds_role(user: Any, office_id: int) -> bool:
    return Membership.objects.filter(user=user, office_id=office_id, active=True).exists()


def _activity_label(sop: Any, activity_id: str) -> str:
    try:
        activity = sop.activity(activity_id)
    except KeyError:
        return activity_id
    return f"{activity.number}. {activity.text}"


def _return_choices(task: Task) -> list[tuple[str, str]]:
    return [(a.id, f"{a.number}. {a.text}") for a in return_targets(task)]


def _reassign_choices(task: Task) -> list[tuple[str, str]]:
    people = {u.pk: u for u in users_with_role(task.office, task.role_code)}
    if task.external:
        people.update({u.pk: u for u in users_with_role(task.office, task.queue_role)})
    return [
        (str(u.pk), u.get_full_name() or u.username)
        for u in sorted(people.values(), key=lambda u: u.username)
        if u.pk != task.assignee_id
    ]


@login_required
def case_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """The case page."""
    return case_page(request, case_or_404(request, reference))


def _live_task(case: Case, pk: int) -> Task:
    task = case.tasks.select_related("case", "case__revision", "assignee").filter(pk=pk).first()
    if task is None:
        raise Http404
    return task


def _form_error(form: Any) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@login_required
@require_POST
def task_move(request: HttpRequest, reference: str, pk: int, move: str) -> HttpResponse:
    """Complete, decide, return, reassign or resume the case's task ``pk`` (a form on the case
    page)."""
    case = case_or_404(request, reference)
    task = _live_task(case, pk)
    user = request.user
    form: Any
    try:
        if move == "complete":
            form = CompleteForm(request.POST, request.FILES)
            if not form.is_valid():
                return case_page(
                    request, case, error=_form_error(form), status=400, forms={"complete": form}
                )
            actions.complete(
                user,
                task.pk,
                output=form.cleaned_data["output"],
                notes=form.cleaned_data["notes"],
                attachments=form.cleaned_data["files"],
                end_recurrence=form.cleaned_data["end_recurrence"],
                request=request,
            )
            done = _("Kegiatan selesai; tugas berikutnya sudah diteruskan.")
        elif move == "decide":
            form = DecideForm(request.POST, request.FILES)
            if not form.is_valid():
                return case_page(
                    request, case, error=_form_error(form), status=400, forms={"decide": form}
                )
            actions.decide(
                user,
                task.pk,
                form.cleaned_data["answer"] == "yes",
                output=form.cleaned_data["output"],
                notes=form.cleaned_data["notes"],
                reason=form.cleaned_data["reason"],
                attachments=form.cleaned_data["files"],
                request=request,
            )
            done = _("Keputusan dicatat.")
        elif move == "return":
            form = ReturnForm(request.POST, targets=_return_choices(task))
            if not form.is_valid():
                return case_page(
                    request, case, error=_form_error(form), status=400, forms={"return": form}
                )
            actions.return_to(
                user,
                task.pk,
                form.cleaned_data["target"],
                form.cleaned_data["reason"],
                request=request,
            )
            done = _("Berkas dikembalikan.")
        elif move == "reassign":
            form = ReassignForm(request.POST, candidates=_reassign_choices(task))
            if not form.is_valid():
                return case_page(
                    request, case, error=_form_error(form), status=400, forms={"reassign": form}
                )
            target = User.objects.get(pk=form.cleaned_data["to_user"])
            actions.reassign(
                user, task.pk, target, reason=form.cleaned_data["reason"], request=request
            )
            done = _("Tugas dialihkan.")
        elif move == "resume":
            actions.resume_task(user, task.pk, request=request)
            done = _("Tugas dilanjutkan; waktu baku berjalan lagi.")
        else:
            raise Http404
    except WorkflowError as refused:
        return case_page(request, case, error=refused.message, status=status_for(refused))
    messages.success(request, done)
    return redirect("kerja:case", reference=case.reference)


@login_required
@require_POST
def cancel_case(request: HttpRequest, reference: str) -> HttpResponse:
    """Stop a running case with a reason (supervisors and staff)."""
    case = case_or_404(request, reference)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return case_page(request, case, error=_form_error(form), status=400, forms={"cancel": form})
    try:
        actions.cancel(request.user, case.pk, form.cleaned_data["reason"], request=request)
    except WorkflowError as refused:
        return case_page(request, case, error=refused.message, status=status_for(refused))
    messages.success(request, _("Perkara dibatalkan."))
    return redirect("kerja:case", reference=case.reference)


@login_required
@require_POST
def attach(request: HttpRequest, reference: str) -> HttpResponse:
    """Attach one file to a running case."""
    case = case_or_404(request, reference)
    form = AttachForm(request.POST, request.FILES)
    if not form.is_valid():
        return case_page(request, case, error=_form_error(form), status=400, forms={"attach": form})
    current = case.live_tasks().first()
    try:
        actions.attach_file(
            request.user, case.pk, form.cleaned_data["file"], task=current, request=request
        )
    except WorkflowError as refused:
        return case_page(request, case, error=refused.message, status=status_for(refused))
    messages.success(request, _("Berkas dilampirkan."))
    return redirect("kerja:case", reference=case.reference)


@login_required
def download(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    """Send an attachment to an officer of the case's office (never a public media URL)."""
    case = case_or_404(request, reference)
    attachment = get_object_or_404(Attachment, pk=pk, case=case)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --------------------------------------------------------------------------- start & search


@login_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """Start a case of an SOP the current office runs."""
    office = require_office(request)
    definitions = available_definitions(office)
    form = StartCaseForm(request.POST or None, definitions=definitions)
    if request.method == "POST":
        if form.is_valid():
            try:
                case = actions.start_case(
                    request.user,
                    form.cleaned_data["sop"],
                    office,
                    subject_label=form.cleaned_data["subject_label"],
                    request=request,
                )
            except WorkflowError as refused:
                return render(
                    request,
                    "sop/work/start.html",
                    {"form": form, "error": refused.message},
                    status=status_for(refused),
                )
            messages.success(request, _("Perkara %(ref)s dimulai.") % {"ref": case.reference})
            return redirect("kerja:case", reference=case.reference)
        return render(request, "sop/work/start.html", {"form": form}, status=400)
    return render(request, "sop/work/start.html", {"form": form})


def search_cases(user: Any, text: str) -> list[Case]:
    """Cases the user may see whose reference or subject label contains ``text``."""
    text = text.strip()
    return list(
        visible_cases(user)
        .filter(
            Q(reference__iexact=text)
            | Q(reference__icontains=text)
            | Q(subject_label__icontains=text)
        )
        .select_related("definition", "office")
        .order_by("-started_at")[:SEARCH_LIMIT]
    )


@login_required
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    """Find cases by reference number or subject; the query travels by POST, not in the URL."""
    form = SearchForm(request.POST or None)
    results: list[Case] | None = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            results = search_cases(request.user, form.cleaned_data["q"])
            exact = [c for c in results if c.reference.lower() == form.cleaned_data["q"].lower()]
            if len(exact) == 1:
                return redirect("kerja:case", reference=exact[0].reference)
        else:
            status = 400
    return render(
        request, "sop/work/search.html", {"form": form, "results": results}, status=status
    )


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark the user's notifications as read: the ``id`` values posted, or all when none is."""
    posted = request.POST.getlist("id")
    # Notification ids are positive integers; anything else posted is ignored.
    ids: list[int] | None = None
    if posted:
        ids = [int(v) for v in posted if v.isascii() and v.isdigit() and len(v) <= 18]
    marked = actions.mark_notifications_read(request.user, ids, request=request)
    if marked:
        messages.success(
            request,
            ngettext(
                "%(n)d notifikasi ditandai sudah dibaca.",
                "%(n)d notifikasi ditandai sudah dibaca.",
                marked,
            )
            % {"n": marked},
        )
    return redirect("kerja:notifications")


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The user's latest notifications (overdue work, returned files, reassignments)."""
    items = list(Notification.objects.filter(user=request.user).select_related("case")[:50])
    return render(
        request,
        "sop/work/notifications.html",
        {"items": items, "unread": sum(1 for n in items if not n.read)},
    )
