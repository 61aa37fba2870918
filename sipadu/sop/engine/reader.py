"""Safe YAML reading that remembers where every value came from.

The loader is a :class:`yaml.SafeLoader` restricted to what a definition needs:

* only ``true``/``false`` are booleans (YAML 1.2), so ``yes``, ``no``, ``on`` and
  ``off`` stay strings — a decision label "No" must not become ``False``;
* only plain decimal numbers are integers; floats and dates stay strings, so a region
  code ``63.10`` or a date ``2020-04-01`` keeps its exact spelling;
* anchors, aliases and duplicate keys are refused (they only hide mistakes);
* every mapping and sequence records the line of each key or item, so problems can
  name the line a reviewer must fix.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from sipadu.sop.engine.errors import Problem

_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_DROPPED_TAGS = {_BOOL_TAG, _INT_TAG, "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}


class LineDict(dict[str, Any]):
    """A mapping read from YAML; ``line`` is where it starts, ``lines`` where each key is."""

    line: int
    lines: dict[str, int]


class LineList(list[Any]):
    """A sequence read from YAML; ``line`` is where it starts, ``lines`` where each item is."""

    line: int
    lines: list[int]


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans, decimal-only integers and line tracking."""

    problems: list[Problem]
    source: str

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Refuse aliases where they appear (they could also expand exponentially)."""
        if self.check_event(yaml.AliasEvent):
            mark: yaml.Mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not allowed", mark
            )
        return super().compose_node(parent, index)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    _INT_TAG, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    data = LineDict()
    data.line = node.start_mark.line + 1
    data.lines = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            # A key such as `1:` or `true:` is almost always a typo; keep it readable.
            loader.problems.append(
                Problem(
                    loader.source, line, "", f"key {key!r} must be a word, not a {kind_of(key)}"
                )
            )
            key = str(key)
        if key in data:
            loader.problems.append(
                Problem(
                    loader.source,
                    line,
                    key,
                    f"duplicate key (first given on line {data.lines[key]})",
                )
            )
            continue
        data[key] = loader.construct_object(value_node, deep=True)
        data.lines[key] = line
    return data


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    data = LineList()
    data.line = node.start_mark.line + 1
    data.lines = []
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.lines.append(item.start_mark.line + 1)
    return data


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def kind_of(value: object) -> str:
    """How the type of a YAML value reads to a person ("text", "list", "number" …)."""
    if value is None:
        return "empty value"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def mark_line(mark: yaml.Mark | None) -> int | None:
    """The 1-based line of a YAML error mark (None when the error has no position)."""
    return None if mark is None else mark.line + 1


def read_yaml(text: str, source: str) -> tuple[Any, list[Problem]]:
    """Parse ``text`` (named ``source`` in messages) and return (data, problems).

    ``data`` is None when the text is not valid YAML; the problems then say where
    and why, in one line each. Mappings are :class:`LineDict`, sequences :class:`LineList`.
    """
    try:
        # The reader checks for forbidden characters as soon as the loader is built.
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        message = f"broken YAML: character {chr(exc.character)!r} is not allowed"
        return None, [Problem(source, line, "", message)]
    loader.problems = []
    loader.source = source
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        what = exc.problem or exc.context or "invalid YAML"
        mark_at = mark_line(exc.problem_mark or exc.context_mark)
        return None, [Problem(source, mark_at, "", f"broken YAML: {what}")]
    except RecursionError:
        # PyYAML composes recursively; absurd nesting must not crash the caller.
        return None, [Problem(source, None, "", "broken YAML: nested too deeply")]
    finally:
        loader.dispose()
    return data, loader.problems
