"""The officers' side of a document request: the case-page panel and the forms it posts.

The panel is registered with :mod:`sipadu.sop.panels` for the Dik Jamila SOP and shows what
the current step needs: the checklist against the files (1), the registry match side by side
(2), the draft with its change history (3–6), the hand-over (8). Its forms post here; each
view calls one action and goes back to the case page, or shows the case page again with the
refusal (4xx).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sipadu.audit.services import record_event
from sipadu.core.second_factor import passed_second_factor
from sipadu.layanan import actions, bulk, documents, issuing
from sipadu.layanan import fields as field_catalogue
from sipadu.layanan.forms import ChecklistForm, DraftForm, HandoverForm, MissingForm
from sipadu.layanan.matching import match_rows, run_match
from sipadu.layanan.models import DocumentRequest, RequestFile, RequestStatus
from sipadu.sop import work_views as sop_views
from sipadu.sop.models import Case, TaskState
from sipadu.sop.panels import CasePanel, register

#: Steps at which the draft is shown next to the claimed data and the files.
DRAFT_STEPS = ("entri-siak", "periksa-draft", "verifikasi", "tte", "cetak", "serah")
#: Request attribute carrying a refused draft form to the panel (values kept, errors shown).
REFUSED_DRAFT_FORM = "layanan_refused_draft_form"


def _request_of(case: Case) -> DocumentRequest | None:
    return (
        DocumentRequest.objects.select_related("document_type", "office", "penduduk")
        .filter(case=case)
        .first()
    )


def panel_context(request: HttpRequest, case: Case, current: Any) -> dict[str, Any] | None:
    """What the layanan panel shows on the case page (None: the case has no request)."""
    req = _request_of(case)
    if req is None:
        return None
    activity = current.activity_id if current is not None else ""
    holder = (
        current is not None
        and current.state == TaskState.CLAIMED
        and current.assignee_id == request.user.pk
    )
    requirements = list(req.document_type.requirements.all())
    grouped = req.requirement_files()
    checklist = [
        {
            "requirement": r,
            "ticked": bool((req.checklist or {}).get(r.code)),
            "files": grouped.get(r.pk, []),
            "missing": r.code in (req.missing or []),
        }
        for r in requirements
    ]
    context: dict[str, Any] = {
        "req": req,
        "case": case,
        "activity": activity,
        "holder": holder,
        "checklist": checklist,
        "other_files": grouped.get(None, []),
        "claimed": [
            (field_catalogue.label(k), field_catalogue.display(k, v))
            for k, v in (req.data or {}).items()
        ],
        "waiting": req.status == RequestStatus.WAITING_CITIZEN,
        "issued": documents.current_issued(req),
    }
    if activity == "kelengkapan" and holder:
        context["checklist_form"] = ChecklistForm(requirements)
        context["missing_form"] = MissingForm(requirements)
    if activity == "kesesuaian-siak":
        result = run_match(req)
        context["match_rows"] = match_rows(result)
        context["match_ok"] = result.all_match
        context["match_found"] = result.penduduk is not None
        # Reading a resident's registry values is an audited event (UU 27/2022).
        if result.penduduk is not None:
            record_event(
                request.user,
                "registry.penduduk.view",
                result.penduduk,
                office=case.office,
                request=request,
                data={"via": "layanan.match", "case": case.pk},
            )
    if activity in DRAFT_STEPS or req.draft:
        codes = actions.draft_field_codes(req.document_type)
        claimed = req.data or {}
        draft = req.draft or {}
        context["draft_rows"] = [
            {
                "code": code,
                "label": field_catalogue.label(code),
                "claimed": field_catalogue.display(code, claimed.get(code, "")),
                "draft": field_catalogue.display(code, draft.get(code, "")),
                "differs": str(claimed.get(code, "")) != str(draft.get(code, "")),
            }
            for code in codes
        ]
        context["draft_edits"] = list(req.draft_edits.select_related("actor"))
        if activity == "entri-siak" and holder:
            # After a refused save the form comes back as typed, with its errors.
            refused_form = getattr(request, REFUSED_DRAFT_FORM, None)
            context["draft_form"] = refused_form or DraftForm(codes, initial=draft)
    if activity == "tte":
        context["otp_ok"] = passed_second_factor(request.user)
        # With a remote TTE service the generic "Selesai" cannot sign (the service needs
        # the signer's passphrase): the panel offers the TTE form of /tte/ for this task.
        if current is not None and issuing.needs_passphrase() and bulk.is_signer(request):
            mine = current.state == TaskState.OPEN or holder
            if mine:
                context["tte_form"] = bulk.BulkForm([current], passphrase=True)
                context["tte_task"] = current
    if activity == "serah" and holder:
        context["handover_form"] = HandoverForm(initial={"mode": req.handover_mode or "softcopy"})
    return context


register(CasePanel("dik-jamila-mewa", "layanan/work/panel.html", panel_context, order=10))


def _case_and_request(request: HttpRequest, reference: str) -> tuple[Case, DocumentRequest]:
    case = sop_views.case_or_404(request, reference)
    req = get_object_or_404(
        DocumentRequest.objects.select_related("document_type", "office", "case"), case=case
    )
    return case, req


def _refused(request: HttpRequest, case: Case, message: str, status: int = 400) -> HttpResponse:
    return sop_views.case_page(request, case, error=message, status=status)


def _form_error(form: Any) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@login_required
@require_POST
def save_checklist(request: HttpRequest, reference: str) -> HttpResponse:
    """Step 1: save the ticks."""
    case, req = _case_and_request(request, reference)
    form = ChecklistForm(list(req.document_type.requirements.all()), request.POST)
    if not form.is_valid():
        return _refused(request, case, _form_error(form))
    try:
        actions.save_checklist(request.user, req, form.cleaned_data["ticked"], request=request)
    except actions.LayananError as refused:
        return _refused(request, case, refused.message, 403)
    messages.success(request, _("Ceklis persyaratan disimpan."))
    return redirect("kerja:case", reference=case.reference)


@login_required
@require_POST
def ask_missing(request: HttpRequest, reference: str) -> HttpResponse:
    """Step 1: send the request back to the citizen with what is missing."""
    case, req = _case_and_request(request, reference)
    form = MissingForm(list(req.document_type.requirements.all()), request.POST)
    if not form.is_valid():
        return _refused(request, case, _form_error(form))
    try:
        actions.request_missing(
            request.user,
            req,
            form.cleaned_data["missing"],
            form.cleaned_data["note"],
            request=request,
        )
    except actions.LayananError as refused:
        return _refused(request, case, refused.message)
    messages.success(request, _("Permintaan kelengkapan dikirim ke pemohon."))
    return redirect("kerja:case", reference=case.reference)


@login_required
@require_POST
def save_draft(request: HttpRequest, reference: str) -> HttpResponse:
    """Step 3: save changes to the draft (each change recorded)."""
    case, req = _case_and_request(request, reference)
    form = DraftForm(actions.draft_field_codes(req.document_type), request.POST)
    if not form.is_valid():
        # Nothing is stored; the case page shows the form as typed with each field's error.
        setattr(request, REFUSED_DRAFT_FORM, form)
        return _refused(request, case, form.error_text())
    try:
        edits = actions.save_draft(request.user, req, form.changes(), request=request)
    except actions.LayananError as refused:
        return _refused(request, case, refused.message, 403)
    messages.success(request, _("Draf disimpan (%(n)d perubahan).") % {"n": len(edits)})
    return redirect("kerja:case", reference=case.reference)


@login_required
@require_POST
def handover(request: HttpRequest, reference: str) -> HttpResponse:
    """Step 8: note the hand-over."""
    case, req = _case_and_request(request, reference)
    form = HandoverForm(request.POST)
    if not form.is_valid():
        return _refused(request, case, _form_error(form))
    try:
        actions.record_handover(
            request.user,
            req,
            form.cleaned_data["mode"],
            receiver_name=form.cleaned_data["receiver_name"],
            receiver_id_number=form.cleaned_data["receiver_id_number"],
            request=request,
        )
    except actions.LayananError as refused:
        return _refused(request, case, refused.message)
    messages.success(request, _("Penyerahan dicatat."))
    return redirect("kerja:case", reference=case.reference)


@login_required
def file_download(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    """An uploaded file of the request, for officers of the case's office."""
    _case, req = _case_and_request(request, reference)
    row = get_object_or_404(RequestFile, pk=pk, request=req)
    ext = "pdf" if row.content_type == "application/pdf" else "jpg"
    response = FileResponse(
        row.file.open("rb"),
        as_attachment=False,
        filename=f"berkas-{row.pk}.{ext}",
        content_type=row.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response
