"""Loading definitions: every kind of bad input gives a Problem with file, line and field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sipadu.sop.engine import (
    DefinitionError,
    DurationKind,
    Problem,
    load_definition,
    load_directory,
    load_text,
)

SOURCE = "contoh.yaml"

# Line numbers matter below: the comments give them.
VALID = """\
code: contoh
version: "1"
office: "63.11"
time_limit: 3 hari
identity:
  name: Contoh
  agency: Pemerintah Contoh
  unit: Dinas Contoh
executors:
  - id: op
    name: Operator
    role: operator-layanan
  - id: kasi
    name: Kasi
    role: kasi-pelayanan
activities:
  - id: terima
    number: 1
    text: Terima berkas
    executor: op
    time: 5 menit
  - id: periksa
    number: 2
    text: Periksa berkas
    executor: kasi
    time: 10 menit
    decision:
      question: Sesuai?
      yes: serah
      no: terima
  - id: serah
    number: 3
    text: Serahkan
    executor: op
    time: 5 menit
"""
#      line 17: "- id: terima", 22: "- id: periksa", 31: "- id: serah"


def problems_of(text: str) -> list[str]:
    """The problems of a definition text, as printed."""
    with pytest.raises(DefinitionError) as caught:
        load_text(text, SOURCE)
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    return [str(p) for p in caught.value.problems]


def edit(old: str, new: str, text: str = VALID) -> str:
    """``text`` with ``old`` (which must occur exactly once) replaced by ``new``."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_valid_definition_loads() -> None:
    sop = load_text(VALID, SOURCE)
    assert sop.code == "contoh" and sop.version == "1" and sop.office == "63.11"
    assert sop.source == SOURCE
    assert [a.number for a in sop.activities] == ["1", "2", "3"]
    assert sop.activity("terima").next == "periksa"
    assert sop.activity("serah").is_end
    assert sop.time_limit is not None and sop.time_limit.kind is DurationKind.DAYS
    assert sop.identity.approved_by is None
    assert sop.identity.legal_basis == ()


# --- the bad-input kinds the issue names -------------------------------------------


def test_broken_yaml() -> None:
    assert problems_of(edit("  - id: serah\n", "  - id: [serah\n")) == [
        "contoh.yaml:32: broken YAML: expected ',' or ']', but got ':'"
    ]


def test_empty_file() -> None:
    assert problems_of("") == ["contoh.yaml: the file is empty"]
    assert problems_of("\n# nothing\n") == ["contoh.yaml: the file is empty"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "contoh.yaml:1: the file must be a mapping of fields, not list"),
        ("just words\n", "contoh.yaml:1: the file must be a mapping of fields, not text"),
    ],
)
def test_top_level_must_be_a_mapping(text: str, message: str) -> None:
    assert problems_of(text) == [message]


def test_wrong_types() -> None:
    text = edit("    name: Kasi\n", "    name: 12\n")
    text = edit('version: "1"\n', "version: [1]\n", text)
    text = edit(
        "    role: operator-layanan\n", "    role: operator-layanan\n    external: yes\n", text
    )
    assert problems_of(text) == [
        "contoh.yaml:2: version: must be text or a whole number, not list [1] (put it in quotes)",
        "contoh.yaml:13: executors[0].external: must be true or false, not text 'yes'",
        "contoh.yaml:15: executors[1].name: must be text, not number 12 (put it in quotes)",
    ]


def test_unknown_executor() -> None:
    assert problems_of(edit("    executor: kasi\n", "    executor: kasi2\n")) == [
        "contoh.yaml:13: executors[1].id: executor 'kasi' performs no activity",
        "contoh.yaml:25: activities[1].executor: unknown executor 'kasi2' (known: op, kasi)",
    ]


def test_dangling_decision_target() -> None:
    assert problems_of(edit("      no: terima\n", "      no: trima\n")) == [
        "contoh.yaml:30: activities[1].decision.no: unknown activity 'trima' "
        "(known: terima, periksa, serah)"
    ]


def test_dangling_next_target() -> None:
    text = edit("    time: 5 menit\n  - id: periksa", "    next: nowhere\n  - id: periksa")
    assert problems_of(text) == [
        "contoh.yaml:21: activities[0].next: unknown activity 'nowhere' "
        "(known: terima, periksa, serah)"
    ]


def test_unreachable_activity() -> None:
    text = edit("      yes: serah\n", "      yes: terima\n")
    text = edit("      no: terima\n", "      no: periksa\n", text)
    text = edit(
        "    time: 5 menit\n  - id: periksa",
        "    time: 5 menit\n    end: true\n  - id: periksa",
        text,
    )
    assert problems_of(text) == [
        "contoh.yaml:23: activities[1].id: activity 'periksa' cannot be reached from the start "
        "('terima')",
        "contoh.yaml:32: activities[2].id: activity 'serah' cannot be reached from the start "
        "('terima')",
    ]


def test_activity_with_no_path_to_an_end() -> None:
    # "periksa" only ever goes back to itself or to "terima": it never finishes.
    text = edit("      yes: serah\n", "      yes: terima\n")
    text = edit("      no: terima\n", "      no: periksa\n", text)
    text = edit("    number: 3\n", "    number: 3\n    end: true\n", text)
    text = edit(
        "    time: 5 menit\n  - id: periksa",
        "    time: 5 menit\n    next: serah\n  - id: periksa",
        text,
    )
    assert problems_of(text) == [
        "contoh.yaml:23: activities[1].id: activity 'periksa' cannot be reached from the start "
        "('terima')",
    ]
    text = edit("    next: serah\n", "    next: periksa\n", text)
    assert problems_of(text) == [
        "contoh.yaml:17: activities[0].id: activity 'terima' has no path to an end "
        "(the flow loops forever)",
        "contoh.yaml:23: activities[1].id: activity 'periksa' has no path to an end "
        "(the flow loops forever)",
        "contoh.yaml:32: activities[2].id: activity 'serah' cannot be reached from the start "
        "('terima')",
    ]


def test_procedure_without_any_end() -> None:
    text = edit("    text: Serahkan\n", "    text: Serahkan\n    next: terima\n")
    assert problems_of(text) == [
        "contoh.yaml:16: activities: the procedure has no end: every activity leads on"
    ]


def test_unknown_duration() -> None:
    assert problems_of(edit("    time: 10 menit\n", "    time: sepuluh menit\n")) == [
        "contoh.yaml:26: activities[1].time: unknown duration 'sepuluh menit' (write e.g. "
        "'5 menit', '1 jam', '2 hari', '6 bulan', 'Tentatif' or 'Jam kerja harian')"
    ]


def test_duplicate_ids_and_numbers() -> None:
    text = edit("  - id: serah\n    number: 3\n", "  - id: terima\n    number: 2\n")
    # With two activities called "terima", the flow is not checked: "serah" is now unknown.
    assert problems_of(text) == [
        "contoh.yaml:29: activities[1].decision.yes: unknown activity 'serah' "
        "(known: terima, periksa)",
        "contoh.yaml:31: activities[2].id: duplicate activity id 'terima' (first on line 17)",
        "contoh.yaml:32: activities[2].number: duplicate activity number '2' (first on line 23)",
    ]


def test_duplicate_executor_id() -> None:
    text = edit("  - id: kasi\n", "  - id: op\n")
    text = edit("    executor: kasi\n", "    executor: op\n", text)
    assert problems_of(text) == [
        "contoh.yaml:13: executors[1].id: duplicate executor id 'op' (first on line 10)"
    ]


# --- further structural and semantic problems --------------------------------------


def test_missing_and_unknown_fields() -> None:
    text = edit("  unit: Dinas Contoh\n", "  unt: Dinas Contoh\n")
    text = edit("    text: Serahkan\n", "", text)
    assert problems_of(text) == [
        "contoh.yaml:5: identity.unit: missing (required)",
        "contoh.yaml:8: identity.unt: unknown field (allowed here: agency, approved_by, "
        "approved_on, created, effective, equipment, legal_basis, name, notes, number, purpose, "
        "qualifications, records, related, revised, sections, unit, warning)",
        "contoh.yaml:31: activities[2].text: missing (required)",
    ]


def test_missing_top_level_fields_are_all_named() -> None:
    assert problems_of("code: contoh\n") == [
        "contoh.yaml:1: activities: missing (required)",
        "contoh.yaml:1: executors: missing (required)",
        "contoh.yaml:1: identity: missing (required)",
        "contoh.yaml:1: version: missing (required)",
    ]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "code: contoh\n",
            "code: Contoh_1\n",
            "contoh.yaml:1: code: 'Contoh_1' is not a short id of lowercase letters and digits "
            "joined by '-' (e.g. 'kasi-pelayanan')",
        ),
        (
            "code: contoh\n",
            f"code: {'a' * 65}\n",
            f"contoh.yaml:1: code: '{'a' * 65}' is too long",
        ),
        (
            'office: "63.11"\n',
            "office: 63.1a\n",
            "contoh.yaml:3: office: '63.1a' is not a region code such as '63.11' "
            "(Kepmendagri), in quotes",
        ),
        (
            "  unit: Dinas Contoh\n",
            '  unit: ""\n',
            "contoh.yaml:8: identity.unit: must not be empty",
        ),
    ],
)
def test_schema_messages_are_plain(old: str, new: str, problem: str) -> None:
    assert problems_of(edit(old, new)) == [problem]


def test_empty_lists_are_refused() -> None:
    text = VALID[: VALID.index("activities:")] + "activities: []\n"
    assert "contoh.yaml:16: activities: must not be empty" in problems_of(text)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "      no: terima\n",
            "      no: terima\n    next: serah\n",
            "contoh.yaml:31: activities[1].next: a decision activity cannot also have 'next'",
        ),
        (
            "      no: terima\n",
            "      no: terima\n    end: true\n",
            "contoh.yaml:31: activities[1].end: a decision activity cannot also have 'end'",
        ),
        (
            "      no: terima\n",
            "      no: serah\n",
            "contoh.yaml:27: activities[1].decision: both branches go to the same activity",
        ),
        (
            "    text: Terima berkas\n",
            "    text: Terima berkas\n    next: periksa\n    end: true\n",
            "contoh.yaml:21: activities[0].end: an end activity cannot also have 'next'",
        ),
        (
            "time_limit: 3 hari\n",
            "time_limit: Tentatif\n",
            "contoh.yaml:4: time_limit: a time limit needs an amount such as '3 hari', "
            "not 'Tentatif'",
        ),
        (
            "time_limit: 3 hari\n",
            "time_limit: tiga hari\n",
            "contoh.yaml:4: time_limit: unknown duration 'tiga hari' (write e.g. '5 menit', "
            "'1 jam', '2 hari', '6 bulan', 'Tentatif' or 'Jam kerja harian')",
        ),
        (
            "    number: 3\n",
            "    number: 3\n    every: Jam kerja harian\n",
            "contoh.yaml:33: activities[2].every: a recurrence needs an amount such as '3 hari', "
            "not 'Jam kerja harian'",
        ),
        (
            "    number: 3\n    text: Serahkan\n    executor: op\n    time: 5 menit\n",
            "    number: 3\n    text: Serahkan\n    executor: op\n    time: 6 bulan sekali\n"
            "    every: 6 bulan\n",
            "contoh.yaml:36: activities[2].every: recurrence given twice (in 'time' and in "
            "'every')",
        ),
    ],
)
def test_semantic_problems(old: str, new: str, problem: str) -> None:
    assert problems_of(edit(old, new)) == [problem]


def test_recurrence_and_roles_and_identity_details() -> None:
    text = edit(
        "    number: 3\n    text: Serahkan\n    executor: op\n    time: 5 menit\n",
        "    number: 3\n    text: Serahkan\n    executor: op\n    role: staf\n"
        "    time: 15 menit\n    every: 6 bulan\n",
    )
    text = edit(
        "  unit: Dinas Contoh\n",
        "  unit: Dinas Contoh\n  approved_by:\n    position: Kepala Dinas\n"
        '    nip: "19670311 199303 1 013"\n  legal_basis: [UU 24/2013]\n',
        text,
    )
    sop = load_text(text, SOURCE)
    last = sop.activity("serah")
    assert last.recurrence is not None and last.recurrence.every.amount == 6
    assert last.duration.minutes == 15
    assert sop.role_of("serah") == "staf"
    assert sop.identity.approved_by is not None
    assert sop.identity.approved_by.nip == "19670311 199303 1 013"
    assert sop.identity.legal_basis == ("UU 24/2013",)


def test_time_may_be_left_out() -> None:
    sop = load_text(edit("    time: 10 menit\n", ""), SOURCE)
    assert sop.activity("periksa").duration.text == ""
    assert not sop.activity("periksa").duration.has_standard


# --- files and directories --------------------------------------------------------


def test_load_definition_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "contoh.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert load_definition(path).source == str(path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a directory, not a file"),
        (lambda p: None, "no such file"),
        (lambda p: p.write_bytes(b"code: \xff\xfe\n"), "not UTF-8 text (bad byte at offset 6)"),
    ],
)
def test_unreadable_paths_are_problems(
    tmp_path: Path, make: Callable[[Path], object], message: str
) -> None:
    path = tmp_path / "x.yaml"
    make(path)
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    assert caught.value.problems == (Problem(str(path), None, "", message),)


def test_os_errors_are_problems(tmp_path: Path) -> None:
    path = tmp_path / ("x" * 300 + ".yaml")
    with pytest.raises(DefinitionError, match="cannot read: File name too long"):
        load_definition(path)


def test_load_directory_collects_problems_of_every_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "c.yaml").write_text("", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_directory(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / 'b.yaml'}: code: 'contoh' version '1' is also defined in "
        f"{tmp_path / 'a.yaml'}",
        f"{tmp_path / 'c.yaml'}: the file is empty",
    ]
    (tmp_path / "b.yaml").write_text(edit('version: "1"\n', 'version: "2"\n'), encoding="utf-8")
    (tmp_path / "c.yaml").unlink()
    assert [(s.code, s.version) for s in load_directory(tmp_path)] == [
        ("contoh", "1"),
        ("contoh", "2"),
    ]
