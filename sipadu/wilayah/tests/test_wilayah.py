from io import StringIO

import pytest
from django.core.management import call_command

from sipadu.wilayah import services
from sipadu.wilayah.loader import load_regions
from sipadu.wilayah.models import Region, RegionPopulation

pytestmark = pytest.mark.django_db


def test_all_regions_of_kepmendagri_2025_are_loaded_as_a_tree():
    assert Region.objects.count() == 91_599
    assert Region.objects.filter(level=1).count() == 38
    assert Region.objects.filter(level=2).count() == 514
    assert Region.objects.filter(level=3).count() == 7_285
    assert Region.objects.filter(level=4).count() == 83_762
    assert not Region.objects.filter(level__gt=1, parent__isnull=True).exists()
    assert RegionPopulation.objects.get(region_id="13").total > 5_000_000


def test_loading_again_adds_nothing():
    assert load_regions() == 0


def test_lookup_children_and_ancestors():
    balangan = services.get_region("6311")
    assert balangan is not None and balangan.name == "Kabupaten Balangan"
    assert services.get_region("63.11") == balangan
    assert services.get_region("99.99") is None
    kecamatan = list(services.children("63.11"))
    assert {r.level for r in kecamatan} == {3}
    assert any(r.name == "Juai" for r in kecamatan)
    desa = Region.objects.filter(code__startswith="63.11.01.").first()
    assert [r.code for r in desa.ancestors()] == ["63", "63.11", "63.11.01"]
    assert [r.code for r in services.children(None)][:2] == ["11", "12"]


def test_search_is_case_and_accent_blind_and_prefers_prefix_matches():
    found = services.search("KOTA PALANGKA", level=2)
    assert [r.code for r in found] == ["62.71"]
    within = services.search("juai", within="63.11")
    assert within and all(r.code.startswith("63.11.") for r in within)
    assert services.search("   ") == []
    assert services.search("Bima")[0].level == 2


def test_kota_and_desa_types():
    assert Region.objects.get(code="52.72").is_kota
    assert not Region.objects.get(code="52.06").is_kota
    kel = Region.objects.filter(level=4, code__regex=r"\.1\d{3}$").first()
    assert kel.desa_type == "kelurahan"


def test_command_show_and_unknown_code():
    out = StringIO()
    call_command("wilayah", "show", "13.02", stdout=out)
    assert "Kabupaten Solok" in out.getvalue() and "Sumatera Barat" in out.getvalue()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="tidak dikenal"):
        call_command("wilayah", "show", "00.00")
