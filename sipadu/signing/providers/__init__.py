"""Signing providers, plugged in by registry: ``providers/<name>.py`` registers itself.

``get_provider()`` returns the provider named by ``SIPADU_SIGNING_PROVIDER`` (``local`` by
default). A new provider (a PKCS#11 token, another TTE service) is a new module here with a
class decorated ``@register("<name>")``; nothing else changes.
"""

from __future__ import annotations

import abc
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sipadu.signing import config
from sipadu.signing.error_codes import SigningError, SigningErrorCode


@dataclass(frozen=True)
class SignerRef:
    """Who signs: a local key id, or a NIK and passphrase at a remote TTE service.

    The passphrase is never printed (``repr=False``) and never stored by SIPADU: it is
    typed by the Kepala Dinas for each signing session and passed straight through.
    """

    key_id: str = ""
    nik: str = field(default="", repr=False)
    passphrase: str = field(default="", repr=False)
    display_name: str = ""


class SigningProvider(abc.ABC):
    """Produces a PAdES signature on a PDF for a signer."""

    name: str = ""
    #: True when the signer must type a passphrase for each signing session (a remote TTE
    #: service holding his key); the TTE forms then ask for it.
    asks_passphrase: bool = False

    @abc.abstractmethod
    def sign(
        self,
        pdf: bytes,
        *,
        signer: SignerRef,
        reason: str = "",
        location: str = "",
        field_name: str = "TTE",
    ) -> bytes:
        """Return the signed PDF (the input plus an incremental update with the signature).

        Raises :class:`~sipadu.signing.error_codes.SigningError` with a message for people;
        the input bytes are never modified, so a failed attempt loses nothing.
        """


P = TypeVar("P", bound=type[SigningProvider])

_REGISTRY: dict[str, type[SigningProvider]] = {}


def register(name: str) -> Callable[[P], P]:
    """Class decorator: make a provider available under ``name``."""

    def wrap(cls: P) -> P:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return wrap


def provider_class(name: str) -> type[SigningProvider]:
    """The provider class registered as ``name`` (its module is imported on first use)."""
    if name not in _REGISTRY:
        if not name.isidentifier():
            raise SigningError(SigningErrorCode.PROVIDER_UNKNOWN, name)
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            raise SigningError(SigningErrorCode.PROVIDER_UNKNOWN, name) from exc
    try:
        return _REGISTRY[name]
    except KeyError as exc:
        raise SigningError(SigningErrorCode.PROVIDER_UNKNOWN, name) from exc


def get_provider(name: str | None = None) -> SigningProvider:
    """A provider instance: ``name``, or the configured one (``SIPADU_SIGNING_PROVIDER``)."""
    return provider_class(name or config.provider_name())()
