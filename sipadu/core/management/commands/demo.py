"""``sipadu demo``: migrate, load the demo data, print the log-ins, serve web + worker."""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from sipadu.core import demo


class Command(BaseCommand):
    help = "Load the demo data (five seed offices, users, cases…) and serve the demo."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--load-only", action="store_true", help="Load the demo data without serving."
        )
        parser.add_argument("--bind", default="127.0.0.1:8000", help="Address to serve on.")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        lines: list[str] = []
        for step in demo.steps():
            started = time.perf_counter()
            self.stdout.write(f"[demo] {step.name} …")
            lines += step.run(lambda msg: self.stdout.write(f"       {msg}"))
            self.stdout.write(f"       {time.perf_counter() - started:.1f} s")
        self.stdout.write("")
        for line in lines:
            self.stdout.write(line)
        if not options["load_only"]:
            call_command("serve", bind=options["bind"])
