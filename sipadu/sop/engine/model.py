"""The in-memory model of one SOP version: frozen dataclasses, no Django.

A definition file (YAML) is read by :mod:`sipadu.sop.engine.reader`, checked by
:mod:`sipadu.sop.engine.validation` and becomes an :class:`SOP`. Every object is
immutable so that a loaded SOP can be shared freely (cached, pinned by cases).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class DurationKind(StrEnum):
    """What a standard time (``waktu`` of the mutu baku) measures."""

    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    MONTHS = "months"
    #: "Tentatif": the SOP sets no standard time for the step.
    TENTATIVE = "tentative"
    #: "Jam kerja harian": the step runs continuously during office hours.
    CONTINUOUS = "continuous"


#: Kinds that carry no measurable standard (no SLA is computed for them).
UNMEASURED_KINDS = frozenset({DurationKind.TENTATIVE, DurationKind.CONTINUOUS})


@dataclass(frozen=True, slots=True)
class Duration:
    """A standard time as written in the SOP.

    ``amount`` is 0 for tentative and continuous durations; ``text`` keeps the SOP's
    own words ("5 menit", "Tentatif", "Jam kerja harian") for display.
    """

    kind: DurationKind
    amount: int
    text: str

    @property
    def has_standard(self) -> bool:
        """True when the duration is a measurable standard time (minutes … months)."""
        return self.kind not in UNMEASURED_KINDS

    @property
    def minutes(self) -> int | None:
        """The amount in minutes for minutes/hours, else None (days/months need a calendar)."""
        if self.kind is DurationKind.MINUTES:
            return self.amount
        if self.kind is DurationKind.HOURS:
            return self.amount * 60
        return None

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Executor:
    """A Pelaksana column of the SOP.

    ``id`` is the short slug activities refer to, ``name`` the column title as printed,
    ``role`` the code of the role (jabatan) that performs it in the database, and
    ``external`` is True for people outside the office (citizens, partners, mayor …).
    """

    id: str
    name: str
    role: str
    external: bool = False
    title: str = ""

    @property
    def label(self) -> str:
        """The text to print in a column header: the printed title, else the name."""
        return self.title or self.name


@dataclass(frozen=True, slots=True)
class Decision:
    """A yes/no question that ends an activity; targets are activity ids.

    A target that points to an earlier activity is a return (the file goes back).
    """

    question: str
    yes: str
    no: str
    yes_label: str = "Ya"
    no_label: str = "Tidak"

    def targets(self) -> tuple[str, str]:
        """Both targets, yes first."""
        return (self.yes, self.no)


@dataclass(frozen=True, slots=True)
class Recurrence:
    """An activity that repeats, e.g. monitoring every 6 months."""

    every: Duration


@dataclass(frozen=True, slots=True)
class Activity:
    """One numbered step of the SOP with its mutu baku (inputs, time, output).

    ``number`` is the number as printed ("1", "4b"); ``next`` is the id of the
    following activity, or None at an end. A decision activity uses ``decision``
    instead of ``next``. ``role`` names the role that performs the step when it is
    narrower than the executor column's role (e.g. the Ketua of the Tim SIJARLA);
    empty means the column's role.
    """

    id: str
    number: str
    text: str
    executor: str
    inputs: tuple[str, ...]
    duration: Duration
    output: str
    remarks: str = ""
    next: str | None = None
    decision: Decision | None = None
    recurrence: Recurrence | None = None
    role: str = ""

    @property
    def is_decision(self) -> bool:
        """True when the activity ends in a yes/no decision."""
        return self.decision is not None

    @property
    def is_end(self) -> bool:
        """True when no activity follows (a terminator of the flowchart)."""
        return self.decision is None and self.next is None

    def successors(self) -> tuple[str, ...]:
        """Ids of the activities that may follow this one (decision: yes then no)."""
        if self.decision is not None:
            return self.decision.targets()
        if self.next is not None:
            return (self.next,)
        return ()


@dataclass(frozen=True, slots=True)
class Approval:
    """Who approved (Disahkan oleh) the SOP: jabatan, name and NIP where printed."""

    position: str
    name: str = ""
    nip: str = ""
    rank: str = ""
    place: str = ""


@dataclass(frozen=True, slots=True)
class Identity:
    """The identity block of an SOP-AP document (PermenPAN-RB 35/2012).

    ``agency`` is the government (Pemerintah Kota Bima), ``unit`` the unit kerja (the
    Dinas), ``sections`` the Bidang/Seksi lines printed under it. Dates are kept as
    printed ("Januari 2020"). ``notes`` are the conditions printed under the table.
    """

    name: str
    agency: str
    unit: str
    sections: tuple[str, ...] = ()
    number: str = ""
    created: str = ""
    revised: str = ""
    effective: str = ""
    approved_on: str = ""
    approved_by: Approval | None = None
    legal_basis: tuple[str, ...] = ()
    qualifications: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    equipment: tuple[str, ...] = ()
    warning: str = ""
    records: tuple[str, ...] = ()
    purpose: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SOP:
    """One version of an SOP: identity, executors (columns) and activities in order.

    ``code`` is the stable slug (file name), ``office`` the region code of the issuing
    office, ``time_limit`` an overall limit for the whole procedure (SIJARLA: 3 days),
    ``source`` the file or label the definition was read from.
    """

    code: str
    version: str
    identity: Identity
    executors: tuple[Executor, ...]
    activities: tuple[Activity, ...]
    time_limit: Duration | None = None
    source: str = ""
    office: str = ""
    output: str = ""
    _activity_index: dict[str, Activity] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    _executor_index: dict[str, Executor] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        # The indexes are built once; the dataclass stays frozen for callers.
        for act in self.activities:
            self._activity_index.setdefault(act.id, act)
        for ex in self.executors:
            self._executor_index.setdefault(ex.id, ex)

    def activity(self, activity_id: str) -> Activity:
        """The activity with this id; KeyError names the id when there is none."""
        try:
            return self._activity_index[activity_id]
        except KeyError:
            raise KeyError(f"SOP {self.code!r} has no activity {activity_id!r}") from None

    def executor(self, executor_id: str) -> Executor:
        """The executor with this id; KeyError names the id when there is none."""
        try:
            return self._executor_index[executor_id]
        except KeyError:
            raise KeyError(f"SOP {self.code!r} has no executor {executor_id!r}") from None

    @property
    def start(self) -> Activity:
        """The first activity (where every case starts)."""
        return self.activities[0]

    def successors(self, activity_id: str) -> tuple[Activity, ...]:
        """The activities that may follow ``activity_id``."""
        return tuple(self.activity(t) for t in self.activity(activity_id).successors())

    @property
    def ends(self) -> tuple[Activity, ...]:
        """Activities after which the procedure is finished."""
        return tuple(a for a in self.activities if a.is_end)

    def executor_of(self, activity_id: str) -> Executor:
        """The executor (column) who performs ``activity_id``."""
        return self.executor(self.activity(activity_id).executor)

    def role_of(self, activity_id: str) -> str:
        """The role code that performs ``activity_id`` (its own, else its column's)."""
        act = self.activity(activity_id)
        return act.role or self.executor(act.executor).role

    def index(self, activity_id: str) -> int:
        """Position of the activity in the printed order (0-based)."""
        return self.activities.index(self.activity(activity_id))

    def is_return(self, source: str, target: str) -> bool:
        """True when the flow from ``source`` goes back to ``target`` (not later in order)."""
        return self.index(target) <= self.index(source)

    @property
    def roles(self) -> tuple[str, ...]:
        """Every role code the SOP needs, in column order, without repeats."""
        seen: dict[str, None] = {}
        for ex in self.executors:
            seen.setdefault(ex.role, None)
        for act in self.activities:
            if act.role:
                seen.setdefault(act.role, None)
        return tuple(seen)
