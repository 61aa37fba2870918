"""The public verification page: states valid / revoked / replaced / unknown, masked data,
rate limit, and the PDF upload check (intact, altered, non-PDF, JavaScript, too large);
revoking and replacing through the officer actions and views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sipadu.audit.models import AuditEvent
from sipadu.layanan import actions
from sipadu.layanan.models import IssuedDocument, IssuedStatus
from sipadu.layanan.tests.conftest import claim_for, js_pdf, plain_pdf, verified
from sipadu.layanan.tests.test_documents_signing import sign_at_tte
from sipadu.layanan.verification import mask_name, mask_nik
from sipadu.signing.tests.conftest import flip_byte_in_stream

pytestmark = pytest.mark.urls("sipadu.layanan.tests.urls")


@pytest.fixture
def issued(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> IssuedDocument:
    """A signed kutipan akta kelahiran of "Budi Santoso"."""
    person = make_resident(full_name="Budi Santoso", sex="L")
    return sign_at_tte(staff, submit(claim_for(person)))


def pdf_of(doc: IssuedDocument) -> bytes:
    """The stored signed PDF (read afresh each time)."""
    with doc.file.open("rb") as f:
        return f.read()


def page(client: Client, doc: IssuedDocument) -> str:
    response = client.get(doc.verification_path)
    assert response.status_code == 200
    return response.content.decode()


def upload(client: Client, doc: IssuedDocument | None, data: bytes, name: str = "a.pdf") -> Any:
    url = doc.verification_path if doc else "/v/"
    return client.post(url, {"berkas": SimpleUploadedFile(name, data, "application/pdf")})


def test_masks() -> None:
    assert mask_name("Budi Santoso") == "B*** S******"
    assert mask_nik("6311014903240101") == "6311**********01"
    assert mask_nik("123") == "***"


def test_valid_document_page(client: Client, issued: IssuedDocument) -> None:
    html = page(client, issued)
    assert 'data-status="valid"' in html and "BERLAKU" in html
    assert issued.number in html and "Akta Kelahiran" in html
    assert "Kabupaten Balangan" in html
    assert "B*** S******" in html
    nik = issued.request.draft["nik"]
    assert nik not in html and f"{nik[:4]}**********{nik[-2:]}" in html
    assert "Budi" not in html
    response = client.get(issued.verification_path)
    assert response["X-Robots-Tag"].startswith("noindex")
    assert response["Referrer-Policy"] == "same-origin"


def test_unknown_token_is_a_clear_404(client: Client, setup: Any) -> None:
    response = client.get("/v/tidak-ada-token-ini")
    assert response.status_code == 404
    assert "Dokumen tidak ditemukan" in response.content.decode()
    assert client.get("/v/" + "x" * 200).status_code == 404


def test_page_views_are_rate_limited(client: Client, issued: IssuedDocument) -> None:
    codes = [client.get(issued.verification_path).status_code for _ in range(61)]
    assert codes[:60] == [200] * 60 and codes[60] == 429


def test_upload_of_the_signed_file_is_intact_and_matches(
    client: Client, issued: IssuedDocument
) -> None:
    response = upload(client, issued, pdf_of(issued))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-signature="valid"' in html and 'data-match="this"' in html
    # The same file presented on the generic page is recognised as that document.
    html = upload(client, None, pdf_of(issued)).content.decode()
    assert 'data-match="other"' in html and issued.number in html


def test_altered_upload_fails(client: Client, issued: IssuedDocument) -> None:
    response = upload(client, issued, flip_byte_in_stream(pdf_of(issued)))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-signature="altered"' in html and 'data-match="none"' in html
    assert "TIDAK SAH" in html


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"GIF89a not a pdf", 400, "bukan PDF"),
        (js_pdf(), 400, "JavaScript"),
        (b"", 400, "kosong"),
    ],
)
def test_bad_uploads_get_a_clear_message(
    client: Client, issued: IssuedDocument, data: bytes, status: int, message: str
) -> None:
    response = upload(client, issued, data)
    assert response.status_code == status
    assert message in response.content.decode()


def test_unsigned_pdf_and_oversized_file(
    client: Client, issued: IssuedDocument, monkeypatch: pytest.MonkeyPatch
) -> None:
    html = upload(client, issued, plain_pdf()).content.decode()
    assert 'data-signature="unsigned"' in html and 'data-match="none"' in html
    monkeypatch.setattr("sipadu.layanan.verification.MAX_UPLOAD_BYTES", 1000)
    response = upload(client, issued, pdf_of(issued))
    assert response.status_code == 413 and "terlalu besar" in response.content.decode()


def test_uploads_are_rate_limited(client: Client, issued: IssuedDocument) -> None:
    codes = [upload(client, issued, b"x").status_code for _ in range(11)]
    assert codes[:10] == [400] * 10 and codes[10] == 429


def test_revoke_shows_on_the_page_and_is_audited(
    client: Client, staff: dict[str, Any], issued: IssuedDocument
) -> None:
    unverified = type(staff["kepala-dinas"]).objects.get(pk=staff["kepala-dinas"].pk)
    with pytest.raises(actions.RevocationError) as refused:
        actions.revoke_document(unverified, issued, "Salah tulis")  # no second factor
    assert refused.value.status == 403
    with pytest.raises(actions.RevocationError):
        actions.revoke_document(verified(staff["kasi-pelayanan"]), issued, "Salah tulis")
    with pytest.raises(actions.RevocationError):
        actions.revoke_document(verified(staff["kabid-pelayanan"]), issued, "   ")
    actions.revoke_document(verified(staff["kabid-pelayanan"]), issued, "Salah tulis nama ibu")
    issued.refresh_from_db()
    assert issued.status == IssuedStatus.REVOKED and issued.status_changed_at
    event = AuditEvent.objects.filter(action="layanan.document.revoke").get()
    assert "Budi" not in str(event.data)
    html = page(client, issued)
    assert 'data-status="revoked"' in html and "DICABUT" in html
    with pytest.raises(actions.RevocationError) as again:
        actions.revoke_document(verified(staff["kepala-dinas"]), issued, "lagi")
    assert again.value.status == 409


def test_replace_issues_a_new_signed_document(
    client: Client, staff: dict[str, Any], issued: IssuedDocument
) -> None:
    new = actions.replace_document(verified(staff["kepala-dinas"]), issued, "Perbaikan data")
    issued.refresh_from_db()
    assert issued.status == IssuedStatus.REPLACED and issued.replaced_by_id == new.pk
    assert new.status == IssuedStatus.VALID and new.number != issued.number
    assert new.sha256 and new.token != issued.token
    html = page(client, issued)
    assert 'data-status="replaced"' in html and new.verification_path in html
    html = upload(client, new, pdf_of(new)).content.decode()
    assert 'data-signature="valid"' in html and 'data-match="this"' in html
    # The old file still verifies as a signature, but its page says it was replaced.
    html = upload(client, issued, pdf_of(issued)).content.decode()
    assert 'data-match="this"' in html and "DIGANTI" in html
    # The resident's record now carries the replacement's number.
    person = issued.request.penduduk
    assert person is not None
    person.refresh_from_db()
    assert person.akta_kelahiran_no == new.number != issued.number
    assert person.akta_kelahiran_date == new.issue_date


def test_replace_with_signing_failure_changes_nothing(
    staff: dict[str, Any], issued: IssuedDocument, settings: Any, tmp_path: Any
) -> None:
    settings.DATA_DIR = tmp_path
    with pytest.raises(actions.RevocationError) as failed:
        actions.replace_document(verified(staff["kepala-dinas"]), issued, "Perbaikan")
    assert failed.value.message
    issued.refresh_from_db()
    assert issued.status == IssuedStatus.VALID
    assert IssuedDocument.objects.filter(request=issued.request).count() == 1


def test_officer_views_revoke_with_second_factor(
    staff: dict[str, Any], issued: IssuedDocument
) -> None:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    kadis = staff["kepala-dinas"]
    client = Client()
    client.force_login(kadis)
    device = TOTPDevice.objects.create(user=kadis, name="hp", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    case_page = client.get(f"/kerja/perkara/{issued.request.case.reference}/")
    assert case_page.status_code == 200
    assert "issued-documents-panel" in case_page.content.decode()
    assert f"/tte/dokumen/{issued.pk}/cabut/" in case_page.content.decode()
    response = client.post(f"/tte/dokumen/{issued.pk}/cabut/", {"reason": ""})
    assert response.status_code == 400
    response = client.post(f"/tte/dokumen/{issued.pk}/cabut/", {"reason": "Data keliru"})
    assert response.status_code == 302
    issued.refresh_from_db()
    assert issued.status == IssuedStatus.REVOKED
    other = Client()
    other.force_login(staff["operator-layanan"])
    assert other.post(f"/tte/dokumen/{issued.pk}/ganti/", {"reason": "x"}).status_code in (403, 409)
