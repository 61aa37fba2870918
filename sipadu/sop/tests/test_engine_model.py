"""The frozen model: look-ups, successors, returns and durations."""

from __future__ import annotations

import dataclasses

import pytest

from sipadu.sop.engine import (
    SOP,
    Activity,
    Decision,
    Duration,
    DurationKind,
    Executor,
    Identity,
    edges,
)
from sipadu.sop.engine.graph import adjacency, reachable, reaching

MIN5 = Duration(DurationKind.MINUTES, 5, "5 menit")


def _sop() -> SOP:
    return SOP(
        code="contoh",
        version="1",
        identity=Identity(name="Contoh", agency="Pemerintah", unit="Dinas"),
        executors=(
            Executor("op", "Operator", "operator-layanan"),
            Executor("kasi", "Kasi", "kasi-pelayanan", title="KASI"),
        ),
        activities=(
            Activity("terima", "1", "Terima", "op", (), MIN5, "Berkas", next="periksa"),
            Activity(
                "periksa",
                "2",
                "Periksa",
                "kasi",
                ("Berkas",),
                MIN5,
                "Hasil",
                decision=Decision("Sesuai?", yes="selesai", no="terima"),
            ),
            Activity("selesai", "3", "Selesai", "op", (), MIN5, "Dokumen", role="staf"),
        ),
    )


def test_lookups_and_flow() -> None:
    sop = _sop()
    assert sop.start.id == "terima"
    assert sop.activity("periksa").is_decision
    assert not sop.activity("terima").is_end
    assert [a.id for a in sop.successors("periksa")] == ["selesai", "terima"]
    assert [a.id for a in sop.ends] == ["selesai"]
    assert sop.executor_of("periksa").name == "Kasi"
    assert sop.role_of("periksa") == "kasi-pelayanan"
    assert sop.role_of("selesai") == "staf"
    assert sop.roles == ("operator-layanan", "kasi-pelayanan", "staf")
    assert sop.index("selesai") == 2
    assert sop.is_return("periksa", "terima")
    assert not sop.is_return("terima", "periksa")


def test_unknown_ids_name_the_id() -> None:
    sop = _sop()
    with pytest.raises(KeyError, match="no activity 'x'"):
        sop.activity("x")
    with pytest.raises(KeyError, match="no executor 'y'"):
        sop.executor("y")


def test_model_is_immutable() -> None:
    sop = _sop()
    with pytest.raises(dataclasses.FrozenInstanceError):
        sop.code = "lain"  # type: ignore[misc]


def test_executor_label_prefers_title() -> None:
    sop = _sop()
    assert sop.executor("kasi").label == "KASI"
    assert sop.executor("op").label == "Operator"


def test_duration_properties() -> None:
    assert MIN5.has_standard and MIN5.minutes == 5 and str(MIN5) == "5 menit"
    assert Duration(DurationKind.HOURS, 4, "4 jam").minutes == 240
    assert Duration(DurationKind.DAYS, 2, "2 hari").minutes is None
    assert not Duration(DurationKind.TENTATIVE, 0, "Tentatif").has_standard
    assert not Duration(DurationKind.CONTINUOUS, 0, "Jam kerja harian").has_standard


def test_edges_mark_returns_and_labels() -> None:
    found = {(e.source, e.target): (e.label, e.is_return) for e in edges(_sop())}
    assert found == {
        ("terima", "periksa"): ("", False),
        ("periksa", "selesai"): ("Ya", False),
        ("periksa", "terima"): ("Tidak", True),
    }


def test_reachability_helpers() -> None:
    graph = adjacency(_sop())
    assert reachable(graph, "selesai") == {"selesai"}
    assert reachable(graph, "terima") == {"terima", "periksa", "selesai"}
    assert reaching(graph, ["selesai"]) == {"terima", "periksa", "selesai"}
    assert reaching({"a": ("a",), "b": ()}, ["b"]) == {"b"}
