"""The shipped list of Indonesia's national public holidays and cuti bersama.

The list lives in ``data/holidays.yaml`` (one entry per day: ``date``, ``name``, ``kind``,
optionally ``provisional``) so that it can be corrected or extended without a code change.
Regional holidays of one office are not kept here: the database adds them on top.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

#: The file shipped with the package.
DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "holidays.yaml"

_FIELDS = frozenset({"date", "name", "kind", "provisional"})


class HolidayKind(StrEnum):
    """Why the office is closed on a day."""

    #: A national public holiday (hari libur nasional, Keppres / SKB 3 Menteri).
    LIBUR_NASIONAL = "libur_nasional"
    #: A joint leave day (cuti bersama) decreed by the SKB 3 Menteri.
    CUTI_BERSAMA = "cuti_bersama"


class HolidayDataError(ValueError):
    """The holiday file is malformed; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Holiday:
    """One day on which every office is closed.

    ``provisional`` marks a date that no decree has fixed yet (an estimate shipped so that
    due times next year are roughly right before the SKB is published).
    """

    date: dt.date
    name: str
    kind: HolidayKind
    provisional: bool = False


def load_holidays(path: str | Path | None = None) -> list[Holiday]:
    """Read a holiday file (the shipped one by default), sorted by date.

    Raises :class:`HolidayDataError` naming the first bad entry.
    """
    if path is None:
        return list(_default_holidays())
    return _read(Path(path))


def holiday_dates(year: int | None = None, path: str | Path | None = None) -> frozenset[dt.date]:
    """The dates of the holidays in ``path`` (shipped file by default), of one year or all."""
    holidays = _default_holidays() if path is None else tuple(_read(Path(path)))
    return frozenset(h.date for h in holidays if year is None or h.date.year == year)


@lru_cache(maxsize=1)
def _default_holidays() -> tuple[Holiday, ...]:
    # The shipped file never changes while the process runs, so parse it once.
    return tuple(_read(DEFAULT_PATH))


def _read(path: Path) -> list[Holiday]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise HolidayDataError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("holidays"), list):
        raise HolidayDataError(f"{path}: expected a mapping with a 'holidays' list")
    entries: list[Any] = document["holidays"]
    holidays = [_parse_entry(entry, f"{path}: holidays[{i}]") for i, entry in enumerate(entries)]
    return sorted(holidays, key=lambda h: (h.date, h.kind, h.name))


def _parse_entry(entry: Any, where: str) -> Holiday:
    if not isinstance(entry, dict):
        raise HolidayDataError(f"{where}: expected a mapping with date, name and kind")
    unknown = set(entry) - _FIELDS
    if unknown:
        raise HolidayDataError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    return Holiday(
        date=_parse_date(entry.get("date"), where),
        name=_parse_name(entry.get("name"), where),
        kind=_parse_kind(entry.get("kind"), where),
        provisional=_parse_provisional(entry.get("provisional", False), where),
    )


def _parse_date(value: Any, where: str) -> dt.date:
    # YAML turns an unquoted 2026-01-01 into a date already; a quoted one stays a string.
    if isinstance(value, dt.datetime):
        raise HolidayDataError(f"{where}: date must be a day (YYYY-MM-DD), not a time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise HolidayDataError(f"{where}: date must be written YYYY-MM-DD, got {value!r}")


def _parse_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise HolidayDataError(f"{where}: name must be a non-empty text")
    return " ".join(value.split())


def _parse_kind(value: Any, where: str) -> HolidayKind:
    try:
        return HolidayKind(value)
    except ValueError:
        allowed = " or ".join(k.value for k in HolidayKind)
        raise HolidayDataError(f"{where}: kind must be {allowed}, got {value!r}") from None


def _parse_provisional(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise HolidayDataError(f"{where}: provisional must be true or false, got {value!r}")
    return value
