"""The officers' panel on the case page and the forms it posts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from sipadu.audit.models import AuditEvent
from sipadu.layanan.models import DocumentRequest, RequestStatus
from sipadu.layanan.tests.conftest import claim_for
from sipadu.sop import actions as sop
from sipadu.sop.tests.runtime_support import live


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_operator_ticks_and_asks_for_missing_files(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    req = submit(claim_for(make_resident()))
    ref = req.case.reference
    operator = as_user(staff["operator-layanan"])
    page = operator.get(f"/kerja/perkara/{ref}/").content.decode()
    assert 'id="layanan-panel"' in page and req.tracking_number in page
    assert 'id="checklist-form"' not in page  # not claimed yet: read only
    # Posting without holding the task is refused with the message, not a 500.
    refused = operator.post(f"/layanan/kerja/{ref}/ceklis/", {"ticked": ["kk"]})
    assert refused.status_code == 403 and "Ambil tugas" in refused.content.decode()

    sop.claim(staff["operator-layanan"], live(req.case))
    page = operator.get(f"/kerja/perkara/{ref}/").content.decode()
    assert 'id="checklist-form"' in page and 'id="missing-form"' in page
    file_id = req.files.first().pk
    shown = operator.get(f"/layanan/kerja/{ref}/berkas/{file_id}/")
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"

    saved = operator.post(f"/layanan/kerja/{ref}/ceklis/", {"ticked": ["kk", "ktp-ortu"]})
    assert saved.status_code == 302
    req.refresh_from_db()
    assert req.checklist["kk"] and not req.checklist["surat-kelahiran"]
    refused = operator.post(f"/kerja/perkara/{ref}/tugas/{live(req.case).pk}/complete/", {})
    assert refused.status_code == 400
    assert "Surat keterangan kelahiran" in refused.content.decode()

    asked = operator.post(
        f"/layanan/kerja/{ref}/kurang/",
        {"missing": ["surat-kelahiran"], "note": "Surat kelahiran tidak terbaca"},
    )
    assert asked.status_code == 302
    assert DocumentRequest.objects.get(pk=req.pk).status == RequestStatus.WAITING_CITIZEN
    page = operator.get(f"/kerja/perkara/{ref}/").content.decode()
    assert 'id="waiting-citizen"' in page
    again = operator.post(f"/layanan/kerja/{ref}/kurang/", {"missing": ["kk"]})
    assert again.status_code == 400 and "sudah menunggu" in again.content.decode()


def test_siak_operator_sees_the_match_side_by_side(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    person = make_resident()
    req = submit(claim_for(person, mother_name="Siti Romlah"))
    task = live(req.case)
    sop.claim(staff["operator-layanan"], task)
    from sipadu.layanan import actions

    actions.save_checklist(staff["operator-layanan"], req, ["surat-kelahiran", "kk", "ktp-ortu"])
    sop.complete(staff["operator-layanan"], task)
    sop.claim(staff["operator-siak"], live(req.case))
    client = as_user(staff["operator-siak"])
    page = client.get(f"/kerja/perkara/{req.case.reference}/").content.decode()
    assert 'id="match"' in page
    assert 'data-field="mother_name"' in page and "Siti Rahmah" in page and "Siti Romlah" in page
    assert 'class="mismatch" data-field="mother_name"' in page
    assert 'class="match" data-field="nik"' in page
    assert AuditEvent.objects.filter(
        action="registry.penduduk.view", object_id=str(person.pk)
    ).exists()


def test_handover_form_validates(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    req = submit(claim_for(make_resident()))
    client = as_user(staff["operator-layanan"])
    response = client.post(f"/layanan/kerja/{req.case.reference}/serah/", {"mode": "softcopy"})
    assert response.status_code == 400
    assert "tidak sedang berjalan" in response.content.decode()
    response = client.post(f"/layanan/kerja/{req.case.reference}/serah/", {"mode": "pos"})
    assert response.status_code == 400


def test_officer_of_another_office_sees_nothing(
    staff: dict[str, Any],
    make_resident: Callable[..., Any],
    submit: Callable[..., Any],
    make_officer: Callable[..., Any],
    make_office: Callable[[str], Any],
) -> None:
    req = submit(claim_for(make_resident()))
    stranger = make_officer("operator-layanan", office_=make_office("solok"), username="solok-op")
    client = as_user(stranger)
    assert client.get(f"/kerja/perkara/{req.case.reference}/").status_code == 404
    file_id = req.files.first().pk
    assert client.get(f"/layanan/kerja/{req.case.reference}/berkas/{file_id}/").status_code == 404


def test_draft_fields_are_typed_and_a_bad_value_stores_nothing(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    from sipadu.layanan.models import DraftEdit
    from sipadu.layanan.tests.test_flow import take, through_kelengkapan

    person = make_resident()
    req = submit(claim_for(person))
    through_kelengkapan(staff, req)
    sop.decide(staff["operator-siak"], take(staff, req, "operator-siak"), True)
    take(staff, req, "operator-siak")
    req.refresh_from_db()
    before = dict(req.draft)
    client = as_user(staff["operator-siak"])
    url = f"/layanan/kerja/{req.case.reference}/draf/"
    page = client.get(f"/kerja/perkara/{req.case.reference}/").content.decode()
    assert 'type="date" name="birth_date"' in page and '<select name="sex"' in page

    posted = {**before, "nik": "6311010101", "birth_date": "2024-02-30", "birth_place": "Awayan"}
    refused = client.post(url, posted)
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "NIK yang bersangkutan:" in html and "Tanggal lahir:" in html
    assert 'id="draft-nik-error"' in html and 'id="draft-birth_date-error"' in html
    assert 'value="Awayan"' in html  # what was typed is shown again
    req.refresh_from_db()
    assert req.draft == before and not DraftEdit.objects.filter(request=req).exists()

    future = client.post(url, {**before, "birth_date": "2999-01-01"})
    assert future.status_code == 400 and "masa depan" in future.content.decode()
    bad_choice = client.post(url, {**before, "sex": "X"})
    assert bad_choice.status_code == 400
    req.refresh_from_db()
    assert req.draft == before

    saved = client.post(url, {**before, "nik": f" {person.nik} ", "birth_place": "Awayan"})
    assert saved.status_code == 302
    req.refresh_from_db()
    assert req.draft["nik"] == person.nik and req.draft["birth_place"] == "Awayan"
    assert req.draft["birth_date"] == person.birth_date.isoformat()
    assert list(DraftEdit.objects.filter(request=req).values_list("field", flat=True)) == [
        "birth_place"
    ]
