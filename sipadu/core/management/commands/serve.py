"""``sipadu serve``: gunicorn (web) and the Huey consumer (worker) together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the web application with gunicorn and run the background worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("SIPADU_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("SIPADU_WEB_WORKERS", "2"))
        )
        parser.add_argument(
            "--threads", type=int, default=int(os.environ.get("SIPADU_WEB_THREADS", "4"))
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the background worker in this process group.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from sipadu.core.staticfiles import collect_if_changed
        from sipadu.messaging.fake_process import start_fake_if_configured

        collect_if_changed()
        # The demo's local fake of the WhatsApp Cloud API (only when SIPADU_WHATSAPP_FAKE_PORT
        # is set); it fills the WhatsApp settings the web and worker processes inherit.
        fake = start_fake_if_configured(options["bind"])
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "sipadu.settings"),
        }
        bin_dir = os.path.dirname(sys.executable)
        procs = [
            subprocess.Popen(
                [
                    os.path.join(bin_dir, "gunicorn"),
                    "sipadu.wsgi:application",
                    "--bind",
                    options["bind"],
                    "--worker-class",
                    "gthread",
                    "--workers",
                    str(options["workers"]),
                    "--threads",
                    str(options["threads"]),
                    "--access-logfile",
                    "-",
                    "--access-logformat",
                    '%(h)s "%(m)s %(U)s" %(s)s %(M)sms',
                ],
                env=env,
            )
        ]
        if not options["no_worker"]:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "sipadu.cli", "run_huey", "--quiet"], env=env
                )
            )
        if fake is not None:
            procs.append(fake)
        self.stdout.write(f"SIPADU: http://{options['bind']}/  (data: {settings.DATA_DIR})")
        try:
            for proc in procs:
                proc.wait()
        except KeyboardInterrupt:
            pass
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(timeout=20)
