"""Client certificates and proof of possession (R-12a), and the development CA."""

from __future__ import annotations

import base64
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from wangua.identity.certificates import (
    CertificateRejected,
    IssuedPair,
    certificate_serial,
    certificate_subject_cn,
    fingerprint,
    init_ca,
    issue_certificate,
    load_certificate,
    load_certificate_chain,
    load_trust_anchors,
    sign_message,
    verify_certificate,
    verify_possession,
)

NONCE = "wangua-login-nonce-3f9a1c"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _read_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _ca_key(ca_dir: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key((ca_dir / "ca.key.pem").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def _make_ca(
    cn: str,
    *,
    path_length: int | None,
    issuer_cert: x509.Certificate | None = None,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A CA certificate, self-signed unless an issuer is given."""
    key = ec.generate_private_key(ec.SECP256R1())
    signer = issuer_key or key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer_cert.subject if issuer_cert else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - timedelta(days=1))
        .not_valid_after(_now() + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_CA_KEY_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    )
    return builder.sign(signer, hashes.SHA256()), key


def _make_leaf(
    cn: str,
    issuer_cert: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey,
) -> x509.Certificate:
    """A bare client certificate: no SAN, no EKU, only AKI."""
    return (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - timedelta(hours=1))
        .not_valid_after(_now() + timedelta(days=30))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


@pytest.fixture
def ca(tmp_path: Path) -> IssuedPair:
    return init_ca(tmp_path / "ca")


@pytest.fixture
def anchors(ca: IssuedPair) -> list[x509.Certificate]:
    return load_trust_anchors([ca.cert_path])


def _issue(
    ca: IssuedPair,
    name: str = "bidder",
    *,
    common_name: str | None = None,
    organization: str | None = None,
    valid_days: int = 730,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> IssuedPair:
    return issue_certificate(
        ca.cert_path.parent,
        common_name=common_name or name,
        out_prefix=ca.cert_path.parent.parent / "out" / name,
        valid_days=valid_days,
        organization=organization,
        not_before=not_before,
        not_after=not_after,
    )


def _rejection(pem: str | bytes, anchors: list[x509.Certificate], at: datetime) -> str:
    with pytest.raises(CertificateRejected) as excinfo:
        verify_certificate(pem, anchors, at)
    return excinfo.value.reason


# ---------------------------------------------------------------------------
# R-12a: the certificate chains to a trusted CA and is valid at login time
# ---------------------------------------------------------------------------


def test_r12a_certificate_from_trusted_ca_verifies(
    ca: IssuedPair, anchors: list[x509.Certificate]
) -> None:
    pair = _issue(ca)
    pem = pair.cert_path.read_text()
    leaf = verify_certificate(pem, anchors, _now())
    assert fingerprint(leaf) == fingerprint(load_certificate(pem))
    assert certificate_subject_cn(leaf) == "bidder"
    # bytes input and a non-UTC aware time are accepted as well
    beijing = _now().astimezone(timezone(timedelta(hours=8)))
    assert verify_certificate(pem.encode(), anchors, beijing) == leaf


def test_r12a_untrusted_ca_is_rejected(tmp_path: Path, anchors: list[x509.Certificate]) -> None:
    other_ca = init_ca(tmp_path / "other", common_name="wangua development CA")
    pair = _issue(other_ca)
    assert _rejection(pair.cert_path.read_bytes(), anchors, _now()) == "untrusted"


def test_r12a_no_anchors_configured_is_untrusted(ca: IssuedPair) -> None:
    pair = _issue(ca)
    assert _rejection(pair.cert_path.read_bytes(), [], _now()) == "untrusted"


def test_r12a_self_signed_leaf_is_untrusted(anchors: list[x509.Certificate]) -> None:
    cert, _ = _make_ca("self", path_length=None)
    assert _rejection(_pem(cert), anchors, _now()) == "untrusted"


def test_r12a_expired_certificate_is_rejected(
    ca: IssuedPair, anchors: list[x509.Certificate]
) -> None:
    pair = _issue(ca, not_before=_now() - timedelta(days=10), not_after=_now() - timedelta(days=1))
    assert _rejection(pair.cert_path.read_bytes(), anchors, _now()) == "expired"


def test_r12a_not_yet_valid_certificate_is_rejected(
    ca: IssuedPair, anchors: list[x509.Certificate]
) -> None:
    pair = _issue(ca, not_before=_now() + timedelta(days=1))
    assert _rejection(pair.cert_path.read_bytes(), anchors, _now()) == "not_yet_valid"


def test_r12a_validity_is_judged_at_the_given_time(
    ca: IssuedPair, anchors: list[x509.Certificate]
) -> None:
    pem = _issue(ca, valid_days=10).cert_path.read_bytes()
    assert verify_certificate(pem, anchors, _now() + timedelta(days=9))
    assert _rejection(pem, anchors, _now() + timedelta(days=11)) == "expired"
    assert _rejection(pem, anchors, _now() - timedelta(hours=2)) == "not_yet_valid"


def test_r12a_expired_certificate_from_untrusted_ca_is_untrusted(
    tmp_path: Path, anchors: list[x509.Certificate]
) -> None:
    other_ca = init_ca(tmp_path / "other")
    pair = _issue(
        other_ca, not_before=_now() - timedelta(days=10), not_after=_now() - timedelta(days=1)
    )
    assert _rejection(pair.cert_path.read_bytes(), anchors, _now()) == "untrusted"


def test_r12a_naive_time_is_refused(ca: IssuedPair, anchors: list[x509.Certificate]) -> None:
    pem = _issue(ca).cert_path.read_bytes()
    with pytest.raises(ValueError, match="aware"):
        verify_certificate(pem, anchors, _now().replace(tzinfo=None))


def test_r12a_intermediate_in_bundle_chains_to_anchor(tmp_path: Path) -> None:
    root, root_key = _make_ca("Root CA", path_length=1)
    inter, inter_key = _make_ca("Issuing CA", path_length=0, issuer_cert=root, issuer_key=root_key)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _make_leaf("竞买人甲", inter, inter_key, leaf_key.public_key())
    anchor_file = tmp_path / "root.pem"
    anchor_file.write_bytes(_pem(root))
    anchors = load_trust_anchors([anchor_file])

    bundle = (_pem(leaf) + _pem(inter)).decode()
    assert verify_certificate(bundle, anchors, _now()) == leaf
    assert load_certificate(bundle) == leaf
    assert load_certificate_chain(bundle) == [leaf, inter]
    # without the intermediate there is no path to the anchor
    assert _rejection(_pem(leaf), anchors, _now()) == "untrusted"


def test_r12a_intermediate_under_path_length_zero_ca_is_rejected(
    ca: IssuedPair, anchors: list[x509.Certificate]
) -> None:
    dev_ca = _read_cert(ca.cert_path)
    inter, inter_key = _make_ca(
        "Sneaky CA", path_length=0, issuer_cert=dev_ca, issuer_key=_ca_key(ca.cert_path.parent)
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _make_leaf("mallory", inter, inter_key, leaf_key.public_key())
    assert _rejection(_pem(leaf) + _pem(inter), anchors, _now()) == "untrusted"


def test_r12a_chinese_common_name_roundtrips(
    ca: IssuedPair, anchors: list[x509.Certificate]
) -> None:
    name = "咸宁城发置业有限公司"
    pair = _issue(ca, "xianning", common_name=name, organization="咸宁城发集团")
    leaf = verify_certificate(pair.cert_path.read_text(encoding="utf-8"), anchors, _now())
    assert certificate_subject_cn(leaf) == name
    org = leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert [a.value for a in org] == ["咸宁城发集团"]
    # encoded as UTF8String, not BMPString / UniversalString
    assert name.encode("utf-8") in leaf.public_bytes(serialization.Encoding.DER)


def test_r12a_garbage_pem_is_malformed(anchors: list[x509.Certificate]) -> None:
    garbage = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
    for bad in ("", "hello", garbage, b"\x00\xff\x10"):
        with pytest.raises(CertificateRejected) as excinfo:
            load_certificate(bad)
        assert excinfo.value.reason == "malformed"
        assert _rejection(bad, anchors, _now()) == "malformed"
    with pytest.raises(CertificateRejected) as excinfo:
        load_certificate_chain("no pem here")
    assert excinfo.value.reason == "malformed"


# ---------------------------------------------------------------------------
# R-12a: proof of possession of the private key
# ---------------------------------------------------------------------------


def test_r12a_possession_proof_verifies(ca: IssuedPair) -> None:
    pair = _issue(ca)
    cert = _read_cert(pair.cert_path)
    signature = sign_message(pair.key_path.read_bytes(), NONCE)
    raw = base64.b64decode(signature, validate=True)
    verify_possession(cert, NONCE, signature)
    # URL-safe alphabet, with or without padding, is accepted too
    verify_possession(cert, NONCE, base64.urlsafe_b64encode(raw).decode())
    verify_possession(cert, NONCE, base64.urlsafe_b64encode(raw).decode().rstrip("="))
    verify_possession(cert, NONCE, signature.rstrip("="))


def test_r12a_non_ascii_nonce_is_signed_as_utf8(ca: IssuedPair) -> None:
    pair = _issue(ca)
    cert = _read_cert(pair.cert_path)
    key = serialization.load_pem_private_key(pair.key_path.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    message = "登录挑战-42"
    signature = key.sign(message.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    verify_possession(cert, message, base64.b64encode(signature).decode())


def test_r12a_signature_by_other_key_is_rejected(ca: IssuedPair) -> None:
    alice = _issue(ca, "alice")
    mallory = _issue(ca, "mallory")
    forged = sign_message(mallory.key_path.read_bytes(), NONCE)
    with pytest.raises(CertificateRejected) as excinfo:
        verify_possession(_read_cert(alice.cert_path), NONCE, forged)
    assert excinfo.value.reason == "bad_signature"


def test_r12a_signature_over_other_message_is_rejected(ca: IssuedPair) -> None:
    pair = _issue(ca)
    signature = sign_message(pair.key_path.read_bytes(), "an old nonce")
    with pytest.raises(CertificateRejected) as excinfo:
        verify_possession(_read_cert(pair.cert_path), NONCE, signature)
    assert excinfo.value.reason == "bad_signature"


@pytest.mark.parametrize(
    "signature",
    ["", "!!!not base64!!!", "A", "ÿÿÿÿ", "AAAA", base64.b64encode(b"\x30\x00").decode()],
)
def test_r12a_garbage_base64_signature_is_bad_signature(ca: IssuedPair, signature: str) -> None:
    cert = _read_cert(_issue(ca).cert_path)
    with pytest.raises(CertificateRejected) as excinfo:
        verify_possession(cert, NONCE, signature)
    assert excinfo.value.reason == "bad_signature"


def test_r12a_rsa_key_signature_verifies(ca: IssuedPair, anchors: list[x509.Certificate]) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _make_leaf(
        "RSA bidder", _read_cert(ca.cert_path), _ca_key(ca.cert_path.parent), rsa_key.public_key()
    )
    leaf = verify_certificate(_pem(cert), anchors, _now())
    key_pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signature = sign_message(key_pem, NONCE)
    # sign_message produced PKCS#1 v1.5 / SHA-256
    rsa_key.public_key().verify(
        base64.b64decode(signature), NONCE.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    verify_possession(leaf, NONCE, signature)
    with pytest.raises(CertificateRejected) as excinfo:
        verify_possession(leaf, NONCE + "x", signature)
    assert excinfo.value.reason == "bad_signature"


def test_r12a_unsupported_key_type_is_bad_signature(ca: IssuedPair) -> None:
    ed_key = ed25519.Ed25519PrivateKey.generate()
    cert = _make_leaf(
        "ed25519", _read_cert(ca.cert_path), _ca_key(ca.cert_path.parent), ed_key.public_key()
    )
    signature = base64.b64encode(ed_key.sign(NONCE.encode())).decode()
    with pytest.raises(CertificateRejected) as excinfo:
        verify_possession(cert, NONCE, signature)
    assert excinfo.value.reason == "bad_signature"


# ---------------------------------------------------------------------------
# Development CA
# ---------------------------------------------------------------------------


def test_ca_init_refuses_to_overwrite(tmp_path: Path) -> None:
    first = init_ca(tmp_path / "ca")
    key_before = first.key_path.read_bytes()
    with pytest.raises(FileExistsError):
        init_ca(tmp_path / "ca")
    assert first.key_path.read_bytes() == key_before


def test_key_files_are_private(ca: IssuedPair) -> None:
    pair = _issue(ca)
    assert stat.S_IMODE(ca.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(pair.key_path.stat().st_mode) == 0o600
    # re-issuing to the same prefix keeps the key private
    again = _issue(ca)
    assert again.key_path == pair.key_path
    assert stat.S_IMODE(again.key_path.stat().st_mode) == 0o600


def test_ca_certificate_profile(ca: IssuedPair) -> None:
    assert ca.key_path == ca.cert_path.parent / "ca.key.pem"
    assert ca.cert_path.name == "ca.crt.pem"
    assert b"BEGIN PRIVATE KEY" in ca.key_path.read_bytes()  # PKCS#8, unencrypted
    cert = _read_cert(ca.cert_path)
    key = _ca_key(ca.cert_path.parent)
    assert isinstance(key.curve, ec.SECP256R1)
    assert cert.subject == cert.issuer
    assert certificate_subject_cn(cert) == "wangua development CA"
    cert.verify_directly_issued_by(cert)
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca and basic.value.path_length == 0
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    start = cert.not_valid_before_utc
    assert timedelta(minutes=59) <= _now() - start <= timedelta(minutes=61)
    assert cert.not_valid_after_utc - start == timedelta(days=3650)


def test_issued_certificate_profile(ca: IssuedPair) -> None:
    pair = _issue(ca, "carol", organization="Carol Ltd")
    assert pair.key_path.name == "carol.key.pem"
    assert pair.cert_path.name == "carol.crt.pem"
    cert = _read_cert(pair.cert_path)
    ca_cert = _read_cert(ca.cert_path)
    cert.verify_directly_issued_by(ca_cert)
    key = serialization.load_pem_private_key(pair.key_path.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(key.curve, ec.SECP256R1)
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()
    ext = cert.extensions
    basic = ext.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and not basic.value.ca
    usage = ext.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    eku = ext.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    ski = ext.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    org = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert [a.value for a in org] == ["Carol Ltd"]
    assert timedelta(minutes=59) <= _now() - cert.not_valid_before_utc <= timedelta(minutes=61)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=730)
    # serials are random
    other = _read_cert(_issue(ca, "dave").cert_path)
    assert other.serial_number != cert.serial_number


def test_issue_rejects_inverted_validity(ca: IssuedPair) -> None:
    with pytest.raises(ValueError):
        _issue(ca, not_before=_now(), not_after=_now() - timedelta(days=1))


# ---------------------------------------------------------------------------
# helpers on certificates
# ---------------------------------------------------------------------------


def test_fingerprint_is_lowercase_sha256_of_der(ca: IssuedPair) -> None:
    cert = _read_cert(_issue(ca).cert_path)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(cert.public_bytes(serialization.Encoding.DER))
    expected = digest.finalize().hex()
    assert fingerprint(cert) == expected
    assert len(expected) == 64 and expected == expected.lower()


def test_certificate_serial_is_hex(ca: IssuedPair) -> None:
    cert = _read_cert(_issue(ca).cert_path)
    assert int(certificate_serial(cert), 16) == cert.serial_number
    assert certificate_serial(cert) == certificate_serial(cert).lower()


def test_subject_without_cn_gives_none(ca: IssuedPair) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _read_cert(ca.cert_path)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "No CN Ltd")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now())
        .not_valid_after(_now() + timedelta(days=1))
        .sign(_ca_key(ca.cert_path.parent), hashes.SHA256())
    )
    assert certificate_subject_cn(cert) is None


def test_trust_anchor_file_may_hold_several_certificates(tmp_path: Path, ca: IssuedPair) -> None:
    other, _ = _make_ca("Other Root", path_length=None)
    bundle = tmp_path / "anchors.pem"
    bundle.write_bytes(ca.cert_path.read_bytes() + _pem(other))
    anchors = load_trust_anchors([bundle, str(ca.cert_path)])
    assert [certificate_subject_cn(a) for a in anchors] == [
        "wangua development CA",
        "Other Root",
        "wangua development CA",
    ]
    # a certificate from the dev CA verifies against the bundle
    verify_certificate(_issue(ca).cert_path.read_bytes(), anchors, _now())
    broken = tmp_path / "broken.pem"
    broken.write_text("nothing here")
    with pytest.raises(CertificateRejected) as excinfo:
        load_trust_anchors([broken])
    assert excinfo.value.reason == "malformed"
