"""A fixed workload timed on this machine, printed beside a bench's figures.

VMs of the same size differ by up to twice in speed per core (and one VM from hour to hour),
so a figure means little without the machine's own speed measured in the same run:

- ``python_loop_ms``: ``sum(i * i for i in range(1_000_000))``, best of five;
- ``sqlite_insert_us``: one row of 30 text columns into an in-memory SQLite table through
  ``executemany``, per row, best of five runs of 100,000 rows.
"""

from __future__ import annotations

import platform
import sqlite3
import time
from collections.abc import Callable


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _best(func: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - started)
    return best


def reference() -> str:
    """One line: CPU model, ``python_loop_ms`` and ``sqlite_insert_us`` (see module doc)."""
    loop_s = _best(lambda: sum(i * i for i in range(1_000_000)))
    rows = [tuple(f"value-{i}-{j}" for j in range(30)) for i in range(100_000)]
    columns = ", ".join(f"c{j}" for j in range(30))
    marks = ", ".join("?" * 30)

    def insert() -> None:
        connection = sqlite3.connect(":memory:")
        connection.execute(f"CREATE TABLE t ({columns})")
        connection.executemany(f"INSERT INTO t VALUES ({marks})", rows)
        connection.close()

    insert_s = _best(insert)
    return (
        f"machine: {_cpu_model()}; python_loop_ms={loop_s * 1000:.0f} "
        f"sqlite_insert_us={insert_s / len(rows) * 1e6:.2f}"
    )


if __name__ == "__main__":
    print(reference())
