"""Review fixes of the document service's WhatsApp flows: PIN guessing limited across
dialogues, files sent outside a file question checked on arrival and never dropped silently,
the file limit told, and a changed NIK checked against the birth date and sex."""

# ruff: noqa: F811  (pytest fixtures imported from flow_support are redefined as arguments)
from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from sipadu.layanan import whatsapp
from sipadu.layanan.models import DocumentRequest
from sipadu.layanan.tests.conftest import (  # noqa: F401  (submit: fixture)
    claim_for,
    plain_pdf,
    png_bytes,
    submit,
)
from sipadu.layanan.uploads import UploadRejected
from sipadu.messaging.models import Attachment
from sipadu.messaging.tests.conftest import CITIZEN
from sipadu.messaging.tests.flow_support import (  # noqa: F401  (fixtures)
    OTHER,
    Chat,
    answers_for,
    chat,
    data,
    desa,
    fill_fields,
    jpeg_bytes,
    make_resident,
    send_file,
    send_required_files,
    setup,
    staff,
    start_akta,
    state,
)
from sipadu.registry.nik import decode_nik, encode_nik

pytestmark = pytest.mark.django_db

GIF = b"GIF89a\x01\x00\x01\x00"


@pytest.fixture(autouse=True)
def _catalogue(setup: Any) -> None:
    """The SOPs and the catalogue loaded, the Balangan personas created."""


def wrong_pin(pin: str) -> str:
    return "000000" if pin != "000000" else "111111"


# --------------------------------------------------------------------------- PIN limits


def test_pin_guessing_is_limited_per_number_across_restarts(
    chat: Chat,
    make_resident: Callable[..., Any],
    submit: Callable[..., DocumentRequest],
    caplog: pytest.LogCaptureFixture,
    client: Client,
) -> None:
    person = make_resident()
    req = submit(claim_for(person), whatsapp=CITIZEN)
    pin = req.test_pin
    chat("halo", OTHER)
    caplog.set_level(logging.DEBUG)
    # Typing "status" again restarts the dialogue's own count of 5; the limit per number
    # (20 an hour) is not reset by it.
    for _round in range(whatsapp.PIN_LIMIT_NUMBER // whatsapp.MAX_PIN_TRIES):
        chat("status", OTHER)
        (ask_pin,) = chat(req.tracking_number, OTHER)
        assert "PIN" in ask_pin
        for _try in range(whatsapp.MAX_PIN_TRIES):
            replies = chat(wrong_pin(pin), OTHER)
            assert any("tidak cocok" in r for r in replies), replies
        assert state(OTHER) == "menu"

    chat("status", OTHER)
    chat(req.tracking_number, OTHER)
    limited, hint = chat(pin, OTHER)  # the right PIN, but not checked any more
    assert "Terlalu banyak percobaan PIN" in limited and "coba lagi dalam" in limited
    assert "menit" in limited and "menu" in hint
    assert "Tahap" not in limited and "Status:" not in limited
    assert state(OTHER) == "menu"
    # The phone number (and the tracking number) never reach the logs.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert OTHER not in logged and req.tracking_number not in logged
    assert any("PIN tries limited" in r.getMessage() for r in caplog.records)
    # The portal counts against the same budget per tracking number.
    response = client.post("/layanan/status/", {"tracking_number": req.tracking_number, "pin": pin})
    assert response.status_code == 429


def test_words_in_the_pin_step_are_not_pin_tries(
    chat: Chat, make_resident: Callable[..., Any], submit: Callable[..., DocumentRequest]
) -> None:
    req = submit(claim_for(make_resident()), whatsapp=CITIZEN)
    other = submit(claim_for(make_resident()), whatsapp=CITIZEN)
    chat("halo", OTHER)
    chat("status", OTHER)
    chat(req.tracking_number, OTHER)
    for _word in range(whatsapp.MAX_PIN_TRIES + 1):
        (again,) = chat("status", OTHER)
        assert "6 angka" in again and "tidak cocok" not in again
    assert state(OTHER) == "status:pin" and data(OTHER).get("tries", 0) == 0
    # Another tracking number typed instead of the PIN is taken as the number to check.
    (ask_pin,) = chat(other.tracking_number.lower().replace("-", " "), OTHER)
    assert "PIN" in ask_pin and data(OTHER)["number"] == other.tracking_number
    replies = chat(other.test_pin, OTHER)
    assert any("Status:" in r for r in replies), replies


def test_pin_guessing_is_limited_per_sender_across_numbers(
    chat: Chat,
    make_resident: Callable[..., Any],
    submit: Callable[..., DocumentRequest],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert whatsapp.PIN_LIMIT_SENDER == 30
    monkeypatch.setattr(whatsapp, "PIN_LIMIT_SENDER", 3)
    person = make_resident()
    req = submit(claim_for(person), whatsapp=CITIZEN)
    chat("halo", OTHER)
    # Three tries on three different (unknown) numbers: each number stays far below its own
    # limit, the sender reaches his.
    for number in ("DJM-2345-6789", "DJM-2345-6790", "DJM-2345-6791"):
        chat("menu", OTHER)
        chat("status", OTHER)
        chat(number, OTHER)
        (wrong,) = chat("123456", OTHER)
        assert "tidak cocok" in wrong
    chat("menu", OTHER)
    chat("status", OTHER)
    chat(req.tracking_number, OTHER)
    limited, _hint = chat(req.test_pin, OTHER)
    assert "Terlalu banyak percobaan PIN" in limited and "Tahap" not in limited
    # Another sender is not affected.
    chat("halo", "6281398765432")
    chat("status", "6281398765432")
    chat(req.tracking_number, "6281398765432")
    answer, _hint = chat(req.test_pin, "6281398765432")
    assert "Tahap 1 dari 8" in answer


# --------------------------------------------------------------------------- loose files


def test_a_loose_file_is_checked_on_arrival_and_goes_with_the_request(
    chat: Chat, send_file: Callable[..., list[str]], make_resident: Callable[..., Any]
) -> None:
    person = make_resident()
    start_akta(chat)
    # A GIF while the NIK is asked: refused at once, with the reason, then the question.
    refused, again = send_file(GIF, mime="image/gif")
    assert "tidak dapat kami terima" in refused and "Jenis berkas tidak diterima" in refused
    assert again.startswith("(1/9)")
    gif = Attachment.objects.get()
    assert str(gif.pk) in data()["rejected"] and str(gif.pk) not in data().get("extra", [])
    # A good photo there is kept as an "other" file, and said so.
    kept, again = send_file(jpeg_bytes("gray"))
    assert "kami simpan sebagai berkas tambahan" in kept and again.startswith("(1/9)")
    fill_fields(chat, person)
    send_required_files(send_file)
    chat("lewati")
    # A PDF at the summary is kept too; a corrupt one is refused with the reason.
    kept, summary = send_file(plain_pdf(), mime="application/pdf", filename="lain.pdf")
    assert "berkas tambahan" in kept and "Berkas tambahan: 2 berkas" in summary
    refused, summary = send_file(b"%PDF-1.4 rusak", mime="application/pdf")
    assert "tidak dapat kami terima" in refused and "Berkas tambahan: 2 berkas" in summary
    replies = chat("ya")
    assert not any("Catatan" in r for r in replies), replies
    req = DocumentRequest.objects.get()
    assert req.files.count() == 5
    assert req.files.filter(requirement__isnull=True).count() == 2


def test_a_file_refused_in_the_menu_is_told_at_once(
    chat: Chat, send_file: Callable[..., list[str]]
) -> None:
    chat("halo")
    (refused,) = send_file(GIF, mime="image/gif")
    assert "tidak dapat kami terima" in refused and "1. Ajukan dokumen" in refused
    assert "attachments" not in data()
    (kept,) = send_file(jpeg_bytes())
    assert "sudah kami simpan" in kept
    assert len(data()["attachments"]) == 1


def test_a_file_sent_while_checking_a_status_is_kept(
    chat: Chat, send_file: Callable[..., list[str]], make_resident: Callable[..., Any]
) -> None:
    person = make_resident()
    chat("halo")
    send_file(jpeg_bytes("gray"))  # in the menu
    chat("2")
    kept, again = send_file(jpeg_bytes("white"))
    assert "sudah kami simpan" in kept and "nomor permohonan" in again
    chat("menu")
    # Neither the status dialogue nor "menu" forgets them: the application takes both.
    assert len(data()["attachments"]) == 2
    chat("1")
    chat("akta kelahiran")
    fill_fields(chat, person)
    send_required_files(send_file)
    chat("lewati")
    chat("ya")
    req = DocumentRequest.objects.get()
    assert req.files.filter(requirement__isnull=True).count() == 2


def test_a_loose_file_refused_at_submission_is_told(
    chat: Chat,
    send_file: Callable[..., list[str]],
    make_resident: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = make_resident()
    start_akta(chat)
    send_file(jpeg_bytes("gray"))
    (loose,) = data()["extra"]
    fill_fields(chat, person)
    send_required_files(send_file)
    chat("lewati")

    # The rules changed between arrival and submission (e.g. a smaller size limit).
    original = whatsapp.clean_attachment

    def stricter(attachment: Attachment) -> Any:
        if str(attachment.pk) == loose:
            raise UploadRejected("Berkas terlalu besar.")
        return original(attachment)

    monkeypatch.setattr(whatsapp, "clean_attachment", stricter)
    replies = chat("ya")
    assert any("1 berkas tambahan tidak ikut dikirim" in r for r in replies), replies
    req = DocumentRequest.objects.get()
    assert req.files.count() == 3 and req.files.filter(requirement__isnull=True).count() == 0
    assert Attachment.objects.filter(pk=loose).exists()  # still kept


def test_the_file_limit_is_told(
    chat: Chat,
    send_file: Callable[..., list[str]],
    make_resident: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(whatsapp, "MAX_FILES", 5)
    person = make_resident()
    chat("halo")
    send_file(jpeg_bytes("gray"))
    chat("1")
    chat("akta kelahiran")
    # Five files at most: the one from the menu, three places kept for the required files,
    # so one more "other" file fits.
    (kept, _question) = send_file(jpeg_bytes("white"))
    assert "berkas tambahan" in kept
    refused, question = send_file(jpeg_bytes("black"))
    assert "Batas 5 berkas" in refused and "tidak kami terima" in refused
    assert question.startswith("(1/9)")
    fill_fields(chat, person)
    send_required_files(send_file)  # the required files still fit
    assert state() == "ajukan:tambahan"
    refused, summary = send_file(jpeg_bytes("red"))
    assert "Batas 5 berkas" in refused and "Ringkasan permohonan" in summary
    chat("ya")
    req = DocumentRequest.objects.get()
    assert req.files.count() == 5 and req.files.filter(requirement__isnull=True).count() == 2


def test_files_beyond_the_limit_before_the_choice_are_told(
    chat: Chat,
    send_file: Callable[..., list[str]],
    make_resident: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(whatsapp, "MAX_FILES", 4)
    person = make_resident()
    chat("halo")
    for color in ("gray", "white", "black", "red"):
        send_file(jpeg_bytes(color))
    (refused,) = send_file(jpeg_bytes("blue"))
    assert "Batas 4 berkas" in refused
    chat("1")
    chat("akta kelahiran")
    fill_fields(chat, person)
    send_required_files(send_file)
    (summary,) = chat("lewati")
    assert "3 berkas tambahan tidak ikut dikirim" in summary
    replies = chat("ya")
    assert any("3 berkas tambahan tidak ikut dikirim" in r for r in replies), replies
    req = DocumentRequest.objects.get()
    assert req.files.count() == 4 and req.files.filter(requirement__isnull=False).count() == 3


# --------------------------------------------------------------------------- changing the NIK


def test_a_changed_nik_is_checked_against_birth_date_and_sex(
    chat: Chat, send_file: Callable[..., list[str]], make_resident: Callable[..., Any]
) -> None:
    person = make_resident()
    start_akta(chat)
    fill_fields(chat, person)
    send_required_files(send_file)
    chat("lewati")
    assert state() == "ajukan:konfirmasi"
    kecamatan, serial = person.nik[:6], int(person.nik[-4:])

    (options,) = chat("ubah")
    assert "1. " in options
    (question,) = chat("1")
    assert question.startswith("(1/9)")
    # A NIK encoding another birth date: refused with the consistency check's message.
    other_date = encode_nik(kecamatan, dt.date(2023, 1, 5), "P", serial)
    refused, again = chat(other_date)
    expected = decode_nik(other_date, sex="P", birth_date=person.birth_date)
    assert not expected.valid
    assert "belum dapat diterima" in refused and " ".join(expected.errors) in refused
    assert "ubah" in refused and again.startswith("(1/9)")
    assert "nik" not in data()["answers"] and state() == "ajukan:data"
    # A NIK encoding the other sex: refused as well.
    male = encode_nik(kecamatan, person.birth_date, "L", serial)
    refused, _again = chat(male)
    assert "Jenis kelamin tidak sesuai NIK" in refused
    # A NIK that agrees: back to the summary.
    consistent = encode_nik(kecamatan, person.birth_date, "P", serial + 1)
    (summary,) = chat(consistent)
    assert "Ringkasan permohonan" in summary and data()["answers"]["nik"] == consistent
    chat("ya")
    assert DocumentRequest.objects.get().data["nik"] == consistent


def test_answering_the_nik_first_is_not_cross_checked_yet() -> None:
    # Nothing to compare with yet: only the NIK's own checks.
    nik = encode_nik("631101", dt.date(2024, 3, 9), "P", 101)
    assert whatsapp.clean_answer("nik", nik, {}) == nik
    with pytest.raises(whatsapp.Invalid) as refused:
        whatsapp.clean_answer("nik", nik, {"sex": "L"})
    assert "Jenis kelamin tidak sesuai NIK" in str(refused.value)
    assert re.search(r"tanggal lahir atau jenis kelamin", str(refused.value))
