"""record_event() and verify(): the audit log's two operations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone

from . import rawsql
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
    Appends are serialised by the lock on the single :class:`AuditHead` row (held until the
    caller's transaction ends), so ``seq`` stays contiguous and each entry covers the hash of
    the one before. Called inside an atomic block (every action), it adds exactly three
    statements: lock-and-read the head, insert the event, move the head.
    """
    if connection.in_atomic_block:
        # The caller's transaction already makes the append all-or-nothing with its write;
        # a savepoint of our own would only add two statements.
        return _append(actor, action, obj, office, request, ip, data, object_type, object_id)
    with transaction.atomic():
        return _append(actor, action, obj, office, request, ip, data, object_type, object_id)


_ACTOR = AuditEvent._meta.get_field("actor")
_OFFICE = AuditEvent._meta.get_field("office")


@cache
def _head_statements(vendor: str, lock: bool) -> tuple[rawsql.Statement, rawsql.Statement]:
    table = connection.ops.quote_name(AuditHead._meta.db_table)
    # SQLite has no FOR UPDATE: its write transaction (BEGIN IMMEDIATE) already serialises.
    suffix = " FOR UPDATE" if lock else ""
    # Names from the model's metadata, no input: not an injection vector.
    return (
        rawsql.statement(f"SELECT seq, hash FROM {table} WHERE id = 1{suffix}", vendor),  # noqa: S608
        rawsql.statement(f"UPDATE {table} SET seq = %s, hash = %s WHERE id = 1", vendor),  # noqa: S608
    )


def _append(
    actor: Any,
    action: str,
    obj: Model | None,
    office: Any,
    request: HttpRequest | None,
    ip: str | None,
    data: dict[str, Any] | None,
    object_type: str,
    object_id: str,
) -> AuditEvent:
    # Plain SQL on the driver's cursor (sipadu.audit.rawsql): this runs on every write of the
    # system, and the ORM's query building cost more than the three statements themselves.
    db = connections[DEFAULT_DB_ALIAS]
    select_head, move_head = _head_statements(db.vendor, db.features.has_select_for_update)
    row = rawsql.fetchone(db, select_head, ())
    if row is None:
        AuditHead.objects.get_or_create(pk=1)
        row = rawsql.fetchone(db, select_head, ())
    seq, prev_hash = row[0], row[1]
    user = actor if getattr(actor, "is_authenticated", False) else None
    values = {
        "seq": seq + 1,
        "at": timezone.now(),
        "actor_id": user.pk if user is not None else None,
        "actor_label": (user.get_username() if user else str(actor or "system"))[:150],
        "office_id": office.pk if office is not None else None,
        "action": action,
        "object_type": object_type or (obj._meta.label_lower if obj is not None else ""),
        "object_id": object_id or (str(obj.pk) if obj is not None else ""),
        "ip": ip or client_ip(request),
        "data": data or {},
        "prev_hash": prev_hash,
    }
    event = rawsql.build(AuditEvent, values)
    event.hash = values["hash"] = event.compute_hash()
    event.pk = rawsql.insert(db, AuditEvent._meta.label, values)
    event._state.adding = False
    event._state.db = db.alias
    # As AuditEvent(actor=user, office=office) would: the related objects come along.
    if user is not None:
        _ACTOR.set_cached_value(event, user)
    if office is not None:
        _OFFICE.set_cached_value(event, office)
    rawsql.execute(db, move_head, [event.seq, event.hash])
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
    if not connection.in_atomic_block:
        # Closing inside a transaction would break the caller's transaction (PostgreSQL:
        # every later query fails until rollback).
        connection.close_if_unusable_or_obsolete()
