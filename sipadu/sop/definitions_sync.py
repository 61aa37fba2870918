"""Load the SOP definition files and the shipped holiday list into the database.

:func:`sync_definitions` reads every ``*.yaml`` of a directory (the shipped definitions by
default). A file whose text is already the current revision is a no-op; a changed text
becomes a new :class:`~sipadu.sop.models.SopRevision` and the definition's current one.
Running cases keep the revision they started on. :func:`sync_holidays` adds the shipped
national holidays that are not in the database yet (edits made in the admin are kept).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max

from sipadu.audit.services import record_event
from sipadu.sop.engine import DEFINITIONS_DIR, DefinitionError, definition_files, load_text
from sipadu.sop.engine.holidays import load_holidays
from sipadu.sop.models import Holiday, SopDefinition, SopRevision


@dataclass
class SyncReport:
    """What a sync did: codes with a new revision, codes unchanged, files with problems."""

    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        parts = [f"{len(self.created)} new revision(s)", f"{len(self.unchanged)} unchanged"]
        if self.errors:
            parts.append(f"{len(self.errors)} file(s) refused")
        return ", ".join(parts)


def reference_prefix(code: str) -> str:
    """A default case-number prefix: the initials of the code's words (dik-jamila-mewa → DJM)."""
    words = [w for w in re.split(r"[^a-z0-9]+", code.lower()) if w]
    initials = "".join(w[0] for w in words)[:4].upper()
    return initials if len(initials) >= 2 else code[:3].upper()


def version_key(version: str) -> tuple[Any, ...]:
    """Sort key of a version: "2020" < "2022" < "2022.1" (number parts compared as numbers)."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", version))


@transaction.atomic
def sync_text(text: str, *, source: str = "", actor: Any = None) -> tuple[SopRevision, bool]:
    """Store one definition text; returns (its revision, whether a new one was created).

    Raises :class:`DefinitionError` when the text is not a valid definition. A text already
    stored for the code (e.g. a file reverted to an earlier version) becomes current again
    without a new revision.
    """
    sop = load_text(text, source or "<text>")
    content_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    definition, _created = SopDefinition.objects.select_for_update().get_or_create(
        code=sop.code,
        defaults={"name": sop.identity.name, "prefix": reference_prefix(sop.code)},
    )
    existing = SopRevision.objects.filter(definition=definition, content_hash=content_hash).first()
    if existing is not None:
        if definition.current_id != existing.pk:
            definition.current = existing
            definition.save(update_fields=["current"])
            record_event(
                actor, "sop.definition.current", definition, data={"revision": existing.number}
            )
        return existing, False
    last = definition.revisions.aggregate(n=Max("number"))["n"] or 0
    revision = SopRevision.objects.create(
        definition=definition,
        number=last + 1,
        version=sop.version,
        content_hash=content_hash,
        text=text,
        source=source[:300],
    )
    current = definition.current
    if current is None or version_key(sop.version) >= version_key(current.version):
        definition.current = revision
        definition.name = sop.identity.name[:300]
        definition.save(update_fields=["current", "name"])
    record_event(
        actor,
        "sop.definition.revision",
        revision,
        data={
            "code": sop.code,
            "number": revision.number,
            "version": sop.version,
            "hash": content_hash,
        },
    )
    return revision, True


def sync_definitions(directory: str | Path | None = None, *, actor: Any = None) -> SyncReport:
    """Load every definition file of ``directory`` (the shipped ones by default).

    A refused file is reported (with every problem found) and the others are still loaded.
    """
    report = SyncReport()
    for path in definition_files(directory or DEFINITIONS_DIR):
        try:
            text = path.read_text(encoding="utf-8")
            revision, created = sync_text(text, source=path.name, actor=actor)
        except DefinitionError as exc:
            report.errors[path.name] = str(exc)
            continue
        except (OSError, UnicodeDecodeError) as exc:
            report.errors[path.name] = str(exc)
            continue
        (report.created if created else report.unchanged).append(revision.definition.code)
    return report


@transaction.atomic
def sync_holidays(path: str | Path | None = None) -> int:
    """Add the shipped national holidays missing from the database; returns how many."""
    known = set(Holiday.objects.filter(office__isnull=True).values_list("date", flat=True))
    new = [row for row in merge_same_day(load_holidays(path)) if row.date not in known]
    Holiday.objects.bulk_create(new)
    return len(new)


def merge_same_day(holidays: list[Any]) -> list[Holiday]:
    """One row per date: two feasts on one day become one holiday named after both."""
    by_date: dict[Any, Holiday] = {}
    for h in holidays:
        row = by_date.get(h.date)
        if row is None:
            by_date[h.date] = Holiday(
                date=h.date, name=h.name[:200], kind=str(h.kind), provisional=h.provisional
            )
        else:
            row.name = f"{row.name} / {h.name}"[:200]
            # A libur nasional outranks a cuti bersama on the same day.
            if str(h.kind) == "libur_nasional":
                row.kind = "libur_nasional"
    return list(by_date.values())
