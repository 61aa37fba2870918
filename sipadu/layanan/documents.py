"""The drafted document and its issue: data for the templates, numbers, the issued record,
the registry update, and the seam where PDF rendering + TTE signing plug in.

Seams for the document/signing work:

* :func:`document_data` — everything a document template needs (type, office, the drafted
  fields with labels, the family table for a KK, the verification URL once issued).
* :func:`set_pdf_signer` — register ``func(issued, data, signer) -> bytes`` that renders the
  PDF (WeasyPrint) and signs it (PAdES); :func:`issue` calls it on step 6 (``tte``) of the SOP
  and stores the signed file and its SHA-256 on the :class:`IssuedDocument`. Without a signer
  registered, a PDF document is issued as a record without a file (tests, demo).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone, translation

from sipadu.audit.services import record_event
from sipadu.layanan import fields as field_catalogue
from sipadu.layanan.models import (
    DocumentCounter,
    DocumentRequest,
    IssuedDocument,
    IssuedStatus,
)
from sipadu.registry.models import Penduduk

#: ``func(issued, data, signer) -> signed PDF bytes``; set by the signing integration.
PdfSigner = Callable[[IssuedDocument, dict[str, Any], Any], bytes]
_pdf_signer: PdfSigner | None = None

#: Registry values a draft is pre-filled from (draft field code → Penduduk attribute).
_FROM_REGISTRY = {
    "nik": "nik",
    "full_name": "full_name",
    "birth_place": "birth_place",
    "birth_date": "birth_date",
    "sex": "sex",
    "father_name": "father_name",
    "mother_name": "mother_name",
    "no_kk": "keluarga_id",
}


def set_pdf_signer(func: PdfSigner | None) -> PdfSigner | None:
    """Install the function that renders and signs issued PDFs; returns the previous one."""
    global _pdf_signer
    previous, _pdf_signer = _pdf_signer, func
    return previous


def registry_values(penduduk: Penduduk) -> dict[str, str]:
    """The draft fields the registry knows for ``penduduk``, as stored text."""
    values: dict[str, str] = {}
    for code, attr in _FROM_REGISTRY.items():
        value = getattr(penduduk, attr, "")
        if isinstance(value, dt.date):
            value = value.isoformat()
        if value:
            values[code] = str(value)
    return values


def prefill(req: DocumentRequest) -> dict[str, str]:
    """A draft for ``req``: the registry's values where it has them, else what was claimed."""
    from sipadu.layanan.actions import draft_field_codes

    claimed = req.data or {}
    known = registry_values(req.penduduk) if req.penduduk_id else {}
    return {
        code: known.get(code) or str(claimed.get(code, ""))
        for code in draft_field_codes(req.document_type)
    }


def family_rows(penduduk: Penduduk | None) -> list[dict[str, Any]]:
    """The members of the resident's KK (for the KK template), head first then by birth."""
    if penduduk is None or not penduduk.keluarga_id:
        return []
    members = Penduduk.objects.filter(keluarga_id=penduduk.keluarga_id).order_by(
        "relationship", "birth_date"
    )
    return [
        {
            "nik": m.nik,
            "full_name": m.full_name,
            "sex": m.get_sex_display(),
            "birth_place": m.birth_place,
            "birth_date": m.birth_date,
            "religion": m.get_religion_display() if m.religion else "",
            "education": m.get_education_display() if m.education else "",
            "occupation": m.occupation,
            "marital_status": m.get_marital_status_display() if m.marital_status else "",
            "relationship": m.get_relationship_display() if m.relationship else "",
            "nationality": m.get_nationality_display() if m.nationality else "",
            "father_name": m.father_name,
            "mother_name": m.mother_name,
        }
        for m in members
    ]


def document_data(req: DocumentRequest) -> dict[str, Any]:
    """Everything a document template needs: the drafted data with labels, the document type,
    the issuing office, the family table (KK) and, once issued, number, date and QR URL."""
    draft = dict(req.draft or {})
    issued = req.issued_documents.filter(status=IssuedStatus.VALID).first()
    site = getattr(settings, "SITE_URL", "").rstrip("/")
    return {
        "request_id": str(req.pk),
        "tracking_number": req.tracking_number,
        "type_code": req.document_type.code,
        "type_name": req.document_type.name,
        "output_kind": req.document_type.output_kind,
        "office_name": req.office.name,
        "office_code": req.office.code,
        "region_code": str(req.office.region_id),
        "data": draft,
        "rows": [
            (field_catalogue.label(code), field_catalogue.display(code, value))
            for code, value in draft.items()
        ],
        "family": family_rows(req.penduduk) if req.document_type.code == "kk" else [],
        "number": issued.number if issued else "",
        "issue_date": issued.issue_date if issued else None,
        "verification_url": f"{site}{issued.verification_path}" if issued else "",
    }


def next_number(req: DocumentRequest, today: dt.date) -> str:
    """The next document number, e.g. ``6311-LU-15012026-0007`` (kab/kota code, type prefix,
    issue date, sequence per prefix and year under a row lock)."""
    region = str(req.office.region_id).replace(".", "")
    prefix = f"{region}-{req.document_type.number_prefix or req.document_type.code.upper()}"
    counter, _created = DocumentCounter.objects.get_or_create(prefix=prefix, year=today.year)
    DocumentCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    counter.refresh_from_db(fields=["last"])
    return f"{prefix}-{today:%d%m%Y}-{counter.last:04d}"


def issue(
    actor: Any, req: DocumentRequest, *, request: HttpRequest | None = None
) -> IssuedDocument:
    """Issue the document of ``req`` (SOP step 6, ``tte``), inside the step's transaction.

    Allocates the number, creates the :class:`IssuedDocument`, renders and signs the PDF
    through the installed signer (cards get a print job instead), and marks the resident's
    document ownership in the registry so coverage moves. Exceptions roll the step back.
    """
    issued = new_issued(actor, req, print_state="queued" if req.document_type.is_card else "")
    sign_and_store(actor, req, issued)
    update_registry(actor, req, issued, request=request)
    record_event(
        actor,
        "layanan.document.issue",
        issued,
        office=req.office,
        request=request,
        data={
            "request": str(req.pk),
            "document_type": req.document_type.code,
            "signed": bool(issued.sha256),
        },
    )
    return issued


def new_issued(
    actor: Any,
    req: DocumentRequest,
    *,
    print_state: str = "",
    released_at: dt.datetime | None = None,
) -> IssuedDocument:
    """A new :class:`IssuedDocument` of ``req`` dated today in the office's time zone, with
    the next number and a new verification token (not signed yet: :func:`sign_and_store`).
    Shared by :func:`issue` and :func:`sipadu.layanan.actions.replace_document`."""
    today = timezone.localdate(timezone=req.office.tzinfo)
    return IssuedDocument.objects.create(
        request=req,
        document_type=req.document_type,
        office=req.office,
        number=next_number(req, today),
        issue_date=today,
        signed_by=actor if getattr(actor, "is_authenticated", False) else None,
        print_state=print_state,
        released_at=released_at,
    )


def sign_and_store(actor: Any, req: DocumentRequest, issued: IssuedDocument) -> bool:
    """Render and sign ``issued`` through the installed signer, then store the file and its
    SHA-256. Cards (print jobs) and a project without a signer get no file (False).

    Raises :class:`sipadu.signing.error_codes.SigningError` when signing fails; the caller's
    transaction then rolls back whatever was issued with it.
    """
    if req.document_type.is_card or _pdf_signer is None:
        return False
    with translation.override("id"):  # labels printed on the document (KK members)
        data = document_data(req)
    signed = _pdf_signer(issued, data, actor)
    issued.sha256 = hashlib.sha256(signed).hexdigest()
    issued.file.save(f"{issued.token}.pdf", ContentFile(signed), save=False)
    issued.save(update_fields=["file", "sha256"])
    return True


def update_registry(
    actor: Any,
    req: DocumentRequest,
    issued: IssuedDocument,
    *,
    request: HttpRequest | None = None,
) -> list[Penduduk]:
    """Mark the issued document in the registry (through its actions, so coverage counters
    move). Returns the residents updated; a type the registry keeps no flag for changes
    nothing. Raises :class:`sipadu.registry.actions.RegistryError` when the registry refuses.
    """
    from sipadu.registry import actions as registry

    kind = req.document_type.registry_kind
    if not kind:
        return []
    person = req.penduduk or Penduduk.objects.filter(nik=(req.data or {}).get("nik", "")).first()
    if person is None:
        return []
    draft = req.draft or {}
    updated: list[Penduduk] = []
    if kind == "akta_kematian":
        if person.is_alive:
            death = _date(draft.get("death_date") or (req.data or {}).get("death_date"))
            updated.append(
                registry.record_death(
                    actor,
                    person,
                    death or issued.issue_date,
                    akta_kematian_no=issued.number,
                    office=req.office,
                    request=request,
                )
            )
        else:
            updated.append(
                registry.issue_document(
                    actor,
                    person,
                    kind,
                    number=issued.number,
                    office=req.office,
                    request=request,
                )
            )
        return updated
    updated.append(
        registry.issue_document(
            actor,
            person,
            kind,
            number=issued.number,
            date=issued.issue_date,
            office=req.office,
            request=request,
        )
    )
    if kind in ("akta_perkawinan", "akta_perceraian"):
        spouse_nik = draft.get("spouse_nik") or (req.data or {}).get("spouse_nik", "")
        spouse = Penduduk.objects.filter(nik=spouse_nik).first() if spouse_nik else None
        if spouse is not None:
            updated.append(
                registry.issue_document(
                    actor,
                    spouse,
                    kind,
                    number=issued.number,
                    office=req.office,
                    request=request,
                )
            )
    return updated


def _date(text: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        return None


def current_issued(req: DocumentRequest) -> IssuedDocument | None:
    """The request's valid issued document, if any."""
    return req.issued_documents.filter(status=IssuedStatus.VALID).order_by("-created_at").first()


def mark_printed(
    actor: Any, req: DocumentRequest, *, request: HttpRequest | None = None
) -> IssuedDocument | None:
    """Step 7 (``cetak``): a card's print job is done; a PDF is printed or downloaded."""
    issued = current_issued(req)
    if issued is None:
        return None
    issued.print_state = "printed"
    issued.save(update_fields=["print_state"])
    record_event(
        actor,
        "layanan.document.print",
        issued,
        office=req.office,
        request=request,
        data={"request": str(req.pk), "card": req.document_type.is_card},
    )
    return issued


def release(
    actor: Any, req: DocumentRequest, *, request: HttpRequest | None = None
) -> IssuedDocument | None:
    """Step 8 (``serah``): the document is handed over; a softcopy becomes downloadable."""
    issued = current_issued(req)
    if issued is None:
        return None
    issued.released_at = timezone.now()
    issued.save(update_fields=["released_at"])
    record_event(
        actor,
        "layanan.document.release",
        issued,
        office=req.office,
        request=request,
        data={"request": str(req.pk), "mode": req.handover_mode},
    )
    return issued


def issued_lookup(sha256_hex: str) -> str | None:
    """For signing's verification: a description of the issued document with this hash.

    None when unknown — also when the database cannot be read (``sipadu signing verify`` on a
    machine without the migrated database still checks the signature itself).
    """
    try:
        issued = (
            IssuedDocument.objects.select_related("document_type")
            .filter(sha256=sha256_hex.lower())
            .first()
        )
    except DatabaseError:
        return None
    if issued is None:
        return None
    return f"{issued.document_type.name} No. {issued.number} ({issued.get_status_display()})"
