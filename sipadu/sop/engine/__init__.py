"""The SOP engine core: pure Python, no Django, no domain apps.

Read a definition with :func:`load_definition` (a file) or :func:`load_text` (a
string); both return an immutable :class:`SOP` or raise :class:`DefinitionError`
listing every :class:`Problem` found.
"""

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

__all__ = [
    "SOP",
    "Activity",
    "Approval",
    "Decision",
    "Duration",
    "DurationKind",
    "Executor",
    "Identity",
    "Recurrence",
]
