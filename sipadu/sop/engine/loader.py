"""Public entry points: read a definition from text, a file or a directory."""

from __future__ import annotations

from pathlib import Path

from sipadu.sop.engine.errors import DefinitionError, Problem
from sipadu.sop.engine.model import SOP
from sipadu.sop.engine.reader import LineDict, kind_of, read_yaml
from sipadu.sop.engine.schema import check_schema
from sipadu.sop.engine.validation import build_sop

#: Where the shipped definitions live (inside the package, next to the engine).
DEFINITIONS_DIR = Path(__file__).resolve().parent.parent / "definitions"


def load_text(text: str, source: str = "<text>") -> SOP:
    """Read a definition from YAML text; ``source`` names it in problems.

    Raises :class:`DefinitionError` listing every problem found.
    """
    data, problems = read_yaml(text, source)
    if problems:
        raise DefinitionError(problems)
    if data is None:
        raise DefinitionError([Problem(source, None, "", "the file is empty")])
    if not isinstance(data, LineDict):
        raise DefinitionError(
            [Problem(source, 1, "", f"the file must be a mapping of fields, not {kind_of(data)}")]
        )
    problems = check_schema(data, source)
    if problems:
        raise DefinitionError(problems)
    return build_sop(data, source)


def load_definition(path: str | Path) -> SOP:
    """Read a definition file. A missing file or a directory is a problem, not a crash."""
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise DefinitionError([Problem(source, None, "", "is a directory, not a file")]) from None
    except FileNotFoundError:
        raise DefinitionError([Problem(source, None, "", "no such file")]) from None
    except OSError as exc:
        raise DefinitionError([Problem(source, None, "", f"cannot read: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DefinitionError(
            [Problem(source, None, "", f"not UTF-8 text (bad byte at offset {exc.start})")]
        ) from None
    return load_text(text, source)


def definition_files(directory: str | Path = DEFINITIONS_DIR) -> tuple[Path, ...]:
    """The ``*.yaml`` files of a directory, sorted by name."""
    return tuple(sorted(Path(directory).glob("*.yaml")))


def load_directory(directory: str | Path = DEFINITIONS_DIR) -> tuple[SOP, ...]:
    """Load every definition of a directory (the shipped ones by default).

    Raises one :class:`DefinitionError` with the problems of all files, including two
    files that declare the same code and version.
    """
    sops: list[SOP] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], str] = {}
    for path in definition_files(directory):
        try:
            sop = load_definition(path)
        except DefinitionError as exc:
            problems.extend(exc.problems)
            continue
        key = (sop.code, sop.version)
        if key in seen:
            problems.append(
                Problem(
                    str(path),
                    None,
                    "code",
                    f"{sop.code!r} version {sop.version!r} is also defined in {seen[key]}",
                )
            )
            continue
        seen[key] = str(path)
        sops.append(sop)
    if problems:
        raise DefinitionError(problems)
    return tuple(sops)
