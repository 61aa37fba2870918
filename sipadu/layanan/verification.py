"""The public verification page of issued documents (``/v/<token>``, no log-in).

The QR code on every document points here. The page shows what a person checking a document
needs — type, number, issue date, issuing office, the holder's name and NIK **masked** (a
token is a bearer link: whoever holds the paper already sees the full data, a guessed link
must not reveal it), and the status: valid, revoked (with the date) or replaced (with a link
to the replacement). An upload form checks a presented PDF: its signature (``verify_pdf``)
and whether it is, byte for byte, a document issued here (SHA-256 of the file).

Rate limited per client address: 60 page views and 10 uploads a minute. Uploads larger than
:data:`MAX_UPLOAD_BYTES`, non-PDFs and PDFs carrying JavaScript are refused with a message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from sipadu.core.ratelimit import rate_limit
from sipadu.layanan.models import IssuedDocument, IssuedStatus
from sipadu.signing.verify import VerificationStatus, inspect_upload, verify_pdf

#: Largest PDF the public page accepts (a signed one-page document is ~40 KB).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def mask_name(name: str) -> str:
    """``Budi Santoso`` → ``B*** S******``: the first letter of each word."""
    return " ".join(w[0] + "*" * (len(w) - 1) for w in str(name or "").split())


def mask_nik(nik: str) -> str:
    """``6311014903240101`` → ``6311**********01``: region prefix and last two digits."""
    digits = str(nik or "").strip()
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:4] + "*" * (len(digits) - 6) + digits[-2:]


class UploadForm(forms.Form):
    """The PDF to check."""

    berkas = forms.FileField(
        label=gettext_lazy("Berkas PDF dokumen"),
        error_messages={
            "required": gettext_lazy("Pilih berkas PDF yang akan diperiksa."),
            "empty": gettext_lazy("Berkas kosong (0 byte). Unggah ulang berkas PDF-nya."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )


def _facts(issued: IssuedDocument) -> dict[str, Any]:
    """What the page shows of a document (masked personal data)."""
    draft = issued.request.draft or {}
    return {
        "issued": issued,
        "masked_name": mask_name(draft.get("full_name", "")),
        "masked_nik": mask_nik(draft.get("nik", "")),
        "replacement": issued.replaced_by if issued.status == IssuedStatus.REPLACED else None,
    }


def _check_upload(
    request: HttpRequest, issued: IssuedDocument | None
) -> tuple[dict[str, Any], int]:
    """Check the posted PDF; returns the template context part and the HTTP status."""
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return {"form": form, "upload_error": " ".join(form.errors.get("berkas", []))}, 400
    upload = form.cleaned_data["berkas"]
    if upload.size > MAX_UPLOAD_BYTES:
        message = _("Berkas terlalu besar; ukuran maksimum %(mb)s MB.") % {
            "mb": MAX_UPLOAD_BYTES // (1024 * 1024)
        }
        return {"form": UploadForm(), "upload_error": message}, 413
    data = upload.read()
    check = inspect_upload(data, max_bytes=MAX_UPLOAD_BYTES)
    if not check.ok:
        return {"form": UploadForm(), "upload_error": check.message}, 400
    result = verify_pdf(data)
    match = (
        IssuedDocument.objects.select_related("document_type", "office")
        .filter(sha256=check.sha256)
        .first()
    )
    return {
        "form": UploadForm(),
        "result": result,
        "signature_ok": result.status is VerificationStatus.VALID,
        "signature_intact": result.status
        in (VerificationStatus.VALID, VerificationStatus.UNTRUSTED),
        "match": match,
        "match_is_this": match is not None and issued is not None and match.pk == issued.pk,
    }, 200


def _respond(request: HttpRequest, template: str, context: dict[str, Any], status: int) -> Any:
    response = render(request, template, context, status=status)
    # The page is about one person's document: not cached by shared caches, not indexed,
    # and the token does not leak to other sites through the Referer header (same-origin: the
    # upload form still sends its Origin for the CSRF check).
    response["Cache-Control"] = "no-store, private"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"  # "no-referrer" would send Origin: null
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@rate_limit("verify-page", limit=60, window=60, methods=("GET", "HEAD"))
@rate_limit("verify-upload", limit=10, window=60, methods=("POST",))
def document(request: HttpRequest, token: str) -> HttpResponse:
    """``/v/<token>``: the document's facts and status; POST checks an uploaded PDF."""
    issued = (
        IssuedDocument.objects.select_related("document_type", "office", "request", "replaced_by")
        .filter(token=token)
        .first()
        if len(token) <= 64
        else None
    )
    if issued is None:
        return _respond(request, "layanan/verification/not_found.html", {}, 404)
    context: dict[str, Any] = {**_facts(issued), "form": UploadForm()}
    status = 200
    if request.method == "POST":
        part, status = _check_upload(request, issued)
        context.update(part)
    return _respond(request, "layanan/verification/document.html", context, status)


@require_http_methods(["GET", "HEAD", "POST"])
@rate_limit("verify-page", limit=60, window=60, methods=("GET", "HEAD"))
@rate_limit("verify-upload", limit=10, window=60, methods=("POST",))
def upload(request: HttpRequest) -> HttpResponse:
    """``/v/``: check a PDF without a QR link (same checks as on a document's page)."""
    context: dict[str, Any] = {"form": UploadForm()}
    status = 200
    if request.method == "POST":
        part, status = _check_upload(request, None)
        context.update(part)
    return _respond(request, "layanan/verification/upload.html", context, status)
