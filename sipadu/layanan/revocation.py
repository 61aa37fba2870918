"""The officer panel and views that revoke or replace issued documents (the writes are the
actions :func:`~sipadu.layanan.actions.revoke_document` and
:func:`~sipadu.layanan.actions.replace_document`).

A document that was issued wrongly is **revoked** (it stays on record; its verification page
says "Dicabut" with the date), or **replaced**: the request's document is issued again (new
number, new token, re-rendered from the current draft and signed with the office's Kepala
Dinas key) and the old one points at the new one ("Diganti", with a link). Only a Kepala Dinas
or a Kabid of the issuing office who passed the second factor may do either; each is one
transaction with one audit event (ids and codes only, never a name or NIK).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from sipadu.core.second_factor import passed_second_factor
from sipadu.layanan.actions import (
    REVOKING_ROLES,
    RevocationError,
    replace_document,
    revoke_document,
)
from sipadu.layanan.bulk import passphrase_field
from sipadu.layanan.issuing import needs_passphrase, signing_session
from sipadu.layanan.models import SOP_CODE, DocumentRequest, IssuedDocument
from sipadu.sop import work_views as sop_views
from sipadu.sop.models import Case
from sipadu.sop.panels import CasePanel, register
from sipadu.sop.queries import roles_in

# --------------------------------------------------------------------------- officer UI


class ReasonForm(forms.Form):
    """The reason of a revocation or replacement and, to replace with a remote (BSrE-style)
    signing provider, the signer's TTE passphrase."""

    reason = forms.CharField(
        label=gettext_lazy("Alasan"),
        max_length=300,
        widget=forms.TextInput(attrs={"maxlength": 300}),
        error_messages={"required": gettext_lazy("Tuliskan alasannya.")},
    )

    def __init__(self, *args: Any, passphrase: bool = False, **kwargs: Any) -> None:
        """``passphrase``: ask for the signer's passphrase (replacing, remote provider)."""
        super().__init__(*args, **kwargs)
        if passphrase:
            self.fields["passphrase"] = passphrase_field()


def _mounted() -> bool:
    """True when the project mounts the officer document URLs (``tte:``)."""
    try:
        reverse("tte:revoke", args=[0])
    except NoReverseMatch:
        return False
    return True


def panel_context(request: HttpRequest, case: Case, current: Any) -> dict[str, Any] | None:
    """The "issued documents" panel of the case page (None when nothing was issued)."""
    req = DocumentRequest.objects.filter(case=case).only("pk", "office_id").first()
    if req is None:
        return None
    issued = list(
        IssuedDocument.objects.filter(request=req)
        .select_related("document_type", "replaced_by")
        .order_by("created_at")
    )
    if not issued:
        return None
    allowed = bool(roles_in(request.user, req.office_id) & REVOKING_ROLES) and _mounted()
    return {
        "case": case,
        "issued_documents": issued,
        "may_revoke": allowed,
        "otp_ok": passed_second_factor(request.user),
        # Replacing signs a new document: a remote TTE service needs the signer's passphrase.
        "replace_form": ReasonForm(passphrase=needs_passphrase()),
    }


register(CasePanel(SOP_CODE, "layanan/work/issued_documents_panel.html", panel_context, order=20))


def _issued_or_404(request: HttpRequest, pk: int) -> IssuedDocument:
    """An issued document of an office the officer works in (404 otherwise)."""
    return get_object_or_404(
        IssuedDocument.objects.select_related("office", "request__case"),
        pk=pk,
        office__in=sop_views.visible_offices(request.user),
    )


@sensitive_variables("passphrase")
def _run(request: HttpRequest, pk: int, replacing: bool) -> HttpResponse:
    issued = _issued_or_404(request, pk)
    case = issued.request.case
    asks = replacing and needs_passphrase()
    form = ReasonForm(request.POST, passphrase=asks)

    def refuse(message: str, status: int) -> HttpResponse:
        if case is None:
            return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
        return sop_views.case_page(request, case, error=message, status=status)

    if not form.is_valid():
        return refuse(" ".join(str(e) for errors in form.errors.values() for e in errors), 400)
    try:
        if replacing:
            passphrase: str = form.cleaned_data.get("passphrase", "") if asks else ""
            # The passphrase reaches the provider for this request only (never stored).
            with signing_session(passphrase):
                new = replace_document(
                    request.user, issued, form.cleaned_data["reason"], request=request
                )
            messages.success(
                request,
                _("Dokumen %(old)s diganti dengan dokumen baru %(new)s.")
                % {"old": issued.number, "new": new.number},
            )
        else:
            revoke_document(request.user, issued, form.cleaned_data["reason"], request=request)
            messages.success(request, _("Dokumen %(no)s dicabut.") % {"no": issued.number})
    except RevocationError as refused:
        return refuse(refused.message, refused.status)
    if case is None:
        return redirect("home")
    return redirect("kerja:case", reference=case.reference)


@login_required
@require_POST
def revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: revoke an issued document (reason required)."""
    return _run(request, pk, replacing=False)


@login_required
@require_POST
@sensitive_post_parameters("passphrase")
def replace_view(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: replace an issued document by a newly issued and signed one (reason required;
    with a remote signing provider also the signer's passphrase)."""
    return _run(request, pk, replacing=True)
