"""The ``sipadu`` console command: Django's manage.py under the project's name."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run a management command (``sipadu --help`` lists them all)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sipadu.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "sipadu"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
