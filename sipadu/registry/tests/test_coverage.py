import datetime as dt
import io
import random

import pytest
from django.core.management import call_command

from sipadu.registry import actions, coverage
from sipadu.registry.models import CoverageSnapshot, CoverageState, Keluarga, MaritalStatus
from sipadu.registry.nik import encode_kk
from sipadu.wilayah.models import Region


def _desa_pool():
    codes = list(
        Region.objects.filter(code__startswith="63.11.", level=4)
        .order_by("code")
        .values_list("code", flat=True)
    )
    # Villages in different kecamatan, plus one in another province.
    return [
        codes[0],
        codes[1],
        codes[-1],
        Region.objects.filter(code__startswith="13.02.", level=4).first().code,
    ]


def _figure(code, indicator):
    f = coverage.region_figures(code)[indicator]
    return f.numerator, f.denominator


@pytest.mark.django_db
def test_figures_follow_one_resident(make_person, balangan_desa):
    ref = coverage.reference_date()
    child = make_person(balangan_desa, birth_date=ref - dt.timedelta(days=365 * 5), sex="L")
    assert _figure("63.11", "akta_lahir_0_17") == (0, 1)
    assert _figure("63.11", "kia") == (0, 1)
    assert _figure("63", "kk") == (0, 1)
    child = actions.issue_document(None, child, "akta_kelahiran", number="AL-1")
    child = actions.issue_document(None, child, "kia")
    assert _figure(balangan_desa, "akta_lahir_0_17") == (1, 1)
    assert _figure(balangan_desa[:8], "kia") == (1, 1)  # the kecamatan
    actions.record_death(None, child, ref)
    assert _figure("63.11", "akta_lahir_0_17") == (0, 0)
    assert _figure("63.11", "akta_kematian") == (0, 1)
    assert coverage.stored() == coverage.compute(ref)


@pytest.mark.django_db
def test_wajib_ktp_is_17_or_ever_married(make_person, balangan_desa):
    ref = coverage.reference_date()
    sixteen = ref - dt.timedelta(days=int(365.25 * 16.5))
    make_person(balangan_desa, birth_date=sixteen)
    assert _figure("63.11", "ktp_el") == (0, 0)
    make_person(balangan_desa, birth_date=sixteen, marital_status=MaritalStatus.KAWIN)
    assert _figure("63.11", "ktp_el") == (0, 1)
    assert _figure("63.11", "kia") == (0, 1)  # the married girl is not counted for KIA
    turns_17_on_ref = coverage.years_before(ref, 17)
    make_person(balangan_desa, birth_date=turns_17_on_ref, ktp_el_recorded=True)
    assert _figure("63.11", "ktp_el") == (1, 2)


def _random_step(rng, people, pool, ref):
    """One random create/update/death/document action; returns the resident touched."""
    choice = rng.random()
    if choice < 0.35 or not people:
        desa = rng.choice(pool)
        born = ref - dt.timedelta(days=rng.randrange(0, 365 * 30))
        # Ages straddling every band edge (16/17/18/19) are the interesting ones.
        if rng.random() < 0.3:
            born = coverage.years_before(ref, rng.choice([16, 17, 18, 19])) + dt.timedelta(
                days=rng.choice([-1, 0, 1])
            )
        sex = rng.choice("LP")
        from sipadu.registry.nik import encode_nik

        data = {
            "nik": encode_nik(desa.replace(".", "")[:6], born, sex, len(people) + 1),
            "full_name": f"Warga {len(people)}",
            "sex": sex,
            "birth_date": born,
            "desa_id": desa,
            "marital_status": rng.choice(list(MaritalStatus.values)),
            "kia": rng.random() < 0.5,
            "ktp_el_recorded": rng.random() < 0.5,
            "akta_kelahiran_no": "AL" if rng.random() < 0.5 else "",
        }
        if rng.random() < 0.5:
            kk = encode_kk(desa.replace(".", "")[:6], dt.date(2020, 1, 1), len(people) + 1)
            Keluarga.objects.create(no_kk=kk, desa_id=desa)
            data["keluarga_id"] = kk
        people.append(actions.create_penduduk(None, data))
        return
    person = rng.choice(people)
    person.refresh_from_db()
    if choice < 0.55:
        changes = rng.choice(
            [
                {"marital_status": rng.choice(list(MaritalStatus.values))},
                {"desa_id": rng.choice(pool)},
                {"keluarga_id": None},
                {"kia": not person.kia},
                {"akta_kelahiran_no": "" if person.akta_kelahiran_no else "AL-2"},
            ]
        )
        actions.update_penduduk(None, person, changes)
    elif choice < 0.7 and person.is_alive:
        actions.record_death(
            None, person, ref, akta_kematian_no="KM-1" if rng.random() < 0.5 else ""
        )
    elif choice < 0.8 and not person.is_alive:
        actions.issue_document(None, person, "akta_kematian", number="KM-2")
    else:
        kind = rng.choice(
            ["akta_kelahiran", "ktp_el_rekam", "ktp_el_cetak", "kia", "akta_perkawinan"]
        )
        actions.issue_document(None, person, kind, number="N-1")


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.django_db
def test_incremental_figures_equal_a_recompute_after_random_actions(seed):
    rng = random.Random(seed)
    pool = _desa_pool()
    ref = coverage.reference_date()
    people: list = []
    for _ in range(120):
        _random_step(rng, people, pool, ref)
    incremental = coverage.stored()
    assert incremental == coverage.compute(ref)
    coverage.recompute()
    assert coverage.stored() == incremental
    # The province row is the sum of its kab/kota rows.
    for ind in coverage.INDICATORS:
        total = sum(f[ind.code].numerator for f in coverage.children_figures("63").values())
        assert coverage.region_figures("63")[ind.code].numerator == total


@pytest.mark.django_db
def test_recompute_command_and_check(make_person, balangan_desa):
    make_person(balangan_desa)
    out = io.StringIO()
    call_command("registry", "recompute-coverage", "--check", stdout=out)
    assert "sesuai" in out.getvalue()
    # Break a counter behind the actions' back: --check must notice and exit 1.
    coverage.CoverageCounter.objects.filter(region_id="63", indicator="kk").update(numerator=99)
    with pytest.raises(SystemExit) as exc:
        call_command(
            "registry", "recompute-coverage", "--check", stdout=io.StringIO(), stderr=io.StringIO()
        )
    assert exc.value.code == 1
    call_command("registry", "recompute-coverage", stdout=io.StringIO())
    assert coverage.stored() == coverage.compute(coverage.reference_date())


@pytest.mark.django_db
def test_over_100_percent_is_flagged_not_refused():
    figure = coverage.Figure(coverage.BY_CODE["kk"], 11, 10)
    assert figure.over_100 and figure.percent == 110.0
    assert coverage.Figure(coverage.BY_CODE["kk"], 0, 0).percent is None


@pytest.mark.django_db
def test_monthly_roll_snapshots_and_ages_people(make_person, balangan_desa):
    CoverageState.objects.update_or_create(pk=1, defaults={"reference_date": dt.date(2026, 1, 1)})
    # Turns 17 on 15 January 2026: a KIA child in January, wajib KTP in February.
    make_person(balangan_desa, birth_date=dt.date(2009, 1, 15))
    assert _figure("63.11", "kia") == (0, 1)
    assert _figure("63.11", "ktp_el") == (0, 0)
    assert coverage.roll_coverage(dt.date(2026, 2, 3)) is True
    assert coverage.reference_date() == dt.date(2026, 2, 1)
    assert _figure("63.11", "kia") == (0, 0)
    assert _figure("63.11", "ktp_el") == (0, 1)
    january = coverage.region_figures("63.11", dt.date(2026, 1, 1))
    assert (january["kia"].numerator, january["kia"].denominator) == (0, 1)
    assert CoverageSnapshot.objects.filter(month=dt.date(2026, 1, 1)).exists()
    assert coverage.roll_coverage(dt.date(2026, 2, 20)) is False
