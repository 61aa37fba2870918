"""Every write of the messaging layer: queue a message, attempt its delivery, record what a
webhook brought in, apply delivery-status callbacks, and claim inbound messages for processing.

Delivery semantics (documented in docs/messaging.md):

* an outbox row is claimed with one conditional UPDATE (``queued`` → ``sending``) before the
  provider is called, so two workers never send the same row and a row already ``sent`` is
  never sent again;
* a failure where the provider certainly did not take the message (connection refused, 429,
  5xx) puts the row back to ``queued`` with a backoff (or the provider's Retry-After);
* an outcome we cannot know (read timeout, a worker crash while ``sending``) is NOT retried:
  the row becomes ``failed`` with ``outcome_unknown`` — at-most-once, because a citizen
  receiving a notice twice is worse than an officer re-sending one flagged message, and the
  web channel keeps every notice on the status page anyway.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from sipadu.audit.services import record_event
from sipadu.jobs import enqueue_on_commit
from sipadu.messaging.channels import DeliveryError, get_channel
from sipadu.messaging.error_codes import ErrorCode, MessagingError
from sipadu.messaging.models import (
    STATE_RANK,
    InboundMessage,
    InboundState,
    MessageKind,
    OutboundMessage,
    OutboundState,
    StatusEvent,
    WebhookDelivery,
    states_below,
)

__all__ = [
    "InboundItem",
    "MessagingError",
    "StatusItem",
    "apply_statuses",
    "attempt_delivery",
    "claim_inbound",
    "finish_inbound",
    "keep_bad_delivery",
    "messages_for",
    "record_webhook",
    "release_stale",
    "send",
]

log = logging.getLogger(__name__)

#: WhatsApp's limit for a text body; other channels are held to the same.
MAX_TEXT = 4096
#: Attempts before a retryable failure is given up.
MAX_ATTEMPTS = 8
#: First retry delay; doubled each attempt, capped at BACKOFF_CAP.
BACKOFF_BASE = dt.timedelta(seconds=15)
BACKOFF_CAP = dt.timedelta(hours=1)
#: A row ``sending`` longer than this belongs to a crashed worker.
STALE_SENDING = dt.timedelta(minutes=10)
#: Processing attempts of an inbound message before it is left ``failed`` for a person.
MAX_INBOUND_ATTEMPTS = 3

_TIME_FIELD = {
    OutboundState.SENT: "sent_at",
    OutboundState.DELIVERED: "delivered_at",
    OutboundState.READ: "read_at",
}


# --------------------------------------------------------------------------- sending


def _clean_content(
    text: str | None, template: dict[str, Any] | None, document: dict[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    given = [c for c in (text, template, document) if c]
    if len(given) != 1:
        raise MessagingError(ErrorCode.ONE_CONTENT)
    if text:
        text = text.strip()
        if not text:
            raise MessagingError(ErrorCode.ONE_CONTENT)
        if len(text) > MAX_TEXT:
            raise MessagingError(ErrorCode.TEXT_TOO_LONG)
        return str(MessageKind.TEXT), {"text": text}
    if template:
        name = str(template.get("name") or "").strip()
        params = template.get("params") or []
        if not name or not isinstance(params, list | tuple):
            raise MessagingError(ErrorCode.BAD_TEMPLATE)
        clean = {
            "name": name,
            "language": str(template.get("language") or "id"),
            "params": [str(p) for p in params],
        }
        # ``text`` is the readable version shown on pages (the web channel, the admin).
        return str(MessageKind.TEMPLATE), {
            "template": clean,
            "text": str(template.get("text") or ""),
        }
    assert document is not None
    has_source = bool(document.get("link")) != bool(document.get("storage_name"))
    if not has_source or not document.get("filename"):
        raise MessagingError(ErrorCode.BAD_DOCUMENT)
    caption = str(document.get("caption") or "")
    if len(caption) > 1024:
        raise MessagingError(ErrorCode.TEXT_TOO_LONG)
    doc = {
        k: str(document[k])
        for k in ("link", "storage_name", "filename", "mime_type")
        if document.get(k)
    }
    doc.setdefault("mime_type", "application/pdf")
    return str(MessageKind.DOCUMENT), {"document": doc, "caption": caption}


def send(
    channel: str,
    recipient: str,
    *,
    text: str | None = None,
    template: dict[str, Any] | None = None,
    document: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    office: Any = None,
    sender: str = "",
    actor: Any = None,
) -> OutboundMessage:
    """Queue one message on ``channel`` for ``recipient`` and deliver it after commit.

    Exactly one of ``text``, ``template`` (``{"name", "language", "params", "text"}``) or
    ``document`` (``{"filename", "link" | "storage_name", "mime_type", "caption"}``) is given.
    Calling again with the same ``idempotency_key`` returns the first row and sends nothing.
    Raises :class:`MessagingError` for an unknown channel, a bad address or bad content.
    """
    plugin = get_channel(channel)
    address = plugin.normalize_recipient(recipient)
    kind, payload = _clean_content(text, template, document)
    key = idempotency_key or f"auto:{uuid.uuid4()}"
    if len(key) > 200:
        raise MessagingError(ErrorCode.ONE_CONTENT, "idempotency key too long")
    existing = OutboundMessage.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        try:
            with transaction.atomic():
                message = OutboundMessage.objects.create(
                    channel=channel,
                    recipient=address,
                    sender=sender,
                    office=office,
                    kind=kind,
                    payload=payload,
                    idempotency_key=key,
                )
        except IntegrityError:
            # Another caller queued the same key between our check and our insert.
            return OutboundMessage.objects.get(idempotency_key=key)
        record_event(
            actor,
            "messaging.send",
            message,
            office=office,
            data={"channel": channel, "kind": kind},
        )
        from sipadu.messaging.tasks import deliver_outbound

        enqueue_on_commit(deliver_outbound, str(message.pk))
    return message


def messages_for(channel: str, recipient: str) -> list[OutboundMessage]:
    """Messages sent to one address of a channel, oldest first (e.g. a status page)."""
    return list(
        OutboundMessage.objects.filter(channel=channel, recipient=recipient).order_by(
            "created_at", "id"
        )
    )


def backoff(attempts: int) -> dt.timedelta:
    """Delay before retry number ``attempts`` (1-based): doubling, capped, with 10% jitter."""
    base = min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)
    return base + base * random.uniform(0, 0.1)


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt did: ``sent``, ``retry``, ``failed`` or ``skipped``."""

    outcome: str
    retry_in: dt.timedelta | None = None


def attempt_delivery(message_id: str | uuid.UUID) -> Attempt:
    """Try to deliver one outbox row (the body of the delivery job).

    Skips rows that are not due or already handled; see the module docstring for what each
    failure does.
    """
    now = timezone.now()
    claimed = (
        OutboundMessage.objects.filter(pk=message_id, state=OutboundState.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(state=OutboundState.SENDING, attempts=F("attempts") + 1, sending_since=now)
    )
    if not claimed:
        return Attempt("skipped")
    message = OutboundMessage.objects.get(pk=message_id)
    try:
        result = get_channel(message.channel).deliver(message)
    except DeliveryError as exc:
        return _record_failure(message, exc)
    except MessagingError as exc:
        return _record_failure(message, DeliveryError(exc.code, exc.message))
    except Exception as exc:
        # A bug or an unforeseen library error: we cannot know whether the provider got it.
        log.exception("delivery of outbound %s raised", message.pk)
        return _record_failure(
            message, DeliveryError(ErrorCode.OUTCOME_UNKNOWN, type(exc).__name__, ambiguous=True)
        )
    with transaction.atomic():
        fields: dict[str, Any] = {
            "state": result.final_state,
            "sent_at": timezone.now(),
            "error_code": "",
            "error": "",
        }
        if result.provider_message_id:
            fields["provider_message_id"] = result.provider_message_id
        if result.payload_update:
            fields["payload"] = {**message.payload, **result.payload_update}
        OutboundMessage.objects.filter(pk=message.pk, state=OutboundState.SENDING).update(**fields)
        if result.provider_message_id:
            # Status callbacks that overtook the send response wait in StatusEvent.
            _apply_pending([result.provider_message_id])
    return Attempt("sent")


def _record_failure(message: OutboundMessage, exc: DeliveryError) -> Attempt:
    now = timezone.now()
    detail = exc.detail[:2000]
    if exc.retryable and message.attempts < MAX_ATTEMPTS:
        delay = exc.retry_after if exc.retry_after is not None else backoff(message.attempts)
        OutboundMessage.objects.filter(pk=message.pk, state=OutboundState.SENDING).update(
            state=OutboundState.QUEUED,
            next_attempt_at=now + delay,
            error_code=exc.code[:40],
            error=detail,
        )
        from sipadu.messaging.tasks import deliver_outbound

        deliver_outbound.schedule(args=(str(message.pk),), delay=max(delay.total_seconds(), 0))
        log.info("outbound %s: %s, retry in %.0fs", message.pk, exc.code, delay.total_seconds())
        return Attempt("retry", delay)
    code: str
    if exc.retryable:
        code = ErrorCode.RETRIES_EXHAUSTED
    elif exc.ambiguous:
        code = ErrorCode.OUTCOME_UNKNOWN
    else:
        code = ErrorCode.PROVIDER_REJECTED if exc.code == "rejected" else exc.code
    OutboundMessage.objects.filter(pk=message.pk, state=OutboundState.SENDING).update(
        state=OutboundState.FAILED, error_code=str(code)[:40], error=detail
    )
    log.warning("outbound %s failed: %s %s", message.pk, code, exc.code)
    return Attempt("failed")


def release_stale(now: dt.datetime | None = None) -> dict[str, int]:
    """Housekeeping run by the periodic job.

    Rows left ``sending`` by a crashed worker become ``failed`` (outcome unknown: never
    resent); inbound messages left ``processing`` go back to ``received`` (their replies carry
    idempotency keys, so processing again sends nothing twice).
    """
    now = now or timezone.now()
    stale_out = OutboundMessage.objects.filter(
        state=OutboundState.SENDING, sending_since__lt=now - STALE_SENDING
    ).update(
        state=OutboundState.FAILED,
        error_code=ErrorCode.OUTCOME_UNKNOWN,
        error="worker stopped while sending",
    )
    stale_in = InboundMessage.objects.filter(
        state=InboundState.PROCESSING,
        processed_at__lt=now - STALE_SENDING,
        attempts__lt=MAX_INBOUND_ATTEMPTS,
    ).update(state=InboundState.RECEIVED)
    return {"outbound_failed": stale_out, "inbound_released": stale_in}


def due_outbound(now: dt.datetime | None = None, limit: int = 500) -> list[str]:
    """Ids of queued rows whose next attempt is due (for the periodic sweeper)."""
    now = now or timezone.now()
    return [
        str(pk)
        for pk in OutboundMessage.objects.filter(state=OutboundState.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    ]


# --------------------------------------------------------------------------- receiving


@dataclass(frozen=True)
class InboundItem:
    """One message parsed out of a webhook delivery."""

    provider_message_id: str
    recipient: str
    sender: str
    type: str
    payload: dict[str, Any]
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class StatusItem:
    """One delivery-status callback parsed out of a webhook delivery."""

    provider_message_id: str
    status: str
    at: dt.datetime | None
    errors: list[Any]


def record_webhook(
    channel: str, messages: Sequence[InboundItem], statuses: Sequence[StatusItem]
) -> int:
    """Store what one webhook delivery brought and queue its processing; returns the number of
    new messages.

    Messages already stored (the provider redelivers) are skipped here and by the unique
    provider id, so each is processed once. Kept cheap on purpose — one read, one insert and
    at most one job — because the provider expects a fast 200. No audit event per delivery:
    the inbound rows are themselves the append-only record, and the volume would swamp the
    chain.
    """
    if not messages and not statuses:
        return 0
    now = timezone.now()
    ids = list(dict.fromkeys(m.provider_message_id for m in messages))
    # The dedup read runs before the write transaction: WAL readers take no lock, so the
    # write lock is held only for the inserts (it is contended by every web worker).
    known = (
        set(
            InboundMessage.objects.filter(provider_message_id__in=ids).values_list(
                "provider_message_id", flat=True
            )
        )
        if ids
        else set()
    )
    new = [
        InboundMessage(
            channel=channel,
            provider_message_id=m.provider_message_id,
            recipient=m.recipient,
            sender=m.sender,
            type=m.type,
            payload=m.payload,
            sent_at=m.sent_at,
            received_at=now,
        )
        for m in {m.provider_message_id: m for m in reversed(messages)}.values()
        if m.provider_message_id not in known
    ]
    with transaction.atomic():
        if new:
            # ignore_conflicts: a redelivery racing this one is stored once (unique id).
            InboundMessage.objects.bulk_create(new, ignore_conflicts=True)
        if statuses:
            StatusEvent.objects.bulk_create(
                [
                    StatusEvent(
                        channel=channel,
                        provider_message_id=s.provider_message_id,
                        status=s.status,
                        at=s.at,
                        errors=s.errors,
                    )
                    for s in statuses
                ],
                ignore_conflicts=True,
            )
        if new or statuses:
            from sipadu.messaging.tasks import wake_worker

            enqueue_on_commit(wake_worker)
    return len(new)


def keep_bad_delivery(channel: str, body: bytes, error: str, *, partial: bool = False) -> str:
    """Keep a signed but unusable webhook body for inspection; returns its id."""
    with transaction.atomic():
        row = WebhookDelivery.objects.create(
            channel=channel,
            state=WebhookDelivery.State.PARTIAL if partial else WebhookDelivery.State.MALFORMED,
            body=body,
            error=error[:2000],
        )
        record_event(
            None, "messaging.webhook_kept", row, data={"channel": channel, "state": row.state}
        )
    return str(row.pk)


def apply_statuses(provider_ids: Iterable[str] | None = None) -> int:
    """Apply stored status callbacks (of these provider message ids, or every one whose
    message is known); returns the number of rows moved."""
    with transaction.atomic():
        return _apply_pending(None if provider_ids is None else list(provider_ids))


def _apply_pending(provider_ids: list[str] | None) -> int:
    pending = StatusEvent.objects.filter(applied=False)
    if provider_ids is None:
        ours = OutboundMessage.objects.filter(provider_message_id__isnull=False)
        pending = pending.filter(provider_message_id__in=ours.values("provider_message_id"))
        provider_ids = list(dict.fromkeys(pending.values_list("provider_message_id", flat=True)))
    events = list(pending.filter(provider_message_id__in=provider_ids))
    if not events:
        return 0
    known = set(
        OutboundMessage.objects.filter(provider_message_id__in=provider_ids).values_list(
            "provider_message_id", flat=True
        )
    )
    moved = 0
    # Highest rank first: a later lower-ranked event then matches nothing (never backwards).
    for event in sorted(events, key=lambda e: -STATE_RANK.get(e.status, 0)):
        if event.provider_message_id not in known:
            continue
        fields: dict[str, Any] = {"state": event.status}
        when = event.at or event.received_at
        if event.status in _TIME_FIELD:
            fields[_TIME_FIELD[event.status]] = when
        if event.status == OutboundState.FAILED:
            first = event.errors[0] if event.errors and isinstance(event.errors[0], dict) else {}
            fields["error_code"] = str(first.get("code", "failed"))[:40]
            fields["error"] = str(first.get("title") or first.get("message") or "")[:2000]
        moved += OutboundMessage.objects.filter(
            provider_message_id=event.provider_message_id,
            state__in=states_below(event.status),
        ).update(**fields)
        # Lower-ranked events still fill in their timestamp, and "read" implies "delivered".
        implied = [event.status] + (
            [OutboundState.DELIVERED] if event.status == OutboundState.READ else []
        )
        for status in implied:
            if status in _TIME_FIELD:
                OutboundMessage.objects.filter(
                    provider_message_id=event.provider_message_id,
                    **{f"{_TIME_FIELD[status]}__isnull": True},
                ).update(**{_TIME_FIELD[status]: when})
        StatusEvent.objects.filter(pk=event.pk).update(applied=True)
    return moved


def claim_inbound(provider_message_id: str) -> InboundMessage | None:
    """Take one received message for processing (a conditional UPDATE: one worker wins)."""
    claimed = InboundMessage.objects.filter(
        provider_message_id=provider_message_id, state=InboundState.RECEIVED
    ).update(state=InboundState.PROCESSING, attempts=F("attempts") + 1, processed_at=timezone.now())
    if not claimed:
        return None
    return InboundMessage.objects.get(provider_message_id=provider_message_id)


def finish_inbound(inbound: InboundMessage, error: BaseException | None = None) -> str:
    """Record the end of one processing attempt; returns the new state.

    A failed attempt goes back to ``received`` to be tried again until MAX_INBOUND_ATTEMPTS,
    then stays ``failed`` (kept, listed in the admin for a person to handle).
    """
    state: str
    if error is None:
        state = str(InboundState.PROCESSED)
        text = ""
    else:
        state = str(
            InboundState.RECEIVED
            if inbound.attempts < MAX_INBOUND_ATTEMPTS
            else InboundState.FAILED
        )
        text = type(error).__name__
    InboundMessage.objects.filter(pk=inbound.pk, state=InboundState.PROCESSING).update(
        state=state, processed_at=timezone.now(), error=text
    )
    return state
