"""The document service's WhatsApp flows ("ajukan", "status"), step by step, through the
real webhook, worker and fake Cloud API."""

# ruff: noqa: F811  (pytest fixtures imported from flow_support are redefined as arguments)
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from sipadu.layanan import actions as layanan_actions
from sipadu.layanan import whatsapp
from sipadu.layanan.models import DocumentRequest, DocumentType, RequestStatus
from sipadu.messaging import tasks
from sipadu.messaging.models import Attachment, AttachmentState, InboundMessage, InboundState
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
    texts_of,
)
from sipadu.messaging.types.whatsapp import conversation, payloads
from sipadu.messaging.types.whatsapp.fake import FakeCloudAPI

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _catalogue(setup: Any) -> None:
    """The SOPs and the catalogue loaded, the Balangan personas created."""


# --------------------------------------------------------------------------- unit: parsing


def test_document_names_typos_and_sentences(setup: Any) -> None:
    types = whatsapp.active_types()

    def code(text: str) -> str | None:
        found = whatsapp.match_document(text, types)
        return found.code if found else None

    assert code("1") == types[0].code
    assert code("99") is None
    assert code("KTP") == "ktp-el"
    assert code("e-KTP") == "ktp-el"
    assert code("akta lahir") == "akta-kelahiran"
    assert code("Akte Kelahiran") == "akta-kelahiran"
    assert code("kartu keluaga") == "kk"
    assert code("saya mau buat akta kematian bapak saya") == "akta-kematian"
    assert code("doc:kia") == "kia"
    assert code("pesan nasi goreng") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09-03-2024", "2024-03-09"), ("9/3/2024", "2024-03-09"), ("2024-03-09", "2024-03-09")],
)
def test_dates_are_read_day_first(text: str, expected: str) -> None:
    assert whatsapp.parse_date(text).isoformat() == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [("31-02-2024", "tidak ada"), ("03/2024", "DD-MM-YYYY"), ("01-01-2999", "masa depan")],
)
def test_bad_dates_say_why(text: str, why: str) -> None:
    with pytest.raises(whatsapp.Invalid) as invalid:
        whatsapp.parse_date(text)
    assert why in str(invalid.value)


# --------------------------------------------------------------------------- apply


def test_apply_step_by_step_with_reasking_and_change(
    chat: Chat,
    send_file: Callable[..., list[str]],
    make_resident: Callable[..., Any],
    fake_api: FakeCloudAPI,
) -> None:
    person = make_resident()
    start_akta(chat)
    assert data()["asking"] == "nik"

    # A wrong NIK is refused with the reason and the same question again.
    refused, again = chat("12345")
    assert "belum dapat diterima" in refused and "16" in refused
    assert again.startswith("(1/9)") and "NIK" in again
    assert state() == "ajukan:data" and "nik" not in data()["answers"]

    assert chat(person.nik)[0].startswith("(2/9)")
    chat(person.full_name)
    # Choices by word, with a typo.
    (question,) = chat("perempuan")
    assert question.startswith("(4/9)")
    chat(person.birth_place)
    # A birth date that contradicts the NIK is refused, with how to fix the NIK.
    refused, again = chat("10-03-2024")
    assert "ubah" in refused and again.startswith("(5/9)")
    refused, _again = chat("2024/03")
    assert "DD-MM-YYYY" in refused
    chat(person.birth_date.strftime("%d-%m-%Y"))
    assert data()["answers"]["birth_date"] == person.birth_date.isoformat()
    for answer in answers_for(person)[5:]:
        replies = chat(answer)
    assert any("Surat keterangan kelahiran" in r for r in replies), replies
    assert state() == "ajukan:berkas"

    # Text while a file is expected: the file question again.
    waiting, again = chat("sebentar ya")
    assert "foto atau berkas PDF" in waiting and "Surat keterangan kelahiran" in again
    replies = send_required_files(send_file)
    assert any("Berkas tambahan" in r for r in replies)
    assert state() == "ajukan:tambahan"
    (summary,) = chat("lewati")
    assert state() == "ajukan:konfirmasi"
    assert person.full_name in summary and person.birth_date.strftime("%d-%m-%Y") in summary
    assert "Perempuan" in summary and "KTP-el orang tua: 1 berkas" in summary

    # "ubah": choose the birth place, answer again, back to the summary.
    (options,) = chat("ubah")
    assert "4. Tempat lahir" in options
    (question,) = chat("4")
    assert question.startswith("(4/9)")
    (summary,) = chat("Paringin Selatan")
    assert "Tempat lahir: Paringin Selatan" in summary
    assert not DocumentRequest.objects.exists()

    replies = chat("YA")
    req = DocumentRequest.objects.get()
    assert req.whatsapp == CITIZEN and req.channel == "whatsapp"
    assert req.document_type.code == "akta-kelahiran"
    assert req.data["birth_place"] == "Paringin Selatan" and req.data["nik"] == person.nik
    assert req.files.count() == 3
    assert {f.requirement.code for f in req.files.all() if f.requirement} == {
        "surat-kelahiran",
        "kk",
        "ktp-ortu",
    }
    assert req.case is not None and req.status == RequestStatus.SUBMITTED
    sent = "\n".join(replies)
    found = re.search(r"PIN: \*(\d{6})\*", sent)
    assert req.tracking_number in sent and found
    assert layanan_actions.find_by_pin(req.tracking_number, found.group(1)) == req
    assert whatsapp.came_by_whatsapp(req)
    assert state() == "menu" and data() == {}
    # The "received" milestone went to WhatsApp too.
    assert any("telah kami terima" in t for t in replies)


def test_typos_free_text_and_unknown_document(chat: Chat, setup: Any) -> None:
    chat("halo")
    (menu,) = chat("ajukn")
    assert "1. KTP-el" in menu and state() == "ajukan:jenis"
    (unknown,) = chat("pesan nasi goreng")
    assert "tidak kami kenali" in unknown and "Akta Kelahiran" in unknown
    replies = chat("kartu keluaga")
    assert any("*Kartu Keluarga*" in r for r in replies)
    assert data()["doc"] == "kk"


def test_interactive_list_reply_chooses_the_document(chat: Chat, setup: Any) -> None:
    chat("halo")
    chat(payloads.list_reply(CITIZEN, "menu:ajukan", "Ajukan dokumen"))
    replies = chat(payloads.list_reply(CITIZEN, "doc:kia", "Kartu Identitas Anak"))
    assert any("*Kartu Identitas Anak*" in r for r in replies)


def test_optional_field_can_be_skipped(chat: Chat, setup: Any) -> None:
    chat("halo")
    chat("1")
    chat("akta kematian")
    answers = data()
    assert answers["asking"] == "nik"
    conv = conversation.Conversation.objects.get(sender=CITIZEN)
    # Jump to the optional cause of death (the earlier answers are not under test here).
    conv.data["answers"] = {"nik": "x", "full_name": "x", "no_kk": "x", "death_date": "x"}
    conv.data["answers"].update(death_place="x")
    conv.state = "ajukan:data"
    conv.data["asking"] = "death_cause"
    conv.save()
    (question,) = chat("lewati")
    assert data()["answers"]["death_cause"] == ""
    assert question.startswith("(7/8)") and "Nama pemohon" in question


@pytest.mark.parametrize("word", ["batal", "Menu", "BATAL!"])
def test_batal_and_menu_end_the_application(
    chat: Chat, make_resident: Callable[..., Any], word: str
) -> None:
    person = make_resident()
    start_akta(chat)
    chat(person.nik)
    replies = chat(word)
    assert any("1. Ajukan dokumen" in r for r in replies)
    assert state() == "menu" and data() == {}
    assert not DocumentRequest.objects.exists()


def test_a_pause_offers_to_continue(chat: Chat, make_resident: Callable[..., Any]) -> None:
    person = make_resident()
    start_akta(chat)
    chat(person.nik)
    chat(person.full_name)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=30), tick=False):
        (offer,) = chat("ini jawabannya")
        assert "belum selesai" in offer and "1. Lanjutkan" in offer
        assert state() == "ajukan:jeda"
        (nag,) = chat("hmm")
        assert "*1*" in nag
        (question,) = chat("1")
    assert question.startswith("(3/9)")
    assert data()["answers"]["full_name"] == person.full_name


def test_a_pause_can_restart(chat: Chat, make_resident: Callable[..., Any]) -> None:
    person = make_resident()
    start_akta(chat)
    chat(person.nik)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=30), tick=False):
        chat("halo lagi")
        (menu,) = chat("2")
    assert "Dokumen apa" in menu and state() == "ajukan:jenis"
    assert "answers" not in data()


def test_a_very_long_pause_starts_at_the_menu(
    chat: Chat, make_resident: Callable[..., Any]
) -> None:
    start_akta(chat)
    with time_machine.travel(timezone.now() + dt.timedelta(days=4), tick=False):
        ended, menu = chat("halo")
    assert "berakhir" in ended and "1. Ajukan dokumen" in menu


def test_worker_restart_continues_from_the_database(
    chat: Chat,
    citizen_says: Callable[..., Any],
    make_resident: Callable[..., Any],
    fake_api: FakeCloudAPI,
    monkeypatch: pytest.MonkeyPatch,
    run_jobs: Callable[..., Any],
) -> None:
    person = make_resident()
    start_akta(chat)
    chat(person.nik)

    # The worker dies while processing the next answer: the message is kept unprocessed.
    def crash(inbound: Any, attachment: Any = None) -> None:
        raise SystemError("worker killed")

    with monkeypatch.context() as patched:
        patched.setattr(conversation, "dispatch", crash)
        citizen_says(payloads.text(CITIZEN, person.full_name))
    inbound = InboundMessage.objects.get(payload__text__body=person.full_name)
    assert inbound.state == InboundState.RECEIVED

    # A new process: fresh flow objects, nothing in memory; the sweeper picks the message up.
    whatsapp.register()
    before = len(fake_api.sent)
    run_jobs(tasks.sweep)
    (question,) = [r["body"]["text"]["body"] for r in fake_api.sent[before:]]
    assert question.startswith("(3/9)")
    assert data()["answers"] == {"nik": person.nik, "full_name": person.full_name}


def test_rejected_files_are_kept_and_the_question_repeated(
    chat: Chat,
    send_file: Callable[..., list[str]],
    make_resident: Callable[..., Any],
    fake_api: FakeCloudAPI,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = make_resident()
    start_akta(chat)
    fill_fields(chat, person)

    # Not a photo nor a PDF (a GIF sent as a document): refused politely, asked again.
    refused, again = send_file(b"GIF89a\x01\x00\x01\x00", mime="image/gif")
    assert "tidak dapat kami terima" in refused and "Jenis berkas tidak diterima" in refused
    assert "Surat keterangan kelahiran" in again
    # A corrupt "PDF".
    refused, again = send_file(b"%PDF-1.4 rusak", mime="application/pdf")
    assert "tidak dapat kami terima" in refused
    # Larger than the portal's limit.
    settings.SIPADU_LAYANAN_MAX_UPLOAD_BYTES = 100
    refused, again = send_file(jpeg_bytes())
    assert "terlalu besar" in refused
    # Larger than the WhatsApp download limit: the messaging layer says so, the flow re-asks.
    monkeypatch.setenv("SIPADU_WHATSAPP_MAX_MEDIA_BYTES", "50")
    refused, again = send_file(jpeg_bytes())
    assert "terlalu besar" in refused and "Surat keterangan kelahiran" in again
    monkeypatch.delenv("SIPADU_WHATSAPP_MAX_MEDIA_BYTES")
    del settings.SIPADU_LAYANAN_MAX_UPLOAD_BYTES

    assert state() == "ajukan:berkas" and not data()["files"]
    stored = Attachment.objects.filter(state=AttachmentState.STORED)
    assert stored.count() == 3  # every received file is kept
    assert set(data()["rejected"]) == {str(a.pk) for a in stored}

    (accepted, _next) = send_file(jpeg_bytes())
    assert "diterima" in accepted
    assert list(data()["files"]) == ["surat-kelahiran"]


def test_files_sent_early_go_with_the_submission(
    chat: Chat,
    send_file: Callable[..., list[str]],
    make_resident: Callable[..., Any],
) -> None:
    person = make_resident()
    chat("halo")
    send_file(jpeg_bytes("gray"))  # in the menu: kept
    chat("1")
    chat("akta kelahiran")
    fill_fields(chat, person)
    send_required_files(send_file)
    chat("selesai")
    chat("ya")
    req = DocumentRequest.objects.get()
    assert req.files.count() == 4
    assert req.files.filter(requirement__isnull=True).count() == 1


def test_submission_refused_keeps_the_conversation(
    chat: Chat,
    send_file: Callable[..., list[str]],
    make_resident: Callable[..., Any],
) -> None:
    person = make_resident()
    start_akta(chat)
    fill_fields(chat, person)
    send_required_files(send_file)
    chat("lewati")
    DocumentType.objects.filter(code="akta-kelahiran").update(active=False)
    (refused,) = chat("ya")
    assert "tidak dilayani" in refused
    assert state() == "ajukan:konfirmasi" and data()["answers"]["nik"] == person.nik
    assert not DocumentRequest.objects.exists()


# --------------------------------------------------------------------------- status


@pytest.fixture
def submitted(
    chat: Chat, send_file: Callable[..., list[str]], make_resident: Callable[..., Any]
) -> tuple[DocumentRequest, str]:
    person = make_resident()
    start_akta(chat)
    fill_fields(chat, person)
    send_required_files(send_file)
    chat("lewati")
    replies = chat("ya")
    found = re.search(r"PIN: \*(\d{6})\*", "\n".join(replies))
    assert found
    return DocumentRequest.objects.get(), found.group(1)


def test_status_from_the_applicants_number(
    chat: Chat, submitted: tuple[DocumentRequest, str]
) -> None:
    req, _pin = submitted
    (ask,) = chat("2")
    assert "nomor permohonan" in ask
    answer, menu_hint = chat(req.tracking_number.lower().replace("-", " "))
    assert req.tracking_number in answer
    assert "Status: Diterima" in answer
    assert "Tahap 1 dari 8" in answer
    assert "Perkiraan selesai" in answer
    assert "menu" in menu_hint and state() == "menu"


def test_status_from_another_number_needs_the_pin(
    chat: Chat, submitted: tuple[DocumentRequest, str]
) -> None:
    req, pin = submitted
    chat("halo", OTHER)
    chat("cek status", OTHER)
    (ask_pin,) = chat(req.tracking_number, OTHER)
    assert "PIN" in ask_pin and req.tracking_number not in ask_pin
    (wrong,) = chat("000000" if pin != "000000" else "111111", OTHER)
    assert "tidak cocok" in wrong and state(OTHER) == "status:pin"
    answer, _hint = chat(pin, OTHER)
    assert "Tahap 1 dari 8" in answer


def test_status_of_an_unknown_number_asks_the_pin_too(chat: Chat, setup: Any) -> None:
    chat("halo")
    chat("2")
    (bad,) = chat("bukan nomor")
    assert "Format nomor permohonan" in bad
    (ask_pin,) = chat("DJM-2345-6789")
    assert "PIN" in ask_pin
    for _try in range(whatsapp.MAX_PIN_TRIES - 1):
        chat("123456")
    (last,) = [r for r in chat("123456") if "tidak cocok" in r]
    assert "coba lagi nanti" in last and state() == "menu"


AskForFiles = Callable[[list[str], str], DocumentRequest]


@pytest.fixture
def ask_for_files(
    submitted: tuple[DocumentRequest, str], staff: dict[str, Any], run_jobs: Any
) -> AskForFiles:
    """The operator asks the submitted request's applicant for files (codes, note)."""
    from sipadu.layanan.tests.test_flow import take

    req, _pin = submitted

    def ask(codes: list[str], note: str) -> DocumentRequest:
        take(staff, req, "operator-layanan")
        run_jobs(
            lambda: layanan_actions.request_missing(staff["operator-layanan"], req, codes, note)
        )
        req.refresh_from_db()
        return req

    return ask


def test_status_while_waiting_for_files_lists_them(chat: Chat, ask_for_files: AskForFiles) -> None:
    req = ask_for_files(["buku-nikah"], "Foto kurang jelas")
    chat("status")
    answer, _hint = chat(req.tracking_number)
    assert "Menunggu kelengkapan berkas" in answer
    assert "Buku nikah" in answer and "Foto kurang jelas" in answer
    assert "Perkiraan selesai" not in answer


def test_missing_files_are_sent_in_the_status_dialogue(
    chat: Chat,
    send_file: Callable[..., list[str]],
    ask_for_files: AskForFiles,
    fake_api: FakeCloudAPI,
) -> None:
    before = len(fake_api.sent)
    req = ask_for_files(["surat-kelahiran", "buku-nikah"], "Foto buram")
    (notice,) = texts_of([r for r in fake_api.sent[before:] if r["to"] == CITIZEN])
    assert "belum lengkap" in notice and "ketik *status*" in notice
    round_ = req.missing_round

    chat("status")
    answer, ask = chat(req.tracking_number)
    assert "Menunggu kelengkapan berkas" in answer
    assert "*Surat keterangan kelahiran* (1 dari 2)" in ask and state() == "status:berkas"
    (again,) = chat("sudah saya kirim kemarin")  # words: the question again
    assert "(1 dari 2)" in again
    refused, again = send_file(b"%PDF-1.4 rusak", mime="application/pdf")
    assert "tidak dapat kami terima" in refused and "(1 dari 2)" in again
    (ask,) = send_file(jpeg_bytes("white"))
    assert "*Buku nikah / kutipan akta perkawinan orang tua* (2 dari 2)" in ask
    req.refresh_from_db()
    assert req.status == RequestStatus.WAITING_CITIZEN
    replies = send_file(jpeg_bytes("gray"))
    assert any("diproses kembali" in r for r in replies) and state() == "menu"
    req.refresh_from_db()
    assert req.status == RequestStatus.IN_PROCESS
    answered = req.files.filter(round=round_).values_list("requirement__code", flat=True)
    assert sorted(answered) == ["buku-nikah", "surat-kelahiran"]


def test_a_note_only_round_takes_any_file_from_another_number_with_the_pin(
    chat: Chat,
    send_file: Callable[..., list[str]],
    submitted: tuple[DocumentRequest, str],
    ask_for_files: AskForFiles,
) -> None:
    _req, pin = submitted
    req = ask_for_files([], "Mohon kirim surat pengantar RT")
    chat("halo", OTHER)
    chat("status", OTHER)
    chat(req.tracking_number, OTHER)
    answer, ask = chat(pin, OTHER)
    assert "surat pengantar RT" in answer and "berkas yang diminta" in ask
    send_file(jpeg_bytes(), sender=OTHER)
    req.refresh_from_db()
    assert req.status == RequestStatus.IN_PROCESS and state(OTHER) == "menu"
    assert req.files.filter(round=req.missing_round, requirement__isnull=True).count() == 1


def test_a_request_no_longer_waiting_ends_the_file_dialogue(
    chat: Chat, send_file: Callable[..., list[str]], ask_for_files: AskForFiles
) -> None:
    req = ask_for_files(["buku-nikah"], "")
    chat("status")
    chat(req.tracking_number)
    DocumentRequest.objects.filter(pk=req.pk).update(status=RequestStatus.CANCELLED)
    files = req.files.count()
    (told, *_menu) = send_file(jpeg_bytes())
    assert "tidak sedang menunggu berkas" in told and state() == "menu"
    assert req.files.count() == files
