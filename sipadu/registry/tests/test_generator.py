import datetime as dt
from collections import Counter

import pytest

from sipadu.registry import coverage, generator
from sipadu.registry.models import Keluarga, Penduduk
from sipadu.registry.nik import decode_kk, decode_nik
from sipadu.wilayah.models import Region

TODAY = dt.date(2026, 3, 10)


@pytest.mark.django_db
def test_generated_residents_are_consistent_and_realistic():
    result = generator.generate("63.11", scale=0.05, seed=7, today=TODAY)
    total = Region.objects.get(code="63.11").population.total
    assert abs(result.residents - total * 0.05) < 10  # whole households: a few over
    desa = set(
        Region.objects.filter(code__startswith="63.11.", level=4).values_list("code", flat=True)
    )
    people = list(
        Penduduk.objects.values(
            "nik", "sex", "birth_date", "desa_id", "keluarga_id", "relationship", "is_alive"
        )
    )
    for p in people:
        check = decode_nik(p["nik"], sex=p["sex"], birth_date=p["birth_date"], today=TODAY)
        assert check.valid, check.errors
        assert p["desa_id"] in desa
        assert p["nik"][:6] == p["desa_id"].replace(".", "")[:6]
    for kk in Keluarga.objects.values_list("no_kk", flat=True):
        assert decode_kk(kk, today=TODAY).valid
    assert len({p["nik"] for p in people}) == len(people)
    # Every KK has exactly one head, and the family's head is that person.
    heads = Counter(
        p["keluarga_id"] for p in people if p["relationship"] == "kepala" and p["keluarga_id"]
    )
    assert set(heads.values()) == {1}
    assert Keluarga.objects.filter(kepala__isnull=True).count() == 0
    ages = [(TODAY - p["birth_date"]).days / 365.25 for p in people]
    children = sum(a < 18 for a in ages) / len(ages)
    assert 0.2 < children < 0.45
    assert sum(a >= 65 for a in ages) / len(ages) > 0.02


@pytest.mark.django_db
def test_document_ownership_is_near_national_figures_and_varies_by_village():
    generator.generate("13.02", scale=0.05, seed=3, today=TODAY)
    figures = coverage.region_figures("13.02")
    assert 88 < figures["akta_lahir_0_17"].percent < 97
    assert 40 < figures["kia"].percent < 62
    assert 94 < figures["ktp_el"].percent < 99.5
    desa = [f["akta_lahir_0_17"].percent for code, f in coverage.children_figures("13.02").items()]
    villages = []
    for kec in coverage.children_figures("13.02"):
        villages += [
            f["akta_lahir_0_17"]
            for f in coverage.children_figures(kec).values()
            if f["akta_lahir_0_17"].denominator >= 15
        ]
    assert desa
    assert min(f.percent for f in villages) < 80  # some villages are clearly behind
    assert coverage.stored() == coverage.compute(coverage.reference_date())


@pytest.mark.django_db
def test_generation_is_deterministic_for_a_seed():
    generator.generate("52.72", scale=0.01, seed=11, today=TODAY)
    first = list(Penduduk.objects.order_by("nik").values_list("nik", "full_name", "desa_id"))
    Keluarga.objects.update(kepala=None)
    Penduduk.objects.all().delete()
    Keluarga.objects.all().delete()
    generator.generate("52.72", scale=0.01, seed=11, today=TODAY)
    again = list(Penduduk.objects.order_by("nik").values_list("nik", "full_name", "desa_id"))
    assert first == again


@pytest.mark.django_db
def test_a_populated_region_is_skipped():
    generator.generate("52.72", scale=0.005, seed=1, today=TODAY)
    count = Penduduk.objects.count()
    result = generator.generate("52.72", scale=0.005, seed=2, today=TODAY)
    assert result.skipped == ["52.72"] and Penduduk.objects.count() == count


@pytest.mark.django_db
def test_a_kecamatan_gets_its_share():
    kec = Region.objects.filter(code__startswith="63.11.", level=3).order_by("code").first()
    generator.generate(kec.code, scale=0.05, seed=1, today=TODAY)
    assert not Penduduk.objects.exclude(desa__code__startswith=kec.code + ".").exists()
    assert Penduduk.objects.count() > 10


@pytest.mark.django_db
def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="unknown region"):
        generator.generate("99.99", scale=0.1)
    with pytest.raises(ValueError, match="scale"):
        generator.generate("63.11", scale=0)


@pytest.mark.django_db
def test_generate_command(capsys):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    call_command(
        "registry",
        "generate",
        "--region",
        "52.72",
        "--scale",
        "0.002",
        "--seed",
        "5",
        stdout=out,
        stderr=io.StringIO(),
    )
    assert "penduduk" in out.getvalue() and Penduduk.objects.exists()
    with pytest.raises(CommandError, match="unknown region"):
        call_command("registry", "generate", "--region", "00", stdout=io.StringIO())


@pytest.mark.django_db
def test_demo_step_loads_the_seed_regions_once(monkeypatch):
    from sipadu.core import demo as core_demo
    from sipadu.registry import demo

    monkeypatch.setattr(demo, "DEMO_SCALE", 0.0005)
    step = next(s for s in core_demo.steps() if s.name == "registry")
    lines = step.run(lambda message: None)
    assert lines and Penduduk.objects.exists()
    for code in ("63.11", "52.72", "13.02", "62.71", "13.01"):
        assert Penduduk.objects.filter(desa__code__startswith=code + ".").exists(), code
    count = Penduduk.objects.count()
    assert step.run(lambda message: None) == []
    assert Penduduk.objects.count() == count
