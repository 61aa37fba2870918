"""The flow of an SOP as a directed graph: edges, reachability, returns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sipadu.sop.engine.model import SOP


@dataclass(frozen=True, slots=True)
class Edge:
    """One arrow of the flowchart; ``label`` is "Ya"/"Tidak" on decision branches."""

    source: str
    target: str
    label: str
    is_return: bool


def reachable(adjacency: Mapping[str, Iterable[str]], start: str) -> set[str]:
    """Ids reachable from ``start`` (itself included) following the arrows."""
    seen = {start}
    stack = [start]
    while stack:
        for target in adjacency.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def reaching(adjacency: Mapping[str, Iterable[str]], targets: Iterable[str]) -> set[str]:
    """Ids from which at least one of ``targets`` can be reached (targets included)."""
    reverse: dict[str, list[str]] = {}
    for source, successors in adjacency.items():
        for target in successors:
            reverse.setdefault(target, []).append(source)
    found: set[str] = set()
    for target in targets:
        found |= reachable(reverse, target)
    return found


def edges(sop: SOP) -> tuple[Edge, ...]:
    """Every arrow of the SOP in printed order; decision branches yes first."""
    out: list[Edge] = []
    for act in sop.activities:
        if act.decision is not None:
            dec = act.decision
            for target, label in ((dec.yes, dec.yes_label), (dec.no, dec.no_label)):
                out.append(Edge(act.id, target, label, sop.is_return(act.id, target)))
        elif act.next is not None:
            out.append(Edge(act.id, act.next, "", sop.is_return(act.id, act.next)))
    return tuple(out)


def adjacency(sop: SOP) -> dict[str, tuple[str, ...]]:
    """The successors of every activity, keyed by id."""
    return {act.id: act.successors() for act in sop.activities}
