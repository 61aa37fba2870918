"""The Dik Jamila conversation on WhatsApp: apply for a document and check a request.

Registered in the messaging conversation (``register_flow``) as menu entries ``"ajukan"`` and
``"status"`` by :class:`sipadu.layanan.apps.LayananConfig`. The flows only parse and validate
what the citizen writes; the request enters the very same pipeline as the web portal through
:func:`sipadu.layanan.actions.submit_request`, with the sender's WhatsApp number.

Everything the dialogue has collected lives in ``Conversation.data`` (the database), so a
restarted worker or a pause of days continues where the citizen stopped. The next question
is always *derived* from what is there (the first unanswered field, then the first required
file without a file, then the optional files, then the summary), so changing an answer
("ubah") simply removes it and the dialogue asks it again.

``Conversation.data`` of ``ajukan``::

    {"doc": "<document type code>", "office": <office id>, "answers": {code: text},
     "files": {requirement code: [attachment id, …]}, "extra": [attachment id, …],
     "extra_done": bool, "rejected": [attachment id, …], "resume": "<state before a pause>"}

Files are kept as :class:`sipadu.messaging.models.Attachment` rows (downloaded and
sha256-checked by the messaging layer) and checked with the portal's own upload checks
(:func:`sipadu.layanan.uploads.clean_upload`) when they arrive and again at submission.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import math
import re
from typing import Any, NamedTuple

from django.core.files import File
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sipadu.audit.services import record_event
from sipadu.core.ratelimit import hit
from sipadu.layanan import actions
from sipadu.layanan import fields as field_catalogue
from sipadu.layanan.models import (
    Channel,
    DocumentRequest,
    DocumentType,
    IssuedStatus,
    RequestStatus,
    Requirement,
)
from sipadu.layanan.uploads import MAX_FILES, UploadRejected, clean_upload
from sipadu.messaging.models import Attachment, AttachmentState
from sipadu.messaging.types.whatsapp.conversation import Context, register_flow
from sipadu.registry.nik import decode_kk, decode_nik

log = logging.getLogger(__name__)

#: Silence after which an unfinished application is offered to continue or restart.
PAUSE = dt.timedelta(hours=24)
#: Wrong PINs accepted in one status dialogue before it ends.
MAX_PIN_TRIES = 5
#: PIN tries per tracking number and hour, across dialogues and channels: the same scope and
#: key (the normalised number) as the portal's status page, so both count together.
PIN_SCOPE_NUMBER = "layanan-status-number"
PIN_LIMIT_NUMBER = 20
#: PIN tries per WhatsApp sender and hour, whatever the numbers tried (the key is hashed by
#: the rate limiter; the phone number is never logged).
PIN_SCOPE_SENDER = "layanan-status-whatsapp"
PIN_LIMIT_SENDER = 30
PIN_WINDOW = 3600
#: Audit action marking a request that came through this conversation (the signed PDF is
#: then sent back on WhatsApp: the number is the sender's own, not one typed into a form).
SUBMIT_EVENT = "layanan.whatsapp.submit"

SKIP_WORDS = frozenset({"lewati", "skip", "-", "tidak ada", "tidak", "kosong"})
YES_WORDS = frozenset({"ya", "y", "iya", "yes", "ok", "oke", "kirim", "benar", "setuju"})
CHANGE_WORDS = frozenset({"ubah", "ganti", "edit", "koreksi", "perbaiki"})
DONE_WORDS = frozenset({"selesai", "lanjut", "cukup", "sudah"})
CONTINUE_WORDS = frozenset({"1", "lanjut", "lanjutkan", "teruskan"})
RESTART_WORDS = frozenset({"2", "baru", "mulai baru", "dari awal", "awal"})

#: What people call the documents (lower case, "akte" already read as "akta").
DOC_ALIASES: dict[str, str] = {
    "ktp": "ktp-el",
    "e-ktp": "ktp-el",
    "ektp": "ktp-el",
    "ktp el": "ktp-el",
    "ktp elektronik": "ktp-el",
    "kartu tanda penduduk": "ktp-el",
    "kk": "kk",
    "kartu keluarga": "kk",
    "kia": "kia",
    "kartu anak": "kia",
    "kartu identitas anak": "kia",
    "akta lahir": "akta-kelahiran",
    "akta kelahiran": "akta-kelahiran",
    "kelahiran": "akta-kelahiran",
    "akta mati": "akta-kematian",
    "akta kematian": "akta-kematian",
    "kematian": "akta-kematian",
    "akta nikah": "akta-perkawinan",
    "akta kawin": "akta-perkawinan",
    "akta perkawinan": "akta-perkawinan",
    "perkawinan": "akta-perkawinan",
    "akta cerai": "akta-perceraian",
    "akta perceraian": "akta-perceraian",
    "perceraian": "akta-perceraian",
    "pengakuan anak": "pengakuan-anak",
    "pengesahan anak": "pengesahan-anak",
}

_DATE = re.compile(r"^\s*(\d{1,2})\s*[-/. ]\s*(\d{1,2})\s*[-/. ]\s*(\d{4})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_WORD = re.compile(r"[^a-z0-9\- ]+")


def _norm(text: str) -> str:
    """Lower case, "akte" read as "akta", punctuation dropped, spaces collapsed."""
    low = _WORD.sub(" ", (text or "").lower().replace("akte", "akta"))
    return " ".join(low.split())


def _word(ctx: Context) -> str:
    return _norm(ctx.choice).strip()


# --------------------------------------------------------------------------- answers


class Invalid(ValueError):
    """An answer that cannot be accepted; the message says why (for the citizen)."""


def _code_and_optional(entry: str) -> tuple[str, bool]:
    code = entry.rstrip("?")
    spec = field_catalogue.FIELDS[code]
    return code, entry.endswith("?") or not spec.required


def parse_date(text: str) -> dt.date:
    """``DD-MM-YYYY`` (also with ``/`` or ``.``; ISO accepted), not in the future."""
    if m := _DATE.match(text):
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := _ISO_DATE.match(text):
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        raise Invalid(_("Format tanggal harus DD-MM-YYYY, contoh 09-03-2024."))
    try:
        value = dt.date(year, month, day)
    except ValueError:
        raise Invalid(_("Tanggal tersebut tidak ada di kalender.")) from None
    if value > timezone.localdate():
        raise Invalid(_("Tanggal tidak boleh di masa depan."))
    if value.year < 1900:
        raise Invalid(_("Tahun terlalu lama; periksa kembali tanggalnya."))
    return value


def _pick(text: str, choices: tuple[tuple[str, Any], ...], extra: dict[str, str]) -> str:
    """The code of the choice meant by ``text``: its number, code, label or a near typo."""
    word = _norm(text)
    vocabulary: dict[str, str] = dict(extra)
    for number, (code, label) in enumerate(choices, start=1):
        vocabulary[str(number)] = code
        vocabulary[code.lower()] = code
        vocabulary[_norm(str(label))] = code
    if word in vocabulary:
        return vocabulary[word]
    close = difflib.get_close_matches(word, [w for w in vocabulary if len(w) > 2], 1, 0.75)
    if close:
        return vocabulary[close[0]]
    raise Invalid(_("Pilihan tidak dikenali; balas dengan angka pilihannya."))


_SEX_WORDS = {
    "laki": "L",
    "laki laki": "L",
    "lakilaki": "L",
    "pria": "L",
    "cowok": "L",
    "l": "L",
    "wanita": "P",
    "perempuan": "P",
    "cewek": "P",
    "p": "P",
}


def clean_answer(code: str, text: str, answers: dict[str, str]) -> str:
    """The stored text of the answer to field ``code``; raises :class:`Invalid`.

    Cross-checks the NIK (when already given) against the birth date and sex, as the portal
    does.
    """
    spec = field_catalogue.FIELDS[code]
    raw = (text or "").strip()
    if not raw:
        raise Invalid(_("Jawaban tidak boleh kosong."))
    if spec.kind == "nik":
        check = decode_nik(raw)
        if not check.valid:
            raise Invalid(" ".join(check.errors))
        value = check.number
    elif spec.kind == "kk":
        check = decode_kk(raw)
        if not check.valid:
            raise Invalid(" ".join(check.errors))
        value = check.number
    elif spec.kind == "date":
        value = parse_date(raw).isoformat()
    elif spec.kind == "sex":
        value = _pick(raw, spec.choices, _SEX_WORDS)
    elif spec.kind == "choice":
        value = _pick(raw, spec.choices, {})
    else:
        if len(raw) > 150:
            raise Invalid(_("Jawaban terlalu panjang (maksimal 150 huruf)."))
        if len(raw) < 2:
            raise Invalid(_("Jawaban terlalu pendek."))
        value = raw
    if code in _NIK_LINKED:
        _check_nik_agrees(code, value, answers)
    return value


#: Fields the NIK encodes: answering (or changing) any of them checks the three together.
_NIK_LINKED = frozenset({"nik", "birth_date", "sex"})


def _check_nik_agrees(code: str, value: str, answers: dict[str, str]) -> None:
    """Raise :class:`Invalid` when the NIK contradicts the birth date or sex given, as the
    portal does; whichever of the three is answered last (first pass or "ubah") is refused."""
    probe = dict(answers, **{code: value})
    nik, birth, sex = probe.get("nik"), probe.get("birth_date"), probe.get("sex")
    if not nik or not (birth or sex):
        return
    check = decode_nik(
        nik,
        sex=sex or None,
        birth_date=dt.date.fromisoformat(birth) if birth else None,
    )
    if check.valid:
        return
    if code == "nik":
        hint = _(
            "Jika tanggal lahir atau jenis kelamin yang keliru, ketik *ubah* untuk memperbaikinya."
        )
    else:
        hint = _("Jika NIK yang keliru, ketik *ubah* untuk memperbaikinya.")
    raise Invalid(" ".join(check.errors) + " " + hint)


def question(code: str, optional: bool, position: int, total: int) -> str:
    """The question for field ``code`` with how to answer it."""
    spec = field_catalogue.FIELDS[code]
    lines = [f"({position}/{total}) " + _("Mohon kirim %(label)s.") % {"label": spec.label}]
    if spec.kind == "nik" or spec.kind == "kk":
        lines.append(_("16 digit angka."))
    elif spec.kind == "date":
        lines.append(_("Format DD-MM-YYYY, contoh 09-03-2024."))
    elif spec.choices:
        lines.extend(f"{n}. {label}" for n, (_c, label) in enumerate(spec.choices, start=1))
        lines.append(_("Balas dengan angka pilihannya."))
    if optional:
        lines.append(_("Boleh dikosongkan: ketik *lewati*."))
    return "\n".join(lines)


# --------------------------------------------------------------------------- documents


def active_types() -> list[DocumentType]:
    """The documents one can apply for, in catalogue order."""
    return list(DocumentType.objects.filter(active=True).order_by("order", "code"))


def match_document(text: str, types: list[DocumentType]) -> DocumentType | None:
    """The document meant by ``text``: its number in the list, code, name, a common name
    ("ktp", "akta lahir"), a near typo, or a known name inside a longer sentence."""
    by_code = {t.code: t for t in types}
    word = _norm(text)
    if word.startswith("doc:"):
        return by_code.get(word[4:])
    if word.isdigit():
        index = int(word) - 1
        return types[index] if 0 <= index < len(types) else None
    vocabulary: dict[str, str] = {k: v for k, v in DOC_ALIASES.items() if v in by_code}
    for t in types:
        vocabulary[t.code] = t.code
        vocabulary[_norm(t.name)] = t.code
    if word in vocabulary:
        return by_code[vocabulary[word]]
    close = difflib.get_close_matches(word, list(vocabulary), n=1, cutoff=0.75)
    if close:
        return by_code[vocabulary[close[0]]]
    # "saya mau buat akta kelahiran anak": the longest known name inside the sentence.
    padded = f" {word} "
    for name in sorted(vocabulary, key=len, reverse=True):
        if len(name) > 2 and f" {name} " in padded:
            return by_code[vocabulary[name]]
    return None


def _document_menu(types: list[DocumentType]) -> str:
    lines = [_("Dokumen apa yang ingin Anda ajukan? Balas dengan angka atau namanya:")]
    lines.extend(f"{n}. {t.name}" for n, t in enumerate(types, start=1))
    return "\n".join(lines)


def _offices() -> list[Any]:
    from sipadu.layanan.views import portal_offices

    return portal_offices()


# --------------------------------------------------------------------------- the apply flow


class ApplyFlow:
    """ "Ajukan dokumen": document, office, data, files, summary, submission."""

    # -- entry points ---------------------------------------------------------------------

    def start(self, ctx: Context) -> None:
        """The citizen chose "Ajukan dokumen" in the menu."""
        # Files sent before (in the menu, or in an application started over) were checked on
        # arrival and go with the submission as "other" files.
        data = ctx.conversation.data
        loose = list(dict.fromkeys([*data.get("attachments", []), *data.get("extra", [])]))
        ctx.conversation.data = {"extra": loose} if loose else {}
        types = active_types()
        if not types or not _offices():
            ctx.reply(_("Maaf, layanan pengajuan dokumen belum tersedia. Silakan coba lagi nanti."))
            ctx.to_menu()
            return
        ctx.set_state("ajukan:jenis")
        ctx.reply(_document_menu(types))

    def handle(self, ctx: Context) -> None:
        """One message while the application is being filled in."""
        conversation = ctx.conversation
        step = conversation.state.partition(":")[2] or "jenis"
        if step != "jeda" and timezone.now() - conversation.updated_at > PAUSE:
            self._offer_resume(ctx)
            return
        handler = getattr(self, f"_on_{step}", None)
        if handler is None:
            self.start(ctx)
            self._take_loose(ctx)
            return
        if ctx.attachment is not None and step not in self.FILE_STEPS:
            # A file where a text answer is expected: checked and kept (or refused, saying
            # why), then the current question again.
            self._take_loose(ctx)
            self._repeat(ctx, step)
            return
        handler(ctx)

    #: Steps where a file answers the question (elsewhere a file is a "loose" extra file).
    FILE_STEPS = frozenset({"berkas", "tambahan"})

    def check_file(self, ctx: Context) -> str | None:
        """A file received in the menu (kept for the next application): the portal's checks
        and the file limit; why it is refused, or None (see ``conversation.FileCheck``)."""
        if ctx.attachment is None:
            return None
        kept = ctx.conversation.data.get("attachments", [])
        return _file_refusal(ctx.attachment, MAX_FILES - len(kept))

    def _repeat(self, ctx: Context, step: str) -> None:
        """Ask the question of ``step`` again."""
        if step == "jenis":
            ctx.reply(_document_menu(active_types()))
        elif step == "kantor":
            ctx.reply(self._office_menu(_offices()))
        elif step == "jeda":
            ctx.reply(_("Balas *1* untuk melanjutkan atau *2* untuk mulai baru."))
        elif step == "ubah":
            self._ask_change(ctx)
        else:
            self._next(ctx)

    # -- pause ----------------------------------------------------------------------------

    def _offer_resume(self, ctx: Context) -> None:
        data = ctx.conversation.data
        self._take_loose(ctx)
        doc = DocumentType.objects.filter(code=data.get("doc", "")).first()
        ctx.set_state("ajukan:jeda", resume=ctx.conversation.state)
        name = doc.name if doc else _("dokumen")
        ctx.reply(
            _(
                "Selamat datang kembali. Permohonan %(doc)s Anda belum selesai diisi; data yang "
                "sudah dikirim masih kami simpan.\n1. Lanjutkan\n2. Mulai baru"
            )
            % {"doc": name}
        )

    def _on_jeda(self, ctx: Context) -> None:
        word = _word(ctx)
        data = ctx.conversation.data
        if word in CONTINUE_WORDS:
            data.pop("resume", None)
            self._next(ctx)
            return
        if word in RESTART_WORDS:
            self.start(ctx)
            return
        ctx.reply(_("Balas *1* untuk melanjutkan atau *2* untuk mulai baru."))

    def _take_loose(self, ctx: Context) -> None:
        """A file that arrives when none is asked for: checked at once like a requested file
        and, when accepted, kept and submitted as an "other" file; the citizen is told either
        way (a failed download was already answered by the messaging layer)."""
        attachment = ctx.attachment
        if attachment is None or attachment.state != AttachmentState.STORED:
            return
        data = ctx.conversation.data
        extra = data.setdefault("extra", [])
        if str(attachment.pk) in extra:
            return
        refused = _file_refusal(attachment, self._room(ctx))
        if refused:
            data.setdefault("rejected", []).append(str(attachment.pk))
            ctx.reply(refused)
            return
        extra.append(str(attachment.pk))
        ctx.reply(_("Berkas Anda kami simpan sebagai berkas tambahan."))

    def _room(self, ctx: Context) -> int:
        """Files that can still be added as "other" files: the limit per submission less the
        files kept and one place for each required file not yet sent."""
        data = ctx.conversation.data
        files: dict[str, list[str]] = data.get("files", {})
        used = sum(len(pks) for pks in files.values()) + len(data.get("extra", []))
        outstanding = 0
        if data.get("doc"):
            outstanding = sum(
                1 for r in self._required_files(self._doc(ctx)) if not files.get(r.code)
            )
        return MAX_FILES - used - outstanding

    # -- document and office --------------------------------------------------------------

    def _on_jenis(self, ctx: Context) -> None:
        types = active_types()
        chosen = match_document(ctx.choice, types)
        if chosen is None:
            ctx.reply(_("Maaf, dokumen tersebut tidak kami kenali.") + "\n" + _document_menu(types))
            return
        data = ctx.conversation.data
        data.update(doc=chosen.code, answers={}, files={}, extra_done=False)
        required = [r.text for r in chosen.requirements.filter(required=True)]
        intro = _("Anda memilih *%(doc)s*.") % {"doc": chosen.name}
        if required:
            intro += "\n" + _("Persyaratan wajib: %(items)s.") % {"items": "; ".join(required)}
        intro += "\n" + _(
            "Kami akan menanyakan data satu per satu, lalu meminta foto atau PDF berkasnya. "
            "Ketik *batal* kapan saja untuk membatalkan."
        )
        ctx.reply(intro)
        office = ctx.conversation.office
        offices = _offices()
        if office is not None and any(o.pk == office.pk for o in offices):
            data["office"] = office.pk
        elif len(offices) == 1:
            data["office"] = offices[0].pk
        else:
            ctx.set_state("ajukan:kantor")
            ctx.reply(self._office_menu(offices))
            return
        self._next(ctx)

    def _office_menu(self, offices: list[Any]) -> str:
        lines = [_("Permohonan ditujukan ke kantor Dinas mana? Balas dengan angkanya:")]
        lines.extend(f"{n}. {o.name}" for n, o in enumerate(offices, start=1))
        return "\n".join(lines)

    def _on_kantor(self, ctx: Context) -> None:
        offices = _offices()
        word = _word(ctx)
        chosen = None
        if word.isdigit() and 0 < int(word) <= len(offices):
            chosen = offices[int(word) - 1]
        if chosen is None:
            ctx.reply(_("Pilihan tidak dikenali.") + "\n" + self._office_menu(offices))
            return
        ctx.conversation.data["office"] = chosen.pk
        self._next(ctx)

    # -- what comes next ------------------------------------------------------------------

    def _doc(self, ctx: Context) -> DocumentType:
        return DocumentType.objects.get(code=ctx.conversation.data["doc"])

    def _fields(self, doc: DocumentType) -> list[tuple[str, bool]]:
        return [
            _code_and_optional(entry)
            for entry in doc.fields
            if entry.rstrip("?") in field_catalogue.FIELDS
        ]

    def _required_files(self, doc: DocumentType) -> list[Requirement]:
        return list(doc.requirements.filter(required=True, upload=True))

    def _next(self, ctx: Context) -> None:
        """Ask whatever is missing first: a field, a required file, optional files, summary."""
        data = ctx.conversation.data
        doc = self._doc(ctx)
        answers: dict[str, str] = data.setdefault("answers", {})
        fields = self._fields(doc)
        for position, (code, optional) in enumerate(fields, start=1):
            if code not in answers:
                ctx.set_state("ajukan:data", asking=code)
                ctx.reply(question(code, optional, position, len(fields)))
                return
        files: dict[str, list[str]] = data.setdefault("files", {})
        for requirement in self._required_files(doc):
            if not files.get(requirement.code):
                ctx.set_state("ajukan:berkas", asking=requirement.code)
                ctx.reply(self._file_question(requirement))
                return
        if not data.get("extra_done"):
            extras = list(doc.requirements.filter(required=False, upload=True))
            if extras:
                ctx.set_state("ajukan:tambahan", asking="")
                lines = [_("Berkas tambahan (tidak wajib), bila ada:")]
                lines.extend(
                    f"- {r.text}" + (f" ({r.help_text})" if r.help_text else "") for r in extras
                )
                lines.append(
                    _(
                        "Kirim foto/PDF-nya satu per satu, lalu ketik *selesai*. Jika tidak ada, "
                        "ketik *lewati*."
                    )
                )
                ctx.reply("\n".join(lines))
                return
            data["extra_done"] = True
        ctx.set_state("ajukan:konfirmasi", asking="")
        ctx.reply(self._summary(ctx, doc))

    def _file_question(self, requirement: Requirement) -> str:
        text = _("Mohon kirim foto atau PDF: *%(item)s*.") % {"item": requirement.text}
        if requirement.help_text:
            text += f"\n{requirement.help_text}"
        return text + "\n" + _("Pastikan tulisan terbaca jelas.")

    # -- data -----------------------------------------------------------------------------

    def _on_data(self, ctx: Context) -> None:
        data = ctx.conversation.data
        code = str(data.get("asking") or "")
        word = _word(ctx)
        if word in CHANGE_WORDS and data.get("answers"):
            self._ask_change(ctx)
            return
        doc = self._doc(ctx)
        fields = self._fields(doc)
        optional = dict(fields).get(code)
        if optional is None:
            self._next(ctx)
            return
        if optional and word in SKIP_WORDS:
            data["answers"][code] = ""
            self._after_answer(ctx)
            return
        try:
            value = clean_answer(code, ctx.text, data["answers"])
        except Invalid as invalid:
            ctx.reply(_("Maaf, jawaban belum dapat diterima: %(why)s") % {"why": str(invalid)})
            self._reask(ctx, code, optional, fields)
            return
        data["answers"][code] = value
        self._after_answer(ctx)

    def _reask(self, ctx: Context, code: str, optional: bool, fields: list[Any]) -> None:
        position = [c for c, _o in fields].index(code) + 1
        ctx.reply(question(code, optional, position, len(fields)))

    def _after_answer(self, ctx: Context) -> None:
        self._next(ctx)

    # -- files ----------------------------------------------------------------------------

    def _accept_file(self, ctx: Context, *, reserved: bool) -> str | None:
        """Check the received file; returns its attachment id, or None after telling why.

        ``reserved``: the file answers a required requirement (its place within the file
        limit is kept free, see :meth:`_room`).
        """
        attachment = ctx.attachment
        if attachment is None:
            return None
        if attachment.state != AttachmentState.STORED:
            # The messaging layer already said the file could not be received.
            return None
        # A required file always has its place (kept free by _room); "other" files sent
        # beyond the limit before the document was chosen give way at submission.
        room = 1 if reserved else self._room(ctx)
        refused = _file_refusal(attachment, room)
        if refused:
            ctx.conversation.data.setdefault("rejected", []).append(str(attachment.pk))
            ctx.reply(refused)
            return None
        return str(attachment.pk)

    def _on_berkas(self, ctx: Context) -> None:
        data = ctx.conversation.data
        code = str(data.get("asking") or "")
        requirement = self._doc(ctx).requirements.filter(code=code).first()
        if requirement is None:
            self._next(ctx)
            return
        if ctx.attachment is None:
            if _word(ctx) in CHANGE_WORDS:
                self._ask_change(ctx)
                return
            ctx.reply(_("Kami menunggu foto atau berkas PDF, bukan pesan teks."))
            ctx.reply(self._file_question(requirement))
            return
        accepted = self._accept_file(ctx, reserved=True)
        if accepted is None:
            ctx.reply(self._file_question(requirement))
            return
        data.setdefault("files", {}).setdefault(code, []).append(accepted)
        ctx.reply(_("Berkas *%(item)s* diterima.") % {"item": requirement.text})
        self._next(ctx)

    def _on_tambahan(self, ctx: Context) -> None:
        data = ctx.conversation.data
        if ctx.attachment is not None:
            full = self._room(ctx) <= 0
            accepted = self._accept_file(ctx, reserved=False)
            if accepted is not None:
                data.setdefault("extra", []).append(accepted)
                ctx.reply(_("Berkas diterima. Kirim berkas lain, atau ketik *selesai* bila sudah."))
            elif full and ctx.attachment.state == AttachmentState.STORED:
                # Told that no further file is accepted: on to the summary.
                data["extra_done"] = True
                self._next(ctx)
            else:
                ctx.reply(_("Kirim berkas lain, atau ketik *selesai* bila sudah."))
            return
        word = _word(ctx)
        if word in DONE_WORDS or word in SKIP_WORDS:
            data["extra_done"] = True
            self._next(ctx)
            return
        if word in CHANGE_WORDS:
            self._ask_change(ctx)
            return
        ctx.reply(_("Kirim foto/PDF berkas tambahan, atau ketik *selesai*."))

    # -- summary, change, submit ----------------------------------------------------------

    def _summary(self, ctx: Context, doc: DocumentType) -> str:
        data = ctx.conversation.data
        answers: dict[str, str] = data.get("answers", {})
        lines = [_("Ringkasan permohonan *%(doc)s*:") % {"doc": doc.name}]
        for code, _optional in self._fields(doc):
            shown = field_catalogue.display(code, answers.get(code, "")) or "-"
            lines.append(f"- {field_catalogue.label(code)}: {shown}")
        files = data.get("files", {})
        for requirement in doc.requirements.filter(upload=True):
            count = len(files.get(requirement.code, []))
            if count:
                lines.append(f"- {requirement.text}: " + _("%(n)d berkas") % {"n": count})
        if data.get("extra"):
            lines.append(_("- Berkas tambahan: %(n)d berkas") % {"n": len(data["extra"])})
        if over := self._over_limit(ctx):
            lines.append(_over_limit_note(over))
        lines.append("")
        lines.append(
            _(
                "Dengan membalas *ya*, Anda menyatakan data dan berkas ini benar dan dapat "
                "dipertanggungjawabkan. Balas *ya* untuk mengirim, *ubah* untuk memperbaiki, "
                "atau *batal* untuk membatalkan."
            )
        )
        return "\n".join(lines)

    def _change_options(self, ctx: Context) -> list[tuple[str, str, str]]:
        """(kind, code, label) of everything that can be changed, numbered from 1."""
        doc = self._doc(ctx)
        options = [("field", code, field_catalogue.label(code)) for code, _o in self._fields(doc)]
        options += [("file", r.code, r.text) for r in self._required_files(doc)]
        return options

    def _ask_change(self, ctx: Context) -> None:
        ctx.set_state("ajukan:ubah")
        lines = [_("Bagian mana yang ingin diubah? Balas dengan angkanya:")]
        lines.extend(
            f"{n}. {label}" for n, (_k, _c, label) in enumerate(self._change_options(ctx), 1)
        )
        ctx.reply("\n".join(lines))

    def _on_ubah(self, ctx: Context) -> None:
        options = self._change_options(ctx)
        word = _word(ctx)
        chosen = None
        if word.isdigit() and 0 < int(word) <= len(options):
            chosen = options[int(word) - 1]
        else:
            labels = {_norm(label): option for option in options for label in [option[2]]}
            close = difflib.get_close_matches(word, list(labels), n=1, cutoff=0.6)
            chosen = labels[close[0]] if close else None
        if chosen is None:
            ctx.reply(_("Pilihan tidak dikenali."))
            self._ask_change(ctx)
            return
        kind, code, _label = chosen
        data = ctx.conversation.data
        if kind == "field":
            data.setdefault("answers", {}).pop(code, None)
        else:
            data.setdefault("files", {}).pop(code, None)
        self._next(ctx)

    def _over_limit(self, ctx: Context) -> int:
        """Files kept beyond the limit per submission (possible only when more "other" files
        were sent before the document was chosen than its required files leave room for)."""
        data = ctx.conversation.data
        files: dict[str, list[str]] = data.get("files", {})
        used = sum(len(pks) for pks in files.values()) + len(data.get("extra", []))
        return max(0, used - MAX_FILES)

    def _on_konfirmasi(self, ctx: Context) -> None:
        word = _word(ctx)
        if word in CHANGE_WORDS:
            self._ask_change(ctx)
            return
        if word not in YES_WORDS:
            ctx.reply(_("Balas *ya* untuk mengirim, *ubah* untuk memperbaiki, atau *batal*."))
            return
        try:
            submitted = submit_from_whatsapp(ctx)
        except actions.LayananError as refused:
            ctx.reply(_("Maaf, permohonan belum dapat dikirim: %(why)s") % {"why": refused.message})
            return
        except UploadRejected as rejected:
            ctx.reply(
                _("Maaf, salah satu berkas tidak dapat diterima: %(why)s")
                % {"why": rejected.message}
            )
            self._ask_change(ctx)
            return
        req, pin = submitted.request, submitted.pin
        ctx.to_menu(show=False)
        ctx.reply(
            _(
                "Permohonan %(doc)s Anda sudah terkirim.\nNomor permohonan: *%(no)s*\nPIN: "
                "*%(pin)s*\nSimpan nomor dan PIN ini. Kami akan mengabari Anda di WhatsApp ini "
                "pada setiap tahap, dan dokumen ber-TTE dikirim ke sini bila sudah siap. Ketik "
                "*status* untuk melihat perkembangannya, *menu* untuk kembali ke menu."
            )
            % {"doc": req.document_type.name, "no": req.tracking_number, "pin": pin}
        )
        notes = []
        if submitted.over_limit:
            notes.append(_over_limit_note(submitted.over_limit))
        if submitted.refused:
            notes.append(
                _(
                    "Catatan: %(n)d berkas tambahan tidak ikut dikirim karena tidak lolos "
                    "pemeriksaan berkas."
                )
                % {"n": submitted.refused}
            )
        if notes:
            ctx.reply("\n".join(notes))


# --------------------------------------------------------------------------- submission


def _file_refusal(attachment: Attachment, room: int) -> str | None:
    """Why a received file cannot be kept (for the citizen), or None: the limit of files per
    submission (``room`` places left), then the portal's checks (:func:`clean_attachment`)."""
    if room <= 0:
        return _(
            "Batas %(max)d berkas per permohonan sudah tercapai; berkas ini dan berkas "
            "berikutnya tidak kami terima."
        ) % {"max": MAX_FILES}
    try:
        clean_attachment(attachment)
    except UploadRejected as rejected:
        return _refusal_text(rejected)
    return None


def _refusal_text(rejected: UploadRejected) -> str:
    return _("Maaf, berkas ini tidak dapat kami terima: %(why)s") % {"why": rejected.message}


def _requirement(req: DocumentRequest, missing: list[str], sent: int) -> Requirement | None:
    """The requirement the next file answers (None when the officer only wrote a note)."""
    if not missing:
        return None
    return req.document_type.requirements.filter(code=missing[sent]).first()


def _over_limit_note(count: int) -> str:
    return _(
        "Catatan: %(n)d berkas tambahan tidak ikut dikirim karena melebihi batas %(max)d "
        "berkas per permohonan."
    ) % {"n": count, "max": MAX_FILES}


class Submission(NamedTuple):
    """A submitted application: the request, its PIN, and how many "other" files could not
    go with it (beyond the file limit; refused by the checks at submission)."""

    request: DocumentRequest
    pin: str
    over_limit: int = 0
    refused: int = 0


def clean_attachment(attachment: Attachment) -> Any:
    """The portal's checks on a received file (type by content, size, photo normalisation,
    PDF inspection); returns a :class:`sipadu.layanan.uploads.CleanFile`."""
    name = attachment.filename or f"whatsapp-{attachment.pk}"
    with attachment.file.open("rb") as handle:
        return clean_upload(File(handle, name=name))


def submit_from_whatsapp(ctx: Context) -> Submission:
    """Submit the collected application through the portal's action, the sender's number as
    the request's WhatsApp number; marks the request as having come by WhatsApp (audited).

    Runs inside the conversation's transaction (the handler's atomic block), so a refusal
    leaves nothing behind and the conversation keeps its data. Required files come first
    within the file limit; "other" files that do not fit or fail the checks (they were
    checked on arrival, so only when the rules changed meanwhile) are counted in the result
    for the citizen, and stay attachments.
    """
    from sipadu.core.models import Office

    data = ctx.conversation.data
    document_type = DocumentType.objects.get(code=data["doc"])
    office = Office.objects.get(pk=data["office"])
    requirements = {r.code: r for r in document_type.requirements.all()}
    uploads: list[actions.Upload] = []
    wanted: list[tuple[Requirement | None, str]] = [
        (requirements.get(code), pk) for code, pks in data.get("files", {}).items() for pk in pks
    ] + [(None, pk) for pk in data.get("extra", [])]
    found = {
        str(a.pk): a
        for a in Attachment.objects.filter(
            pk__in=[pk for _r, pk in wanted], state=AttachmentState.STORED
        )
    }
    over_limit = refused = 0
    for requirement, pk in wanted:
        attachment = found.get(pk)
        if attachment is None:
            continue
        if len(uploads) >= MAX_FILES:
            over_limit += 1
            continue
        try:
            uploads.append(actions.Upload(requirement, clean_attachment(attachment)))
        except UploadRejected:
            if requirement is not None:
                raise
            refused += 1
    answers = {k: v for k, v in data.get("answers", {}).items() if v}
    req, pin = actions.submit_request(
        office,
        document_type,
        answers,
        uploads,
        whatsapp=ctx.inbound.sender,
        channel=Channel.WHATSAPP,
    )
    record_event(
        f"masyarakat:{req.pk}",
        SUBMIT_EVENT,
        req,
        office=office,
        data={
            "request": str(req.pk),
            "conversation": str(ctx.conversation.pk),
            "files": len(uploads),
        },
    )
    return Submission(req, pin, over_limit, refused)


def came_by_whatsapp(req: DocumentRequest) -> bool:
    """Whether ``req`` was submitted through the WhatsApp conversation."""
    return req.channel == Channel.WHATSAPP


def send_signed_document(req: DocumentRequest, key: str, actor: Any = None) -> bool:
    """Queue the signed PDF of ``req`` as a WhatsApp document message (idempotent by
    ``key``); only for requests that came by WhatsApp and have a signed file."""
    from sipadu.messaging.actions import send

    if not req.whatsapp or not came_by_whatsapp(req):
        return False
    issued = (
        req.issued_documents.filter(status=IssuedStatus.VALID)
        .exclude(Q(file="") | Q(file__isnull=True))
        .first()
    )
    if issued is None:
        return False
    send(
        "whatsapp",
        req.whatsapp,
        document={
            "storage_name": issued.file.name,
            "filename": f"{req.document_type.code}-{issued.number}.pdf",
            "mime_type": "application/pdf",
            "caption": _("Dokumen %(doc)s ber-TTE, permohonan %(no)s.")
            % {"doc": req.document_type.name, "no": req.tracking_number},
        },
        idempotency_key=key,
        office=req.office,
        actor=actor,
    )
    return True


# --------------------------------------------------------------------------- the status flow


def _when(moment: dt.datetime, req: DocumentRequest) -> str:
    local = timezone.localtime(moment, req.office.tzinfo)
    return local.strftime("%d-%m-%Y %H.%M ") + str(local.tzname() or "")


def status_text(req: DocumentRequest) -> str:
    """What the citizen is told about ``req``: status, current step, expected time."""
    from sipadu.layanan.progress import progress_of

    progress = progress_of(req)
    lines = [
        _("Permohonan *%(no)s* (%(doc)s)")
        % {"no": req.tracking_number, "doc": req.document_type.name},
        _("Status: %(status)s") % {"status": req.get_status_display()},
    ]
    current = next((s for s in progress.steps if s.state == "current"), None)
    if current is not None and not progress.finished:
        lines.append(
            _("Tahap %(n)s dari %(total)d: %(step)s")
            % {"n": current.number, "total": len(progress.steps), "step": current.text}
        )
    if req.status == RequestStatus.WAITING_CITIZEN:
        requirements = dict(req.document_type.requirements.values_list("code", "text"))
        missing = [requirements.get(c, c) for c in req.missing] + (
            [req.missing_note] if req.missing_note else []
        )
        lines.append(_("Berkas yang perlu dilengkapi: %(items)s.") % {"items": "; ".join(missing)})
    elif progress.expected_at is not None:
        lines.append(_("Perkiraan selesai: %(when)s") % {"when": _when(progress.expected_at, req)})
    if progress.finished:
        lines.append(_("Permohonan sudah selesai."))
    return "\n".join(lines)


def _pin_limited(number: str, sender: str) -> int | None:
    """Count one PIN try against the tracking number and the sender; the seconds to wait
    when either limit is exceeded, else None."""
    waits = [
        wait
        for wait in (
            hit(PIN_SCOPE_NUMBER, number, PIN_LIMIT_NUMBER, PIN_WINDOW),
            hit(PIN_SCOPE_SENDER, sender, PIN_LIMIT_SENDER, PIN_WINDOW),
        )
        if wait is not None
    ]
    return max(waits) if waits else None


class StatusFlow:
    """ "Cek status": tracking number (and PIN when asked from another number) → progress."""

    def start(self, ctx: Context) -> None:
        """The citizen chose "Cek status"."""
        ctx.set_state("status:nomor", tries=0)
        ctx.reply(self._number_question())

    def _number_question(self) -> str:
        return _("Mohon kirim nomor permohonan Anda (contoh: DJM-7K3Q-9MZ2).")

    def _pin_question(self) -> str:
        return _("Mohon kirim PIN 6 digit permohonan tersebut.")

    def handle(self, ctx: Context) -> None:
        """Number, then PIN if needed; then, for a request waiting for files, the files."""
        step = ctx.conversation.state.partition(":")[2]
        if step == "berkas":
            self._on_missing_file(ctx)
            return
        if ctx.attachment is not None:
            self._keep_file(ctx, ctx.attachment)
            ctx.reply(self._pin_question() if step == "pin" else self._number_question())
            return
        if step == "pin":
            self._on_pin(ctx)
        else:
            self._on_number(ctx)

    def _keep_file(self, ctx: Context, attachment: Attachment) -> None:
        """A file sent while checking a request: checked and kept as in the menu (it goes
        with the next application), or refused saying why; it does not count as a try."""
        if attachment.state != AttachmentState.STORED:
            return  # the messaging layer already asked to send it again
        kept = ctx.conversation.data.setdefault("attachments", [])
        refused = _file_refusal(attachment, MAX_FILES - len(kept))
        if refused:
            ctx.reply(refused)
            return
        kept.append(str(attachment.pk))
        ctx.reply(_("Berkas Anda sudah kami simpan."))

    def _on_number(self, ctx: Context) -> None:
        number = actions.normalise_tracking_number(ctx.text)
        if not re.fullmatch(r"DJM-[0-9A-Z]{4}-[0-9A-Z]{4}", number):
            ctx.reply(
                _(
                    "Format nomor permohonan tidak dikenali. Contoh: DJM-7K3Q-9MZ2. Ketik *menu* "
                    "untuk kembali."
                )
            )
            return
        req = (
            DocumentRequest.objects.select_related("document_type", "office", "case")
            .filter(tracking_number=number, whatsapp=ctx.inbound.sender)
            .first()
        )
        if req is not None:
            self._answer(ctx, req)
            return
        # Unknown, or made from another number: the PIN decides (same answer for both, so the
        # reply does not tell whether the number exists).
        ctx.set_state("status:pin", number=number)
        ctx.reply(self._pin_question())

    def _on_pin(self, ctx: Context) -> None:
        data = ctx.conversation.data
        if re.fullmatch(
            r"DJM-[0-9A-Z]{4}-[0-9A-Z]{4}", actions.normalise_tracking_number(ctx.text)
        ):
            self._on_number(ctx)  # another tracking number instead of the PIN
            return
        if not any(ch.isdigit() for ch in ctx.text):
            # A word ("status", "cek" …) cannot be a PIN: asked again, not counted as a try.
            ctx.reply(_("PIN terdiri dari 6 angka.") + " " + self._pin_question())
            return
        number = str(data.get("number", ""))
        wait = _pin_limited(number, ctx.inbound.sender)
        if wait is not None:
            # Not checked: the limit outlives the dialogue (typing "status" again restarts
            # the dialogue's own count).
            log.warning("WhatsApp status check: PIN tries limited")
            ctx.reply(
                _(
                    "Terlalu banyak percobaan PIN. Demi keamanan, silakan coba lagi dalam "
                    "%(minutes)d menit."
                )
                % {"minutes": max(1, math.ceil(wait / 60))}
            )
            ctx.to_menu(show=False)
            ctx.reply(_("Ketik *menu* untuk layanan lain."))
            return
        req = actions.find_by_pin(number, ctx.text)
        if req is None:
            data["tries"] = int(data.get("tries", 0)) + 1
            if data["tries"] >= MAX_PIN_TRIES:
                ctx.reply(_("Nomor permohonan atau PIN tidak cocok. Silakan coba lagi nanti."))
                ctx.to_menu()
                return
            ctx.reply(
                _("Nomor permohonan atau PIN tidak cocok. Kirim ulang PIN, atau ketik *menu*.")
            )
            return
        self._answer(ctx, req)

    def _answer(self, ctx: Context, req: DocumentRequest) -> None:
        ctx.reply(status_text(req))
        if req.status == RequestStatus.WAITING_CITIZEN:
            # The sender proved the request is theirs (its number, or the PIN), as on the
            # status page: the missing files can be sent right here.
            missing = list(req.missing)
            ctx.set_state("status:berkas", request=str(req.pk), missing=missing, sent=0)
            ctx.reply(self._missing_question(req, missing, 0))
            return
        if (
            req.status in (RequestStatus.READY, RequestStatus.DONE)
            and req.whatsapp == ctx.inbound.sender
        ):
            # Also the way to receive the PDF when the "ready" notice fell outside the 24-hour
            # window (it then went as a template without the file).
            send_signed_document(req, f"wa-status-pdf:{ctx.inbound.provider_message_id}")
        ctx.to_menu(show=False)
        ctx.reply(_("Ketik *menu* untuk layanan lain."))

    def _missing_question(self, req: DocumentRequest, missing: list[str], sent: int) -> str:
        """Ask for the next missing file (or, when the officer only wrote a note, any file)."""
        hint = _("Ketik *menu* untuk berhenti; berkas juga dapat diunggah di halaman status.")
        if not missing:
            return _("Kirim foto atau PDF berkas yang diminta di atas.") + "\n" + hint
        requirement = _requirement(req, missing, sent)
        return (
            _("Kirim foto atau PDF: *%(what)s* (%(n)d dari %(total)d).")
            % {
                "what": requirement.text if requirement else missing[sent],
                "n": sent + 1,
                "total": len(missing),
            }
            + "\n"
            + hint
        )

    def _on_missing_file(self, ctx: Context) -> None:
        """A file for the request waiting for files: checked as on the portal, then added
        (:func:`actions.add_files`), one missing requirement after the other."""
        data = ctx.conversation.data
        req = (
            DocumentRequest.objects.select_related("document_type", "office")
            .filter(pk=data.get("request"))
            .first()
        )
        if req is None or req.status != RequestStatus.WAITING_CITIZEN:
            ctx.reply(_("Permohonan ini tidak sedang menunggu berkas."))
            ctx.to_menu()
            return
        missing: list[str] = [c for c in data.get("missing", []) if c in req.missing]
        sent = min(int(data.get("sent", 0)), max(len(missing) - 1, 0))
        attachment = ctx.attachment
        if attachment is None:
            ctx.reply(self._missing_question(req, missing, sent))
            return
        if attachment.state != AttachmentState.STORED:
            return  # the messaging layer already asked to send it again
        try:
            clean = clean_attachment(attachment)
        except UploadRejected as rejected:
            ctx.reply(_refusal_text(rejected))
            ctx.reply(self._missing_question(req, missing, sent))
            return
        try:
            actions.add_files(req, [actions.Upload(_requirement(req, missing, sent), clean)])
        except actions.LayananError as refused:
            ctx.reply(refused.message)
            ctx.to_menu()
            return
        if req.status == RequestStatus.WAITING_CITIZEN and sent + 1 < len(missing):
            data["sent"] = sent + 1
            ctx.reply(self._missing_question(req, missing, sent + 1))
            return
        # Resumed: the citizen is told by the "resumed" notice.
        ctx.to_menu(show=False)
        ctx.reply(_("Ketik *menu* untuk layanan lain."))


def _title_apply() -> str:
    return _("Ajukan dokumen")


def _title_status() -> str:
    return _("Cek status")


def register() -> None:
    """Plug both flows into the WhatsApp menu (called from ``LayananConfig.ready``)."""
    register_flow("ajukan", _title_apply, ApplyFlow(), aliases=("ajukan", "daftar", "permohonan"))
    register_flow("status", _title_status, StatusFlow(), aliases=("status", "cek", "cek status"))
