"""record_event() and verify(): the audit log's two operations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone

from .models import GENESIS, AuditEvent, AuditHead


def client_ip(request: HttpRequest | None) -> str | None:
    """The client address (the proxy's forwarded address when one is configured)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record_event(
    actor: Any,
    action: str,
    obj: Model | None = None,
    *,
    office: Any = None,
    request: HttpRequest | None = None,
    ip: str | None = None,
    data: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    ``data`` must not hold NIK, names or phone numbers: name the object by its key instead.
    """
    with transaction.atomic():
        head, _created = AuditHead.objects.select_for_update().get_or_create(pk=1)
        user = actor if getattr(actor, "is_authenticated", False) else None
        event = AuditEvent(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=user,
            actor_label=(user.get_username() if user else str(actor or "system"))[:150],
            office=office,
            action=action,
            object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
            object_id=object_id or (str(obj.pk) if obj is not None else ""),
            ip=ip or client_ip(request),
            data=data or {},
            prev_hash=head.hash,
        )
        # Round-trip the timestamp the way the database will store it (microseconds, UTC).
        event.hash = event.compute_hash()
        event.save(force_insert=True)
        AuditHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
    return event


@dataclass(frozen=True)
class Problem:
    """One break in the chain."""

    seq: int
    message: str


def verify(batch: int = 5000) -> Iterator[Problem]:
    """Walk the whole chain and yield every break found."""
    expected_seq = 1
    prev = GENESIS
    last = 0
    qs = AuditEvent.objects.order_by("seq")
    for event in qs.iterator(chunk_size=batch):
        if event.seq != expected_seq:
            yield Problem(expected_seq, f"entries {expected_seq}..{event.seq - 1} are missing")
        if event.prev_hash != prev:
            yield Problem(event.seq, "does not follow the previous entry (prev_hash differs)")
        if event.compute_hash() != event.hash:
            yield Problem(event.seq, "content was altered (hash differs)")
        prev = event.hash
        expected_seq = event.seq + 1
        last = event.seq
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != last or head.hash != prev):
        yield Problem(head.seq, f"the chain ends at {last} but its head records {head.seq}")
    connection.close_if_unusable_or_obsolete()
