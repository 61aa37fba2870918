"""Step handlers: how domain apps attach behaviour to an activity of an SOP.

The runtime never imports a domain app. Instead an app registers, from its own module
(imported by its ``AppConfig.ready``), functions keyed by SOP code and activity id::

    from sipadu.sop.handlers import StepContext, StepRefused, check_complete, on_complete

    @check_complete("dik-jamila-mewa", "tte")
    def draft_must_exist(ctx: StepContext) -> None:
        if not DocumentRequest.objects.filter(case=ctx.case, draft__isnull=False).exists():
            raise StepRefused(_("Draf dokumen belum dibuat."))

    @on_complete("dik-jamila-mewa", "tte")
    def sign(ctx: StepContext) -> None:
        sign_document_of(ctx.case, signer=ctx.actor)

Checks run before anything is written and refuse the completion by raising
:class:`StepRefused` (its message reaches the officer). ``on_complete`` handlers run inside
the completing transaction after the task is marked done, so their writes commit or roll back
with it; anything slow or external should be scheduled with ``enqueue_on_commit``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sipadu.sop.models import Case, Task


class StepRefused(Exception):
    """Raised by a check handler to refuse a completion; ``message`` is shown to the officer."""

    def __init__(self, message: Any) -> None:
        self.message = str(message)
        super().__init__(self.message)


@dataclass(frozen=True)
class StepContext:
    """What a handler gets: the task being completed, its case, who acts and what they gave.

    ``outcome`` is "yes"/"no" for a decision, else "".
    """

    task: Task
    case: Case
    actor: Any
    output: str = ""
    notes: str = ""
    outcome: str = ""


Handler = Callable[[StepContext], None]

_checks: dict[tuple[str, str], list[Handler]] = defaultdict(list)
_actions: dict[tuple[str, str], list[Handler]] = defaultdict(list)
#: Run when a case of an SOP is cancelled: ``func(case, actor)`` (SOP code → functions).
_cancels: dict[str, list[Callable[[Any, Any], None]]] = defaultdict(list)


def on_cancel(sop_code: str) -> Callable[[Callable[[Any, Any], None]], Callable[[Any, Any], None]]:
    """Decorator: run ``func(case, actor)`` in the transaction that cancels a case of the SOP
    (a domain app closes what it keeps for the case, e.g. a citizen's request)."""

    def wrap(func: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        if func not in _cancels[sop_code]:
            _cancels[sop_code].append(func)
        return func

    return wrap


def run_on_cancel(sop_code: str, case: Any, actor: Any) -> None:
    """Run the cancel handlers of the case's SOP in registration order."""
    for func in tuple(_cancels.get(sop_code, ())):
        func(case, actor)


def _register(
    table: dict[tuple[str, str], list[Handler]], sop_code: str, activity_id: str
) -> Callable[[Handler], Handler]:
    def wrap(func: Handler) -> Handler:
        # Registering twice (a module imported again) must not run the handler twice.
        if func not in table[(sop_code, activity_id)]:
            table[(sop_code, activity_id)].append(func)
        return func

    return wrap


def check_complete(sop_code: str, activity_id: str) -> Callable[[Handler], Handler]:
    """Decorator: run ``func(ctx)`` before completing the activity; raise StepRefused to refuse."""
    return _register(_checks, sop_code, activity_id)


def on_complete(sop_code: str, activity_id: str) -> Callable[[Handler], Handler]:
    """Decorator: run ``func(ctx)`` in the completing transaction, after the task is done."""
    return _register(_actions, sop_code, activity_id)


def run_checks(sop_code: str, ctx: StepContext) -> None:
    """Run every check of the activity in registration order (the first refusal wins)."""
    for func in tuple(_checks.get((sop_code, ctx.task.activity_id), ())):
        func(ctx)


def run_on_complete(sop_code: str, ctx: StepContext) -> None:
    """Run every completion handler of the activity in registration order."""
    for func in tuple(_actions.get((sop_code, ctx.task.activity_id), ())):
        func(ctx)


def registered(sop_code: str, activity_id: str) -> tuple[tuple[Handler, ...], tuple[Handler, ...]]:
    """The (checks, completion handlers) registered for an activity."""
    key = (sop_code, activity_id)
    return tuple(_checks.get(key, ())), tuple(_actions.get(key, ()))


def unregister(func: Handler) -> None:
    """Remove ``func`` wherever it is registered (for tests and plugin reloads)."""
    for table in (_checks, _actions):
        for funcs in table.values():
            while func in funcs:
                funcs.remove(func)


@contextmanager
def temporary(kind: str, sop_code: str, activity_id: str, func: Handler) -> Iterator[Handler]:
    """Register ``func`` as a ``"check"`` or ``"complete"`` handler for a ``with`` block."""
    decorator = check_complete if kind == "check" else on_complete
    decorator(sop_code, activity_id)(func)
    try:
        yield func
    finally:
        unregister(func)
