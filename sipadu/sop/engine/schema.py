"""Check a definition's structure against the packaged JSON Schema (draft 2020-12).

jsonschema's own messages ("'x' is not of type 'string'") are rewritten in plain
words, and every problem carries the line and field it is about.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from sipadu.sop.engine.errors import Problem
from sipadu.sop.engine.reader import LineDict, LineList, kind_of

_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of fields",
}


@cache
def definition_schema() -> dict[str, Any]:
    """The JSON Schema of a definition file (loaded once from ``schema.json``)."""
    text = resources.files("sipadu.sop.engine").joinpath("schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(definition_schema())


def field_path(path: Sequence[str | int]) -> str:
    """Format a path as people read it: ``activities[3].decision.yes``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def line_of(data: Any, path: Sequence[str | int]) -> int | None:
    """The line of the value at ``path``; the nearest enclosing line when it is absent."""
    line: int | None = getattr(data, "line", None)
    node = data
    for part in path:
        if not isinstance(node, LineDict | LineList):
            return line
        try:
            # LineDict.lines is keyed like the mapping, LineList.lines indexed like the list.
            line = node.lines[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return line
        node = node[part]  # type: ignore[index]
    return line


def _key_line(data: Any, path: Sequence[str | int], key: str) -> int | None:
    # The line of the key itself, for problems about a field that is present.
    return line_of(data, [*path, key])


def _expected(types: str | list[str]) -> str:
    names = [types] if isinstance(types, str) else types
    return " or ".join(_TYPE_WORDS.get(t, t) for t in names)


def _problems(error: ValidationError, data: Any, source: str) -> Iterator[Problem]:
    path = list(error.absolute_path)
    value: Any = error.instance
    expected: Any = error.validator_value
    field = field_path(path)
    line = line_of(data, path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required":
        # jsonschema reports each missing name as its own error without naming it;
        # naming them all here and removing repeats in check_schema is simpler.
        for name in expected:
            if name not in value:
                yield Problem(source, line, field_path([*path, name]), "missing (required)")
    elif error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        for name in value:
            if name not in allowed:
                yield Problem(
                    source,
                    _key_line(data, path, name),
                    field_path([*path, name]),
                    f"unknown field (allowed here: {', '.join(allowed)})",
                )
    elif error.validator == "type":
        hint = " (put it in quotes)" if "string" in expected else ""
        yield Problem(
            source,
            line,
            field,
            f"must be {_expected(expected)}, not {kind_of(value)} {value!r}{hint}",
        )
    elif error.validator == "pattern":
        yield Problem(source, line, field, f"{value!r} is not {schema['description']}")
    elif error.validator in {"minItems", "minLength"}:
        yield Problem(source, line, field, "must not be empty")
    else:
        yield Problem(source, line, field, error.message)


def check_schema(data: Any, source: str) -> list[Problem]:
    """Every structural problem of ``data`` (as returned by the reader), in file order."""
    problems: dict[Problem, None] = {}
    for error in _validator().iter_errors(data):
        problems.update(dict.fromkeys(_problems(error, data, source)))
    return sorted(problems, key=lambda p: (p.line or 0, p.field))
