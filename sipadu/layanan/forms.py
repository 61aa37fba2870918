"""Portal and officer forms. They parse and validate; the actions do the writing.

Uploaded files are checked here (:func:`sipadu.layanan.uploads.clean_upload`), so a refused
file becomes a message on its own field, and the rest of what the citizen typed is shown
again untouched.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sipadu.layanan import fields as field_catalogue
from sipadu.layanan.actions import Upload
from sipadu.layanan.models import DocumentType, HandoverMode, Requirement
from sipadu.layanan.uploads import MAX_FILES, UploadRejected, clean_upload
from sipadu.registry.nik import decode_nik

OTHER_FILES = "lainnya"


def normalise_whatsapp(raw: str) -> str:
    """An Indonesian mobile number as ``628…`` digits (``0812…``, ``+62 812…``, ``812…``);
    raises ValidationError when it cannot be one."""
    digits = re.sub(r"\D", "", raw or "")
    if not digits:
        return ""
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    if not re.fullmatch(r"628\d{7,12}", digits):
        raise ValidationError(
            _("Nomor WhatsApp tidak valid. Contoh: 0812 3456 7890 atau +62 812 3456 7890.")
        )
    return digits


def requirement_field(requirement: Requirement) -> str:
    """The form field name of a requirement's upload."""
    return f"berkas_{requirement.code}"


class _FileForm(forms.Form):
    """Shared: one file input per requirement (optional ones too) plus "other files"."""

    def _add_file_fields(self, requirements: list[Requirement], *, all_optional: bool) -> None:
        self.requirements = requirements
        for r in requirements:
            self.fields[requirement_field(r)] = forms.FileField(
                label=r.text,
                required=r.required and not all_optional,
                help_text=r.help_text,
                widget=forms.ClearableFileInput(
                    attrs={"accept": "image/jpeg,image/png,application/pdf"}
                ),
            )
        self.fields[OTHER_FILES] = forms.FileField(
            label=gettext_lazy("Berkas lain (jika ada)"),
            required=False,
            widget=forms.ClearableFileInput(
                attrs={"accept": "image/jpeg,image/png,application/pdf"}
            ),
        )

    def _clean_files(self) -> list[Upload]:
        uploads: list[Upload] = []
        by_name: dict[str, Requirement | None] = {
            requirement_field(r): r for r in self.requirements
        }
        by_name[OTHER_FILES] = None
        count = 0
        for name, requirement in by_name.items():
            upload = self.files.get(name) if self.files else None
            if upload is None or name in self.errors:
                continue
            count += 1
            if count > MAX_FILES:
                self.add_error(None, _("Terlalu banyak berkas dalam satu pengiriman."))
                break
            try:
                uploads.append(Upload(requirement, clean_upload(upload)))
            except UploadRejected as rejected:
                self.add_error(name, rejected.message)
        return uploads


class ApplyForm(_FileForm):
    """The application for one document type: its applicant data, files and WhatsApp number."""

    def __init__(self, document_type: DocumentType, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.document_type = document_type
        self.data_fields: list[str] = []
        for entry in document_type.fields:
            code = entry.rstrip("?")
            spec = field_catalogue.FIELDS.get(code)
            if spec is None:
                continue
            field = field_catalogue.form_field(spec)
            if entry.endswith("?"):
                field.required = False
            self.fields[code] = field
            self.data_fields.append(code)
        self._add_file_fields(
            list(document_type.requirements.filter(upload=True)), all_optional=False
        )
        self.fields["whatsapp"] = forms.CharField(
            label=gettext_lazy("Nomor WhatsApp (untuk pemberitahuan)"),
            required=False,
            max_length=24,
            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        )
        self.fields["declaration"] = forms.BooleanField(
            label=gettext_lazy(
                "Saya menyatakan data dan berkas yang saya kirim benar dan dapat "
                "dipertanggungjawabkan."
            ),
            required=True,
        )

    def clean_whatsapp(self) -> str:
        """``628…`` or empty."""
        return normalise_whatsapp(self.cleaned_data.get("whatsapp", ""))

    def clean(self) -> dict[str, Any]:
        """Cross-checks: the NIK agrees with the birth date and sex given; files are checked."""
        cleaned = super().clean() or {}
        nik = cleaned.get("nik")
        if nik and "nik" not in self.errors:
            check = decode_nik(
                nik, sex=cleaned.get("sex") or None, birth_date=cleaned.get("birth_date")
            )
            if not check.valid:
                self.add_error("nik", " ".join(check.errors))
        cleaned["uploads"] = self._clean_files()
        return cleaned

    def applicant_data(self) -> dict[str, str]:
        """The cleaned applicant data as stored text (field code → text)."""
        return {
            code: field_catalogue.to_text(field_catalogue.FIELDS[code], self.cleaned_data.get(code))
            for code in self.data_fields
            if self.cleaned_data.get(code) not in (None, "")
        }


class StatusForm(forms.Form):
    """Tracking number and PIN (sent by POST only: never in a URL)."""

    tracking_number = forms.CharField(
        label=gettext_lazy("Nomor permohonan"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    pin = forms.CharField(
        label=gettext_lazy("PIN"),
        max_length=12,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class MoreFilesForm(_FileForm):
    """Files sent from the status page: the missing requirements first, every field optional."""

    def __init__(self, requirements: list[Requirement], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_file_fields(requirements, all_optional=True)

    def clean(self) -> dict[str, Any]:
        """At least one acceptable file."""
        cleaned = super().clean() or {}
        uploads = self._clean_files()
        if not uploads and not self.errors:
            raise ValidationError(_("Pilih sedikitnya satu berkas untuk diunggah."))
        cleaned["uploads"] = uploads
        return cleaned


# --------------------------------------------------------------------------- officers


class ChecklistForm(forms.Form):
    """The Operator Layanan's ticks (step 1)."""

    def __init__(self, requirements: list[Requirement], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ticked"] = forms.MultipleChoiceField(
            choices=[(r.code, r.text) for r in requirements],
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )


class MissingForm(forms.Form):
    """What the citizen must still send (step 1, incomplete)."""

    def __init__(self, requirements: list[Requirement], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["missing"] = forms.MultipleChoiceField(
            label=gettext_lazy("Persyaratan yang kurang"),
            choices=[(r.code, r.text) for r in requirements],
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        self.fields["note"] = forms.CharField(
            label=gettext_lazy("Catatan untuk pemohon"),
            required=False,
            max_length=2000,
            widget=forms.Textarea(attrs={"rows": 2}),
        )


class DraftForm(forms.Form):
    """The draft document's fields (step 3), pre-filled from the registry.

    Each field is typed as on the portal (:func:`sipadu.layanan.fields.form_field`: a NIK or
    KK number is decoded and checked, a date must be a real date and not in the future, a
    choice must be one of its choices), but may be left empty while drafting.
    """

    def __init__(self, codes: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.codes = codes
        for code in codes:
            field = field_catalogue.form_field(field_catalogue.FIELDS[code])
            field.required = False
            self.fields[code] = field

    def changes(self) -> dict[str, str]:
        """The cleaned draft as stored text (field code → text; empty fields as "")."""
        return {
            code: field_catalogue.to_text(field_catalogue.FIELDS[code], self.cleaned_data.get(code))
            for code in self.codes
        }

    def error_text(self) -> str:
        """Every error, each with its field's label, for the message on the case page."""
        parts = []
        for name, errors in self.errors.items():
            text = " ".join(str(e) for e in errors)
            parts.append(f"{self.fields[name].label}: {text}" if name in self.fields else text)
        return " ".join(parts)


class HandoverForm(forms.Form):
    """Step 8: softcopy, or hardcopy with the receiver's name and ID number."""

    mode = forms.ChoiceField(
        label=gettext_lazy("Cara penyerahan"),
        choices=HandoverMode.choices,
        widget=forms.RadioSelect,
    )
    receiver_name = forms.CharField(
        label=gettext_lazy("Nama penerima"), required=False, max_length=150
    )
    receiver_id_number = forms.CharField(
        label=gettext_lazy("Nomor identitas penerima (NIK/KTP)"), required=False, max_length=40
    )
