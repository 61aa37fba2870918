"""Fixtures of the signing tests: a private data dir with the demo CA, PDFs, local fakes."""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PdfFileWriter

from sipadu.signing import ca
from sipadu.signing.fake_bsre import FakeBsre, FakeTsa, dummy_stamper, serve
from sipadu.signing.pdf import html_to_pdf, qr_png_data_uri, verification_url
from sipadu.signing.providers.local import load_signer

EC_KEY = "balangan-kepala-dinas"
RSA_KEY = "uji-rsa-3072"

KUTIPAN_HTML = """<!doctype html><html lang="id"><head><meta charset="utf-8">
<style>body {{ font-family: 'DejaVu Sans', sans-serif; font-size: 11pt }}</style></head>
<body><h1>KUTIPAN AKTA KELAHIRAN</h1>
<p>Nomor: 6311-LT-02012026-0001</p>
<p>Berdasarkan Akta Kelahiran, di Paringin telah lahir Ahmad Fauzi, anak ke-1.</p>
<img src="{qr}" alt="QR verifikasi"></body></html>"""


@pytest.fixture(autouse=True)
def _quiet_logs() -> None:
    """pyHanko logs expected validation failures with tracebacks; keep test output readable."""
    for name in ("pyhanko", "pyhanko_certvalidator", "fontTools", "weasyprint"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


@pytest.fixture(autouse=True)
def _no_issued_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The signing layer is tested alone: the document service's "issued here" look-up (which
    reads the database) is switched off unless a test installs its own."""
    monkeypatch.setattr("sipadu.signing.verify._issued_lookup", None)


@pytest.fixture(scope="session")
def unsigned_pdf() -> bytes:
    """A one-page kutipan-like document with a QR code (rendered once per session)."""
    return html_to_pdf(KUTIPAN_HTML.format(qr=qr_png_data_uri("http://127.0.0.1/v/tok")))


@dataclass
class DemoPki:
    """The demo CA under a private data dir, with one EC and one RSA signer."""

    data_dir: Path
    authority: ca.CertificateAuthority

    @property
    def keys(self) -> Path:
        return self.data_dir / "keys"

    @property
    def trust(self) -> Path:
        return self.data_dir / "trust"


@pytest.fixture(scope="session")
def _pki_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Create the CA and keys once; each test gets a copy (key generation is the slow part)."""
    root = tmp_path_factory.mktemp("pki")
    ca.init_demo_ca(offices=["balangan"], keys_dir=root / "keys", trust_dir=root / "trust")
    authority = ca.load_or_create_ca(keys_dir=root / "keys", trust_dir=root / "trust")
    ca.issue_signer(
        authority,
        RSA_KEY,
        "Kepala Dinas Uji RSA",
        "Dinas Uji",
        algorithm="rsa-3072",
        keys_dir=root / "keys",
    )
    return root


@pytest.fixture
def pki(
    _pki_template: Path, tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> DemoPki:
    """A data dir (``settings.DATA_DIR``) holding the demo CA, trusted, and two signers."""
    data_dir = tmp_path / "data"
    shutil.copytree(_pki_template, data_dir)
    settings.DATA_DIR = data_dir
    for name in ("SIPADU_TSA_URL", "SIPADU_SIGNING_PROVIDER", "SIPADU_SIGNING_REMOTE_URL"):
        monkeypatch.delenv(name, raising=False)
    authority = ca.load_or_create_ca(keys_dir=data_dir / "keys", trust_dir=data_dir / "trust")
    return DemoPki(data_dir, authority)


@pytest.fixture
def fake_tsa(pki: DemoPki, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTsa]:
    """A fake RFC 3161 TSA on 127.0.0.1, configured as ``SIPADU_TSA_URL``."""
    app = FakeTsa(dummy_stamper(pki.authority))
    with serve(app) as url:
        monkeypatch.setenv("SIPADU_TSA_URL", url + "/tsa")
        yield app


@dataclass
class RunningBsre:
    """The fake TTE service, its URL and the NIK/passphrase of its one certificate holder."""

    app: FakeBsre
    url: str
    nik: str = "6311010101800001"
    passphrase: str = "rahasia-kadis-123"


@pytest.fixture
def fake_bsre(pki: DemoPki, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningBsre]:
    """A fake BSrE-style service on 127.0.0.1, configured for the remote provider."""
    app = FakeBsre()
    with serve(app) as url:
        running = RunningBsre(app, url)
        app.add_user(running.nik, load_signer(EC_KEY, pki.keys), running.passphrase)
        monkeypatch.setenv("SIPADU_SIGNING_REMOTE_URL", url)
        monkeypatch.setenv("SIPADU_SIGNING_REMOTE_USER", app.client[0])
        monkeypatch.setenv("SIPADU_SIGNING_REMOTE_PASSWORD", app.client[1])
        yield running


def flip_byte_in_stream(pdf: bytes) -> bytes:
    """A copy with one byte changed inside the first content stream (the signed part)."""
    at = pdf.index(b"stream\n") + len(b"stream\n") + 5
    changed = bytearray(pdf)
    changed[at] ^= 0x01
    return bytes(changed)


def pdfsig(path: Path) -> subprocess.CompletedProcess[str]:
    """Run poppler's independent verifier; skip the test if it is not installed."""
    exe = shutil.which("pdfsig")
    if exe is None:
        pytest.skip("pdfsig is missing (apt-get install poppler-utils)")
    return subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60)


def pdf_with(root_entries: dict[str, generic.PdfObject]) -> bytes:
    """A minimal one-page PDF whose catalogue carries extra entries (e.g. an /OpenAction)."""
    writer = PdfFileWriter()
    for key, value in root_entries.items():
        writer.root[key] = value
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


__all__ = ["EC_KEY", "RSA_KEY", "flip_byte_in_stream", "pdf_with", "pdfsig", "verification_url"]
