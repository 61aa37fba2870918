"""Document-coverage figures per region, kept up to date incrementally.

Every resident contributes 0 or 1 to the numerator and denominator of each indicator,
depending on his or her state (alive, age, marital status, documents) and *the reference
date*. The reference date is stored in :class:`~sipadu.registry.models.CoverageState`: the
first day of the month the live figures describe. Ages are taken at that date, so a counter
does not drift as people grow older during the month; the monthly job :func:`roll_coverage`
snapshots the month that ended, moves the reference date to the new month and recomputes.
Actions apply the difference between a resident's contribution before and after a change
(:func:`delta`, :func:`apply_deltas`) to counters kept for the desa and every ancestor, so a
region's figures are one indexed read; :func:`recompute` rebuilds them from scratch with the
same rules expressed in SQL, and must agree exactly.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import CoverageCounter, CoverageSnapshot, CoverageState, MaritalStatus, Penduduk

# The resident fields coverage depends on; an action that changes none of them moves nothing.
COVERAGE_FIELDS = (
    "desa_id",
    "birth_date",
    "marital_status",
    "is_alive",
    "keluarga_id",
    "akta_kelahiran_no",
    "kia",
    "ktp_el_recorded",
    "akta_kematian_no",
)


@dataclass(frozen=True)
class Indicator:
    """One coverage indicator; ``max_age`` is the age band setting where one applies."""

    code: str
    label: Any
    max_age: int | None = None


INDICATORS: tuple[Indicator, ...] = (
    Indicator("akta_lahir_0_17", _("Akta kelahiran 0–17 tahun"), max_age=17),
    Indicator("akta_lahir_0_18", _("Akta kelahiran 0–18 tahun"), max_age=18),
    Indicator("kia", _("KIA anak <17 tahun belum kawin"), max_age=16),
    Indicator("ktp_el", _("Perekaman KTP-el wajib KTP"), max_age=None),
    Indicator("kk", _("Kepemilikan KK"), max_age=None),
    Indicator("akta_kematian", _("Akta kematian"), max_age=None),
)
BY_CODE = {i.code: i for i in INDICATORS}
WAJIB_KTP_AGE = 17


def years_before(date: dt.date, years: int) -> dt.date:
    """The same day ``years`` earlier (28 February for a 29 February)."""
    try:
        return date.replace(year=date.year - years)
    except ValueError:
        return date.replace(year=date.year - years, day=28)


def born_after(ref: dt.date, max_age: int) -> dt.date:
    """Residents born after this date are at most ``max_age`` years old at ``ref``."""
    return years_before(ref, max_age + 1)


def default_reference_date() -> dt.date:
    """First day of the current month, in the server's time zone."""
    return timezone.localdate().replace(day=1)


def reference_date(*, lock: bool = False) -> dt.date:
    """The stored reference date (created on first use).

    With ``lock`` the row is share-locked on PostgreSQL so that a recompute, which locks it
    exclusively, cannot interleave with an action's increments (SQLite serialises writers).
    """
    state = CoverageState.objects.filter(pk=1).first()
    if state is None:
        CoverageState.objects.get_or_create(
            pk=1, defaults={"reference_date": default_reference_date()}
        )
    if lock and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reference_date FROM registry_coveragestate WHERE id = 1 FOR SHARE"
            )
            return cursor.fetchone()[0]
    return CoverageState.objects.values_list("reference_date", flat=True).get(pk=1)


def contributions(row: Mapping[str, Any], ref: dt.date) -> dict[str, tuple[int, int]]:
    """(numerator, denominator) this resident adds to each indicator, at ``ref``.

    ``row`` holds the :data:`COVERAGE_FIELDS`. Mirrors :func:`_aggregates` exactly.
    """
    out: dict[str, tuple[int, int]] = {}
    if not row["is_alive"]:
        out["akta_kematian"] = (1 if row["akta_kematian_no"] else 0, 1)
        return out
    born = row["birth_date"]
    has_akta = 1 if row["akta_kelahiran_no"] else 0
    for code in ("akta_lahir_0_17", "akta_lahir_0_18"):
        if born > born_after(ref, BY_CODE[code].max_age or 0):
            out[code] = (has_akta, 1)
    single = row["marital_status"] == MaritalStatus.BELUM_KAWIN
    if single and born > born_after(ref, BY_CODE["kia"].max_age or 0):
        out["kia"] = (1 if row["kia"] else 0, 1)
    if not single or born <= years_before(ref, WAJIB_KTP_AGE):
        out["ktp_el"] = (1 if row["ktp_el_recorded"] else 0, 1)
    out["kk"] = (1 if row["keluarga_id"] else 0, 1)
    return out


Deltas = dict[tuple[str, str], list[int]]


def new_deltas() -> Deltas:
    return defaultdict(lambda: [0, 0])


def delta(
    deltas: Deltas, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, ref: dt.date
) -> None:
    """Add to ``deltas`` the change from ``before`` to ``after`` (either may be None)."""
    if before is not None:
        for code, (num, den) in contributions(before, ref).items():
            cell = deltas[(before["desa_id"], code)]
            cell[0] -= num
            cell[1] -= den
    if after is not None:
        for code, (num, den) in contributions(after, ref).items():
            cell = deltas[(after["desa_id"], code)]
            cell[0] += num
            cell[1] += den


# -- bulk form, for imports ------------------------------------------------------------------
#
# An import does not call :func:`contributions` per row: it counts residents by a small "state
# key" (desa, alive, age class, single, and the documents that matter) and turns each distinct
# key into contributions once. The age class says which age bands a birth date falls in at the
# reference date; :func:`key_contributions` evaluates a key through :func:`contributions` with a
# representative birth date of its class, so both forms agree by construction.

StateKey = tuple[str, int, int, int, int, int, int, int, int]


@dataclass(frozen=True)
class AgeBounds:
    """ISO birth-date bounds of the age classes at a reference date (ISO text compares right).

    Class 3: aged 16 or less (KIA band); 2: aged 17; 1: aged 18; 0: older. Wajib KTP by age is
    class 2 and below (17 or over).
    """

    ref: dt.date
    b16: str
    b17: str
    b18: str

    @classmethod
    def at(cls, ref: dt.date) -> AgeBounds:
        return cls(
            ref,
            born_after(ref, 16).isoformat(),
            born_after(ref, 17).isoformat(),
            born_after(ref, 18).isoformat(),
        )

    def age_class(self, birth_iso: str) -> int:
        if birth_iso > self.b16:
            return 3
        if birth_iso > self.b17:
            return 2
        return 1 if birth_iso > self.b18 else 0

    def representative(self, age_class: int) -> dt.date:
        """A birth date of the class (its upper bound, or the reference date for class 3)."""
        if age_class == 3:
            return self.ref
        return dt.date.fromisoformat((self.b18, self.b17, self.b16)[age_class])


def state_key(
    bounds: AgeBounds,
    desa: str,
    is_alive: bool,
    birth_iso: str,
    single: bool,
    akta_kelahiran: bool,
    kia: bool,
    ktp_el: bool,
    on_kk: bool,
    akta_kematian: bool,
) -> StateKey:
    """The state of one resident as far as coverage is concerned (see :data:`COVERAGE_FIELDS`)."""
    if not is_alive:
        return (desa, 0, 0, 0, 0, 0, 0, 0, 1 if akta_kematian else 0)
    return (
        desa,
        1,
        bounds.age_class(birth_iso),
        1 if single else 0,
        1 if akta_kelahiran else 0,
        1 if kia else 0,
        1 if ktp_el else 0,
        1 if on_kk else 0,
        0,
    )


def state_key_of(row: Mapping[str, Any], bounds: AgeBounds) -> StateKey:
    """:func:`state_key` of a mapping holding the :data:`COVERAGE_FIELDS`."""
    born = row["birth_date"]
    return state_key(
        bounds,
        row["desa_id"],
        bool(row["is_alive"]),
        born if isinstance(born, str) else born.isoformat(),
        row["marital_status"] == MaritalStatus.BELUM_KAWIN,
        bool(row["akta_kelahiran_no"]),
        bool(row["kia"]),
        bool(row["ktp_el_recorded"]),
        bool(row["keluarga_id"]),
        bool(row["akta_kematian_no"]),
    )


def key_contributions(key: StateKey, bounds: AgeBounds) -> dict[str, tuple[int, int]]:
    """What one resident in state ``key`` adds to each indicator (via :func:`contributions`)."""
    desa, alive, age_class, single, akta, kia, ktp, on_kk, mati = key
    row = {
        "desa_id": desa,
        "is_alive": bool(alive),
        "birth_date": bounds.representative(age_class),
        "marital_status": MaritalStatus.BELUM_KAWIN if single else MaritalStatus.KAWIN,
        "akta_kelahiran_no": "x" if akta else "",
        "kia": bool(kia),
        "ktp_el_recorded": bool(ktp),
        "keluarga_id": "x" if on_kk else None,
        "akta_kematian_no": "x" if mati else "",
    }
    return contributions(row, bounds.ref)


def deltas_from_counts(counts: Mapping[StateKey, int], bounds: AgeBounds) -> Deltas:
    """Desa-level deltas of residents counted by state key (negative counts remove)."""
    deltas = new_deltas()
    for key, count in counts.items():
        if not count:
            continue
        for code, (num, den) in key_contributions(key, bounds).items():
            cell = deltas[(key[0], code)]
            cell[0] += num * count
            cell[1] += den * count
    return deltas


def region_chain(desa_code: str) -> list[str]:
    """The desa code and every ancestor code: '63', '63.11', '63.11.01', '63.11.01.2001'."""
    parts = desa_code.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def apply_deltas(deltas: Deltas) -> None:
    """Apply desa-level deltas to the counters of the desa and all its ancestors (F())."""
    rolled: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (desa, code), (num, den) in deltas.items():
        if num == 0 and den == 0:
            continue
        for region in region_chain(desa):
            cell = rolled[(region, code)]
            cell[0] += num
            cell[1] += den
    rolled = {k: v for k, v in rolled.items() if v[0] or v[1]}
    if not rolled:
        return
    # One relative upsert per counter (like F(); creates the counter on first use), sorted so
    # that two transactions touch rows in the same order (no deadlock).
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO registry_coveragecounter (region_id, level, indicator, numerator, "
            "denominator) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (region_id, indicator) DO "
            "UPDATE SET numerator = registry_coveragecounter.numerator + excluded.numerator, "
            "denominator = registry_coveragecounter.denominator + excluded.denominator",
            [
                (region, region.count(".") + 1, code, num, den)
                for (region, code), (num, den) in sorted(rolled.items())
            ],
        )


def state_of(penduduk: Penduduk) -> dict[str, Any]:
    """The coverage-relevant fields of a resident instance."""
    return {name: getattr(penduduk, name) for name in COVERAGE_FIELDS}


def _aggregates(ref: dt.date, where: Q | None = None) -> dict[tuple[str, str], tuple[int, int]]:
    """Per desa and indicator (numerator, denominator), computed by the database."""
    alive = Q(is_alive=True)
    single = Q(marital_status=MaritalStatus.BELUM_KAWIN)
    has_akta = ~Q(akta_kelahiran_no="")
    bands = {
        code: Q(birth_date__gt=born_after(ref, BY_CODE[code].max_age or 0))
        for code in ("akta_lahir_0_17", "akta_lahir_0_18", "kia")
    }
    wajib = ~single | Q(birth_date__lte=years_before(ref, WAJIB_KTP_AGE))
    rules = {
        "akta_lahir_0_17": (
            alive & bands["akta_lahir_0_17"] & has_akta,
            alive & bands["akta_lahir_0_17"],
        ),
        "akta_lahir_0_18": (
            alive & bands["akta_lahir_0_18"] & has_akta,
            alive & bands["akta_lahir_0_18"],
        ),
        "kia": (alive & single & bands["kia"] & Q(kia=True), alive & single & bands["kia"]),
        "ktp_el": (alive & wajib & Q(ktp_el_recorded=True), alive & wajib),
        "kk": (alive & Q(keluarga__isnull=False), alive),
        "akta_kematian": (~alive & ~Q(akta_kematian_no=""), ~alive),
    }
    annotations = {}
    for code, (num, den) in rules.items():
        annotations[f"{code}__n"] = Count("pk", filter=num)
        annotations[f"{code}__d"] = Count("pk", filter=den)
    qs = Penduduk.objects.all()
    if where is not None:
        qs = qs.filter(where)
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for row in qs.values("desa_id").annotate(**annotations).order_by():
        for code in rules:
            num, den = row[f"{code}__n"], row[f"{code}__d"]
            if num or den:
                out[(row["desa_id"], code)] = (num, den)
    return out


def compute(ref: dt.date) -> dict[tuple[str, str], tuple[int, int]]:
    """Counters for every level, from scratch (what :func:`recompute` stores)."""
    rolled: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (desa, code), (num, den) in _aggregates(ref).items():
        for region in region_chain(desa):
            cell = rolled[(region, code)]
            cell[0] += num
            cell[1] += den
    return {k: (v[0], v[1]) for k, v in rolled.items()}


def stored() -> dict[tuple[str, str], tuple[int, int]]:
    """The counters as stored (rows whose figures are both zero are left out)."""
    return {
        (r, c): (n, d)
        for r, c, n, d in CoverageCounter.objects.values_list(
            "region_id", "indicator", "numerator", "denominator"
        )
        if n or d
    }


@transaction.atomic
def recompute(ref: dt.date | None = None) -> int:
    """Rebuild every counter from the residents; returns the number of counter rows.

    Locks the reference date row so that no action increments counters meanwhile.
    """
    CoverageState.objects.get_or_create(pk=1, defaults={"reference_date": default_reference_date()})
    state = CoverageState.objects.select_for_update().get(pk=1)
    if ref is not None and ref != state.reference_date:
        state.reference_date = ref
        state.save(update_fields=["reference_date"])
    figures = compute(state.reference_date)
    CoverageCounter.objects.all().delete()
    CoverageCounter.objects.bulk_create(
        (
            CoverageCounter(
                region_id=r, level=r.count(".") + 1, indicator=c, numerator=n, denominator=d
            )
            for (r, c), (n, d) in figures.items()
        ),
        batch_size=2000,
    )
    return len(figures)


@transaction.atomic
def snapshot(month: dt.date | None = None) -> int:
    """Copy the live counters into the history as the figures of ``month``."""
    month = (month or reference_date()).replace(day=1)
    CoverageSnapshot.objects.filter(month=month).delete()
    rows = [
        CoverageSnapshot(
            month=month,
            region_id=c.region_id,
            level=c.level,
            indicator=c.indicator,
            numerator=c.numerator,
            denominator=c.denominator,
        )
        for c in CoverageCounter.objects.all().iterator(chunk_size=5000)
    ]
    CoverageSnapshot.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


@transaction.atomic
def roll_coverage(today: dt.date | None = None) -> bool:
    """Monthly: snapshot the month that ended and recompute at the new month's first day.

    Returns False when the reference date is already the current month (nothing to do).
    """
    new_ref = (today or timezone.localdate()).replace(day=1)
    CoverageState.objects.get_or_create(pk=1, defaults={"reference_date": new_ref})
    state = CoverageState.objects.select_for_update().get(pk=1)
    if state.reference_date == new_ref:
        return False
    snapshot(state.reference_date)
    recompute(new_ref)
    return True


@dataclass(frozen=True)
class Figure:
    """Numerator, denominator and percentage of one indicator in one region."""

    indicator: Indicator
    numerator: int
    denominator: int

    @property
    def percent(self) -> float | None:
        if not self.denominator:
            return None
        return round(100.0 * self.numerator / self.denominator, 2)

    @property
    def over_100(self) -> bool:
        """Real data can exceed 100% (documents of people who moved away): flag it."""
        return self.numerator > self.denominator


def _figures(rows: Iterable[tuple[str, str, int, int]]) -> dict[str, dict[str, Figure]]:
    out: dict[str, dict[str, Figure]] = defaultdict(dict)
    for region, code, num, den in rows:
        if code in BY_CODE:
            out[region][code] = Figure(BY_CODE[code], num, den)
    for figures in out.values():
        for ind in INDICATORS:
            figures.setdefault(ind.code, Figure(ind, 0, 0))
    return out


def code_range(code: str) -> tuple[str, str]:
    """Bounds of the dotted codes under ``code``: an index range scan, not a LIKE."""
    return code + ".", code + "/"


def region_figures(code: str, month: dt.date | None = None) -> dict[str, Figure]:
    """Figures of one region (live, or of a past ``month``): one indexed query."""
    model: Any = CoverageSnapshot if month else CoverageCounter
    qs = model.objects.filter(region_id=code)
    if month:
        qs = qs.filter(month=month)
    rows = qs.values_list("region_id", "indicator", "numerator", "denominator")
    return _figures(rows).get(code) or {i.code: Figure(i, 0, 0) for i in INDICATORS}


def children_figures(code: str, month: dt.date | None = None) -> dict[str, dict[str, Figure]]:
    """Figures of every child region of ``code`` that has residents (one indexed query)."""
    low, high = code_range(code)
    model: Any = CoverageSnapshot if month else CoverageCounter
    qs = model.objects.filter(region_id__gte=low, region_id__lt=high, level=code.count(".") + 2)
    if month:
        qs = qs.filter(month=month)
    return _figures(qs.values_list("region_id", "indicator", "numerator", "denominator"))


def months_available() -> list[dt.date]:
    """Months with a stored snapshot, newest first."""
    return list(
        CoverageSnapshot.objects.values_list("month", flat=True).distinct().order_by("-month")
    )
