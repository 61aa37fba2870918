"""Residents (penduduk), families (keluarga, KK), their documents, history and coverage."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    """Jenis kelamin as SIAK codes it."""

    MALE = "L", _("Laki-laki")
    FEMALE = "P", _("Perempuan")


class Religion(models.TextChoices):
    """Agama (the six recognised religions and Kepercayaan)."""

    ISLAM = "islam", _("Islam")
    KRISTEN = "kristen", _("Kristen")
    KATOLIK = "katolik", _("Katolik")
    HINDU = "hindu", _("Hindu")
    BUDDHA = "buddha", _("Buddha")
    KONGHUCU = "konghucu", _("Konghucu")
    KEPERCAYAAN = "kepercayaan", _("Kepercayaan terhadap Tuhan YME")


class MaritalStatus(models.TextChoices):
    """Status perkawinan; anything but BELUM_KAWIN counts as 'ever married' (wajib KTP)."""

    BELUM_KAWIN = "belum_kawin", _("Belum kawin")
    KAWIN = "kawin", _("Kawin")
    CERAI_HIDUP = "cerai_hidup", _("Cerai hidup")
    CERAI_MATI = "cerai_mati", _("Cerai mati")


class Relationship(models.TextChoices):
    """Status hubungan dalam keluarga (SHDK)."""

    KEPALA = "kepala", _("Kepala keluarga")
    SUAMI = "suami", _("Suami")
    ISTRI = "istri", _("Istri")
    ANAK = "anak", _("Anak")
    MENANTU = "menantu", _("Menantu")
    CUCU = "cucu", _("Cucu")
    ORANG_TUA = "orang_tua", _("Orang tua")
    MERTUA = "mertua", _("Mertua")
    FAMILI_LAIN = "famili_lain", _("Famili lain")
    PEMBANTU = "pembantu", _("Pembantu")
    LAINNYA = "lainnya", _("Lainnya")


class Education(models.TextChoices):
    """Pendidikan terakhir as SIAK groups it."""

    TIDAK_SEKOLAH = "tidak_sekolah", _("Tidak/belum sekolah")
    BELUM_TAMAT_SD = "belum_tamat_sd", _("Belum tamat SD/sederajat")
    SD = "sd", _("Tamat SD/sederajat")
    SLTP = "sltp", _("SLTP/sederajat")
    SLTA = "slta", _("SLTA/sederajat")
    D1_D2 = "d1_d2", _("Diploma I/II")
    D3 = "d3", _("Akademi/Diploma III/Sarjana Muda")
    S1 = "s1", _("Diploma IV/Strata I")
    S2 = "s2", _("Strata II")
    S3 = "s3", _("Strata III")


class BloodType(models.TextChoices):
    """Golongan darah."""

    A = "A", "A"
    B = "B", "B"
    AB = "AB", "AB"
    O = "O", "O"  # noqa: E741 - the blood group is called O
    UNKNOWN = "-", _("Tidak tahu")


class Nationality(models.TextChoices):
    """Kewarganegaraan."""

    WNI = "WNI", _("WNI")
    WNA = "WNA", _("WNA")


class Keluarga(models.Model):
    """A family as written on one Kartu Keluarga: its number, address and head."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    no_kk = models.CharField(_("nomor KK"), max_length=16, unique=True)
    desa = models.ForeignKey(
        "wilayah.Region",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("desa/kelurahan"),
    )
    rt = models.CharField(_("RT"), max_length=3, blank=True)
    rw = models.CharField(_("RW"), max_length=3, blank=True)
    street = models.CharField(_("alamat"), max_length=200, blank=True)
    kepala = models.ForeignKey(
        "Penduduk",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kepala keluarga"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("keluarga")
        verbose_name_plural = _("keluarga")

    def __str__(self) -> str:
        return f"KK {self.pk}"


#: The recorded facts of a resident that actions may change and imports and the generator
#: write, in one place (the key ``id`` and the derived search columns are not among them).
RECORD_FIELDS: tuple[str, ...] = (
    "nik",
    "keluarga_id",
    "full_name",
    "sex",
    "birth_place",
    "birth_date",
    "religion",
    "marital_status",
    "relationship",
    "education",
    "occupation",
    "blood_type",
    "nationality",
    "father_name",
    "mother_name",
    "is_alive",
    "death_date",
    "desa_id",
    "akta_kelahiran_no",
    "akta_kelahiran_date",
    "ktp_el_recorded",
    "ktp_el_printed",
    "kia",
    "akta_kematian_no",
    "akta_perkawinan_no",
    "akta_perceraian_no",
)


class Penduduk(models.Model):
    """A resident: identity, civil status, address and the documents he or she holds.

    ``desa`` is the address of the resident (normally that of the KK) and is what region
    scoping and coverage use. ``keluarga`` points at the KK by its number, so an import can
    link members without looking families up.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    nik = models.CharField(_("NIK"), max_length=16, unique=True)
    keluarga = models.ForeignKey(
        Keluarga,
        to_field="no_kk",
        db_column="no_kk",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("nomor KK"),
    )
    full_name = models.CharField(_("nama lengkap"), max_length=150)
    # Lower-case, accent- and punctuation-free name, for prefix search; approximate search
    # corrects the typed words against NameWord, then reads this index.
    name_folded = models.CharField(max_length=150, db_index=True, editable=False)
    sex = models.CharField(_("jenis kelamin"), max_length=1, choices=Sex.choices)
    birth_place = models.CharField(_("tempat lahir"), max_length=100, blank=True)
    birth_date = models.DateField(_("tanggal lahir"), db_index=True)
    religion = models.CharField(_("agama"), max_length=12, choices=Religion.choices, blank=True)
    marital_status = models.CharField(
        _("status perkawinan"),
        max_length=12,
        choices=MaritalStatus.choices,
        default=MaritalStatus.BELUM_KAWIN,
    )
    relationship = models.CharField(
        _("hubungan dalam keluarga"), max_length=12, choices=Relationship.choices, blank=True
    )
    education = models.CharField(
        _("pendidikan"), max_length=16, choices=Education.choices, blank=True
    )
    occupation = models.CharField(_("pekerjaan"), max_length=100, blank=True)
    blood_type = models.CharField(
        _("golongan darah"), max_length=2, choices=BloodType.choices, blank=True
    )
    nationality = models.CharField(
        _("kewarganegaraan"), max_length=3, choices=Nationality.choices, default=Nationality.WNI
    )
    father_name = models.CharField(_("nama ayah"), max_length=150, blank=True)
    mother_name = models.CharField(_("nama ibu"), max_length=150, blank=True)
    is_alive = models.BooleanField(_("hidup"), default=True)
    death_date = models.DateField(_("tanggal kematian"), null=True, blank=True)
    desa = models.ForeignKey(
        "wilayah.Region",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("desa/kelurahan"),
    )
    akta_kelahiran_no = models.CharField(_("nomor akta kelahiran"), max_length=40, blank=True)
    akta_kelahiran_date = models.DateField(_("tanggal akta kelahiran"), null=True, blank=True)
    ktp_el_recorded = models.BooleanField(_("KTP-el sudah rekam"), default=False)
    ktp_el_printed = models.BooleanField(_("KTP-el sudah cetak"), default=False)
    kia = models.BooleanField(_("memiliki KIA"), default=False)
    akta_kematian_no = models.CharField(_("nomor akta kematian"), max_length=40, blank=True)
    akta_perkawinan_no = models.CharField(_("nomor akta perkawinan"), max_length=40, blank=True)
    akta_perceraian_no = models.CharField(_("nomor akta perceraian"), max_length=40, blank=True)
    # Not indexed: nothing looks residents up by import, and an index that every imported row
    # must enter costs the import more than the rare delete of an ImportRun costs a scan.
    source_import = models.ForeignKey(
        "ImportRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("impor asal"),
        db_index=False,
    )
    source_line = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("penduduk")
        verbose_name_plural = _("penduduk")

    def __str__(self) -> str:
        # The key, not the name: str() ends up in logs and admin messages.
        return f"Penduduk {self.pk}"

    @property
    def no_kk(self) -> str | None:
        return self.keluarga_id

    @property
    def ever_married(self) -> bool:
        return self.marital_status != MaritalStatus.BELUM_KAWIN


class NameWord(models.Model):
    """One distinct word of residents' folded names and its phonetic key.

    The vocabulary approximate name search corrects typed words against (a few thousand rows
    where the residents are millions). Every writer of names adds the words it writes; words
    nobody bears any more stay, harmlessly (a search for them finds no one).
    """

    word = models.CharField(max_length=150, primary_key=True)
    key = models.CharField(max_length=150, db_index=True)

    class Meta:
        verbose_name = _("kata nama")
        verbose_name_plural = _("kata nama")

    def __str__(self) -> str:
        return self.word


class PendudukChange(models.Model):
    """One change to a resident, field by field (before/after). Personal data: DB only."""

    penduduk = models.ForeignKey(Penduduk, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=60)
    changes = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("riwayat perubahan penduduk")
        verbose_name_plural = _("riwayat perubahan penduduk")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.penduduk_id}"


class ImportRun(models.Model):
    """One upload of a SIAK / Buku Induk Penduduk export and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Menunggu")
        RUNNING = "running", _("Berjalan")
        DONE = "done", _("Selesai")
        REJECTED = "rejected", _("Ditolak")
        FAILED = "failed", _("Gagal")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(
        "core.Office", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    upload = models.FileField(upload_to="registry/imports/", blank=True)
    filename = models.CharField(_("nama berkas"), max_length=255)
    partial = models.BooleanField(_("simpan baris yang benar saja"), default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    error_file = models.FileField(upload_to="registry/import-errors/", blank=True)

    class Meta:
        verbose_name = _("impor penduduk")
        verbose_name_plural = _("impor penduduk")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk}"


class CoverageState(models.Model):
    """Singleton: the reference date every coverage counter is computed against."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    reference_date = models.DateField()

    class Meta:
        verbose_name = _("tanggal acuan cakupan")

    def __str__(self) -> str:
        return str(self.reference_date)


class CoverageCounter(models.Model):
    """Live numerator/denominator of one indicator in one region (every level is kept)."""

    region = models.ForeignKey("wilayah.Region", on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField()
    indicator = models.CharField(max_length=20)
    numerator = models.BigIntegerField(default=0)
    denominator = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("penghitung cakupan")
        constraints = [
            models.UniqueConstraint(fields=["region", "indicator"], name="coverage_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.indicator}"


class CoverageSnapshot(models.Model):
    """The counters of one region and indicator as they stood at the end of a month."""

    month = models.DateField(help_text="First day of the month the figures describe.")
    region = models.ForeignKey("wilayah.Region", on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField()
    indicator = models.CharField(max_length=20)
    numerator = models.BigIntegerField()
    denominator = models.BigIntegerField()

    class Meta:
        verbose_name = _("cakupan bulanan")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "region", "indicator"], name="coverage_snapshot_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.region_id} {self.indicator}"
