"""The demo step leaves requests waiting at every step of the SOP in Kab. Balangan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import time_machine

from sipadu.core.demo_data import load as load_offices
from sipadu.layanan.demo import age_window, load, pick_residents
from sipadu.layanan.models import DocumentRequest, IssuedDocument, RequestStatus
from sipadu.registry.generator import generate
from sipadu.registry.models import Penduduk


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
    # Every PDF layout is left signed at least once (cards get print jobs instead).
    signed_types = set(
        IssuedDocument.objects.exclude(sha256="").values_list("document_type__code", flat=True)
    )
    assert signed_types == {
        "akta-kelahiran",
        "kk",
        "akta-kematian",
        "akta-perkawinan",
        "akta-perceraian",
        "pengakuan-anak",
        "pengesahan-anak",
    }
    # The death was recorded in the registry with its akta number.
    kematian = IssuedDocument.objects.get(document_type__code="akta-kematian")
    deceased = kematian.request.penduduk
    assert deceased is not None and not deceased.is_alive
    assert deceased.akta_kematian_no == kematian.number
    # Idempotent: a second run adds nothing.
    assert load(lambda _m: None) == []
    assert DocumentRequest.objects.count() == len(requests)


def test_resident_picking_works_on_29_february(
    office: Any, make_resident: Callable[..., Penduduk]
) -> None:
    leap = dt.date(2028, 2, 29)
    assert age_window(leap, 0, 4) == (dt.date(2023, 2, 28), leap)
    assert age_window(leap, 5, 15) == (dt.date(2012, 2, 29), dt.date(2023, 2, 28))
    child = make_resident(full_name="Anak Kabisat", birth_date=dt.date(2024, 2, 29))
    with time_machine.travel(dt.datetime(2028, 2, 29, 9, 0, tzinfo=dt.UTC), tick=False):
        assert dt.date.today() == leap
        for code in (
            "akta-kelahiran",
            "kia",
            "pengakuan-anak",
            "akta-kematian",
            "akta-perkawinan",
            "ktp-el",
            "kk",
        ):
            pick_residents(office, code, 3)
        assert child in pick_residents(office, "akta-kelahiran", 3)
