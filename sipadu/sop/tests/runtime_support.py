"""Shared helpers of the SOP runtime tests: roles with their supervisors, personas, a driver.

Imported by the ``test_runtime_*`` modules (not collected itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sipadu.core.models import Office, Role, User
from sipadu.core.services import ensure_role, grant_role
from sipadu.sop import actions
from sipadu.sop.definitions_sync import sync_definitions
from sipadu.sop.models import Case, Task, TaskState

#: role code → (name, external, supervisor code); supervisors are listed before their staff.
ROLES: dict[str, tuple[str, bool, str | None]] = {
    "kepala-dinas": ("Kepala Dinas", False, None),
    "kabid-pelayanan": ("Kabid Pelayanan", False, "kepala-dinas"),
    "kasi-pelayanan": ("Kasi Pelayanan", False, "kabid-pelayanan"),
    "operator-layanan": ("Operator Layanan", False, "kasi-pelayanan"),
    "operator-siak": ("Operator SIAK", False, "kasi-pelayanan"),
    "kabid-piak": ("Kabid PIAK", False, "kepala-dinas"),
    "kasi-inovasi": ("Kasi Kerjasama dan Inovasi", False, "kabid-piak"),
    "pejabat-struktural": ("Pejabat Struktural", False, "kepala-dinas"),
    "pelaksana-teknis": ("Pelaksana Teknis", False, "kasi-inovasi"),
    "kabid-capil": ("Kabid Capil", False, "kepala-dinas"),
    "kasi-kip": ("Kasi KIP", False, "kabid-capil"),
    "staf": ("Staf", False, "kasi-kip"),
    "sekretariat": ("Sekretariat", False, "kepala-dinas"),
    "ketua-pelaksana-harian": ("Ketua Pelaksana Harian", False, "kabid-pelayanan"),
    "ketua-tim-sijarla": ("Ketua Tim SIJARLA", False, "ketua-pelaksana-harian"),
    "tim-sijarla": ("Tim SIJARLA", False, "ketua-tim-sijarla"),
    "lembaga-pengguna": ("Lembaga Pengguna", True, None),
    "walikota": ("Walikota", True, None),
    "dinas-provinsi": ("Dinas Dukcapil Provinsi", True, None),
    "masyarakat": ("Masyarakat", True, None),
    "wali-nagari": ("Wali Nagari", True, None),
}

#: The seed SOPs and the office each belongs to.
SEED_SOPS = {
    "dik-jamila-mewa": "balangan",
    "inovasi-pelayanan-bima": "bima",
    "sijarla-solok": "solok",
    "pemanfaatan-data-palangkaraya": "palangkaraya",
    "kinerja-dokumen-sumbar": "sumbar",
}


def ensure_roles() -> dict[str, Role]:
    """Create every role of the seed SOPs with its supervisor."""
    return {
        code: ensure_role(code, name, external=external, supervisor=boss)
        for code, (name, external, boss) in ROLES.items()
    }


def persona(office: Office, role_code: str, suffix: str = "") -> User:
    """A user holding ``role_code`` in ``office`` (created once per username)."""
    username = f"{office.code}-{role_code}{suffix}"
    user, _created = User.objects.get_or_create(username=username)
    grant_role(user, office, Role.objects.get(code=role_code))
    return user


def office_staff(office: Office, suffix: str = "") -> dict[str, User]:
    """One persona per internal role in ``office``."""
    ensure_roles()
    return {
        code: persona(office, code, suffix)
        for code, (_n, external, _b) in ROLES.items()
        if not external
    }


@pytest.fixture
def loaded(db: Any) -> None:
    """The shipped definitions, loaded."""
    report = sync_definitions()
    assert not report.errors, report.errors


@pytest.fixture
def world(loaded: None, make_office: Callable[[str], Office]) -> dict[str, Any]:
    """Every seed office with one persona per internal role: world[office_code][role]."""
    result: dict[str, Any] = {}
    for office_code in set(SEED_SOPS.values()):
        office = make_office(office_code)
        result[office_code] = {"office": office, **office_staff(office)}
    return result


def live(case: Case) -> Task:
    """The single waiting task of a running case."""
    tasks = list(case.live_tasks())
    assert len(tasks) == 1, tasks
    return tasks[0]


def taker(staff: dict[str, User], task: Task) -> User:
    """The persona that takes ``task``: its role's holder, else the receiving role's."""
    return staff.get(task.role_code) or staff[task.queue_role]


def step(staff: dict[str, User], case: Case, *, approve: bool = True, reason: str = "") -> Task:
    """Claim and finish the current task of ``case`` (deciding ``approve`` on a decision)."""
    task = live(case)
    user = taker(staff, task)
    actions.claim(user, task)
    activity = case.sop.activity(task.activity_id)
    if activity.is_decision:
        return actions.decide(user, task, approve, reason=reason or "tidak sesuai")
    return actions.complete(user, task, output=activity.output)


def run_to_end(staff: dict[str, User], case: Case, limit: int = 50) -> list[str]:
    """Finish every task of ``case`` taking the "Ya" branches; returns the activity ids done."""
    done: list[str] = []
    for _i in range(limit):
        case.refresh_from_db()
        if case.state != "open":
            return done
        task = live(case)
        if case.sop.activity(task.activity_id).recurrence is not None:
            user = taker(staff, task)
            actions.claim(user, task)
            actions.complete(user, task, end_recurrence=True)
            done.append(task.activity_id)
            continue
        done.append(step(staff, case).activity_id)
    raise AssertionError(f"case did not finish in {limit} steps: {done}")


def states(case: Case) -> list[tuple[str, str]]:
    """(activity, state) of every task of the case in creation order."""
    return list(case.tasks.order_by("id").values_list("activity_id", "state"))


__all__ = [
    "SEED_SOPS",
    "TaskState",
    "ensure_roles",
    "live",
    "loaded",
    "office_staff",
    "persona",
    "run_to_end",
    "states",
    "step",
    "taker",
    "world",
]
