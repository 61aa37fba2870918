"""The five shipped definitions load and say what the seed SOP texts say."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipadu.sop.engine import SOP, DurationKind, definition_files, load_directory, load_text


@pytest.fixture(scope="module")
def sops() -> dict[str, SOP]:
    """Every shipped definition, by code."""
    return {sop.code: sop for sop in load_directory()}


def _times(sop: SOP) -> list[str]:
    return [a.duration.text for a in sop.activities]


def test_five_seed_sops_are_shipped(sops: dict[str, SOP]) -> None:
    assert sorted(sops) == [
        "dik-jamila-mewa",
        "inovasi-pelayanan-bima",
        "kinerja-dokumen-sumbar",
        "pemanfaatan-data-palangkaraya",
        "sijarla-solok",
    ]
    assert [p.stem for p in definition_files()] == sorted(sops)
    assert {code: sop.office for code, sop in sops.items()} == {
        "inovasi-pelayanan-bima": "52.72",
        "dik-jamila-mewa": "63.11",
        "sijarla-solok": "13.02",
        "pemanfaatan-data-palangkaraya": "62.71",
        "kinerja-dokumen-sumbar": "13",
    }


def test_every_definition_is_complete(sops: dict[str, SOP]) -> None:
    for sop in sops.values():
        assert sop.identity.name and sop.identity.unit and sop.identity.approved_by
        for act in sop.activities:
            assert act.text, (sop.code, act.id)
            assert sop.executor(act.executor)


def test_bima(sops: dict[str, SOP]) -> None:
    sop = sops["inovasi-pelayanan-bima"]
    assert [e.name for e in sop.executors] == [
        "Kasi Kerjasama dan Inovasi Pelayanan",
        "Kabid PIAK dan Pemanfaatan Data",
        "Kepala Dinas",
        "Semua Pejabat Struktural",
        "ADB/Pelaksana Teknis",
    ]
    assert [a.number for a in sop.activities] == [str(n) for n in range(1, 9)]
    assert _times(sop) == [
        "1 hari",
        "1 hari",
        "2 hari",
        "1 hari",
        "1 hari",
        "2 hari",
        "1 hari",
        "Jam kerja harian",
    ]
    decision = sop.activity("keputusan").decision
    assert decision is not None
    assert (sop.activity(decision.yes).number, sop.activity(decision.no).number) == ("5", "4")
    assert sop.activity("keputusan").executor == "kepala-dinas"
    assert sop.activity("perbaikan").next == "rapat"
    last = sop.activities[-1]
    assert last.is_end and last.duration.kind is DurationKind.CONTINUOUS
    assert last.output == "Output inovasi pelayanan adminduk"
    assert "direplikasi" in last.remarks
    assert sop.identity.approved_by is not None
    assert sop.identity.approved_by.nip == "19670311 199303 1 013"


def test_dik_jamila(sops: dict[str, SOP]) -> None:
    sop = sops["dik-jamila-mewa"]
    assert [e.title for e in sop.executors] == [
        "OPERATOR LAYANAN",
        "OPERATOR SIAK",
        "KASI",
        "KABID",
        "KEPALA DINAS",
    ]
    assert [a.duration.amount for a in sop.activities] == [5, 5, 15, 10, 10, 10, 10, 5]
    assert all(a.duration.kind is DurationKind.MINUTES for a in sop.activities)
    branches = {
        a.number: (sop.activity(a.decision.yes).number, sop.activity(a.decision.no).number)
        for a in sop.activities
        if a.decision is not None
    }
    # Each "no" returns the file to the step of the previous role.
    assert branches == {"2": ("3", "1"), "4": ("5", "3"), "5": ("6", "4")}
    assert [sop.executor_of(a.id).id for a in sop.activities] == [
        "operator-layanan",
        "operator-siak",
        "operator-siak",
        "kasi",
        "kabid",
        "kepala-dinas",
        "operator-siak",
        "operator-layanan",
    ]
    assert sop.activity("tte").output.startswith("Dokumen yang telah dibubuhi TTE")
    assert sop.activities[-1].output == "Dokumen diterima Pemohon"
    assert sop.identity.effective == "01 April 2020"
    assert len(sop.identity.related) == 9


def test_sijarla(sops: dict[str, SOP]) -> None:
    sop = sops["sijarla-solok"]
    assert len(sop.activities) == 6
    assert sop.time_limit is not None
    assert (sop.time_limit.kind, sop.time_limit.amount) == (DurationKind.DAYS, 3)
    assert [e.id for e in sop.executors if e.external] == ["masyarakat", "wali-nagari"]
    assert [a.output for a in sop.activities] == [
        "",
        "",
        "Disposisi Surat Permohonan",
        "Surat Tugas",
        "Laporan Pelaksanaan Inovasi SIJARLA",
        "Rekapitulasi Pelayanan Inovasi SIJARLA",
    ]
    assert sop.role_of("laporan") == "ketua-tim-sijarla"
    assert all(not a.duration.has_standard for a in sop.activities)
    assert "3 hari" in sop.identity.warning


def test_palangkaraya(sops: dict[str, SOP]) -> None:
    sop = sops["pemanfaatan-data-palangkaraya"]
    assert [a.number for a in sop.activities] == [
        "1",
        "2",
        "3",
        "4",
        "4b",
        "5",
        "6",
        "7",
        "8",
        "9",
        "10",
        "11",
    ]
    assert _times(sop) == [
        "Tentatif",
        "2 hari",
        "2 hari",
        "4 jam",
        "4 jam",
        "10 menit",
        "4 jam",
        "1 jam",
        "1 jam",
        "Tentatif",
        "1 jam",
        "6 bulan sekali",
    ]
    assert sop.executor_of("konsultasi-pks").id == "dinas-provinsi"
    monev = sop.activity("monev")
    assert monev.recurrence is not None
    assert (monev.recurrence.every.kind, monev.recurrence.every.amount) == (DurationKind.MONTHS, 6)
    assert monev.is_end
    assert sop.output == "Laporan Pemanfaatan Data dan Dokumen Kependudukan"
    assert sop.identity.number == "065/5.148/DKPS/1/2022"


def test_sumbar(sops: dict[str, SOP]) -> None:
    sop = sops["kinerja-dokumen-sumbar"]
    assert [e.name for e in sop.executors] == ["Sekretariat", "Kabid", "Kasi KIP", "Staf"]
    assert _times(sop) == [
        "10 menit",
        "10 menit",
        "10 menit",
        "1 jam",
        "15 menit",
        "8 jam",
        "15 menit",
    ]
    assert [sop.executor_of(a.id).id for a in sop.activities] == [
        "kabid",
        "kasi-kip",
        "staf",
        "staf",
        "kasi-kip",
        "kabid",
        "sekretariat",
    ]
    assert sop.activity("lakip-bidang").output == "LAKIP Bidang"
    assert sop.identity.qualifications == ("Min D3 Komputer",)


def test_documented_example_is_valid() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "sop-format.md").read_text("utf-8")
    example = doc.split("## A short example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    sop = load_text(example, "sop-format.md")
    assert [a.successors() for a in sop.activities] == [
        ("periksa",),
        ("serah", "kelengkapan"),
        (),
    ]
