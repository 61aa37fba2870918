"""The demo step: cases of every seed SOP in several states, some overdue, idempotent."""

from __future__ import annotations

from typing import Any

import pytest

from sipadu.core import demo_data
from sipadu.sop import demo_cases
from sipadu.sop.models import Case, CaseState, Task, TaskState


@pytest.mark.django_db
def test_demo_cases_cover_every_sop_in_several_states() -> None:
    lines: list[Any] = []
    demo_data.load(lines.append)
    demo_cases.load(lines.append)
    codes = set(Case.objects.values_list("definition__code", flat=True))
    assert codes == {
        "dik-jamila-mewa",
        "inovasi-pelayanan-bima",
        "sijarla-solok",
        "pemanfaatan-data-palangkaraya",
        "kinerja-dokumen-sumbar",
    }
    for code in codes:
        cases = Case.objects.filter(definition__code=code)
        assert cases.count() == len(demo_cases.SCENARIOS)
        assert {CaseState.OPEN, CaseState.DONE, CaseState.CANCELLED} <= set(
            cases.values_list("state", flat=True)
        ), code
        tasks = Task.objects.filter(case__definition__code=code)
        assert tasks.filter(state=TaskState.CLAIMED).exists(), code
        assert (
            tasks.filter(state=TaskState.RETURNED).exists() or tasks.filter(outcome="no").exists()
        ), code
    # Activities with a due time are overdue somewhere (Bima, Balangan, Palangka Raya, Sumbar).
    assert Task.objects.filter(state__in=["open", "claimed"], breached=True).count() >= 4
    done = Task.objects.filter(state=TaskState.DONE, standard_seconds__isnull=False)
    assert (
        done.filter(within_standard=True).exists() and done.filter(within_standard=False).exists()
    )
    before = Case.objects.count()
    demo_cases.load(lines.append)
    assert Case.objects.count() == before
