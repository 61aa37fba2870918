"""Resident search scoped to an office's region: NIK, KK, name (prefix and approximate),
birth date and village.

Every query is an index range scan: regions by their dotted code range, names by the folded
name or its phonetic key. Approximate matches are ranked by edit distance over a candidate set
narrowed by the phonetic key and a short prefix, so it behaves the same on SQLite and
PostgreSQL without trigram extensions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from .coverage import code_range
from .models import Penduduk
from .names import edit_distance, fold_name, phonetic_key

CANDIDATES = 3000
_PREFIX_END = "\uffff"


def scope_of(office: Any) -> str | None:
    """The region code an office may see (its own region and everything below)."""
    if office is None:
        return None
    return str(office.region_id)


def scoped(office: Any) -> QuerySet[Penduduk]:
    """Residents visible to ``office`` (none without an office)."""
    code = scope_of(office)
    if code is None:
        return Penduduk.objects.none()
    low, high = code_range(code)
    return Penduduk.objects.filter(desa_id__gte=low, desa_id__lt=high)


def _prefix(field: str, value: str) -> Q:
    return Q(**{f"{field}__gte": value, f"{field}__lt": value + _PREFIX_END})


@dataclass
class Query:
    """What the officer asked for; empty fields are ignored."""

    text: str = ""
    birth_date: dt.date | None = None
    desa_codes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.text.strip() or self.birth_date or self.desa_codes)


def search(office: Any, query: Query, *, limit: int = 100) -> list[Penduduk]:
    """Residents matching ``query`` within the office's region, best first."""
    qs = scoped(office).select_related("desa")
    if query.birth_date:
        qs = qs.filter(birth_date=query.birth_date)
    if query.desa_codes:
        within = Q()
        for code in query.desa_codes:
            low, high = code_range(code)
            within |= Q(desa_id=code) | Q(desa_id__gte=low, desa_id__lt=high)
        qs = qs.filter(within)
    text = query.text.strip()
    digits = text.replace(" ", "").replace(".", "").replace("-", "")
    if digits.isdigit() and len(digits) >= 6:
        if len(digits) == 16:
            return list(
                qs.filter(Q(nik=digits) | Q(keluarga_id=digits)).order_by(
                    "keluarga_id", "birth_date"
                )[:limit]
            )
        return list(qs.filter(_prefix("nik", digits)).order_by("nik")[:limit])
    if not text:
        if query.empty:
            return []
        return list(qs.order_by("name_folded")[:limit])
    return _by_name(qs, text, limit)


def _by_name(qs: QuerySet[Penduduk], text: str, limit: int) -> list[Penduduk]:
    folded = fold_name(text)
    if not folded:
        return []
    exact = list(qs.filter(_prefix("name_folded", folded)).order_by("name_folded")[:limit])
    if len(exact) >= limit:
        return exact
    # Approximate: same phonetic key prefix, or the first letters typed; ranked by distance.
    key = phonetic_key(text)
    candidates = qs.filter(_prefix("name_key", key) | _prefix("name_folded", folded[:3]))
    seen = {p.pk for p in exact}
    words = folded.split()
    scored = []
    for person in candidates[:CANDIDATES]:
        if person.pk in seen:
            continue
        distance = word_distance(words, person.name_folded.split())
        if distance is not None:
            scored.append((distance, person.name_folded, person))
    scored.sort(key=lambda item: (item[0], item[1]))
    return exact + [p for _d, _n, p in scored[: limit - len(exact)]]


def word_distance(query: list[str], name: list[str]) -> int | None:
    """Edit distance word by word (the last query word may be a prefix being typed).

    None when some word is further than a quarter of its length (at least 1) from its match
    and does not sound the same (same phonetic key).
    """
    if len(name) < len(query):
        return None
    total = 0
    for i, word in enumerate(query):
        tolerance = max(1, len(word) // 4)
        target = name[i]
        distance = edit_distance(word, target, tolerance)
        if i == len(query) - 1:
            distance = min(distance, edit_distance(word, target[: len(word)], tolerance))
        if distance > tolerance and phonetic_key(word) == phonetic_key(target):
            # Spelling variants (Mohamad/Muhammad) are close whatever the letters say.
            distance = tolerance
        if distance > tolerance:
            return None
        total += distance
    return total
