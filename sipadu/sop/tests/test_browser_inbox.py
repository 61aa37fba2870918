"""An officer's day in Kotak Tugas, clicked through in chromium (Playwright).

The operator logs in through the form, claims a task, completes it; the Operator SIAK (a
new browser context) sees the next task with its due time; the Kasi returns a file; overdue
rows are flagged; the monitoring page shows figures.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import NoReverseMatch, include, path, reverse
from django.utils import timezone

from sipadu import urls as project_urls
from sipadu.core import nav
from sipadu.core.models import User
from sipadu.sop import actions
from sipadu.sop.definitions_sync import sync_definitions
from sipadu.sop.models import Case, Task
from sipadu.sop.tests.runtime_support import live, office_staff, step

PASSWORD = "pw-test-12345"

# Until the project includes the work URLs, this test mounts them on top of the project's.
urlpatterns = list(project_urls.urlpatterns)
if not any(getattr(p, "namespace", None) == "kerja" for p in urlpatterns):
    urlpatterns.append(path("kerja/", include("sipadu.sop.work_urls")))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.urls(__name__),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def mounted_menu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide menu entries of apps whose URLs this test URLconf does not mount."""
    monkeypatch.setattr(nav, "_ITEMS", [i for i in nav._ITEMS if _reverses(i.url_name)])


def _reverses(name: str) -> bool:
    try:
        reverse(name, urlconf=__name__)
    except NoReverseMatch:
        return False
    return True


def log_in(page: Any, user: User) -> None:
    page.goto("/masuk/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def row(page: Any, case: Case) -> Any:
    return page.locator("tr", has=page.locator(f"a:text-is('{case.reference}')"))


def test_officers_work_through_the_inbox(
    browser: Any, live_server: Any, page: Any, make_office: Any
) -> None:
    sync_definitions()
    office = make_office("balangan")
    staff = office_staff(office)
    for user in staff.values():
        user.set_password(PASSWORD)
        user.first_name = user.username.split("-", 1)[1].replace("-", " ").title()
        user.save()
    operator, siak, kasi = (
        staff["operator-layanan"],
        staff["operator-siak"],
        staff["kasi-pelayanan"],
    )
    fresh = actions.start_case(operator, "dik-jamila-mewa", office, subject_label="Akta Kelahiran")
    late = actions.start_case(operator, "dik-jamila-mewa", office, subject_label="KTP-el")
    now = timezone.now()
    Task.objects.filter(case=late).update(
        started_at=now - dt.timedelta(days=2), due_at=now - dt.timedelta(days=1, hours=2)
    )

    # The operator logs in, sees the overdue row flagged, claims and completes a task.
    log_in(page, operator)
    page.goto("/kerja/")
    late_row = row(page, late)
    assert "sla-late" in (late_row.get_attribute("class") or "")
    assert "terlambat 1 hari" in late_row.inner_text()
    fresh_row = row(page, fresh)
    assert "sisa" in fresh_row.inner_text()
    fresh_row.get_by_role("button", name="Ambil").click()
    kerjakan = row(page, fresh).get_by_role("link", name="Kerjakan")
    kerjakan.wait_for()
    assert live(fresh).assignee_id == operator.pk
    kerjakan.click()
    page.wait_for_url(f"**/kerja/perkara/{fresh.reference}/")
    page.fill("#complete-form textarea[name=output]", "Berkas lengkap")
    page.locator("#complete-form").get_by_role("button", name="Selesai").click()
    page.wait_for_selector("text=Kegiatan selesai")
    assert live(fresh).activity_id == "kesesuaian-siak"

    # The Operator SIAK, in a browser of his own, sees the next task with its due time.
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    siak_page = context.new_page()
    siak_page.set_default_timeout(15_000)
    log_in(siak_page, siak)
    siak_page.goto("/kerja/")
    next_row = row(siak_page, fresh)
    text = next_row.inner_text()
    assert "2. Memeriksa kesesuaian" in text and "sisa" in text
    due = timezone.localtime(live(fresh).due_at, office.tzinfo)
    assert due.strftime("%H:%M") in text
    assert next_row.locator("time").count() == 1
    context.close()

    # The Kasi returns the draft of a case that reached him to the Operator SIAK.
    for _i in range(2):  # kesesuaian-siak, entri-siak
        step(staff, fresh)
    fresh.refresh_from_db()
    assert live(fresh).activity_id == "periksa-draft"
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    kasi_page = context.new_page()
    kasi_page.set_default_timeout(15_000)
    log_in(kasi_page, kasi)
    kasi_page.goto(f"/kerja/perkara/{fresh.reference}/")
    kasi_page.get_by_role("button", name="Ambil tugas").click()
    kasi_page.wait_for_selector("#return-form")
    kasi_page.select_option("#return-form select[name=target]", "entri-siak")
    kasi_page.fill("#return-form textarea[name=reason]", "Nama ibu salah ketik")
    kasi_page.locator("#return-form").get_by_role("button", name="Kembalikan").click()
    kasi_page.wait_for_selector("text=Berkas dikembalikan.")
    assert live(fresh).activity_id == "entri-siak"
    assert "Nama ibu salah ketik" in kasi_page.locator("#timeline").inner_text()

    # The monitoring page shows the figures of what was done.
    kasi_page.goto("/kerja/monitoring/")
    section = kasi_page.locator("#sop-dik-jamila-mewa")
    assert section.locator("svg.chart").count() == 1
    first_row = section.locator("table.stats tbody tr").first
    cells = first_row.locator("td").all_inner_texts()
    # Activity 1 was done once; the overdue case still waits there.
    assert (cells[0], cells[3], cells[7], cells[8]) == ("1", "1", "1", "1")
    assert kasi_page.locator("#officers").inner_text().count("Operator") >= 1
    context.close()
