"""Local provider: one PKCS#12 key file per signer under ``DATA_DIR/keys``.

The password of ``keys/<key_id>.p12`` comes from ``SIPADU_KEY_PASSWORD_<KEY_ID>`` or from
``keys/<key_id>.pass``, which must be readable by its owner only (mode 0600). Loaded keys are
cached per file version, so a bulk signing session decrypts each key once.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from asn1crypto import cms
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.sign import attributes, signers
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from sipadu.signing import config
from sipadu.signing.error_codes import SigningError, SigningErrorCode
from sipadu.signing.pades import pades_sign
from sipadu.signing.providers import SignerRef, SigningProvider, register
from sipadu.signing.tsa import configured_timestamper

# A key id names a file: letters, digits, dot, dash, underscore; no path separators.
KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class _CachedAttributeProvider(attributes.CMSAttributeProvider):
    """A signed attribute that depends only on the signer, built and DER-encoded once.

    The signing-certificate-v2 attribute (ESS, required by PAdES) names the signer's
    certificate by hash, issuer and serial number. pyHanko rebuilds and re-encodes it twice
    per signature (≈ 6 ms with asn1crypto, a third of a B-B signature); the value is the same
    for every document signed with the same certificate.
    """

    def __init__(self, inner: attributes.CMSAttributeProvider) -> None:
        """Wrap the provider whose attribute is reused."""
        self.inner = inner
        self.attribute_type = inner.attribute_type
        self._attribute: cms.CMSAttribute | None = None
        self._lock = threading.Lock()

    async def build_attr_value(self, dry_run: bool = False) -> object:
        """The attribute value (as the wrapped provider builds it)."""
        return await self.inner.build_attr_value(dry_run=dry_run)

    async def get_attribute(self, dry_run: bool = False) -> cms.CMSAttribute | None:
        """The attribute, encoded once; later calls return the same (read-only) object."""
        if self._attribute is None:
            attribute = await self.inner.get_attribute(dry_run=dry_run)
            if attribute is None:
                return None
            # asn1crypto re-encodes a value built in Python on every dump (it stays marked
            # "mutated"); one parsed back from DER reuses its encoding and is never written to.
            attribute = cms.CMSAttribute.load(attribute.dump())
            with self._lock:
                if self._attribute is None:
                    self._attribute = attribute
        return self._attribute


class PreloadedKeySigner(signers.SimpleSigner):
    """A SimpleSigner that parses its private key once instead of on every signature.

    pyHanko's SimpleSigner re-imports the key for each signature; for RSA that includes the
    key consistency check (~150 ms for 3072 bits), which would dominate a bulk session. The
    signing-certificate-v2 attribute is built once as well (:class:`_CachedAttributeProvider`).
    """

    def __init__(self, base: signers.SimpleSigner) -> None:
        """Wrap a loaded SimpleSigner (same certificate, key and certificate store)."""
        super().__init__(
            signing_cert=base.signing_cert,
            signing_key=base.signing_key,
            cert_registry=base.cert_registry,
        )
        self._private_key = serialization.load_der_private_key(
            base.signing_key.dump(), password=None
        )
        self._signing_certificate_attribute = _CachedAttributeProvider(
            attributes.SigningCertificateV2Provider(signing_cert=self.signing_cert)
        )

    def _signed_attr_providers(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """pyHanko's signed attributes, with the signing certificate one reused."""
        for provider in super()._signed_attr_providers(*args, **kwargs):
            if (
                type(provider) is attributes.SigningCertificateV2Provider
                and provider.signing_cert == self.signing_cert
            ):
                yield self._signing_certificate_attribute
            else:
                yield provider

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        """Sign with the cached key (RSA PKCS#1 v1.5 or ECDSA; anything else as pyHanko)."""
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        key = self._private_key
        if mechanism == "ecdsa" and isinstance(key, EllipticCurvePrivateKey):
            return key.sign(data, ECDSA(hash_algo))
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, RSAPrivateKey):
            return key.sign(data, PKCS1v15(), hash_algo)
        return super().sign_raw(data, digest_algorithm)


_cache: dict[tuple[str, int, int], signers.SimpleSigner] = {}
_cache_lock = threading.Lock()


def _password(keys_dir: Path, key_id: str) -> str:
    """The key password from the environment or from the owner-only ``.pass`` file."""
    from_env = os.environ.get(config.key_password_env_name(key_id))
    if from_env:
        return from_env
    path = keys_dir / f"{key_id}.pass"
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise SigningError(SigningErrorCode.KEY_PASSWORD_MISSING, key_id) from exc
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningError(SigningErrorCode.KEY_PASSWORD_FILE_UNSAFE, str(path))
    return path.read_text(encoding="utf-8").strip()


def load_signer(key_id: str, keys_dir: Path | None = None) -> signers.SimpleSigner:
    """The pyHanko signer of ``keys/<key_id>.p12`` (decrypted once per file version)."""
    if not KEY_ID.match(key_id or ""):
        raise SigningError(SigningErrorCode.KEY_NOT_FOUND, "invalid key id")
    keys = keys_dir or config.keys_dir()
    path = keys / f"{key_id}.p12"
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise SigningError(SigningErrorCode.KEY_NOT_FOUND, key_id) from exc
    cache_key = (str(path), info.st_mtime_ns, info.st_size)
    cached = _cache.get(cache_key)
    if cached is not None:
        return cached
    password = _password(keys, key_id)
    try:
        signer = PreloadedKeySigner(
            signers.SimpleSigner.load_pkcs12_data(
                path.read_bytes(), other_certs=(), passphrase=password.encode()
            )
        )
    except ValueError as exc:
        raise SigningError(SigningErrorCode.KEY_UNREADABLE, key_id) from exc
    with _cache_lock:
        # Forget older versions of the same file (a re-issued key replaces the old one).
        for stale in [k for k in _cache if k[0] == cache_key[0]]:
            del _cache[stale]
        _cache[cache_key] = signer
    return signer


@register("local")
class LocalProvider(SigningProvider):
    """Signs with a PKCS#12 key held on this machine (the default, and the demo)."""

    def __init__(self, keys_dir: Path | None = None) -> None:
        """``keys_dir`` defaults to ``DATA_DIR/keys``."""
        self.keys_dir = keys_dir

    def sign(
        self,
        pdf: bytes,
        *,
        signer: SignerRef,
        reason: str = "",
        location: str = "",
        field_name: str = "TTE",
    ) -> bytes:
        """PAdES-sign with the signer's local key; B-T when ``SIPADU_TSA_URL`` is set."""
        pyhanko_signer = load_signer(signer.key_id, self.keys_dir)
        return pades_sign(
            pdf,
            pyhanko_signer,
            reason=reason,
            location=location,
            field_name=field_name,
            timestamper=configured_timestamper(),
        )
