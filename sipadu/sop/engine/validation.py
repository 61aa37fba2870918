"""Semantic checks of a definition and its conversion into the frozen model.

The JSON Schema has already checked the shape; here we check meaning: ids are
unique, every reference points at something that exists, durations are words we
understand, every activity can be reached from the start and can reach an end.
All problems are collected before giving up, so one run shows everything to fix.
"""

from __future__ import annotations

from typing import Any

from sipadu.sop.engine.durations import DurationError, parse_duration, parse_time
from sipadu.sop.engine.errors import DefinitionError, Problem
from sipadu.sop.engine.graph import reachable, reaching
from sipadu.sop.engine.model import (
    SOP,
    Activity,
    Approval,
    Decision,
    Duration,
    DurationKind,
    Executor,
    Identity,
    Recurrence,
)
from sipadu.sop.engine.schema import field_path, line_of

#: The duration of a step whose SOP prints no time at all (e.g. SIJARLA).
NO_TIME = Duration(DurationKind.TENTATIVE, 0, "")


class _Checker:
    """Collects problems while turning schema-valid data into an :class:`SOP`."""

    def __init__(self, data: Any, source: str) -> None:
        self.data = data
        self.source = source
        self.problems: list[Problem] = []

    def add(self, path: list[str | int], message: str) -> None:
        self.problems.append(
            Problem(self.source, line_of(self.data, path), field_path(path), message)
        )

    def unique(self, collection: str, kind: str, key: str = "id") -> dict[str, int]:
        """Map each ``key`` of ``data[collection]`` to its index, reporting repeats."""
        first: dict[str, int] = {}
        for i, item in enumerate(self.data[collection]):
            value = str(item[key])
            if value in first:
                where = line_of(self.data, [collection, first[value], key])
                self.add(
                    [collection, i, key],
                    f"duplicate {kind} {key} {value!r} (first on line {where})",
                )
            else:
                first[value] = i
        return first

    def time(self, path: list[str | int], text: str) -> tuple[Duration, Recurrence | None]:
        try:
            return parse_time(text)
        except DurationError as exc:
            self.add(path, str(exc))
            return NO_TIME, None

    def standard(self, path: list[str | int], text: str, what: str) -> Duration | None:
        """A duration that must be measurable (a time limit, a recurrence period)."""
        try:
            duration = parse_duration(text)
        except DurationError as exc:
            self.add(path, str(exc))
            return None
        if not duration.has_standard:
            self.add(path, f"{what} needs an amount such as '3 hari', not {text!r}")
            return None
        return duration

    def target(self, path: list[str | int], target: str, known: dict[str, int]) -> bool:
        if target in known:
            return True
        self.add(path, f"unknown activity {target!r} (known: {', '.join(known)})")
        return False


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(value or ())


def _identity(data: dict[str, Any]) -> Identity:
    approved = data.get("approved_by")
    approval = None
    if approved is not None:
        approval = Approval(
            position=approved["position"],
            name=approved.get("name", ""),
            nip=approved.get("nip", ""),
            rank=approved.get("rank", ""),
            place=approved.get("place", ""),
        )
    return Identity(
        name=data["name"],
        agency=data["agency"],
        unit=data["unit"],
        sections=_texts(data.get("sections")),
        number=data.get("number", ""),
        created=data.get("created", ""),
        revised=data.get("revised", ""),
        effective=data.get("effective", ""),
        approved_on=data.get("approved_on", ""),
        approved_by=approval,
        legal_basis=_texts(data.get("legal_basis")),
        qualifications=_texts(data.get("qualifications")),
        related=_texts(data.get("related")),
        equipment=_texts(data.get("equipment")),
        warning=data.get("warning", ""),
        records=_texts(data.get("records")),
        purpose=data.get("purpose", ""),
        notes=_texts(data.get("notes")),
    )


def build_sop(data: Any, source: str) -> SOP:
    """Check the meaning of schema-valid ``data`` and return the :class:`SOP`.

    Raises :class:`DefinitionError` listing every semantic problem.
    """
    check = _Checker(data, source)
    raw_executors: list[Any] = data["executors"]
    raw_activities: list[Any] = data["activities"]
    executor_ids = check.unique("executors", "executor")
    activity_ids = check.unique("activities", "activity")
    check.unique("activities", "activity", key="number")

    activities: list[Activity] = []
    used_executors: set[str] = set()
    targets_ok = True
    for i, raw in enumerate(raw_activities):
        here: list[str | int] = ["activities", i]
        executor = raw["executor"]
        used_executors.add(executor)
        if executor not in executor_ids:
            check.add(
                [*here, "executor"],
                f"unknown executor {executor!r} (known: {', '.join(executor_ids)})",
            )
        duration, recurrence = NO_TIME, None
        if "time" in raw:
            duration, recurrence = check.time([*here, "time"], raw["time"])
        if "every" in raw:
            if recurrence is not None:
                check.add([*here, "every"], "recurrence given twice (in 'time' and in 'every')")
            every = check.standard([*here, "every"], raw["every"], "a recurrence")
            recurrence = Recurrence(every) if every is not None else recurrence

        decision = None
        nxt: str | None = None
        raw_decision = raw.get("decision")
        if raw_decision is not None:
            for clash in ("next", "end"):
                if clash in raw:
                    check.add([*here, clash], f"a decision activity cannot also have '{clash}'")
            for branch in ("yes", "no"):
                targets_ok &= check.target(
                    [*here, "decision", branch], raw_decision[branch], activity_ids
                )
            if raw_decision["yes"] == raw_decision["no"]:
                check.add([*here, "decision"], "both branches go to the same activity")
            decision = Decision(
                question=raw_decision["question"],
                yes=raw_decision["yes"],
                no=raw_decision["no"],
                yes_label=raw_decision.get("yes_label", "Ya"),
                no_label=raw_decision.get("no_label", "Tidak"),
            )
        elif "next" in raw:
            if raw.get("end"):
                check.add([*here, "end"], "an end activity cannot also have 'next'")
            nxt = raw["next"]
            targets_ok &= check.target([*here, "next"], raw["next"], activity_ids)
        elif not raw.get("end") and i + 1 < len(raw_activities):
            # Without 'next', the flow goes on to the activity printed below.
            nxt = str(raw_activities[i + 1]["id"])

        activities.append(
            Activity(
                id=raw["id"],
                number=str(raw["number"]),
                text=raw["text"],
                executor=executor,
                inputs=_texts(raw.get("inputs")),
                duration=duration,
                output=raw.get("output", ""),
                remarks=raw.get("remarks", ""),
                next=nxt,
                decision=decision,
                recurrence=recurrence,
                role=raw.get("role", ""),
            )
        )

    for i, raw in enumerate(raw_executors):
        if raw["id"] not in used_executors:
            check.add(["executors", i, "id"], f"executor {raw['id']!r} performs no activity")

    # The flow is only meaningful once every arrow lands somewhere.
    if targets_ok and len(activity_ids) == len(activities):
        _check_flow(check, activities)

    time_limit = None
    if "time_limit" in data:
        time_limit = check.standard(["time_limit"], data["time_limit"], "a time limit")

    if check.problems:
        raise DefinitionError(sorted(check.problems, key=lambda p: (p.line or 0, p.field)))
    return SOP(
        code=data["code"],
        version=str(data["version"]),
        identity=_identity(data["identity"]),
        executors=tuple(
            Executor(
                id=raw["id"],
                name=raw["name"],
                role=raw["role"],
                external=raw.get("external", False),
                title=raw.get("title", ""),
            )
            for raw in raw_executors
        ),
        activities=tuple(activities),
        time_limit=time_limit,
        source=source,
        office=data.get("office", ""),
        output=data.get("output", ""),
    )


def _check_flow(check: _Checker, activities: list[Activity]) -> None:
    adjacency = {act.id: act.successors() for act in activities}
    start = activities[0].id
    seen = reachable(adjacency, start)
    ends = [act.id for act in activities if act.is_end]
    finishing = reaching(adjacency, ends)
    if not ends:
        check.add(["activities"], "the procedure has no end: every activity leads on")
        return
    for i, act in enumerate(activities):
        if act.id not in seen:
            check.add(
                ["activities", i, "id"],
                f"activity {act.id!r} cannot be reached from the start ({start!r})",
            )
        elif act.id not in finishing:
            check.add(
                ["activities", i, "id"],
                f"activity {act.id!r} has no path to an end (the flow loops forever)",
            )
