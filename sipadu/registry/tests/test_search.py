import datetime as dt
import logging

import pytest
from django.urls import reverse

from sipadu.audit.models import AuditEvent
from sipadu.registry import actions
from sipadu.registry.matching import Claim, Outcome, match_claim
from sipadu.registry.models import Keluarga
from sipadu.registry.names import edit_distance, fold_name, phonetic_key
from sipadu.registry.nik import encode_kk
from sipadu.registry.search import Query, search


def test_name_folding_and_keys():
    assert fold_name("  Dr. Ni Luh  AYU-Sérè ") == "dr ni luh ayu sere"
    assert fold_name("Ma'ruf") == "maruf"
    assert phonetic_key("Soekarno") == phonetic_key("Sukarno")
    assert phonetic_key("Djoko") == phonetic_key("Joko")
    assert phonetic_key("Muhammad") == phonetic_key("Mohamad")
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("abc", "abcdefgh", limit=2) == 3


@pytest.fixture
def people(make_person, balangan_desa, solok_desa):
    kk = encode_kk(balangan_desa.replace(".", "")[:6], dt.date(2019, 2, 3), 1)
    Keluarga.objects.create(no_kk=kk, desa_id=balangan_desa)
    return {
        "siti": make_person(
            balangan_desa,
            full_name="Siti Nurhaliza",
            keluarga_id=kk,
            father_name="Ahmad Dahlan",
            mother_name="Fatimah",
        ),
        "muhammad": make_person(
            balangan_desa, full_name="Muhammad Rizky", sex="L", birth_date=dt.date(2001, 1, 9)
        ),
        "rene": make_person(
            balangan_desa, full_name="René Sukarno", sex="L", birth_date=dt.date(1970, 8, 17)
        ),
        "solok": make_person(solok_desa, full_name="Siti Rahmah"),
        "kk": kk,
    }


def names(results):
    return [p.full_name for p in results]


@pytest.mark.django_db
def test_search_by_nik_kk_name_date_and_village(people, office, balangan_desa):
    assert names(search(office, Query(people["siti"].nik))) == ["Siti Nurhaliza"]
    assert names(search(office, Query(people["kk"]))) == ["Siti Nurhaliza"]
    assert names(search(office, Query("siti"))) == ["Siti Nurhaliza"]  # Solok is out of scope
    assert names(search(office, Query("SITI   nur"))) == ["Siti Nurhaliza"]
    assert names(search(office, Query("rene"))) == ["René Sukarno"]  # accents ignored
    assert names(search(office, Query("", dt.date(2001, 1, 9)))) == ["Muhammad Rizky"]
    assert len(search(office, Query("", None, (balangan_desa,)))) == 3
    assert search(office, Query("siti", None, ("63.11.99.9999",))) == []


@pytest.mark.django_db
def test_approximate_name_search(people, office):
    assert "Muhammad Rizky" in names(search(office, Query("Mohamad Rizki")))
    assert "Muhammad Rizky" in names(search(office, Query("Muhamad")))
    assert "Siti Nurhaliza" in names(search(office, Query("Siti Nurhalisa")))
    assert "René Sukarno" in names(search(office, Query("Rene Soekarno")))
    assert names(search(office, Query("Zzyzx Qwerty"))) == []


@pytest.mark.django_db
def test_a_province_office_sees_its_whole_province(people, make_office):
    sumbar = make_office("sumbar")
    assert names(search(sumbar, Query("siti"))) == ["Siti Rahmah"]
    assert search(None, Query("siti")) == []


@pytest.mark.django_db
def test_registry_match_per_field(people):
    siti = people["siti"]
    result = match_claim(
        Claim(
            nik=siti.nik,
            full_name="SITI  NURHALIZA",
            birth_date=siti.birth_date,
            no_kk=people["kk"],
            father_name="ahmad dahlan",
            mother_name="Fatimah Zahra",
        )
    )
    outcomes = {name: r.outcome for name, r in result.fields.items()}
    assert outcomes == {
        "nik": Outcome.MATCH,
        "full_name": Outcome.MATCH,
        "birth_date": Outcome.MATCH,
        "no_kk": Outcome.MATCH,
        "father_name": Outcome.MATCH,
        "mother_name": Outcome.MISMATCH,
    }
    assert result.fields["mother_name"].registry_value == "Fatimah"
    assert not result.all_match
    wrong_date = match_claim(Claim(nik=siti.nik, birth_date=dt.date(1991, 1, 1)))
    assert wrong_date.fields["birth_date"].outcome == Outcome.MISMATCH
    assert wrong_date.fields["birth_date"].registry_value == siti.birth_date
    missing = match_claim(Claim(nik="6311019999990001", full_name="Siapa"))
    assert missing.penduduk is None
    assert {r.outcome for r in missing.fields.values()} == {Outcome.NOT_FOUND}
    assert match_claim(Claim(nik="bukan nik")).fields["nik"].outcome == Outcome.NOT_FOUND


@pytest.mark.django_db
def test_registry_match_respects_the_office_scope(people, office):
    result = match_claim(Claim(nik=people["solok"].nik), office=office)
    assert result.fields["nik"].outcome == Outcome.NOT_FOUND


@pytest.mark.django_db
def test_search_page_posts_and_keeps_personal_data_out_of_urls(client, officer, people, caplog):
    client.force_login(officer)
    siti = people["siti"]
    with caplog.at_level(logging.DEBUG):
        page = client.get(reverse("registry:search"))
        assert page.status_code == 200
        response = client.post(reverse("registry:search"), {"q": siti.nik})
        detail_url = reverse("registry:detail", args=[siti.pk])
        assert detail_url.encode() in response.content
        detail = client.get(detail_url)
    assert detail.status_code == 200 and b"Siti Nurhaliza" in detail.content
    assert siti.nik not in detail_url and "Siti" not in detail_url
    assert siti.nik not in caplog.text and "Nurhaliza" not in caplog.text
    event = AuditEvent.objects.get(action="registry.penduduk.view")
    assert event.object_id == str(siti.pk) and event.actor == officer
    assert siti.nik not in str(AuditEvent.objects.values_list("data", flat=True))


@pytest.mark.django_db
def test_an_empty_search_is_a_clear_message(client, officer):
    client.force_login(officer)
    response = client.post(reverse("registry:search"), {"q": ""})
    assert response.status_code == 200 and b"Isi paling sedikit satu" in response.content


@pytest.mark.django_db
def test_search_results_export_to_excel(client, officer, people):
    from io import BytesIO

    from openpyxl import load_workbook

    client.force_login(officer)
    response = client.post(reverse("registry:search"), {"q": "siti", "export": "1"})
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    assert sheet.cell(2, 3).value == "Siti Nurhaliza"


@pytest.mark.django_db
def test_officers_get_404_outside_their_region(client, officer, solok_officer, people):
    client.force_login(officer)
    assert client.get(reverse("registry:detail", args=[people["solok"].pk])).status_code == 404
    client.force_login(solok_officer)
    assert client.get(reverse("registry:detail", args=[people["solok"].pk])).status_code == 200
    assert client.get(reverse("registry:detail", args=[people["siti"].pk])).status_code == 404
    assert client.get(reverse("registry:coverage_region", args=["63.11"])).status_code == 404


@pytest.mark.django_db
def test_pages_need_an_office(client, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="pw-test-12345")
    client.force_login(user)
    assert client.get(reverse("registry:search")).status_code == 403
    client.logout()
    assert client.get(reverse("registry:search")).status_code == 302


@pytest.mark.django_db
def test_detail_shows_history(client, officer, people):
    siti = actions.issue_document(officer, people["siti"], "ktp_el_rekam")
    client.force_login(officer)
    page = client.get(reverse("registry:detail", args=[siti.pk]))
    assert b"document.ktp_el_rekam" in page.content and b"Sudah rekam" in page.content


@pytest.mark.django_db
def test_coverage_pages_and_export(client, officer, people, balangan_desa):
    client.force_login(officer)
    page = client.get(reverse("registry:coverage"))
    assert page.status_code == 200 and b"Kabupaten Balangan" in page.content
    kec = balangan_desa.rsplit(".", 1)[0]
    assert f'href="/penduduk/cakupan/{kec}/"'.encode() in page.content
    drill = client.get(reverse("registry:coverage_region", args=[kec]))
    assert drill.status_code == 200
    export = client.get(reverse("registry:coverage") + "?format=xlsx")
    assert export["Content-Disposition"].startswith('attachment; filename="cakupan-63.11')
    assert client.get(reverse("registry:coverage") + "?bulan=kemarin").status_code == 404


@pytest.mark.django_db
def test_actions_refuse_bad_data_clearly(people, balangan_desa):
    with pytest.raises(actions.RegistryError, match="NIK sudah terdaftar"):
        actions.create_penduduk(
            None,
            {
                "nik": people["siti"].nik,
                "full_name": "X",
                "sex": "P",
                "birth_date": people["siti"].birth_date,
                "desa_id": balangan_desa,
            },
        )
    with pytest.raises(actions.RegistryError, match="tidak sesuai NIK"):
        actions.update_penduduk(None, people["siti"], {"birth_date": dt.date(1999, 1, 1)})
    with pytest.raises(actions.RegistryError, match="tidak dikenal"):
        actions.update_penduduk(None, people["siti"], {"desa_id": "63.11.99.9999"})
    with pytest.raises(actions.RegistryError, match="meninggal"):
        actions.issue_document(None, people["siti"], "akta_kematian", number="KM-1")
    with pytest.raises(actions.RegistryError, match="Jenis dokumen"):
        actions.issue_document(None, people["siti"], "paspor")


def vocabulary():
    from sipadu.registry.models import NameWord

    return dict(NameWord.objects.values_list("word", "key"))


@pytest.mark.django_db
def test_the_name_vocabulary_follows_creates_updates_and_imports(
    people, office, balangan_desa, tmp_path
):
    """Approximate search corrects words against NameWord: every writer must keep it."""
    from sipadu.registry import importers
    from sipadu.registry.tests.test_import import SIAK_HEADER, person_row, write_csv

    words = vocabulary()
    assert {"siti", "nurhaliza", "muhammad", "rizky", "rene", "sukarno"} <= set(words)
    assert words["muhammad"] == phonetic_key("Muhammad")
    assert "Muhammad Rizky" in names(search(office, Query("Muhamad Rizki")))

    actions.update_penduduk(None, people["muhammad"], {"full_name": "Bambang Pamungkas"})
    assert {"bambang", "pamungkas"} <= set(vocabulary())
    assert names(search(office, Query("Bambang Pamungkaz"))) == ["Bambang Pamungkas"]

    rows = [person_row(balangan_desa, 51, name="Yohanes Sutrisno", kk_serial=51)]
    result = importers.import_file(write_csv(tmp_path / "a.csv", SIAK_HEADER, rows))
    assert result.committed
    assert {"yohanes", "sutrisno"} <= set(vocabulary())
    assert names(search(office, Query("Yohanis Sutrisna"))) == ["Yohanes Sutrisno"]

    # A rolled-back import leaves no words behind.
    bad = person_row(balangan_desa, 52, name="Zulkarnaen Wibisono", kk_serial=52)
    bad[5] = "kemarin"
    result = importers.import_file(write_csv(tmp_path / "b.csv", SIAK_HEADER, [bad]))
    assert not result.committed and "zulkarnaen" not in vocabulary()


@pytest.mark.django_db
def test_approximate_search_ranks_the_closest_names_first(make_person, office, balangan_desa):
    for name in ("Dian Sastro", "Diana", "Dina Lorenza", "Budi Santoso"):
        make_person(balangan_desa, full_name=name)
    # A typo in the last letter: the one-word name first, the longer name after.
    assert names(search(office, Query("Dianx")))[:2] == ["Diana", "Dian Sastro"]
    # A typo in the first word still reaches the second (corrected words, then name prefix).
    assert names(search(office, Query("Budy Santoso"))) == ["Budi Santoso"]
    assert search(office, Query("Qwerty Santoso")) == []
