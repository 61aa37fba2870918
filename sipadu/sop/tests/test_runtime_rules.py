"""Illegal moves are refused with a code and a message; handlers, files, inbox, permissions."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from sipadu.core.models import Membership
from sipadu.sop import actions, handlers
from sipadu.sop.error_codes import ErrorCode, WorkflowError
from sipadu.sop.models import (
    Case,
    CaseState,
    EventKind,
    Notification,
    SopDefinition,
    Task,
    TaskState,
)
from sipadu.sop.queries import Move, allowed_actions, inbox_for, return_targets
from sipadu.sop.tests.runtime_support import live, loaded, persona, step, world

__all__ = ["loaded", "world"]


@pytest.fixture
def djm(world: dict[str, Any]) -> tuple[Case, dict[str, Any]]:
    staff = world["balangan"]
    return actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", staff["office"]), staff


def refused(code: ErrorCode, func: Any, *args: Any, **kwargs: Any) -> WorkflowError:
    with pytest.raises(WorkflowError) as info:
        func(*args, **kwargs)
    assert info.value.code == code
    assert info.value.message  # a message for the officer, in Indonesian
    return info.value


@pytest.mark.django_db
def test_start_case_refusals(world: dict[str, Any]) -> None:
    staff = world["balangan"]
    refused(
        ErrorCode.UNKNOWN_SOP, actions.start_case, staff["kasi-pelayanan"], "nope", staff["office"]
    )
    SopDefinition.objects.filter(code="dik-jamila-mewa").update(active=False)
    refused(
        ErrorCode.UNKNOWN_SOP,
        actions.start_case,
        staff["kasi-pelayanan"],
        "dik-jamila-mewa",
        staff["office"],
    )
    SopDefinition.objects.filter(code="dik-jamila-mewa").update(active=True)
    outsider = world["bima"]["kepala-dinas"]
    error = refused(
        ErrorCode.NOT_MEMBER, actions.start_case, outsider, "dik-jamila-mewa", staff["office"]
    )
    assert "kantor" in error.message
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_claim_rules(djm: tuple[Case, dict[str, Any]], world: dict[str, Any]) -> None:
    case, staff = djm
    task = live(case)
    refused(ErrorCode.NOT_EXECUTOR, actions.claim, staff["operator-siak"], task)
    refused(ErrorCode.NOT_EXECUTOR, actions.claim, world["bima"]["kepala-dinas"], task)
    other = persona(staff["office"], "operator-layanan", "-2")
    actions.claim(staff["operator-layanan"], task)
    # Claiming again is harmless for the holder and refused for anyone else.
    assert actions.claim(staff["operator-layanan"], task).assignee == staff["operator-layanan"]
    error = refused(ErrorCode.TASK_TAKEN, actions.claim, other, task)
    assert "petugas lain" in error.message
    assert case.events.filter(kind=EventKind.CLAIMED).count() == 1


@pytest.mark.django_db
def test_act_before_claim_and_on_a_finished_task(djm: tuple[Case, dict[str, Any]]) -> None:
    case, staff = djm
    task = live(case)
    user = staff["operator-layanan"]
    refused(ErrorCode.NOT_ASSIGNEE, actions.complete, user, task)
    refused(ErrorCode.NOT_ASSIGNEE, actions.release, user, task)
    actions.claim(user, task)
    refused(ErrorCode.NOT_A_DECISION, actions.decide, user, task, True)
    actions.complete(user, task)
    refused(ErrorCode.TASK_NOT_OPEN, actions.complete, user, task)
    refused(ErrorCode.TASK_NOT_OPEN, actions.claim, user, task)
    decision = live(case)
    actions.claim(staff["operator-siak"], decision)
    refused(ErrorCode.USE_DECIDE, actions.complete, staff["operator-siak"], decision)
    refused(ErrorCode.NOT_ASSIGNEE, actions.release, staff["kasi-pelayanan"], decision)
    refused(
        ErrorCode.TEXT_TOO_LONG,
        actions.decide,
        staff["operator-siak"],
        decision,
        True,
        notes="x" * 20_000,
    )
    assert Task.objects.get(pk=decision.pk).state == TaskState.CLAIMED


@pytest.mark.django_db
def test_release_puts_the_task_back_in_the_queue(djm: tuple[Case, dict[str, Any]]) -> None:
    case, staff = djm
    task = live(case)
    actions.claim(staff["operator-layanan"], task)
    released = actions.release(staff["operator-layanan"], task)
    assert (released.state, released.assignee) == (TaskState.OPEN, None)
    other = persona(staff["office"], "operator-layanan", "-2")
    assert actions.claim(other, task).assignee == other


@pytest.mark.django_db
def test_a_revoked_membership_can_no_longer_act(djm: tuple[Case, dict[str, Any]]) -> None:
    case, staff = djm
    task = live(case)
    user = staff["operator-layanan"]
    actions.claim(user, task)
    Membership.objects.filter(user=user).update(active=False)
    refused(ErrorCode.NOT_EXECUTOR, actions.complete, user, task)


@pytest.mark.django_db
def test_reassign_only_by_the_role_above(djm: tuple[Case, dict[str, Any]]) -> None:
    case, staff = djm
    task = live(case)
    colleague = persona(staff["office"], "operator-layanan", "-2")
    refused(ErrorCode.NOT_SUPERVISOR, actions.reassign, staff["operator-layanan"], task, colleague)
    refused(
        ErrorCode.NOT_SUPERVISOR, actions.reassign, staff["kabid-pelayanan"], task, colleague
    )  # two levels up is not the role above
    refused(
        ErrorCode.BAD_ASSIGNEE,
        actions.reassign,
        staff["kasi-pelayanan"],
        task,
        staff["operator-siak"],
    )
    actions.claim(staff["operator-layanan"], task)
    moved = actions.reassign(staff["kasi-pelayanan"], task, colleague, reason="cuti")
    assert (moved.state, moved.assignee) == (TaskState.CLAIMED, colleague)
    assert Notification.objects.filter(user=colleague, case=case).count() == 1
    assert case.events.filter(kind=EventKind.REASSIGNED).count() == 1
    actions.complete(colleague, task)


@pytest.mark.django_db
def test_staff_may_reassign(djm: tuple[Case, dict[str, Any]]) -> None:
    case, staff = djm
    admin = persona(staff["office"], "sekretariat", "-admin")
    admin.is_staff = True
    admin.save()
    colleague = persona(staff["office"], "operator-layanan", "-2")
    assert actions.reassign(admin, live(case), colleague).assignee == colleague


@pytest.mark.django_db
def test_cancel_rules(djm: tuple[Case, dict[str, Any]]) -> None:
    case, staff = djm
    refused(ErrorCode.NOT_SUPERVISOR, actions.cancel, staff["operator-layanan"], case, "x")
    refused(ErrorCode.REASON_REQUIRED, actions.cancel, staff["kasi-pelayanan"], case, " ")
    done = actions.cancel(staff["kasi-pelayanan"], case, "Pemohon membatalkan")
    assert done.state == CaseState.CANCELLED and done.cancel_reason == "Pemohon membatalkan"
    assert set(case.tasks.values_list("state", flat=True)) == {TaskState.CANCELLED}
    refused(ErrorCode.CASE_CLOSED, actions.cancel, staff["kasi-pelayanan"], case, "lagi")
    refused(ErrorCode.CASE_CLOSED, actions.claim, staff["operator-layanan"], case.tasks.get())
    refused(
        ErrorCode.CASE_CLOSED,
        actions.attach_file,
        staff["operator-layanan"],
        case,
        ContentFile(b"x", name="a.txt"),
    )


@pytest.mark.django_db
def test_one_live_task_per_case_is_enforced_by_the_database(
    djm: tuple[Case, dict[str, Any]],
) -> None:
    case, _staff = djm
    task = live(case)
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(
            case=case,
            office=case.office,
            activity_id="x",
            role_code="r",
            queue_role="r",
            started_at=task.started_at,
        )


# ----------------------------------------------------------------------------- handlers


@pytest.mark.django_db
def test_check_handler_refuses_with_its_message(djm: tuple[Case, dict[str, Any]]) -> None:
    case, staff = djm
    task = live(case)
    user = staff["operator-layanan"]
    actions.claim(user, task)

    def needs_output(ctx: handlers.StepContext) -> None:
        if not ctx.output:
            raise handlers.StepRefused("Checklist persyaratan belum diisi.")

    before = handlers.registered("dik-jamila-mewa", "kelengkapan")
    with handlers.temporary("check", "dik-jamila-mewa", "kelengkapan", needs_output):
        error = refused(ErrorCode.STEP_REFUSED, actions.complete, user, task)
        assert error.message == "Checklist persyaratan belum diisi."
        assert Task.objects.get(pk=task.pk).state == TaskState.CLAIMED
        actions.complete(user, task, output="Berkas lengkap")
    assert handlers.registered("dik-jamila-mewa", "kelengkapan") == before


@pytest.mark.django_db
def test_on_complete_runs_in_the_transaction(djm: tuple[Case, dict[str, Any]]) -> None:
    case, staff = djm
    seen: list[tuple[str, str, str]] = []

    def record(ctx: handlers.StepContext) -> None:
        # The task is already done when the handler runs, the next one already open.
        seen.append((ctx.task.activity_id, ctx.task.state, ctx.outcome))
        assert ctx.case.live_tasks().get().activity_id == "entri-siak"

    def explode(ctx: handlers.StepContext) -> None:
        raise RuntimeError("signing service down")

    step(staff, case)
    task = live(case)
    actions.claim(staff["operator-siak"], task)
    with (
        handlers.temporary("complete", "dik-jamila-mewa", "kesesuaian-siak", explode),
        pytest.raises(RuntimeError),
    ):
        actions.decide(staff["operator-siak"], task, True)
    # The failed handler rolled the whole decision back.
    assert Task.objects.get(pk=task.pk).state == TaskState.CLAIMED
    assert live(case).pk == task.pk
    with handlers.temporary("complete", "dik-jamila-mewa", "kesesuaian-siak", record):
        actions.decide(staff["operator-siak"], task, True)
    assert seen == [("kesesuaian-siak", TaskState.DONE, "yes")]


def test_registering_twice_runs_once() -> None:
    calls: list[str] = []

    def handler(ctx: handlers.StepContext) -> None:
        calls.append(ctx.task.activity_id)

    handlers.on_complete("s", "a")(handler)
    handlers.on_complete("s", "a")(handler)
    try:
        assert handlers.registered("s", "a")[1] == (handler,)
    finally:
        handlers.unregister(handler)
    assert handlers.registered("s", "a") == ((), ())


# ----------------------------------------------------------------------------- attachments


@pytest.mark.django_db
def test_attachments_are_hashed_and_validated(
    djm: tuple[Case, dict[str, Any]], settings: Any
) -> None:
    case, staff = djm
    user = staff["operator-layanan"]
    content = b"%PDF-1.4 berkas persyaratan"
    attachment = actions.attach_file(user, case, ContentFile(content, name="../../KTP Budi.pdf"))
    assert attachment.original_name == "KTP Budi.pdf"
    assert attachment.size == len(content)
    import hashlib

    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert "Budi" not in attachment.file.name and ".." not in attachment.file.name
    with attachment.file.open("rb") as handle:
        assert handle.read() == content
    refused(ErrorCode.FILE_EMPTY, actions.attach_file, user, case, ContentFile(b"", name="e"))
    settings.SIPADU_MAX_ATTACHMENT_BYTES = 10
    refused(
        ErrorCode.FILE_TOO_LARGE,
        actions.attach_file,
        user,
        case,
        ContentFile(b"x" * 11, name="big.pdf"),
    )
    outsider = persona(case.office, "kepala-dinas", "-x")
    Membership.objects.filter(user=outsider).delete()
    refused(
        ErrorCode.NOT_MEMBER, actions.attach_file, outsider, case, ContentFile(b"x", name="a.txt")
    )
    assert case.attachments.count() == 1


@pytest.mark.django_db
def test_complete_with_attachments(djm: tuple[Case, dict[str, Any]]) -> None:
    case, staff = djm
    task = live(case)
    user = staff["operator-layanan"]
    actions.claim(user, task)
    actions.complete(
        user,
        task,
        output="Berkas lengkap",
        notes="ok",
        attachments=[ContentFile(b"a", name="a.pdf"), ContentFile(b"b", name="b")],
    )
    assert Task.objects.get(pk=task.pk).attachments.count() == 2
    assert case.events.filter(kind=EventKind.ATTACHED).count() == 2


# ----------------------------------------------------------------------------- reads


@pytest.mark.django_db
def test_inbox_shows_own_and_role_tasks_sorted_by_due_time(world: dict[str, Any]) -> None:
    staff = world["balangan"]
    office = staff["office"]
    first = actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", office)
    second = actions.start_case(staff["operator-layanan"], "dik-jamila-mewa", office)
    other_office = actions.start_case(
        world["bima"]["kasi-inovasi"], "inovasi-pelayanan-bima", world["bima"]["office"]
    )
    operator = staff["operator-layanan"]
    assert [t.case_id for t in inbox_for(operator, office)] == [first.pk, second.pk]
    assert list(inbox_for(staff["operator-siak"], office)) == []
    assert list(inbox_for(operator, world["bima"]["office"])) == []
    colleague = persona(office, "operator-layanan", "-2")
    actions.claim(colleague, live(second))
    # A task claimed by a colleague leaves my inbox and shows in theirs.
    assert [t.case_id for t in inbox_for(operator, office)] == [first.pk]
    assert [t.case_id for t in inbox_for(colleague, office)] == [first.pk, second.pk]
    assert other_office.office != office


@pytest.mark.django_db
def test_allowed_actions_follow_the_rules(djm: tuple[Case, dict[str, Any]]) -> None:
    case, staff = djm
    task = live(case)
    operator, kasi, siak = (
        staff["operator-layanan"],
        staff["kasi-pelayanan"],
        staff["operator-siak"],
    )
    assert allowed_actions(task, operator) == {Move.CLAIM, Move.ATTACH}
    assert allowed_actions(task, siak) == {Move.ATTACH}
    assert allowed_actions(task, kasi) == {Move.ATTACH, Move.REASSIGN, Move.CANCEL}
    actions.claim(operator, task)
    task.refresh_from_db()
    assert allowed_actions(task, operator) == {Move.RELEASE, Move.COMPLETE, Move.ATTACH}
    actions.complete(operator, task)
    decision = live(case)
    actions.claim(siak, decision)
    decision.refresh_from_db()
    assert allowed_actions(decision, siak) == {Move.RELEASE, Move.DECIDE, Move.RETURN, Move.ATTACH}
    assert [a.id for a in return_targets(decision)] == ["kelengkapan"]
    actions.cancel(kasi, case, "batal")
    decision.refresh_from_db()
    decision.case.refresh_from_db()
    assert allowed_actions(decision, siak) == set()
