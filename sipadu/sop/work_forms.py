"""Forms of the officers' work pages: inbox filters, starting and searching cases, task moves.

Forms only parse and validate what the officer typed; the moves themselves are made by
:mod:`sipadu.sop.actions`, which re-checks everything (the form's checks are for a clear
message next to the field, not for safety).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from sipadu.sop.models import SopDefinition, TaskState

#: File types an officer may attach (scans, photos, office documents), by extension.
ALLOWED_EXTENSIONS = frozenset(
    {"pdf", "jpg", "jpeg", "png", "webp", "doc", "docx", "xls", "xlsx", "odt", "ods", "csv", "txt"}
)
#: Largest attachment the form accepts; the action enforces its own (same) limit too.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: How many files one completion may carry.
MAX_FILES = 10


def max_upload_bytes() -> int:
    """The attachment size limit (settings.SIPADU_MAX_ATTACHMENT_BYTES, default 20 MB)."""
    return int(getattr(settings, "SIPADU_MAX_ATTACHMENT_BYTES", DEFAULT_MAX_BYTES))


def check_upload(upload: UploadedFile) -> UploadedFile:
    """Refuse an empty, too large or unexpected kind of file with a message for the officer."""
    size = upload.size or 0
    if size <= 0:
        raise forms.ValidationError(_("Berkas yang diunggah kosong."))
    if size > max_upload_bytes():
        raise forms.ValidationError(
            _("Berkas terlalu besar (maksimal %(mb)d MB).") % {"mb": max_upload_bytes() // 2**20}
        )
    extension = PurePosixPath(upload.name or "").suffix.lower().lstrip(".")
    if extension not in ALLOWED_EXTENSIONS:
        raise forms.ValidationError(
            _("Jenis berkas tidak diizinkan. Gunakan: %(types)s.")
            % {"types": ", ".join(sorted(ALLOWED_EXTENSIONS))}
        )
    return upload


class MultipleFileInput(forms.ClearableFileInput):
    """A file input that lets the officer pick several files at once."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more uploaded files, each checked by :func:`check_upload`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_FILES:
            raise forms.ValidationError(
                _("Paling banyak %(n)d berkas sekaligus.") % {"n": MAX_FILES}
            )
        return [check_upload(super(MultipleFileField, self).clean(f, initial)) for f in files]


class InboxFilterForm(forms.Form):
    """The filters of Kotak Tugas (a GET form: SOP codes and states are not personal data)."""

    STATE_CHOICES = [
        ("", _("Semua")),
        (TaskState.OPEN, _("Belum diambil")),
        (TaskState.CLAIMED, _("Tugas saya")),
    ]

    sop = forms.ChoiceField(label=_("SOP"), required=False)
    state = forms.ChoiceField(label=_("Status"), required=False, choices=STATE_CHOICES)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, definitions: list[SopDefinition], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sop"].choices = [("", _("Semua SOP"))] + [
            (d.code, d.name) for d in definitions
        ]


class StartCaseForm(forms.Form):
    """Start a case: which SOP, and a label of the subject without personal data."""

    sop = forms.ChoiceField(label=_("SOP"))
    subject_label = forms.CharField(
        label=_("Perihal / pemohon"),
        max_length=200,
        required=False,
        help_text=_("Misalnya jenis dokumen atau nama lembaga. Jangan menulis NIK."),
    )

    def __init__(self, *args: Any, definitions: list[SopDefinition], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sop"].choices = [(d.code, d.name) for d in definitions]

    def clean_subject_label(self) -> str:
        label: str = self.cleaned_data["subject_label"].strip()
        # A 16-digit run is almost certainly a NIK or KK number: keep it out of the label.
        digits = "".join(ch if ch.isdigit() else " " for ch in label).split()
        if any(len(run) >= 16 for run in digits):
            raise forms.ValidationError(_("Perihal tidak boleh memuat NIK atau nomor KK."))
        return label


class SearchForm(forms.Form):
    """Search cases by reference number or subject label (sent by POST, never in the URL)."""

    q = forms.CharField(label=_("Nomor perkara atau perihal"), max_length=100, min_length=2)


class CompleteForm(forms.Form):
    """Finish a claimed activity with its output, notes and files."""

    output = forms.CharField(
        label=_("Keluaran"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    notes = forms.CharField(
        label=_("Catatan"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    files = MultipleFileField(label=_("Lampiran"))
    end_recurrence = forms.BooleanField(
        label=_("Akhiri kegiatan berulang (tutup perkara)"), required=False
    )


class DecideForm(forms.Form):
    """Answer a decision activity with Ya or Tidak; "Tidak" that returns needs a reason."""

    answer = forms.ChoiceField(label=_("Keputusan"), choices=[("yes", _("Ya")), ("no", _("Tidak"))])
    output = forms.CharField(
        label=_("Keluaran"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    notes = forms.CharField(
        label=_("Catatan"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    reason = forms.CharField(
        label=_("Alasan (wajib bila dikembalikan)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    files = MultipleFileField(label=_("Lampiran"))


class ReturnForm(forms.Form):
    """Send the file back to an earlier activity that is already done, with a reason."""

    target = forms.ChoiceField(label=_("Kembalikan ke kegiatan"))
    reason = forms.CharField(label=_("Alasan"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets


class ReassignForm(forms.Form):
    """Give a waiting task to another officer holding its role (supervisor only)."""

    to_user = forms.ChoiceField(label=_("Alihkan ke petugas"))
    reason = forms.CharField(label=_("Alasan"), required=False, max_length=500)

    def __init__(self, *args: Any, candidates: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_user"].choices = candidates


class CancelForm(forms.Form):
    """Stop a running case; the reason is kept on the case and in its timeline."""

    reason = forms.CharField(label=_("Alasan pembatalan"), max_length=500)


class AttachForm(forms.Form):
    """Attach one file to a running case."""

    file = forms.FileField(label=_("Berkas"))

    def clean_file(self) -> UploadedFile:
        return check_upload(self.cleaned_data["file"])
