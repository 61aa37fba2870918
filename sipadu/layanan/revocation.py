"""Revoking and replacing issued documents, and the officer panel + views that do it.

A document that was issued wrongly is **revoked** (it stays on record; its verification page
says "Dicabut" with the date), or **replaced**: the request's document is issued again (new
number, new token, re-rendered from the current draft and signed with the office's Kepala
Dinas key) and the old one points at the new one ("Diganti", with a link). Only a Kepala Dinas
or a Kabid of the issuing office who passed the second factor may do either; each is one
transaction with one audit event (ids and codes only, never a name or NIK).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sipadu.audit.services import record_event
from sipadu.layanan import documents
from sipadu.layanan.models import SOP_CODE, DocumentRequest, IssuedDocument, IssuedStatus
from sipadu.sop import work_views as sop_views
from sipadu.sop.models import Case
from sipadu.sop.panels import CasePanel, register
from sipadu.sop.queries import roles_in

#: Roles that may revoke or replace an issued document (with the second factor).
REVOKING_ROLES = frozenset({"kepala-dinas", "kabid-pelayanan"})


class RevocationError(Exception):
    """A refused revocation or replacement; ``message`` is for the officer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _verified(actor: Any) -> bool:
    check = getattr(actor, "is_verified", None)
    return bool(callable(check) and check())


def may_revoke(actor: Any, issued: IssuedDocument) -> bool:
    """True when ``actor`` holds a revoking role in the document's office (second factor
    aside)."""
    return bool(roles_in(actor, issued.office_id) & REVOKING_ROLES)


def _check(actor: Any, issued: IssuedDocument, reason: str) -> str:
    if not may_revoke(actor, issued):
        raise RevocationError(
            _("Hanya Kepala Dinas atau Kabid kantor penerbit yang dapat mencabut dokumen."), 403
        )
    if not _verified(actor):
        raise RevocationError(
            _("Pencabutan atau penggantian dokumen memerlukan verifikasi faktor kedua (kode OTP)."),
            403,
        )
    if issued.status != IssuedStatus.VALID:
        raise RevocationError(
            _("Dokumen ini sudah berstatus %(status)s.") % {"status": issued.get_status_display()},
            409,
        )
    text = " ".join((reason or "").split())
    if not text:
        raise RevocationError(_("Tuliskan alasannya."))
    if len(text) > 300:
        raise RevocationError(_("Alasan paling banyak 300 karakter."))
    return text


def _locked(issued: IssuedDocument) -> IssuedDocument:
    return IssuedDocument.objects.select_for_update().select_related("office").get(pk=issued.pk)


@transaction.atomic
def revoke(
    actor: Any, issued: IssuedDocument, reason: str, *, request: HttpRequest | None = None
) -> IssuedDocument:
    """Revoke a valid issued document (the verification page then says "Dicabut")."""
    current = _locked(issued)
    why = _check(actor, current, reason)
    current.status = IssuedStatus.REVOKED
    current.status_changed_at = timezone.now()
    current.status_reason = why
    current.save(update_fields=["status", "status_changed_at", "status_reason"])
    record_event(
        actor,
        "layanan.document.revoke",
        current,
        office=current.office,
        request=request,
        data={"request": str(current.request_id), "document_type": current.document_type_id},
    )
    return current


@transaction.atomic
def replace(
    actor: Any, issued: IssuedDocument, reason: str, *, request: HttpRequest | None = None
) -> IssuedDocument:
    """Issue the request's document again and mark ``issued`` as replaced by the new one.

    The new document gets a new number and verification token, is rendered from the current
    draft and signed with the office's key (cards: a new print job). A signing failure
    raises :class:`RevocationError` and changes nothing.
    """
    from sipadu.signing.error_codes import SigningError

    current = _locked(issued)
    why = _check(actor, current, reason)
    req = DocumentRequest.objects.select_related("document_type", "office", "penduduk").get(
        pk=current.request_id
    )
    now = timezone.now()
    today = timezone.localdate(timezone=req.office.tzinfo)
    # The old one stops being the request's valid document first, so that the new one's
    # document data (number, QR) is its own.
    current.status = IssuedStatus.REPLACED
    current.status_changed_at = now
    current.status_reason = why
    current.save(update_fields=["status", "status_changed_at", "status_reason"])
    new = IssuedDocument.objects.create(
        request=req,
        document_type=req.document_type,
        office=req.office,
        number=documents.next_number(req, today),
        issue_date=today,
        signed_by=actor,
        print_state="queued" if req.document_type.is_card else current.print_state,
        released_at=current.released_at,
    )
    signer = documents._pdf_signer
    if not req.document_type.is_card and signer is not None:
        try:
            signed = signer(new, documents.document_data(req), actor)
        except SigningError as failed:  # raising rolls the whole replacement back
            raise RevocationError(failed.message, 502 if failed.retryable else 400) from None
        new.sha256 = hashlib.sha256(signed).hexdigest()
        new.file.save(f"{new.token}.pdf", ContentFile(signed), save=False)
        new.save(update_fields=["file", "sha256"])
    current.replaced_by = new
    current.save(update_fields=["replaced_by"])
    record_event(
        actor,
        "layanan.document.replace",
        current,
        office=current.office,
        request=request,
        data={
            "request": str(current.request_id),
            "document_type": current.document_type_id,
            "replacement": new.pk,
        },
    )
    return new


# --------------------------------------------------------------------------- officer UI


class ReasonForm(forms.Form):
    """The reason of a revocation or replacement."""

    reason = forms.CharField(
        label=gettext_lazy("Alasan"),
        max_length=300,
        widget=forms.TextInput(attrs={"maxlength": 300}),
        error_messages={"required": gettext_lazy("Tuliskan alasannya.")},
    )


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
        "otp_ok": _verified(request.user),
        "form": ReasonForm(),
    }


register(CasePanel(SOP_CODE, "layanan/work/issued_documents_panel.html", panel_context, order=20))


def _issued_or_404(request: HttpRequest, pk: int) -> IssuedDocument:
    """An issued document of an office the officer works in (404 otherwise)."""
    return get_object_or_404(
        IssuedDocument.objects.select_related("office", "request__case"),
        pk=pk,
        office__in=sop_views.visible_offices(request.user),
    )


def _run(request: HttpRequest, pk: int, replacing: bool) -> HttpResponse:
    issued = _issued_or_404(request, pk)
    case = issued.request.case
    form = ReasonForm(request.POST)

    def refuse(message: str, status: int) -> HttpResponse:
        if case is None:
            return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
        return sop_views.case_page(request, case, error=message, status=status)

    if not form.is_valid():
        return refuse(" ".join(str(e) for e in form.errors.get("reason", [])), 400)
    try:
        if replacing:
            new = replace(request.user, issued, form.cleaned_data["reason"], request=request)
            messages.success(
                request,
                _("Dokumen %(old)s diganti dengan dokumen baru %(new)s.")
                % {"old": issued.number, "new": new.number},
            )
        else:
            revoke(request.user, issued, form.cleaned_data["reason"], request=request)
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
def replace_view(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: replace an issued document by a newly issued and signed one (reason required)."""
    return _run(request, pk, replacing=True)
