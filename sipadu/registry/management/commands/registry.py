"""``sipadu registry …``: check-nik, import, generate, recompute-coverage, roll-coverage."""

from __future__ import annotations

import datetime as dt
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from sipadu.core.models import Office
from sipadu.registry import coverage
from sipadu.registry.generator import generate
from sipadu.registry.importers import wait_for_checkpoints
from sipadu.registry.models import ImportRun
from sipadu.registry.nik import check_nik
from sipadu.registry.tasks import run_import


class Command(BaseCommand):
    help = "Population registry: check-nik, import, generate, recompute-coverage, roll-coverage."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        nik = sub.add_parser("check-nik", help="Say what a NIK encodes; exit 1 when invalid.")
        nik.add_argument("nik")
        nik.add_argument("--sex", choices=["L", "P"], help="Check against this sex.")
        nik.add_argument("--birth-date", help="Check against this birth date (YYYY-MM-DD).")
        imp = sub.add_parser("import", help="Import a SIAK/Buku Induk CSV or XLSX export.")
        imp.add_argument("file")
        imp.add_argument(
            "--partial", action="store_true", help="Keep the good rows when some are rejected."
        )
        imp.add_argument("--office", help="Office code: only rows of its region are accepted.")
        imp.add_argument("--errors", help="Write the rejected rows to this CSV file.")
        gen = sub.add_parser("generate", help="Generate a synthetic population.")
        gen.add_argument("--region", required=True, help="Region code, e.g. 63.11 or 13.")
        gen.add_argument(
            "--scale",
            type=float,
            default=0.01,
            help="Fraction of the published population (default 0.01).",
        )
        gen.add_argument("--seed", type=int, default=1)
        rec = sub.add_parser("recompute-coverage", help="Recompute coverage from scratch.")
        rec.add_argument(
            "--check",
            action="store_true",
            help="Only compare with the live counters; exit 1 when they differ.",
        )
        sub.add_parser("roll-coverage", help="Snapshot last month and move to this month.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"].replace("-", "_")
        getattr(self, f"do_{action}")(options)

    def do_check_nik(self, options: dict[str, Any]) -> None:
        birth = None
        if options["birth_date"]:
            try:
                birth = dt.date.fromisoformat(options["birth_date"])
            except ValueError as exc:
                raise CommandError(_("Tanggal lahir harus YYYY-MM-DD.")) from exc
        check, names = check_nik(options["nik"], sex=options["sex"], birth_date=birth)
        write = self.stdout.write
        if check.kecamatan:
            write(
                _("Provinsi   : %(c)s %(n)s")
                % {"c": check.province, "n": names.get("province", "?")}
            )
            write(
                _("Kab/Kota   : %(c)s %(n)s") % {"c": check.kabkota, "n": names.get("kabkota", "?")}
            )
            write(
                _("Kecamatan  : %(c)s %(n)s")
                % {"c": check.kecamatan, "n": names.get("kecamatan", "?")}
            )
        if check.date:
            write(_("Tgl. lahir : %s") % check.date.strftime("%d-%m-%Y"))
        if check.sex:
            write(_("Jenis kel. : %s") % (_("Perempuan") if check.sex == "P" else _("Laki-laki")))
        if check.serial:
            write(_("Nomor urut : %04d") % check.serial)
        for warning in check.warnings:
            write(_("PERINGATAN : %s") % warning)
        for error in check.errors:
            self.stderr.write(_("SALAH      : %s") % error)
        if not check.valid:
            sys.exit(1)
        write(_("NIK sah."))

    def do_import(self, options: dict[str, Any]) -> None:
        from django.core.files import File

        office = None
        if options["office"]:
            office = Office.objects.filter(code=options["office"]).first()
            if office is None:
                raise CommandError(_("Kantor %s tidak dikenal.") % options["office"])
        try:
            handle = open(options["file"], "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(_("Berkas tidak dapat dibuka: %s") % exc.strerror) from exc
        with handle:
            run = ImportRun(
                office=office, partial=options["partial"], filename=options["file"][-255:]
            )
            suffix = ".xlsx" if options["file"].lower().endswith(".xlsx") else ".csv"
            run.upload.save(f"{run.pk}{suffix}", File(handle), save=False)
            run.save(force_insert=True)
        started = time.perf_counter()

        def progress(rows: int, fraction: float) -> None:
            rate = rows / max(time.perf_counter() - started, 1e-6)
            bar = "#" * int(fraction * 30)
            self.stderr.write(
                f"\r[{bar:<30}] {fraction * 100:5.1f}% {rows:,} baris {rate:,.0f}/s", ending=""
            )

        run = run_import(run, progress=progress)
        wait_for_checkpoints()
        self.stderr.write("")
        self.stdout.write(run.message)
        if run.error_file and options["errors"]:
            with open(options["errors"], "wb") as out, run.error_file.open("rb") as src:
                out.write(src.read())
            self.stdout.write(_("Baris yang ditolak: %s") % options["errors"])
        elif run.error_file:
            self.stdout.write(_("Baris yang ditolak: %s") % run.error_file.path)
        if run.status != ImportRun.Status.DONE:
            sys.exit(1)

    def do_generate(self, options: dict[str, Any]) -> None:
        started = time.perf_counter()

        def progress(kab: str, made: int, target: int) -> None:
            self.stderr.write(f"\r{kab}: {made:,}/{target:,}", ending="")

        try:
            result = generate(
                options["region"], scale=options["scale"], seed=options["seed"], progress=progress
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write("")
        elapsed = time.perf_counter() - started
        self.stdout.write(
            _("%(p)d penduduk dan %(f)d keluarga dibuat dalam %(s).1f detik.")
            % {"p": result.residents, "f": result.families, "s": elapsed}
        )
        if result.skipped:
            self.stdout.write(_("Dilewati (sudah berisi penduduk): %s") % ", ".join(result.skipped))

    def do_recompute_coverage(self, options: dict[str, Any]) -> None:
        if options["check"]:
            fresh = coverage.compute(coverage.reference_date())
            live = coverage.stored()
            differing = sorted(
                set(fresh) ^ set(live) | {k for k in fresh if live.get(k) != fresh[k]}
            )
            for key in differing[:50]:
                self.stdout.write(
                    f"{key[0]} {key[1]}: live={live.get(key)} recomputed={fresh.get(key)}"
                )
            if differing:
                self.stderr.write(_("%d penghitung berbeda.") % len(differing))
                sys.exit(1)
            self.stdout.write(_("Penghitung cakupan sesuai (%d baris).") % len(fresh))
            return
        started = time.perf_counter()
        rows = coverage.recompute()
        self.stdout.write(
            _("Cakupan dihitung ulang: %(n)d baris dalam %(s).2f detik.")
            % {"n": rows, "s": time.perf_counter() - started}
        )

    def do_roll_coverage(self, options: dict[str, Any]) -> None:
        if coverage.roll_coverage():
            self.stdout.write(
                _("Cakupan bulan lalu disimpan; acuan: %s.") % coverage.reference_date()
            )
        else:
            self.stdout.write(_("Acuan sudah bulan ini; tidak ada yang diubah."))
