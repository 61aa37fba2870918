"""Signing configuration, read from the environment at call time (so tests can change it).

Environment variables (all optional):

- ``SIPADU_SIGNING_PROVIDER``: ``local`` (default) or ``remote``.
- ``SIPADU_SIGNING_REMOTE_URL``: base URL of the remote TTE service (BSrE-style eSign API).
- ``SIPADU_SIGNING_REMOTE_USER`` / ``SIPADU_SIGNING_REMOTE_PASSWORD``: HTTP Basic credentials
  of this application at the remote service.
- ``SIPADU_SIGNING_REMOTE_TIMEOUT``: seconds to wait for the remote service (default 30).
- ``SIPADU_SIGNING_REMOTE_NIK_<KEY_ID>``: the NIK under which the holder of key ``<KEY_ID>``
  (e.g. ``BALANGAN_KEPALA_DINAS``) has his certificate at the remote service.
- ``SIPADU_TSA_URL``: RFC 3161 timestamp authority; when set, signatures are PAdES B-T.
- ``SIPADU_TSA_TIMEOUT``: seconds to wait for the TSA (default 10).
- ``SIPADU_KEY_PASSWORD_<KEY_ID>``: password of ``keys/<key_id>.p12`` (key id upper-cased,
  ``-`` and ``.`` turned into ``_``); otherwise ``keys/<key_id>.pass`` (mode 0600) is read.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings


def data_dir() -> Path:
    """The project data directory (``settings.DATA_DIR``)."""
    return Path(settings.DATA_DIR)


def keys_dir() -> Path:
    """Folder of the PKCS#12 signer keys and the demo CA."""
    return data_dir() / "keys"


def trust_dir() -> Path:
    """Folder of trusted root certificates (PEM or DER): the demo CA, the BSrE root …"""
    return data_dir() / "trust"


def provider_name() -> str:
    """Name of the signing provider plugin to use."""
    return os.environ.get("SIPADU_SIGNING_PROVIDER", "").strip() or "local"


def remote_url() -> str:
    """Base URL of the remote signing service, without a trailing slash ('' if unset)."""
    return os.environ.get("SIPADU_SIGNING_REMOTE_URL", "").strip().rstrip("/")


def remote_credentials() -> tuple[str, str] | None:
    """HTTP Basic credentials of this application at the remote service, if configured."""
    user = os.environ.get("SIPADU_SIGNING_REMOTE_USER", "")
    if not user:
        return None
    return user, os.environ.get("SIPADU_SIGNING_REMOTE_PASSWORD", "")


def remote_nik(key_id: str) -> str:
    """The NIK of the signer ``key_id`` at the remote service ('' if not configured)."""
    return os.environ.get(remote_nik_env_name(key_id), "").strip()


def _seconds(name: str, default: float) -> float:
    """A positive number of seconds from the environment, or the default if unset or bad."""
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return value if value > 0 else default


def remote_timeout() -> float:
    """Seconds to wait for the remote signing service."""
    return _seconds("SIPADU_SIGNING_REMOTE_TIMEOUT", 30.0)


def tsa_url() -> str:
    """RFC 3161 timestamp authority URL ('' means PAdES B-B, no timestamp)."""
    return os.environ.get("SIPADU_TSA_URL", "").strip()


def tsa_timeout() -> float:
    """Seconds to wait for the timestamp authority."""
    return _seconds("SIPADU_TSA_TIMEOUT", 10.0)


def _key_suffix(key_id: str) -> str:
    return key_id.upper().replace("-", "_").replace(".", "_")


def key_password_env_name(key_id: str) -> str:
    """Environment variable holding the password of one key file."""
    return "SIPADU_KEY_PASSWORD_" + _key_suffix(key_id)


def remote_nik_env_name(key_id: str) -> str:
    """Environment variable holding the remote-service NIK of the holder of one key id."""
    return "SIPADU_SIGNING_REMOTE_NIK_" + _key_suffix(key_id)
