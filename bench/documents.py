"""Benchmark of document output: render (WeasyPrint, the real templates of
``sipadu/layanan/templates/layanan/documents/``) + PAdES sign (pyHanko), EC and RSA keys.

Run: ``.venv/bin/python bench/documents.py [--docs N] [--workers 2]``. It works in a private,
temporary data directory (its own demo CA), never touches ``var/``, needs no network.

Figures printed:
- render only, sign only and render+sign per second in one process (= per core);
- render+sign per second with a pool of ``--workers`` processes (fork; each worker renders
  and signs its share, the signer loaded once per worker);
- PAdES B-T sign-only rate against a local fake TSA over HTTP (for reference);
- render time per document layout (the seven PDF types of ``layanan.issuing``);
- a bulk session as step 6 runs it: 200 documents of mixed types rendered with the real
  templates and signed with the office's EC key (``issuing.render_pdf`` + ``sign_pdf``),
  written to disk, in one process (the SOP transaction of each item is not included).

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

import machine

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

from sipadu.core.models import Office  # noqa: E402
from sipadu.layanan import issuing  # noqa: E402
from sipadu.signing import ca  # noqa: E402
from sipadu.signing.fake_bsre import FakeTsa, dummy_stamper, serve  # noqa: E402
from sipadu.signing.pdf import verification_url  # noqa: E402
from sipadu.signing.providers import SignerRef  # noqa: E402
from sipadu.signing.providers.local import LocalProvider  # noqa: E402
from sipadu.signing.verify import verify_pdf  # noqa: E402
from sipadu.wilayah.models import Region  # noqa: E402

EC_KEY = "balangan-kepala-dinas"
RSA_KEY = "bench-rsa-3072"
RSA2048_KEY = "bench-rsa-2048"

TYPES = [
    "akta-kelahiran", "akta-kematian", "akta-perkawinan", "akta-perceraian",
    "pengakuan-anak", "pengesahan-anak", "kk",
]  # fmt: skip
NAMES = ["AHMAD FAUZI", "NUR HALIZA", "RIZKY PRATAMA", "SITI RAHMAH", "MUHAMMAD ALIF"]


def _office() -> Office:
    """Kabupaten Balangan's Dinas, unsaved (the templates read only names and the region)."""
    region = Region(code="63.11", name="Kabupaten Balangan", level=2)
    return Office(
        code="balangan",
        name="Dinas Kependudukan dan Pencatatan Sipil Kabupaten Balangan",
        region=region,
        address="Jl. A. Yani Km. 2,5 Paringin, Kalimantan Selatan 71662",
    )


OFFICE = _office()


def document_data(i: int, code: str = "akta-kelahiran") -> dict[str, object]:
    """The i-th distinct document as ``documents.document_data`` gives it (number, name,
    QR token differ); ``code`` picks the layout (the mix cycles through all seven)."""
    day = i % 28 + 1
    name = NAMES[i % len(NAMES)]
    draft = {
        "nik": f"631101{day:02d}0126{i % 10000:04d}",
        "full_name": name,
        "sex": "L" if i % 2 else "P",
        "birth_place": "Paringin",
        "birth_date": f"2026-01-{day:02d}",
        "no_kk": f"63110102012{i % 100000:05d}",
        "father_name": "MUHAMMAD RIDWAN",
        "mother_name": "SITI AMINAH",
        "applicant_name": "MUHAMMAD RIDWAN",
        "death_date": f"2025-12-{day:02d}",
        "death_place": "Paringin",
        "spouse_name": "MARIA LESTARI",
        "spouse_nik": f"631101{day:02d}0197{i % 10000:04d}",
        "marriage_date": f"2025-11-{day:02d}",
        "marriage_place": "Paringin",
        "court_decision_no": f"{i}/Pdt.G/2025/PN Amt",
        "court_decision_date": "2025-10-02",
        "father_nik": "6311010101900105",
        "marriage_cert_no": "KW-2025-001",
    }
    family = [
        {
            "nik": f"6311010101{90 + k}01{i % 100:02d}",
            "full_name": f"{NAMES[(i + k) % len(NAMES)]}",
            "sex": "Laki-laki" if k % 2 == 0 else "Perempuan",
            "birth_place": "Paringin",
            "birth_date": f"{1990 + 5 * k}-01-{day:02d}",
            "religion": "Islam",
            "education": "SLTA/Sederajat",
            "occupation": "Wiraswasta",
            "marital_status": "Kawin" if k < 2 else "Belum kawin",
            "relationship": ("Kepala keluarga", "Istri", "Anak", "Anak")[k],
            "nationality": "WNI",
            "father_name": "FULAN",
            "mother_name": "FULANAH",
        }
        for k in range(4)
    ]
    return {
        "type_code": code,
        "type_name": code.replace("-", " ").title(),
        "data": draft,
        "family": family if code == "kk" else [],
        "number": f"6311-LU-{day:02d}012026-{i:04d}",
        "issue_date": f"2026-01-{day:02d}",
        "verification_url": verification_url(f"tok{i:06d}abcdefghijkl"),
    }


def render(i: int, code: str = "akta-kelahiran") -> bytes:
    """Render the i-th document with the real template (``layanan.issuing``)."""
    return issuing.render_pdf(document_data(i, code), office=OFFICE, signer_name="H. RAHMADI")


def render_and_sign(key_id: str, start: int, count: int) -> tuple[int, float]:
    """Render and sign ``count`` documents; returns (count, CPU seconds of this process)."""
    provider = LocalProvider()
    signer = SignerRef(key_id=key_id)
    cpu = time.process_time()
    for i in range(start, start + count):
        provider.sign(render(i), signer=signer, reason="TTE")
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
    print(machine.reference(), file=sys.stderr, flush=True)
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
    pdfs = [render(i, code) for i, code in enumerate(TYPES)]  # warm every layout
    for key in (EC_KEY, RSA_KEY, RSA2048_KEY):
        assert verify_pdf(provider.sign(pdfs[0], signer=SignerRef(key_id=key))).ok

    with Clock() as clock:
        pdfs = [render(i) for i in range(n)]
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

    # Per layout: render time of each document type (the KK is the heaviest: two tables).
    for code in TYPES:
        with Clock() as clock:
            for i in range(20):
                render(i, code)
        rate(f"render only {code}", 20, clock.wall, clock.cpu)

    # Bulk session as the TTE step runs it (issuing.sign_issued minus the database): 200
    # documents of mixed types rendered from their data with the real templates, signed with
    # the office's EC key and written to disk, in one process.
    folder = Path(TMP) / "bulk"
    folder.mkdir()
    with Clock() as clock:
        for i in range(200):
            data = document_data(i, TYPES[i % len(TYPES)])
            pdf = issuing.render_pdf(data, office=OFFICE, signer_name="H. RAHMADI")
            signed = issuing.sign_pdf(pdf, office=OFFICE, data=data)
            (folder / f"signed-{i:03d}.pdf").write_bytes(signed)
    bulk = clock.wall
    rate("bulk session: 200 mixed docs render+sign (EC)", 200, clock.wall, clock.cpu)
    assert verify_pdf((folder / "signed-199.pdf").read_bytes()).ok
    print(f"render share of render+sign CPU (EC): {render_cpu / combined_cpu[EC_KEY] * 100:.0f} %")
    print(
        f"signed_per_s_ec={combined[EC_KEY]:.1f} signed_per_s_rsa={combined[RSA_KEY]:.1f} "
        f"bulk200_s={bulk:.2f}"
    )


if __name__ == "__main__":
    main()
