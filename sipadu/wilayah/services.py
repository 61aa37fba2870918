"""Read-side helpers for regions: look-up, children, name search."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Region, fold


def normalise_code(code: str) -> str:
    """Accept '6311', '63.11' or '63.11.01.2001' style codes; return the dotted form."""
    raw = code.strip()
    if "." in raw or not raw.isdigit():
        return raw
    parts = [raw[:2], raw[2:4], raw[4:6], raw[6:10]]
    return ".".join(p for p in parts if p)


def get_region(code: str) -> Region | None:
    return Region.objects.filter(code=normalise_code(code)).first()


def children(code: str | None) -> QuerySet[Region]:
    """Direct children of a region; provinces when ``code`` is None."""
    if code is None:
        return Region.objects.filter(parent__isnull=True)
    return Region.objects.filter(parent_id=normalise_code(code))


def search(
    query: str, *, level: int | None = None, within: str | None = None, limit: int = 20
) -> list[Region]:
    """Regions whose name starts with (then contains) the query, case- and accent-blind."""
    folded = fold(query)
    if not folded:
        return []
    base = Region.objects.all()
    if level:
        base = base.filter(level=level)
    if within:
        base = base.filter(code__startswith=normalise_code(within) + ".")
    # Words that start with the query rank first (higher levels before villages), then any
    # name that merely contains it.
    word_start = Q(name_folded__startswith=folded) | Q(name_folded__contains=" " + folded)
    found = list(base.filter(word_start).order_by("level", "code")[:limit])
    if len(found) < limit:
        seen = {r.code for r in found}
        more = (
            base.filter(name_folded__contains=folded)
            .exclude(code__in=seen)
            .order_by("level", "code")
        )
        found += list(more[: limit - len(found)])
    return found


def descendant_codes_prefix(code: str) -> str:
    """Prefix that every descendant's dotted code starts with."""
    return normalise_code(code) + "."
