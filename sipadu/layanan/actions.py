"""Every write of the document service: submit a request, add files, the per-step work of the
officers (checklist, files-missing round, draft edits, hand-over), and revoking or replacing
an issued document.

Each action runs in one transaction, writes one audit event (ids and codes only: never NIK,
names or phone numbers) and queues notices through the messaging outbox, which delivers
after commit. The citizen has no account: their actions are recorded as ``masyarakat`` with
the request id. Officers' actions require them to hold the SOP task of that step.
Refusals raise :class:`LayananError` (:class:`RevocationError` for revoking and replacing)
with a message for people.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from sipadu.audit.services import record_event
from sipadu.core.models import Office
from sipadu.core.second_factor import passed_second_factor
from sipadu.core.services import users_with_role
from sipadu.layanan import documents
from sipadu.layanan import fields as field_catalogue
from sipadu.layanan.models import (
    SOP_CODE,
    Channel,
    DocumentRequest,
    DocumentType,
    DraftEdit,
    FileSource,
    HandoverMode,
    IssuedDocument,
    IssuedStatus,
    RequestFile,
    RequestStatus,
    Requirement,
)
from sipadu.layanan.notify import Milestone, notify
from sipadu.layanan.uploads import CleanFile
from sipadu.registry.actions import RegistryError
from sipadu.sop import actions as sop_actions
from sipadu.sop.models import LIVE_STATES, Notification, Task, TaskState
from sipadu.sop.queries import roles_in

#: How long a PIN opens the status page after the request was made.
PIN_VALID_DAYS = 180
#: Longest officer note accepted.
MAX_NOTE = 2000
#: Requests that are finished take no more files.
CLOSED = (RequestStatus.DONE, RequestStatus.CANCELLED)

# A hash of a random PIN, checked when the tracking number is unknown so that a wrong number
# and a wrong PIN take the same time (no hint which one was wrong).
_DUMMY_HASH = make_password(secrets.token_hex(8))


class LayananError(Exception):
    """A refused document-service action; ``message`` is shown to the citizen or officer."""

    def __init__(self, message: Any) -> None:
        self.message = str(message)
        super().__init__(self.message)


@dataclass(frozen=True)
class PublicActor:
    """The citizen (Masyarakat) acting through the portal, without an account.

    Passed to :func:`sipadu.sop.actions.start_case` so the case can start on a citizen's
    submission: ``start_case`` admits staff or office members, and the portal starts the case
    on the office's behalf. It is not authenticated, so no user is recorded; the audit label is
    ``masyarakat:<request id>``.
    """

    request_id: str
    is_authenticated = False
    is_active = False
    # start_case's only gate is "staff or member"; see docs/layanan.md (a runtime change to
    # accept system starts is requested from the lead).
    is_staff = True

    def __str__(self) -> str:
        return f"masyarakat:{self.request_id}"


@dataclass(frozen=True)
class Upload:
    """One accepted file of a submission and the requirement it answers (None: other)."""

    requirement: Requirement | None
    file: CleanFile


def _citizen(req: DocumentRequest) -> str:
    return f"masyarakat:{req.pk}"


def normalise_tracking_number(raw: str) -> str:
    """``djm 7k3q9mz2`` → ``DJM-7K3Q-9MZ2`` (people drop or change the dashes)."""
    text = "".join(ch for ch in str(raw or "").upper() if ch.isalnum())
    if text.startswith("DJM") and len(text) == 11:
        return f"DJM-{text[3:7]}-{text[7:]}"
    return str(raw or "").strip().upper()[:20]


def _new_number() -> str:
    from sipadu.layanan.models import new_tracking_number

    for _attempt in range(20):
        number = new_tracking_number()
        if not DocumentRequest.objects.filter(tracking_number=number).exists():
            return number
    raise RuntimeError("could not allocate a tracking number")


def _store(
    req: DocumentRequest,
    upload: Upload,
    *,
    source: str = str(FileSource.CITIZEN),
    round_: int = 0,
) -> RequestFile:
    row = RequestFile(
        request=req,
        requirement=upload.requirement,
        original_name=upload.file.original_name,
        content_type=upload.file.content_type,
        size=upload.file.size,
        sha256=upload.file.sha256,
        source=source,
        round=round_,
    )
    row.file.save("berkas", ContentFile(upload.file.data), save=False)
    row.save()
    return row


# --------------------------------------------------------------------------- citizen


@transaction.atomic
def submit_request(
    office: Office,
    document_type: DocumentType,
    data: dict[str, str],
    uploads: Sequence[Upload],
    *,
    whatsapp: str = "",
    channel: str = "web",
    request: HttpRequest | None = None,
) -> tuple[DocumentRequest, str]:
    """Record a citizen's application, keep its files, start its Dik Jamila case and send the
    "received" notice. Returns the request and its PIN (shown once; only its hash is kept).

    ``data`` holds cleaned applicant data (field code → text). The case label is the
    tracking number, never the applicant's name or NIK.
    """
    if not document_type.active:
        raise LayananError(_("Jenis dokumen ini sedang tidak dilayani."))
    pin = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    req = DocumentRequest.objects.create(
        tracking_number=_new_number(),
        pin_hash=make_password(pin),
        pin_expires_at=now + timedelta(days=PIN_VALID_DAYS),
        office=office,
        document_type=document_type,
        data=dict(data),
        whatsapp=whatsapp,
        channel=str(Channel(channel)),
    )
    for upload in uploads:
        _store(req, upload)
    case = sop_actions.start_case(
        PublicActor(str(req.pk)),
        SOP_CODE,
        office,
        subject_label=req.tracking_number,
        subject=req,
        request=request,
    )
    req.case = case
    req.save(update_fields=["case", "updated_at"])
    record_event(
        "masyarakat",
        "layanan.request.submit",
        req,
        office=office,
        request=request,
        data={
            "request": str(req.pk),
            "document_type": document_type.code,
            "files": len(uploads),
            "case": case.pk,
            "whatsapp": bool(whatsapp),
        },
    )
    notify(req, Milestone.RECEIVED)
    return req, pin


def find_by_pin(tracking_number: str, pin: str) -> DocumentRequest | None:
    """The request when the number exists, the PIN is right and not expired; else None.

    The three failures are not told apart (the caller shows one message), and take the same
    time: an unknown number still checks the PIN against a dummy hash.
    """
    number = normalise_tracking_number(tracking_number)
    req = (
        DocumentRequest.objects.select_related("document_type", "office", "case")
        .filter(tracking_number=number)
        .first()
    )
    pin_text = "".join(ch for ch in str(pin or "") if ch.isdigit())[:12]
    if req is None:
        check_password(pin_text, _DUMMY_HASH)
        return None
    if not check_password(pin_text, req.pin_hash):
        return None
    if req.pin_expires_at <= timezone.now():
        return None
    return req


def _notify_officers(req: DocumentRequest, text: str) -> None:
    """A Kotak Tugas notification to whoever holds (or may take) the request's current task."""
    if req.case is None:
        return
    task = req.case.live_tasks().select_related("assignee", "office").first()
    if task is None:
        return
    people = (
        [task.assignee] if task.assignee_id else list(users_with_role(task.office, task.queue_role))
    )
    link = reverse("kerja:case", args=[req.case.reference])
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(user=u, text=text[:300], link=link, case=req.case, created_at=now)
        for u in {p.pk: p for p in people}.values()
    )


def _resume_clock(req: DocumentRequest, request: HttpRequest | None) -> None:
    """Restart the SLA clock of the request's task suspended while the citizen was away.

    A request sent back before tasks could be suspended has nothing to resume.
    """
    if req.case_id is None:
        return
    task = Task.objects.filter(
        case_id=req.case_id, state__in=LIVE_STATES, suspended_at__isnull=False
    ).first()
    if task is not None:
        sop_actions.resume_task(PublicActor(str(req.pk)), task, request=request)


@transaction.atomic
def add_files(
    req: DocumentRequest, uploads: Sequence[Upload], *, request: HttpRequest | None = None
) -> list[RequestFile]:
    """Keep more files the citizen sent from the status page.

    While the request waits for missing files, the upload answers the current round; once
    every missing requirement has a new file (or, when only a note was given, on any upload)
    the request resumes (and the SOP task's clock with it, its due time moved forward by the
    office time the citizen took), the citizen is told and the officer holding the step is
    notified.
    """
    current = DocumentRequest.objects.select_for_update().get(pk=req.pk)
    if current.status in CLOSED:
        raise LayananError(_("Permohonan ini sudah selesai; berkas tidak dapat ditambahkan."))
    if not uploads:
        raise LayananError(_("Pilih sedikitnya satu berkas untuk diunggah."))
    waiting = current.status == RequestStatus.WAITING_CITIZEN
    round_ = current.missing_round if waiting else 0
    stored = [_store(current, u, round_=round_) for u in uploads]
    resumed = False
    if waiting:
        answered = set(
            current.files.filter(round=round_, requirement__isnull=False).values_list(
                "requirement__code", flat=True
            )
        )
        still = [code for code in current.missing if code not in answered]
        if not still:
            current.status = str(RequestStatus.IN_PROCESS)
            current.save(update_fields=["status", "updated_at"])
            resumed = True
            _resume_clock(current, request)
    record_event(
        _citizen(current),
        "layanan.request.add_files",
        current,
        office=current.office,
        request=request,
        data={"request": str(current.pk), "files": len(stored), "resumed": resumed},
    )
    if resumed:
        notify(current, Milestone.RESUMED, round_=round_)
        _notify_officers(
            current,
            _("Kekurangan berkas permohonan %(no)s sudah diunggah pemohon.")
            % {"no": current.tracking_number},
        )
    req.status = current.status
    return stored


# --------------------------------------------------------------------------- officers


def _held_task(actor: Any, req: DocumentRequest, activity_ids: Iterable[str]) -> Task:
    """The request's live task at one of ``activity_ids``, claimed by ``actor``; else refuse."""
    if req.case is None:
        raise LayananError(_("Permohonan ini belum memiliki perkara."))
    task = Task.objects.filter(case=req.case, state__in=LIVE_STATES).first()
    wanted = tuple(activity_ids)
    if task is None or task.activity_id not in wanted:
        raise LayananError(_("Langkah ini tidak sedang berjalan pada perkara ini."))
    if task.state != TaskState.CLAIMED or task.assignee_id != getattr(actor, "pk", None):
        raise LayananError(_("Ambil tugas ini terlebih dahulu sebelum mengerjakannya."))
    return task


def _locked(req: DocumentRequest) -> DocumentRequest:
    return (
        DocumentRequest.objects.select_for_update(of=("self",))
        .select_related("document_type", "office", "case")
        .get(pk=req.pk)
    )


@transaction.atomic
def save_checklist(
    actor: Any, req: DocumentRequest, ticked: Iterable[str], *, request: HttpRequest | None = None
) -> DocumentRequest:
    """Record which requirements the Operator Layanan found satisfied (step 1)."""
    current = _locked(req)
    _held_task(actor, current, ["kelengkapan"])
    codes = set(current.document_type.requirements.values_list("code", flat=True))
    chosen = set(ticked)
    unknown = chosen - codes
    if unknown:
        raise LayananError(_("Persyaratan tidak dikenal."))
    current.checklist = {code: code in chosen for code in sorted(codes)}
    current.save(update_fields=["checklist", "updated_at"])
    record_event(
        actor,
        "layanan.request.checklist",
        current,
        office=current.office,
        request=request,
        data={"ticked": sorted(chosen), "of": len(codes)},
    )
    return current


@transaction.atomic
def request_missing(
    actor: Any,
    req: DocumentRequest,
    missing: Iterable[str],
    note: str = "",
    *,
    request: HttpRequest | None = None,
) -> DocumentRequest:
    """Send the request back to the citizen with what is missing (step 1, incomplete).

    The SOP task stays with the operator, suspended: its due time stops counting while the
    request waits for the citizen's missing files (:func:`add_files`), which resumes both.
    Every earlier upload is kept.
    """
    current = _locked(req)
    task = _held_task(actor, current, ["kelengkapan"])
    if current.status == RequestStatus.WAITING_CITIZEN:
        raise LayananError(_("Permohonan ini sudah menunggu kelengkapan dari pemohon."))
    requirements = {r.code: r for r in current.document_type.requirements.all()}
    codes = [c for c in dict.fromkeys(missing)]
    if any(c not in requirements for c in codes):
        raise LayananError(_("Persyaratan tidak dikenal."))
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise LayananError(_("Catatan terlalu panjang."))
    if not codes and not text:
        raise LayananError(_("Pilih persyaratan yang kurang atau tulis catatan untuk pemohon."))
    current.status = str(RequestStatus.WAITING_CITIZEN)
    current.missing = codes
    current.missing_note = text
    current.missing_round += 1
    current.save(update_fields=["status", "missing", "missing_note", "missing_round", "updated_at"])
    if task.suspended_at is None:
        # The officer's SLA clock stops while the citizen owes files (resumed by add_files).
        sop_actions.suspend_task(
            actor,
            task,
            _("Menunggu kelengkapan berkas dari pemohon (putaran %(round)d).")
            % {"round": current.missing_round},
            request=request,
        )
    record_event(
        actor,
        "layanan.request.missing",
        current,
        office=current.office,
        request=request,
        data={"missing": codes, "round": current.missing_round, "note": bool(text)},
    )
    detail = "; ".join([requirements[c].text for c in codes] + ([text] if text else []))
    notify(current, Milestone.INCOMPLETE, detail=detail, round_=current.missing_round, actor=actor)
    return current


@transaction.atomic
def save_draft(
    actor: Any,
    req: DocumentRequest,
    changes: dict[str, str],
    *,
    request: HttpRequest | None = None,
) -> list[DraftEdit]:
    """Change fields of the draft document (step 3); every change is kept (before → after)."""
    current = _locked(req)
    task = _held_task(actor, current, ["entri-siak"])
    allowed = {c.rstrip("?") for c in current.document_type.fields}
    draft = dict(current.draft or {})
    edits: list[DraftEdit] = []
    for code, value in changes.items():
        if code not in allowed:
            raise LayananError(_("Isian draf tidak dikenal."))
        after = str(value or "").strip()[:300]
        before = str(draft.get(code, ""))
        if after == before:
            continue
        draft[code] = after
        edits.append(
            DraftEdit(
                request=current,
                field=code,
                before=before,
                after=after,
                actor=actor,
                activity_id=task.activity_id,
            )
        )
    if not edits:
        return []
    DraftEdit.objects.bulk_create(edits)
    current.draft = draft
    current.save(update_fields=["draft", "updated_at"])
    record_event(
        actor,
        "layanan.draft.edit",
        current,
        office=current.office,
        request=request,
        data={"fields": [e.field for e in edits]},
    )
    return edits


@transaction.atomic
def record_handover(
    actor: Any,
    req: DocumentRequest,
    mode: str,
    *,
    receiver_name: str = "",
    receiver_id_number: str = "",
    request: HttpRequest | None = None,
) -> DocumentRequest:
    """Note how the document reaches the applicant (step 8): softcopy released for download,
    or hardcopy handed to a receiver whose name and ID number are written down."""
    current = _locked(req)
    _held_task(actor, current, ["serah"])
    if mode not in HandoverMode.values:
        raise LayananError(_("Pilih cara penyerahan."))
    name = (receiver_name or "").strip()[:150]
    id_number = (receiver_id_number or "").strip()[:40]
    if mode == HandoverMode.HARDCOPY and not (name and id_number):
        raise LayananError(_("Untuk hardcopy, nama dan nomor identitas penerima wajib diisi."))
    current.handover_mode = mode
    current.receiver_name = name if mode == HandoverMode.HARDCOPY else ""
    current.receiver_id_number = id_number if mode == HandoverMode.HARDCOPY else ""
    current.save(
        update_fields=["handover_mode", "receiver_name", "receiver_id_number", "updated_at"]
    )
    record_event(
        actor,
        "layanan.request.handover",
        current,
        office=current.office,
        request=request,
        data={"mode": mode},
    )
    return current


def draft_field_codes(document_type: DocumentType) -> list[str]:
    """The draft's field codes of a document type (its applicant fields, in order)."""
    return [c.rstrip("?") for c in document_type.fields if c.rstrip("?") in field_catalogue.FIELDS]


# --------------------------------------------------------------------------- revocation

#: Roles that may revoke or replace an issued document (with the second factor).
REVOKING_ROLES = frozenset({"kepala-dinas", "kabid-pelayanan"})


class RevocationError(Exception):
    """A refused revocation or replacement; ``message`` is for the officer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def may_revoke(actor: Any, issued: IssuedDocument) -> bool:
    """True when ``actor`` holds a revoking role in the document's office (second factor
    aside)."""
    return bool(roles_in(actor, issued.office_id) & REVOKING_ROLES)


def _revocation_reason(actor: Any, issued: IssuedDocument, reason: str) -> str:
    if not may_revoke(actor, issued):
        raise RevocationError(
            _("Hanya Kepala Dinas atau Kabid kantor penerbit yang dapat mencabut dokumen."), 403
        )
    if not passed_second_factor(actor):
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


def _locked_issued(issued: IssuedDocument) -> IssuedDocument:
    return IssuedDocument.objects.select_for_update().select_related("office").get(pk=issued.pk)


def _end_validity(issued: IssuedDocument, status: Any, reason: str) -> None:
    """``issued`` stops being valid (``status``: an :class:`IssuedStatus` other than valid)."""
    issued.status = status
    issued.status_changed_at = timezone.now()
    issued.status_reason = reason
    issued.save(update_fields=["status", "status_changed_at", "status_reason"])


@transaction.atomic
def revoke_document(
    actor: Any, issued: IssuedDocument, reason: str, *, request: HttpRequest | None = None
) -> IssuedDocument:
    """Revoke a valid issued document (the verification page then says "Dicabut")."""
    current = _locked_issued(issued)
    _end_validity(current, IssuedStatus.REVOKED, _revocation_reason(actor, current, reason))
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
def replace_document(
    actor: Any, issued: IssuedDocument, reason: str, *, request: HttpRequest | None = None
) -> IssuedDocument:
    """Issue the request's document again and mark ``issued`` as replaced by the new one.

    The new document gets a new number and verification token, is rendered from the current
    draft and signed with the office's key (cards: a new print job), exactly as
    :func:`documents.issue` does. With the remote (BSrE-style) provider, call it inside
    :func:`sipadu.layanan.issuing.signing_session` with the signer's passphrase. A signing
    failure raises :class:`RevocationError` and changes nothing.
    """
    from sipadu.signing.error_codes import SigningError

    current = _locked_issued(issued)
    why = _revocation_reason(actor, current, reason)
    req = DocumentRequest.objects.select_related("document_type", "office", "penduduk").get(
        pk=current.request_id
    )
    # The old one stops being the request's valid document first, so that the new one's
    # document data (number, QR) is its own.
    _end_validity(current, IssuedStatus.REPLACED, why)
    new = documents.new_issued(
        actor,
        req,
        print_state="queued" if req.document_type.is_card else current.print_state,
        released_at=current.released_at,
    )
    try:
        documents.sign_and_store(actor, req, new)
    except SigningError as failed:  # raising rolls the whole replacement back
        raise RevocationError(failed.message, 502 if failed.retryable else 400) from None
    current.replaced_by = new
    current.save(update_fields=["replaced_by"])
    # The registry carries the number of the valid document, so coverage and the resident's
    # record follow the replacement.
    try:
        documents.update_registry(actor, req, new, request=request)
    except RegistryError as refused:
        raise RevocationError(str(refused)) from None
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
