"""Bulk signing (SOP step 6, ``tte``): the Kepala Dinas signs several documents at once.

``/tte/`` lists the ``tte`` tasks of the Dik Jamila SOP in the Kepala Dinas's Kotak Tugas
(:func:`sipadu.sop.queries.inbox_for`: the open ones of his role and those he claimed). He
selects some, ticks one confirmation and types a **fresh TOTP code** on the form: the code is
verified against his confirmed device even when the session already passed the second factor,
so signing a batch always needs the phone in hand. Then each selected task is claimed and
completed through the SOP actions — each completion runs the ``tte`` step handler, which issues
the document and signs it (:mod:`sipadu.layanan.issuing`) in that task's own transaction. A
failure (key missing, TSA down, a task taken meanwhile) is reported for that item and leaves
its task open; the others go on. The result page is streamed row by row, so the officer sees
the progress of a long batch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from sipadu.audit.services import record_event
from sipadu.core.nav import NavItem, register
from sipadu.layanan.issuing import KEPALA_DINAS
from sipadu.layanan.models import SOP_CODE, DocumentRequest
from sipadu.sop import actions as sop
from sipadu.sop.error_codes import WorkflowError
from sipadu.sop.models import Task, TaskState
from sipadu.sop.queries import inbox_for, roles_in

log = logging.getLogger(__name__)

#: The SOP activity signed here.
TTE_ACTIVITY = "tte"
#: Most documents in one session (a session of 200 takes well under a minute).
MAX_BATCH = 200
_ROWS = "<!--rows-->"
_SUMMARY = "<!--summary-->"


def signable_tasks(user: Any, office: Any) -> list[Task]:
    """The ``tte`` tasks of the Dik Jamila SOP in ``user``'s Kotak Tugas, oldest due first."""
    return list(
        inbox_for(user, office)
        .filter(activity_id=TTE_ACTIVITY, case__definition__code=SOP_CODE)
        .select_related("case__document_request__document_type")[:500]
    )


def is_signer(request: HttpRequest) -> bool:
    """True for a holder of the Kepala Dinas role in the current office."""
    office = getattr(request, "office", None)
    return office is not None and KEPALA_DINAS in roles_in(request.user, office)


def _menu_visible(request: HttpRequest) -> bool:
    try:
        reverse("tte:bulk")
    except NoReverseMatch:  # not mounted in this deployment's URL map
        return False
    return bool(request.user.is_authenticated and is_signer(request))


register(NavItem("tte:bulk", gettext_lazy("Tanda tangan (TTE)"), 45, _menu_visible))


class BulkForm(forms.Form):
    """Selected tasks, one confirmation and a fresh TOTP code."""

    tasks = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Dokumen"),
        coerce=int,
        error_messages={
            "required": gettext_lazy("Pilih sedikitnya satu dokumen."),
            "invalid_choice": gettext_lazy(
                "Ada dokumen yang tidak lagi menunggu tanda tangan Anda; muat ulang halaman."
            ),
        },
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "Saya telah memeriksa dokumen yang dipilih dan menyetujui penandatanganannya."
        ),
        error_messages={"required": gettext_lazy("Centang persetujuan penandatanganan.")},
    )
    token = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label=gettext_lazy("Kode OTP (6 angka) dari aplikasi autentikator"),
        error_messages={
            "required": gettext_lazy("Masukkan kode OTP untuk menandatangani."),
            "invalid": gettext_lazy("Kode harus 6 angka."),
        },
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 8}
        ),
    )

    def __init__(self, tasks: list[Task], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tasks"].choices = [(t.pk, str(t.pk)) for t in tasks]

    def clean_tasks(self) -> list[int]:
        """At most :data:`MAX_BATCH` at once."""
        chosen: list[int] = self.cleaned_data["tasks"]
        if len(chosen) > MAX_BATCH:
            raise forms.ValidationError(
                _("Paling banyak %(n)d dokumen sekali tanda tangan.") % {"n": MAX_BATCH}
            )
        return chosen


@dataclass
class ItemResult:
    """The outcome of one selected task."""

    task_id: int
    tracking_number: str
    document: str
    signed: bool
    message: str = ""
    number: str = ""


def _row(task: Task) -> dict[str, Any]:
    req: DocumentRequest | None = getattr(task.case, "document_request", None)
    return {
        "task": task,
        "tracking_number": req.tracking_number if req else task.case.reference,
        "document": req.document_type.name if req else task.case.subject_label,
        "claimed": task.state == TaskState.CLAIMED,
    }


def sign_one(user: Any, task: Task, *, request: HttpRequest | None = None) -> ItemResult:
    """Claim (if needed) and complete one ``tte`` task; never raises for a refusal."""
    info = _row(task)
    result = ItemResult(task.pk, info["tracking_number"], info["document"], signed=False)
    try:
        if task.state == TaskState.OPEN:
            sop.claim(user, task.pk, request=request)
        sop.complete(user, task.pk, request=request)
    except WorkflowError as refused:
        result.message = refused.message
        return result
    except Exception:  # one broken item must not stop the batch; the log has the details
        log.exception("bulk signing of task %s failed", task.pk)
        result.message = _("Terjadi kesalahan tak terduga; dokumen ini tidak ditandatangani.")
        return result
    req = DocumentRequest.objects.filter(case_id=task.case_id).first()
    issued = req.issued_documents.order_by("-created_at").first() if req else None
    result.signed = True
    result.number = issued.number if issued else ""
    return result


def _confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def _page(request: HttpRequest, tasks: list[Task], form: BulkForm, status: int = 200) -> Any:
    return render(
        request,
        "layanan/bulk/page.html",
        {"rows": [_row(t) for t in tasks], "form": form, "max_batch": MAX_BATCH},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def bulk_sign(request: HttpRequest) -> HttpResponse:
    """GET: the documents waiting for the Kepala Dinas's TTE; POST: sign the selected ones."""
    office = getattr(request, "office", None)
    if office is None or not is_signer(request):
        return render(request, "layanan/bulk/forbidden.html", status=403)
    tasks = signable_tasks(request.user, office)
    if request.method != "POST":
        return _page(request, tasks, BulkForm(tasks))
    form = BulkForm(tasks, request.POST)
    if not form.is_valid():
        return _page(request, tasks, form, 400)
    device = _confirmed_device(request.user)
    if device is None:
        form.add_error("token", _("Anda belum mengaktifkan faktor kedua (aplikasi autentikator)."))
        return _page(request, tasks, form, 400)
    if not device.verify_token(form.cleaned_data["token"].strip()):
        record_event(request.user, "core.otp.fail", device, office=office, request=request)
        form.add_error(
            "token",
            _(
                "Kode OTP salah, kedaluwarsa, atau sudah dipakai. Tunggu kode berikutnya di "
                "aplikasi autentikator lalu coba lagi. Tidak ada dokumen yang ditandatangani."
            ),
        )
        return _page(request, tasks, form, 400)
    otp_login(request, device)
    chosen = set(form.cleaned_data["tasks"])
    selected = [t for t in tasks if t.pk in chosen]
    record_event(
        request.user,
        "layanan.bulk_sign.start",
        device,
        office=office,
        request=request,
        data={"tasks": sorted(chosen)},
    )
    response = StreamingHttpResponse(
        _stream(request, selected), content_type="text/html; charset=utf-8"
    )
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # let a reverse proxy pass the progress through
    return response


def _stream(request: HttpRequest, selected: list[Task]) -> Iterator[str]:
    """The result page: head, one row per signed/failed item as it finishes, summary."""
    page = render_to_string("layanan/bulk/result.html", {"total": len(selected)}, request=request)
    head, rest = page.split(_ROWS, 1)
    middle, tail = rest.split(_SUMMARY, 1)
    yield head
    results: list[ItemResult] = []
    for index, task in enumerate(selected, start=1):
        item = sign_one(request.user, task, request=request)
        results.append(item)
        yield render_to_string(
            "layanan/bulk/_result_row.html",
            {"item": item, "index": index, "total": len(selected)},
        )
    yield middle
    signed = sum(1 for r in results if r.signed)
    record_event(
        request.user,
        "layanan.bulk_sign.finish",
        None,
        office=getattr(request, "office", None),
        request=request,
        data={"signed": signed, "failed": len(results) - signed},
    )
    yield render_to_string(
        "layanan/bulk/_summary.html",
        {"signed": signed, "failed": len(results) - signed, "total": len(results)},
    )
    yield tail
