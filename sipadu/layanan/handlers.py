"""Step handlers of the Dik Jamila Me-WA SOP for document requests.

Registered with the SOP runtime (imported by ``LayananConfig.ready``). Each handler finds the
:class:`DocumentRequest` of the case and does nothing when there is none, so cases started by
hand (demo cases, cases without a portal request) keep running on the plain runtime.

- 1 ``kelengkapan``: refused while waiting for the citizen or a required item is unticked;
  done → the request is "diproses".
- 2 ``kesesuaian-siak``: "Ya" only when every claimed field matches the registry; the
  per-field outcome is kept and, on "Ya", the resident linked and the draft pre-filled.
- 3 ``entri-siak``: a draft must exist.
- 6 ``tte``: the signer passed the second factor (TOTP) and a draft exists; done → the
  document is issued (number, signed PDF or card print job), the registry updated, notice.
- 7 ``cetak``: done → print job done, "ready" notice.
- 8 ``serah``: the hand-over must be recorded; done → released, request done, notice.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from sipadu.core.second_factor import passed_second_factor
from sipadu.layanan import documents
from sipadu.layanan.matching import claim_of, run_match
from sipadu.layanan.models import SOP_CODE, DocumentRequest, RequestStatus
from sipadu.layanan.notify import Milestone, notify
from sipadu.sop.error_codes import ErrorCode, WorkflowError
from sipadu.sop.handlers import (
    StepContext,
    StepRefused,
    check_complete,
    on_cancel,
    on_complete,
)


def request_of(ctx: StepContext) -> DocumentRequest | None:
    """The document request of the step's case (locked for the step), None if there is none."""
    if not ctx.case.subject_id:
        # Cases started without a portal request (officers' own cases) have nothing to check;
        # skipping the locking query keeps their completions cheap.
        return None
    return (
        DocumentRequest.objects.select_for_update(of=("self",))
        .select_related("document_type", "office", "penduduk")
        .filter(case_id=ctx.case.pk)
        .first()
    )


def _set_status(req: DocumentRequest, status: str) -> None:
    req.status = status
    req.save(update_fields=["status", "updated_at"])


# --------------------------------------------------------------------------- 1 kelengkapan


@check_complete(SOP_CODE, "kelengkapan")
def files_complete(ctx: StepContext) -> None:
    """Refuse while the citizen still owes files or a required item is not ticked."""
    req = request_of(ctx)
    if req is None:
        return
    if req.status == RequestStatus.WAITING_CITIZEN:
        raise StepRefused(_("Permohonan masih menunggu kelengkapan berkas dari pemohon."))
    missing = [
        r.text
        for r in req.document_type.requirements.filter(required=True)
        if not (req.checklist or {}).get(r.code)
    ]
    if missing:
        raise StepRefused(
            _("Persyaratan belum diperiksa lengkap: %(items)s.") % {"items": "; ".join(missing)}
        )


@on_complete(SOP_CODE, "kelengkapan")
def files_checked(ctx: StepContext) -> None:
    """The file is complete: the request is being processed."""
    req = request_of(ctx)
    if req is not None and req.status == RequestStatus.SUBMITTED:
        _set_status(req, str(RequestStatus.IN_PROCESS))


# --------------------------------------------------------------------------- 2 kesesuaian-siak


@check_complete(SOP_CODE, "kesesuaian-siak")
def registry_agrees(ctx: StepContext) -> None:
    """ "Ya" needs every claimed field to match the registry; a mismatch goes back with a
    reason ("Tidak")."""
    req = request_of(ctx)
    if req is None or ctx.outcome != "yes":
        return
    result = run_match(req)
    if not result.all_match:
        wrong = [name for name, r in result.fields.items() if r.outcome != "match"]
        raise StepRefused(
            _(
                'Data permohonan tidak sesuai dengan data SIAK (%(fields)s). Pilih "Tidak" '
                "dan tulis alasannya untuk mengembalikan berkas."
            )
            % {"fields": ", ".join(wrong) or _("NIK tidak ditemukan")}
        )


@on_complete(SOP_CODE, "kesesuaian-siak")
def registry_checked(ctx: StepContext) -> None:
    """Keep the per-field outcome; on "Ya" link the resident and pre-fill the draft."""
    req = request_of(ctx)
    if req is None:
        return
    result = run_match(req)
    req.match_summary = {name: str(r.outcome) for name, r in result.fields.items()}
    fields = ["match_summary", "updated_at"]
    if ctx.outcome == "yes" and result.penduduk is not None:
        req.penduduk = result.penduduk
        req.draft = documents.prefill(req)
        fields += ["penduduk", "draft"]
    req.save(update_fields=fields)


# --------------------------------------------------------------------------- 3 entri-siak


@check_complete(SOP_CODE, "entri-siak")
def draft_exists(ctx: StepContext) -> None:
    """The draft document must exist before the Kasi checks it."""
    req = request_of(ctx)
    if req is not None and not req.draft:
        raise StepRefused(_("Draf dokumen belum dibuat."))


# --------------------------------------------------------------------------- 6 tte


@check_complete(SOP_CODE, "tte")
def signerpassed_second_factor(ctx: StepContext) -> None:
    """TTE only by a Kepala Dinas who passed the second factor, on an existing draft."""
    req = request_of(ctx)
    if req is None:
        return
    if not passed_second_factor(ctx.actor):
        raise StepRefused(
            _("Tanda tangan elektronik memerlukan verifikasi faktor kedua (kode OTP).")
        )
    if not req.draft:
        raise StepRefused(_("Draf dokumen belum dibuat."))


@on_complete(SOP_CODE, "tte")
def sign(ctx: StepContext) -> None:
    """Issue the document: number, signed PDF (or card print job), registry ownership."""
    req = request_of(ctx)
    if req is None:
        return
    from sipadu.registry.actions import RegistryError
    from sipadu.signing.error_codes import SigningError

    try:
        documents.issue(ctx.actor, req)
    except RegistryError as refused:
        raise WorkflowError(ErrorCode.STEP_REFUSED, str(refused)) from None
    except SigningError as failed:
        # The step rolls back (nothing issued) and the Kepala Dinas sees why; the signing
        # error stays attached (``__cause__``) so that a TTE form can tell a wrong passphrase.
        raise WorkflowError(ErrorCode.STEP_REFUSED, failed.message) from failed
    _set_status(req, str(RequestStatus.SIGNED))
    notify(req, Milestone.SIGNED, actor=ctx.actor)


# --------------------------------------------------------------------------- 7 cetak


@on_complete(SOP_CODE, "cetak")
def printed(ctx: StepContext) -> None:
    """Printed or downloaded: the document is ready for the applicant."""
    req = request_of(ctx)
    if req is None:
        return
    documents.mark_printed(ctx.actor, req)
    _set_status(req, str(RequestStatus.READY))
    notify(req, Milestone.READY, actor=ctx.actor)


# --------------------------------------------------------------------------- 8 serah


@check_complete(SOP_CODE, "serah")
def handover_recorded(ctx: StepContext) -> None:
    """The hand-over (softcopy, or hardcopy with receiver) must be noted first."""
    req = request_of(ctx)
    if req is not None and not req.handover_mode:
        raise StepRefused(_("Catat cara penyerahan dokumen terlebih dahulu."))


@on_complete(SOP_CODE, "serah")
def handed_over(ctx: StepContext) -> None:
    """Released to the applicant: the request is done."""
    req = request_of(ctx)
    if req is None:
        return
    from django.utils import timezone

    documents.release(ctx.actor, req)
    req.handed_over_at = timezone.now()
    req.status = str(RequestStatus.DONE)
    req.save(update_fields=["handed_over_at", "status", "updated_at"])
    notify(req, Milestone.DONE, actor=ctx.actor)


# --------------------------------------------------------------------------- cancelled


@on_cancel(SOP_CODE)
def request_cancelled(case: Any, actor: Any) -> None:
    """The case was stopped: the request is closed (no more uploads, the status page says
    "Dibatalkan")."""
    req = DocumentRequest.objects.select_for_update().filter(case_id=case.pk).first()
    if req is not None and req.status != RequestStatus.DONE:
        _set_status(req, str(RequestStatus.CANCELLED))


__all__ = ["claim_of", "request_of"]
