"""Background jobs of the messaging layer: deliver outbox rows, process webhook deliveries,
and a periodic sweeper that re-runs due retries and cleans up after crashed workers."""

from __future__ import annotations

import logging

from django.core.cache import cache

from sipadu.jobs import crontab, job, periodic
from sipadu.messaging import actions
from sipadu.messaging.channels import get_channel

log = logging.getLogger(__name__)


@job()
def deliver_outbound(message_id: str) -> str:
    """Attempt delivery of one outbox row; retries schedule themselves (see actions)."""
    return actions.attempt_delivery(message_id).outcome


def process_inbound(provider_ids: list[str]) -> dict[str, int]:
    """Hand each newly received message to its channel's inbound handler, once."""
    counts = {"processed": 0, "failed": 0, "skipped": 0}
    for provider_id in provider_ids:
        inbound = actions.claim_inbound(provider_id)
        if inbound is None:
            counts["skipped"] += 1
            continue
        try:
            get_channel(inbound.channel).handle_inbound(inbound)
        except Exception as exc:
            # Keep going with the other messages; this one is retried by the sweeper.
            log.exception("processing inbound %s failed", inbound.pk)
            actions.finish_inbound(inbound, exc)
            counts["failed"] += 1
        else:
            actions.finish_inbound(inbound)
            counts["processed"] += 1
    return counts


#: Cache key set while a drain job is queued or running: webhooks then enqueue nothing.
WAKE_KEY = "messaging:drain-pending"
#: Lifetime of the key, should a queued drain job be lost (the sweeper also catches up).
WAKE_TTL = 30
#: Messages claimed per round of a drain.
DRAIN_BATCH = 200


def wake_worker() -> None:
    """Make sure a drain job is queued (called after a webhook commits).

    The inbound rows are the durable queue; the Huey job is only the wake-up call. Coalescing
    wake-ups through one cache key keeps the webhook to a cheap cache check instead of a
    synchronous queue write per delivery (see docs/PERFORMANCE.md, WhatsApp).
    """
    if cache.add(WAKE_KEY, 1, WAKE_TTL):
        drain_inbound()


def _pending_batch() -> list[str]:
    from sipadu.messaging.models import InboundMessage, InboundState

    # attempts == 0: messages that failed once wait for the sweeper's slower retry.
    return list(
        InboundMessage.objects.filter(state=InboundState.RECEIVED, attempts=0)
        .order_by("received_at")
        .values_list("provider_message_id", flat=True)[:DRAIN_BATCH]
    )


@job()
def drain_inbound() -> dict[str, int]:
    """Apply stored status callbacks and process every received message, until none is left.

    The wake key is deleted before a last look, so a webhook committing after that look
    finds the key gone and queues a new drain: no message waits for the sweeper.
    """
    totals = {"processed": 0, "failed": 0, "skipped": 0, "statuses_moved": 0}
    released = False
    while True:
        totals["statuses_moved"] += actions.apply_statuses()
        batch = _pending_batch()
        if batch:
            counts = process_inbound(batch)
            for key, value in counts.items():
                totals[key] += value
            if counts.get("processed", 0) + counts.get("failed", 0):
                continue
            # Another worker holds all of these: it drains; stop rather than spin.
        if released:
            return totals
        cache.delete(WAKE_KEY)
        released = True


def sweep() -> dict[str, int]:
    """Re-run due retries, release work of crashed workers, retry failed inbound messages."""
    from sipadu.messaging.models import InboundMessage, InboundState

    result = actions.release_stale()
    due = actions.due_outbound()
    for message_id in due:
        actions.attempt_delivery(message_id)
    pending = list(
        InboundMessage.objects.filter(state=InboundState.RECEIVED)
        .order_by("received_at")
        .values_list("provider_message_id", flat=True)[:500]
    )
    result.update({"outbound_attempted": len(due), **process_inbound(pending)})
    return result


@periodic(crontab(minute="*"))
def sweep_messaging() -> dict[str, int]:
    """Every minute: the safety net behind the scheduled retries (see :func:`sweep`)."""
    return sweep()
