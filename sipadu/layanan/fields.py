"""The applicant-data fields the catalogue can ask for, and the form fields that read them.

A document type lists field codes (``DocumentType.fields``); this module says what each code
means, how the portal asks for it and how it is validated. NIKs and KK numbers are checked with
:mod:`sipadu.registry.nik`. Values are stored as text (dates as ``YYYY-MM-DD``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sipadu.registry.nik import decode_kk, decode_nik


@dataclass(frozen=True)
class FieldSpec:
    """One applicant-data field: its label, kind and whether it may be left empty.

    ``claim`` names the :class:`sipadu.registry.matching.Claim` attribute it is compared with
    at the SIAK check (blank: not compared).
    """

    code: str
    label: Any
    kind: str = "text"  # text | nik | kk | date | sex | choice
    required: bool = True
    claim: str = ""
    choices: tuple[tuple[str, Any], ...] = ()
    help_text: Any = ""


SEX_CHOICES = (("L", gettext_lazy("Laki-laki")), ("P", gettext_lazy("Perempuan")))
KTP_REASONS = (
    ("baru", gettext_lazy("Baru (pemula)")),
    ("hilang", gettext_lazy("Hilang")),
    ("rusak", gettext_lazy("Rusak")),
    ("perubahan", gettext_lazy("Perubahan data")),
)
KK_REASONS = (
    ("baru", gettext_lazy("Membentuk keluarga baru")),
    ("perubahan", gettext_lazy("Perubahan data / penambahan anggota")),
    ("hilang", gettext_lazy("Hilang")),
    ("rusak", gettext_lazy("Rusak")),
)

_SPECS = [
    FieldSpec("nik", gettext_lazy("NIK yang bersangkutan"), "nik", claim="nik"),
    FieldSpec("full_name", gettext_lazy("Nama lengkap"), claim="full_name"),
    FieldSpec("no_kk", gettext_lazy("Nomor KK"), "kk", claim="no_kk"),
    FieldSpec("birth_place", gettext_lazy("Tempat lahir")),
    FieldSpec("birth_date", gettext_lazy("Tanggal lahir"), "date", claim="birth_date"),
    FieldSpec("sex", gettext_lazy("Jenis kelamin"), "sex", choices=SEX_CHOICES),
    FieldSpec("father_name", gettext_lazy("Nama ayah"), claim="father_name"),
    FieldSpec("mother_name", gettext_lazy("Nama ibu"), claim="mother_name"),
    FieldSpec("ktp_reason", gettext_lazy("Alasan permohonan"), "choice", choices=KTP_REASONS),
    FieldSpec("kk_reason", gettext_lazy("Alasan permohonan"), "choice", choices=KK_REASONS),
    FieldSpec("death_date", gettext_lazy("Tanggal kematian"), "date"),
    FieldSpec("death_place", gettext_lazy("Tempat kematian")),
    FieldSpec("death_cause", gettext_lazy("Sebab kematian"), required=False),
    FieldSpec("reporter_relation", gettext_lazy("Hubungan pelapor dengan almarhum/ah")),
    FieldSpec("spouse_nik", gettext_lazy("NIK pasangan"), "nik"),
    FieldSpec("spouse_name", gettext_lazy("Nama pasangan")),
    FieldSpec("marriage_date", gettext_lazy("Tanggal perkawinan"), "date"),
    FieldSpec("marriage_place", gettext_lazy("Tempat perkawinan")),
    FieldSpec("religious_leader", gettext_lazy("Pemuka agama yang mengesahkan"), required=False),
    FieldSpec("court_decision_no", gettext_lazy("Nomor putusan pengadilan")),
    FieldSpec("court_decision_date", gettext_lazy("Tanggal putusan pengadilan"), "date"),
    FieldSpec("marriage_cert_no", gettext_lazy("Nomor akta perkawinan orang tua")),
    FieldSpec("father_nik", gettext_lazy("NIK ayah"), "nik"),
    FieldSpec("mother_nik", gettext_lazy("NIK ibu"), "nik", required=False),
    FieldSpec("applicant_name", gettext_lazy("Nama pemohon (pelapor)")),
]

#: Every known field, by code.
FIELDS: dict[str, FieldSpec] = {s.code: s for s in _SPECS}


def _date_text(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


class _NumberField(forms.CharField):
    """A 16-digit number checked by ``decode`` (a :mod:`sipadu.registry.nik` decoder)."""

    decode: Any = None

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        if not text:
            return ""
        check = type(self).decode(text)
        if not check.valid:
            raise ValidationError(" ".join(check.errors))
        return str(check.number)


class NikField(_NumberField):
    """A NIK: 16 digits, decoded and checked (region parts, date, serial)."""

    decode = staticmethod(decode_nik)


class KkField(_NumberField):
    """A KK number: 16 digits, decoded and checked."""

    decode = staticmethod(decode_kk)


class PastDateField(forms.DateField):
    """A date that is not in the future (births, deaths, marriages, decisions)."""

    def clean(self, value: Any) -> Any:
        date = super().clean(value)
        if date and date > dt.date.today():
            raise ValidationError(_("Tanggal tidak boleh di masa depan."))
        return date


def form_field(spec: FieldSpec) -> forms.Field:
    """The Django form field that asks for ``spec`` on the portal."""
    common: dict[str, Any] = {"label": spec.label, "required": spec.required}
    if spec.help_text:
        common["help_text"] = spec.help_text
    if spec.kind == "nik":
        return NikField(
            max_length=24,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            **common,
        )
    if spec.kind == "kk":
        return KkField(
            max_length=24,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            **common,
        )
    if spec.kind == "date":
        return PastDateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if spec.kind in ("sex", "choice"):
        return forms.ChoiceField(choices=[("", "—"), *spec.choices], **common)
    return forms.CharField(max_length=150, **common)


def to_text(spec: FieldSpec, value: Any) -> str:
    """The stored text of a cleaned value."""
    if isinstance(value, dt.date):
        return _date_text(value)
    return str(value or "").strip()


def display(code: str, value: Any) -> str:
    """A stored value as people read it (dates as DD-MM-YYYY, choice codes as labels)."""
    spec = FIELDS.get(code)
    text = str(value or "")
    if spec is None or not text:
        return text
    if spec.kind == "date":
        try:
            return dt.date.fromisoformat(text).strftime("%d-%m-%Y")
        except ValueError:
            return text
    if spec.choices:
        return str(dict(spec.choices).get(text, text))
    return text


def label(code: str) -> str:
    """The label of a field code (the code itself when unknown)."""
    spec = FIELDS.get(code)
    return str(spec.label) if spec else code
