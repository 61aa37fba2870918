"""Benchmark of document output: render (WeasyPrint) + PAdES sign (pyHanko), EC and RSA keys.

Run: ``.venv/bin/python bench/documents.py [--docs N] [--workers 2]``. It works in a private,
temporary data directory (its own demo CA), never touches ``var/``, needs no network.

Figures printed:
- render only, sign only and render+sign per second in one process (= per core);
- render+sign per second with a pool of ``--workers`` processes (fork; each worker renders
  and signs its share, the signer loaded once per worker);
- PAdES B-T sign-only rate against a local fake TSA over HTTP (for reference);
- a bulk session: 200 already rendered, distinct PDFs read from disk, signed with one loaded
  EC signer and written back, in one process.

Every line shows the wall-clock rate and the CPU time per document. The per-core rate is
taken from CPU time (``time.process_time`` of the process doing the work): on a quiet machine
it equals the wall-clock rate of one process, and it stays meaningful when other work shares
the machine (wall-clock rates then drop with the load and are not comparable).

Last line: ``signed_per_s_ec=N signed_per_s_rsa=N bulk200_s=N``: render + sign documents per
second per core (EC P-256, RSA 3072), and the bulk session's wall-clock seconds.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

TMP = tempfile.mkdtemp(prefix="sipadu-bench-docs-")
os.environ["SIPADU_DATA_DIR"] = TMP
os.environ.setdefault("SIPADU_HTTPS", "0")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sipadu.settings")
os.environ.pop("SIPADU_TSA_URL", None)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()
for _name in ("fontTools", "weasyprint", "pyhanko", "httpx"):
    logging.getLogger(_name).setLevel(logging.ERROR)

from sipadu.signing import ca  # noqa: E402
from sipadu.signing.fake_bsre import FakeTsa, dummy_stamper, serve  # noqa: E402
from sipadu.signing.pdf import html_to_pdf, qr_png_data_uri, verification_url  # noqa: E402
from sipadu.signing.providers import SignerRef  # noqa: E402
from sipadu.signing.providers.local import LocalProvider  # noqa: E402
from sipadu.signing.verify import verify_pdf  # noqa: E402

EC_KEY = "balangan-kepala-dinas"
RSA_KEY = "bench-rsa-3072"
RSA2048_KEY = "bench-rsa-2048"

KUTIPAN = """<!doctype html><html lang="id"><head><meta charset="utf-8"><style>
@page {{ size: A4; margin: 18mm 16mm; }}
body {{ font-family: 'DejaVu Sans', sans-serif; font-size: 10.5pt; color: #111; }}
header {{ text-align: center; border-bottom: 2px solid #000; padding-bottom: 6px; }}
header h2 {{ margin: 0; font-size: 12pt; }} header p {{ margin: 2px 0; font-size: 9pt; }}
h1 {{ text-align: center; font-size: 15pt; letter-spacing: 2px; margin: 14px 0 2px; }}
.nomor {{ text-align: center; margin-bottom: 14px; }}
table {{ width: 100%; border-collapse: collapse; }}
td {{ padding: 4px 2px; vertical-align: top; }} td.l {{ width: 38%; }}
.ttd {{ margin-top: 26px; }} .ttd td {{ width: 50%; }}
.qr img {{ width: 32mm; height: 32mm; }} .small {{ font-size: 8pt; color: #444; }}
</style></head><body>
<header><h2>PEMERINTAH KABUPATEN BALANGAN</h2>
<h2>DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL</h2>
<p>Jl. A. Yani Km. 2,5 Paringin, Kalimantan Selatan 71662</p></header>
<h1>KUTIPAN AKTA KELAHIRAN</h1>
<p class="nomor">Nomor: 6311-LT-{day}012026-{seq:04d}</p>
<table>
<tr><td class="l">Berdasarkan Akta Kelahiran Nomor</td><td>: 6311-LT-{day}012026-{seq:04d}</td></tr>
<tr><td class="l">NIK</td><td>: 6311 01 {day}01 26 {seq:04d}</td></tr>
<tr><td class="l">di</td><td>: PARINGIN</td></tr>
<tr><td class="l">pada tanggal</td><td>: {day} JANUARI 2026</td></tr>
<tr><td class="l">telah lahir</td><td>: {name}</td></tr>
<tr><td class="l">anak ke</td><td>: SATU, LAKI-LAKI</td></tr>
<tr><td class="l">dari ayah</td><td>: MUHAMMAD RIDWAN</td></tr>
<tr><td class="l">dan ibu</td><td>: SITI AMINAH</td></tr>
</table>
<table class="ttd"><tr><td class="qr"><img src="{qr}" alt="QR"><p class="small">Pindai
untuk memeriksa keaslian dokumen.</p></td>
<td><p>Paringin, {day} Januari 2026</p><p>KEPALA DINAS KEPENDUDUKAN DAN<br>PENCATATAN SIPIL</p>
<p class="small">Ditandatangani secara elektronik</p></td></tr></table>
<p class="small">Dokumen ini telah ditandatangani secara elektronik menggunakan sertifikat
elektronik. Cetak pada kertas HVS A4 (Permendagri 7/2019).</p>
</body></html>"""

NAMES = ["AHMAD FAUZI", "NUR HALIZA", "RIZKY PRATAMA", "SITI RAHMAH", "MUHAMMAD ALIF"]


def document_html(i: int) -> str:
    """The i-th distinct kutipan (number, name, QR token differ)."""
    return KUTIPAN.format(
        day=f"{i % 28 + 1:02d}",
        seq=i,
        name=NAMES[i % len(NAMES)],
        qr=qr_png_data_uri(verification_url(f"tok{i:06d}abcdef")),
    )


def render_and_sign(key_id: str, start: int, count: int) -> tuple[int, float]:
    """Render and sign ``count`` documents; returns (count, CPU seconds of this process)."""
    provider = LocalProvider()
    signer = SignerRef(key_id=key_id)
    cpu = time.process_time()
    for i in range(start, start + count):
        provider.sign(html_to_pdf(document_html(i)), signer=signer, reason="TTE")
    return count, time.process_time() - cpu


class Clock:
    """Wall and CPU time of a block (CPU time shows the cost when the machine is shared)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def rate(label: str, count: int, wall: float, cpu: float) -> float:
    """Print wall-clock and CPU-time rates; return the wall-clock rate."""
    print(
        f"{label:<46} {count:>4} docs {wall:7.2f} s {count / wall:7.1f} /s wall"
        f" | {cpu / count * 1000:6.1f} ms CPU/doc = {count / cpu:6.1f} /s per core"
    )
    return count / wall


def main() -> None:
    """Run every measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200, help="documents per measurement")
    parser.add_argument("--workers", type=int, default=2, help="processes in the pool")
    args = parser.parse_args()
    n = args.docs

    print(
        f"# {platform.node()} {platform.machine()} cpus={os.cpu_count()} "
        f"python={platform.python_version()} {time.strftime('%Y-%m-%d %H:%M %Z')} "
        f"loadavg={os.getloadavg()[0]:.2f}"
    )
    authority = ca.load_or_create_ca()
    ca.init_demo_ca(offices=["balangan"])
    ca.issue_signer(authority, RSA_KEY, "Bench RSA 3072", "Bench", algorithm="rsa-3072")
    ca.issue_signer(authority, RSA2048_KEY, "Bench RSA 2048", "Bench", algorithm="rsa-2048")
    provider = LocalProvider()
    pdfs = [html_to_pdf(document_html(i)) for i in range(3)]  # warm fonts and caches
    for key in (EC_KEY, RSA_KEY, RSA2048_KEY):
        assert verify_pdf(provider.sign(pdfs[0], signer=SignerRef(key_id=key))).ok

    with Clock() as clock:
        pdfs = [html_to_pdf(document_html(i)) for i in range(n)]
    rate("render only (1 process)", n, clock.wall, clock.cpu)
    render_cpu = clock.cpu / n
    print(f"{'':<46} mean PDF size {sum(map(len, pdfs)) // len(pdfs)} bytes")

    for label, key in (("EC P-256", EC_KEY), ("RSA 2048", RSA2048_KEY), ("RSA 3072", RSA_KEY)):
        signer = SignerRef(key_id=key)
        with Clock() as clock:
            for pdf in pdfs:
                provider.sign(pdf, signer=signer, reason="TTE")
        rate(f"sign only B-B {label} (1 process)", n, clock.wall, clock.cpu)

    combined: dict[str, float] = {}
    combined_cpu: dict[str, float] = {}
    for label, key in (("EC P-256", EC_KEY), ("RSA 3072", RSA_KEY)):
        with Clock() as clock:
            render_and_sign(key, 0, n)
        rate(f"render+sign {label} (1 process)", n, clock.wall, clock.cpu)
        combined[key] = n / clock.cpu
        combined_cpu[key] = clock.cpu / n

    # The pool is forked after the keys are loaded and the fonts warmed, as a worker would be.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        workers = range(args.workers)
        list(pool.map(render_and_sign, [EC_KEY] * args.workers, workers, [1] * args.workers))
        for label, key in (("EC P-256", EC_KEY), ("RSA 3072", RSA_KEY)):
            share = n // args.workers
            started = time.perf_counter()
            results = list(
                pool.map(
                    render_and_sign,
                    [key] * args.workers,
                    [w * share for w in workers],
                    [share] * args.workers,
                )
            )
            seconds = time.perf_counter() - started
            done = sum(count for count, _ in results)
            cpu = sum(spent for _, spent in results)
            total = rate(f"render+sign {label} ({args.workers} processes)", done, seconds, cpu)
            print(f"{'':<46} = {total / args.workers:.1f} /s wall per process")

    with serve(FakeTsa(dummy_stamper(authority))) as url:
        os.environ["SIPADU_TSA_URL"] = url + "/tsa"
        signer = SignerRef(key_id=EC_KEY)
        count = min(n, 100)
        with Clock() as clock:
            for pdf in pdfs[:count]:
                provider.sign(pdf, signer=signer)
        # CPU here includes the fake TSA, which runs in this process.
        rate("sign B-T EC + fake TSA (HTTP, same process)", count, clock.wall, clock.cpu)
        del os.environ["SIPADU_TSA_URL"]

    # Bulk session: 200 rendered, distinct PDFs on disk → signed copies on disk.
    folder = Path(TMP) / "bulk"
    folder.mkdir()
    for i in range(200):
        (folder / f"draft-{i:03d}.pdf").write_bytes(
            pdfs[i] if i < len(pdfs) else html_to_pdf(document_html(i))
        )
    signer = SignerRef(key_id=EC_KEY)
    with Clock() as clock:
        for path in sorted(folder.glob("draft-*.pdf")):
            signed = provider.sign(path.read_bytes(), signer=signer, reason="TTE")
            path.with_name(path.name.replace("draft", "signed")).write_bytes(signed)
    bulk = clock.wall
    rate("bulk session: 200 drafts signed (EC, 1 proc)", 200, clock.wall, clock.cpu)
    assert verify_pdf((folder / "signed-199.pdf").read_bytes()).ok
    print(f"render share of render+sign CPU (EC): {render_cpu / combined_cpu[EC_KEY] * 100:.0f} %")
    print(
        f"signed_per_s_ec={combined[EC_KEY]:.1f} signed_per_s_rsa={combined[RSA_KEY]:.1f} "
        f"bulk200_s={bulk:.2f}"
    )


if __name__ == "__main__":
    main()
