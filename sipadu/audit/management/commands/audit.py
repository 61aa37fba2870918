"""``sipadu audit verify``: check the audit hash chain."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from sipadu.audit.models import AuditEvent
from sipadu.audit.services import verify


class Command(BaseCommand):
    help = "Audit log: 'verify' checks that no entry was altered, inserted or deleted."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Check the hash chain; exit 1 when broken.")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = list(verify())
        for p in problems:
            self.stdout.write(_("Entri #%(seq)s: %(msg)s") % {"seq": p.seq, "msg": p.message})
        if problems:
            self.stderr.write(_("Rantai audit RUSAK: %d masalah.") % len(problems))
            sys.exit(1)
        self.stdout.write(_("Rantai audit utuh: %d entri.") % AuditEvent.objects.count())
