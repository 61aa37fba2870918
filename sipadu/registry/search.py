"""Resident search scoped to an office's region: NIK, KK, name (prefix and approximate),
birth date and village.

Every query is an index range scan: regions by their dotted code range, names by the folded
name. Approximate search first corrects the typed words against the vocabulary of name words
(:class:`~sipadu.registry.models.NameWord`: a few thousand rows, looked up by phonetic key and
by a two-letter prefix), then reads the residents whose name starts with a corrected first and
second word, and ranks them by edit distance. It behaves the same on SQLite and PostgreSQL
without trigram extensions, and its cost does not grow with the number of residents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Length

from .coverage import code_range
from .models import NameWord, Penduduk
from .names import edit_distance, fold_name, phonetic_key, word_key

# Candidate residents read for ranking, per probe and in all.
PROBE_ROWS = 200
CANDIDATES = 2000
# Corrections kept per typed word (the closest first): probes are their combinations.
WORD_CHOICES = 6
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
    seen = {p.pk for p in exact}
    words = folded.split()
    scored = []
    for pk, name in _candidates(qs, words):
        if pk in seen:
            continue
        seen.add(pk)
        parts = name.split()
        distance = word_distance(words, parts)
        if distance is not None:
            # Equally close: names without words beyond those typed first ('Diana' before
            # 'Dian Sastro' for 'Dianx').
            scored.append((distance, len(parts) - len(words), name, pk))
    scored.sort(key=lambda item: item[:3])
    chosen = [item[3] for item in scored[: limit - len(exact)]]
    by_pk = qs.in_bulk(chosen)
    return exact + [by_pk[pk] for pk in chosen if pk in by_pk]


def corrections(word: str, *, last: bool) -> list[str]:
    """Vocabulary words a typed word may stand for, closest first (at most WORD_CHOICES).

    Candidates share the word's phonetic key or its first two letters (and a length within
    the tolerance); they are kept when :func:`word_distance` would accept them. The last typed
    word may be the beginning of a longer word.
    """
    tolerance = max(1, len(word) // 4)
    nearby = _prefix("word", word[:2]) & Q(length__gte=len(word) - tolerance)
    if not last:
        nearby &= Q(length__lte=len(word) + tolerance)
    rows = (
        NameWord.objects.annotate(length=Length("word"))
        .filter(Q(key=word_key(word)) | nearby)
        .values_list("word", flat=True)
    )
    scored = []
    for candidate in rows[:5000]:
        distance = word_distance([word], [candidate]) if last else _one_word(word, candidate)
        if distance is not None:
            scored.append((distance, candidate))
    scored.sort()
    return [w for _d, w in scored[:WORD_CHOICES]]


def _one_word(word: str, candidate: str) -> int | None:
    """:func:`word_distance` of one word that is not the last (no prefix allowance)."""
    return word_distance([word, ""], [candidate, ""])


def _candidates(qs: QuerySet[Penduduk], words: list[str]) -> Iterable[tuple[Any, str]]:
    """(pk, folded name) of residents whose first two words are corrections of the query's."""
    first = corrections(words[0], last=len(words) == 1)
    if len(words) == 1:
        probes = first
    else:
        second = corrections(words[1], last=len(words) == 2)
        tail = "" if len(words) == 2 else " "
        probes = [f"{a} {b}{tail}" for a in first for b in second] or [f"{a} " for a in first]
    total = 0
    for probe in probes:
        # Ordered by the name, so that the name index (not the region's) is the one read.
        rows = list(
            qs.filter(_prefix("name_folded", probe))
            .order_by("name_folded")
            .values_list("pk", "name_folded")[:PROBE_ROWS]
        )
        yield from rows
        total += len(rows)
        if total >= CANDIDATES:
            return


def remember_names(folded_names: Iterable[str]) -> None:
    """Add the words of these folded names to the vocabulary (known words are skipped)."""
    words = {w for name in folded_names for w in name.split()}
    remember_words({w: word_key(w) for w in words})


def remember_words(words: dict[str, str]) -> None:
    """Add ``{word: phonetic key}`` to the vocabulary; words already there are left alone."""
    if not words:
        return
    table = connection.ops.quote_name(NameWord._meta.db_table)
    key = connection.ops.quote_name("key")
    items = sorted(words.items())
    with connection.cursor() as cursor:
        for start in range(0, len(items), 5000):
            cursor.executemany(
                f"INSERT INTO {table} (word, {key}) VALUES (%s, %s) "  # noqa: S608
                "ON CONFLICT (word) DO NOTHING",
                items[start : start + 5000],
            )


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
