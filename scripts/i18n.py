"""Refresh the translation catalogues.

UI text is written in Indonesian in the source, so the Indonesian catalogue maps each string to
itself (filled here) and the English catalogue carries the translations. Run via `make messages`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sipadu"
SIPADU = [sys.executable, "-m", "sipadu.cli"]


def join_continuations(path: Path) -> None:
    """Write every msgid/msgstr on one line (``\\n`` escapes inside), as polib splits strings
    that contain newlines; one line per string keeps simple line-based checks honest."""
    out: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        previous = out[-1] if out else ""
        if line.startswith('"') and previous.startswith(("msgid", "msgstr")):
            out[-1] = previous[:-1] + line[1:]
            continue
        out.append(line)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def main() -> int:
    subprocess.run(
        [
            *SIPADU,
            "makemessages",
            "-l",
            "id",
            "-l",
            "en",
            "--no-obsolete",
            "--no-location",
            "--ignore",
            "*/tests/*",
            "--ignore",
            "bench/*",
        ],
        cwd=PACKAGE,
        check=True,
    )
    # No wrapping: one line per msgid/msgstr keeps the catalogues easy to diff and check.
    po_id = polib.pofile(str(PACKAGE / "locale/id/LC_MESSAGES/django.po"), wrapwidth=0)
    po_id.metadata_is_fuzzy = False
    po_id.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    po_id.metadata["Language"] = "id"
    for entry in po_id:
        if entry.msgid_plural:
            entry.msgstr_plural = {0: entry.msgid_plural}
        elif not entry.msgstr:
            entry.msgstr = entry.msgid
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
            entry.msgstr = entry.msgid
    po_id.save()
    po_en = polib.pofile(str(PACKAGE / "locale/en/LC_MESSAGES/django.po"), wrapwidth=0)
    po_en.metadata_is_fuzzy = False
    po_en.metadata["Language"] = "en"
    missing = [e.msgid for e in po_en if not e.translated()]
    po_en.save()
    for lang in ("id", "en"):
        join_continuations(PACKAGE / f"locale/{lang}/LC_MESSAGES/django.po")
    subprocess.run([*SIPADU, "compilemessages", "--ignore", ".venv"], cwd=PACKAGE, check=True)
    print(
        f"id: {len(po_id)} entries; en: {len(po_en) - len(missing)} translated, "
        f"{len(missing)} to translate"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
