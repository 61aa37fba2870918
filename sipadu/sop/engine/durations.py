"""Parse the standard times of an SOP from the words the SOP uses.

The SOP-AP "Waktu" column is free text: "5 menit", "1 Jam", "2 hari", "6 bulan",
"Tentatif", "Jam kerja harian", and for recurring steps "6 bulan sekali". English
units are accepted too ("15 minutes", "every 6 months"). Case and spacing do not
matter; the original words are kept in :attr:`Duration.text` for display.
"""

from __future__ import annotations

import re

from sipadu.sop.engine.model import Duration, DurationKind, Recurrence

#: Unit words (lower case) and the kind they measure.
UNITS: dict[str, DurationKind] = {
    "menit": DurationKind.MINUTES,
    "min": DurationKind.MINUTES,
    "mins": DurationKind.MINUTES,
    "minute": DurationKind.MINUTES,
    "minutes": DurationKind.MINUTES,
    "jam": DurationKind.HOURS,
    "hour": DurationKind.HOURS,
    "hours": DurationKind.HOURS,
    "hari": DurationKind.DAYS,
    "hari kerja": DurationKind.DAYS,
    "day": DurationKind.DAYS,
    "days": DurationKind.DAYS,
    "working day": DurationKind.DAYS,
    "working days": DurationKind.DAYS,
    "bulan": DurationKind.MONTHS,
    "month": DurationKind.MONTHS,
    "months": DurationKind.MONTHS,
}

#: Whole phrases that carry no amount.
PHRASES: dict[str, DurationKind] = {
    "tentatif": DurationKind.TENTATIVE,
    "tentative": DurationKind.TENTATIVE,
    "jam kerja harian": DurationKind.CONTINUOUS,
    "continuous": DurationKind.CONTINUOUS,
    "office hours": DurationKind.CONTINUOUS,
}

EXAMPLES = "'5 menit', '1 jam', '2 hari', '6 bulan', 'Tentatif' or 'Jam kerja harian'"

_UNIT_RE = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
_AMOUNT_RE = re.compile(rf"^(?P<amount>\d+)\s*(?P<unit>{_UNIT_RE})$")
# "6 bulan sekali" / "setiap 6 bulan" / "tiap bulan" / "every 6 months".
_RECUR_SUFFIX_RE = re.compile(r"^(?P<body>.+?)\s+sekali$")
_RECUR_PREFIX_RE = re.compile(r"^(?:setiap|tiap|every)\s+(?P<body>.+)$")


class DurationError(ValueError):
    """The text is not a duration this parser knows; the message says what is accepted."""


def _normalise(text: str) -> str:
    return _tidy(text).casefold()


def _tidy(text: str) -> str:
    # The SOP's words are kept for display, but with single spaces.
    return " ".join(text.split())


def parse_duration(text: str) -> Duration:
    """Parse a standard time such as "5 menit" or "Tentatif" into a :class:`Duration`.

    Raises :class:`DurationError` for anything else, including a zero amount.
    """
    words = _normalise(text)
    kind = PHRASES.get(words)
    if kind is not None:
        return Duration(kind, 0, _tidy(text))
    match = _AMOUNT_RE.match(words)
    if match is None:
        raise DurationError(f"unknown duration {text!r} (write e.g. {EXAMPLES})")
    amount = int(match["amount"])
    if amount <= 0:
        raise DurationError(f"duration {text!r} must be more than zero")
    return Duration(UNITS[match["unit"]], amount, _tidy(text))


def _parse_period(body: str, text: str) -> Duration:
    # "setiap bulan" has no number: it means every one month.
    if body in UNITS:
        body = f"1 {body}"
    try:
        every = parse_duration(body)
    except DurationError:
        raise DurationError(
            f"unknown recurrence {text!r} (write e.g. '6 bulan sekali' or 'setiap 6 bulan')"
        ) from None
    if not every.has_standard:
        raise DurationError(f"recurrence {text!r} needs a period such as '6 bulan'")
    return every


def parse_recurrence(text: str) -> Recurrence | None:
    """Return the recurrence in phrases like "6 bulan sekali", or None for a plain duration."""
    words = _normalise(text)
    match = _RECUR_SUFFIX_RE.match(words) or _RECUR_PREFIX_RE.match(words)
    if match is None:
        return None
    every = _parse_period(match["body"], text)
    return Recurrence(every)


def parse_time(text: str) -> tuple[Duration, Recurrence | None]:
    """Parse a "Waktu" cell: a standard time, or a recurrence such as "6 bulan sekali".

    A recurring step has no standard time of its own, so its duration is tentative
    while keeping the SOP's words for display.
    """
    recurrence = parse_recurrence(text)
    if recurrence is not None:
        return Duration(DurationKind.TENTATIVE, 0, _tidy(text)), recurrence
    return parse_duration(text), None
