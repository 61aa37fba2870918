"""The SOP engine core: pure Python, no Django, no domain apps.

Read a definition with :func:`load_definition` (a file) or :func:`load_text` (a
string); both return an immutable :class:`SOP` or raise :class:`DefinitionError`
listing every :class:`Problem` found. :func:`load_directory` loads the shipped
definitions (``sipadu/sop/definitions/*.yaml``).
"""

from sipadu.sop.engine.durations import DurationError, parse_duration, parse_time
from sipadu.sop.engine.errors import DefinitionError, Problem
from sipadu.sop.engine.graph import Edge, edges
from sipadu.sop.engine.loader import (
    DEFINITIONS_DIR,
    definition_files,
    load_definition,
    load_directory,
    load_text,
)
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
    "DEFINITIONS_DIR",
    "SOP",
    "Activity",
    "Approval",
    "Decision",
    "DefinitionError",
    "Duration",
    "DurationError",
    "DurationKind",
    "Edge",
    "Executor",
    "Identity",
    "Problem",
    "Recurrence",
    "definition_files",
    "edges",
    "load_definition",
    "load_directory",
    "load_text",
    "parse_duration",
    "parse_time",
]
