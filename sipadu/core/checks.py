"""System checks of SIPADU's own settings, run by ``sipadu check`` (``--deploy`` for the
production-only ones).

Registered when :class:`sipadu.core.apps.CoreConfig` is ready.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning
from django.utils.translation import gettext as _

#: Host names that only ever reach the machine itself.
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def is_local_host(host: str) -> bool:
    """True for a host name or address that a citizen's phone cannot reach: ``localhost``
    (and ``*.localhost``), loopback and unspecified addresses (``127.0.0.1``, ``::1``,
    ``0.0.0.0``)."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


#: Name endings used only inside a network (RFC 6762, RFC 8375 and common intranet habits).
PRIVATE_SUFFIXES = (".local", ".lan", ".internal", ".intranet", ".home.arpa", ".corp")


def is_private_host(host: str) -> bool:
    """True for a host a phone reaches only from inside the office network: a private,
    link-local or otherwise non-public address (``192.168.1.10``, ``10.0.0.5``, ``fd00::1``),
    a name without a dot (``sipadu``) or one under an intranet suffix (``sipadu.local``).
    Local hosts (:func:`is_local_host`) are not counted here."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if not name or is_local_host(name):
        return False
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return "." not in name or name.endswith(PRIVATE_SUFFIXES)
    return not address.is_global


@register(Tags.security, deploy=True)
def check_site_url(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """``SITE_URL`` (``SIPADU_SITE_URL``) is printed in the QR code of every signed document
    and in messages to citizens: in production it must be the public https address."""
    url = str(getattr(settings, "SITE_URL", "") or "").strip()
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname or ""
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        scheme, host = "", ""
    hint = _(
        "Atur SIPADU_SITE_URL ke alamat publik SIPADU dengan https, misalnya "
        "https://sipadu.contoh.go.id."
    )
    if not scheme or not host:
        return [
            CheckWarning(
                _(
                    "SITE_URL kosong atau bukan alamat lengkap: kode QR pada dokumen yang "
                    "ditandatangani tidak dapat dibuka."
                ),
                hint=hint,
                id="sipadu.W001",
            )
        ]
    if is_local_host(host):
        return [
            CheckWarning(
                _(
                    "SITE_URL menunjuk ke komputer ini (%(url)s; nilai bawaan bila "
                    "SIPADU_SITE_URL tidak diatur): kode QR pada dokumen yang ditandatangani "
                    "tidak dapat dibuka dari luar."
                )
                % {"url": url},
                hint=hint,
                id="sipadu.W002",
            )
        ]
    if is_private_host(host):
        return [
            CheckWarning(
                _(
                    "SITE_URL adalah alamat jaringan kantor (%(url)s): kode QR pada dokumen "
                    "yang ditandatangani hanya dapat dibuka dari dalam jaringan itu, tidak "
                    "oleh warga atau instansi lain."
                )
                % {"url": url},
                hint=hint,
                id="sipadu.W004",
            )
        ]
    if scheme != "https":
        return [
            CheckWarning(
                _(
                    "SITE_URL tidak memakai https (%(url)s): kode QR pada dokumen yang "
                    "ditandatangani harus menunjuk ke alamat https."
                )
                % {"url": url},
                hint=hint,
                id="sipadu.W003",
            )
        ]
    return []
