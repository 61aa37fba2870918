"""``sipadu sop``: validate SOP definition files and render them as SOP-AP documents.

    sipadu sop validate sipadu/sop/definitions/*.yaml
    sipadu sop render sipadu/sop/definitions/dik-jamila-mewa.yaml --format pdf --output out.pdf

Both report problems in plain words (file, line, field) and exit with status 1 instead
of printing a traceback.
"""

from __future__ import annotations

import importlib
from argparse import ArgumentParser
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sipadu.sop.engine import SOP, DefinitionError, definition_files, load_definition

FORMATS = ("html", "svg", "pdf")
RENDER_MODULE = "sipadu.sop.render"


def _expand(paths: list[str]) -> list[Path]:
    """Files as given; a directory stands for the ``*.yaml`` files inside it."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = definition_files(path)
            # An empty directory is reported as itself so it is not silently "valid".
            out.extend(found or [path])
        else:
            out.append(path)
    return out


def _renderer() -> Callable[[SOP, str], bytes]:
    """The document renderer, imported only when needed (it pulls in WeasyPrint)."""
    try:
        module = importlib.import_module(RENDER_MODULE)
    except ModuleNotFoundError as exc:
        # Only the renderer itself being absent is expected; a missing dependency of
        # an existing renderer is a real bug and must surface.
        if exc.name != RENDER_MODULE:
            raise
        raise CommandError(_("Perender dokumen SOP belum tersedia.")) from None
    render: Callable[[SOP, str], bytes] = module.render_document
    return render


class Command(BaseCommand):  # type: ignore[misc, unused-ignore]  # Django has no stubs here
    """Validate or render SOP definition files."""

    help = "Validasi dan cetak definisi SOP (berkas YAML)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        """``validate PATH...`` and ``render FILE --format … --output …``."""
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{validate,render,sync}"
        )
        validate = actions.add_parser("validate", help="Periksa berkas definisi SOP.")
        validate.add_argument("paths", nargs="+", metavar="PATH", help="Berkas atau folder YAML.")
        render = actions.add_parser("render", help="Cetak SOP sebagai dokumen SOP-AP.")
        render.add_argument("file", metavar="FILE", help="Berkas definisi SOP (YAML).")
        render.add_argument("--format", choices=FORMATS, default="pdf", dest="fmt")
        render.add_argument("--output", required=True, metavar="OUT", help="Berkas keluaran.")
        actions.add_parser(
            "sync", help="Muat definisi SOP terkirim dan hari libur ke basis data (idempoten)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Dispatch to the chosen action."""
        if options["action"] == "validate":
            self.validate(options["paths"])
        elif options["action"] == "sync":
            self.sync()
        else:
            self.render(options["file"], options["fmt"], options["output"])

    def sync(self) -> None:
        """Load the shipped definitions (a changed file becomes a new revision) and holidays."""
        from sipadu.sop.definitions_sync import sync_definitions, sync_holidays

        report = sync_definitions()
        holidays = sync_holidays()
        self.stdout.write(
            _(
                "SOP: %(new)d revisi baru, %(same)d tidak berubah; "
                "%(holidays)d hari libur ditambahkan."
            )
            % {"new": len(report.created), "same": len(report.unchanged), "holidays": holidays}
        )
        for name, problem in report.errors.items():
            self.stderr.write(f"{name}: {problem}")
        if report.errors:
            raise CommandError(_("Sebagian definisi SOP ditolak."))

    def validate(self, paths: list[str]) -> None:
        """Print "OK" per valid file and every problem of the others; fail if any is invalid."""
        invalid = 0
        for path in _expand(paths):
            try:
                sop = load_definition(path)
            except DefinitionError as exc:
                invalid += 1
                for problem in exc.problems:
                    self.stderr.write(str(problem))
                continue
            self.stdout.write(
                _("OK %(file)s: %(count)d kegiatan") % {"file": path, "count": len(sop.activities)}
            )
        if invalid:
            raise CommandError(
                ngettext("%(count)d berkas tidak valid.", "%(count)d berkas tidak valid.", invalid)
                % {"count": invalid},
                returncode=1,
            )

    def render(self, file: str, fmt: str, output: str) -> None:
        """Render one definition to ``output`` in the chosen format."""
        try:
            sop = load_definition(file)
        except DefinitionError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(_("Definisi SOP tidak valid: %(file)s") % {"file": file}) from None
        document = _renderer()(sop, fmt)
        try:
            Path(output).write_bytes(document)
        except OSError as exc:
            raise CommandError(
                _("Tidak dapat menulis %(file)s: %(error)s")
                % {"file": output, "error": exc.strerror}
            ) from None
        self.stdout.write(
            _("%(file)s ditulis (%(size)d bita).") % {"file": output, "size": len(document)}
        )
