"""Collect static files only when their sources changed.

``collectstatic`` with the compressed, hashed manifest storage re-compresses every file (about a
minute on a small machine) even when nothing changed. ``sipadu serve`` calls
:func:`collect_if_changed`, which keeps a fingerprint of the sources (path, size and
modification time of every file the finders see, and the storage backend) beside the collected
files and skips the work when it matches.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.core.management import call_command

MARKER = ".sources-sha256"
MANIFEST = "staticfiles.json"


def sources_fingerprint() -> str:
    """A digest of every static source file the finders list, and the storage in use."""
    entries: list[str] = []
    for finder in get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            stat = os.stat(storage.path(path))
            prefix = getattr(storage, "prefix", None) or ""
            entries.append(f"{prefix}/{path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    digest = hashlib.sha256(str(settings.STORAGES["staticfiles"]["BACKEND"]).encode())
    for entry in sorted(entries):
        digest.update(entry.encode() + b"\n")
    return digest.hexdigest()


def collect_if_changed() -> bool:
    """Run ``collectstatic`` unless the collected files are from the same sources; True when
    it ran."""
    root = Path(settings.STATIC_ROOT)
    marker = root / MARKER
    fingerprint = sources_fingerprint()
    backend = str(settings.STORAGES["staticfiles"]["BACKEND"])
    complete = (root / MANIFEST).exists() or "Manifest" not in backend
    if complete and marker.exists() and marker.read_text(encoding="ascii") == fingerprint:
        return False
    marker.unlink(missing_ok=True)
    call_command("collectstatic", interactive=False, verbosity=0)
    marker.write_text(fingerprint, encoding="ascii")
    return True
