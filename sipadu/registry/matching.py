"""Registry match: compare what an applicant claims with the registry, field by field.

Used by the Dik Jamila Me-WA step "check the files against SIAK data": the officer sees the
claimed and the registry value side by side. Names are compared ignoring case, spacing,
punctuation and accents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import Penduduk
from .names import fold_name, similarity
from .nik import decode_kk, decode_nik
from .search import scoped


class Outcome(models.TextChoices):
    """Result of comparing one claimed field."""

    MATCH = "match", _("Sesuai")
    MISMATCH = "mismatch", _("Tidak sesuai")
    NOT_FOUND = "not_found", _("Tidak ditemukan")


@dataclass(frozen=True)
class Claim:
    """What the applicant states; leave a field empty/None to skip it."""

    nik: str = ""
    full_name: str = ""
    birth_date: dt.date | None = None
    no_kk: str = ""
    father_name: str = ""
    mother_name: str = ""


@dataclass(frozen=True)
class FieldResult:
    """One field: the claimed value, the outcome, the registry value (on mismatch/match)."""

    field: str
    claimed: Any
    outcome: Any  # an Outcome value
    registry_value: Any = None
    similarity: float | None = None


@dataclass
class MatchResult:
    """The per-field results and the resident found by NIK (None when not found)."""

    penduduk: Penduduk | None
    fields: dict[str, FieldResult] = field(default_factory=dict)

    @property
    def all_match(self) -> bool:
        return bool(self.fields) and all(r.outcome == Outcome.MATCH for r in self.fields.values())


def _compare_name(name: str, claimed: Any, registry: str) -> FieldResult:
    if fold_name(claimed) == fold_name(registry):
        return FieldResult(name, claimed, Outcome.MATCH, registry, 1.0)
    return FieldResult(
        name, claimed, Outcome.MISMATCH, registry, round(similarity(claimed, registry), 3)
    )


def match_claim(claim: Claim, *, office: Any = None) -> MatchResult:
    """Compare ``claim`` with the registry; ``office`` limits the look-up to its region.

    The resident is found by NIK. When the NIK is malformed or not in the (scoped) registry,
    every claimed field is NOT_FOUND.
    """
    claimed = {
        "nik": claim.nik,
        "full_name": claim.full_name,
        "birth_date": claim.birth_date,
        "no_kk": claim.no_kk,
        "father_name": claim.father_name,
        "mother_name": claim.mother_name,
    }
    claimed = {k: v for k, v in claimed.items() if v}
    nik = decode_nik(claim.nik).number if claim.nik else ""
    base = scoped(office) if office is not None else Penduduk.objects.all()
    person = base.filter(nik=nik).first() if nik else None
    result = MatchResult(person)
    if person is None:
        for name, value in claimed.items():
            result.fields[name] = FieldResult(name, value, Outcome.NOT_FOUND)
        return result
    for name, value in claimed.items():
        if name == "nik":
            result.fields[name] = FieldResult(name, value, Outcome.MATCH, person.nik)
        elif name in {"full_name", "father_name", "mother_name"}:
            registry = getattr(person, name)
            if not registry:
                result.fields[name] = FieldResult(name, value, Outcome.NOT_FOUND)
            else:
                result.fields[name] = _compare_name(name, value, registry)
        elif name == "birth_date":
            outcome = Outcome.MATCH if value == person.birth_date else Outcome.MISMATCH
            result.fields[name] = FieldResult(name, value, outcome, person.birth_date)
        elif name == "no_kk":
            given = decode_kk(value).number
            if not person.keluarga_id:
                result.fields[name] = FieldResult(name, value, Outcome.NOT_FOUND)
            else:
                outcome = Outcome.MATCH if given == person.keluarga_id else Outcome.MISMATCH
                result.fields[name] = FieldResult(name, value, outcome, person.keluarga_id)
    return result
