"""Bulk signing (SOP step 6, ``tte``): the Kepala Dinas signs several documents at once.

``/tte/`` lists the ``tte`` tasks of the Dik Jamila SOP in the Kepala Dinas's Kotak Tugas
(:func:`sipadu.sop.queries.inbox_for`: the open ones of his role and those he claimed). He
selects some, ticks one confirmation and types a **fresh TOTP code** on the form: the code is
verified against his confirmed device even when the session already passed the second factor,
so signing a batch always needs the phone in hand. Then each selected task is claimed and
completed through the SOP actions — each completion runs the ``tte`` step handler, which issues
the document and signs it (:mod:`sipadu.layanan.issuing`) in that task's own transaction. A
failure of one document (TSA down, a task taken meanwhile, a registry refusal) is reported for
that item and leaves its task open; the others go on. A failure that every further document
would share (:data:`~sipadu.signing.error_codes.STOPS_BATCH`: the signer's key or certificate,
a missing ``SIPADU_SIGNING_REMOTE_NIK_<KEY_ID>``, SIPADU's client credentials) stops the batch:
on the first document it answers 409 on the form with nothing signed; later, the remaining
documents are listed as not signed, without further attempts. The result page is streamed row
by row, so the officer sees the progress of a long batch.

With a remote signing provider (BSrE-style, :func:`issuing.needs_passphrase`) the form also
asks the signer's **passphrase**. It is checked only after the TOTP code (the TTE service never
sees a guess from someone without the phone), passed to the provider for this request only
(:func:`issuing.signing_session`) and never stored, logged or audited. The first selected
document is signed before the result page starts: a refused passphrase then answers 400 on the
form, with every document still waiting for TTE; if the service refuses it later in the batch,
the batch stops there (repeated wrong passphrases can lock the signer's account).

The same view signs a single document from the case page (the TTE form of the layanan panel
posts one task and the case ``reference``): it answers with the case page, a message on
success and the refusal with a 4xx status otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from sipadu.audit.services import record_event
from sipadu.core.nav import NavItem, register
from sipadu.core.second_factor import confirmed_device
from sipadu.layanan.documents import current_issued
from sipadu.layanan.issuing import KEPALA_DINAS, needs_passphrase, signing_session
from sipadu.layanan.models import SOP_CODE, DocumentRequest
from sipadu.signing.error_codes import STOPS_BATCH, SigningError, SigningErrorCode
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


def passphrase_field() -> forms.CharField:
    """The signer's TTE passphrase (remote provider): a password box, never echoed back."""
    return forms.CharField(
        label=gettext_lazy("Passphrase TTE (sertifikat elektronik BSrE)"),
        strip=False,
        max_length=256,
        error_messages={"required": gettext_lazy("Masukkan passphrase TTE Anda.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
    )


class BulkForm(forms.Form):
    """Selected tasks, one confirmation, a fresh TOTP code and, for a remote signing
    provider, the signer's passphrase."""

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

    def __init__(
        self, tasks: list[Task], *args: Any, passphrase: bool = False, **kwargs: Any
    ) -> None:
        """``passphrase``: ask for the signer's passphrase (only for a remote provider)."""
        super().__init__(*args, **kwargs)
        self.fields["tasks"].choices = [(t.pk, str(t.pk)) for t in tasks]
        if passphrase:
            self.fields["passphrase"] = passphrase_field()

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
    #: The signing error code when signing failed (e.g. ``wrong_passphrase``), else "".
    code: str = ""

    @property
    def passphrase_refused(self) -> bool:
        """The passphrase was refused by the TTE service, or none was given."""
        return self.code in (
            SigningErrorCode.WRONG_PASSPHRASE,
            SigningErrorCode.PASSPHRASE_REQUIRED,
        )

    @property
    def stops_batch(self) -> bool:
        """Signing the next documents would fail the same way (a refused passphrase, the
        signer's key or certificate, SIPADU's set-up): the batch stops here."""
        return self.code in STOPS_BATCH


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
        if isinstance(refused.__cause__, SigningError):
            result.code = str(refused.__cause__.code)
        return result
    except Exception:  # one broken item must not stop the batch; the log has the details
        log.exception("bulk signing of task %s failed", task.pk)
        result.message = _("Terjadi kesalahan tak terduga; dokumen ini tidak ditandatangani.")
        return result
    req = DocumentRequest.objects.filter(case_id=task.case_id).first()
    issued = current_issued(req) if req else None
    result.signed = True
    result.number = issued.number if issued else ""
    return result


def _page(request: HttpRequest, tasks: list[Task], form: BulkForm, status: int = 200) -> Any:
    return render(
        request,
        "layanan/bulk/page.html",
        {"rows": [_row(t) for t in tasks], "form": form, "max_batch": MAX_BATCH},
        status=status,
    )


def _form_error(form: BulkForm) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@login_required
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("passphrase", "token")
@sensitive_variables("passphrase")
def bulk_sign(request: HttpRequest) -> HttpResponse:
    """GET: the documents waiting for the Kepala Dinas's TTE; POST: sign the selected ones
    (or, with ``case``, the one document of that case page)."""
    office = getattr(request, "office", None)
    if office is None or not is_signer(request):
        return render(request, "layanan/bulk/forbidden.html", status=403)
    tasks = signable_tasks(request.user, office)
    asks = needs_passphrase()
    if request.method != "POST":
        return _page(request, tasks, BulkForm(tasks, passphrase=asks))
    case_reference = request.POST.get("case", "")
    form = BulkForm(tasks, request.POST, passphrase=asks)

    def refuse(status: int = 400) -> HttpResponse:
        if case_reference:
            return _case_page(request, case_reference, _form_error(form), status)
        return _page(request, tasks, form, status)

    if not form.is_valid():
        return refuse()
    if case_reference and len(form.cleaned_data["tasks"]) != 1:
        form.add_error("tasks", _("Pilih sedikitnya satu dokumen."))
        return refuse()
    device = confirmed_device(request.user)
    if device is None:
        form.add_error("token", _("Anda belum mengaktifkan faktor kedua (aplikasi autentikator)."))
        return refuse()
    if not device.verify_token(form.cleaned_data["token"].strip()):
        record_event(request.user, "core.otp.fail", device, office=office, request=request)
        form.add_error(
            "token",
            _(
                "Kode OTP salah, kedaluwarsa, atau sudah dipakai. Tunggu kode berikutnya di "
                "aplikasi autentikator lalu coba lagi. Tidak ada dokumen yang ditandatangani."
            ),
        )
        return refuse()
    otp_login(request, device)
    passphrase: str = form.cleaned_data.get("passphrase", "") if asks else ""
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
    # The first document is signed before answering, so that a refused passphrase, a set-up
    # problem of the signer (or any refusal of a single document) comes back on the form with
    # a 4xx and nothing signed.
    with signing_session(passphrase):
        first = sign_one(request.user, selected[0], request=request)
    if not first.signed and (first.stops_batch or case_reference):
        _finish(request, [first])
        if first.passphrase_refused:
            form.add_error("passphrase" if asks else None, first.message)
            return refuse(400)
        if case_reference:
            return _case_page(request, case_reference, first.message, 409)
        form.add_error(None, first.message)
        return refuse(409)
    if case_reference:
        _finish(request, [first])
        messages.success(
            request,
            _("Dokumen ditandatangani secara elektronik: %(number)s.")
            % {"number": first.number or first.tracking_number},
        )
        return redirect("kerja:case", reference=case_reference)
    response = StreamingHttpResponse(
        _stream(request, selected, first, passphrase), content_type="text/html; charset=utf-8"
    )
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # let a reverse proxy pass the progress through
    return response


def _case_page(request: HttpRequest, reference: str, message: str, status: int) -> HttpResponse:
    """The case page of the single-document TTE form, with a refusal."""
    from sipadu.sop import work_views as sop_views

    case = sop_views.case_or_404(request, reference)
    return sop_views.case_page(request, case, error=message, status=status)


def _finish(request: HttpRequest, results: list[ItemResult]) -> None:
    """Audit the end of a session: counts only."""
    signed = sum(1 for r in results if r.signed)
    record_event(
        request.user,
        "layanan.bulk_sign.finish",
        None,
        office=getattr(request, "office", None),
        request=request,
        data={"signed": signed, "failed": len(results) - signed},
    )


@sensitive_variables("passphrase")
def _stream(
    request: HttpRequest, selected: list[Task], first: ItemResult, passphrase: str
) -> Iterator[str]:
    """The result page: head, one row per signed/failed item as it finishes, summary."""
    page = render_to_string("layanan/bulk/result.html", {"total": len(selected)}, request=request)
    head, rest = page.split(_ROWS, 1)
    middle, tail = rest.split(_SUMMARY, 1)
    yield head
    results: list[ItemResult] = []
    refused: ItemResult | None = None
    for index, task in enumerate(selected, start=1):
        if index == 1:
            item = first
        elif refused is not None:
            # The passphrase was refused, or the signer's set-up is broken: trying again would
            # only fail the same way (and count more wrong passphrases against the signer's
            # account). The rest stays waiting for TTE.
            info = _row(task)
            item = ItemResult(
                task.pk, info["tracking_number"], info["document"], False, refused.message
            )
        else:
            # The session is set around each item (never across a ``yield``).
            with signing_session(passphrase):
                item = sign_one(request.user, task, request=request)
        if item.stops_batch:
            refused = item
        results.append(item)
        yield render_to_string(
            "layanan/bulk/_result_row.html",
            {"item": item, "index": index, "total": len(selected)},
        )
    yield middle
    _finish(request, results)
    signed = sum(1 for r in results if r.signed)
    yield render_to_string(
        "layanan/bulk/_summary.html",
        {"signed": signed, "failed": len(results) - signed, "total": len(results)},
    )
    yield tail
