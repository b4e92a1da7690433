"""Sealing a reserve price (R-11): encrypted to the system, signed by a supervisor.

The system's sealing key pair lives in files (never in the database): RSA 3072,
with a self-signed certificate that `GET /api/v1/reserve-key` publishes. A
supervisor seals with `wangua reserve seal`: the price is encrypted with
RSA-OAEP (SHA-256) to that certificate, and the ciphertext is signed with the
supervisor's own certificate key. Only the decision opens it. The system seals its own
secrets the same way (a cap lottery's seed, R-CAP, until its draw).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from wangua.identity.certificates import sign_message
from wangua.kit.money import format_fen, parse_amount
from wangua.kit.times import wall_now

FORMAT = "wangua-sealed-reserve/1"
KEY_FILE = "reserve-sealing.key.pem"
CERT_FILE = "reserve-sealing.crt.pem"
T = TypeVar("T")
_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


class SealInvalid(Exception):
    """The sealed file is not well formed, or does not open with the system key."""


@dataclass(frozen=True)
class SealedReserve:
    lot_code: str
    ciphertext: bytes
    signer_certificate: str
    signature: str

    def signed_text(self) -> str:
        """What the supervisor signs: the format, the lot and the ciphertext."""
        return signed_text(self.lot_code, self.ciphertext)

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT,
                "lot_code": self.lot_code,
                "ciphertext": base64.b64encode(self.ciphertext).decode(),
                "signer_certificate": self.signer_certificate,
                "signature": self.signature,
            },
            ensure_ascii=False,
            indent=2,
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> SealedReserve:
        try:
            doc = json.loads(data)
            if doc["format"] != FORMAT:
                raise SealInvalid("unknown format")
            return cls(
                lot_code=str(doc["lot_code"]),
                ciphertext=base64.b64decode(doc["ciphertext"], validate=True),
                signer_certificate=str(doc["signer_certificate"]),
                signature=str(doc["signature"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as error:
            raise SealInvalid("malformed sealed reserve") from error


def signed_text(lot_code: str, ciphertext: bytes) -> str:
    return f"{FORMAT}\n{lot_code}\n{base64.b64encode(ciphertext).decode()}"


def seal(
    lot_code: str,
    price: str,
    system_certificate_pem: bytes,
    signer_key_pem: bytes,
    signer_certificate_pem: bytes,
) -> SealedReserve:
    """The supervisor's side: encrypt the price to the system and sign the result."""
    price_fen = parse_amount(price, field="price")
    public_key = x509.load_pem_x509_certificate(system_certificate_pem).public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SealInvalid("the sealing certificate must carry an RSA key")
    payload = json.dumps(
        {"lot_code": lot_code, "price": format_fen(price_fen), "salt": secrets.token_hex(16)}
    ).encode()
    ciphertext = public_key.encrypt(payload, _OAEP)
    return SealedReserve(
        lot_code=lot_code,
        ciphertext=ciphertext,
        signer_certificate=signer_certificate_pem.decode(),
        signature=sign_message(signer_key_pem, signed_text(lot_code, ciphertext)),
    )


class SealingKey:
    """The system's key pair in `directory`, created on first use (file mode 0600)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._key: rsa.RSAPrivateKey | None = None

    @property
    def certificate_path(self) -> Path:
        return self.directory / CERT_FILE

    def ensure(self) -> None:
        key_path = self.directory / KEY_FILE
        if key_path.exists() and self.certificate_path.exists():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, "wangua 底价密封证书"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "wangua"),
            ]
        )
        now = wall_now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=True,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        self.certificate_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def certificate_pem(self) -> str:
        self.ensure()
        return self.certificate_path.read_text()

    def open(self, ciphertext: bytes, lot_code: str) -> int:
        """Decrypt a sealed price for `lot_code`, as integer fen."""
        return self._opened(ciphertext, lot_code, lambda p: parse_amount(p["price"], field="price"))

    def open_all(self, sealed: Sequence[tuple[bytes, str]]) -> list[int]:
        """`open` each (ciphertext, lot code), in order, on as many threads as the machine
        has cores: an RSA-3072 decryption takes milliseconds of CPU, lets go of the
        interpreter meanwhile, and a hundred lots decided together open a hundred."""
        if len(sealed) < 2:
            return [self.open(*one) for one in sealed]
        self._private_key()  # loaded once, before the threads use it
        threads = min(len(sealed), os.cpu_count() or 1)
        with ThreadPoolExecutor(threads, thread_name_prefix="wangua-reserve") as pool:
            return list(pool.map(lambda one: self.open(*one), sealed))

    def seal_secret(self, secret: bytes, lot_code: str) -> bytes:
        """Encrypt a secret of the lot to the system itself (a cap lottery's seed, R-CAP):
        like a reserve price, only the system's private key opens it."""
        payload = json.dumps({"lot_code": lot_code, "secret": secret.hex()}).encode()
        return self._private_key().public_key().encrypt(payload, _OAEP)

    def open_secret(self, ciphertext: bytes, lot_code: str) -> bytes:
        return self._opened(ciphertext, lot_code, lambda p: bytes.fromhex(p["secret"]))

    def _opened(self, ciphertext: bytes, lot_code: str, read: Callable[[Any], T]) -> T:
        try:
            payload = json.loads(self._private_key().decrypt(ciphertext, _OAEP))
            if payload["lot_code"] != lot_code:
                raise SealInvalid("sealed for another lot")
            return read(payload)
        except SealInvalid:
            raise
        except Exception as error:  # any failure to open is one answer: it does not open
            raise SealInvalid("does not open with the system key") from error

    def _private_key(self) -> rsa.RSAPrivateKey:
        if self._key is None:
            self.ensure()
            key = serialization.load_pem_private_key((self.directory / KEY_FILE).read_bytes(), None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise SealInvalid("the sealing key must be RSA")
            self._key = key
        return self._key
