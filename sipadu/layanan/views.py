"""The citizen portal (no log-in): choose a document, apply, follow the request.

Views parse and validate, then call :mod:`sipadu.layanan.actions`. The tracking number and
PIN travel by POST only; after a correct PIN the request is remembered in the session for a
short while so the status page can be reloaded and files added. Every refusal is a 4xx page
with an Indonesian message, and a form with an error shows again everything the citizen typed.
"""

from __future__ import annotations

import time
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from sipadu.core.models import Office
from sipadu.core.ratelimit import hit, rate_limit, too_many
from sipadu.layanan import actions, documents
from sipadu.layanan import fields as field_catalogue
from sipadu.layanan.forms import ApplyForm, MoreFilesForm, StatusForm, requirement_field
from sipadu.layanan.models import (
    SOP_CODE,
    DocumentRequest,
    DocumentType,
    RequestStatus,
)
from sipadu.layanan.progress import progress_of
from sipadu.sop.models import SopDefinition

#: How long a correct PIN keeps the status page open in this browser (seconds).
STATUS_SESSION_SECONDS = 30 * 60
SESSION_KEY = "layanan_status"


def portal_offices() -> list[Office]:
    """The offices that run the Dik Jamila SOP (its definition names the office's region)."""
    definition = (
        SopDefinition.objects.select_related("current")
        .filter(code=SOP_CODE, active=True, current__isnull=False)
        .first()
    )
    if definition is None or definition.current is None:
        return []
    region = definition.current.sop.office
    offices = Office.objects.all() if not region else Office.objects.filter(region_id=region)
    return list(offices.order_by("name"))


def _no_store(response: HttpResponse) -> HttpResponse:
    # Pages with a PIN or personal data must not stay in shared caches or the back button.
    response["Cache-Control"] = "no-store, private"
    return response


def catalogue(request: HttpRequest) -> HttpResponse:
    """Step one: the documents one can apply for, with their requirements."""
    types = list(DocumentType.objects.filter(active=True).prefetch_related("requirements"))
    offices = portal_offices()
    status = 200 if offices else 503
    return render(
        request,
        "layanan/catalogue.html",
        {"types": types, "offices": offices, "unavailable": not offices},
        status=status,
    )


def _office_for(request: HttpRequest, offices: list[Office]) -> Office | None:
    if len(offices) == 1:
        return offices[0]
    chosen = request.POST.get("office") or request.GET.get("kantor")
    return next((o for o in offices if o.code == chosen), None)


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limit("layanan-apply", limit=20, window=3600)
def apply(request: HttpRequest, code: str) -> HttpResponse:
    """Fill in the data and upload the files of one document; answers with number + PIN."""
    document_type = get_object_or_404(DocumentType, code=code, active=True)
    offices = portal_offices()
    if not offices:
        return render(
            request, "layanan/catalogue.html", {"types": [], "unavailable": True}, status=503
        )
    form = ApplyForm(document_type, request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "document_type": document_type, "offices": offices}
    if request.method != "POST":
        return render(request, "layanan/apply.html", context)
    office = _office_for(request, offices)
    if office is None:
        context["error"] = _("Pilih kantor Dinas tujuan permohonan.")
        return render(request, "layanan/apply.html", context, status=400)
    if not form.is_valid():
        context["error"] = _("Periksa kembali isian yang ditandai.")
        return render(request, "layanan/apply.html", context, status=400)
    try:
        req, pin = actions.submit_request(
            office,
            document_type,
            form.applicant_data(),
            form.cleaned_data["uploads"],
            whatsapp=form.cleaned_data.get("whatsapp", ""),
            request=request,
        )
    except actions.LayananError as refused:
        context["error"] = refused.message
        return render(request, "layanan/apply.html", context, status=400)
    _remember(request, req)
    return _no_store(
        render(request, "layanan/submitted.html", {"req": req, "pin": pin}, status=201)
    )


def _remember(request: HttpRequest, req: DocumentRequest) -> None:
    request.session[SESSION_KEY] = {"id": str(req.pk), "at": int(time.time())}


def _remembered(request: HttpRequest) -> DocumentRequest | None:
    entry = request.session.get(SESSION_KEY)
    if not isinstance(entry, dict):
        return None
    if int(time.time()) - int(entry.get("at", 0)) > STATUS_SESSION_SECONDS:
        request.session.pop(SESSION_KEY, None)
        return None
    req = (
        DocumentRequest.objects.select_related("document_type", "office", "case")
        .filter(pk=entry.get("id"))
        .first()
    )
    if req is None or req.pin_expires_at <= timezone.now():
        request.session.pop(SESSION_KEY, None)
        return None
    return req


def _number_key(request: HttpRequest) -> str:
    return actions.normalise_tracking_number(request.POST.get("tracking_number", ""))


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limit("layanan-status", limit=10, window=300)
def status(request: HttpRequest) -> HttpResponse:
    """Number + PIN (POST) opens the status page; GET shows it again while remembered."""
    if request.method == "POST":
        form = StatusForm(request.POST)
        if not form.is_valid():
            return render(
                request,
                "layanan/status_login.html",
                {"form": form, "error": _("Isi nomor permohonan dan PIN.")},
                status=400,
            )
        # Guessing PINs of one number from many addresses is limited per number as well.
        wait = hit("layanan-status-number", _number_key(request), 20, 3600)
        if wait is not None:
            return too_many(request, wait)
        req = actions.find_by_pin(form.cleaned_data["tracking_number"], form.cleaned_data["pin"])
        if req is None:
            return render(
                request,
                "layanan/status_login.html",
                {
                    "form": StatusForm(
                        initial={"tracking_number": request.POST.get("tracking_number")}
                    ),
                    "error": _(
                        "Nomor permohonan atau PIN tidak cocok, atau PIN sudah tidak berlaku. "
                        "Periksa kembali pesan saat Anda mengajukan permohonan."
                    ),
                },
                status=404,
            )
        _remember(request, req)
        return redirect("layanan:status")
    req = _remembered(request)
    if req is None:
        return render(request, "layanan/status_login.html", {"form": StatusForm()})
    return _no_store(status_page(request, req))


def _missing_requirements(req: DocumentRequest) -> list[Any]:
    requirements = list(req.document_type.requirements.filter(upload=True))
    if req.status == RequestStatus.WAITING_CITIZEN:
        wanted = set(req.missing or [])
        first = [r for r in requirements if r.code in wanted]
        return first + [r for r in requirements if r.code not in wanted]
    return requirements


def status_page(
    request: HttpRequest,
    req: DocumentRequest,
    *,
    form: MoreFilesForm | None = None,
    error: str = "",
    http_status: int = 200,
) -> HttpResponse:
    """Render the status page of ``req``."""
    from sipadu.messaging.types.web.channel import messages_for

    timezone.activate(req.office.tzinfo)
    requirements = {r.code: r for r in req.document_type.requirements.all()}
    issued = documents.current_issued(req)
    context = {
        "req": req,
        "progress": progress_of(req),
        "notices": messages_for(req.tracking_number),
        "missing": [requirements[c].text for c in (req.missing or []) if c in requirements],
        "files": list(req.files.select_related("requirement")),
        "rows": [
            (field_catalogue.label(k), field_catalogue.display(k, v))
            for k, v in (req.data or {}).items()
        ],
        "upload_form": form or MoreFilesForm(_missing_requirements(req)),
        "can_upload": req.status not in actions.CLOSED,
        "issued": issued,
        "can_download": bool(issued and issued.file and issued.released_at),
        "error": error,
        "waiting": req.status == RequestStatus.WAITING_CITIZEN,
    }
    return render(request, "layanan/status.html", context, status=http_status)


@never_cache
@require_POST
@rate_limit("layanan-upload", limit=30, window=3600)
def upload_more(request: HttpRequest) -> HttpResponse:
    """Files sent from the status page (the missing ones, or any further file)."""
    req = _remembered(request)
    if req is None:
        return render(
            request,
            "layanan/status_login.html",
            {
                "form": StatusForm(),
                "error": _(
                    "Sesi halaman status telah berakhir. Masukkan nomor permohonan dan PIN."
                ),
            },
            status=403,
        )
    form = MoreFilesForm(_missing_requirements(req), request.POST, request.FILES)
    if not form.is_valid():
        message = " ".join(str(e) for e in form.non_field_errors()) or _(
            "Periksa kembali berkas yang ditandai."
        )
        return _no_store(status_page(request, req, form=form, error=message, http_status=400))
    try:
        actions.add_files(req, form.cleaned_data["uploads"], request=request)
    except actions.LayananError as refused:
        return _no_store(
            status_page(request, req, form=form, error=refused.message, http_status=409)
        )
    _remember(request, req)
    return redirect("layanan:status")


@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    """Close the status page in this browser."""
    request.session.pop(SESSION_KEY, None)
    return redirect("layanan:status")


@never_cache
def download(request: HttpRequest) -> FileResponse:
    """The signed document of the remembered request, once released to the applicant."""
    req = _remembered(request)
    if req is None:
        raise Http404
    issued = documents.current_issued(req)
    if issued is None or not issued.file or issued.released_at is None:
        raise Http404
    response = FileResponse(
        issued.file.open("rb"),
        as_attachment=True,
        filename=f"{issued.number}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "no-store, private"
    return response


__all__ = ["apply", "catalogue", "download", "leave", "requirement_field", "status", "upload_more"]
