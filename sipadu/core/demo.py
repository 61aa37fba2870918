"""Demo data: apps register loading steps; ``sipadu demo`` runs them in order.

Each step is idempotent (running the demo twice does not duplicate anything) and returns
lines to print at the end (for example the log-ins it created).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

DEMO_PASSWORD = "demo-sipadu-2026"  # noqa: S105 - printed to the person running the demo


@dataclass(frozen=True)
class DemoStep:
    """A named, ordered loader of demo data."""

    name: str
    order: int
    run: Callable[[Callable[[str], None]], list[str]]


_STEPS: dict[str, DemoStep] = {}


def register(
    name: str, order: int
) -> Callable[[Callable[..., list[str]]], Callable[..., list[str]]]:
    """Decorator: register ``func(progress)`` as the demo step ``name``."""

    def wrap(func: Callable[..., list[str]]) -> Callable[..., list[str]]:
        _STEPS[name] = DemoStep(name, order, func)
        return func

    return wrap


def steps() -> list[DemoStep]:
    return sorted(_STEPS.values(), key=lambda s: s.order)
