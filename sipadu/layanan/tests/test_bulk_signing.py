"""Bulk signing: the Kepala Dinas selects tasks, confirms and types a fresh TOTP code; each
task is claimed and completed (signed) with a per-item result; no code or a wrong one signs
nothing; a signing failure leaves the task open with its reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from sipadu.core.nav import items_for
from sipadu.layanan.models import DocumentRequest, IssuedDocument, RequestStatus
from sipadu.layanan.tests.conftest import claim_for
from sipadu.layanan.tests.test_flow import fresh, to_tte
from sipadu.signing.verify import verify_pdf
from sipadu.sop.models import Task, TaskState
from sipadu.sop.tests.runtime_support import live

pytestmark = pytest.mark.urls("sipadu.layanan.tests.urls")


def totp_now(device: TOTPDevice) -> str:
    """The device's current code, as the authenticator app shows it."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def kadis(staff: dict[str, Any]) -> tuple[Client, TOTPDevice]:
    """The Kepala Dinas logged in, second factor passed in the session (as after /otp/)."""
    user = staff["kepala-dinas"]
    device = TOTPDevice.objects.create(user=user, name="hp", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client, device


@pytest.fixture
def waiting(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> list[DocumentRequest]:
    """Two requests waiting at step 6."""
    reqs = [
        submit(claim_for(make_resident(full_name=name))) for name in ("Nur Aisyah", "Rizky Pratama")
    ]
    for req in reqs:
        to_tte(staff, req)
    return reqs


def tte_tasks(reqs: list[DocumentRequest]) -> list[Task]:
    return [live(r.case) for r in reqs]


def body(response: Any) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_page_lists_the_tte_tasks(kadis: Any, waiting: list[DocumentRequest]) -> None:
    client, _device = kadis
    response = client.get("/tte/")
    html = body(response)
    assert response.status_code == 200
    for req in waiting:
        assert req.tracking_number in html
    assert 'name="token"' in html


def test_menu_entry_only_for_the_kepala_dinas(
    kadis: Any, staff: dict[str, Any], rf: Any, office: Any
) -> None:
    request = rf.get("/")
    request.user, request.office = staff["kepala-dinas"], office
    assert any(i["url"] == "/tte/" for i in items_for(request))
    request.user = staff["kabid-pelayanan"]
    assert not any(i["url"] == "/tte/" for i in items_for(request))


def test_other_roles_are_refused(staff: dict[str, Any], setup: Any) -> None:
    client = Client()
    client.force_login(staff["kabid-pelayanan"])
    response = client.get("/tte/")
    assert response.status_code == 403


def test_bulk_signs_the_selected_tasks(
    kadis: Any, staff: dict[str, Any], waiting: list[DocumentRequest]
) -> None:
    client, device = kadis
    tasks = tte_tasks(waiting)
    response = client.post(
        "/tte/",
        {"tasks": [t.pk for t in tasks], "confirm": "on", "token": totp_now(device)},
    )
    assert response.status_code == 200 and response.streaming
    html = body(response)
    assert 'data-signed="2"' in html and 'data-failed="0"' in html
    assert html.count('data-result="signed"') == 2
    for req in waiting:
        assert fresh(req).status == RequestStatus.SIGNED
        issued = IssuedDocument.objects.get(request=req)
        assert issued.number in html
        with issued.file.open("rb") as f:
            assert verify_pdf(f.read()).ok
        assert live(req.case).activity_id == "cetak"
    assert Task.objects.filter(pk__in=[t.pk for t in tasks], state=TaskState.DONE).count() == 2


@pytest.mark.parametrize(
    ("token", "confirm", "message"),
    [
        ("000000", "on", "Kode OTP salah"),
        ("", "on", "Masukkan kode OTP"),
        ("12ab56", "on", "Kode harus 6 angka"),
        (None, "", "Centang persetujuan"),
    ],
)
def test_without_a_valid_code_nothing_is_signed(
    kadis: Any,
    waiting: list[DocumentRequest],
    token: str | None,
    confirm: str,
    message: str,
) -> None:
    client, device = kadis
    tasks = tte_tasks(waiting)
    code = totp_now(device) if token is None else token
    if code == "000000" and totp_now(device) == "000000":
        code = "000001"
    data = {"tasks": [t.pk for t in tasks], "token": code}
    if confirm:
        data["confirm"] = confirm
    response = client.post("/tte/", data)
    assert response.status_code == 400
    assert message in body(response)
    assert not IssuedDocument.objects.exists()
    assert all(live(r.case).activity_id == "tte" for r in waiting)


def test_a_used_code_cannot_sign_twice(kadis: Any, waiting: list[DocumentRequest]) -> None:
    client, device = kadis
    first, second = tte_tasks(waiting)
    code = totp_now(device)
    assert body(client.post("/tte/", {"tasks": [first.pk], "confirm": "on", "token": code}))
    response = client.post("/tte/", {"tasks": [second.pk], "confirm": "on", "token": code})
    assert response.status_code == 400
    assert IssuedDocument.objects.count() == 1


def test_nothing_selected_or_unknown_task(kadis: Any, waiting: list[DocumentRequest]) -> None:
    client, device = kadis
    response = client.post("/tte/", {"confirm": "on", "token": totp_now(device)})
    assert response.status_code == 400 and "Pilih sedikitnya satu" in body(response)
    response = client.post("/tte/", {"tasks": [999999], "confirm": "on", "token": "123456"})
    assert response.status_code == 400 and "muat ulang" in body(response)


def test_a_failure_of_one_document_is_reported_and_the_others_go_on(
    kadis: Any, waiting: list[DocumentRequest], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sipadu.layanan import issuing
    from sipadu.signing.error_codes import SigningError, SigningErrorCode

    client, device = kadis
    tasks = tte_tasks(waiting)
    broken = waiting[0].tracking_number
    render = issuing.render_pdf

    def render_or_fail(data: dict[str, Any], **kwargs: Any) -> bytes:
        if data["tracking_number"] == broken:  # this one document's layout fails
            raise SigningError(SigningErrorCode.SIGNING_FAILED, "test")
        return render(data, **kwargs)

    monkeypatch.setattr(issuing, "render_pdf", render_or_fail)
    response = client.post(
        "/tte/", {"tasks": [t.pk for t in tasks], "confirm": "on", "token": totp_now(device)}
    )
    assert response.status_code == 200 and response.streaming
    html = body(response)
    assert 'data-signed="1"' in html and 'data-failed="1"' in html
    assert "Gagal" in html and "Penandatanganan dokumen gagal" in html
    task = live(waiting[0].case)
    assert task.activity_id == "tte" and task.state == TaskState.CLAIMED
    assert not IssuedDocument.objects.filter(request=waiting[0]).exists()
    assert live(waiting[1].case).activity_id == "cetak"


def test_a_missing_key_stops_the_batch_before_it_starts(
    kadis: Any, waiting: list[DocumentRequest], settings: Any, tmp_path: Any
) -> None:
    client, device = kadis
    tasks = tte_tasks(waiting)
    settings.DATA_DIR = tmp_path  # the office's key is not here: every document would fail
    response = client.post(
        "/tte/", {"tasks": [t.pk for t in tasks], "confirm": "on", "token": totp_now(device)}
    )
    assert response.status_code == 409 and not response.streaming
    html = body(response)
    assert 'id="form-error"' in html and "Kunci tanda tangan" in html
    assert not IssuedDocument.objects.exists()
    first, second = (live(r.case) for r in waiting)
    assert first.activity_id == "tte" and first.state == TaskState.CLAIMED
    assert second.activity_id == "tte" and second.state == TaskState.OPEN  # never tried
