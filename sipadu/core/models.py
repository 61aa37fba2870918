"""Offices (Dinas), roles (jabatan) and the people who hold them."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

# Provinces on Waktu Indonesia Tengah / Timur; every other province is on WIB.
WITA_PROVINCES = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
WIT_PROVINCES = {"81", "82", "91", "92", "93", "94", "95", "96"}


class TimeZone(models.TextChoices):
    """The three Indonesian time zones and their IANA names."""

    WIB = "Asia/Jakarta", "WIB"
    WITA = "Asia/Makassar", "WITA"
    WIT = "Asia/Jayapura", "WIT"


def zone_for_region(code: str) -> str:
    """Time zone of a region code, from its province (the first two digits)."""
    province = code.replace(".", "")[:2]
    if province in WIT_PROVINCES:
        return "Asia/Jayapura"
    if province in WITA_PROVINCES:
        return "Asia/Makassar"
    return "Asia/Jakarta"


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes of an append-only record."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionError(f"{self.model._meta.label} is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError(f"{self.model._meta.label} is append-only")


class AppendOnlyModel(models.Model):
    """A record that is inserted once and never changed or deleted (history, audit)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: an existing row is never rewritten."""
        if not self._state.adding:
            raise PermissionError(f"{self._meta.label} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        """Refused: the record is append-only."""
        raise PermissionError(f"{self._meta.label} is append-only")


class User(AbstractUser):
    """An officer or external party who logs in. Roles come from memberships."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    phone = models.CharField(_("nomor telepon"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("pengguna")
        verbose_name_plural = _("pengguna")

    def offices(self) -> models.QuerySet[Office]:
        """Offices where the user holds an active role."""
        return Office.objects.filter(memberships__user=self, memberships__active=True).distinct()


class Office(models.Model):
    """A Dinas Dukcapil of a province or kabupaten/kota, with its working hours."""

    class Level(models.TextChoices):
        PROVINCE = "provinsi", _("Provinsi")
        KABKOTA = "kabkota", _("Kabupaten/Kota")

    code = models.SlugField(_("kode"), max_length=40, unique=True)
    name = models.CharField(_("nama"), max_length=200)
    region = models.ForeignKey(
        "wilayah.Region",
        on_delete=models.PROTECT,
        related_name="offices",
        verbose_name=_("wilayah"),
    )
    level = models.CharField(_("tingkat"), max_length=10, choices=Level.choices)
    timezone = models.CharField(_("zona waktu"), max_length=40, choices=TimeZone.choices)
    hours_start = models.TimeField(_("jam buka"), default=dt.time(8, 0))
    hours_end = models.TimeField(_("jam tutup"), default=dt.time(16, 0))
    # ISO weekdays the office works (1 = Monday); Monday to Friday by default.
    working_days = models.CharField(_("hari kerja"), max_length=13, default="1,2,3,4,5")
    address = models.CharField(_("alamat"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("kantor")
        verbose_name_plural = _("kantor")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.timezone and self.region_id:
            self.timezone = zone_for_region(str(self.region_id))
        super().save(*args, **kwargs)

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def zone_label(self) -> str:
        return TimeZone(self.timezone).label


class Role(models.Model):
    """A jabatan or party named as an executor (Pelaksana) in the SOPs."""

    code = models.SlugField(_("kode"), max_length=60, unique=True)
    name = models.CharField(_("nama"), max_length=150)
    external = models.BooleanField(
        _("pihak luar"),
        default=False,
        help_text=_("Masyarakat, Wali Nagari, Lembaga Pengguna, Walikota, Dinas Provinsi."),
    )
    supervisor = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="subordinates",
        verbose_name=_("atasan"),
        help_text=_("Peran yang diberi tahu bila tugas terlambat."),
    )
    requires_second_factor = models.BooleanField(
        _("wajib faktor kedua"),
        default=False,
        help_text=_("Peran penanda tangan (TTE) dan admin wajib memakai OTP."),
    )

    class Meta:
        verbose_name = _("peran (jabatan)")
        verbose_name_plural = _("peran (jabatan)")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user holding a role in an office."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="memberships")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships")
    active = models.BooleanField(_("aktif"), default=True)
    since = models.DateField(_("sejak"), auto_now_add=True)

    class Meta:
        verbose_name = _("penugasan")
        verbose_name_plural = _("penugasan")
        constraints = [
            models.UniqueConstraint(fields=["user", "office", "role"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.role} @ {self.office}"
