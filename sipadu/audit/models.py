"""Append-only, hash-chained audit log of every write and every read of personal data."""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from sipadu.core.models import AppendOnlyModel

GENESIS = "0" * 64


class AuditEvent(AppendOnlyModel):
    """One audited fact: who did what, when, from where, on what.

    ``seq`` is contiguous and ``hash`` covers the previous entry's hash, so an altered,
    inserted or deleted entry breaks the chain (``sipadu audit verify``).
    """

    seq = models.PositiveBigIntegerField(unique=True)
    # Entries are read in seq order (which is time order); no separate time index to write.
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150, blank=True)
    office = models.ForeignKey(
        "core.Office",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("peristiwa audit")
        verbose_name_plural = _("peristiwa audit")
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def canonical(self) -> str:
        """The text the hash covers: every field except the hash itself."""
        payload = {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": str(self.actor_id) if self.actor_id else None,
            "actor_label": self.actor_label,
            "office": self.office_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "ip": self.ip,
            "data": self.data,
            "prev": self.prev_hash,
        }
        return json.dumps(payload, sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False)

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()


class AuditHead(models.Model):
    """The single row that remembers the last entry; locking it serialises appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        verbose_name = _("kepala rantai audit")

    def __str__(self) -> str:
        return f"#{self.seq}"
