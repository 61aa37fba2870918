"""Public SOP catalogue: the list of shipped SOPs and each one's SOP-AP document.

SOPs are public documents, so these pages need no login. Definitions are read from the
definition files through the engine (not from the database) so that the catalogue shows
exactly what is shipped, including a file that fails to load, listed with its problems.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from sipadu.sop.definitions_sync import version_key
from sipadu.sop.engine import DEFINITIONS_DIR, SOP, DefinitionError, definition_files
from sipadu.sop.engine import load_definition as engine_load_definition
from sipadu.sop.render import body_html, document_css, layout, render_document


@dataclass(frozen=True)
class CatalogueEntry:
    """One definition file: the SOP it holds, or the problems that stopped it loading."""

    path: Path
    stamp: tuple[int, int]
    sop: SOP | None
    problems: tuple[str, ...] = ()

    @property
    def file_name(self) -> str:
        """The file's name, shown next to its problems."""
        return self.path.name


# Parsed definitions by file path, valid while the file's (mtime, size) is unchanged. Each
# process keeps its own copy; it is only a cache, checked against the file on every use.
_parsed: dict[str, CatalogueEntry] = {}


def definitions_dir() -> Path:
    """Where the catalogue reads definitions (``SIPADU_SOP_DEFINITIONS_DIR`` overrides)."""
    return Path(getattr(settings, "SIPADU_SOP_DEFINITIONS_DIR", DEFINITIONS_DIR))


def _entry(path: Path) -> CatalogueEntry:
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _parsed.get(str(path))
    if cached is not None and cached.stamp == stamp:
        return cached
    try:
        entry = CatalogueEntry(path, stamp, engine_load_definition(path))
    except DefinitionError as exc:
        problems = tuple(f"{p.field}: {p.message}" if p.field else p.message for p in exc.problems)
        entry = CatalogueEntry(path, stamp, None, problems)
    _parsed[str(path)] = entry
    return entry


def catalogue_entries() -> list[CatalogueEntry]:
    """Every definition file of the definitions directory, parsed (or refused), by name."""
    entries = []
    for path in definition_files(definitions_dir()):
        try:
            entries.append(_entry(path))
        except FileNotFoundError:
            # Removed between listing and reading: it is simply no longer in the catalogue.
            continue
    return entries


def find_entry(code: str) -> CatalogueEntry | None:
    """The entry of the newest version of SOP ``code``, or None when there is none."""
    found = [e for e in catalogue_entries() if e.sop is not None and e.sop.code == code]
    if not found:
        return None
    return max(found, key=lambda e: version_key(e.sop.version if e.sop else ""))


def _not_found(request: HttpRequest, code: str) -> HttpResponse:
    message = _("SOP dengan kode “%(code)s” tidak ditemukan.") % {"code": code}
    return render(request, "sop/not_found.html", {"message": message}, status=404)


def catalogue(request: HttpRequest) -> HttpResponse:
    """The list of every shipped SOP, and of every definition file that cannot be loaded."""
    entries = catalogue_entries()
    sops = sorted((e.sop for e in entries if e.sop is not None), key=lambda s: s.identity.name)
    invalid = [e for e in entries if e.sop is None]
    return render(request, "sop/catalogue.html", {"sops": sops, "invalid": invalid})


def detail(request: HttpRequest, code: str) -> HttpResponse:
    """One SOP's SOP-AP document (identity page and procedure with flowchart) in the site."""
    entry = find_entry(code)
    if entry is None or entry.sop is None:
        return _not_found(request, code)
    sop = entry.sop
    # body_html escapes every text of the definition, so the markup is safe to embed.
    context = {
        "sop": sop,
        "document": mark_safe(body_html(layout(sop))),  # noqa: S308
        "document_css": mark_safe(document_css()),  # noqa: S308
        "decisions": sum(1 for a in sop.activities if a.is_decision),
    }
    return render(request, "sop/detail.html", context)


_CONTENT_TYPES = {
    "pdf": "application/pdf",
    "svg": "image/svg+xml",
    "html": "text/html; charset=utf-8",
}


def download(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    """The document as PDF, SVG (flowchart) or standalone HTML, cached per file version."""
    entry = find_entry(code)
    if entry is None or entry.sop is None:
        return _not_found(request, code)
    sop = entry.sop
    # The key names the file's stamp: an edited definition never serves a stale document.
    key = f"sop-doc:{sop.code}:{sop.version}:{entry.stamp[0]}:{entry.stamp[1]}:{fmt}"
    data = cache.get(key)
    if data is None:
        data = render_document(sop, fmt)
        cache.set(key, data, 24 * 3600)
    response = HttpResponse(data, content_type=_CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'inline; filename="{sop.code}.{fmt}"'
    return response


def download_pdf(request: HttpRequest, code: str) -> HttpResponse:
    """The SOP-AP document as a PDF (A4 landscape)."""
    return download(request, code, "pdf")


def download_svg(request: HttpRequest, code: str) -> HttpResponse:
    """The flowchart alone as an SVG image."""
    return download(request, code, "svg")


def download_html(request: HttpRequest, code: str) -> HttpResponse:
    """The SOP-AP document as a standalone printable HTML page."""
    return download(request, code, "html")
