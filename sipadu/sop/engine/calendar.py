"""The working-time clock: due times of SOP standard times in an office's working calendar.

An SOP's "5 menit" or "2 hari" counts office time only: the clock runs on working days
(Monday to Friday by default, minus national holidays and cuti bersama) between opening and
closing (08:00-16:00 by default), in the office's own time zone (WIB, WITA or WIT).

Every method takes and returns timezone-aware datetimes; results are in UTC, which is what
the database stores. Naive datetimes are refused because their meaning depends on the
server's zone. Office time is counted on the office's wall clock: Indonesia has no daylight
saving time, so wall-clock time and elapsed time agree.

The cost of every operation grows with the number of calendar days it spans, never with the
number of minutes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sipadu.sop.engine.holidays import holiday_dates

UTC = dt.UTC
ONE_DAY = dt.timedelta(days=1)
ZERO = dt.timedelta(0)

#: The three time zones of Indonesia and their IANA names.
ZONES: dict[str, str] = {
    "WIB": "Asia/Jakarta",
    "WITA": "Asia/Makassar",
    "WIT": "Asia/Jayapura",
}

#: Monday to Friday, as ISO weekday numbers (Monday = 1 … Sunday = 7).
MONDAY_TO_FRIDAY = frozenset({1, 2, 3, 4, 5})

#: Duration kinds that carry no due time ("Tentatif", "Jam kerja harian").
NO_DUE_TIME = frozenset({"tentative", "continuous"})


class DurationLike(Protocol):
    """Anything with the ``kind`` and ``amount`` of a standard time (e.g. ``model.Duration``)."""

    @property
    def kind(self) -> str:
        """One of minutes, hours, days, months, tentative, continuous."""

    @property
    def amount(self) -> float:
        """How many units; ignored for tentative and continuous."""


@dataclass(frozen=True)
class WorkingCalendar:
    """When an office works: its zone, opening hours, working weekdays and closed days.

    ``tz`` is an IANA zone name (see :data:`ZONES`), ``opens``/``closes`` are wall-clock
    times in that zone, ``weekdays`` are ISO weekday numbers and ``holidays`` the dates on
    which the office is closed (national holidays, cuti bersama, regional holidays).
    """

    tz: str = "Asia/Jakarta"
    opens: dt.time = dt.time(8, 0)
    closes: dt.time = dt.time(16, 0)
    weekdays: frozenset[int] = MONDAY_TO_FRIDAY
    holidays: frozenset[dt.date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check the configuration; a bad one would make the clock loop or lie."""
        try:
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.tz!r}") from exc
        object.__setattr__(self, "_zone", zone)
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opening and closing times are wall-clock times without a zone")
        if not self.opens < self.closes:
            raise ValueError(f"the office must open before it closes ({self.opens}-{self.closes})")
        # Accept any iterable from callers but keep the dataclass hashable.
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        if not self.weekdays:
            raise ValueError("an office needs at least one working weekday")
        if not self.weekdays <= {1, 2, 3, 4, 5, 6, 7}:
            raise ValueError(f"weekdays are ISO numbers 1-7, got {sorted(self.weekdays)}")

    @property
    def day_length(self) -> dt.timedelta:
        """The office time of one working day (8 hours by default)."""
        return _on(dt.date.min, self.closes) - _on(dt.date.min, self.opens)

    def is_working_day(self, day: dt.date) -> bool:
        """True when the office works on ``day``.

        A ``date`` is read as a day of the office's calendar; an aware ``datetime`` is first
        converted to the office zone.
        """
        if isinstance(day, dt.datetime):
            day = self._local(day).date()
        return self._works(day)

    def is_open(self, moment: dt.datetime) -> bool:
        """True when the office is open at ``moment`` (from opening, until before closing)."""
        local = self._local(moment)
        return self._is_open_local(local)

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """The first instant at or after ``moment`` at which the office is open (UTC).

        That is ``moment`` itself while the office is open, else the next opening time.
        """
        local = self._local(moment)
        if self._is_open_local(local):
            return self._utc(local)
        day = local.date()
        if not (self._works(day) and local.time() < self.opens):
            day = self._next_working_day(day + ONE_DAY)
        return self._utc(_on(day, self.opens))

    def add(self, start: dt.datetime, duration: DurationLike) -> dt.datetime | None:
        """The due time of a standard time ``duration`` started at ``start`` (UTC).

        minutes, hours: that much office time. days: that many whole working days, i.e.
        ``amount × day_length`` of office time. months: calendar months in the office zone
        (the day clipped to the month's end), moved to the next opening when the office is
        closed then. tentative, continuous: ``None`` (no due time).
        """
        kind = str(duration.kind)
        if kind in NO_DUE_TIME:
            self._local(start)  # refuse a naive start even when there is nothing to compute
            return None
        if kind == "months":
            months = duration.amount
            if isinstance(months, bool) or not isinstance(months, int) or months < 0:
                raise ValueError(f"months must be a whole number >= 0, got {months!r}")
            local = self._local(start)
            return self.next_opening(self._utc(_add_months(local, months)))
        length = self.working_length(duration)
        if length is None:
            raise ValueError(f"unknown duration kind {kind!r}")
        return self.add_working(start, length)

    def working_length(self, duration: DurationLike) -> dt.timedelta | None:
        """The office time a minutes/hours/days standard time allows, else ``None``.

        This is what :meth:`working_time_between` is compared with to tell whether a step
        finished within its standard. Months, tentative, continuous and unknown kinds give
        ``None``: they are not a fixed amount of office time.
        """
        kind = str(duration.kind)
        if kind not in ("minutes", "hours", "days"):
            return None
        amount = duration.amount
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
            raise ValueError(f"a {kind} amount must be a number >= 0, got {amount!r}")
        if kind == "minutes":
            return dt.timedelta(minutes=amount)
        if kind == "hours":
            return dt.timedelta(hours=amount)
        return self.day_length * amount

    def add_working(self, start: dt.datetime, delta: dt.timedelta) -> dt.datetime:
        """``start`` plus ``delta`` of office time (UTC).

        The result is always on a working day between opening and closing, both included:
        work that exactly fills the day is due at closing, not at the next opening. A zero
        ``delta`` started while the office is closed gives the next opening.
        """
        if delta < ZERO:
            raise ValueError(f"office time to add must not be negative, got {delta}")
        cursor = self._local(start)
        remaining = delta
        day = cursor.date()
        while True:
            if self._works(day):
                opening, closing = _on(day, self.opens), _on(day, self.closes)
                cursor = max(cursor, opening)
                if cursor <= closing:
                    available = closing - cursor
                    if remaining <= available:
                        return self._utc(cursor + remaining)
                    remaining -= available
            day += ONE_DAY

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """The office time elapsed from ``start`` to ``end`` (zero when ``end <= start``).

        The inverse of :meth:`add_working`: ``working_time_between(s, add_working(s, d)) == d``.
        """
        begin, finish = self._local(start), self._local(end)
        if end <= start:
            return ZERO
        total = ZERO
        day = begin.date()
        last = finish.date()
        while day <= last:
            if self._works(day):
                low = max(begin, _on(day, self.opens))
                high = min(finish, _on(day, self.closes))
                if high > low:
                    total += high - low
            day += ONE_DAY
        return total

    def _local(self, moment: dt.datetime) -> dt.datetime:
        # Naive wall-clock time in the office zone: all arithmetic happens here.
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"a timezone-aware datetime is required, got naive {moment!r}")
        return moment.astimezone(self._zone).replace(tzinfo=None)

    def _utc(self, local: dt.datetime) -> dt.datetime:
        return local.replace(tzinfo=self._zone).astimezone(UTC)

    def _works(self, day: dt.date) -> bool:
        return day.isoweekday() in self.weekdays and day not in self.holidays

    def _is_open_local(self, local: dt.datetime) -> bool:
        return self._works(local.date()) and self.opens <= local.time() < self.closes

    def _next_working_day(self, day: dt.date) -> dt.date:
        # Terminates: at least one weekday works and the holidays are finitely many.
        while not self._works(day):
            day += ONE_DAY
        return day


def national_calendar(
    tz: str = "Asia/Jakarta",
    opens: dt.time = dt.time(8, 0),
    closes: dt.time = dt.time(16, 0),
    weekdays: frozenset[int] = MONDAY_TO_FRIDAY,
    extra_holidays: frozenset[dt.date] = frozenset(),
) -> WorkingCalendar:
    """A calendar closed on the shipped national holidays and cuti bersama (plus any extra)."""
    return WorkingCalendar(
        tz=tz,
        opens=opens,
        closes=closes,
        weekdays=weekdays,
        holidays=holiday_dates() | frozenset(extra_holidays),
    )


def _on(day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at)


def _add_months(local: dt.datetime, months: int) -> dt.datetime:
    # Calendar months: 31 January + 1 month is the last day of February.
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, _days_in_month(year, month))
    return local.replace(year=year, month=month, day=day)


def _days_in_month(year: int, month: int) -> int:
    first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return (first_of_next - ONE_DAY).day
