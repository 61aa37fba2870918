"""A demo certification authority and the Kepala Dinas signer certificates of the demo offices.

Everything is written under ``DATA_DIR/keys`` (private material, mode 0600) and the root
certificate is also copied to ``DATA_DIR/trust`` so that verification trusts it. A real office
replaces all of this by its BSrE certificate (remote provider) or installs its own PKCS#12.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sipadu.signing import config

ROOT_CERT_NAME = "sipadu-demo-root-ca.pem"
ROOT_KEY_NAME = "sipadu-demo-root-ca.key.pem"

# The five seed offices (see shared/seeds): code → office name.
DEMO_OFFICES: dict[str, str] = {
    "balangan": "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Balangan",
    "bima": "Dinas Kependudukan dan Pencatatan Sipil Kota Bima",
    "solok": "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Solok",
    "palangkaraya": "Dinas Kependudukan dan Pencatatan Sipil Kota Palangka Raya",
    "sumbar": "Dinas Kependudukan dan Pencatatan Sipil Provinsi Sumatera Barat",
}

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class KeyAlgorithm(StrEnum):
    """Key types the demo CA issues (EC P-256 signs fastest; RSA for older verifiers)."""

    EC_P256 = "ec-p256"
    RSA_2048 = "rsa-2048"
    RSA_3072 = "rsa-3072"


def generate_key(algorithm: KeyAlgorithm | str) -> PrivateKey:
    """A fresh private key of the given type."""
    algorithm = KeyAlgorithm(algorithm)
    if algorithm is KeyAlgorithm.EC_P256:
        return ec.generate_private_key(ec.SECP256R1())
    bits = 2048 if algorithm is KeyAlgorithm.RSA_2048 else 3072
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def name(common_name: str, organisation: str = "", unit: str = "") -> x509.Name:
    """An X.509 distinguished name in Indonesia."""
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "ID")]
    if organisation:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


@dataclass
class CertificateAuthority:
    """A CA certificate with its private key, able to issue certificates."""

    cert: x509.Certificate
    key: PrivateKey

    @classmethod
    def create(
        cls,
        common_name: str = "SIPADU Demo Root CA",
        *,
        algorithm: KeyAlgorithm | str = KeyAlgorithm.EC_P256,
        years: int = 10,
    ) -> CertificateAuthority:
        """A new self-signed root CA."""
        key = generate_key(algorithm)
        subject = name(common_name, "SIPADU (demo, bukan BSrE)")
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        return cls(cert, key)

    def issue(
        self,
        subject: x509.Name,
        public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
        *,
        days: int = 730,
        not_before: dt.datetime | None = None,
        timestamping: bool = False,
    ) -> x509.Certificate:
        """Issue an end-entity certificate: a document signer, or a TSA when ``timestamping``.

        Signer certificates carry non-repudiation (content commitment), which PAdES
        validators (pyHanko included) require of a document signature.
        """
        start = not_before or (_now() - dt.timedelta(hours=1))
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=not timestamping,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
        )
        if timestamping:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
        return builder.sign(self.key, hashes.SHA256())

    def pkcs12(
        self,
        key_id: str,
        key: PrivateKey,
        cert: x509.Certificate,
        password: str,
    ) -> bytes:
        """A password-protected PKCS#12 holding key, certificate and this CA's certificate."""
        return pkcs12.serialize_key_and_certificates(
            key_id.encode(),
            key,
            cert,
            [self.cert],
            serialization.BestAvailableEncryption(password.encode()),
        )

    def cert_pem(self) -> bytes:
        """The CA certificate as PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        """The CA private key as unencrypted PKCS#8 PEM (stored with mode 0600)."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @classmethod
    def load(cls, cert_path: Path, key_path: Path) -> CertificateAuthority:
        """Load a CA written by :meth:`cert_pem` and :meth:`key_pem`."""
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ValueError("unsupported CA key type")
        return cls(cert, key)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only (mode 0600), replacing any old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def signer_key_id(office_code: str) -> str:
    """Key id (file stem under ``keys/``) of the Kepala Dinas of an office."""
    return f"{office_code}-kepala-dinas"


@dataclass
class InitReport:
    """What ``init-demo-ca`` created and what it kept."""

    created: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def load_or_create_ca(
    *,
    force: bool = False,
    algorithm: KeyAlgorithm | str = KeyAlgorithm.EC_P256,
    keys_dir: Path | None = None,
    trust_dir: Path | None = None,
    report: InitReport | None = None,
) -> CertificateAuthority:
    """The demo root CA under ``keys_dir``; created (and trusted) when absent or forced."""
    keys = keys_dir or config.keys_dir()
    trust = trust_dir or config.trust_dir()
    report = report if report is not None else InitReport()
    cert_path, key_path = keys / ROOT_CERT_NAME, keys / ROOT_KEY_NAME
    if cert_path.exists() and key_path.exists() and not force:
        ca = CertificateAuthority.load(cert_path, key_path)
        report.kept.append(cert_path)
    else:
        ca = CertificateAuthority.create(algorithm=algorithm)
        write_private(key_path, ca.key_pem())
        cert_path.write_bytes(ca.cert_pem())
        report.created.append(cert_path)
    trusted = trust / ROOT_CERT_NAME
    if not trusted.exists() or trusted.read_bytes() != ca.cert_pem():
        trust.mkdir(parents=True, exist_ok=True)
        trusted.write_bytes(ca.cert_pem())
        report.created.append(trusted)
    return ca


def issue_signer(
    ca: CertificateAuthority,
    key_id: str,
    common_name: str,
    organisation: str,
    *,
    algorithm: KeyAlgorithm | str = KeyAlgorithm.EC_P256,
    keys_dir: Path | None = None,
    days: int = 730,
    not_before: dt.datetime | None = None,
) -> Path:
    """Issue a signer certificate and write ``keys/<key_id>.p12`` and its ``.pass`` (0600)."""
    keys = keys_dir or config.keys_dir()
    key = generate_key(algorithm)
    cert = ca.issue(
        name(common_name, organisation, "Kepala Dinas"),
        key.public_key(),
        days=days,
        not_before=not_before,
    )
    password = secrets.token_urlsafe(24)
    p12_path = keys / f"{key_id}.p12"
    write_private(p12_path, ca.pkcs12(key_id, key, cert, password))
    write_private(keys / f"{key_id}.pass", password.encode())
    return p12_path


def init_demo_ca(
    *,
    force: bool = False,
    algorithm: KeyAlgorithm | str = KeyAlgorithm.EC_P256,
    offices: Iterable[str] | None = None,
    keys_dir: Path | None = None,
    trust_dir: Path | None = None,
) -> InitReport:
    """Create the demo root CA and a Kepala Dinas signer per demo office; idempotent.

    Existing files are kept unless ``force`` is given, in which case the CA and every signer
    are issued afresh (documents signed before then no longer chain to the trusted root).
    """
    keys = keys_dir or config.keys_dir()
    report = InitReport()
    with _exclusive(keys):
        ca = load_or_create_ca(
            force=force, algorithm=algorithm, keys_dir=keys, trust_dir=trust_dir, report=report
        )
        fresh_ca = (keys / ROOT_CERT_NAME) in report.created
        for code in offices or DEMO_OFFICES:
            office_name = DEMO_OFFICES.get(code, code)
            key_id = signer_key_id(code)
            path = keys / f"{key_id}.p12"
            if path.exists() and (keys / f"{key_id}.pass").exists() and not (force or fresh_ca):
                report.kept.append(path)
                continue
            common_name = office_name.replace(
                "Dinas Kependudukan dan Pencatatan Sipil", "Kepala Dinas Dukcapil"
            )
            report.created.append(
                issue_signer(
                    ca, key_id, common_name, office_name, algorithm=algorithm, keys_dir=keys
                )
            )
    return report


@contextlib.contextmanager
def _exclusive(keys: Path) -> Iterator[None]:
    """One process at a time creates the demo CA and keys in a folder.

    Two processes starting on an empty data directory at once (the web process and the
    worker, or two test workers sharing one) would otherwise each create a CA and overwrite
    each other's files, leaving signer keys that do not chain to the trusted root.
    """
    keys.mkdir(parents=True, exist_ok=True)
    fd = os.open(keys / ".init-demo-ca.lock", os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "rb+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
