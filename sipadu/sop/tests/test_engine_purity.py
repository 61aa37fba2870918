"""The engine core must stay pure Python: no Django, no domain apps."""

from __future__ import annotations

import json
import subprocess
import sys


def test_engine_imports_neither_django_nor_other_sipadu_modules() -> None:
    code = (
        "import json, sys\n"
        "import sipadu.sop.engine as engine\n"
        "engine.load_directory()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    modules = json.loads(result.stdout)
    assert "sipadu.sop.engine.loader" in modules  # the probe really loaded the engine
    assert [m for m in modules if m == "django" or m.startswith("django.")] == []
    outside = [
        m
        for m in modules
        if m.startswith("sipadu")
        and m not in {"sipadu", "sipadu.sop"}
        and not m.startswith("sipadu.sop.engine")
    ]
    assert outside == []
