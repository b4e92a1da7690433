"""Which certificates the system trusts (R-12a, R-12b).

Trust anchors from WANGUA_TRUST_ANCHORS; certificate revocation lists that the
operator drops into the CRL folder (re-read whenever a file there changes, no
restart); key usage fit for signing in a client's name. The platform's own
revocations (a reported loss) live in the database and are checked by the
identity service.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from wangua.identity.certificates import CertificateRejected, load_trust_anchors, verify_certificate


class Trust:
    def __init__(self, anchor_paths: list[Path], crl_dir: Path) -> None:
        self.anchor_paths = anchor_paths
        self.crl_dir = crl_dir
        self._anchors: list[x509.Certificate] | None = None
        self._crls: list[x509.CertificateRevocationList] = []
        self._crl_stamp: tuple[tuple[str, float], ...] | None = None
        self._lock = threading.Lock()

    @property
    def anchors(self) -> list[x509.Certificate]:
        if self._anchors is None:
            self._anchors = load_trust_anchors(self.anchor_paths)
        return self._anchors

    def check(self, pem: str | bytes, at: datetime) -> x509.Certificate:
        """The leaf, if it chains to an anchor, is valid at `at`, may sign for its holder,
        and no trusted CRL revokes it; otherwise CertificateRejected."""
        leaf = verify_certificate(pem, self.anchors, at)
        self._check_usage(leaf)
        if self._revoked_by_crl(leaf):
            raise CertificateRejected("revoked", "listed in a certificate revocation list")
        return leaf

    @staticmethod
    def _check_usage(leaf: x509.Certificate) -> None:
        try:
            usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
            if not usage.digital_signature:
                raise CertificateRejected("wrong_usage", "key usage lacks digitalSignature")
        except x509.ExtensionNotFound:
            pass
        try:
            purposes = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            if not {
                ExtendedKeyUsageOID.CLIENT_AUTH,
                ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
            } & set(purposes):
                raise CertificateRejected("wrong_usage", "extended key usage lacks clientAuth")
        except x509.ExtensionNotFound:
            pass

    def _revoked_by_crl(self, leaf: x509.Certificate) -> bool:
        for crl in self._current_crls():
            if crl.issuer == leaf.issuer and crl.get_revoked_certificate_by_serial_number(
                leaf.serial_number
            ):
                return True
        return False

    def _current_crls(self) -> list[x509.CertificateRevocationList]:
        """The folder's CRLs that a trust anchor signed, re-read when the folder changes."""
        files = sorted(self.crl_dir.glob("*")) if self.crl_dir.is_dir() else []
        stamp = tuple((str(f), f.stat().st_mtime) for f in files if f.is_file())
        with self._lock:
            if stamp != self._crl_stamp:
                self._crls = [
                    crl
                    for f in files
                    if f.is_file()
                    for crl in _load_crls(f.read_bytes())
                    if self._signed_by_anchor(crl)
                ]
                self._crl_stamp = stamp
            return self._crls

    def _signed_by_anchor(self, crl: x509.CertificateRevocationList) -> bool:
        for anchor in self.anchors:
            if anchor.subject == crl.issuer:
                try:
                    if crl.is_signature_valid(anchor.public_key()):  # type: ignore[arg-type]
                        return True
                except (TypeError, ValueError):
                    continue
        return False


def _load_crls(data: bytes) -> list[x509.CertificateRevocationList]:
    try:
        if b"-----BEGIN X509 CRL-----" in data:
            return [x509.load_pem_x509_crl(block) for block in _pem_blocks(data)]
        return [x509.load_der_x509_crl(data)]
    except ValueError:
        return []


def _pem_blocks(data: bytes) -> list[bytes]:
    end = b"-----END X509 CRL-----"
    return [
        chunk[chunk.index(b"-----BEGIN") :] + end
        for chunk in data.split(end)
        if b"-----BEGIN" in chunk
    ]
