"""The SIAK check of step 2: what the applicant claims against the registry, field by field.

Wraps :func:`sipadu.registry.matching.match_claim` (scoped to the office's region) and turns
its result into rows the case page shows side by side.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sipadu.layanan import fields as field_catalogue
from sipadu.layanan.models import DocumentRequest
from sipadu.registry.matching import Claim, MatchResult, match_claim

#: Claim attribute → the field code that carries it (the labels come from the field catalogue).
_CLAIM_FIELD = {
    "nik": "nik",
    "full_name": "full_name",
    "birth_date": "birth_date",
    "no_kk": "no_kk",
    "father_name": "father_name",
    "mother_name": "mother_name",
}


def _date(text: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        return None


def claim_of(req: DocumentRequest) -> Claim:
    """The registry claim of a request: only the fields its document type asks for."""
    data = req.data or {}
    asked = {c.rstrip("?") for c in req.document_type.fields}
    values: dict[str, Any] = {}
    for attr, code in _CLAIM_FIELD.items():
        if code not in asked or not data.get(code):
            continue
        values[attr] = _date(data[code]) if attr == "birth_date" else str(data[code])
    return Claim(**values)


def run_match(req: DocumentRequest) -> MatchResult:
    """Compare the request with the registry of the office's region."""
    return match_claim(claim_of(req), office=req.office)


@dataclass(frozen=True)
class MatchRow:
    """One line of the side-by-side view."""

    field: str
    label: str
    claimed: str
    registry: str
    outcome: str
    outcome_label: str
    similarity: float | None


def _shown(code: str, value: Any) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%d-%m-%Y")
    return field_catalogue.display(code, value)


def match_rows(result: MatchResult) -> list[MatchRow]:
    """The result as rows for the case page (values displayed as people read them)."""
    rows: list[MatchRow] = []
    for name, r in result.fields.items():
        code = _CLAIM_FIELD.get(name, name)

        outcome = str(r.outcome)
        label = getattr(r.outcome, "label", None) or outcome
        rows.append(
            MatchRow(
                field=name,
                label=field_catalogue.label(code),
                claimed=_shown(code, r.claimed),
                registry=_shown(code, r.registry_value) if r.registry_value is not None else "",
                outcome=outcome,
                outcome_label=str(label),
                similarity=r.similarity,
            )
        )
    return rows
