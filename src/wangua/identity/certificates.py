"""X.509 client certificates: loading, chain verification, proof of possession, dev CA.

Rule R-12a: a bidder logs in with a certificate issued by a CA the deployment
trusts plus a password.  The certificate must chain to a configured trust
anchor and be valid at the time of login, and the client proves possession of
the private key by signing the server's nonce string (UTF-8 bytes, SHA-256;
ECDSA with a DER-encoded signature, or RSA PKCS#1 v1.5) and sending the
signature in base64.

The small CA at the bottom of this module (:func:`init_ca`,
:func:`issue_certificate`) is for development and demos only; it issues
ECDSA P-256 keys.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

__all__ = [
    "CertificateRejected",
    "IssuedPair",
    "certificate_serial",
    "certificate_subject_cn",
    "fingerprint",
    "fingerprint_bytes",
    "init_ca",
    "issue_certificate",
    "load_certificate",
    "load_certificate_chain",
    "load_trust_anchors",
    "sign_message",
    "verify_certificate",
    "verify_possession",
]

CA_KEY_FILE = "ca.key.pem"
CA_CERT_FILE = "ca.crt.pem"

_BACKDATE = timedelta(hours=1)


class CertificateRejected(Exception):
    """A certificate or a proof of possession was not accepted (R-12a).

    ``reason`` is a short machine-readable English reason: ``'untrusted'``,
    ``'expired'``, ``'not_yet_valid'``, ``'malformed'`` or ``'bad_signature'``.
    ``detail`` optionally carries a human-readable explanation for logs; it is
    not meant to be shown to the client.
    """

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason if detail is None else f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# ---------------------------------------------------------------------------
# Loading and inspecting certificates
# ---------------------------------------------------------------------------


def _as_bytes(pem: str | bytes) -> bytes:
    return pem.encode("utf-8") if isinstance(pem, str) else bytes(pem)


def load_certificate_chain(pem: str | bytes) -> list[x509.Certificate]:
    """Return every certificate of a PEM bundle, in order (the leaf first).

    Raises ``CertificateRejected('malformed')`` if the input holds no
    parseable PEM certificate.
    """
    try:
        certificates = x509.load_pem_x509_certificates(_as_bytes(pem))
    except (ValueError, TypeError) as exc:
        raise CertificateRejected("malformed", str(exc)) from exc
    if not certificates:
        raise CertificateRejected("malformed", "no certificate in PEM input")
    return certificates


def load_certificate(pem: str | bytes) -> x509.Certificate:
    """Return the leaf certificate of a PEM input (R-12a).

    If the PEM holds several certificates, the first one is the leaf.  Raises
    ``CertificateRejected('malformed')`` if nothing parseable is found.
    """
    return load_certificate_chain(pem)[0]


def load_trust_anchors(paths: Sequence[str | Path]) -> list[x509.Certificate]:
    """Load the CA certificates the deployment trusts for R-12a logins.

    Each file may hold several PEM certificates; all of them become anchors.
    A missing file raises ``OSError``; a file without a parseable certificate
    raises ``CertificateRejected('malformed')`` naming the file.
    """
    anchors: list[x509.Certificate] = []
    for path in paths:
        data = Path(path).read_bytes()
        try:
            anchors.extend(load_certificate_chain(data))
        except CertificateRejected as exc:
            raise CertificateRejected("malformed", f"trust anchor file {path}: {exc}") from exc
    return anchors


def fingerprint(cert: x509.Certificate) -> str:
    """Lowercase hexadecimal SHA-256 of the certificate's DER encoding."""
    return cert.fingerprint(hashes.SHA256()).hex()


def fingerprint_bytes(data: bytes) -> str:
    """Lowercase hex SHA-256 of any bytes (sealed files, documents)."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize().hex()


def certificate_serial(cert: x509.Certificate) -> str:
    """The certificate's serial number in lowercase hexadecimal, without ``0x``."""
    return format(cert.serial_number, "x")


def certificate_subject_cn(cert: x509.Certificate) -> str | None:
    """The first commonName of the certificate's subject, or ``None`` if absent."""
    attributes = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not attributes:
        return None
    value = attributes[0].value
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


# ---------------------------------------------------------------------------
# R-12a verification
# ---------------------------------------------------------------------------


def _chain_verifies(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    store: Store,
    at: datetime,
) -> bool:
    verifier = (
        PolicyBuilder()
        .store(store)
        .time(at)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=ExtensionPolicy.permit_all(),
        )
        .build_client_verifier()
    )
    try:
        verifier.verify(leaf, intermediates)
    except VerificationError:
        return False
    return True


def _issuer_is_trusted(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    store: Store,
    at: datetime,
) -> bool:
    """Whether ``leaf`` was signed by an anchor, or by a CA chaining to one at ``at``."""
    for issuer in [*anchors, *intermediates]:
        try:
            leaf.verify_directly_issued_by(issuer)
        except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
            continue
        if issuer in anchors:
            return True
        others = [cert for cert in intermediates if cert != issuer]
        if _chain_verifies(issuer, others, store, at):
            return True
    return False


def verify_certificate(
    pem: str | bytes,
    anchors: Sequence[x509.Certificate],
    at: datetime,
) -> x509.Certificate:
    """Verify a client certificate for login (R-12a) and return its leaf.

    ``pem`` is the leaf, optionally followed by intermediate CA certificates.
    The leaf must chain through those intermediates to one of ``anchors`` and
    every certificate on the path must be valid at ``at``, an aware datetime.
    CA certificates are held to the Web PKI CA profile; the end-entity
    certificate's extensions are not constrained, so client certificates
    without subjectAltName are accepted.

    Raises ``CertificateRejected`` with reason:

    * ``'malformed'`` - the PEM holds no parseable certificate;
    * ``'untrusted'`` - no anchors are configured, or no valid path to an
      anchor exists;
    * ``'expired'`` / ``'not_yet_valid'`` - ``at`` is after / before the
      leaf's validity period and the leaf was issued by a trusted CA (an
      untrusted certificate is reported as ``'untrusted'`` whatever its
      dates; an expired intermediate or anchor also makes it ``'untrusted'``).

    Raises ``ValueError`` if ``at`` is naive.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("verify_certificate needs an aware datetime")
    at = at.astimezone(UTC)
    chain = load_certificate_chain(pem)
    leaf, intermediates = chain[0], chain[1:]
    if not anchors:
        raise CertificateRejected("untrusted", "no trust anchors configured")
    try:
        store = Store(list(anchors))
        if _chain_verifies(leaf, intermediates, store, at):
            return leaf
        not_before = leaf.not_valid_before_utc
        not_after = leaf.not_valid_after_utc
        if not_before <= at <= not_after:
            raise CertificateRejected("untrusted", "no valid path to a trust anchor")
        # The leaf is outside its validity period.  Say so only when it was
        # issued by a trusted CA, so that an untrusted certificate is never
        # described as merely expired.
        if not _issuer_is_trusted(leaf, intermediates, anchors, store, at):
            raise CertificateRejected("untrusted", "issuer does not chain to a trust anchor")
        raise CertificateRejected(
            "not_yet_valid" if at < not_before else "expired",
            f"valid from {not_before.isoformat()} to {not_after.isoformat()}",
        )
    except ValueError as exc:
        raise CertificateRejected("malformed", str(exc)) from exc


def _decode_signature(signature_b64: str) -> bytes:
    text = "".join(signature_b64.split())
    text = text.replace("-", "+").replace("_", "/").rstrip("=")
    text += "=" * (-len(text) % 4)
    return base64.b64decode(text, validate=True)


def verify_possession(cert: x509.Certificate, message: str, signature_b64: str) -> None:
    """Check the proof that the client holds the certificate's private key (R-12a).

    The signature is over ``message.encode('utf-8')`` with SHA-256: ECDSA
    (DER-encoded) for EC keys, RSA PKCS#1 v1.5 for RSA keys.  It may be
    standard or URL-safe base64, with or without padding.

    Raises ``CertificateRejected('bad_signature')`` on any failure - wrong
    key, wrong message, undecodable base64, unsupported key type - and never
    any other exception.
    """
    try:
        signature = _decode_signature(signature_b64)
        data = message.encode("utf-8")
        public_key = cert.public_key()
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise CertificateRejected("bad_signature", "unsupported key type")
    except CertificateRejected:
        raise
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError, AttributeError) as exc:
        raise CertificateRejected("bad_signature", type(exc).__name__) from exc


def sign_message(key_pem: bytes, message: str) -> str:
    """Client side of the R-12a proof: sign ``message`` with an unencrypted PEM key.

    Returns standard base64 of an ECDSA-SHA256 (DER) signature for EC keys
    or an RSA PKCS#1 v1.5 SHA-256 signature for RSA keys.  Raises
    ``ValueError`` for an unreadable key and ``TypeError`` for other key types
    or an encrypted key.
    """
    key = serialization.load_pem_private_key(key_pem, password=None)
    data = message.encode("utf-8")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise TypeError(f"unsupported key type {type(key).__name__}")
    return base64.b64encode(signature).decode("ascii")


# ---------------------------------------------------------------------------
# Development CA
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedPair:
    """Paths of a private key file and its certificate file."""

    key_path: Path
    cert_path: Path


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes, *, exclusive: bool) -> None:
    """Write ``data`` to ``path`` with mode 0o600, never exposing it more widely.

    With ``exclusive`` an existing file raises ``FileExistsError``; otherwise
    the file is replaced atomically.
    """
    if exclusive:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, data)
        finally:
            os.close(fd)
        return
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, data)
        finally:
            os.close(fd)
        Path(tmp_name).replace(path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _validity(
    valid_days: int, not_before: datetime | None, not_after: datetime | None
) -> tuple[datetime, datetime]:
    if valid_days <= 0:
        raise ValueError("valid_days must be positive")
    for value in (not_before, not_after):
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError("not_before / not_after must be aware datetimes")
    start = not_before.astimezone(UTC) if not_before is not None else datetime.now(UTC) - _BACKDATE
    end = not_after.astimezone(UTC) if not_after is not None else start + timedelta(days=valid_days)
    if end <= start:
        raise ValueError("not_after must be later than not_before")
    return start, end


def _key_usage(*, digital_signature: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def init_ca(
    directory: Path,
    *,
    common_name: str = "wangua development CA",
    valid_days: int = 3650,
) -> IssuedPair:
    """Create a development CA (ECDSA P-256) in ``directory``.

    Writes ``ca.key.pem`` (unencrypted PKCS#8, mode 0o600) and ``ca.crt.pem``,
    a self-signed CA certificate (BasicConstraints ca=True, path_length=0 and
    KeyUsage keyCertSign+cRLSign, both critical; SubjectKeyIdentifier) valid
    from one hour ago for ``valid_days`` days.  Its certificate is what a
    deployment lists as an R-12a trust anchor.

    Raises ``FileExistsError`` rather than overwrite an existing ``ca.key.pem``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    key_path = directory / CA_KEY_FILE
    cert_path = directory / CA_CERT_FILE
    if key_path.exists():
        raise FileExistsError(f"refusing to overwrite existing CA key {key_path}")
    start, end = _validity(valid_days, None, None)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _key_pem(key), exclusive=True)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return IssuedPair(key_path=key_path, cert_path=cert_path)


def issue_certificate(
    ca_directory: Path,
    *,
    common_name: str,
    out_prefix: Path,
    valid_days: int = 730,
    organization: str | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> IssuedPair:
    """Issue an ECDSA P-256 client certificate from the CA in ``ca_directory``.

    Writes ``<out_prefix>.key.pem`` (unencrypted PKCS#8, mode 0o600) and
    ``<out_prefix>.crt.pem``.  The certificate has subject ``CN=common_name``
    (UTF-8; Chinese names work) plus ``O=organization`` if given, a random
    serial, BasicConstraints ca=False and KeyUsage digitalSignature (both
    critical), ExtendedKeyUsage clientAuth, AuthorityKeyIdentifier and
    SubjectKeyIdentifier - suitable for an R-12a login.

    Validity runs from one hour ago for ``valid_days`` days; ``not_before`` /
    ``not_after`` (aware datetimes) override either end, e.g. to produce
    expired or not-yet-valid certificates in tests.  Existing output files are
    replaced.
    """
    ca_directory = Path(ca_directory)
    ca_key = serialization.load_pem_private_key(
        (ca_directory / CA_KEY_FILE).read_bytes(), password=None
    )
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise TypeError(f"unsupported CA key type {type(ca_key).__name__}")
    ca_cert = load_certificate((ca_directory / CA_CERT_FILE).read_bytes())
    start, end = _validity(valid_days, not_before, not_after)

    try:
        ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
    except x509.ExtensionNotFound:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())

    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(aki, critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    out_prefix = Path(out_prefix)
    out_prefix.parent.mkdir(parents=True, exist_ok=True)
    key_path = out_prefix.with_name(out_prefix.name + ".key.pem")
    cert_path = out_prefix.with_name(out_prefix.name + ".crt.pem")
    _write_private(key_path, _key_pem(key), exclusive=False)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return IssuedPair(key_path=key_path, cert_path=cert_path)
