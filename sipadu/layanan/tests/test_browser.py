"""Browser journey (Playwright + chromium): a citizen applies on the portal, each role works
the request in Kotak Tugas up to the TTE step, and the citizen follows it on the status page;
then the incomplete path from the citizen's side, and the Kabid returning a draft to the
Kasi."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sipadu.layanan import actions
from sipadu.layanan.catalogue import sync_catalogue
from sipadu.layanan.models import DocumentRequest, DocumentType, DraftEdit, RequestStatus
from sipadu.layanan.tests.conftest import claim_for, png_bytes, png_upload
from sipadu.layanan.tests.test_flow import take, through_draft
from sipadu.layanan.uploads import clean_upload
from sipadu.sop import actions as sop
from sipadu.sop.definitions_sync import sync_definitions
from sipadu.sop.tests.runtime_support import live, office_staff

PASSWORD = "pw-test-12345"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Any, user: Any) -> None:
    page.goto("/masuk/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def png_file(name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/png", "buffer": png_bytes()}


def officer_page(browser: Any, live_server: Any, user: Any) -> Any:
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, user)
    return page


def take_from_inbox(page: Any, req: DocumentRequest) -> None:
    """Find the request's row in Kotak Tugas by its tracking number, claim it, open it."""
    page.goto("/kerja/")
    row = page.locator("tr", has_text=req.tracking_number)
    row.get_by_role("button", name="Ambil").click()
    link = page.locator("tr", has_text=req.tracking_number).get_by_role("link", name="Kerjakan")
    link.wait_for()
    link.click()
    page.wait_for_url(f"**/kerja/perkara/{req.case.reference}/")


def world(make_office: Any, make_resident: Any) -> tuple[dict[str, Any], Any]:
    sync_definitions()
    sync_catalogue()
    office = make_office("balangan")
    staff = office_staff(office)
    for user in staff.values():
        user.set_password(PASSWORD)
        user.save()
    return staff, make_resident()


def apply_on_portal(page: Any, child: Any) -> tuple[str, str]:
    page.goto("/layanan/")
    page.click("a[data-doc=akta-kelahiran]")
    page.fill("#id_nik", child.nik)
    page.fill("#id_full_name", child.full_name)
    page.select_option("#id_sex", child.sex)
    page.fill("#id_birth_place", child.birth_place)
    page.fill("#id_birth_date", child.birth_date.isoformat())
    page.fill("#id_no_kk", child.keluarga_id)
    page.fill("#id_father_name", child.father_name)
    page.fill("#id_mother_name", child.mother_name)
    page.fill("#id_applicant_name", child.father_name)
    page.set_input_files("#id_berkas_surat-kelahiran", png_file("lahir.png"))
    page.set_input_files("#id_berkas_kk", png_file("kk.png"))
    page.set_input_files("#id_berkas_ktp-ortu", png_file("ktp.png"))
    page.fill("#id_whatsapp", "0812-3456-7890")
    page.check("#id_declaration")
    page.click("#apply-form button[type=submit]")
    page.wait_for_selector("#pin")
    return page.inner_text("#tracking-number").strip(), page.inner_text("#pin").strip()


def test_citizen_applies_and_officers_work_up_to_tte(
    browser: Any, live_server: Any, page: Any, make_office: Any, make_resident: Any
) -> None:
    staff, child = world(make_office, make_resident)

    # The citizen applies from a phone-sized screen and gets a number and a PIN.
    page.set_viewport_size({"width": 390, "height": 844})
    number, pin = apply_on_portal(page, child)
    assert re.fullmatch(r"DJM-[A-Z0-9]{4}-[A-Z0-9]{4}", number) and re.fullmatch(r"\d{6}", pin)
    req = DocumentRequest.objects.select_related("case").get(tracking_number=number)
    assert req.files.count() == 3

    # 1. Operator Layanan ticks the checklist against the files and completes.
    op = officer_page(browser, live_server, staff["operator-layanan"])
    take_from_inbox(op, req)
    for box in op.locator("#checklist input[name=ticked]").all():
        box.check()
    op.click("#save-checklist")
    op.wait_for_selector("text=Ceklis persyaratan disimpan")
    op.locator("#complete-form").get_by_role("button", name="Selesai").click()
    op.wait_for_selector("text=Kegiatan selesai")
    assert live(req.case).activity_id == "kesesuaian-siak"

    # 2. Operator SIAK sees the registry match side by side and confirms.
    siak = officer_page(browser, live_server, staff["operator-siak"])
    take_from_inbox(siak, req)
    assert siak.locator("#match tr.match").count() >= 6
    siak.click("#decide-form button[value=yes]")
    siak.wait_for_selector("text=Keputusan dicatat")

    # 3. Drafting: pre-filled from the registry, one change recorded.
    take_from_inbox(siak, req)
    assert siak.input_value("#draft-form input[name=birth_place]") == child.birth_place
    siak.fill("#draft-form input[name=birth_place]", "Paringin Timur")
    siak.click("#save-draft")
    siak.wait_for_selector("text=Draf disimpan")
    siak.locator("#complete-form").get_by_role("button", name="Selesai").click()
    siak.wait_for_selector("text=Kegiatan selesai")
    assert DraftEdit.objects.filter(request=req, field="birth_place").count() == 1

    # 4–5. Kasi and Kabid agree.
    for role in ("kasi-pelayanan", "kabid-pelayanan"):
        officer = officer_page(browser, live_server, staff[role])
        take_from_inbox(officer, req)
        assert officer.locator("#draft tr.differs").count() == 1
        officer.click("#decide-form button[value=yes]")
        officer.wait_for_selector("text=Keputusan dicatat")
    assert live(req.case).activity_id == "tte"

    # The citizen follows it: number + PIN, step 6 is current, notices are shown.
    citizen = browser.new_context(base_url=live_server.url, locale="id-ID").new_page()
    citizen.goto("/layanan/status/")
    citizen.fill("#id_tracking_number", number)
    citizen.fill("#id_pin", pin)
    citizen.click("#status-form button[type=submit]")
    citizen.wait_for_selector("#steps")
    assert pin not in citizen.url and number not in citizen.url
    states = citizen.locator("#steps li").evaluate_all("els => els.map(e => e.dataset.state)")
    assert states == ["done"] * 5 + ["current", "pending", "pending"]
    assert "telah kami terima" in citizen.inner_text("#notices")
    assert citizen.locator("#expected").count() == 1


def test_incomplete_path_from_the_citizens_side(
    browser: Any, live_server: Any, page: Any, make_office: Any, make_resident: Any
) -> None:
    staff, child = world(make_office, make_resident)
    number, _pin = apply_on_portal(page, child)
    req = DocumentRequest.objects.select_related("case").get(tracking_number=number)

    op = officer_page(browser, live_server, staff["operator-layanan"])
    take_from_inbox(op, req)
    op.click("#missing-box summary")
    op.check("#missing-form input[value=buku-nikah]")
    op.fill("#missing-form textarea[name=note]", "Mohon foto buku nikah orang tua")
    op.click("#missing-form button[type=submit]")
    op.wait_for_selector("#waiting-citizen")

    # The citizen sees what is missing (the PIN page was remembered after applying).
    page.goto("/layanan/status/")
    assert "Buku nikah" in page.inner_text("#missing")
    assert "belum lengkap" in page.inner_text("#notices")
    page.set_input_files("#id_berkas_buku-nikah", png_file("nikah.png"))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#request-status[data-status=in_process]")
    assert DocumentRequest.objects.get(pk=req.pk).status == RequestStatus.IN_PROCESS
    assert req.files.count() == 4

    # The operator finds the new file on the case page and can finish the check.
    op.reload()
    assert op.locator("#checklist tr[data-code=buku-nikah] a").count() == 1


def test_kabid_returns_the_draft_to_the_kasi(
    browser: Any, live_server: Any, make_office: Any, make_resident: Any
) -> None:
    """The Kabid answers "no" with a reason on the case page: the Kasi finds the task back in
    Kotak Tugas with the reason, and answering "no" without a reason is refused."""
    staff, child = world(make_office, make_resident)
    kind = DocumentType.objects.get(code="akta-kelahiran")
    uploads = [
        actions.Upload(r, clean_upload(png_upload(f"{r.code}.png")))
        for r in kind.requirements.filter(required=True, upload=True)
    ]
    req, _pin = actions.submit_request(make_office("balangan"), kind, claim_for(child), uploads)
    through_draft(staff, req)
    sop.decide(staff["kasi-pelayanan"], take(staff, req, "kasi-pelayanan"), True)
    assert live(req.case).activity_id == "verifikasi"

    kabid = officer_page(browser, live_server, staff["kabid-pelayanan"])
    take_from_inbox(kabid, req)
    kabid.click("#decide-form button[value=no]")  # no reason yet
    kabid.wait_for_selector("#decide-form")
    assert live(req.case).activity_id == "verifikasi"
    kabid.fill("#decide-form [name=reason]", "Nama ayah perlu dicek ulang")
    kabid.click("#decide-form button[value=no]")
    kabid.wait_for_selector("text=Keputusan dicatat")

    back = live(req.case)
    assert (back.activity_id, back.role_code) == ("periksa-draft", "kasi-pelayanan")
    kasi = officer_page(browser, live_server, staff["kasi-pelayanan"])
    kasi.goto("/kerja/")
    row = kasi.locator("tr", has_text=req.tracking_number)
    assert "Nama ayah perlu dicek ulang" in row.inner_text()
    take_from_inbox(kasi, req)
    assert "Nama ayah perlu dicek ulang" in kasi.inner_text("p.returned")
    assert kasi.locator("#decide-form").count() == 1
