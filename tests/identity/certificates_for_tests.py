"""Certificates the development CA would not issue: made here, signed with its key."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from wangua.kit.times import wall_now


def signed_by_dev_ca(
    ca_dir: Path, common_name: str, extensions: list[x509.ExtensionType], out_dir: Path
) -> tuple[Path, Path]:
    """An ECDSA P-256 key and a 30-day certificate with `extensions`, issued by the CA in
    `ca_dir`; returns the key and certificate paths."""
    ca_key = serialization.load_pem_private_key((ca_dir / "ca.key.pem").read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate((ca_dir / "ca.crt.pem").read_bytes())
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = wall_now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    stem = out_dir / uuid.uuid4().hex
    key_path, cert_path = stem.with_suffix(".key.pem"), stem.with_suffix(".crt.pem")
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path
