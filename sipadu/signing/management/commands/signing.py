"""``sipadu signing``: the demo CA, signature verification and signing a file by hand.

sipadu signing init-demo-ca [--force] [--algorithm ec-p256|rsa-2048|rsa-3072] [--office CODE]
sipadu signing verify FILE        exit 0 valid, 1 invalid/altered/untrusted, 2 unreadable
sipadu signing sign FILE --key KEY_ID [--output OUT] [--reason …] [--location …]
"""

from __future__ import annotations

import getpass
import logging
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from sipadu.signing import ca, config
from sipadu.signing.error_codes import SigningError
from sipadu.signing.providers import SignerRef, get_provider
from sipadu.signing.verify import VerificationStatus, verify_pdf

# Above this a file is not a document we would verify; read no further than needed.
MAX_FILE_BYTES = 50 * 1024 * 1024


def _quiet_libraries() -> None:
    """pyHanko and fontTools log tracebacks for expected failures; officers need none."""
    for name in ("pyhanko", "pyhanko_certvalidator", "fontTools", "weasyprint"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _read(path_arg: str) -> bytes | None:
    """The file's bytes, or None when it cannot be read (the caller says why)."""
    path = Path(path_arg)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None


class Command(BaseCommand):
    """The ``signing`` command group (subcommands: init-demo-ca, verify, sign)."""

    help = "Tanda tangan elektronik (TTE): CA demo, verifikasi dan penandatanganan PDF."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the subcommands and their options."""
        sub = parser.add_subparsers(dest="action", required=True)
        init = sub.add_parser(
            "init-demo-ca", help="Buat CA demo dan sertifikat Kepala Dinas tiap kantor demo."
        )
        init.add_argument("--force", action="store_true", help="Terbitkan ulang semuanya.")
        init.add_argument(
            "--algorithm",
            choices=[a.value for a in ca.KeyAlgorithm],
            default=ca.KeyAlgorithm.EC_P256.value,
            help="Jenis kunci (bawaan: ec-p256).",
        )
        init.add_argument(
            "--office",
            action="append",
            dest="offices",
            metavar="KODE",
            help="Kode kantor (boleh diulang); bawaan: lima kantor demo.",
        )
        verify = sub.add_parser("verify", help="Periksa tanda tangan elektronik sebuah PDF.")
        verify.add_argument("file", help="Berkas PDF yang diperiksa.")
        sign = sub.add_parser("sign", help="Tandatangani sebuah PDF dengan penyedia TTE.")
        sign.add_argument("file", help="Berkas PDF yang ditandatangani.")
        sign.add_argument("--key", default="", help="ID kunci lokal (mis. balangan-kepala-dinas).")
        sign.add_argument(
            "--nik",
            default="",
            help="NIK penanda tangan di layanan TTE jarak jauh (passphrase "
            "ditanyakan, tidak pernah lewat argumen).",
        )
        sign.add_argument("--output", "-o", help="Berkas hasil (bawaan: <nama>-ttd.pdf).")
        sign.add_argument("--reason", default="Dokumen ditandatangani secara elektronik")
        sign.add_argument("--location", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        """Dispatch to the chosen subcommand."""
        _quiet_libraries()
        action = options["action"]
        if action == "init-demo-ca":
            self._init(options)
        elif action == "verify":
            self._verify(options["file"])
        else:
            self._sign(options)

    def _init(self, options: dict[str, Any]) -> None:
        offices = options["offices"] or None
        unknown = [code for code in offices or () if code not in ca.DEMO_OFFICES]
        if unknown:
            raise CommandError(
                _("Kode kantor tidak dikenal: %(codes)s. Pilihan: %(known)s")
                % {"codes": ", ".join(unknown), "known": ", ".join(ca.DEMO_OFFICES)}
            )
        report = ca.init_demo_ca(
            force=options["force"], algorithm=options["algorithm"], offices=offices
        )
        for path in report.created:
            self.stdout.write(_("dibuat    %(path)s") % {"path": path})
        for path in report.kept:
            self.stdout.write(_("sudah ada %(path)s") % {"path": path})
        self.stdout.write(
            _("CA demo siap di %(dir)s (akar tepercaya disalin ke %(trust)s).")
            % {"dir": config.keys_dir(), "trust": config.trust_dir()}
        )

    def _verify(self, file_arg: str) -> None:
        data = _read(file_arg)
        if data is None:
            self.stderr.write(
                _(
                    "Berkas %(file)s tidak dapat dibaca (tidak ada, tidak boleh dibaca, atau "
                    "lebih dari 50 MB)."
                )
                % {"file": file_arg}
            )
            raise SystemExit(VerificationStatus.UNREADABLE.exit_code)
        result = verify_pdf(data)
        for line in result.lines():
            self.stdout.write(line)
        if result.exit_code:
            raise SystemExit(result.exit_code)

    def _sign(self, options: dict[str, Any]) -> None:
        source = Path(options["file"])
        data = _read(options["file"])
        if data is None:
            raise CommandError(_("Berkas %(file)s tidak dapat dibaca.") % {"file": source})
        if not options["key"] and not options["nik"]:
            raise CommandError(_("Sebutkan --key (kunci lokal) atau --nik (layanan TTE)."))
        passphrase = getpass.getpass(_("Passphrase TTE: ")) if options["nik"] else ""
        output = Path(options["output"] or source.with_name(source.stem + "-ttd.pdf"))
        try:
            signed = get_provider().sign(
                data,
                signer=SignerRef(key_id=options["key"], nik=options["nik"], passphrase=passphrase),
                reason=options["reason"],
                location=options["location"],
            )
        except SigningError as exc:
            raise CommandError(exc.message) from exc
        output.write_bytes(signed)
        self.stdout.write(_("Ditandatangani: %(path)s") % {"path": output})
