"""Region codes of Kepmendagri 300.2.2-2138/2025 as a tree."""

from __future__ import annotations

import unicodedata

from django.db import models
from django.utils.translation import gettext_lazy as _


def fold(text: str) -> str:
    """Lower-case, accent-free form of a name for searching."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


class Region(models.Model):
    """A province, kabupaten/kota, kecamatan or desa/kelurahan, keyed by its dotted code."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Provinsi")
        KABKOTA = 2, _("Kabupaten/Kota")
        KECAMATAN = 3, _("Kecamatan")
        DESA = 4, _("Desa/Kelurahan")

    code = models.CharField(_("kode"), max_length=13, primary_key=True)
    name = models.CharField(_("nama"), max_length=120)
    name_folded = models.CharField(max_length=120, db_index=True, editable=False)
    level = models.PositiveSmallIntegerField(_("tingkat"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        db_index=True,
    )

    class Meta:
        verbose_name = _("wilayah")
        verbose_name_plural = _("wilayah")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def digits(self) -> str:
        """The code without dots, as it appears in a NIK or KK number."""
        return self.code.replace(".", "")

    @property
    def is_kota(self) -> bool:
        return self.level == self.Level.KABKOTA and int(self.code[-2:]) >= 71

    @property
    def desa_type(self) -> str:
        """'kelurahan' or 'desa' for level 4 (first digit of the last part)."""
        return "kelurahan" if self.code.rsplit(".", 1)[-1].startswith("1") else "desa"

    def ancestors(self) -> list[Region]:
        """From the province down to the parent of this region."""
        codes = []
        parts = self.code.split(".")
        for i in range(1, len(parts)):
            codes.append(".".join(parts[:i]))
        by_code = Region.objects.in_bulk(codes)
        return [by_code[c] for c in codes if c in by_code]


class RegionPopulation(models.Model):
    """Published population of a province or kabupaten/kota (with the data set)."""

    region = models.OneToOneField(
        Region, on_delete=models.CASCADE, primary_key=True, related_name="population"
    )
    male = models.PositiveIntegerField()
    female = models.PositiveIntegerField()
    total = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("jumlah penduduk wilayah")
        verbose_name_plural = _("jumlah penduduk wilayah")

    def __str__(self) -> str:
        return f"{self.region_id}: {self.total}"
