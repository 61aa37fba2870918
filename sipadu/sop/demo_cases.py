"""Demo step: cases of every seed SOP in the office that runs it, in several states.

Every move goes through :mod:`sipadu.sop.actions` (so timelines, audit and notifications are
real). Two things the actions cannot do are then faked by clearly marked demo-only queryset
updates, never used outside this module:

* **overdue work** — some waiting tasks (and their cases) are moved back in time so they are
  past their standard time, then :func:`actions.mark_breaches` flags them as in production;
* **realistic durations** — tasks done by the demo finish within seconds, so their measured
  office time is rewritten to a plausible spread around the standard, so the monitoring page
  shows meaningful medians, 90th percentiles and shares within standard.

Idempotent: an SOP that already has cases in its office is left alone.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from django.db.models import F
from django.utils import timezone

from sipadu.core import demo
from sipadu.core.models import Office, Role, User
from sipadu.core.services import ensure_role, grant_role, users_with_role
from sipadu.sop import actions
from sipadu.sop.definitions_sync import sync_definitions, sync_holidays
from sipadu.sop.error_codes import WorkflowError
from sipadu.sop.models import Case, SopDefinition, Task, TaskState
from sipadu.sop.queries import return_targets

#: What each demo case goes through: (scenario, how many steps to finish first).
SCENARIOS: list[tuple[str, int]] = [
    ("fresh", 0),
    ("fresh-late", 0),
    ("claimed", 0),
    ("claimed-late", 1),
    ("midway", 3),
    ("midway-late", 2),
    ("returned", 0),
    ("done", -1),
    ("done", -1),
    ("done", -1),
    ("cancelled", 1),
]

#: Subject labels without personal data, per SOP.
LABELS: dict[str, list[str]] = {
    "dik-jamila-mewa": [
        "Akta Kelahiran",
        "KTP-el",
        "Kartu Keluarga",
        "Kartu Identitas Anak",
        "Akta Kematian",
        "Akta Perkawinan",
        "Pengesahan Anak",
    ],
    "inovasi-pelayanan-bima": [
        "Inovasi layanan keliling",
        "Inovasi antrean daring",
        "Inovasi layanan sekolah",
    ],
    "sijarla-solok": [
        "Nagari Koto Baru",
        "Nagari Singkarak",
        "Nagari Alahan Panjang",
        "Nagari Sumani",
    ],
    "pemanfaatan-data-palangkaraya": [
        "Bank daerah",
        "Rumah sakit umum daerah",
        "BPJS Kesehatan cabang",
    ],
    "kinerja-dokumen-sumbar": ["Rekap cakupan bulan lalu", "Rekap cakupan triwulan"],
}


def _performer(task: Task, office: Office) -> User | None:
    """The demo user who takes ``task``: a holder of its role, else of its receiving role."""
    for role in (task.role_code, task.queue_role):
        people = users_with_role(office, role)
        if people:
            return sorted(people, key=lambda u: u.username)[0]
    return None


def _ensure_role_holders(office: Office, roles: tuple[str, ...]) -> list[str]:
    """Demo users ``<office>.<role>`` for roles an SOP's activities name but no one holds.

    The offices-and-users step creates one user per SOP executor column; an activity may
    name a more specific role (SIJARLA's report is the team leader's), which needs a holder
    too or the demo case would stop there.
    """
    created = []
    for code in roles:
        if users_with_role(office, code):
            continue
        role = Role.objects.filter(code=code).first()
        if role is None:
            role = ensure_role(code, code.replace("-", " ").title())
        username = f"{office.code}.{code}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username, password=demo.DEMO_PASSWORD)
            created.append(username)
        grant_role(user, office, role)
    return created


def _live(case: Case) -> Task | None:
    return case.live_tasks().select_related("case", "case__revision").first()


def _advance(case: Case, office: Office, steps: int) -> bool:
    """Finish ``steps`` tasks (all when negative) on the "Ya" branches; False if stuck."""
    done = 0
    while steps < 0 or done < steps:
        case.refresh_from_db()
        task = _live(case)
        if task is None:
            return True
        user = _performer(task, office)
        if user is None:
            return False
        actions.claim(user, task.pk)
        activity = case.sop.activity(task.activity_id)
        if activity.is_decision:
            actions.decide(user, task.pk, True, output=activity.output)
        else:
            actions.complete(
                user,
                task.pk,
                output=activity.output,
                end_recurrence=activity.recurrence is not None,
            )
        done += 1
    return True


def _return(case: Case, office: Office) -> bool:
    """Advance to the first decision and answer "Tidak", or return one step back."""
    for _i in range(len(case.sop.activities)):
        task = _live(case)
        if task is None:
            return False
        activity = case.sop.activity(task.activity_id)
        user = _performer(task, office)
        if user is None:
            return False
        if activity.is_decision and case.sop.is_return(activity.id, activity.decision.no):  # type: ignore[union-attr]
            actions.claim(user, task.pk)
            actions.decide(
                user, task.pk, False, reason="Berkas belum sesuai, mohon diperiksa kembali."
            )
            return True
        if return_targets(task):
            actions.claim(user, task.pk)
            target = return_targets(task)[-1]
            actions.return_to(
                user, task.pk, target.id, "Kelengkapan belum memenuhi syarat, mohon dilengkapi."
            )
            return True
        if not _advance(case, office, 1):
            return False
    return False


def _make_late(case: Case, rng: random.Random) -> None:
    """Demo only: move the waiting task (and the case limit) back so it is past due."""
    task = _live(case)
    if task is None or task.due_at is None:
        return
    shift = (task.due_at - timezone.now()) + dt.timedelta(hours=rng.randint(2, 50))
    Task.objects.filter(pk=task.pk).update(
        started_at=F("started_at") - shift, due_at=F("due_at") - shift
    )
    if case.due_at is not None:
        Case.objects.filter(pk=case.pk).update(due_at=F("due_at") - shift)


def _spread_durations(definition: SopDefinition, rng: random.Random) -> None:
    """Demo only: give the tasks the demo finished plausible measured office times."""
    done = Task.objects.filter(
        case__definition=definition, state=TaskState.DONE, standard_seconds__isnull=False
    )
    for task in done.only("pk", "standard_seconds"):
        standard = task.standard_seconds or 0
        work = int(standard * rng.choice([0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.2, 1.6]))
        Task.objects.filter(pk=task.pk).update(work_seconds=work, within_standard=work <= standard)


def _cancel(case: Case) -> None:
    admin = User.objects.filter(is_staff=True, is_active=True).order_by("username").first()
    if admin is not None:
        actions.cancel(admin, case.pk, "Pemohon menarik permohonan.")


def _run(definition: SopDefinition, office: Office, rng: random.Random) -> int:
    """Start and move the demo cases of one SOP in one office; returns how many started."""
    labels = LABELS.get(definition.code, ["Perkara demo"])
    starter = None
    for role in definition.current.sop.roles if definition.current else ():
        people = users_with_role(office, role)
        if people:
            starter = sorted(people, key=lambda u: u.username)[0]
            break
    if starter is None:
        return 0
    started = 0
    for index, (scenario, steps) in enumerate(SCENARIOS):
        case = actions.start_case(
            starter, definition.code, office, subject_label=labels[index % len(labels)]
        )
        started += 1
        try:
            if scenario.startswith(("claimed", "midway", "done", "cancelled")):
                _advance(case, office, steps)
            if scenario == "returned":
                _return(case, office)
            if scenario.startswith("claimed"):
                task = _live(case)
                user = _performer(task, office) if task else None
                if task is not None and user is not None:
                    actions.claim(user, task.pk)
            if scenario == "cancelled":
                _cancel(case)
            if scenario.endswith("-late"):
                _make_late(case, rng)
        except WorkflowError:
            # A demo office missing a role leaves the case where it stands.
            continue
    return started


@demo.register("kasus SOP", order=40)
def load(progress: Callable[[str], None]) -> list[str]:
    """Start demo cases of every seed SOP in every office that runs it (skip if present)."""
    sync_definitions()
    sync_holidays()
    rng = random.Random(2026)
    lines: list[str] = []
    definitions = SopDefinition.objects.select_related("current").filter(
        active=True, current__isnull=False
    )
    for definition in definitions:
        sop: Any = definition.current.sop
        for office in Office.objects.filter(region_id=sop.office):
            if Case.objects.filter(definition=definition, office=office).exists():
                continue
            for username in _ensure_role_holders(office, sop.roles):
                lines.append(f"  {username} (kata sandi demo)")
            count = _run(definition, office, rng)
            _spread_durations(definition, rng)
            progress(f"{office.name}: {count} perkara {definition.code}")
            lines.append(f"  {count} perkara demo {definition.code} di {office.name}")
    flagged = actions.mark_breaches()
    if lines:
        lines.insert(0, "Perkara demo:")
        lines.append(f"  {flagged} tugas/perkara ditandai terlambat")
    return lines
