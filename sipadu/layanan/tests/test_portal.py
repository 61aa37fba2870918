"""The citizen portal: applying, bad input, the status page with number + PIN, more files."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from sipadu.layanan import actions, documents
from sipadu.layanan.models import DocumentRequest, IssuedDocument, RequestFile, RequestStatus
from sipadu.layanan.tests.conftest import claim_for, js_pdf, plain_pdf, png_bytes, png_upload

APPLY = "/layanan/ajukan/akta-kelahiran/"


def form_data(person: Any, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = claim_for(person)
    data.update({"whatsapp": "0812 3456 7890", "declaration": "on"})
    data["berkas_surat-kelahiran"] = png_upload("lahir.png")
    data["berkas_kk"] = png_upload("kk.png")
    data["berkas_ktp-ortu"] = png_upload("ktp.png")
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def apply(client: Client, data: dict[str, Any]) -> Any:
    return client.post(APPLY, data)


def test_catalogue_lists_every_document(client: Client, setup: Any) -> None:
    response = client.get("/layanan/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-doc="') == 9
    assert "Akta Kelahiran" in body and "KTP-el" in body


def test_apply_gives_number_and_pin_once(
    client: Client, setup: Any, make_resident: Callable[..., Any]
) -> None:
    person = make_resident()
    response = apply(client, form_data(person))
    assert response.status_code == 201, response.content.decode()[:2000]
    assert response["Cache-Control"].startswith("no-store")
    body = response.content.decode()
    found_number = re.search(r'id="tracking-number">([^<]+)<', body)
    found_pin = re.search(r'id="pin">(\d{6})<', body)
    assert found_number and found_pin
    number, pin = found_number.group(1), found_pin.group(1)
    req = DocumentRequest.objects.get(tracking_number=number)
    assert pin not in req.pin_hash and req.pin_hash.startswith(("md5$", "argon2"))
    # A WhatsApp number given on the portal is for notices: the channel stays the web.
    assert req.whatsapp == "6281234567890" and req.channel == "web"
    assert req.data["nik"] == person.nik
    assert req.files.count() == 3
    assert set(req.files.values_list("content_type", flat=True)) == {"image/jpeg"}
    assert req.case is not None and req.case.subject_label == number


def test_photo_is_normalised(setup: Any) -> None:
    from sipadu.layanan.uploads import clean_upload

    image = Image.new("RGB", (80, 40), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    clean = clean_upload(SimpleUploadedFile("foto.jpg", out.getvalue()))
    stored = Image.open(io.BytesIO(clean.data))
    assert stored.size == (40, 80)  # orientation applied
    assert not stored.getexif()  # metadata gone
    big = clean_upload(SimpleUploadedFile("big.png", png_bytes(size=(4000, 1000))))
    assert max(Image.open(io.BytesIO(big.data)).size) == 2000


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("kk.txt", b"hello world, not a picture"),
            "Jenis berkas tidak diterima",
        ),
        (SimpleUploadedFile("kk.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200), "rusak"),
        (SimpleUploadedFile("kk.pdf", js_pdf()), "JavaScript"),
        (SimpleUploadedFile("kk.pdf", b"%PDF-1.7\n garbage"), ""),
        (SimpleUploadedFile("kk.exe", b"MZ\x90\x00" + b"\x00" * 100), "Jenis berkas"),
    ],
)
def test_bad_files_are_refused_and_nothing_typed_is_lost(
    client: Client, setup: Any, make_resident: Callable[..., Any], upload: Any, message: str
) -> None:
    person = make_resident()
    response = apply(client, form_data(person, berkas_kk=upload))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert 'id="field-berkas_kk"' in body
    assert f'value="{person.nik}"' in body and f'value="{person.full_name}"' in body
    assert not DocumentRequest.objects.exists()


def test_oversized_file_is_refused(
    client: Client, setup: Any, make_resident: Callable[..., Any], settings: Any
) -> None:
    settings.SIPADU_LAYANAN_MAX_UPLOAD_BYTES = 1024 * 1024
    big = SimpleUploadedFile("kk.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (1024 * 1024 + 10))
    response = apply(client, form_data(make_resident(), berkas_kk=big))
    assert response.status_code == 400
    assert "terlalu besar" in response.content.decode()
    assert not DocumentRequest.objects.exists()


def test_a_harmless_pdf_is_accepted(
    client: Client, setup: Any, make_resident: Callable[..., Any]
) -> None:
    pdf = SimpleUploadedFile("kk.pdf", plain_pdf())
    response = apply(client, form_data(make_resident(), berkas_kk=pdf))
    assert response.status_code == 201
    assert RequestFile.objects.filter(content_type="application/pdf").count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nik": "1234"}, "NIK harus 16 angka"),
        ({"birth_date": "2024-03-10"}, "tidak sesuai NIK"),
        ({"sex": "L"}, "Jenis kelamin tidak sesuai NIK"),
        ({"whatsapp": "12345"}, "Nomor WhatsApp tidak valid"),
        ({"declaration": None}, "tidak boleh kosong"),
        ({"berkas_kk": None}, "tidak boleh kosong"),
        ({"birth_date": "2099-01-01"}, "masa depan"),
    ],
)
def test_bad_data_is_refused_with_a_message(
    client: Client,
    setup: Any,
    make_resident: Callable[..., Any],
    changes: dict[str, Any],
    message: str,
) -> None:
    response = apply(client, form_data(make_resident(), **changes))
    assert response.status_code == 400
    assert message.lower() in response.content.decode().lower()
    assert not DocumentRequest.objects.exists()


def status_login(client: Client, number: str, pin: str) -> Any:
    return client.post("/layanan/status/", {"tracking_number": number, "pin": pin})


GENERIC = "Nomor permohonan atau PIN tidak cocok"


def test_status_by_number_and_pin(
    client: Client, setup: Any, make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    req = submit(claim_for(make_resident()))
    response = status_login(client, req.tracking_number.lower().replace("-", " "), req.test_pin)
    assert response.status_code == 302
    assert (
        req.test_pin not in response["Location"] and req.tracking_number not in response["Location"]
    )
    page = client.get("/layanan/status/")
    body = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"].startswith("no-store")
    assert req.tracking_number in body
    assert body.count('data-state="current"') == 1 and body.count('data-state="pending"') == 7
    assert "telah kami terima" in body  # the web notice
    assert 'id="expected"' in body
    client.post("/layanan/status/keluar/")
    assert 'id="status-form"' in client.get("/layanan/status/").content.decode()


def test_wrong_pin_unknown_number_and_expired_pin_look_the_same(
    client: Client, setup: Any, make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    req = submit(claim_for(make_resident()))
    wrong = "000000" if req.test_pin != "000000" else "111111"
    for number, pin in [(req.tracking_number, wrong), ("DJM-2222-3333", req.test_pin)]:
        response = status_login(client, number, pin)
        assert response.status_code == 404
        assert GENERIC in response.content.decode()
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=181)):
        response = status_login(client, req.tracking_number, req.test_pin)
        assert response.status_code == 404
        assert GENERIC in response.content.decode()
    response = client.post("/layanan/status/", {"tracking_number": "", "pin": ""})
    assert response.status_code == 400


def test_wrong_pins_are_rate_limited(
    client: Client, setup: Any, make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    req = submit(claim_for(make_resident()))
    codes = [status_login(client, req.tracking_number, "999999").status_code for _i in range(11)]
    assert codes[:10] == [404] * 10 and codes[10] == 429
    # Even the right PIN waits now: guessing cannot continue from this address.
    assert status_login(client, req.tracking_number, req.test_pin).status_code == 429


def waiting_for_a_file(
    staff: dict[str, Any], make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> Any:
    """A request the Operator Layanan sent back: the buku nikah is missing."""
    from sipadu.sop import actions as sop
    from sipadu.sop.tests.runtime_support import live

    req = submit(claim_for(make_resident()))
    sop.claim(staff["operator-layanan"], live(req.case))
    actions.request_missing(staff["operator-layanan"], req, ["buku-nikah"], "")
    return req


def test_citizen_adds_missing_files_from_the_status_page(
    client: Client,
    staff: dict[str, Any],
    make_resident: Callable[..., Any],
    submit: Callable[..., Any],
) -> None:
    req = waiting_for_a_file(staff, make_resident, submit)
    status_login(client, req.tracking_number, req.test_pin)
    body = client.get("/layanan/status/").content.decode()
    assert 'id="missing"' in body and "Buku nikah" in body

    bad = client.post(
        "/layanan/status/unggah/",
        {"berkas_buku-nikah": SimpleUploadedFile("n.gif", b"GIF89a" + b"\x00" * 50)},
    )
    assert bad.status_code == 400 and "Jenis berkas tidak diterima" in bad.content.decode()
    empty = client.post("/layanan/status/unggah/", {})
    assert empty.status_code == 400 and "sedikitnya satu berkas" in empty.content.decode()
    assert DocumentRequest.objects.get(pk=req.pk).status == RequestStatus.WAITING_CITIZEN

    ok = client.post("/layanan/status/unggah/", {"berkas_buku-nikah": png_upload("nikah.png")})
    assert ok.status_code == 302
    req.refresh_from_db()
    assert req.status == RequestStatus.IN_PROCESS
    assert req.files.count() == 4


def test_upload_without_a_status_session_is_refused(client: Client, setup: Any) -> None:
    response = client.post("/layanan/status/unggah/", {"lainnya": png_upload()})
    assert response.status_code == 403
    assert "Sesi halaman status telah berakhir" in response.content.decode()


def test_download_only_after_release(
    client: Client, setup: Any, make_resident: Callable[..., Any], submit: Callable[..., Any]
) -> None:
    req = submit(claim_for(make_resident()))
    status_login(client, req.tracking_number, req.test_pin)
    assert client.get("/layanan/status/unduh/").status_code == 404
    from django.core.files.base import ContentFile
    from django.utils import timezone

    issued = IssuedDocument.objects.create(
        request=req,
        document_type=req.document_type,
        office=req.office,
        number="6311-LU-01012026-9999",
        issue_date=dt.date(2026, 1, 1),
    )
    issued.file.save("x.pdf", ContentFile(b"%PDF-1.7 test"), save=True)
    assert client.get("/layanan/status/unduh/").status_code == 404  # not released yet
    issued.released_at = timezone.now()
    issued.save()
    response = client.get("/layanan/status/unduh/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-1.7")
    assert documents.current_issued(req) == issued
    assert 'id="download"' in client.get("/layanan/status/").content.decode()


def test_apply_is_rate_limited(client: Client, setup: Any) -> None:
    codes = [client.post(APPLY, {}).status_code for _i in range(21)]
    assert codes[:20] == [400] * 20 and codes[20] == 429


def test_unknown_document_type_is_404(client: Client, setup: Any) -> None:
    assert client.get(reverse("layanan:apply", args=["paspor"])).status_code == 404


def test_a_cancelled_request_takes_no_more_files(
    client: Client,
    staff: dict[str, Any],
    make_resident: Callable[..., Any],
    submit: Callable[..., Any],
) -> None:
    from sipadu.sop import actions as sop

    req = waiting_for_a_file(staff, make_resident, submit)
    sop.cancel(staff["kasi-pelayanan"], req.case, "Pemohon membatalkan")
    req.refresh_from_db()
    assert req.status == RequestStatus.CANCELLED
    status_login(client, req.tracking_number, req.test_pin)
    body = client.get("/layanan/status/").content.decode()
    assert "Dibatalkan" in body and "/layanan/status/unggah/" not in body
    late = client.post("/layanan/status/unggah/", {"berkas_buku-nikah": png_upload("nikah.png")})
    assert late.status_code == 409
    req.refresh_from_db()
    assert req.status == RequestStatus.CANCELLED and req.files.count() == 3
