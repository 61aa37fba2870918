"""Named signing errors, each with the plain-Indonesian message an officer or citizen sees."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class SigningErrorCode(StrEnum):
    """Why a signature could not be made (stable codes for logs, APIs and tests)."""

    KEY_NOT_FOUND = "key_not_found"
    KEY_PASSWORD_MISSING = "key_password_missing"  # noqa: S105 - a code, not a password
    KEY_PASSWORD_FILE_UNSAFE = "key_password_file_unsafe"  # noqa: S105 - a code
    KEY_UNREADABLE = "key_unreadable"
    CERTIFICATE_EXPIRED = "certificate_expired"
    CERTIFICATE_NOT_FOUND = "certificate_not_found"
    WRONG_PASSPHRASE = "wrong_passphrase"  # noqa: S105 - a code, not a password
    PASSPHRASE_REQUIRED = "passphrase_required"  # noqa: S105 - a code, not a password
    SIGNER_NOT_CONFIGURED = "signer_not_configured"
    CLIENT_REJECTED = "client_rejected"
    SERVICE_UNAVAILABLE = "service_unavailable"
    SERVICE_ERROR = "service_error"
    TSA_UNAVAILABLE = "tsa_unavailable"
    NOT_A_PDF = "not_a_pdf"
    PROVIDER_UNKNOWN = "provider_unknown"
    SIGNING_FAILED = "signing_failed"


MESSAGES = {
    SigningErrorCode.KEY_NOT_FOUND: _(
        "Kunci tanda tangan untuk penanda tangan ini tidak ditemukan. Jalankan "
        "'sipadu signing init-demo-ca' atau pasang berkas PKCS#12 miliknya."
    ),
    SigningErrorCode.KEY_PASSWORD_MISSING: _(
        "Kata sandi kunci tanda tangan tidak tersedia (variabel lingkungan atau berkas .pass)."
    ),
    SigningErrorCode.KEY_PASSWORD_FILE_UNSAFE: _(
        "Berkas kata sandi kunci dapat dibaca pengguna lain; ubah izinnya menjadi 0600."
    ),
    SigningErrorCode.KEY_UNREADABLE: _(
        "Berkas kunci tanda tangan tidak dapat dibuka: kata sandi salah atau berkas rusak."
    ),
    SigningErrorCode.CERTIFICATE_EXPIRED: _(
        "Sertifikat elektronik penanda tangan sudah kedaluwarsa atau dicabut. Hubungi BSrE "
        "untuk memperbarui sertifikat."
    ),
    SigningErrorCode.CERTIFICATE_NOT_FOUND: _(
        "Sertifikat elektronik untuk NIK penanda tangan tidak ditemukan di layanan TTE."
    ),
    SigningErrorCode.WRONG_PASSPHRASE: _(
        "Passphrase TTE salah. Dokumen belum ditandatangani; silakan ulangi dengan "
        "passphrase yang benar."
    ),
    SigningErrorCode.PASSPHRASE_REQUIRED: _("Passphrase TTE belum dimasukkan."),
    SigningErrorCode.SIGNER_NOT_CONFIGURED: _(
        "Penanda tangan belum dikonfigurasi untuk layanan TTE: pengaturan %(setting)s "
        "(NIK pemilik sertifikat) belum diisi. Dokumen belum ditandatangani; hubungi "
        "administrator."
    ),
    SigningErrorCode.CLIENT_REJECTED: _(
        "Aplikasi ini ditolak oleh layanan TTE (akun klien tidak sah). Hubungi administrator."
    ),
    SigningErrorCode.SERVICE_UNAVAILABLE: _(
        "Layanan TTE sedang tidak dapat dihubungi. Dokumen belum ditandatangani dan tetap "
        "tersimpan; silakan coba lagi beberapa saat lagi."
    ),
    SigningErrorCode.SERVICE_ERROR: _(
        "Layanan TTE mengembalikan jawaban yang tidak dikenali. Dokumen belum ditandatangani."
    ),
    SigningErrorCode.TSA_UNAVAILABLE: _(
        "Layanan cap waktu (TSA) tidak dapat dihubungi. Dokumen belum ditandatangani; "
        "silakan coba lagi."
    ),
    SigningErrorCode.NOT_A_PDF: _("Berkas yang akan ditandatangani bukan PDF yang sah."),
    SigningErrorCode.PROVIDER_UNKNOWN: _("Penyedia tanda tangan yang dikonfigurasi tidak dikenal."),
    SigningErrorCode.SIGNING_FAILED: _("Penandatanganan dokumen gagal."),
}

# Errors worth retrying later without changing anything (the service or the TSA was down).
RETRYABLE = frozenset({SigningErrorCode.SERVICE_UNAVAILABLE, SigningErrorCode.TSA_UNAVAILABLE})

# Errors of the signer's set-up rather than of one document: every further document of the
# same signer would fail the same way, so a batch stops at the first one.
CONFIGURATION = frozenset(
    {
        SigningErrorCode.KEY_NOT_FOUND,
        SigningErrorCode.KEY_PASSWORD_MISSING,
        SigningErrorCode.KEY_PASSWORD_FILE_UNSAFE,
        SigningErrorCode.KEY_UNREADABLE,
        SigningErrorCode.CERTIFICATE_EXPIRED,
        SigningErrorCode.CERTIFICATE_NOT_FOUND,
        SigningErrorCode.SIGNER_NOT_CONFIGURED,
        SigningErrorCode.CLIENT_REJECTED,
        SigningErrorCode.PROVIDER_UNKNOWN,
    }
)

# Errors that stop a batch: the configuration ones and a refused or missing passphrase (a
# TTE service locks the signer's account after repeated wrong passphrases).
STOPS_BATCH = CONFIGURATION | {
    SigningErrorCode.WRONG_PASSPHRASE,
    SigningErrorCode.PASSPHRASE_REQUIRED,
}


class SigningError(Exception):
    """A signature could not be made; ``message`` is safe to show to the officer."""

    def __init__(
        self, code: SigningErrorCode, detail: str = "", *, params: dict[str, str] | None = None
    ) -> None:
        """``params`` fill the placeholders of the code's message (e.g. ``setting``, the name
        of a missing environment variable): never a NIK, a name or a passphrase."""
        self.code = code
        # ``detail`` is for logs only (never shown to citizens, never holds a NIK or passphrase).
        self.detail = detail
        self.params = dict(params or {})
        super().__init__(f"{code}: {detail}" if detail else str(code))

    @property
    def message(self) -> str:
        """The Indonesian (or active-language) message for people."""
        text = str(MESSAGES[self.code])
        return text % self.params if self.params else text

    @property
    def retryable(self) -> bool:
        """True when the same request may succeed later unchanged."""
        return self.code in RETRYABLE

    @property
    def stops_batch(self) -> bool:
        """True when signing further documents for the same signer would fail the same way
        (or count more wrong passphrases against his account)."""
        return self.code in STOPS_BATCH
