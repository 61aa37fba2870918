"""Named errors of the SOP runtime and the exception that carries them.

Every illegal move (claiming a task someone else holds, completing a decision without a
decision, returning to a later step …) is refused with a :class:`WorkflowError`: a stable
``code`` for API clients and tests, and a ``message`` in the user's language (Indonesian
source text) for the officer. Views turn it into a 4xx response, never a 500.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _


class ErrorCode(StrEnum):
    """Why a workflow action was refused."""

    NOT_MEMBER = "not_member"
    NOT_EXECUTOR = "not_executor"
    NOT_SUPERVISOR = "not_supervisor"
    TASK_TAKEN = "task_taken"
    TASK_NOT_OPEN = "task_not_open"
    NOT_ASSIGNEE = "not_assignee"
    CASE_CLOSED = "case_closed"
    USE_DECIDE = "use_decide"
    NOT_A_DECISION = "not_a_decision"
    REASON_REQUIRED = "reason_required"
    BAD_RETURN_TARGET = "bad_return_target"
    BAD_ASSIGNEE = "bad_assignee"
    STEP_REFUSED = "step_refused"
    UNKNOWN_SOP = "unknown_sop"
    FILE_EMPTY = "file_empty"
    FILE_TOO_LARGE = "file_too_large"
    NOT_RECURRING = "not_recurring"
    TEXT_TOO_LONG = "text_too_long"
    TASK_SUSPENDED = "task_suspended"
    NOT_SUSPENDED = "not_suspended"


#: The default message of each code; actions may pass a more specific one.
MESSAGES: dict[ErrorCode, Any] = {
    ErrorCode.NOT_MEMBER: _("Anda tidak terdaftar sebagai petugas di kantor ini."),
    ErrorCode.NOT_EXECUTOR: _("Anda tidak memegang peran pelaksana kegiatan ini."),
    ErrorCode.NOT_SUPERVISOR: _(
        "Hanya atasan dari peran pelaksana atau admin yang dapat melakukan ini."
    ),
    ErrorCode.TASK_TAKEN: _("Tugas ini sudah diambil oleh petugas lain."),
    ErrorCode.TASK_NOT_OPEN: _("Tugas ini sudah tidak aktif."),
    ErrorCode.NOT_ASSIGNEE: _("Ambil tugas ini terlebih dahulu sebelum mengerjakannya."),
    ErrorCode.CASE_CLOSED: _("Perkara ini sudah selesai atau dibatalkan."),
    ErrorCode.USE_DECIDE: _("Kegiatan ini adalah keputusan: pilih Ya atau Tidak."),
    ErrorCode.NOT_A_DECISION: _("Kegiatan ini bukan keputusan Ya/Tidak."),
    ErrorCode.REASON_REQUIRED: _("Alasan pengembalian wajib diisi."),
    ErrorCode.BAD_RETURN_TARGET: _(
        "Berkas hanya dapat dikembalikan ke kegiatan sebelumnya yang sudah dikerjakan."
    ),
    ErrorCode.BAD_ASSIGNEE: _("Petugas tujuan tidak memegang peran pelaksana di kantor ini."),
    ErrorCode.STEP_REFUSED: _("Kegiatan belum dapat diselesaikan."),
    ErrorCode.UNKNOWN_SOP: _("SOP tidak ditemukan atau belum dimuat."),
    ErrorCode.FILE_EMPTY: _("Berkas yang diunggah kosong."),
    ErrorCode.FILE_TOO_LARGE: _("Berkas terlalu besar."),
    ErrorCode.NOT_RECURRING: _("Kegiatan ini tidak berulang."),
    ErrorCode.TEXT_TOO_LONG: _("Teks terlalu panjang."),
    ErrorCode.TASK_SUSPENDED: _(
        "Tugas ini sedang ditangguhkan menunggu pihak lain; lanjutkan tugas terlebih dahulu."
    ),
    ErrorCode.NOT_SUSPENDED: _("Tugas ini tidak sedang ditangguhkan."),
}


class WorkflowError(Exception):
    """An action refused a move; ``code`` is an :class:`ErrorCode`, ``message`` is for people."""

    def __init__(self, code: ErrorCode, message: Any = None) -> None:
        self.code = code
        self.message = str(message if message is not None else MESSAGES[code])
        super().__init__(f"{code}: {self.message}")
