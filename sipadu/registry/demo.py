"""Demo step: a small synthetic population for the five seed regions."""

from __future__ import annotations

from collections.abc import Callable

from sipadu.core import demo

from .generator import generate

# The seed regions (Kab. Solok is part of Sumatera Barat, generated with the province).
DEMO_REGIONS = ("63.11", "52.72", "62.71", "13")
DEMO_SCALE = 0.01
DEMO_SEED = 2026


@demo.register("registry", order=20)
def load(progress: Callable[[str], None]) -> list[str]:
    """Generate residents at 1% of the published population; skips what is already there."""
    total = 0
    for code in DEMO_REGIONS:
        result = generate(code, scale=DEMO_SCALE, seed=DEMO_SEED)
        total += result.residents
        progress(
            f"{code}: {result.residents} penduduk baru, {len(result.skipped)} kab/kota sudah ada"
        )
    return [f"Registri: {total} penduduk sintetis dibuat."] if total else []
