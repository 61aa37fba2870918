"""The WhatsApp conversation: the seam where services plug their dialogues in.

Two registries:

* :func:`register_handler` replaces the whole conversation (``handle(inbound) -> None``);
  the default is :class:`MenuHandler`.
* :func:`register_flow` adds or replaces one menu entry of the default handler. The Dik
  Jamila document service registers ``"ajukan"`` (apply for a document) and ``"status"``
  (check a request); until it does, both answer that the service is coming soon.

A flow receives a :class:`Context` for each message while the conversation is in it
(``conversation.state`` is ``"<flow key>"`` or ``"<flow key>:<step>"``), replies through
``ctx.reply`` (idempotent per inbound message, so reprocessing never double-sends) and ends
with ``ctx.to_menu()``. "menu" and "batal" always return to the menu first.

A file received in the menu is kept in ``conversation.data["attachments"]`` for the flow
started next, unless a flow with a ``check_file(ctx)`` method (:class:`FileCheck`) refuses it
(the citizen is told why at once).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from sipadu.messaging.actions import send
from sipadu.messaging.models import (
    Attachment,
    AttachmentState,
    Conversation,
    InboundMessage,
    WhatsAppNumber,
)
from sipadu.messaging.types.whatsapp.webhook import SUPPORTED_TYPES

CHANNEL = "whatsapp"
#: A conversation idle longer than this starts again at the menu.
IDLE_RESET = dt.timedelta(days=3)
RESET_WORDS = frozenset({"menu", "batal", "kembali", "mulai", "ulang", "cancel"})
HELP_WORDS = frozenset({"bantuan", "help", "tolong", "info"})


class ConversationHandler(Protocol):
    """Answers one inbound message (runs in the worker, once per message)."""

    def handle(self, inbound: InboundMessage) -> None:
        """Process ``inbound`` and queue replies with :func:`sipadu.messaging.actions.send`."""
        ...


@dataclass
class Context:
    """What a flow gets for one message."""

    inbound: InboundMessage
    conversation: Conversation
    attachment: Attachment | None
    _replies: int = field(default=0)

    @property
    def text(self) -> str:
        """The message text (or chosen button title), trimmed."""
        return self.inbound.body.strip()

    @property
    def choice(self) -> str:
        """The id of a chosen button/list row, else the lower-cased text."""
        return self.inbound.choice_id or self.text.lower()

    def reply(self, text: str) -> None:
        """Queue a text reply to the sender, from the number they wrote to."""
        self._replies += 1
        send(
            CHANNEL,
            self.inbound.sender,
            text=text,
            sender=self.inbound.recipient,
            office=self.conversation.office,
            idempotency_key=f"wa-reply:{self.inbound.provider_message_id}:{self._replies}",
        )

    def set_state(self, state: str, **data: Any) -> None:
        """Move the conversation to ``state``, merging ``data`` into its data."""
        self.conversation.state = state
        self.conversation.data.update(data)

    def to_menu(self, *, show: bool = True) -> None:
        """End the current flow, clear its data, and show the menu.

        Files kept in the menu (``data["attachments"]``) survive: they wait for the flow that
        uses them (a flow that takes them moves them into its own data).
        """
        kept = self.conversation.data.get("attachments")
        self.conversation.state = "menu"
        self.conversation.data = {"attachments": kept} if kept else {}
        if show:
            self.reply(menu_text())


class Flow(Protocol):
    """One menu entry's dialogue."""

    def start(self, ctx: Context) -> None:
        """The citizen chose this entry in the menu."""
        ...

    def handle(self, ctx: Context) -> None:
        """A message arrived while the conversation is in this flow."""
        ...


class FileCheck(Protocol):
    """Optional method of a flow: may a file received in the menu be kept for it?"""

    def check_file(self, ctx: Context) -> str | None:
        """Why ``ctx.attachment`` (stored) cannot be kept, for the citizen; None keeps it."""
        ...


@dataclass(frozen=True)
class _Entry:
    key: str
    title: Callable[[], str]
    flow: Flow
    aliases: tuple[str, ...]


_FLOWS: dict[str, _Entry] = {}
_HANDLER: list[ConversationHandler] = []


def register_flow(
    key: str, title: Callable[[], str], flow: Flow, *, aliases: tuple[str, ...] = ()
) -> None:
    """Add (or replace) a menu entry; entries keep their first registration's position."""
    _FLOWS[key] = _Entry(key, title, flow, aliases)


def register_handler(handler: ConversationHandler | None) -> None:
    """Replace the whole conversation handler (``None`` restores the default menu)."""
    _HANDLER.clear()
    if handler is not None:
        _HANDLER.append(handler)


def get_handler() -> ConversationHandler:
    """The active conversation handler."""
    return _HANDLER[0] if _HANDLER else MenuHandler()


def dispatch(inbound: InboundMessage, attachment: Attachment | None = None) -> None:
    """Hand ``inbound`` to the active handler (media already downloaded into ``attachment``)."""
    handler = get_handler()
    if isinstance(handler, MenuHandler):
        handler.handle(inbound, attachment)
    else:
        handler.handle(inbound)


# --------------------------------------------------------------------------- texts


def menu_text() -> str:
    """The main menu, numbered in registration order, help last."""
    lines = [_("Silakan pilih layanan dengan membalas angkanya:")]
    entries = list(_FLOWS.values())
    for number, entry in enumerate(entries, start=1):
        lines.append(f"{number}. {entry.title()}")
    lines.append(f"{len(entries) + 1}. {_('Bantuan')}")
    lines.append(_("Ketik *menu* kapan saja untuk kembali ke sini, *batal* untuk membatalkan."))
    return "\n".join(lines)


def help_text() -> str:
    """What the service does and how to use it."""
    return _(
        "Dik Jamila Me-WA: ajukan dokumen kependudukan (KTP-el, KK, KIA, akta) cukup lewat "
        "WhatsApp, tanpa datang ke kantor. Kirim foto atau PDF persyaratan bila diminta. "
        "Ketik *menu* untuk melihat pilihan, *batal* untuk membatalkan permohonan yang sedang "
        "diisi. Layanan dibuka pada jam kerja kantor; pesan di luar jam kerja tetap kami "
        "simpan dan balas."
    )


def _unsupported_text() -> str:
    return _(
        "Maaf, jenis pesan ini belum didukung. Silakan kirim pesan teks, foto, atau dokumen "
        "PDF. Ketik *menu* untuk melihat pilihan."
    )


def _media_failed_text(attachment: Attachment) -> str:
    reasons = {
        "media_too_large": _("berkas terlalu besar"),
        "media_mismatch": _("berkas rusak saat dikirim"),
    }
    reason = reasons.get(attachment.error_code, _("berkas tidak dapat diunduh"))
    return _(
        "Maaf, berkas Anda belum dapat kami terima (%(reason)s). Silakan kirim ulang berkas "
        "tersebut."
    ) % {"reason": reason}


class ComingSoon:
    """Placeholder flow until a service registers the real one."""

    def __init__(self, title: Callable[[], str]) -> None:
        self.title = title

    def start(self, ctx: Context) -> None:
        """Say the service is coming and stay in the menu."""
        ctx.reply(
            _(
                "Layanan %(name)s melalui WhatsApp segera tersedia. Sementara itu, silakan "
                "gunakan portal web atau datang ke kantor Dinas."
            )
            % {"name": self.title()}
        )
        ctx.to_menu()

    def handle(self, ctx: Context) -> None:
        """Nothing to continue: back to the menu."""
        ctx.to_menu()


def _title_apply() -> str:
    return _("Ajukan dokumen")


def _title_status() -> str:
    return _("Cek status")


register_flow("ajukan", _title_apply, ComingSoon(_title_apply), aliases=("ajukan", "daftar"))
register_flow("status", _title_status, ComingSoon(_title_status), aliases=("status", "cek"))


# --------------------------------------------------------------------------- default handler


class MenuHandler:
    """The default conversation: a numbered menu dispatching to the registered flows."""

    def handle(self, inbound: InboundMessage, attachment: Attachment | None = None) -> None:
        """Answer one message, holding the sender's conversation row locked meanwhile."""
        with override("id"), transaction.atomic():
            conversation, created = Conversation.objects.select_for_update().get_or_create(
                channel=CHANNEL, sender=inbound.sender, defaults={"state": "new"}
            )
            if conversation.office_id is None and inbound.recipient:
                number = WhatsAppNumber.objects.filter(phone_number_id=inbound.recipient).first()
                conversation.office = number.office if number else None
            ctx = Context(inbound, conversation, attachment)
            self._answer(ctx, created)
            conversation.save()

    def _answer(self, ctx: Context, created: bool) -> None:
        conversation = ctx.conversation
        idle = not created and timezone.now() - conversation.updated_at > IDLE_RESET
        if ctx.inbound.type not in SUPPORTED_TYPES:
            ctx.reply(_unsupported_text())
            return
        if attachment_failed := (
            ctx.attachment is not None and ctx.attachment.state == AttachmentState.FAILED
        ):
            ctx.reply(_media_failed_text(ctx.attachment))
        word = ctx.choice.strip().lower().strip(".!?* ")
        if created or conversation.state == "new" or (idle and conversation.flow != "menu"):
            greeting = _(
                "Selamat datang di layanan Dik Jamila Me-WA Dinas Kependudukan dan Pencatatan "
                "Sipil."
            )
            if idle and not created:
                greeting = _("Sesi sebelumnya telah berakhir karena lama tidak ada balasan.")
            ctx.reply(greeting)
            ctx.to_menu()
            return
        if word in RESET_WORDS:
            if conversation.flow not in {"menu", "new"} and word != "menu":
                ctx.reply(_("Baik, permohonan yang sedang diisi dibatalkan."))
            ctx.to_menu()
            return
        entry = _FLOWS.get(conversation.flow)
        if entry is not None:
            entry.flow.handle(ctx)
            return
        self._menu_choice(ctx, word, attachment_failed)

    def _menu_choice(self, ctx: Context, word: str, attachment_failed: bool) -> None:
        entries = list(_FLOWS.values())
        # A file is answered first (kept, or why not), also when its caption chose an entry.
        file_note = ""
        if ctx.attachment is not None and not attachment_failed:
            file_note = self._keep_file(ctx, ctx.attachment, entries)
        chosen = self._match(word, entries)
        if chosen == "help":
            if file_note:
                ctx.reply(file_note)
            ctx.reply(help_text())
            return
        if isinstance(chosen, _Entry):
            if file_note:
                ctx.reply(file_note)
            ctx.set_state(chosen.key)
            chosen.flow.start(ctx)
            return
        if file_note:
            ctx.reply(file_note + "\n" + menu_text())
            return
        if attachment_failed:
            return
        ctx.reply(_("Maaf, pilihan tidak dikenali.") + "\n" + menu_text())

    def _keep_file(self, ctx: Context, attachment: Attachment, entries: list[_Entry]) -> str:
        """Keep a file received in the menu for a flow started later (it finds it in
        ``data["attachments"]``) unless a flow's ``check_file`` refuses it; the reply."""
        for entry in entries:
            check = getattr(entry.flow, "check_file", None)
            refused = check(ctx) if check is not None else None
            if refused:
                return str(refused)
        ctx.conversation.data.setdefault("attachments", []).append(str(attachment.pk))
        return _("Berkas Anda sudah kami simpan.")

    def _match(self, word: str, entries: list[_Entry]) -> _Entry | str | None:
        help_number = str(len(entries) + 1)
        if word == help_number or word in HELP_WORDS or word.startswith("menu:bantuan"):
            return "help"
        for number, entry in enumerate(entries, start=1):
            title = entry.title().lower()
            if word in {str(number), title, entry.key, f"menu:{entry.key}", *entry.aliases}:
                return entry
        # Tolerate typos ("ajukn", "stauts", "bntuan"): closest known word, if close enough.
        vocabulary: dict[str, _Entry | str] = {w: "help" for w in HELP_WORDS}
        for entry in entries:
            for w in (entry.key, entry.title().lower(), *entry.aliases):
                vocabulary[w] = entry
        close = difflib.get_close_matches(word, list(vocabulary), n=1, cutoff=0.75)
        return vocabulary[close[0]] if close else None
