"""The Dik Jamila SOP end to end through the actions and the layanan step handlers."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from sipadu.audit.models import AuditEvent
from sipadu.audit.services import verify
from sipadu.layanan import actions, documents
from sipadu.layanan.catalogue import CATALOGUE
from sipadu.layanan.fields import FIELDS
from sipadu.layanan.models import (
    DocumentRequest,
    DocumentType,
    DraftEdit,
    IssuedDocument,
    RequestStatus,
)
from sipadu.layanan.tests.conftest import claim_for, png_upload, verified
from sipadu.layanan.uploads import clean_upload
from sipadu.messaging.models import OutboundMessage
from sipadu.registry.coverage import region_figures
from sipadu.sop import actions as sop
from sipadu.sop.error_codes import ErrorCode, WorkflowError
from sipadu.sop.models import CaseEvent, EventKind, Notification, Task, TaskState
from sipadu.sop.tests.runtime_support import live, run_to_end


def wita(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment of December 2026 in Balangan's time zone."""
    return datetime.datetime(2026, 12, day, hour, minute, tzinfo=ZoneInfo("Asia/Makassar"))


def notices(req: DocumentRequest) -> list[str]:
    return [
        m.payload["text"]
        for m in OutboundMessage.objects.filter(channel="web", recipient=req.tracking_number)
    ]


def take(staff: dict[str, Any], req: DocumentRequest, role: str) -> Any:
    """Claim the request's current task as the persona of ``role``; returns the task."""
    assert req.case is not None
    task = live(req.case)
    assert task.role_code == role, (task.activity_id, task.role_code)
    sop.claim(staff[role], task)
    return task


def fresh(req: DocumentRequest) -> DocumentRequest:
    return DocumentRequest.objects.select_related("case", "document_type", "office").get(pk=req.pk)


def tick_all(staff: dict[str, Any], req: DocumentRequest) -> None:
    codes = list(
        req.document_type.requirements.filter(required=True).values_list("code", flat=True)
    )
    actions.save_checklist(staff["operator-layanan"], req, codes)


def through_kelengkapan(staff: dict[str, Any], req: DocumentRequest) -> None:
    task = take(staff, req, "operator-layanan")
    tick_all(staff, req)
    sop.complete(staff["operator-layanan"], task)


def through_draft(staff: dict[str, Any], req: DocumentRequest) -> None:
    through_kelengkapan(staff, req)
    task = take(staff, req, "operator-siak")
    sop.decide(staff["operator-siak"], task, True)
    task = take(staff, req, "operator-siak")
    sop.complete(staff["operator-siak"], task)


def to_tte(staff: dict[str, Any], req: DocumentRequest) -> None:
    through_draft(staff, req)
    for role in ("kasi-pelayanan", "kabid-pelayanan"):
        task = take(staff, req, role)
        sop.decide(staff[role], task, True)


def test_catalogue_has_the_nine_documents(setup: Any) -> None:
    types = {t.code: t for t in DocumentType.objects.prefetch_related("requirements")}
    assert set(types) == {
        "ktp-el", "kk", "kia", "akta-kelahiran", "akta-kematian", "akta-perkawinan",
        "akta-perceraian", "pengakuan-anak", "pengesahan-anak",
    }  # fmt: skip
    for t in types.values():
        assert t.requirements.filter(required=True).exists(), t.code
        assert all(code.rstrip("?") in FIELDS for code in t.fields), t.code
    assert types["ktp-el"].is_card and types["kia"].is_card
    assert not types["akta-kelahiran"].is_card
    assert len(CATALOGUE) == 9


def test_whole_sop_issues_the_document_and_moves_coverage(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    child = make_resident()
    before = region_figures("63.11")["akta_lahir_0_17"].numerator
    req = submit(claim_for(child, birth_place="Paringn"), whatsapp="")
    assert req.case.subject_label == req.tracking_number
    assert child.full_name not in req.case.subject_label
    assert req.status == RequestStatus.SUBMITTED
    assert req.files.count() == 3

    # 1. The checklist must be complete before the step can finish.
    task = take(staff, req, "operator-layanan")
    with pytest.raises(WorkflowError) as refused:
        sop.complete(staff["operator-layanan"], task)
    assert refused.value.code == ErrorCode.STEP_REFUSED
    assert "Surat keterangan kelahiran" in refused.value.message
    tick_all(staff, req)
    sop.complete(staff["operator-layanan"], task)
    assert fresh(req).status == RequestStatus.IN_PROCESS

    # 2. The SIAK check: the birth place is not compared, everything else agrees.
    task = take(staff, req, "operator-siak")
    sop.decide(staff["operator-siak"], task, True)
    req = fresh(req)
    assert req.penduduk_id == child.pk
    assert set(req.match_summary.values()) == {"match"}
    assert req.draft["birth_place"] == "Paringin"  # pre-filled from the registry

    # 3. Drafting: every change is recorded before → after.
    task = take(staff, req, "operator-siak")
    edits = actions.save_draft(staff["operator-siak"], req, {"full_name": "Nur Aisyah Putri"})
    assert [(e.field, e.before, e.after) for e in edits] == [
        ("full_name", "Nur Aisyah", "Nur Aisyah Putri")
    ]
    assert actions.save_draft(staff["operator-siak"], req, {"full_name": "Nur Aisyah Putri"}) == []
    sop.complete(staff["operator-siak"], task)
    assert DraftEdit.objects.filter(request=req).count() == 1

    # 4–5. Kasi and Kabid agree.
    for role in ("kasi-pelayanan", "kabid-pelayanan"):
        task = take(staff, req, role)
        sop.decide(staff[role], task, True)

    # 6. TTE needs the second factor.
    task = take(staff, req, "kepala-dinas")
    with pytest.raises(WorkflowError) as refused:
        sop.complete(staff["kepala-dinas"], task)
    assert "faktor kedua" in refused.value.message
    assert not IssuedDocument.objects.filter(request=req).exists()
    sop.complete(verified(staff["kepala-dinas"]), task)
    req = fresh(req)
    assert req.status == RequestStatus.SIGNED
    issued = IssuedDocument.objects.get(request=req)
    assert issued.number.startswith("6311-LU-")
    child.refresh_from_db()
    assert child.akta_kelahiran_no == issued.number
    assert region_figures("63.11")["akta_lahir_0_17"].numerator == before + 1
    data = documents.document_data(req)
    assert data["number"] == issued.number and data["verification_url"].endswith(issued.token)
    assert ("Nama lengkap", "Nur Aisyah Putri") in data["rows"]

    # 7. Print/download → ready.
    task = take(staff, req, "operator-siak")
    sop.complete(staff["operator-siak"], task)
    assert fresh(req).status == RequestStatus.READY

    # 8. Hand-over must be recorded; hardcopy needs the receiver's name and ID.
    task = take(staff, req, "operator-layanan")
    with pytest.raises(WorkflowError):
        sop.complete(staff["operator-layanan"], task)
    with pytest.raises(actions.LayananError):
        actions.record_handover(staff["operator-layanan"], req, "hardcopy", receiver_name="Ahmad")
    actions.record_handover(
        staff["operator-layanan"],
        req,
        "hardcopy",
        receiver_name="Ahmad Fauzi",
        receiver_id_number="6311010101800001",
    )
    sop.complete(staff["operator-layanan"], task)
    req = fresh(req)
    assert req.status == RequestStatus.DONE and req.case.state == "done"
    issued.refresh_from_db()
    assert issued.released_at is not None

    texts = notices(req)
    assert len(texts) == 4
    assert "telah kami terima" in texts[0]
    assert "ditandatangani" in texts[1]
    assert "sudah siap" in texts[2]
    assert "diserahkan" in texts[3]
    assert all(child.full_name not in t and child.nik not in t for t in texts)


def test_incomplete_request_waits_for_the_citizen_and_resumes(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    req = submit(claim_for(make_resident()))
    task = take(staff, req, "operator-layanan")
    with pytest.raises(actions.LayananError):
        actions.request_missing(staff["operator-layanan"], req, [], "")
    actions.request_missing(
        staff["operator-layanan"], req, ["buku-nikah"], "Foto buku nikah kurang jelas"
    )
    req = fresh(req)
    assert req.status == RequestStatus.WAITING_CITIZEN and req.missing_round == 1
    assert "Buku nikah" in notices(req)[-1] and "kurang jelas" in notices(req)[-1]
    tick_all(staff, req)
    with pytest.raises(WorkflowError) as refused:
        sop.complete(staff["operator-layanan"], task)
    assert "menunggu" in refused.value.message

    # An upload for another requirement keeps it waiting; every upload is kept.
    other = req.document_type.requirements.get(code="kk")
    actions.add_files(req, [actions.Upload(other, clean_upload(png_upload()))])
    assert fresh(req).status == RequestStatus.WAITING_CITIZEN
    wanted = req.document_type.requirements.get(code="buku-nikah")
    actions.add_files(req, [actions.Upload(wanted, clean_upload(png_upload("nikah.png")))])
    req = fresh(req)
    assert req.status == RequestStatus.IN_PROCESS
    assert req.files.count() == 5  # 3 at submission + 2 later
    assert req.files.filter(round=1).count() == 2
    assert "diproses kembali" in notices(req)[-1]
    assert Notification.objects.filter(user=staff["operator-layanan"], case=req.case).exists()
    sop.complete(staff["operator-layanan"], task)
    assert live(req.case).activity_id == "kesesuaian-siak"


def test_waiting_for_the_citizen_stops_the_officers_clock(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    """The SLA of step 1 does not run while the citizen owes files (Balangan, WITA).

    Sent back Wednesday 23 December 2026 at 15:52 with three of its five minutes left; the
    citizen answers on Monday 28 December at 09:00 (24 December is cuti bersama, 25
    Christmas): 8 + 60 office minutes later, so the task is due at 09:03.
    """
    resident = make_resident()
    with time_machine.travel(wita(23, 15, 50), tick=False):
        req = submit(claim_for(resident))
        task = take(staff, req, "operator-layanan")
    assert Task.objects.get(pk=task.pk).due_at == wita(23, 15, 55)
    with time_machine.travel(wita(23, 15, 52), tick=False):
        actions.request_missing(staff["operator-layanan"], req, ["buku-nikah"], "")
    waiting = Task.objects.get(pk=task.pk)
    assert waiting.suspended_at == wita(23, 15, 52) and waiting.due_at is None
    assert waiting.suspended_due_at == wita(23, 15, 55)
    assert (
        waiting.state == TaskState.CLAIMED and waiting.assignee_id == staff["operator-layanan"].pk
    )
    # The citizen's delay is not the officer's breach.
    assert sop.mark_breaches(wita(28, 8, 30)) == 0

    wanted = req.document_type.requirements.get(code="buku-nikah")
    with time_machine.travel(wita(28, 9), tick=False):
        actions.add_files(req, [actions.Upload(wanted, clean_upload(png_upload("nikah.png")))])
    assert fresh(req).status == RequestStatus.IN_PROCESS
    running = Task.objects.get(pk=task.pk)
    assert running.suspended_at is None and running.due_at == wita(28, 9, 3)
    assert running.paused_seconds == 68 * 60
    kinds = list(CaseEvent.objects.filter(case=req.case).values_list("kind", flat=True))
    assert kinds.count(EventKind.SUSPENDED) == 1 and kinds.count(EventKind.RESUMED) == 1
    resume = AuditEvent.objects.get(action="sop.task.resume")
    assert resume.actor_id is None and resume.actor_label == f"masyarakat:{req.pk}"
    assert list(verify()) == []

    tick_all(staff, req)
    with time_machine.travel(wita(28, 9, 2), tick=False):
        done = sop.complete(staff["operator-layanan"], task)
    assert done.within_standard is True and done.work_seconds == 4 * 60


def test_registry_mismatch_is_returned_with_the_reason(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    req = submit(claim_for(make_resident(), mother_name="Siti Romlah"))
    through_kelengkapan(staff, req)
    task = take(staff, req, "operator-siak")
    with pytest.raises(WorkflowError) as refused:
        sop.decide(staff["operator-siak"], task, True)
    assert "mother_name" in refused.value.message
    with pytest.raises(WorkflowError):
        sop.decide(staff["operator-siak"], task, False)  # a reason is required
    sop.decide(staff["operator-siak"], task, False, reason="Nama ibu berbeda dengan SIAK")
    back = live(req.case)
    assert back.activity_id == "kelengkapan" and back.state == TaskState.OPEN
    assert back.return_reason == "Nama ibu berbeda dengan SIAK"
    req = fresh(req)
    assert req.match_summary["mother_name"] == "mismatch"
    assert not req.draft


def test_unknown_nik_is_not_found_and_cannot_pass(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    person = make_resident()
    nik = person.nik[:-4] + "9999"
    req = submit(claim_for(person, nik=nik))
    through_kelengkapan(staff, req)
    task = take(staff, req, "operator-siak")
    with pytest.raises(WorkflowError):
        sop.decide(staff["operator-siak"], task, True)


def test_kabid_returns_the_draft_to_the_kasi(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    req = submit(claim_for(make_resident()))
    through_draft(staff, req)
    task = take(staff, req, "kasi-pelayanan")
    sop.decide(staff["kasi-pelayanan"], task, True)
    task = take(staff, req, "kabid-pelayanan")
    sop.decide(staff["kabid-pelayanan"], task, False, reason="Tempat lahir perlu dicek")
    back = live(req.case)
    assert back.activity_id == "periksa-draft" and back.role_code == "kasi-pelayanan"
    assert back.return_reason == "Tempat lahir perlu dicek"
    assert Notification.objects.filter(user=staff["kasi-pelayanan"], case=req.case).exists()
    # The Kasi can send it further back to drafting, where the draft is edited again.
    task = take(staff, req, "kasi-pelayanan")
    sop.decide(staff["kasi-pelayanan"], task, False, reason="Perbaiki tempat lahir")
    task = take(staff, req, "operator-siak")
    actions.save_draft(staff["operator-siak"], req, {"birth_place": "Paringin Selatan"})
    sop.complete(staff["operator-siak"], task)
    assert fresh(req).draft["birth_place"] == "Paringin Selatan"


def test_only_the_holder_of_the_step_may_work_on_it(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    req = submit(claim_for(make_resident()))
    with pytest.raises(actions.LayananError):
        actions.save_checklist(staff["operator-layanan"], req, [])  # not claimed yet
    take(staff, req, "operator-layanan")
    with pytest.raises(actions.LayananError):
        actions.save_checklist(staff["operator-siak"], req, [])
    with pytest.raises(actions.LayananError):
        actions.save_draft(staff["operator-layanan"], req, {"full_name": "X"})
    with pytest.raises(actions.LayananError):
        actions.save_checklist(staff["operator-layanan"], req, ["tidak-ada"])


def test_card_is_a_print_job_and_marks_the_registry(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    child = make_resident(birth_date=__import__("datetime").date(2015, 6, 1))
    req = submit(claim_for(child, "kia"), "kia")
    to_tte(staff, req)
    task = take(staff, req, "kepala-dinas")
    sop.complete(verified(staff["kepala-dinas"]), task)
    issued = IssuedDocument.objects.get(request=req)
    assert issued.print_state == "queued" and not issued.file
    child.refresh_from_db()
    assert child.kia is True
    task = take(staff, req, "operator-siak")
    sop.complete(staff["operator-siak"], task)
    issued.refresh_from_db()
    assert issued.print_state == "printed"


def test_signer_seam_stores_the_signed_pdf(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    calls: list[dict[str, Any]] = []

    def fake_signer(issued: IssuedDocument, data: dict[str, Any], signer: Any) -> bytes:
        calls.append(data)
        return b"%PDF-1.7 signed " + issued.number.encode()

    req = submit(claim_for(make_resident()))
    to_tte(staff, req)
    previous = documents.set_pdf_signer(fake_signer)
    try:
        task = take(staff, req, "kepala-dinas")
        sop.complete(verified(staff["kepala-dinas"]), task)
    finally:
        documents.set_pdf_signer(previous)
    issued = IssuedDocument.objects.get(request=req)
    assert calls and calls[0]["type_code"] == "akta-kelahiran"
    assert issued.sha256 and issued.file.read().startswith(b"%PDF-1.7 signed")
    assert (documents.issued_lookup(issued.sha256) or "").startswith("Akta Kelahiran No.")


def test_signing_failure_rolls_the_step_back(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    from sipadu.signing.error_codes import SigningError, SigningErrorCode

    def broken(issued: IssuedDocument, data: dict[str, Any], signer: Any) -> bytes:
        raise SigningError(SigningErrorCode.SERVICE_UNAVAILABLE)

    req = submit(claim_for(make_resident()))
    to_tte(staff, req)
    previous = documents.set_pdf_signer(broken)
    try:
        task = take(staff, req, "kepala-dinas")
        with pytest.raises(WorkflowError) as refused:
            sop.complete(verified(staff["kepala-dinas"]), task)
    finally:
        documents.set_pdf_signer(previous)
    assert refused.value.code == ErrorCode.STEP_REFUSED
    assert not IssuedDocument.objects.filter(request=req).exists()
    assert live(req.case).activity_id == "tte"


def test_death_certificate_records_the_death(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    person = make_resident(
        full_name="Abdul Karim", sex="L", birth_date=__import__("datetime").date(1950, 1, 5)
    )
    data = claim_for(person, "akta-kematian")
    data.update(
        {"death_date": "2026-01-10", "death_place": "Paringin", "reporter_relation": "Anak"}
    )
    req = submit(data, "akta-kematian")
    to_tte(staff, req)
    task = take(staff, req, "kepala-dinas")
    sop.complete(verified(staff["kepala-dinas"]), task)
    person.refresh_from_db()
    assert person.is_alive is False and person.akta_kematian_no.startswith("6311-KM-")


def test_cases_without_a_request_run_on_the_plain_runtime(
    staff: dict[str, Any], setup: Any
) -> None:
    case = sop.start_case(staff["operator-layanan"], "dik-jamila-mewa", setup["office"])
    done = run_to_end(staff, case)
    assert done[0] == "kelengkapan" and done[-1] == "serah"


def test_existing_whatsapp_requests_take_their_channel_from_the_audit_log(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    import importlib

    from django.apps import apps

    from sipadu.audit.services import record_event
    from sipadu.layanan import whatsapp

    migration = importlib.import_module("sipadu.layanan.migrations.0004_request_channel")
    by_whatsapp = submit(claim_for(make_resident(full_name="Siti Aminah", sex="P")))
    by_web = submit(claim_for(make_resident(full_name="Budi Santoso", sex="L")))
    record_event(f"masyarakat:{by_whatsapp.pk}", whatsapp.SUBMIT_EVENT, by_whatsapp)
    assert migration.SUBMIT_EVENT == whatsapp.SUBMIT_EVENT
    migration.channel_from_audit(apps, None)
    by_whatsapp.refresh_from_db()
    by_web.refresh_from_db()
    assert (by_whatsapp.channel, by_web.channel) == ("whatsapp", "web")
    assert whatsapp.came_by_whatsapp(by_whatsapp) and not whatsapp.came_by_whatsapp(by_web)


def test_notices_to_the_citizen_are_indonesian_whatever_the_officers_language(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    req = submit(claim_for(make_resident()))
    take(staff, req, "operator-layanan")
    with translation.override("en"):
        actions.request_missing(staff["operator-layanan"], req, ["buku-nikah"], "Buram")
    assert "belum lengkap" in notices(fresh(req))[-1]
