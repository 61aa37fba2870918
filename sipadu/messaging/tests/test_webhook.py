"""The WhatsApp webhook: handshake, signature, parsing of every message type, dedup,
malformed bodies and out-of-order status callbacks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from sipadu.messaging import actions
from sipadu.messaging.models import (
    InboundMessage,
    InboundState,
    OutboundMessage,
    StatusEvent,
    WebhookDelivery,
)
from sipadu.messaging.tests.conftest import (
    CITIZEN,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    WEBHOOK,
)
from sipadu.messaging.types.whatsapp import payloads
from sipadu.messaging.types.whatsapp.fake import FakeCloudAPI

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- handshake


def test_handshake_echoes_the_challenge(client: Client, wa_env: Any) -> None:
    response = client.get(
        WEBHOOK,
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {},
    ],
)
def test_handshake_refused(client: Client, wa_env: Any, params: dict[str, str]) -> None:
    response = client.get(WEBHOOK, params)
    assert response.status_code == 403
    assert b"1" not in response.content


def test_handshake_refused_when_no_token_is_configured(client: Client) -> None:
    response = client.get(
        WEBHOOK, {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "x"}
    )
    assert response.status_code == 403


def test_other_methods_are_not_allowed(client: Client, wa_env: Any) -> None:
    assert client.put(WEBHOOK, data=b"{}").status_code == 405


# --------------------------------------------------------------------------- signature


def _delivery() -> dict[str, Any]:
    return payloads.envelope(PHONE_NUMBER_ID, messages=[payloads.text(CITIZEN, "halo")])


@pytest.mark.parametrize(
    ("secret", "signature"),
    [
        ("wrong-secret", None),  # signed with another app's secret
        ("test-app-secret", ""),  # no header at all
        ("test-app-secret", "sha256=" + "0" * 64),
        ("test-app-secret", "sha1=abcdef"),
        ("test-app-secret", "garbage"),
    ],
)
def test_bad_or_missing_signature_is_refused_and_nothing_kept(
    post_signed: Callable[..., Any], wa_env: Any, secret: str, signature: str | None
) -> None:
    response = post_signed(_delivery(), secret=secret, signature=signature)
    assert response.status_code == 403
    assert InboundMessage.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0
    assert StatusEvent.objects.count() == 0


def test_unsigned_garbage_is_refused_before_parsing(
    post_signed: Callable[..., Any], wa_env: Any
) -> None:
    response = post_signed(b"{not json", signature="")
    assert response.status_code == 403
    assert WebhookDelivery.objects.count() == 0


def test_every_post_is_refused_without_an_app_secret(post_signed: Callable[..., Any]) -> None:
    # Not configured: even a body "signed" with the empty secret is refused.
    response = post_signed(_delivery(), secret="")
    assert response.status_code == 403
    assert InboundMessage.objects.count() == 0


def test_signature_of_a_modified_body_fails(client: Client, wa_env: Any) -> None:
    from sipadu.messaging.types.whatsapp.webhook import sign

    body = payloads.dumps(_delivery())
    header = sign(body, "test-app-secret")
    tampered = body.replace(b"halo", b"hal0")
    response = client.post(
        WEBHOOK, data=tampered, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=header
    )
    assert response.status_code == 403
    assert InboundMessage.objects.count() == 0


# --------------------------------------------------------------------------- malformed


def test_malformed_json_with_valid_signature_is_400_kept_and_logged_without_number(
    post_signed: Callable[..., Any], wa_env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"entry": [{"changes": [{"value": {"messages": [{"from": "' + CITIZEN.encode()
    with caplog.at_level(logging.WARNING):
        response = post_signed(body)
    assert response.status_code == 400
    assert response.json()["error"] == "malformed"
    kept = WebhookDelivery.objects.get()
    assert kept.state == WebhookDelivery.State.MALFORMED
    assert bytes(kept.body) == body
    assert str(kept.pk) == response.json()["kept"]
    assert "malformed" in caplog.text
    assert CITIZEN not in caplog.text
    assert InboundMessage.objects.count() == 0


@pytest.mark.parametrize("body", [b"[]", b'"text"', b'{"entry": {"id": 1}}', b'{"entry": [1]}'])
def test_wrong_skeleton_is_malformed(
    post_signed: Callable[..., Any], wa_env: Any, body: bytes
) -> None:
    assert post_signed(body).status_code == 400
    assert WebhookDelivery.objects.filter(state="malformed").count() == 1


def test_unusable_item_is_kept_and_the_rest_accepted(
    post_signed: Callable[..., Any], fake_api: FakeCloudAPI
) -> None:
    good = payloads.text(CITIZEN, "halo")
    delivery = payloads.envelope(PHONE_NUMBER_ID, messages=[good, {"type": "text"}])
    response = post_signed(delivery)
    assert response.status_code == 200
    assert InboundMessage.objects.get().provider_message_id == good["id"]
    assert WebhookDelivery.objects.get().state == WebhookDelivery.State.PARTIAL


def test_oversized_body_is_refused(
    post_signed: Callable[..., Any], wa_env: Any, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = payloads.envelope(PHONE_NUMBER_ID, messages=[payloads.text(CITIZEN, "x" * 2000)])
    assert post_signed(big).status_code == 413
    assert InboundMessage.objects.count() == 0


def test_other_subscription_fields_are_ignored(
    post_signed: Callable[..., Any], wa_env: Any
) -> None:
    delivery = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {"x": 1}}]}],
    }
    assert post_signed(delivery).status_code == 200
    assert InboundMessage.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0


# --------------------------------------------------------------------------- message types

FIXTURES: list[tuple[str, Callable[[], dict[str, Any]], str, str]] = [
    (
        "text",
        lambda: payloads.text(CITIZEN, "Halo, saya mau urus KK"),
        "Halo, saya mau urus KK",
        "",
    ),
    (
        "image",
        lambda: payloads.image(CITIZEN, "111", "abc=", caption="foto KTP"),
        "foto KTP",
        "",
    ),
    ("document", lambda: payloads.document(CITIZEN, "222", "def="), "", ""),
    (
        "interactive",
        lambda: payloads.button_reply(CITIZEN, "menu:status", "Cek status"),
        "Cek status",
        "menu:status",
    ),
    (
        "interactive",
        lambda: payloads.list_reply(CITIZEN, "doc:kk", "Kartu Keluarga", "KK"),
        "Kartu Keluarga",
        "doc:kk",
    ),
    ("button", lambda: payloads.template_button(CITIZEN, "Ya", "survey-yes"), "Ya", "survey-yes"),
    ("sticker", lambda: payloads.sticker(CITIZEN), "", ""),
    ("location", lambda: payloads.location(CITIZEN), "", ""),
    ("reaction", lambda: payloads.reaction(CITIZEN, "wamid.x"), "", ""),
    ("unknown", lambda: payloads.unsupported(CITIZEN), "", ""),
]


@pytest.mark.parametrize(("kind", "build", "body", "choice"), FIXTURES)
def test_each_message_type_is_stored_once_with_its_content(
    post_signed: Callable[..., Any],
    wa_env: Any,
    kind: str,
    build: Callable[[], dict[str, Any]],
    body: str,
    choice: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Processing is exercised elsewhere; here only what the webhook stores.
    monkeypatch.setattr("sipadu.messaging.tasks.process_inbound", lambda ids: {})
    message = build()
    delivery = payloads.envelope(PHONE_NUMBER_ID, messages=[message])
    assert post_signed(delivery).status_code == 200
    assert post_signed(delivery).status_code == 200  # Meta redelivers
    stored = InboundMessage.objects.get()
    assert stored.type == kind
    assert stored.provider_message_id == message["id"]
    assert stored.sender == CITIZEN
    assert stored.recipient == PHONE_NUMBER_ID
    assert stored.body == body
    assert stored.choice_id == choice
    assert stored.sent_at is not None
    assert "from" not in stored.payload  # the number lives in its own column only


# --------------------------------------------------------------------------- statuses


def _outbound(provider_id: str, state: str = "sent") -> OutboundMessage:
    return OutboundMessage.objects.create(
        channel="whatsapp",
        recipient=CITIZEN,
        kind="text",
        payload={"text": "hai"},
        state=state,
        provider_message_id=provider_id,
        idempotency_key=f"k-{provider_id}",
    )


def _statuses(provider_id: str, *values: str, ts: int = 1_700_000_000) -> dict[str, Any]:
    return payloads.envelope(
        PHONE_NUMBER_ID,
        statuses=[
            payloads.status(provider_id, v, CITIZEN, timestamp=ts + i) for i, v in enumerate(values)
        ],
    )


@pytest.mark.parametrize(
    ("order", "final"),
    [
        (["sent", "delivered", "read"], "read"),
        (["read", "delivered", "sent"], "read"),
        (["delivered", "sent"], "delivered"),
        (["sent", "failed"], "failed"),
        (["delivered", "failed"], "delivered"),  # proof of delivery wins
        (["failed", "read"], "read"),
    ],
)
def test_statuses_out_of_order_never_move_backwards(
    post_signed: Callable[..., Any], wa_env: Any, order: list[str], final: str
) -> None:
    message = _outbound("wamid.out1")
    for value in order:  # one callback per delivery, in the given order
        assert post_signed(_statuses("wamid.out1", value)).status_code == 200
    message.refresh_from_db()
    assert message.state == final
    if final in {"read", "delivered"}:
        assert message.delivered_at is not None
    if "failed" in order and final == "failed":
        assert message.error_code == "131026"


def test_statuses_in_one_delivery_apply_in_rank_order(
    post_signed: Callable[..., Any], wa_env: Any
) -> None:
    message = _outbound("wamid.out2")
    post_signed(_statuses("wamid.out2", "read", "sent", "delivered"))
    message.refresh_from_db()
    assert message.state == "read"
    assert message.sent_at and message.delivered_at and message.read_at


def test_status_arriving_before_the_send_result_is_applied_later(
    post_signed: Callable[..., Any], wa_env: Any
) -> None:
    post_signed(_statuses("wamid.early", "delivered"))
    assert StatusEvent.objects.get().applied is False
    message = _outbound("wamid.early", state="sent")
    assert actions.apply_statuses(["wamid.early"]) == 1
    message.refresh_from_db()
    assert message.state == "delivered"
    assert StatusEvent.objects.get().applied is True


def test_repeated_status_is_stored_once(post_signed: Callable[..., Any], wa_env: Any) -> None:
    _outbound("wamid.rep")
    post_signed(_statuses("wamid.rep", "delivered"))
    post_signed(_statuses("wamid.rep", "delivered"))
    assert StatusEvent.objects.count() == 1


# --------------------------------------------------------------------------- processing


def test_unknown_types_are_answered_politely(
    citizen_says: Callable[..., Any], fake_api: FakeCloudAPI
) -> None:
    citizen_says(payloads.text(CITIZEN, "halo"))  # opens the conversation
    before = len(fake_api.sent)
    for build in (payloads.sticker, payloads.location, payloads.unsupported):
        citizen_says(build(CITIZEN))
    replies = [r["body"]["text"]["body"] for r in fake_api.sent[before:]]
    assert len(replies) == 3
    assert all("belum didukung" in r for r in replies)
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {InboundState.PROCESSED}
