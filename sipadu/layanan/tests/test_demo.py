"""The demo step leaves requests waiting at every step of the SOP in Kab. Balangan."""

from __future__ import annotations

from typing import Any

from sipadu.core.demo_data import load as load_offices
from sipadu.layanan.demo import load
from sipadu.layanan.models import DocumentRequest, IssuedDocument, RequestStatus
from sipadu.registry.generator import generate


def test_demo_requests_wait_at_every_step(db: Any) -> None:
    load_offices(lambda _m: None)
    generate("63.11", scale=0.003, seed=7)
    lines = load(lambda _m: None)
    assert lines and "PIN" in lines[0]
    requests = list(DocumentRequest.objects.select_related("case"))
    assert len(requests) >= 10
    waiting_at = {
        t.activity_id for r in requests if r.case is not None for t in r.case.live_tasks()
    }
    assert waiting_at == {
        "kelengkapan",
        "kesesuaian-siak",
        "entri-siak",
        "periksa-draft",
        "verifikasi",
        "tte",
        "cetak",
        "serah",
    }
    statuses = {r.status for r in requests}
    assert {RequestStatus.WAITING_CITIZEN, RequestStatus.DONE, RequestStatus.READY} <= statuses
    assert IssuedDocument.objects.count() >= 4
    # Idempotent: a second run adds nothing.
    assert load(lambda _m: None) == []
    assert DocumentRequest.objects.count() == len(requests)
