"""TTE with the remote (BSrE-style) provider: the single-document form of the case page and
the bulk page ask the Kepala Dinas's passphrase, pass it to the service for that session only
(over real HTTP to the fake service), refuse a wrong one with a 4xx and nothing lost, and
never keep it: not in the database, the audit trail, the logs or the pages."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from sipadu.audit.models import AuditEvent
from sipadu.layanan.models import DocumentRequest, IssuedDocument, IssuedStatus, RequestStatus
from sipadu.layanan.tests.conftest import claim_for
from sipadu.layanan.tests.test_bulk_signing import body, kadis, totp_now, tte_tasks, waiting
from sipadu.layanan.tests.test_flow import fresh
from sipadu.signing import config
from sipadu.signing.fake_bsre import FakeBsre, serve
from sipadu.signing.providers.local import load_signer
from sipadu.signing.verify import verify_pdf
from sipadu.sop.models import TaskState
from sipadu.sop.tests.runtime_support import live

pytestmark = pytest.mark.urls("sipadu.layanan.tests.urls")

__all__ = ["kadis", "waiting"]  # fixtures shared with the bulk signing tests

NIK = "6311010101700009"
PASSPHRASE = "Kadis#Balangan-2026!"


@dataclass
class Bsre:
    """The fake TTE service running on 127.0.0.1 and holding the office's signer."""

    app: FakeBsre
    url: str


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch, setup: Any) -> Iterator[Bsre]:
    """The remote provider configured against the fake BSrE service (real HTTP)."""
    app = FakeBsre()
    app.add_user(NIK, load_signer("balangan-kepala-dinas"), PASSPHRASE)
    with serve(app) as url:
        monkeypatch.setenv("SIPADU_SIGNING_PROVIDER", "remote")
        monkeypatch.setenv("SIPADU_SIGNING_REMOTE_URL", url)
        monkeypatch.setenv("SIPADU_SIGNING_REMOTE_USER", app.client[0])
        monkeypatch.setenv("SIPADU_SIGNING_REMOTE_PASSWORD", app.client[1])
        monkeypatch.setenv(config.remote_nik_env_name("balangan-kepala-dinas"), NIK)
        monkeypatch.delenv("SIPADU_TSA_URL", raising=False)
        yield Bsre(app, url)


def _bulk(client: Client, device: TOTPDevice, reqs: list[DocumentRequest], phrase: str) -> Any:
    return client.post(
        "/tte/",
        {
            "tasks": [t.pk for t in tte_tasks(reqs)],
            "confirm": "on",
            "token": totp_now(device),
            "passphrase": phrase,
        },
    )


def _nothing_kept(caplog: pytest.LogCaptureFixture, *pages: str) -> None:
    """The passphrase is in no log record, audit event, page or database row."""
    assert PASSPHRASE not in caplog.text
    for record in caplog.records:
        assert PASSPHRASE not in repr(record.args) and PASSPHRASE not in str(record.msg)
    for event in AuditEvent.objects.all():
        assert PASSPHRASE not in repr(event.data) and PASSPHRASE not in str(event.__dict__)
    for page in pages:
        assert PASSPHRASE not in page
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert PASSPHRASE not in dump.getvalue()


def test_local_provider_shows_no_passphrase_field(kadis: Any, waiting: Any) -> None:
    client, _device = kadis
    html = body(client.get("/tte/"))
    assert 'name="token"' in html and 'name="passphrase"' not in html
    case_page = body(client.get(f"/kerja/perkara/{waiting[0].case.reference}/"))
    assert 'id="tte-form"' not in case_page


def test_bulk_with_the_right_passphrase_signs_through_the_service(
    kadis: Any, waiting: list[DocumentRequest], remote: Bsre, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client, device = kadis
    page = body(client.get("/tte/"))
    assert 'type="password" name="passphrase"' in page
    response = _bulk(client, device, waiting, PASSPHRASE)
    assert response.status_code == 200 and response.streaming
    html = body(response)
    assert 'data-signed="2"' in html and 'data-failed="0"' in html
    assert [nik for _path, nik, _size in remote.app.received] == [NIK, NIK]
    for req in waiting:
        assert fresh(req).status == RequestStatus.SIGNED
        issued = IssuedDocument.objects.get(request=req)
        with issued.file.open("rb") as f:
            result = verify_pdf(f.read())
        assert result.ok
        assert result.signatures[0].signer_name == "Kepala Dinas Dukcapil Kabupaten Balangan"
    _nothing_kept(caplog, page, html)


def test_bulk_with_a_wrong_passphrase_signs_nothing_and_says_why(
    kadis: Any, waiting: list[DocumentRequest], remote: Bsre, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client, device = kadis
    response = _bulk(client, device, waiting, PASSPHRASE + "x")
    assert response.status_code == 400
    html = body(response)
    assert "Passphrase TTE salah" in html and 'id="passphrase-error"' in html
    assert PASSPHRASE + "x" not in html  # a password box is never filled back in
    # One attempt only: the batch stops at the first refusal (accounts lock after a few).
    assert len(remote.app.received) == 1
    assert not IssuedDocument.objects.exists()
    for req in waiting:
        assert live(req.case).activity_id == "tte"
        assert fresh(req).status != RequestStatus.SIGNED
    _nothing_kept(caplog, html)
    # Nothing lost: the right passphrase (with the next OTP code) signs both.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    assert 'data-signed="2"' in body(_bulk(client, device, waiting, PASSPHRASE))


def test_bulk_without_a_passphrase_is_refused_before_calling_the_service(
    kadis: Any, waiting: list[DocumentRequest], remote: Bsre
) -> None:
    client, device = kadis
    response = _bulk(client, device, waiting, "")
    assert response.status_code == 400
    assert "Masukkan passphrase TTE" in body(response)
    assert remote.app.received == []


def test_wrong_otp_code_never_sends_the_passphrase(
    kadis: Any, waiting: list[DocumentRequest], remote: Bsre
) -> None:
    client, device = kadis
    code = "000001" if totp_now(device) == "000000" else "000000"
    response = client.post(
        "/tte/",
        {
            "tasks": [t.pk for t in tte_tasks(waiting)],
            "confirm": "on",
            "token": code,
            "passphrase": PASSPHRASE,
        },
    )
    assert response.status_code == 400 and "Kode OTP salah" in body(response)
    assert remote.app.received == []


def _single(client: Client, device: TOTPDevice, req: DocumentRequest, phrase: str) -> Any:
    return client.post(
        "/tte/",
        {
            "tasks": [live(req.case).pk],
            "case": req.case.reference,
            "confirm": "on",
            "token": totp_now(device),
            "passphrase": phrase,
        },
    )


def test_single_document_from_the_case_page(
    kadis: Any,
    staff: dict[str, Any],
    make_resident: Callable[..., Any],
    submit: Callable[..., Any],
    remote: Bsre,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sipadu.layanan.tests.test_flow import to_tte

    caplog.set_level(logging.DEBUG)
    client, device = kadis
    req = submit(claim_for(make_resident(full_name="Siti Rahmah")))
    to_tte(staff, req)
    url = f"/kerja/perkara/{req.case.reference}/"
    page = body(client.get(url))
    assert 'id="tte-form"' in page and 'type="password" name="passphrase"' in page

    wrong = _single(client, device, req, "salah")
    assert wrong.status_code == 400
    wrong_page = body(wrong)
    assert "Passphrase TTE salah" in wrong_page
    assert not IssuedDocument.objects.filter(request=req).exists()
    task = live(req.case)
    assert task.activity_id == "tte" and task.state in (TaskState.OPEN, TaskState.CLAIMED)

    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    right = _single(client, device, req, PASSPHRASE)
    assert right.status_code == 302 and right["Location"].endswith(url)
    issued = IssuedDocument.objects.get(request=req)
    with issued.file.open("rb") as f:
        assert verify_pdf(f.read()).ok
    assert live(req.case).activity_id == "cetak"
    assert issued.number in body(client.get(url))
    _nothing_kept(caplog, page, wrong_page)


# --------------------------------------------------------------------------- replace ("Ganti")


def test_replace_asks_the_passphrase_and_signs_through_the_service(
    kadis: Any,
    staff: dict[str, Any],
    make_resident: Callable[..., Any],
    submit: Callable[..., Any],
    remote: Bsre,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sipadu.layanan.issuing import signing_session
    from sipadu.layanan.tests.test_documents_signing import sign_at_tte

    caplog.set_level(logging.DEBUG)
    client, _device = kadis
    req = submit(claim_for(make_resident(full_name="Siti Rahmah")))
    with signing_session(PASSPHRASE):
        old = sign_at_tte(staff, req)
    assert len(remote.app.received) == 1
    url = f"/tte/dokumen/{old.pk}/ganti/"
    page = body(client.get(f"/kerja/perkara/{req.case.reference}/"))
    form = page[page.index(f'id="replace-form-{old.pk}"') :]
    form = form[: form.index("</form>")]
    assert 'type="password" name="passphrase"' in form
    assert 'name="passphrase"' not in page[page.index(f'id="revoke-form-{old.pk}"') :][:600]

    def unchanged() -> None:
        old.refresh_from_db()
        assert old.status == IssuedStatus.VALID and old.replaced_by_id is None
        assert IssuedDocument.objects.filter(request=req).count() == 1

    # No passphrase: refused by the form, the service is not called.
    missing = client.post(url, {"reason": "Perbaikan nama ibu"})
    assert missing.status_code == 400 and "Masukkan passphrase TTE" in body(missing)
    assert len(remote.app.received) == 1
    unchanged()
    # A wrong one: one attempt at the service, a clear 400, nothing changed.
    wrong = client.post(url, {"reason": "Perbaikan nama ibu", "passphrase": PASSPHRASE + "x"})
    assert wrong.status_code == 400
    wrong_page = body(wrong)
    assert "Passphrase TTE salah" in wrong_page and PASSPHRASE + "x" not in wrong_page
    assert len(remote.app.received) == 2
    unchanged()
    # The right one: the new document is signed by the service, the old one is replaced.
    right = client.post(url, {"reason": "Perbaikan nama ibu", "passphrase": PASSPHRASE})
    assert right.status_code == 302
    old.refresh_from_db()
    assert old.status == IssuedStatus.REPLACED and old.replaced_by is not None
    new = old.replaced_by
    assert new.status == IssuedStatus.VALID and new.sha256
    assert [nik for _path, nik, _size in remote.app.received] == [NIK, NIK, NIK]
    with new.file.open("rb") as f:
        result = verify_pdf(f.read())
    assert result.ok
    assert result.signatures[0].signer_name == "Kepala Dinas Dukcapil Kabupaten Balangan"
    _nothing_kept(caplog, page, wrong_page)


def test_local_provider_replace_asks_no_passphrase(
    kadis: Any, staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    from sipadu.layanan.tests.test_documents_signing import sign_at_tte

    client, _device = kadis
    old = sign_at_tte(staff, submit(claim_for(make_resident())))
    page = body(client.get(f"/kerja/perkara/{old.request.case.reference}/"))
    assert f'id="replace-form-{old.pk}"' in page and 'name="passphrase"' not in page
    response = client.post(f"/tte/dokumen/{old.pk}/ganti/", {"reason": "Perbaikan"})
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.status == IssuedStatus.REPLACED


# --------------------------------------------------------------------------- set-up errors


def test_generic_completion_without_a_passphrase_says_so(
    staff: dict[str, Any],
    make_resident: Callable[..., Any],
    submit: Callable[..., Any],
    remote: Bsre,
) -> None:
    from sipadu.layanan.tests.conftest import verified
    from sipadu.layanan.tests.test_flow import take, to_tte
    from sipadu.sop import actions as sop
    from sipadu.sop.error_codes import WorkflowError

    req = submit(claim_for(make_resident()))
    to_tte(staff, req)
    task = take(staff, req, "kepala-dinas")
    with pytest.raises(WorkflowError) as refused:
        sop.complete(verified(staff["kepala-dinas"]), task)
    assert "Passphrase TTE belum dimasukkan." in refused.value.message
    assert remote.app.received == []
    assert not IssuedDocument.objects.filter(request=req).exists()


def test_missing_nik_setting_stops_bulk_signing_at_once(
    kadis: Any,
    waiting: list[DocumentRequest],
    remote: Bsre,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, device = kadis
    setting = config.remote_nik_env_name("balangan-kepala-dinas")
    monkeypatch.delenv(setting)
    response = _bulk(client, device, waiting, PASSPHRASE)
    assert response.status_code == 409 and not response.streaming
    html = body(response)
    assert setting in html and 'id="form-error"' in html
    assert NIK not in html
    assert remote.app.received == []
    assert not IssuedDocument.objects.exists()
    first, second = tte_tasks(waiting)
    assert first.activity_id == second.activity_id == "tte"
    assert second.state == TaskState.OPEN  # never tried


def test_missing_nik_setting_later_in_the_batch_stops_it(
    kadis: Any,
    staff: dict[str, Any],
    waiting: list[DocumentRequest],
    make_resident: Callable[..., Any],
    submit: Callable[..., Any],
    remote: Bsre,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sipadu.layanan.tests.test_flow import to_tte

    third = submit(claim_for(make_resident(full_name="Ahmad Fauzan")))
    to_tte(staff, third)
    reqs = [*waiting, third]
    client, device = kadis
    response = _bulk(client, device, reqs, PASSPHRASE)
    assert response.status_code == 200 and response.streaming
    # The first document was signed before the page started; the setting goes missing now.
    monkeypatch.delenv(config.remote_nik_env_name("balangan-kepala-dinas"))
    html = body(response)
    assert 'data-signed="1"' in html and 'data-failed="2"' in html
    assert "SIPADU_SIGNING_REMOTE_NIK_BALANGAN_KEPALA_DINAS" in html
    assert len(remote.app.received) == 1
    assert IssuedDocument.objects.count() == 1
    assert live(third.case).state == TaskState.OPEN  # the batch stopped before it
