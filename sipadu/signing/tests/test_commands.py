"""``sipadu signing init-demo-ca | verify | sign``: effects, messages and exit codes."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sipadu.signing import ca
from sipadu.signing.providers import SignerRef
from sipadu.signing.providers.local import LocalProvider
from sipadu.signing.tests.conftest import EC_KEY, DemoPki, RunningBsre, flip_byte_in_stream


def run(*args: str) -> tuple[int, str, str]:
    """Run ``sipadu signing …`` in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("signing", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def data_dir(tmp_path: Path, settings: Any) -> Path:
    """An empty data directory."""
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def test_init_demo_ca_creates_owner_only_keys_for_every_demo_office(data_dir: Path) -> None:
    code, out, _ = run("init-demo-ca")
    assert code == 0 and "CA demo siap" in out
    keys = data_dir / "keys"
    for office in ca.DEMO_OFFICES:
        for suffix in (".p12", ".pass"):
            mode = stat.S_IMODE((keys / f"{office}-kepala-dinas{suffix}").stat().st_mode)
            assert mode == 0o600
    assert stat.S_IMODE((keys / ca.ROOT_KEY_NAME).stat().st_mode) == 0o600
    assert (data_dir / "trust" / ca.ROOT_CERT_NAME).read_bytes() == (
        keys / ca.ROOT_CERT_NAME
    ).read_bytes()


def test_init_demo_ca_is_idempotent_and_force_reissues(data_dir: Path) -> None:
    run("init-demo-ca", "--office", "bima")
    root = (data_dir / "keys" / ca.ROOT_CERT_NAME).read_bytes()
    p12 = (data_dir / "keys" / "bima-kepala-dinas.p12").read_bytes()
    code, out, _ = run("init-demo-ca", "--office", "bima")
    assert code == 0 and "sudah ada" in out and "dibuat" not in out
    assert (data_dir / "keys" / ca.ROOT_CERT_NAME).read_bytes() == root
    assert (data_dir / "keys" / "bima-kepala-dinas.p12").read_bytes() == p12
    run("init-demo-ca", "--office", "bima", "--force", "--algorithm", "rsa-2048")
    assert (data_dir / "keys" / ca.ROOT_CERT_NAME).read_bytes() != root
    assert (data_dir / "keys" / "bima-kepala-dinas.p12").read_bytes() != p12


def test_init_demo_ca_refuses_an_unknown_office(data_dir: Path) -> None:
    with pytest.raises(CommandError, match="Kode kantor tidak dikenal: atlantis"):
        call_command("signing", "init-demo-ca", "--office", "atlantis")


def test_sign_then_verify_round_trip(data_dir: Path, tmp_path: Path, unsigned_pdf: bytes) -> None:
    run("init-demo-ca", "--office", "solok")
    source = tmp_path / "kutipan.pdf"
    source.write_bytes(unsigned_pdf)
    code, out, _ = run("sign", str(source), "--key", "solok-kepala-dinas")
    assert code == 0 and "Ditandatangani" in out
    code, out, _ = run("verify", str(tmp_path / "kutipan-ttd.pdf"))
    assert code == 0
    assert out.startswith("SAH") and "Kepala Dinas Dukcapil Kabupaten Solok" in out


def test_sign_errors_are_messages(data_dir: Path, tmp_path: Path, unsigned_pdf: bytes) -> None:
    source = tmp_path / "kutipan.pdf"
    source.write_bytes(unsigned_pdf)
    with pytest.raises(CommandError, match=r"Kunci tanda tangan .* tidak ditemukan"):
        call_command("signing", "sign", str(source), "--key", "bima-kepala-dinas")
    with pytest.raises(CommandError, match="--key"):
        call_command("signing", "sign", str(source))
    with pytest.raises(CommandError, match="tidak dapat dibaca"):
        call_command("signing", "sign", str(tmp_path / "tidak-ada.pdf"), "--key", "x")


def test_verify_exit_codes_and_messages(pki: DemoPki, tmp_path: Path, unsigned_pdf: bytes) -> None:
    signed = LocalProvider().sign(unsigned_pdf, signer=SignerRef(key_id=EC_KEY))
    files = {
        "sah.pdf": signed,
        "diubah.pdf": flip_byte_in_stream(signed),
        "tanpa-ttd.pdf": unsigned_pdf,
        "kosong.pdf": b"",
        "foto.pdf": b"\xff\xd8\xff\xe0JFIF",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    expected = {
        "sah.pdf": (0, "SAH: tanda tangan elektronik utuh"),
        "diubah.pdf": (1, "TIDAK SAH: dokumen telah diubah"),
        "tanpa-ttd.pdf": (1, "tidak memiliki tanda tangan elektronik"),
        "kosong.pdf": (2, "Berkas kosong"),
        "foto.pdf": (2, "bukan PDF"),
    }
    for name, (code, message) in expected.items():
        got_code, out, _ = run("verify", str(tmp_path / name))
        assert (got_code, message in out) == (code, True), (name, out)
    code, _, err = run("verify", str(tmp_path / "tidak-ada.pdf"))
    assert code == 2 and "tidak dapat dibaca" in err


def test_verify_as_a_real_process(pki: DemoPki, tmp_path: Path, unsigned_pdf: bytes) -> None:
    signed = LocalProvider().sign(unsigned_pdf, signer=SignerRef(key_id=EC_KEY))
    (tmp_path / "sah.pdf").write_bytes(signed)
    (tmp_path / "diubah.pdf").write_bytes(flip_byte_in_stream(signed))
    env = {
        **os.environ,
        "SIPADU_DATA_DIR": str(pki.data_dir),
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "sipadu.test_settings"),
    }
    cli = [sys.executable, "-m", "sipadu.cli", "signing", "verify"]
    ok = subprocess.run(
        [*cli, str(tmp_path / "sah.pdf")], capture_output=True, text=True, env=env, timeout=120
    )
    bad = subprocess.run(
        [*cli, str(tmp_path / "diubah.pdf")], capture_output=True, text=True, env=env, timeout=120
    )
    assert ok.returncode == 0, ok.stderr
    assert "SAH" in ok.stdout
    assert bad.returncode == 1 and "TIDAK SAH" in bad.stdout
    assert "Traceback" not in ok.stderr + bad.stderr


def test_demo_step_is_idempotent(data_dir: Path) -> None:
    from sipadu.core import demo as core_demo
    from sipadu.signing import demo

    assert any(step.run is demo.load for step in core_demo.steps())
    progress: list[str] = []
    assert "CA demo" in demo.load(progress.append)[0]
    demo.load(progress.append)
    assert (
        progress[0].startswith("7 berkas dibuat") and progress[1] == "0 berkas dibuat, 6 sudah ada"
    )


def test_sign_with_the_remote_service_asks_the_passphrase(
    fake_bsre: RunningBsre,
    tmp_path: Path,
    unsigned_pdf: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIPADU_SIGNING_PROVIDER", "remote")
    source = tmp_path / "kutipan.pdf"
    source.write_bytes(unsigned_pdf)
    monkeypatch.setattr("getpass.getpass", lambda prompt: "salah")
    with pytest.raises(CommandError, match="Passphrase TTE salah"):
        call_command("signing", "sign", str(source), "--nik", fake_bsre.nik)
    assert not (tmp_path / "kutipan-ttd.pdf").exists()
    monkeypatch.setattr("getpass.getpass", lambda prompt: fake_bsre.passphrase)
    code, out, _ = run("sign", str(source), "--nik", fake_bsre.nik, "-o", str(tmp_path / "o.pdf"))
    assert code == 0 and "Ditandatangani" in out
    assert run("verify", str(tmp_path / "o.pdf"))[0] == 0
