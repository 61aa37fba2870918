"""Each seed SOP run start to end through the actions, every "no" branch and return included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from sipadu.audit.models import AuditEvent
from sipadu.audit.services import verify
from sipadu.sop import actions
from sipadu.sop.definitions_sync import reference_prefix, sync_definitions, sync_text
from sipadu.sop.engine import DEFINITIONS_DIR
from sipadu.sop.error_codes import ErrorCode, WorkflowError
from sipadu.sop.models import (
    Case,
    CaseEvent,
    CaseState,
    EventKind,
    Notification,
    SopDefinition,
    SopRevision,
    Task,
    TaskState,
)
from sipadu.sop.tests.runtime_support import (
    SEED_SOPS,
    live,
    loaded,
    run_to_end,
    states,
    step,
    taker,
    world,
)

__all__ = ["loaded", "world"]

HAPPY_PATHS = {
    "dik-jamila-mewa": [
        "kelengkapan",
        "kesesuaian-siak",
        "entri-siak",
        "periksa-draft",
        "verifikasi",
        "tte",
        "cetak",
        "serah",
    ],
    "inovasi-pelayanan-bima": [
        "konsep",
        "telaah",
        "keputusan",
        "rapat",
        "mekanisme",
        "nama",
        "pelaksanaan",
    ],
    "sijarla-solok": [
        "kebutuhan",
        "permohonan",
        "disposisi",
        "persiapan",
        "laporan",
        "rekapitulasi",
    ],
    "pemanfaatan-data-palangkaraya": [
        "permohonan",
        "izin",
        "undangan",
        "perumusan-pks",
        "konsultasi-pks",
        "tanda-tangan-pks",
        "juknis",
        "tim-teknis",
        "user-id-development",
        "stress-test",
        "user-id-production",
        "monev",
    ],
    "kinerja-dokumen-sumbar": [
        "arahan-kasi",
        "petunjuk-staf",
        "terima-laporan",
        "entri-data",
        "validasi",
        "lakip-bidang",
        "lakip-dinas",
    ],
}


def start(world: dict[str, Any], sop_code: str, **kwargs: Any) -> tuple[Case, dict[str, Any]]:
    staff = world[SEED_SOPS[sop_code]]
    first_officer = next(v for k, v in staff.items() if k != "office")
    case = actions.start_case(first_officer, sop_code, staff["office"], **kwargs)
    return case, staff


# ----------------------------------------------------------------------------- definitions


@pytest.mark.django_db
def test_sync_loads_every_seed_and_is_a_no_op_the_second_time() -> None:
    first = sync_definitions()
    assert sorted(first.created) == sorted(SEED_SOPS)
    assert not first.errors
    second = sync_definitions()
    assert second.created == [] and sorted(second.unchanged) == sorted(SEED_SOPS)
    assert SopRevision.objects.count() == 5
    djm = SopDefinition.objects.get(code="dik-jamila-mewa")
    assert djm.prefix == "DJM" and djm.current is not None and djm.current.number == 1


@pytest.mark.django_db
def test_changed_file_makes_a_new_revision_and_running_cases_keep_theirs(
    world: dict[str, Any], tmp_path: Path
) -> None:
    case, staff = start(world, "kinerja-dokumen-sumbar")
    old_revision = case.revision
    text = (DEFINITIONS_DIR / "kinerja-dokumen-sumbar.yaml").read_text(encoding="utf-8")
    changed = text.replace("time: 15 menit", "time: 20 menit", 1)
    assert changed != text
    (tmp_path / "kinerja-dokumen-sumbar.yaml").write_text(changed, encoding="utf-8")
    report = sync_definitions(tmp_path)
    assert report.created == ["kinerja-dokumen-sumbar"]
    definition = SopDefinition.objects.get(code="kinerja-dokumen-sumbar")
    assert definition.current is not None and definition.current.number == 2
    assert sync_definitions(tmp_path).created == []
    # The running case still follows revision 1; a new case starts on revision 2.
    case.refresh_from_db()
    assert case.revision_id == old_revision.pk
    assert run_to_end(staff, case) == HAPPY_PATHS["kinerja-dokumen-sumbar"]
    newer, _ = start(world, "kinerja-dokumen-sumbar")
    assert newer.revision_id == definition.current.pk
    # Going back to the old text reuses revision 1 instead of storing it twice.
    revision, created = sync_text(text, source="x.yaml")
    assert (revision.number, created) == (1, False)
    definition.refresh_from_db()
    assert definition.current_id == old_revision.pk


@pytest.mark.django_db
def test_sync_reports_a_broken_file_and_loads_the_others(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("code: [unclosed\n", encoding="utf-8")
    good = (DEFINITIONS_DIR / "sijarla-solok.yaml").read_text(encoding="utf-8")
    (tmp_path / "sijarla-solok.yaml").write_text(good, encoding="utf-8")
    report = sync_definitions(tmp_path)
    assert report.created == ["sijarla-solok"]
    assert "broken.yaml" in report.errors


def test_reference_prefix_is_the_initials() -> None:
    assert reference_prefix("dik-jamila-mewa") == "DJM"
    assert reference_prefix("pemanfaatan-data-palangkaraya") == "PDP"
    assert reference_prefix("x") == "X"[:3]


# ----------------------------------------------------------------------------- happy paths


@pytest.mark.parametrize("sop_code", sorted(SEED_SOPS))
@pytest.mark.django_db
def test_each_seed_sop_runs_start_to_end(world: dict[str, Any], sop_code: str) -> None:
    case, staff = start(world, sop_code, subject_label="Uji")
    assert case.reference.startswith(f"{case.definition.prefix}-")
    assert run_to_end(staff, case) == HAPPY_PATHS[sop_code]
    case.refresh_from_db()
    assert case.state == CaseState.DONE and case.completed_at is not None
    assert not case.live_tasks().exists()
    assert set(case.tasks.values_list("state", flat=True)) == {TaskState.DONE}
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds[0] == EventKind.STARTED and kinds[-1] == EventKind.FINISHED
    assert kinds.count(EventKind.CLAIMED) == len(HAPPY_PATHS[sop_code])
    # Every task measured its office time; one audit event per action, chain intact.
    assert not case.tasks.filter(work_seconds__isnull=True).exists()
    assert AuditEvent.objects.filter(action="sop.case.start", object_id=str(case.pk)).count() == 1
    assert list(verify()) == []


@pytest.mark.django_db
def test_references_count_per_prefix_and_year(world: dict[str, Any]) -> None:
    first, _ = start(world, "dik-jamila-mewa")
    second, _ = start(world, "dik-jamila-mewa")
    other, _ = start(world, "sijarla-solok")
    year = first.started_at.astimezone(first.office.tzinfo).year
    assert first.reference == f"DJM-{year}-000001"
    assert second.reference == f"DJM-{year}-000002"
    assert other.reference == f"SS-{year}-000001"


# ----------------------------------------------------------------------------- branches


@pytest.mark.django_db
def test_dik_jamila_every_no_branch_returns_and_then_finishes(world: dict[str, Any]) -> None:
    case, staff = start(world, "dik-jamila-mewa")
    step(staff, case)  # kelengkapan
    # 2: SIAK data does not match → back to the service operator, with the reason.
    task = live(case)
    actions.claim(staff["operator-siak"], task)
    with pytest.raises(WorkflowError) as refused:
        actions.decide(staff["operator-siak"], task, False, reason="  ")
    assert refused.value.code == ErrorCode.REASON_REQUIRED
    actions.decide(staff["operator-siak"], task, False, reason="NIK tidak cocok")
    back = live(case)
    assert back.activity_id == "kelengkapan" and back.return_reason == "NIK tidak cocok"
    assert back.previous_id == task.pk
    assert Notification.objects.filter(user=staff["operator-layanan"], case=case).exists()
    step(staff, case)  # kelengkapan again
    step(staff, case)  # kesesuaian-siak: yes
    step(staff, case)  # entri-siak
    step(staff, case, approve=False, reason="Draft salah")  # periksa-draft: no → entri-siak
    assert live(case).activity_id == "entri-siak"
    step(staff, case)  # entri-siak again
    step(staff, case)  # periksa-draft: yes
    step(staff, case, approve=False, reason="Perlu dicek ulang")  # verifikasi: no → periksa
    assert live(case).activity_id == "periksa-draft"
    rest = run_to_end(staff, case)
    assert rest == ["periksa-draft", "verifikasi", "tte", "cetak", "serah"]
    outcomes = list(
        case.tasks.filter(outcome="no").order_by("id").values_list("activity_id", flat=True)
    )
    assert outcomes == ["kesesuaian-siak", "periksa-draft", "verifikasi"]
    assert case.events.filter(kind=EventKind.DECIDED).count() == 7


@pytest.mark.django_db
def test_bima_no_branch_goes_forward_to_rework_without_a_reason(world: dict[str, Any]) -> None:
    case, staff = start(world, "inovasi-pelayanan-bima")
    step(staff, case)
    step(staff, case)
    task = live(case)
    assert task.activity_id == "keputusan"
    actions.claim(staff["kepala-dinas"], task)
    actions.decide(staff["kepala-dinas"], task, False)  # forward branch: no reason needed
    rework = live(case)
    assert rework.activity_id == "perbaikan" and rework.return_reason == ""
    assert run_to_end(staff, case) == ["perbaikan", "rapat", "mekanisme", "nama", "pelaksanaan"]
    # "Jam kerja harian" has no due time.
    last = case.tasks.get(activity_id="pelaksanaan")
    assert last.due_at is None and last.within_standard is None


@pytest.mark.django_db
def test_return_to_an_earlier_done_activity(world: dict[str, Any]) -> None:
    case, staff = start(world, "dik-jamila-mewa")
    for _i in range(6):
        step(staff, case)
    task = live(case)
    assert task.activity_id == "cetak"
    siak = staff["operator-siak"]
    actions.claim(siak, task)
    actions.attach_file(siak, case, ContentFile(b"%PDF-1.4 draft", name="draft.pdf"), task=task)
    for target, code in [
        ("serah", ErrorCode.BAD_RETURN_TARGET),
        ("cetak", ErrorCode.BAD_RETURN_TARGET),
        ("tidak-ada", ErrorCode.BAD_RETURN_TARGET),
    ]:
        with pytest.raises(WorkflowError) as refused:
            actions.return_to(siak, task, target, "alasan")
        assert refused.value.code == code
    with pytest.raises(WorkflowError) as refused:
        actions.return_to(siak, task, "entri-siak", "")
    assert refused.value.code == ErrorCode.REASON_REQUIRED
    actions.return_to(siak, task, "entri-siak", "Nama ibu salah ketik")
    returned = Task.objects.get(pk=task.pk)
    assert returned.state == TaskState.RETURNED
    again = live(case)
    assert again.activity_id == "entri-siak" and again.return_reason == "Nama ibu salah ketik"
    assert case.attachments.count() == 1  # kept after the return
    assert case.events.filter(kind=EventKind.RETURNED).count() == 1
    assert run_to_end(staff, case)[-1] == "serah"


# ----------------------------------------------------------------------------- externals


@pytest.mark.django_db
def test_external_steps_are_recorded_on_behalf_by_the_receiving_role(
    world: dict[str, Any],
) -> None:
    case, staff = start(world, "pemanfaatan-data-palangkaraya")
    first = live(case)
    assert (first.role_code, first.queue_role, first.external) == (
        "lembaga-pengguna",
        "kepala-dinas",
        True,
    )
    assert first.due_at is None  # Tentatif
    # Somebody of another role may not record it.
    with pytest.raises(WorkflowError) as refused:
        actions.claim(staff["staf"], first)
    assert refused.value.code == ErrorCode.NOT_EXECUTOR
    actions.claim(staff["kepala-dinas"], first)
    done = actions.complete(staff["kepala-dinas"], first, output="Surat Permohonan")
    assert done.on_behalf_of == "lembaga-pengguna"
    event = case.events.get(kind=EventKind.COMPLETED, task=first)
    assert event.on_behalf_of == "lembaga-pengguna"
    # The Walikota's permission (2 hari) has a due time; the provincial consultation is
    # recorded by the Bidang that drafts the PKS.
    assert live(case).due_at is not None
    while live(case).activity_id != "konsultasi-pks":
        step(staff, case)
    assert live(case).queue_role == "kabid-piak"


@pytest.mark.django_db
def test_a_partner_account_can_do_its_own_step(world: dict[str, Any]) -> None:
    from sipadu.sop.tests.runtime_support import persona

    case, staff = start(world, "pemanfaatan-data-palangkaraya")
    partner = persona(staff["office"], "lembaga-pengguna")
    task = live(case)
    actions.claim(partner, task)
    assert actions.complete(partner, task).on_behalf_of == ""


@pytest.mark.django_db
def test_recurring_monitoring_is_rescheduled_until_ended(world: dict[str, Any]) -> None:
    case, staff = start(world, "pemanfaatan-data-palangkaraya")
    while live(case).activity_id != "monev":
        task = live(case)
        with pytest.raises(WorkflowError) as refused:
            user = taker(staff, task)
            actions.claim(user, task)
            actions.complete(user, task, end_recurrence=True)
        assert refused.value.code == ErrorCode.NOT_RECURRING
        actions.complete(user, task)
    first = live(case)
    assert first.due_at is not None
    assert 170 <= (first.due_at - first.started_at).days <= 190  # about 6 months
    user = staff["kabid-piak"]
    actions.claim(user, first)
    actions.complete(user, first, output="Monev semester 1")
    second = live(case)
    assert second.activity_id == "monev" and second.pk != first.pk
    assert second.previous_id == first.pk
    assert case.events.filter(kind=EventKind.SCHEDULED).count() == 1
    actions.claim(user, second)
    actions.complete(user, second, end_recurrence=True)
    case.refresh_from_db()
    assert case.state == CaseState.DONE
    assert [a for a, s in states(case)].count("monev") == 2


@pytest.mark.django_db
def test_sijarla_tracks_the_three_day_limit_on_the_case(world: dict[str, Any]) -> None:
    case, staff = start(world, "sijarla-solok")
    assert case.due_at is not None
    assert case.tasks.get().due_at is None  # the steps themselves have no standard time
    assert live(case).queue_role == "kabid-pelayanan"
    step(staff, case)
    step(staff, case)
    step(staff, case)
    persiapan = live(case)
    assert persiapan.role_code == "tim-sijarla"
    step(staff, case)
    laporan = live(case)
    assert laporan.role_code == "ketua-tim-sijarla"  # the activity's own, narrower role
    with pytest.raises(WorkflowError):
        actions.claim(staff["tim-sijarla"], laporan)
    assert run_to_end(staff, case) == ["laporan", "rekapitulasi"]


@pytest.mark.django_db
def test_case_events_are_append_only(world: dict[str, Any]) -> None:
    case, _staff = start(world, "dik-jamila-mewa")
    event = case.events.get()
    event.text = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        CaseEvent.objects.filter(case=case).update(text="x")
    with pytest.raises(PermissionError):
        CaseEvent.objects.filter(case=case).delete()
    assert CaseEvent.objects.get(pk=event.pk).text == ""
