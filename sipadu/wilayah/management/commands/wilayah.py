"""``sipadu wilayah load|show|children|search``: region codes."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from sipadu.wilayah import loader, services
from sipadu.wilayah.models import Region


class Command(BaseCommand):
    help = "Region codes of Kepmendagri 300.2.2-2138/2025: load, look up, list children, search."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("load", help="Load the shipped region codes (idempotent).")
        show = sub.add_parser("show", help="Show one region and its ancestors.")
        show.add_argument("code")
        kids = sub.add_parser("children", help="List the children of a region.")
        kids.add_argument("code", nargs="?")
        find = sub.add_parser("search", help="Search regions by name.")
        find.add_argument("query")
        find.add_argument("--level", type=int, choices=[1, 2, 3, 4])

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "load":
            started = time.perf_counter()
            added = loader.load_regions(progress=lambda n: self.stderr.write(f"\r{n:,}", ending=""))
            self.stderr.write("")
            total = Region.objects.count()
            self.stdout.write(
                _("%(added)s wilayah ditambahkan, %(total)s total, %(secs).1f detik")
                % {"added": added, "total": total, "secs": time.perf_counter() - started}
            )
        elif action == "show":
            region = services.get_region(options["code"])
            if region is None:
                raise CommandError(_("Kode wilayah %s tidak dikenal.") % options["code"])
            for r in [*region.ancestors(), region]:
                self.stdout.write(f"{r.code}\t{r.get_level_display()}\t{r.name}")
        elif action == "children":
            for r in services.children(options.get("code")):
                self.stdout.write(f"{r.code}\t{r.name}")
        else:
            for r in services.search(options["query"], level=options.get("level")):
                self.stdout.write(f"{r.code}\t{r.get_level_display()}\t{r.name}")
