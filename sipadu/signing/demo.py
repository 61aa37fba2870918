"""Demo step: the demo CA and a Kepala Dinas signing key for each demo office."""

from __future__ import annotations

from collections.abc import Callable

from sipadu.core import demo
from sipadu.signing import ca, config


@demo.register("TTE (CA demo)", order=15)
def load(progress: Callable[[str], None]) -> list[str]:
    """Create the demo CA and signer keys unless they exist (idempotent)."""
    report = ca.init_demo_ca()
    progress(f"{len(report.created)} berkas dibuat, {len(report.kept)} sudah ada")
    return [
        f"TTE: CA demo dan kunci Kepala Dinas di {config.keys_dir()} "
        "(periksa PDF: sipadu signing verify BERKAS.pdf)."
    ]
