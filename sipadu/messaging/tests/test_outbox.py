"""The outbox: send(), the channel registry, the web channel, and WhatsApp delivery against
the local fake (24-hour window, retries, 429 + Retry-After, timeouts, exactly-once)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from sipadu.audit.models import AuditEvent
from sipadu.messaging import actions, tasks
from sipadu.messaging.channels import channel_names, get_channel
from sipadu.messaging.error_codes import ErrorCode, MessagingError
from sipadu.messaging.models import OutboundMessage, OutboundState, WhatsAppNumber
from sipadu.messaging.tests.conftest import CITIZEN, PHONE_NUMBER_ID, TOKEN
from sipadu.messaging.types.web.channel import messages_for
from sipadu.messaging.types.whatsapp.channel import normalize_number, touch_window
from sipadu.messaging.types.whatsapp.fake import FakeCloudAPI

pytestmark = pytest.mark.django_db


def _open_window(number: str = CITIZEN) -> None:
    touch_window(number, timezone.now())


# --------------------------------------------------------------------------- send()


def test_registry_knows_the_shipped_channels() -> None:
    assert {"web", "whatsapp"} <= set(channel_names())
    with pytest.raises(MessagingError) as err:
        get_channel("pigeon")
    assert err.value.code == ErrorCode.UNKNOWN_CHANNEL


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"channel": "sms", "text": "x"}, ErrorCode.UNKNOWN_CHANNEL),
        ({"recipient": "12ab", "text": "x"}, ErrorCode.BAD_RECIPIENT),
        ({"recipient": "0812", "text": "x"}, ErrorCode.BAD_RECIPIENT),
        ({}, ErrorCode.ONE_CONTENT),
        ({"text": "   "}, ErrorCode.ONE_CONTENT),
        ({"text": "x", "template": {"name": "t"}}, ErrorCode.ONE_CONTENT),
        ({"text": "x" * 4097}, ErrorCode.TEXT_TOO_LONG),
        ({"template": {"params": ["a"]}}, ErrorCode.BAD_TEMPLATE),
        ({"template": {"name": "t", "params": "a"}}, ErrorCode.BAD_TEMPLATE),
        ({"document": {"filename": "a.pdf"}}, ErrorCode.BAD_DOCUMENT),
        (
            {"document": {"link": "http://x", "storage_name": "y", "filename": "a"}},
            ErrorCode.BAD_DOCUMENT,
        ),
    ],
)
def test_send_refuses_bad_input_and_stores_nothing(kwargs: dict[str, Any], code: str) -> None:
    args = {"channel": "whatsapp", "recipient": CITIZEN, **kwargs}
    with pytest.raises(MessagingError) as err:
        actions.send(args.pop("channel"), args.pop("recipient"), **args)
    assert err.value.code == code
    assert OutboundMessage.objects.count() == 0


def test_numbers_are_normalized() -> None:
    assert normalize_number("0812-3456-7890") == "6281234567890"
    assert normalize_number("+62 812 3456 7890") == "6281234567890"


def test_send_is_idempotent_and_audited(run_jobs: Callable[..., Any]) -> None:
    first = run_jobs(lambda: actions.send("web", "REQ-1", text="Diterima", idempotency_key="k1"))
    again = run_jobs(lambda: actions.send("web", "REQ-1", text="Diterima", idempotency_key="k1"))
    assert first.pk == again.pk
    assert OutboundMessage.objects.count() == 1
    event = AuditEvent.objects.get(action="messaging.send")
    assert event.data == {"channel": "web", "kind": "text"}
    assert "REQ-1" not in str(event.data)


def test_web_channel_shows_messages_on_the_status_page(run_jobs: Callable[..., Any]) -> None:
    run_jobs(lambda: actions.send("web", "REQ-7", text="Permohonan diterima"))
    run_jobs(lambda: actions.send("web", "REQ-7", text="Dokumen ditandatangani"))
    run_jobs(lambda: actions.send("web", "REQ-8", text="lain"))
    shown = messages_for("REQ-7")
    assert [m.text for m in shown] == ["Permohonan diterima", "Dokumen ditandatangani"]
    assert {m.state for m in shown} == {OutboundState.DELIVERED}
    with pytest.raises(MessagingError):
        actions.send("web", "../etc/passwd", text="x")


def test_rolled_back_send_leaves_no_job(
    fake_api: FakeCloudAPI, run_jobs: Callable[..., Any]
) -> None:
    from django.db import transaction

    class Boom(Exception):
        pass

    def send_then_fail() -> None:
        with transaction.atomic():
            actions.send("whatsapp", CITIZEN, text="x")
            raise Boom

    _open_window()
    run_jobs(lambda: actions.send("whatsapp", CITIZEN, text="kept"))
    with pytest.raises(Boom):
        run_jobs(send_then_fail)
    assert OutboundMessage.objects.count() == 1
    assert [r["body"]["text"]["body"] for r in fake_api.sent] == ["kept"]


# --------------------------------------------------------------------------- WhatsApp delivery


def test_text_inside_the_window_is_sent_as_text(
    fake_api: FakeCloudAPI, run_jobs: Callable[..., Any]
) -> None:
    _open_window()
    message = run_jobs(lambda: actions.send("whatsapp", CITIZEN, text="Halo Bapak/Ibu"))
    message.refresh_from_db()
    assert message.state == OutboundState.SENT
    (sent,) = fake_api.sent
    assert sent["id"] == message.provider_message_id
    assert sent["phone_number_id"] == PHONE_NUMBER_ID
    assert sent["body"]["text"]["body"] == "Halo Bapak/Ibu"


def test_text_outside_the_window_goes_as_the_fallback_template(
    fake_api: FakeCloudAPI, run_jobs: Callable[..., Any]
) -> None:
    touch_window(CITIZEN, timezone.now() - dt.timedelta(hours=25))
    message = run_jobs(lambda: actions.send("whatsapp", CITIZEN, text="Dokumen Anda\nsudah siap."))
    message.refresh_from_db()
    (sent,) = fake_api.sent
    assert sent["type"] == "template"
    template = sent["body"]["template"]
    assert template["name"] == "sipadu_pemberitahuan"
    assert template["language"]["code"] == "id"
    assert template["components"][0]["parameters"][0]["text"] == "Dokumen Anda sudah siap."
    assert message.payload["sent_as"] == "template"


def test_never_written_counts_as_outside_the_window(
    fake_api: FakeCloudAPI, run_jobs: Callable[..., Any]
) -> None:
    run_jobs(lambda: actions.send("whatsapp", "081298765432", text="x"))
    assert fake_api.sent[0]["type"] == "template"
    assert fake_api.sent[0]["to"] == "6281298765432"


def test_explicit_template(fake_api: FakeCloudAPI, run_jobs: Callable[..., Any]) -> None:
    run_jobs(
        lambda: actions.send(
            "whatsapp",
            CITIZEN,
            template={"name": "status_permohonan", "language": "id", "params": ["A1", "siap"]},
        )
    )
    params = fake_api.sent[0]["body"]["template"]["components"][0]["parameters"]
    assert [p["text"] for p in params] == ["A1", "siap"]


def test_document_is_uploaded_then_sent_by_id(
    fake_api: FakeCloudAPI, run_jobs: Callable[..., Any]
) -> None:
    _open_window()
    pdf = b"%PDF-1.7 signed document"
    name = default_storage.save("test/kk.pdf", ContentFile(pdf))
    message = run_jobs(
        lambda: actions.send(
            "whatsapp",
            CITIZEN,
            document={"storage_name": name, "filename": "KK.pdf", "caption": "KK Anda"},
        )
    )
    message.refresh_from_db()
    assert message.state == OutboundState.SENT
    document = fake_api.sent[0]["body"]["document"]
    assert fake_api.media_bytes(document["id"]) == pdf
    assert document["filename"] == "KK.pdf"
    assert document["caption"] == "KK Anda"


def test_document_by_link(fake_api: FakeCloudAPI, run_jobs: Callable[..., Any]) -> None:
    _open_window()
    run_jobs(
        lambda: actions.send(
            "whatsapp",
            CITIZEN,
            document={"link": "https://sipadu.example/d/1.pdf", "filename": "akta.pdf"},
        )
    )
    assert fake_api.sent[0]["body"]["document"]["link"] == "https://sipadu.example/d/1.pdf"


def test_missing_stored_document_fails_clearly(
    fake_api: FakeCloudAPI, run_jobs: Callable[..., Any]
) -> None:
    _open_window()
    message = run_jobs(
        lambda: actions.send(
            "whatsapp", CITIZEN, document={"storage_name": "nope.pdf", "filename": "a.pdf"}
        )
    )
    message.refresh_from_db()
    assert message.state == OutboundState.FAILED
    assert message.error_code == ErrorCode.BAD_DOCUMENT
    assert fake_api.sent == []


def test_office_number_is_used(
    fake_api: FakeCloudAPI, run_jobs: Callable[..., Any], office: Any
) -> None:
    WhatsAppNumber.objects.create(office=office, phone_number_id="555000", display="0526")
    _open_window()
    run_jobs(lambda: actions.send("whatsapp", CITIZEN, text="x", office=office))
    assert fake_api.sent[0]["phone_number_id"] == "555000"


def test_not_configured_fails_without_retry(
    wa_env: Any, monkeypatch: pytest.MonkeyPatch, run_jobs: Callable[..., Any]
) -> None:
    monkeypatch.delenv("SIPADU_WHATSAPP_ACCESS_TOKEN")
    message = run_jobs(lambda: actions.send("whatsapp", CITIZEN, text="x"))
    message.refresh_from_db()
    assert message.state == OutboundState.FAILED
    assert message.error_code == ErrorCode.NOT_CONFIGURED


def test_rejected_by_the_provider_fails(
    fake_api: FakeCloudAPI, monkeypatch: pytest.MonkeyPatch, run_jobs: Callable[..., Any]
) -> None:
    monkeypatch.setenv("SIPADU_WHATSAPP_ACCESS_TOKEN", "expired")
    message = run_jobs(lambda: actions.send("whatsapp", CITIZEN, text="x"))
    message.refresh_from_db()
    assert message.state == OutboundState.FAILED
    assert message.error_code == ErrorCode.PROVIDER_REJECTED
    assert "190" in message.error
    assert message.attempts == 1


def test_429_retry_after_is_honoured(fake_api: FakeCloudAPI, run_jobs: Callable[..., Any]) -> None:
    _open_window()
    fake_api.failures.rate_limit_next = 1
    fake_api.failures.retry_after = "7"
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        message = run_jobs(lambda: actions.send("whatsapp", CITIZEN, text="x"))
        message.refresh_from_db()
        assert message.state == OutboundState.QUEUED
        assert message.error_code == "rate_limited"
        assert message.next_attempt_at == start + dt.timedelta(seconds=7)
        traveller.shift(dt.timedelta(seconds=6))
        assert tasks.sweep()["outbound_attempted"] == 0  # not due yet
        assert actions.attempt_delivery(message.pk).outcome == "skipped"
        traveller.shift(dt.timedelta(seconds=1))
        assert actions.attempt_delivery(message.pk).outcome == "sent"
    message.refresh_from_db()
    assert message.state == OutboundState.SENT
    assert message.attempts == 2
    assert len(fake_api.sent) == 1


def test_5xx_is_retried_with_growing_backoff(
    fake_api: FakeCloudAPI, run_jobs: Callable[..., Any]
) -> None:
    _open_window()
    fake_api.failures.fail_rate = 1.0
    delays = []
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        message = run_jobs(lambda: actions.send("whatsapp", CITIZEN, text="x"))
        for _ in range(actions.MAX_ATTEMPTS - 1):
            message.refresh_from_db()
            delays.append(message.next_attempt_at - timezone.now())
            traveller.move_to(message.next_attempt_at)
            actions.attempt_delivery(message.pk)
    message.refresh_from_db()
    assert message.state == OutboundState.FAILED
    assert message.error_code == ErrorCode.RETRIES_EXHAUSTED
    assert message.attempts == actions.MAX_ATTEMPTS
    assert all(later > earlier for earlier, later in itertools.pairwise(delays))
    assert fake_api.sent == []


def test_read_timeout_is_not_resent(fake_api: FakeCloudAPI, run_jobs: Callable[..., Any]) -> None:
    _open_window()
    fake_api.failures.timeout_next = 1
    fake_api.failures.timeout_seconds = 2.5  # the client gives up after 1 s
    fake_api.failures.timeout_records = True  # worst case: it did go out
    message = run_jobs(lambda: actions.send("whatsapp", CITIZEN, text="x"))
    message.refresh_from_db()
    assert message.state == OutboundState.FAILED
    assert message.error_code == ErrorCode.OUTCOME_UNKNOWN
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        tasks.sweep()
    assert len(fake_api.sent) == 1  # at most once


def test_crash_while_sending_is_never_resent(fake_api: FakeCloudAPI) -> None:
    message = OutboundMessage.objects.create(
        channel="whatsapp",
        recipient=CITIZEN,
        kind="text",
        payload={"text": "x"},
        state=OutboundState.SENDING,
        sending_since=timezone.now(),
        idempotency_key="crashed",
    )
    assert actions.attempt_delivery(message.pk).outcome == "skipped"
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        assert tasks.sweep()["outbound_failed"] == 1
    message.refresh_from_db()
    assert message.state == OutboundState.FAILED
    assert message.error_code == ErrorCode.OUTCOME_UNKNOWN
    assert fake_api.sent == []


def test_sent_row_is_never_sent_again(fake_api: FakeCloudAPI, run_jobs: Callable[..., Any]) -> None:
    _open_window()
    message = run_jobs(lambda: actions.send("whatsapp", CITIZEN, text="x"))
    for _ in range(3):
        assert actions.attempt_delivery(message.pk).outcome == "skipped"
        tasks.deliver_outbound.call_local(str(message.pk))
    assert len(fake_api.sent) == 1


def test_every_message_delivered_exactly_once_with_30_percent_failures(
    fake_api: FakeCloudAPI, run_jobs: Callable[..., Any]
) -> None:
    recipients = [f"62812000{i:05d}" for i in range(150)]
    for number in recipients:
        _open_window(number)
    fake_api.failures.fail_rate = 0.3
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for i, number in enumerate(recipients):
            run_jobs(
                lambda number=number, i=i: actions.send(
                    "whatsapp", number, text=f"pesan {i}", idempotency_key=f"exactly-{i}"
                )
            )
        # The retry schedule: run the sweeper as time passes, until nothing is queued.
        for _ in range(60):
            if not OutboundMessage.objects.exclude(state=OutboundState.SENT).exists():
                break
            traveller.shift(dt.timedelta(minutes=2))
            tasks.sweep()
    states = Counter(OutboundMessage.objects.values_list("state", flat=True))
    assert states == {OutboundState.SENT: len(recipients)}
    texts = Counter(r["body"]["text"]["body"] for r in fake_api.sent)
    assert len(texts) == len(recipients)
    assert set(texts.values()) == {1}
    assert fake_api.state.requests > len(recipients)  # failures did happen
    provider_ids = set(OutboundMessage.objects.values_list("provider_message_id", flat=True))
    assert provider_ids == {r["id"] for r in fake_api.sent}


def test_bearer_token_is_checked_by_the_fake(fake_api: FakeCloudAPI) -> None:
    import httpx

    response = httpx.post(
        f"{fake_api.url}/v21.0/{PHONE_NUMBER_ID}/messages",
        json={
            "messaging_product": "whatsapp",
            "to": CITIZEN,
            "type": "text",
            "text": {"body": "x"},
        },
        headers={"Authorization": "Bearer nope"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 190
    ok = httpx.post(
        f"{fake_api.url}/v21.0/{PHONE_NUMBER_ID}/messages",
        json={"messaging_product": "whatsapp", "to": CITIZEN, "type": "text", "text": {"body": ""}},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert ok.status_code == 400  # empty body refused like the real API
