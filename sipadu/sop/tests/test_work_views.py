"""The work pages: Kotak Tugas, the case page and its moves, start and search, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import NoReverseMatch, include, path, reverse
from django.utils import timezone
from openpyxl import load_workbook

from sipadu import urls as project_urls
from sipadu.core import nav
from sipadu.sop import actions
from sipadu.sop.models import Attachment, Case, CaseState, Task, TaskState
from sipadu.sop.tests.runtime_support import live, loaded, run_to_end, step, world
from sipadu.sop.work_views import PER_PAGE, humanize_left

__all__ = ["loaded", "world"]

# Until the project includes the work URLs, these tests mount them on top of the project's.
urlpatterns = list(project_urls.urlpatterns)
if not any(getattr(p, "namespace", None) == "kerja" for p in urlpatterns):
    urlpatterns.append(path("kerja/", include("sipadu.sop.work_urls")))
pytestmark = pytest.mark.urls(__name__)


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


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def balangan(world: dict[str, Any]) -> dict[str, Any]:
    return world["balangan"]


def start(staff: dict[str, Any], label: str = "Akta Kelahiran") -> Case:
    return actions.start_case(
        staff["operator-layanan"], "dik-jamila-mewa", staff["office"], subject_label=label
    )


# --------------------------------------------------------------------------- presentation


def test_time_left_reads_like_an_officer_says_it() -> None:
    assert humanize_left(dt.timedelta(hours=2, minutes=10, seconds=30)) == "sisa 2 jam 10 menit"
    assert humanize_left(-dt.timedelta(days=1, minutes=5)) == "terlambat 1 hari"
    assert humanize_left(-dt.timedelta(days=2, hours=3)) == "terlambat 2 hari 3 jam"
    assert humanize_left(dt.timedelta(seconds=20)) == "sisa kurang dari 1 menit"
    assert humanize_left(None) == ""


# --------------------------------------------------------------------------- inbox


def test_inbox_lists_my_role_tasks_sorted_by_due_time(balangan: dict[str, Any]) -> None:
    first = start(balangan, "Akta Kelahiran")
    second = start(balangan, "KTP-el")
    # The second case's task is made due earlier: it must come first.
    Task.objects.filter(case=second).update(due_at=timezone.now() + dt.timedelta(minutes=1))
    response = client_for(balangan["operator-layanan"]).get(reverse("kerja:inbox"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index(second.reference) < body.index(first.reference)
    assert "1. " in body and "Operator Layanan" in body
    assert "sisa" in body
    # An Operator SIAK has nothing yet: the tasks wait for the service operator.
    other = client_for(balangan["operator-siak"]).get(reverse("kerja:inbox")).content.decode()
    assert first.reference not in other


def test_inbox_shows_my_claimed_task_and_hides_others_claims(
    balangan: dict[str, Any], world: dict[str, Any]
) -> None:
    from sipadu.sop.tests.runtime_support import persona

    colleague = persona(balangan["office"], "operator-layanan", "-2")
    case = start(balangan)
    actions.claim(colleague, live(case))
    mine = client_for(colleague).get(reverse("kerja:inbox")).content.decode()
    assert case.reference in mine and "Lepas" in mine
    theirs = client_for(balangan["operator-layanan"]).get(reverse("kerja:inbox")).content
    assert case.reference not in theirs.decode()


def test_inbox_flags_overdue_and_near_rows(balangan: dict[str, Any]) -> None:
    late = start(balangan, "terlambat")
    near = start(balangan, "hampir")
    now = timezone.now()
    Task.objects.filter(case=late).update(
        started_at=now - dt.timedelta(hours=3), due_at=now - dt.timedelta(days=1, minutes=1)
    )
    Task.objects.filter(case=near).update(
        started_at=now - dt.timedelta(minutes=9), due_at=now + dt.timedelta(minutes=1)
    )
    body = client_for(balangan["operator-layanan"]).get(reverse("kerja:inbox")).content.decode()
    late_row = body[body.index(f'id="task-{live(late).pk}"') :]
    assert 'data-urgency="overdue"' in late_row[:200] and "sla-late" in late_row[:200]
    assert "terlambat 1 hari" in late_row[:2000]
    near_row = body[body.index(f'id="task-{live(near).pk}"') :]
    assert 'data-urgency="near"' in near_row[:200]


def test_inbox_filters_and_paginates(balangan: dict[str, Any]) -> None:
    cases = [start(balangan, f"perkara {i}") for i in range(PER_PAGE + 2)]
    client = client_for(balangan["operator-layanan"])
    first = client.get(reverse("kerja:inbox")).content.decode()
    assert first.count('id="task-') == PER_PAGE and 'rel="next"' in first
    second = client.get(reverse("kerja:inbox") + "?page=2").content.decode()
    assert second.count('id="task-') == 2 and 'rel="prev"' in second
    actions.claim(balangan["operator-layanan"], live(cases[0]))
    claimed = client.get(reverse("kerja:inbox") + "?state=claimed").content.decode()
    assert claimed.count('id="task-') == 1 and cases[0].reference in claimed
    other_sop = client.get(reverse("kerja:inbox") + "?sop=sijarla-solok")
    assert other_sop.status_code == 200  # not this office's SOP: the filter falls back
    htmx = client.get(
        reverse("kerja:inbox") + "?state=open", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inbox-list"
    )
    assert htmx.content.decode().lstrip().startswith('<div id="inbox-list">')


def test_inbox_badge_counts_unread_notifications(balangan: dict[str, Any]) -> None:
    from sipadu.sop.models import Notification

    Notification.objects.create(
        user=balangan["operator-layanan"], text="Tugas terlambat", created_at=timezone.now()
    )
    body = client_for(balangan["operator-layanan"]).get(reverse("kerja:inbox")).content.decode()
    assert 'data-unread="1"' in body
    page = client_for(balangan["operator-layanan"]).get(reverse("kerja:notifications"))
    assert "Tugas terlambat" in page.content.decode()


def test_inbox_query_count_does_not_grow_with_rows(
    balangan: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for i in range(12):
        start(balangan, f"perkara {i}")
    client = client_for(balangan["operator-layanan"])
    client.get(reverse("kerja:inbox"))  # warm the session and caches
    with django_assert_max_num_queries(14):
        response = client.get(reverse("kerja:inbox"))
    assert response.content.decode().count('id="task-') == 12


# --------------------------------------------------------------------------- claim / release


def test_claim_from_inbox_with_htmx_returns_the_row(balangan: dict[str, Any]) -> None:
    case = start(balangan)
    task = live(case)
    response = client_for(balangan["operator-layanan"]).post(
        reverse("kerja:claim", args=[task.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'data-state="claimed"' in response.content.decode()
    task.refresh_from_db()
    assert task.state == TaskState.CLAIMED and task.assignee == balangan["operator-layanan"]


def test_claim_race_gives_a_clear_message(balangan: dict[str, Any]) -> None:
    from sipadu.sop.tests.runtime_support import persona

    colleague = persona(balangan["office"], "operator-layanan", "-2")
    task = live(start(balangan))
    first = client_for(balangan["operator-layanan"]).post(reverse("kerja:claim", args=[task.pk]))
    assert first.status_code == 302
    late = client_for(colleague).post(
        reverse("kerja:claim", args=[task.pk]), HTTP_HX_REQUEST="true"
    )
    assert late.status_code == 409
    assert "sudah diambil oleh petugas lain" in late.content.decode()
    plain = client_for(colleague).post(reverse("kerja:claim", args=[task.pk]))
    assert plain.status_code == 409 and "sudah diambil" in plain.content.decode()
    task.refresh_from_db()
    assert task.assignee == balangan["operator-layanan"]


def test_release_gives_the_task_back(balangan: dict[str, Any]) -> None:
    task = live(start(balangan))
    actions.claim(balangan["operator-layanan"], task)
    response = client_for(balangan["operator-layanan"]).post(
        reverse("kerja:release", args=[task.pk])
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.OPEN and task.assignee is None


def test_wrong_role_cannot_claim(balangan: dict[str, Any]) -> None:
    task = live(start(balangan))
    response = client_for(balangan["kasi-pelayanan"]).post(reverse("kerja:claim", args=[task.pk]))
    assert response.status_code == 403
    assert "tidak memegang peran pelaksana" in response.content.decode()


# --------------------------------------------------------------------------- office scoping


def test_officer_of_another_office_gets_404(world: dict[str, Any]) -> None:
    case = start(world["balangan"])
    task = live(case)
    outsider = client_for(world["bima"]["operator-layanan"])
    assert outsider.get(reverse("kerja:case", args=[case.reference])).status_code == 404
    assert outsider.post(reverse("kerja:claim", args=[task.pk])).status_code == 404
    assert (
        outsider.post(
            reverse("kerja:task_move", args=[case.reference, task.pk, "complete"])
        ).status_code
        == 404
    )
    search = outsider.post(reverse("kerja:search"), {"q": case.reference})
    assert search.status_code == 200 and "Tidak ada perkara yang cocok" in search.content.decode()


# --------------------------------------------------------------------------- case page


def test_case_page_shows_header_checklist_and_allowed_moves(balangan: dict[str, Any]) -> None:
    case = start(balangan)
    client = client_for(balangan["operator-layanan"])
    body = client.get(reverse("kerja:case", args=[case.reference])).content.decode()
    assert case.reference in body and "Akta Kelahiran" in body and "revisi 1" in body
    assert "Kelengkapan" in body and "Berkas lengkap" in body  # the activity's output
    assert "Ambil tugas" in body and 'id="complete-form"' not in body
    assert "Perkara dimulai" in body  # timeline
    actions.claim(balangan["operator-layanan"], live(case))
    body = client.get(reverse("kerja:case", args=[case.reference])).content.decode()
    assert 'id="complete-form"' in body and "Lepas tugas" in body
    assert 'id="decide-form"' not in body and 'id="reassign-form"' not in body


def test_complete_with_file_moves_to_next_role(balangan: dict[str, Any]) -> None:
    case = start(balangan)
    task = live(case)
    actions.claim(balangan["operator-layanan"], task)
    upload = SimpleUploadedFile("berkas.pdf", b"%PDF-1.4 demo", content_type="application/pdf")
    response = client_for(balangan["operator-layanan"]).post(
        reverse("kerja:task_move", args=[case.reference, task.pk, "complete"]),
        {"output": "Berkas lengkap", "notes": "ok", "files": [upload]},
    )
    assert response.status_code == 302
    nxt = live(case)
    assert nxt.activity_id == "kesesuaian-siak" and nxt.due_at is not None
    attachment = Attachment.objects.get(case=case)
    siak = client_for(balangan["operator-siak"])
    inbox = siak.get(reverse("kerja:inbox")).content.decode()
    assert case.reference in inbox
    download = siak.get(reverse("kerja:download", args=[case.reference, attachment.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == (
        b"%PDF-1.4 demo"
    )
    assert "attachment" in download["Content-Disposition"]


def test_upload_type_and_size_limits(balangan: dict[str, Any], settings: Any) -> None:
    case = start(balangan)
    client = client_for(balangan["operator-layanan"])
    bad = client.post(
        reverse("kerja:attach", args=[case.reference]), {"file": SimpleUploadedFile("x.exe", b"MZ")}
    )
    assert bad.status_code == 400 and "Jenis berkas tidak diizinkan" in bad.content.decode()
    settings.SIPADU_MAX_ATTACHMENT_BYTES = 10
    big = client.post(
        reverse("kerja:attach", args=[case.reference]),
        {"file": SimpleUploadedFile("x.pdf", b"x" * 11)},
    )
    assert big.status_code == 400 and "terlalu besar" in big.content.decode()
    assert not Attachment.objects.filter(case=case).exists()


def test_attachment_download_needs_office_access(world: dict[str, Any]) -> None:
    case = start(world["balangan"])
    client_for(world["balangan"]["operator-layanan"]).post(
        reverse("kerja:attach", args=[case.reference]),
        {"file": SimpleUploadedFile("scan.png", b"\x89PNG demo")},
    )
    attachment = Attachment.objects.get(case=case)
    url = reverse("kerja:download", args=[case.reference, attachment.pk])
    assert client_for(world["bima"]["operator-layanan"]).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the log-in page


def test_decide_no_needs_a_reason_and_returns(balangan: dict[str, Any]) -> None:
    case = start(balangan)
    step(balangan, case)  # kelengkapan done
    task = live(case)
    siak = balangan["operator-siak"]
    actions.claim(siak, task)
    url = reverse("kerja:task_move", args=[case.reference, task.pk, "decide"])
    refused = client_for(siak).post(url, {"answer": "no"})
    assert refused.status_code == 400 and "Alasan pengembalian wajib diisi" in (
        refused.content.decode()
    )
    ok = client_for(siak).post(url, {"answer": "no", "reason": "NIK tidak cocok dengan SIAK"})
    assert ok.status_code == 302
    back = live(case)
    assert back.activity_id == "kelengkapan" and "tidak cocok" in back.return_reason
    body = (
        client_for(balangan["operator-layanan"])
        .get(reverse("kerja:case", args=[case.reference]))
        .content.decode()
    )
    assert "Dikembalikan dengan alasan" in body


def test_kasi_returns_to_an_earlier_activity(balangan: dict[str, Any]) -> None:
    case = start(balangan)
    for _i in range(3):
        step(balangan, case)
    task = live(case)
    assert task.activity_id == "periksa-draft"
    kasi = balangan[task.role_code]
    actions.claim(kasi, task)
    client = client_for(kasi)
    page = client.get(reverse("kerja:case", args=[case.reference])).content.decode()
    assert 'id="return-form"' in page and 'id="decide-form"' in page
    url = reverse("kerja:task_move", args=[case.reference, task.pk, "return"])
    later = client.post(url, {"target": "serah", "reason": "x"})
    assert later.status_code == 400
    empty = client.post(url, {"target": "entri-siak", "reason": ""})
    assert empty.status_code == 400
    ok = client.post(url, {"target": "entri-siak", "reason": "Draft salah ketik"})
    assert ok.status_code == 302
    assert live(case).activity_id == "entri-siak"


def test_illegal_moves_are_4xx_with_a_message(balangan: dict[str, Any]) -> None:
    case = start(balangan)
    task = live(case)
    operator = client_for(balangan["operator-layanan"])
    url = reverse("kerja:task_move", args=[case.reference, task.pk, "complete"])
    unclaimed = operator.post(url, {"output": "x"})
    assert unclaimed.status_code == 403 and "Ambil tugas ini terlebih dahulu" in (
        unclaimed.content.decode()
    )
    actions.claim(balangan["operator-layanan"], task)
    not_decision = operator.post(
        reverse("kerja:task_move", args=[case.reference, task.pk, "decide"]), {"answer": "yes"}
    )
    assert not_decision.status_code == 400 and "bukan keputusan" in (not_decision.content.decode())
    unknown = operator.post(reverse("kerja:task_move", args=[case.reference, task.pk, "fly"]))
    assert unknown.status_code == 404
    reassign = operator.post(
        reverse("kerja:task_move", args=[case.reference, task.pk, "reassign"]),
        {"to_user": str(balangan["operator-siak"].pk)},
    )
    assert reassign.status_code == 400  # not a candidate for this role
    cancel = operator.post(reverse("kerja:cancel", args=[case.reference]), {"reason": "x"})
    assert cancel.status_code == 403 and "atasan" in cancel.content.decode()
    task.refresh_from_db()
    assert task.state == TaskState.CLAIMED


def test_supervisor_reassigns_and_cancels(balangan: dict[str, Any]) -> None:
    from sipadu.sop.tests.runtime_support import persona

    colleague = persona(balangan["office"], "operator-layanan", "-2")
    case = start(balangan)
    task = live(case)
    kasi = client_for(balangan["kasi-pelayanan"])
    page = kasi.get(reverse("kerja:case", args=[case.reference])).content.decode()
    assert 'id="reassign-form"' in page and 'id="cancel-form"' in page
    moved = kasi.post(
        reverse("kerja:task_move", args=[case.reference, task.pk, "reassign"]),
        {"to_user": str(colleague.pk), "reason": "cuti"},
    )
    assert moved.status_code == 302
    task.refresh_from_db()
    assert task.assignee == colleague
    cancelled = kasi.post(
        reverse("kerja:cancel", args=[case.reference]), {"reason": "Pemohon menarik berkas"}
    )
    assert cancelled.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.CANCELLED
    again = kasi.post(reverse("kerja:cancel", args=[case.reference]), {"reason": "lagi"})
    assert again.status_code == 409 and "sudah selesai atau dibatalkan" in (again.content.decode())


def test_finished_case_offers_no_moves(balangan: dict[str, Any]) -> None:
    case = start(balangan)
    run_to_end(balangan, case)
    body = (
        client_for(balangan["operator-layanan"])
        .get(reverse("kerja:case", args=[case.reference]))
        .content.decode()
    )
    assert "Perkara selesai" in body and 'id="current-task"' not in body


# --------------------------------------------------------------------------- start & search


def test_start_case_only_with_an_sop_of_the_office(balangan: dict[str, Any]) -> None:
    client = client_for(balangan["operator-layanan"])
    form = client.get(reverse("kerja:start")).content.decode()
    assert "dik-jamila-mewa" in form and "sijarla-solok" not in form
    foreign = client.post(reverse("kerja:start"), {"sop": "sijarla-solok", "subject_label": "x"})
    assert foreign.status_code == 400
    nik = client.post(
        reverse("kerja:start"), {"sop": "dik-jamila-mewa", "subject_label": "KTP 6311012345678901"}
    )
    assert nik.status_code == 400 and "NIK" in nik.content.decode()
    assert not Case.objects.exists()
    ok = client.post(
        reverse("kerja:start"), {"sop": "dik-jamila-mewa", "subject_label": "Akta Kematian"}
    )
    case = Case.objects.get()
    assert ok.status_code == 302 and ok["Location"].endswith(f"/perkara/{case.reference}/")
    assert case.subject_label == "Akta Kematian" and case.office == balangan["office"]


def test_search_by_reference_and_label(balangan: dict[str, Any]) -> None:
    first = start(balangan, "Akta Kelahiran")
    second = start(balangan, "Kartu Keluarga")
    client = client_for(balangan["operator-layanan"])
    exact = client.post(reverse("kerja:search"), {"q": first.reference})
    assert exact.status_code == 302 and first.reference in exact["Location"]
    by_label = client.post(reverse("kerja:search"), {"q": "keluarga"}).content.decode()
    assert second.reference in by_label and first.reference not in by_label
    too_short = client.post(reverse("kerja:search"), {"q": "a"})
    assert too_short.status_code == 400
    # The query is never put in a URL.
    assert (
        client.get(reverse("kerja:search") + "?q=keluarga").content.decode().count(second.reference)
        == 0
    )


# --------------------------------------------------------------------------- monitoring


def _finished_cases(staff: dict[str, Any], n: int) -> list[Case]:
    cases = [start(staff, f"perkara {i}") for i in range(n)]
    for case in cases:
        run_to_end(staff, case)
    return cases


def test_monitoring_page_shows_figures_and_svg(balangan: dict[str, Any]) -> None:
    _finished_cases(balangan, 2)
    start(balangan, "terbuka")
    body = client_for(balangan["kasi-pelayanan"]).get(reverse("kerja:monitoring")).content
    text = body.decode()
    assert 'id="sop-dik-jamila-mewa"' in text and "<svg" in text
    table = text[text.index('<table class="stats">') :]
    table = table[: table.index("</table>")]
    rows = [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]
    rows = [r for r in rows if r]
    # Every activity done twice; one open task waits in the first activity.
    assert len(rows) == 8 and [r[3] for r in rows] == ["2"] * 8
    assert [r[7] for r in rows] == ["1"] + ["0"] * 7
    assert "sijarla" not in text  # another office's SOP


def test_exports_return_valid_csv_and_xlsx(balangan: dict[str, Any]) -> None:
    _finished_cases(balangan, 1)
    client = client_for(balangan["kasi-pelayanan"])
    response = client.get(reverse("kerja:monitoring_export", args=["kegiatan", "csv"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "Kode SOP"
    body = rows[1:]
    assert len(body) == 8 and {r[0] for r in body} == {"dik-jamila-mewa"}
    assert [r[6] for r in body] == ["1"] * 8
    xlsx = client.get(reverse("kerja:monitoring_export", args=["petugas", "xlsx"]))
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Nama pengguna"
    assert {v[0] for v in values[1:]} >= {"balangan-operator-layanan", "balangan-operator-siak"}
    assert (
        client.get(reverse("kerja:monitoring_export", args=["kegiatan", "pdf"])).status_code == 404
    )
