"""Parsing the SOP's duration words, by example and by property."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipadu.sop.engine import DurationError, DurationKind, parse_duration, parse_time
from sipadu.sop.engine.durations import PHRASES, UNITS, parse_recurrence


@pytest.mark.parametrize(
    ("text", "kind", "amount"),
    [
        ("5 menit", DurationKind.MINUTES, 5),
        ("10 Menit", DurationKind.MINUTES, 10),
        ("1 jam", DurationKind.HOURS, 1),
        ("4 Jam", DurationKind.HOURS, 4),
        ("2 hari", DurationKind.DAYS, 2),
        ("1 Hari", DurationKind.DAYS, 1),
        ("2 hari kerja", DurationKind.DAYS, 2),
        ("6 bulan", DurationKind.MONTHS, 6),
        ("15 minutes", DurationKind.MINUTES, 15),
        ("3 days", DurationKind.DAYS, 3),
        ("Tentatif", DurationKind.TENTATIVE, 0),
        ("Jam kerja harian", DurationKind.CONTINUOUS, 0),
        ("  jam   KERJA harian ", DurationKind.CONTINUOUS, 0),
    ],
)
def test_known_words(text: str, kind: DurationKind, amount: int) -> None:
    duration = parse_duration(text)
    assert (duration.kind, duration.amount) == (kind, amount)
    assert duration.text == " ".join(text.split())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "unknown duration ''"),
        ("sebentar", "unknown duration 'sebentar'"),
        ("5", "unknown duration '5'"),
        ("1,5 jam", "unknown duration '1,5 jam'"),
        ("0 menit", "must be more than zero"),
        ("2 minggu", "unknown duration '2 minggu'"),
    ],
)
def test_unknown_words_are_refused_in_plain_words(text: str, message: str) -> None:
    with pytest.raises(DurationError, match=message):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "kind", "amount"),
    [
        ("6 bulan sekali", DurationKind.MONTHS, 6),
        ("setiap 6 bulan", DurationKind.MONTHS, 6),
        ("tiap bulan", DurationKind.MONTHS, 1),
        ("every 14 days", DurationKind.DAYS, 14),
    ],
)
def test_recurrences(text: str, kind: DurationKind, amount: int) -> None:
    duration, recurrence = parse_time(text)
    assert recurrence is not None
    assert (recurrence.every.kind, recurrence.every.amount) == (kind, amount)
    # A recurring step has no standard of its own but keeps the SOP's words.
    assert not duration.has_standard and duration.text == text


def test_plain_time_has_no_recurrence() -> None:
    assert parse_time("4 jam") == (parse_duration("4 jam"), None)
    assert parse_recurrence("4 jam") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("setiap kali", "unknown recurrence 'setiap kali'"),
        ("tentatif sekali", "needs a period"),
    ],
)
def test_bad_recurrences(text: str, message: str) -> None:
    with pytest.raises(DurationError, match=message):
        parse_time(text)


_SPACE = st.text(alphabet=" \t", max_size=3)


def _mixed_case(word: str, flips: list[bool]) -> str:
    return "".join(
        c.upper() if f else c for c, f in zip(word, flips + [False] * len(word), strict=False)
    )


@given(
    amount=st.integers(min_value=1, max_value=10**6),
    unit=st.sampled_from(sorted(UNITS)),
    lead=_SPACE,
    gap=_SPACE,
    trail=_SPACE,
    flips=st.lists(st.booleans(), max_size=20),
)
def test_any_amount_and_unit_round_trips(
    amount: int, unit: str, lead: str, gap: str, trail: str, flips: list[bool]
) -> None:
    text = f"{lead}{amount}{gap}{_mixed_case(unit, flips)}{trail}"
    duration = parse_duration(text)
    assert duration.kind is UNITS[unit]
    assert duration.amount == amount
    assert duration.has_standard
    # The kept text is the SOP's own words with single spaces, and parses the same.
    assert duration.text == " ".join(text.split())
    assert parse_duration(duration.text) == duration


@given(phrase=st.sampled_from(sorted(PHRASES)), flips=st.lists(st.booleans(), max_size=20))
def test_phrases_ignore_case(phrase: str, flips: list[bool]) -> None:
    duration = parse_duration(_mixed_case(phrase, flips))
    assert duration.kind is PHRASES[phrase]
    assert duration.amount == 0 and not duration.has_standard


@given(st.text(max_size=40))
def test_any_text_parses_or_gives_a_duration_error(text: str) -> None:
    try:
        duration, recurrence = parse_time(text)
    except DurationError as exc:
        assert str(exc).split()[0] in {"unknown", "duration", "recurrence"}
    else:
        assert duration.has_standard == (duration.amount > 0)
        assert recurrence is None or recurrence.every.has_standard
