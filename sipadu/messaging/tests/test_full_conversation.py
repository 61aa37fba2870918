"""A whole Dik Jamila Me-WA conversation: from "halo" to a submitted request, processed on
the SOP by the officers, and the citizen receiving the signed PDF as a WhatsApp document."""

# ruff: noqa: F811  (pytest fixtures imported from flow_support are redefined as arguments)
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sipadu.layanan import documents
from sipadu.layanan.models import DocumentRequest, IssuedDocument, RequestStatus
from sipadu.layanan.tests.conftest import plain_pdf, verified
from sipadu.layanan.tests.test_flow import take, to_tte
from sipadu.messaging.models import OutboundMessage
from sipadu.messaging.tests.conftest import CITIZEN
from sipadu.messaging.tests.flow_support import (  # noqa: F401  (fixtures)
    Chat,
    answers_for,
    chat,
    desa,
    jpeg_bytes,
    make_resident,
    send_file,
    setup,
    staff,
    state,
)
from sipadu.messaging.types.whatsapp.fake import FakeCloudAPI
from sipadu.sop import actions as sop

pytestmark = pytest.mark.django_db

SIGNED = b"%PDF-1.7\n% signed by the test signer\n"


@pytest.fixture
def test_signer() -> Iterator[list[str]]:
    """A stand-in for the PAdES signer: returns fixed bytes, records what it signed."""
    signed: list[str] = []

    def sign(issued: IssuedDocument, data: dict[str, Any], signer: Any) -> bytes:
        signed.append(data["tracking_number"])
        return SIGNED + issued.number.encode()

    previous = documents.set_pdf_signer(sign)
    yield signed
    documents.set_pdf_signer(previous)


def test_from_halo_to_the_signed_pdf(
    chat: Chat,
    send_file: Callable[..., list[str]],
    make_resident: Callable[..., Any],
    staff: dict[str, Any],
    fake_api: FakeCloudAPI,
    run_jobs: Callable[..., Any],
    test_signer: list[str],
) -> None:
    person = make_resident()
    welcome, menu = chat("halo")
    assert "Selamat datang" in welcome and "1. Ajukan dokumen" in menu
    (documents_menu,) = chat("1")
    assert "4. Akta Kelahiran" in documents_menu
    chat("akta lahir")
    for answer in answers_for(person):
        chat(answer)
    assert state() == "ajukan:berkas"
    send_file(jpeg_bytes())  # surat keterangan kelahiran
    send_file(jpeg_bytes("gray"))  # KK
    send_file(plain_pdf(), mime="application/pdf", filename="ktp-ayah-ibu.pdf")
    chat("lewati")  # no optional files
    replies = chat("ya")
    req = DocumentRequest.objects.get()
    assert any(f"*{req.tracking_number}*" in r and re.search(r"PIN: \*\d{6}\*", r) for r in replies)
    assert req.whatsapp == CITIZEN and req.files.count() == 3

    # The officers process the case on the SOP; notices go out after each commit.
    req = DocumentRequest.objects.get(pk=req.pk)
    run_jobs(lambda: to_tte(staff, req))
    task = take(staff, req, "kepala-dinas")
    run_jobs(lambda: sop.complete(verified(staff["kepala-dinas"]), task))
    assert test_signer == [req.tracking_number]
    task = take(staff, req, "operator-siak")
    before = len(fake_api.sent)
    run_jobs(lambda: sop.complete(staff["operator-siak"], task))
    req.refresh_from_db()
    assert req.status == RequestStatus.READY

    # The citizen got the "ready" text and the signed PDF as a document message.
    to_citizen = [r for r in fake_api.sent[before:] if r["to"] == CITIZEN]
    kinds = [r["type"] for r in to_citizen]
    assert kinds == ["text", "document"], kinds
    assert "sudah siap" in to_citizen[0]["body"]["text"]["body"]
    document = to_citizen[1]["body"]["document"]
    issued = IssuedDocument.objects.get(request=req)
    assert document["filename"] == f"akta-kelahiran-{issued.number}.pdf"
    assert req.tracking_number in document["caption"]
    assert person.full_name not in document["caption"] and person.nik not in document["filename"]
    received = fake_api.media_bytes(document["id"])
    assert received == SIGNED + issued.number.encode()
    assert hashlib.sha256(received).hexdigest() == issued.sha256

    # Every milestone reached WhatsApp: received, signed, ready (+ the PDF).
    texts = [r["body"].get("text", {}).get("body", "") for r in fake_api.sent if r["to"] == CITIZEN]
    assert any("telah kami terima" in t for t in texts)
    assert any("ditandatangani" in t for t in texts)
    # Repeating the notice (a retried job) does not send the PDF twice.
    from sipadu.layanan.notify import Milestone, notify

    run_jobs(lambda: notify(req, Milestone.READY))
    assert OutboundMessage.objects.filter(channel="whatsapp", kind="document").count() == 1

    # Asking for the status afterwards answers from the case and sends the PDF again.
    chat("status")
    answer, *rest = chat(req.tracking_number)
    assert "Siap diambil" in answer and "Tahap 8 dari 8" in answer
    assert any(r.startswith("[dokumen]") for r in rest)


def test_portal_requests_get_no_pdf_on_whatsapp(
    staff: dict[str, Any],
    make_resident: Callable[..., Any],
    fake_api: FakeCloudAPI,
    run_jobs: Callable[..., Any],
    test_signer: list[str],
) -> None:
    """A number typed into the web form only gets notices: the document goes by download."""
    from sipadu.layanan import actions
    from sipadu.layanan.models import DocumentType
    from sipadu.layanan.tests.conftest import claim_for, png_upload
    from sipadu.layanan.uploads import clean_upload

    person = make_resident()
    document_type = DocumentType.objects.get(code="akta-kelahiran")
    uploads = [
        actions.Upload(r, clean_upload(png_upload(f"{r.code}.png")))
        for r in document_type.requirements.filter(required=True, upload=True)
    ]
    req, _pin = run_jobs(
        lambda: actions.submit_request(
            staff["operator-layanan"].memberships.first().office,
            document_type,
            claim_for(person),
            uploads,
            whatsapp=CITIZEN,
        )
    )
    req = DocumentRequest.objects.get(pk=req.pk)
    run_jobs(lambda: to_tte(staff, req))
    task = take(staff, req, "kepala-dinas")
    run_jobs(lambda: sop.complete(verified(staff["kepala-dinas"]), task))
    task = take(staff, req, "operator-siak")
    run_jobs(lambda: sop.complete(staff["operator-siak"], task))
    # The notices went (as templates: this number never wrote to us), the PDF did not.
    kinds = [r["type"] for r in fake_api.sent if r["to"] == CITIZEN]
    assert len(kinds) == 3 and "document" not in kinds
    assert IssuedDocument.objects.get(request=req).sha256
    assert not OutboundMessage.objects.filter(kind="document").exists()
