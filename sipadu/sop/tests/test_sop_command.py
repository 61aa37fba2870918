"""``sipadu sop validate`` and ``sipadu sop render``: plain messages, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sipadu.sop.engine import DEFINITIONS_DIR, SOP, definition_files

ROOT = Path(__file__).resolve().parents[3]
BROKEN = "code: contoh\nversion: [\n"


def run(*args: str) -> tuple[str, str]:
    """Call the command in-process and return (stdout, stderr)."""
    out, err = StringIO(), StringIO()
    call_command("sop", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_validate_shipped_definitions() -> None:
    out, err = run("validate", *(str(p) for p in definition_files()))
    assert err == ""
    assert out.splitlines() == [
        f"OK {DEFINITIONS_DIR / 'dik-jamila-mewa.yaml'}: 8 kegiatan",
        f"OK {DEFINITIONS_DIR / 'inovasi-pelayanan-bima.yaml'}: 8 kegiatan",
        f"OK {DEFINITIONS_DIR / 'kinerja-dokumen-sumbar.yaml'}: 7 kegiatan",
        f"OK {DEFINITIONS_DIR / 'pemanfaatan-data-palangkaraya.yaml'}: 12 kegiatan",
        f"OK {DEFINITIONS_DIR / 'sijarla-solok.yaml'}: 6 kegiatan",
    ]


def test_validate_a_directory_expands_to_its_yaml_files() -> None:
    out, _ = run("validate", str(DEFINITIONS_DIR))
    assert len(out.splitlines()) == 5


def test_validate_reports_every_bad_file_and_fails(tmp_path: Path) -> None:
    good = DEFINITIONS_DIR / "sijarla-solok.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text(BROKEN, encoding="utf-8")
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    missing = tmp_path / "missing.yaml"
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="3 berkas tidak valid") as caught:
        call_command(
            "sop",
            "validate",
            str(good),
            str(bad),
            str(empty_dir),
            str(missing),
            stdout=out,
            stderr=err,
        )
    assert caught.value.returncode == 1
    assert out.getvalue() == f"OK {good}: 6 kegiatan\n"
    assert err.getvalue().splitlines() == [
        f"{bad}:3: broken YAML: expected the node content, but found '<stream end>'",
        f"{empty_dir}: is a directory, not a file",
        f"{missing}: no such file",
    ]


def test_validate_from_the_console_exits_1_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("code: contoh\n", encoding="utf-8")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sipadu.test_settings"}
    result = subprocess.run(
        [sys.executable, "-m", "sipadu.cli", "sop", "validate", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{bad}:1: identity: missing (required)" in result.stderr
    assert "1 berkas tidak valid." in result.stderr


def test_render_refuses_an_invalid_definition(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BROKEN, encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="Definisi SOP tidak valid"):
        call_command("sop", "render", str(bad), "--output", str(tmp_path / "x.pdf"), stderr=err)
    assert "broken YAML" in err.getvalue()
    assert not (tmp_path / "x.pdf").exists()


def test_render_without_a_renderer_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail exactly as if the module did not exist.
    monkeypatch.setitem(sys.modules, "sipadu.sop.render", None)
    with pytest.raises(CommandError, match="Perender dokumen SOP belum tersedia"):
        run(
            "render",
            str(DEFINITIONS_DIR / "sijarla-solok.yaml"),
            "--output",
            str(tmp_path / "x.svg"),
        )


def test_render_writes_what_the_renderer_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []

    def render_document(sop: SOP, fmt: str) -> bytes:
        calls.append((sop.code, fmt))
        return f"<{fmt}>{sop.identity.name}</{fmt}>".encode()

    fake = types.ModuleType("sipadu.sop.render")
    fake.render_document = render_document  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sipadu.sop.render", fake)
    target = tmp_path / "out.svg"
    out, _ = run(
        "render",
        str(DEFINITIONS_DIR / "dik-jamila-mewa.yaml"),
        "--format",
        "svg",
        "--output",
        str(target),
    )
    assert calls == [("dik-jamila-mewa", "svg")]
    assert target.read_bytes() == b"<svg>Inovasi Layanan Dik Jamila Me-WA</svg>"
    assert out.startswith(f"{target} ditulis (")
    with pytest.raises(CommandError, match="Tidak dapat menulis"):
        run("render", str(DEFINITIONS_DIR / "dik-jamila-mewa.yaml"), "--output", str(tmp_path))


def test_render_rejects_an_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="invalid choice: 'docx'"):
        run(
            "render",
            str(DEFINITIONS_DIR / "sijarla-solok.yaml"),
            "--format",
            "docx",
            "--output",
            str(tmp_path / "x"),
        )


def test_render_with_the_real_renderer(tmp_path: Path) -> None:
    target = tmp_path / "sijarla.svg"
    run(
        "render",
        str(DEFINITIONS_DIR / "sijarla-solok.yaml"),
        "--format",
        "svg",
        "--output",
        str(target),
    )
    svg = target.read_text(encoding="utf-8")
    assert svg.lstrip().startswith(("<svg", "<?xml"))
    assert "Tim SIJARLA" in svg


@pytest.mark.django_db
def test_sync_loads_the_shipped_definitions_once() -> None:
    from sipadu.sop.models import SopDefinition

    first = StringIO()
    call_command("sop", "sync", stdout=first)
    assert SopDefinition.objects.count() == 5
    assert "5 revisi baru" in first.getvalue()
    again = StringIO()
    call_command("sop", "sync", stdout=again)
    assert "0 revisi baru, 5 tidak berubah" in again.getvalue()
