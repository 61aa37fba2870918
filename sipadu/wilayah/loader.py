"""Load the shipped region file into the database (idempotent, a few seconds)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction

from .models import Region, RegionPopulation, fold

DATA_DIR = Path(__file__).resolve().parent / "data"
REGIONS_CSV = DATA_DIR / "wilayah.csv"
POPULATION_CSV = DATA_DIR / "wilayah_penduduk.csv"
BATCH = 5000


def parent_code(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


def load_regions(
    path: Path = REGIONS_CSV,
    progress: Callable[[int], None] | None = None,
    region_model: Any = Region,
    population_model: Any = RegionPopulation,
) -> int:
    """Insert every region not yet present (parents first); return how many were added.

    The model classes can be passed in so that a data migration uses its historical models.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [(r["kode"].strip(), r["nama"].strip()) for r in csv.DictReader(handle)]
    # Sorting by depth then code guarantees a parent exists before its children.
    rows.sort(key=lambda r: (r[0].count("."), r[0]))
    existing = set(region_model.objects.values_list("code", flat=True))
    added = 0
    with transaction.atomic():
        batch: list[Any] = []
        for code, name in rows:
            if code in existing:
                continue
            batch.append(
                region_model(
                    code=code,
                    name=name,
                    name_folded=fold(name),
                    level=code.count(".") + 1,
                    parent_id=parent_code(code),
                )
            )
            if len(batch) >= BATCH:
                region_model.objects.bulk_create(batch)
                added += len(batch)
                batch = []
                if progress:
                    progress(added)
        if batch:
            region_model.objects.bulk_create(batch)
            added += len(batch)
            if progress:
                progress(added)
        load_population(region_model=region_model, population_model=population_model)
    return added


def load_population(
    path: Path = POPULATION_CSV,
    region_model: Any = Region,
    population_model: Any = RegionPopulation,
) -> int:
    """Upsert the published population of provinces and kabupaten/kota."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["kode"] != "0"]
    known = set(
        region_model.objects.filter(code__in=[r["kode"] for r in rows]).values_list(
            "code", flat=True
        )
    )
    objs = [
        population_model(
            region_id=r["kode"], male=int(r["pria"]), female=int(r["wanita"]), total=int(r["total"])
        )
        for r in rows
        if r["kode"] in known
    ]
    population_model.objects.bulk_create(
        objs,
        update_conflicts=True,
        unique_fields=["region"],
        update_fields=["male", "female", "total"],
    )
    return len(objs)
