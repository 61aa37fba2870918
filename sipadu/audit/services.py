"""record_event() and verify(): the audit log's two operations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Field, Model
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


def _head_sql() -> tuple[str, str]:
    table = connection.ops.quote_name(AuditHead._meta.db_table)
    # SQLite has no FOR UPDATE: its write transaction (BEGIN IMMEDIATE) already serialises.
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    # Names from the model's metadata, no input: not an injection vector.
    return (
        f"SELECT seq, hash FROM {table} WHERE id = 1{lock}",  # noqa: S608
        f"UPDATE {table} SET seq = %s, hash = %s WHERE id = 1",  # noqa: S608
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
    # Plain SQL for the head: this runs on every write of the system, and the ORM's query
    # building cost more than the two statements themselves.
    select_head, move_head = _head_sql()
    with connection.cursor() as cursor:
        cursor.execute(select_head)
        row = cursor.fetchone()
        if row is None:
            AuditHead.objects.get_or_create(pk=1)
            cursor.execute(select_head)
            row = cursor.fetchone()
        seq, prev_hash = row[0], row[1]
        user = actor if getattr(actor, "is_authenticated", False) else None
        event = AuditEvent(
            seq=seq + 1,
            at=timezone.now(),
            actor=user,
            actor_label=(user.get_username() if user else str(actor or "system"))[:150],
            office=office,
            action=action,
            object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
            object_id=object_id or (str(obj.pk) if obj is not None else ""),
            ip=ip or client_ip(request),
            data=data or {},
            prev_hash=prev_hash,
        )
        event.hash = event.compute_hash()
        _insert(cursor, event)
        cursor.execute(move_head, [event.seq, event.hash])
    return event


@cache
def _insert_sql(vendor: str, returning: bool) -> tuple[str, tuple[Field[Any, Any], ...]]:
    # What AuditEvent.save(force_insert=True) sends, built once per backend.
    fields = tuple(f for f in AuditEvent._meta.concrete_fields if not f.primary_key)
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(AuditEvent._meta.db_table)} "  # noqa: S608 (names from _meta)
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if returning:
        sql += f" RETURNING {quote(AuditEvent._meta.pk.column)}"
    return sql, fields


def _insert(cursor: Any, event: AuditEvent) -> None:
    """Insert ``event`` (append-only: a new row) with the values the ORM would send."""
    db = connections[DEFAULT_DB_ALIAS]
    returning = db.features.can_return_columns_from_insert
    sql, fields = _insert_sql(db.vendor, returning)
    cursor.execute(sql, [f.get_db_prep_save(getattr(event, f.attname), db) for f in fields])
    event.pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    event._state.adding = False
    event._state.db = db.alias


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
