"""Safe YAML reading: YAML 1.2 booleans, no aliases, duplicate keys, line numbers."""

from __future__ import annotations

import yaml

from sipadu.sop.engine.reader import LineDict, LineList, kind_of, mark_line, read_yaml
from sipadu.sop.engine.schema import field_path, line_of


def test_yes_no_on_off_stay_words() -> None:
    data, problems = read_yaml("a: yes\nb: No\nc: on\nd: OFF\ne: true\nf: False\n", "f.yaml")
    assert problems == []
    assert data == {"a": "yes", "b": "No", "c": "on", "d": "OFF", "e": True, "f": False}


def test_numbers_dates_and_codes_keep_their_spelling() -> None:
    data, _ = read_yaml("a: 63.10\nb: 2020-04-01\nc: 0x1F\nd: 010\ne: 12\nf: -3\ng: 1:20\n", "f")
    assert data == {
        "a": "63.10",
        "b": "2020-04-01",
        "c": "0x1F",
        "d": "010",
        "e": 12,
        "f": -3,
        "g": "1:20",
    }


def test_lines_of_keys_and_items_are_recorded() -> None:
    data, _ = read_yaml("top: 1\nlist:\n  - x\n  - k: v\n    m: w\n", "f")
    assert isinstance(data, LineDict) and data.lines == {"top": 1, "list": 2}
    items = data["list"]
    assert isinstance(items, LineList) and items.lines == [3, 4]
    assert items[1].lines == {"k": 4, "m": 5}
    assert line_of(data, ["list", 1, "m"]) == 5


def test_aliases_are_refused_with_their_line() -> None:
    data, problems = read_yaml("a: &x [1, 2]\nb: *x\n", "f.yaml")
    assert data is None
    assert [str(p) for p in problems] == [
        "f.yaml:2: broken YAML: anchors and aliases (&name, *name) are not allowed"
    ]


def test_duplicate_keys_are_reported() -> None:
    data, problems = read_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert data == {"a": 1, "b": 2}
    assert [str(p) for p in problems] == ["f.yaml:3: a: duplicate key (first given on line 1)"]


def test_keys_must_be_words() -> None:
    _, problems = read_yaml("1: x\n", "f.yaml")
    assert [str(p) for p in problems] == ["f.yaml:1: key 1 must be a word, not a number"]


def test_broken_yaml_names_the_line() -> None:
    data, problems = read_yaml("a: 1\nb: [1, 2\nc: 3\n", "f.yaml")
    assert data is None
    assert len(problems) == 1
    assert problems[0].line == 3 and problems[0].message.startswith("broken YAML: ")


def test_python_tags_are_not_executed() -> None:
    data, problems = read_yaml("a: !!python/object/apply:os.system ['true']\n", "f.yaml")
    assert data is None
    assert problems[0].line == 1
    assert "could not determine a constructor" in problems[0].message


def test_control_characters_are_reported_with_their_line() -> None:
    data, problems = read_yaml("a: 1\nb: x\x07y\n", "f.yaml")
    assert data is None
    assert [str(p) for p in problems] == ["f.yaml:2: broken YAML: character '\\x07' is not allowed"]


def test_empty_text_reads_as_nothing() -> None:
    assert read_yaml("", "f") == (None, [])
    assert read_yaml("# only a comment\n", "f") == (None, [])


def test_mark_line() -> None:
    assert mark_line(None) is None
    assert mark_line(yaml.Mark("f", 0, 4, 0, None, 0)) == 5


def test_kind_of_names_types_in_plain_words() -> None:
    values: tuple[object, ...] = (None, True, 3, "x", [], {}, 1.5)
    assert [kind_of(v) for v in values] == [
        "empty value",
        "true/false",
        "number",
        "text",
        "list",
        "mapping",
        "float",
    ]


def test_field_path_and_line_of_fall_back_to_the_nearest_line() -> None:
    assert field_path(["activities", 3, "decision", "yes"]) == "activities[3].decision.yes"
    assert field_path([]) == ""
    data, _ = read_yaml("a:\n  - x\n  - y\nb: 2\n", "f")
    assert line_of(data, ["a", 7]) == 1  # index out of range: the list's key line
    assert line_of(data, ["a", "k"]) == 1  # a word used on a list
    assert line_of(data, ["c"]) == 1  # absent key: the mapping's line
    assert line_of(data, ["b", "deeper"]) == 4  # inside a plain value
    assert line_of({"plain": 1}, ["plain"]) is None


def test_absurd_nesting_is_a_problem_not_a_crash() -> None:
    data, problems = read_yaml("a: " + "[" * 5000 + "]" * 5000 + "\n", "f.yaml")
    assert data is None
    assert [str(p) for p in problems] == ["f.yaml: broken YAML: nested too deeply"]
