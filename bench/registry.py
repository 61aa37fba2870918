"""Registry benchmark: generate, export to CSV, import, search, read coverage, recompute.

    python bench/registry.py --quick     # 1,000,000 residents of Sumatera Barat
    python bench/registry.py             # Sumatera Barat at scale 1.0 (about 5.8 million)

Works in a fresh SQLite database under a temporary data directory (or PostgreSQL when
DATABASE_URL is set, which it then fills). The last line is
``import_rows_per_s=N search_ms=N coverage_query_ms=N recompute_s=N duckdb_s=N``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXPORT_COLUMNS = (
    ("nik", "nik"),
    ("no_kk", "no_kk"),
    ("full_name", "nama_lengkap"),
    ("sex", "jenis_kelamin"),
    ("birth_place", "tempat_lahir"),
    ("birth_date", "tanggal_lahir"),
    ("religion", "agama"),
    ("marital_status", "status_kawin"),
    ("relationship", "shdk"),
    ("education", "pendidikan"),
    ("occupation", "pekerjaan"),
    ("blood_type", "golongan_darah"),
    ("nationality", "kewarganegaraan"),
    ("father_name", "nama_ayah"),
    ("mother_name", "nama_ibu"),
    ("is_alive", "status_hidup"),
    ("death_date", "tanggal_kematian"),
    ("desa_id", "kode_desa"),
    ("akta_kelahiran_no", "no_akta_lahir"),
    ("akta_kelahiran_date", "tgl_akta_lahir"),
    ("ktp_el_recorded", "ktp_el_rekam"),
    ("ktp_el_printed", "ktp_el_cetak"),
    ("kia", "kia"),
    ("akta_kematian_no", "no_akta_kematian"),
    ("akta_perkawinan_no", "no_akta_perkawinan"),
    ("akta_perceraian_no", "no_akta_perceraian"),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def setup(data_dir: str) -> None:
    os.environ.setdefault("SIPADU_DATA_DIR", data_dir)
    os.environ.setdefault("SIPADU_HTTPS", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sipadu.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def export_csv(path: Path) -> int:
    from django.db import connection

    columns = ", ".join("no_kk" if c == "no_kk" else c for c, _h in EXPORT_COLUMNS)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle, connection.cursor() as cursor:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow([h for _c, h in EXPORT_COLUMNS])
        cursor.execute(f"SELECT {columns} FROM registry_penduduk")
        alive_at = [c for c, _h in EXPORT_COLUMNS].index("is_alive")
        while batch := cursor.fetchmany(20000):
            for row in batch:
                out = ["" if v is None else v for v in row]
                out[alive_at] = "HIDUP" if row[alive_at] else "MATI"
                for i, value in enumerate(out):
                    if isinstance(value, bool):
                        out[i] = "1" if value else "0"
                writer.writerow(out)
            rows += len(batch)
    return rows


def wipe() -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE registry_keluarga SET kepala_id = NULL")
        for table in (
            "registry_pendudukchange",
            "registry_penduduk",
            "registry_keluarga",
            "registry_coveragecounter",
        ):
            cursor.execute(f"DELETE FROM {table}")
    if connection.vendor == "sqlite":
        # Give the pages back, so the import starts as a new installation's first load does
        # (a free-page list left by a million deleted rows makes runs slower and noisy).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")


def reset_peak_rss() -> None:
    """Forget the peak RSS so far (Linux), so the import's own peak is measured."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    """Peak RSS since :func:`reset_peak_rss` (Linux), else since the process started."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(func, repeat: int) -> float:
    """Median milliseconds of ``repeat`` calls."""
    samples = []
    for i in range(repeat):
        started = time.perf_counter()
        func(i)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


DUCKDB_SQL = """
SELECT kode_desa,
  count(*) FILTER (WHERE alive AND tanggal_lahir > DATE '{b17}' AND no_akta_lahir IS NOT NULL),
  count(*) FILTER (WHERE alive AND tanggal_lahir > DATE '{b17}'),
  count(*) FILTER (WHERE alive AND tanggal_lahir > DATE '{b18}' AND no_akta_lahir IS NOT NULL),
  count(*) FILTER (WHERE alive AND tanggal_lahir > DATE '{b18}'),
  count(*) FILTER (WHERE alive AND single AND tanggal_lahir > DATE '{b16}' AND kia = 1),
  count(*) FILTER (WHERE alive AND single AND tanggal_lahir > DATE '{b16}'),
  count(*) FILTER (WHERE alive AND (NOT single OR tanggal_lahir <= DATE '{w17}')
                   AND ktp_el_rekam = 1),
  count(*) FILTER (WHERE alive AND (NOT single OR tanggal_lahir <= DATE '{w17}')),
  count(*) FILTER (WHERE alive AND no_kk IS NOT NULL),
  count(*) FILTER (WHERE alive),
  count(*) FILTER (WHERE NOT alive AND no_akta_kematian IS NOT NULL),
  count(*) FILTER (WHERE NOT alive)
FROM (SELECT *, status_hidup = 'HIDUP' AS alive, status_kawin = 'belum_kawin' AS single
      FROM read_csv('{path}', delim=';', header=true, all_varchar=false))
GROUP BY kode_desa
"""


def duckdb_aggregate(path: Path) -> tuple[float, int]:
    import duckdb

    from sipadu.registry import coverage

    ref = coverage.reference_date()
    sql = DUCKDB_SQL.format(
        path=path,
        b17=coverage.born_after(ref, 17),
        b18=coverage.born_after(ref, 18),
        b16=coverage.born_after(ref, 16),
        w17=coverage.years_before(ref, 17),
    )
    started = time.perf_counter()
    relation = duckdb.sql(sql)
    assert relation is not None
    rows = relation.fetchall()
    return time.perf_counter() - started, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000,000 residents only")
    parser.add_argument("--region", default="13")
    parser.add_argument(
        "--residents",
        type=int,
        default=0,
        help="Target number of residents (overrides --quick/full).",
    )
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="sipadu-bench-registry-")
    setup(workdir)

    from sipadu.core.services import ensure_office
    from sipadu.registry import coverage, generator, importers
    from sipadu.registry.models import Penduduk
    from sipadu.registry.search import Query, search
    from sipadu.wilayah.models import RegionPopulation

    total = RegionPopulation.objects.get(region_id=args.region).total
    target = args.residents or (1_000_000 if args.quick else total)
    scale = min(2.0, target / total)
    log(f"data dir {workdir}; generating {target:,} residents of {args.region} (scale {scale:.4f})")
    started = time.perf_counter()
    result = generator.generate(args.region, scale=scale, seed=1)
    generate_s = time.perf_counter() - started
    log(
        f"generated {result.residents:,} residents, {result.families:,} families in "
        f"{generate_s:.1f} s ({result.residents / generate_s:,.0f}/s)"
    )

    path = Path(workdir) / "penduduk.csv"
    started = time.perf_counter()
    rows = export_csv(path)
    log(
        f"exported {rows:,} rows ({path.stat().st_size / 1e6:,.0f} MB) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    wipe()
    log(machine.reference())
    reset_peak_rss()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    cpu_started = time.process_time()
    imported = importers.import_file(str(path))
    import_s = time.perf_counter() - started
    main_cpu = time.process_time() - cpu_started
    # The import returns once committed; its write-ahead log is copied back into the database
    # by a background checkpoint, timed here too (search and coverage below wait for it).
    importers.wait_for_checkpoints()
    checkpoint_s = time.perf_counter() - started - import_s
    assert imported.committed, (imported.fatal, imported.problems[:5])
    import_rate = imported.rows_total / import_s
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    log(
        f"imported {imported.rows_total:,} rows in {import_s:.1f} s ({import_rate:,.0f}/s); "
        f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}; CPU: writer "
        f"{main_cpu:.1f} s ({imported.rows_total / main_cpu:,.0f} rows per CPU-second), "
        f"background checkpoint {checkpoint_s:.1f} s more ("
        f"{imported.rows_total / (import_s + checkpoint_s):,.0f} rows/s with it); "
        f"reader {children.ru_utime + children.ru_stime:.1f} s; peak RSS writer "
        f"{peak_rss_mb():,.0f} MB (during the import), reader "
        f"{children.ru_maxrss / 1024:,.0f} MB"
    )

    office = ensure_office("bench-province", "Bench province office", args.region)
    rng = random.Random(5)
    sample = (
        list(Penduduk.objects.order_by("?").values_list("nik", "full_name")[:400])
        if rows < 2_000_000
        else list(Penduduk.objects.values_list("nik", "full_name")[:400])
    )
    rng.shuffle(sample)
    nik_ms = timed(lambda i: search(office, Query(sample[i % len(sample)][0])), 200)
    name_ms = timed(
        lambda i: search(office, Query(sample[i % len(sample)][1].split()[0]), limit=50), 200
    )
    fuzzy_ms = timed(
        lambda i: search(office, Query(sample[i % len(sample)][1][:-1] + "x"), limit=50), 100
    )
    log(
        f"search median: NIK {nik_ms:.2f} ms, name prefix {name_ms:.2f} ms, "
        f"approximate {fuzzy_ms:.2f} ms"
    )
    kab = sorted(coverage.children_figures(args.region))
    coverage_ms = timed(
        lambda i: (
            coverage.region_figures(kab[i % len(kab)]),
            coverage.children_figures(kab[i % len(kab)]),
        ),
        200,
    )
    log(f"coverage read (a kab/kota and its kecamatan) median {coverage_ms:.2f} ms")
    before = coverage.stored()
    started = time.perf_counter()
    coverage.recompute()
    recompute_s = time.perf_counter() - started
    agree = coverage.stored() == before
    log(f"recompute {recompute_s:.2f} s; incremental figures agree: {agree}")
    duck_s, groups = duckdb_aggregate(path)
    log(f"duckdb same aggregation over the CSV: {duck_s:.2f} s ({groups:,} desa)")
    search_ms = max(nik_ms, name_ms)
    print(
        f"import_rows_per_s={import_rate:.0f} search_ms={search_ms:.1f} "
        f"coverage_query_ms={coverage_ms:.1f} recompute_s={recompute_s:.2f} "
        f"duckdb_s={duck_s:.2f}"
    )


if __name__ == "__main__":
    main()
