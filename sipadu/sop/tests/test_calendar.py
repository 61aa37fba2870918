"""The working-time clock (SLA calendar) and the shipped holiday list. Pure Python, no DB."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipadu.sop.engine.calendar import (
    MONDAY_TO_FRIDAY,
    ZONES,
    WorkingCalendar,
    national_calendar,
)
from sipadu.sop.engine.holidays import (
    DEFAULT_PATH,
    Holiday,
    HolidayDataError,
    HolidayKind,
    holiday_dates,
    load_holidays,
)
from sipadu.sop.engine.model import Duration, DurationKind

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
WIT = ZoneInfo("Asia/Jayapura")
UTC = dt.UTC


def wib(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=WIB)


def minutes(n: int) -> Duration:
    return Duration(DurationKind.MINUTES, n, f"{n} menit")


def hours(n: int) -> Duration:
    return Duration(DurationKind.HOURS, n, f"{n} jam")


def days(n: int) -> Duration:
    return Duration(DurationKind.DAYS, n, f"{n} hari")


def months(n: int) -> Duration:
    return Duration(DurationKind.MONTHS, n, f"{n} bulan")


@dataclass(frozen=True)
class LooseDuration:
    """A duration-like object that is not model.Duration: the clock must accept it too."""

    kind: str
    amount: object


@pytest.fixture(scope="module")
def national() -> WorkingCalendar:
    return national_calendar()


def assert_utc(value: dt.datetime | None) -> dt.datetime:
    assert value is not None
    assert value.tzinfo is UTC
    return value


# --------------------------------------------------------------------------- examples


def test_friday_afternoon_hour_is_due_monday_morning(national: WorkingCalendar) -> None:
    due = assert_utc(national.add(wib(2026, 11, 20, 15, 30), hours(1)))
    assert due == wib(2026, 11, 23, 8, 30)


def test_fifteen_minutes_from_1555_is_due_0810_next_working_day(
    national: WorkingCalendar,
) -> None:
    assert national.add(wib(2026, 11, 19, 15, 55), minutes(15)) == wib(2026, 11, 20, 8, 10)


def test_work_that_exactly_fills_the_day_is_due_at_closing(national: WorkingCalendar) -> None:
    assert national.add(wib(2026, 11, 23, 15, 0), hours(1)) == wib(2026, 11, 23, 16, 0)


def test_kenaikan_and_its_cuti_bersama_are_skipped(national: WorkingCalendar) -> None:
    # Thursday 14 May 2026 is Kenaikan Yesus Kristus, Friday 15 May cuti bersama.
    assert national.add(wib(2026, 5, 13, 15, 0), hours(2)) == wib(2026, 5, 18, 9, 0)


def test_the_lebaran_week_of_2026_is_skipped(national: WorkingCalendar) -> None:
    # 18 cuti Nyepi, 19 Nyepi, 20 cuti, 21-22 Idul Fitri, 23-24 cuti: next day is the 25th.
    assert national.add(wib(2026, 3, 17, 10, 0), days(1)) == wib(2026, 3, 25, 10, 0)


def test_a_holiday_only_counts_where_the_calendar_lists_it() -> None:
    plain = WorkingCalendar()
    assert plain.add(wib(2026, 5, 13, 15, 0), hours(2)) == wib(2026, 5, 14, 9, 0)


def test_wita_and_wib_offices_give_different_utc_due_times() -> None:
    start = dt.datetime(2026, 11, 20, 0, 30, tzinfo=UTC)  # 07:30 WIB, 08:30 WITA
    in_wib = WorkingCalendar(tz=ZONES["WIB"]).add(start, hours(1))
    in_wita = WorkingCalendar(tz=ZONES["WITA"]).add(start, hours(1))
    assert in_wib == dt.datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 09:00 WIB
    assert in_wita == dt.datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # 09:30 WITA


def test_wit_office_closes_two_hours_before_a_wib_office() -> None:
    start = dt.datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # 14:30 WIB, 16:30 WIT (closed)
    assert WorkingCalendar(tz=ZONES["WIB"]).add(start, hours(1)) == wib(2026, 11, 23, 15, 30)
    in_wit = WorkingCalendar(tz=ZONES["WIT"]).add(start, hours(1))
    assert in_wit == dt.datetime(2026, 11, 24, 9, 0, tzinfo=WIT)


def test_a_start_before_opening_counts_from_opening(national: WorkingCalendar) -> None:
    assert national.add(wib(2026, 11, 23, 6, 0), minutes(10)) == wib(2026, 11, 23, 8, 10)


def test_a_start_after_closing_counts_from_the_next_opening(national: WorkingCalendar) -> None:
    assert national.add(wib(2026, 11, 23, 19, 0), minutes(10)) == wib(2026, 11, 24, 8, 10)


def test_a_start_on_sunday_counts_from_monday(national: WorkingCalendar) -> None:
    assert national.add(wib(2026, 11, 22, 10, 0), minutes(30)) == wib(2026, 11, 23, 8, 30)


def test_two_days_are_two_whole_working_days(national: WorkingCalendar) -> None:
    assert national.add(wib(2026, 11, 23, 10, 0), days(2)) == wib(2026, 11, 25, 10, 0)
    assert national.add(wib(2026, 11, 20, 10, 0), days(2)) == wib(2026, 11, 24, 10, 0)


def test_sijarla_three_days_whole_case_limit(national: WorkingCalendar) -> None:
    assert national.add(wib(2026, 11, 23, 9, 0), days(3)) == wib(2026, 11, 26, 9, 0)


def test_a_saturday_office_works_on_saturday() -> None:
    saturdays = WorkingCalendar(weekdays=frozenset({1, 2, 3, 4, 5, 6}))
    assert saturdays.add(wib(2026, 11, 20, 15, 30), hours(1)) == wib(2026, 11, 21, 8, 30)


def test_custom_office_hours_set_the_day_length() -> None:
    short = WorkingCalendar(opens=dt.time(7, 30), closes=dt.time(12, 0))
    assert short.day_length == dt.timedelta(hours=4, minutes=30)
    assert short.add(wib(2026, 11, 23, 11, 0), days(1)) == wib(2026, 11, 24, 11, 0)
    assert short.add(wib(2026, 11, 23, 11, 0), hours(2)) == wib(2026, 11, 24, 8, 30)


def test_six_months_is_calendar_months_clipped_to_the_month_end(
    national: WorkingCalendar,
) -> None:
    assert national.add(wib(2026, 3, 31, 10, 0), months(6)) == wib(2026, 9, 30, 10, 0)
    assert national.add(wib(2026, 12, 15, 10, 0), months(12)) == wib(2027, 12, 15, 10, 0)


def test_months_landing_on_a_sunday_move_to_monday_opening(national: WorkingCalendar) -> None:
    assert national.add(wib(2026, 8, 28, 10, 0), months(6)) == wib(2027, 3, 1, 8, 0)


def test_months_landing_after_closing_move_to_the_next_opening() -> None:
    plain = WorkingCalendar()
    assert plain.add(wib(2026, 11, 18, 17, 0), months(6)) == wib(2027, 5, 19, 8, 0)
    assert plain.add(wib(2026, 11, 30, 10, 0), months(3)) == wib(2027, 3, 1, 8, 0)


def test_months_landing_on_a_holiday_skip_it(national: WorkingCalendar) -> None:
    # 20 May 2027 Waisak, 21 May cuti bersama (provisional list), then the weekend.
    assert national.add(wib(2026, 11, 20, 15, 30), months(6)) == wib(2027, 5, 24, 8, 0)


@pytest.mark.parametrize("kind", [DurationKind.TENTATIVE, DurationKind.CONTINUOUS])
def test_tentative_and_continuous_have_no_due_time(
    national: WorkingCalendar, kind: DurationKind
) -> None:
    assert national.add(wib(2026, 11, 23, 9, 0), Duration(kind, 0, "Tentatif")) is None
    assert national.working_length(Duration(kind, 0, "Tentatif")) is None


def test_any_object_with_kind_and_amount_is_accepted(national: WorkingCalendar) -> None:
    due = national.add(wib(2026, 11, 23, 9, 0), LooseDuration("minutes", 45))  # type: ignore[arg-type]
    assert due == wib(2026, 11, 23, 9, 45)
    assert national.working_length(LooseDuration("hours", 1.5)) == dt.timedelta(minutes=90)  # type: ignore[arg-type]


def test_working_length_of_each_kind(national: WorkingCalendar) -> None:
    assert national.working_length(minutes(5)) == dt.timedelta(minutes=5)
    assert national.working_length(hours(4)) == dt.timedelta(hours=4)
    assert national.working_length(days(2)) == dt.timedelta(hours=16)
    assert national.working_length(months(6)) is None


def test_working_time_between_counts_only_office_time(national: WorkingCalendar) -> None:
    friday, monday = wib(2026, 11, 20, 15, 0), wib(2026, 11, 23, 9, 0)
    assert national.working_time_between(friday, monday) == dt.timedelta(hours=2)
    assert national.working_time_between(monday, friday) == dt.timedelta(0)
    assert national.working_time_between(friday, friday) == dt.timedelta(0)
    # Lebaran 2026: from Tuesday 17 March 15:00 to Wednesday 25 March 09:00 is 2 hours.
    lebaran = national.working_time_between(wib(2026, 3, 17, 15, 0), wib(2026, 3, 25, 9, 0))
    assert lebaran == dt.timedelta(hours=2)


def test_working_time_between_ignores_time_outside_the_window(
    national: WorkingCalendar,
) -> None:
    # Both instants in the same evening: no office time at all.
    evening = national.working_time_between(wib(2026, 11, 23, 17, 0), wib(2026, 11, 23, 20, 0))
    assert evening == dt.timedelta(0)
    # A whole working week.
    week = national.working_time_between(wib(2026, 11, 22, 0, 0), wib(2026, 11, 29, 0, 0))
    assert week == dt.timedelta(hours=40)


def test_is_working_day(national: WorkingCalendar) -> None:
    assert national.is_working_day(dt.date(2026, 11, 23))
    assert not national.is_working_day(dt.date(2026, 11, 22))  # Sunday
    assert not national.is_working_day(dt.date(2026, 12, 24))  # cuti bersama
    assert not national.is_working_day(dt.date(2026, 12, 25))  # Natal
    # An aware datetime is read in the office zone: Sunday 20:00 UTC is Monday in WIB.
    assert national.is_working_day(dt.datetime(2026, 11, 22, 20, 0, tzinfo=UTC))
    assert not national.is_working_day(dt.datetime(2026, 11, 22, 10, 0, tzinfo=UTC))


def test_is_open(national: WorkingCalendar) -> None:
    assert national.is_open(wib(2026, 11, 23, 8, 0))
    assert national.is_open(wib(2026, 11, 23, 15, 59))
    assert not national.is_open(wib(2026, 11, 23, 16, 0))
    assert not national.is_open(wib(2026, 11, 23, 7, 59))
    assert not national.is_open(wib(2026, 11, 22, 10, 0))
    assert not national.is_open(wib(2026, 12, 25, 10, 0))


def test_next_opening(national: WorkingCalendar) -> None:
    open_now = wib(2026, 11, 23, 10, 0)
    assert assert_utc(national.next_opening(open_now)) == open_now
    assert national.next_opening(wib(2026, 11, 23, 6, 0)) == wib(2026, 11, 23, 8, 0)
    assert national.next_opening(wib(2026, 11, 23, 16, 0)) == wib(2026, 11, 24, 8, 0)
    assert national.next_opening(wib(2026, 11, 21, 6, 0)) == wib(2026, 11, 23, 8, 0)
    assert national.next_opening(wib(2026, 12, 23, 17, 0)) == wib(2026, 12, 28, 8, 0)


def test_zero_office_time_normalises_to_office_hours(national: WorkingCalendar) -> None:
    zero = dt.timedelta(0)
    assert national.add_working(wib(2026, 11, 23, 10, 0), zero) == wib(2026, 11, 23, 10, 0)
    assert national.add_working(wib(2026, 11, 23, 16, 0), zero) == wib(2026, 11, 23, 16, 0)
    assert national.add_working(wib(2026, 11, 22, 10, 0), zero) == wib(2026, 11, 23, 8, 0)


def test_naive_datetimes_are_refused(national: WorkingCalendar) -> None:
    naive = dt.datetime(2026, 11, 23, 10, 0)
    aware = wib(2026, 11, 23, 10, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        national.is_open(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        national.is_working_day(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        national.next_opening(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        national.add(naive, hours(1))
    with pytest.raises(ValueError, match="timezone-aware"):
        national.add(naive, Duration(DurationKind.TENTATIVE, 0, "Tentatif"))
    with pytest.raises(ValueError, match="timezone-aware"):
        national.add(naive, months(1))
    with pytest.raises(ValueError, match="timezone-aware"):
        national.add_working(naive, dt.timedelta(hours=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        national.working_time_between(aware, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        national.working_time_between(naive, aware)


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        (LooseDuration("weeks", 1), "unknown duration kind"),
        (LooseDuration("months", 1.5), "whole number"),
        (LooseDuration("months", True), "whole number"),
        (LooseDuration("months", -1), "whole number"),
        (LooseDuration("minutes", -5), "number >= 0"),
        (LooseDuration("hours", None), "number >= 0"),
        (LooseDuration("days", True), "number >= 0"),
        (LooseDuration("days", "2"), "number >= 0"),
    ],
)
def test_bad_durations_are_refused(
    national: WorkingCalendar, duration: LooseDuration, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        national.add(wib(2026, 11, 23, 10, 0), duration)  # type: ignore[arg-type]


def test_negative_office_time_is_refused(national: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="negative"):
        national.add_working(wib(2026, 11, 23, 10, 0), dt.timedelta(minutes=-1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tz": "Asia/Bandung"}, "unknown time zone"),
        ({"tz": "../etc/passwd"}, "unknown time zone"),
        ({"opens": dt.time(16), "closes": dt.time(8)}, "open before it closes"),
        ({"opens": dt.time(8), "closes": dt.time(8)}, "open before it closes"),
        ({"opens": dt.time(8, tzinfo=UTC)}, "wall-clock"),
        ({"closes": dt.time(16, tzinfo=UTC)}, "wall-clock"),
        ({"weekdays": frozenset()}, "at least one working weekday"),
        ({"weekdays": frozenset({0, 1})}, "ISO numbers"),
        ({"weekdays": frozenset({8})}, "ISO numbers"),
    ],
)
def test_bad_calendars_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkingCalendar(**kwargs)  # type: ignore[arg-type]


def test_calendar_is_hashable_and_accepts_plain_sets() -> None:
    a = WorkingCalendar(weekdays={1, 2, 3}, holidays={dt.date(2026, 1, 1)})  # type: ignore[arg-type]
    b = WorkingCalendar(weekdays=frozenset({1, 2, 3}), holidays=frozenset({dt.date(2026, 1, 1)}))
    assert a == b
    assert hash(a) == hash(b)
    assert isinstance(a.weekdays, frozenset)
    assert isinstance(a.holidays, frozenset)


def test_national_calendar_has_the_shipped_holidays_and_extras() -> None:
    extra = dt.date(2026, 11, 24)  # e.g. a regional holiday
    calendar = national_calendar(tz=ZONES["WITA"], extra_holidays=frozenset({extra}))
    assert calendar.tz == "Asia/Makassar"
    assert calendar.weekdays == MONDAY_TO_FRIDAY
    assert holiday_dates() < calendar.holidays
    assert extra in calendar.holidays
    assert not calendar.is_working_day(extra)


# --------------------------------------------------------------------------- holiday list


def test_shipped_2026_list_matches_the_skb() -> None:
    listed = [h for h in load_holidays() if h.date.year == 2026]
    nasional = {h.date for h in listed if h.kind is HolidayKind.LIBUR_NASIONAL}
    cuti = {h.date for h in listed if h.kind is HolidayKind.CUTI_BERSAMA}
    assert len(nasional) == 17
    assert len(cuti) == 8
    assert dt.date(2026, 3, 21) in nasional  # Idul Fitri 1447 H
    assert dt.date(2026, 8, 17) in nasional
    assert cuti == {
        dt.date(2026, 2, 16),
        dt.date(2026, 3, 18),
        dt.date(2026, 3, 20),
        dt.date(2026, 3, 23),
        dt.date(2026, 3, 24),
        dt.date(2026, 5, 15),
        dt.date(2026, 5, 28),
        dt.date(2026, 12, 24),
    }
    assert not any(h.provisional for h in listed)


def test_shipped_2027_list_is_marked_provisional() -> None:
    listed = [h for h in load_holidays() if h.date.year == 2027]
    assert listed
    assert all(h.provisional for h in listed)
    fixed = {dt.date(2027, 1, 1), dt.date(2027, 6, 1), dt.date(2027, 8, 17), dt.date(2027, 12, 25)}
    assert fixed <= holiday_dates(2027)


def test_shipped_list_is_sorted_and_only_covers_2026_and_2027() -> None:
    listed = load_holidays()
    assert [h.date for h in listed] == sorted(h.date for h in listed)
    assert {h.date.year for h in listed} == {2026, 2027}
    assert all(h.name.strip() for h in listed)
    assert holiday_dates() == holiday_dates(2026) | holiday_dates(2027)
    assert holiday_dates(2025) == frozenset()
    assert load_holidays(DEFAULT_PATH) == listed


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "holidays.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_edited_file_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "holidays:\n"
        "  - {date: '2028-01-01', name: '  Tahun   Baru ', kind: libur_nasional}\n"
        "  - {date: 2027-12-31, name: Cuti, kind: cuti_bersama, provisional: true}\n",
    )
    assert load_holidays(path) == [
        Holiday(dt.date(2027, 12, 31), "Cuti", HolidayKind.CUTI_BERSAMA, provisional=True),
        Holiday(dt.date(2028, 1, 1), "Tahun Baru", HolidayKind.LIBUR_NASIONAL),
    ]
    assert holiday_dates(2028, path=str(path)) == frozenset({dt.date(2028, 1, 1)})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("holidays: [\n", "not valid YAML"),
        ("- 2026-01-01\n", "'holidays' list"),
        ("holidays: {}\n", "'holidays' list"),
        ("holidays:\n  - 2026-01-01\n", r"holidays\[0\]: expected a mapping"),
        (
            "holidays:\n  - {date: 2026-01-01, name: X, kind: cuti_bersama, note: y}\n",
            "unknown field",
        ),
        ("holidays:\n  - {date: 2026-01-01 10:00:00, name: X, kind: cuti_bersama}\n", "not a time"),
        ("holidays:\n  - {date: '1 Jan 2026', name: X, kind: cuti_bersama}\n", "YYYY-MM-DD"),
        ("holidays:\n  - {date: 20260101, name: X, kind: cuti_bersama}\n", "YYYY-MM-DD"),
        ("holidays:\n  - {name: X, kind: cuti_bersama}\n", "YYYY-MM-DD"),
        ("holidays:\n  - {date: 2026-01-01, name: ' ', kind: cuti_bersama}\n", "name"),
        ("holidays:\n  - {date: 2026-01-01, name: 5, kind: cuti_bersama}\n", "name"),
        ("holidays:\n  - {date: 2026-01-01, name: X, kind: libur_daerah}\n", "kind must be"),
        ("holidays:\n  - {date: 2026-01-01, name: X}\n", "kind must be"),
        (
            "holidays:\n  - {date: 2026-01-01, name: X, kind: cuti_bersama, provisional: ya}\n",
            "provisional",
        ),
    ],
)
def test_a_malformed_file_is_refused_with_a_clear_message(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(HolidayDataError, match=message):
        load_holidays(write(tmp_path, text))


# --------------------------------------------------------------------------- properties

ZONE_NAMES = st.sampled_from(sorted(ZONES.values()))
INSTANTS = st.datetimes(
    min_value=dt.datetime(2025, 12, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(UTC)
)


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    """Random zone, office hours (at least an hour), weekday set and holidays."""
    opens = draw(st.integers(0, 22 * 60))
    closes = draw(st.integers(opens + 60, 23 * 60 + 59))
    return WorkingCalendar(
        tz=draw(ZONE_NAMES),
        opens=dt.time(opens // 60, opens % 60),
        closes=dt.time(closes // 60, closes % 60),
        weekdays=draw(st.frozensets(st.integers(1, 7), min_size=1)),
        holidays=draw(
            st.frozensets(
                st.dates(min_value=dt.date(2025, 12, 1), max_value=dt.date(2028, 3, 1)),
                max_size=80,
            )
        ),
    )


def office_time(calendar: WorkingCalendar, max_days: int = 10) -> st.SearchStrategy[dt.timedelta]:
    """Office time up to ``max_days`` office days, at microsecond resolution."""
    top = int(calendar.day_length / dt.timedelta(microseconds=1)) * max_days
    return st.integers(0, top).map(lambda us: dt.timedelta(microseconds=us))


def local(calendar: WorkingCalendar, moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(ZoneInfo(calendar.tz))


@given(data=st.data(), calendar=calendars(), start=INSTANTS)
def test_due_is_never_before_start(
    data: st.DataObject, calendar: WorkingCalendar, start: dt.datetime
) -> None:
    due = calendar.add_working(start, data.draw(office_time(calendar)))
    assert due >= start


@given(data=st.data(), calendar=calendars(), start=INSTANTS)
def test_due_is_within_office_hours_on_a_working_day(
    data: st.DataObject, calendar: WorkingCalendar, start: dt.datetime
) -> None:
    delta = data.draw(office_time(calendar))
    due = local(calendar, calendar.add_working(start, delta))
    assert due.isoweekday() in calendar.weekdays
    assert due.date() not in calendar.holidays
    if delta:
        assert calendar.opens < due.time() <= calendar.closes
    else:
        assert calendar.opens <= due.time() <= calendar.closes


@given(data=st.data(), calendar=calendars(), start=INSTANTS)
def test_adding_a_then_b_equals_adding_a_plus_b(
    data: st.DataObject, calendar: WorkingCalendar, start: dt.datetime
) -> None:
    a = data.draw(office_time(calendar, 5))
    b = data.draw(office_time(calendar, 5))
    stepwise = calendar.add_working(calendar.add_working(start, a), b)
    assert stepwise == calendar.add_working(start, a + b)


@given(data=st.data(), calendar=calendars(), start=INSTANTS)
def test_working_time_between_inverts_add_working(
    data: st.DataObject, calendar: WorkingCalendar, start: dt.datetime
) -> None:
    delta = data.draw(office_time(calendar))
    assert calendar.working_time_between(start, calendar.add_working(start, delta)) == delta


@given(
    calendar=calendars(),
    start=INSTANTS,
    kind=st.sampled_from([DurationKind.MINUTES, DurationKind.HOURS, DurationKind.DAYS]),
    amount=st.integers(0, 30),
)
def test_working_time_between_inverts_add_for_sop_durations(
    calendar: WorkingCalendar, start: dt.datetime, kind: DurationKind, amount: int
) -> None:
    duration = Duration(kind, amount, "")
    due = assert_utc(calendar.add(start, duration))
    assert calendar.working_time_between(start, due) == calendar.working_length(duration)


@given(data=st.data(), calendar=calendars(), start=INSTANTS)
def test_working_time_between_is_additive(
    data: st.DataObject, calendar: WorkingCalendar, start: dt.datetime
) -> None:
    middle = start + data.draw(st.timedeltas(dt.timedelta(0), dt.timedelta(days=20)))
    end = middle + data.draw(st.timedeltas(dt.timedelta(0), dt.timedelta(days=20)))
    whole = calendar.working_time_between(start, end)
    parts = calendar.working_time_between(start, middle) + calendar.working_time_between(
        middle, end
    )
    assert whole == parts
    assert dt.timedelta(0) <= whole <= end - start


@given(
    data=st.data(),
    calendar=calendars(),
    start=INSTANTS,
    zone=st.sampled_from(
        [WIB, WITA, WIT, ZoneInfo("Europe/Amsterdam"), dt.timezone(dt.timedelta(hours=-5))]
    ),
)
def test_results_do_not_depend_on_the_zone_of_the_input(
    data: st.DataObject, calendar: WorkingCalendar, start: dt.datetime, zone: dt.tzinfo
) -> None:
    delta = data.draw(office_time(calendar, 3))
    elsewhere = start.astimezone(zone)
    due = assert_utc(calendar.add_working(elsewhere, delta))
    assert due == calendar.add_working(start, delta)
    assert calendar.next_opening(elsewhere) == calendar.next_opening(start)
    assert calendar.is_open(elsewhere) == calendar.is_open(start)
    assert calendar.add(elsewhere, months(6)) == calendar.add(start, months(6))
    end = start + dt.timedelta(days=3)
    assert calendar.working_time_between(elsewhere, end.astimezone(zone)) == (
        calendar.working_time_between(start, end)
    )


@given(calendar=calendars(), start=INSTANTS, count=st.integers(0, 24))
def test_months_land_while_the_office_is_open(
    calendar: WorkingCalendar, start: dt.datetime, count: int
) -> None:
    due = assert_utc(calendar.add(start, months(count)))
    assert due >= start
    assert calendar.is_open(due)
    shifted = local(calendar, start)
    landed = local(calendar, due)
    # The calendar month is reached (never earlier), and only closed time is skipped.
    assert (landed.year, landed.month) >= (
        shifted.year + (shifted.month - 1 + count) // 12,
        (shifted.month - 1 + count) % 12 + 1,
    )


@given(calendar=calendars(), start=INSTANTS)
def test_next_opening_is_the_first_open_instant(
    calendar: WorkingCalendar, start: dt.datetime
) -> None:
    opening = calendar.next_opening(start)
    assert opening >= start
    assert calendar.is_open(opening)
    if opening > start:
        # Nothing in between is open: no office time elapses before the opening.
        assert calendar.working_time_between(start, opening) == dt.timedelta(0)
        assert local(calendar, opening).time() == calendar.opens


@settings(max_examples=40)
@given(
    calendar=calendars(),
    start=st.datetimes(
        min_value=dt.datetime(2026, 1, 1),
        max_value=dt.datetime(2027, 12, 1),
        timezones=st.just(UTC),
    ).map(lambda d: d.replace(second=0, microsecond=0)),
    count=st.integers(1, 300),
)
def test_add_matches_a_minute_by_minute_count(
    calendar: WorkingCalendar, start: dt.datetime, count: int
) -> None:
    # An independent, slow oracle: tick the office's wall clock one minute at a time.
    zone = ZoneInfo(calendar.tz)
    tick = start.astimezone(zone).replace(tzinfo=None)
    remaining = count
    while remaining:
        if (
            tick.isoweekday() in calendar.weekdays
            and tick.date() not in calendar.holidays
            and calendar.opens <= tick.time() < calendar.closes
        ):
            remaining -= 1
        tick += dt.timedelta(minutes=1)
    assert calendar.add(start, minutes(count)) == tick.replace(tzinfo=zone)
