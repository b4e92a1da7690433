"""R-35: HTTPS only with TLS 1.2+, modern suites, HSTS; client certificates from USB keys
(R-12a) log in over the handshake; a certificate from an untrusted CA is refused."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.harness import free_port
from tests.identity.certificates_for_tests import signed_by_dev_ca
from wangua.identity.certificates import init_ca, issue_certificate

WANGUA = str(Path(sys.executable).parent / "wangua")


def server_certificate(ca_dir: Path, out: Path) -> tuple[Path, Path]:
    return signed_by_dev_ca(
        ca_dir,
        "127.0.0.1",
        [
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
        ],
        out,
    )


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    base = tmp_path_factory.mktemp("tls")
    ca_dir = base / "ca"
    init_ca(ca_dir)
    key, cert = server_certificate(ca_dir, base)
    bidder = issue_certificate(
        ca_dir, common_name="咸宁城发置业有限公司", out_prefix=base / "bidder"
    )
    env = {
        **os.environ,
        "WANGUA_DATA_DIR": str(base),
        "WANGUA_CLOCK": "simulated",
        "WANGUA_TRUST_ANCHORS": str(ca_dir / "ca.crt.pem"),
        "WANGUA_ARGON2_MEMORY_KIB": "8192",
    }
    subprocess.run(
        [
            WANGUA,
            "user",
            "add",
            "--username",
            "chengfa",
            "--password",
            "bidder password",
            "--role",
            "bidder",
            "--cert",
            str(bidder.cert_path),
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = free_port()
    log = (base / "server.log").open("w")
    server = subprocess.Popen(
        [
            WANGUA,
            "serve",
            "--port",
            str(port),
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
            "--tls-client-ca",
            str(ca_dir / "ca.crt.pem"),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (base / "server.log").read_text()
                time.sleep(0.2)
        yield {"port": port, "ca": ca_dir / "ca.crt.pem", "bidder": bidder, "base": base}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
        log.close()


def context(
    server: dict[str, object],
    *,
    minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
    maximum: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(server["ca"]))
    ctx.minimum_version, ctx.maximum_version = minimum, maximum
    return ctx


def handshake(server: dict[str, object], ctx: ssl.SSLContext) -> str:
    with (
        socket.create_connection(("127.0.0.1", int(str(server["port"]))), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        return str(tls.version())


def test_r35_tls_10_and_11_are_refused(tls_server: dict[str, object]) -> None:
    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        ctx = context(tls_server, minimum=version, maximum=version)
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        with pytest.raises((ssl.SSLError, ConnectionError)):
            handshake(tls_server, ctx)


def test_r35_tls_12_and_13_succeed(tls_server: dict[str, object]) -> None:
    assert (
        handshake(
            tls_server,
            context(tls_server, minimum=ssl.TLSVersion.TLSv1_2, maximum=ssl.TLSVersion.TLSv1_2),
        )
        == "TLSv1.2"
    )
    assert handshake(tls_server, context(tls_server, minimum=ssl.TLSVersion.TLSv1_3)) == "TLSv1.3"


def test_r35_https_answers_carry_hsts(tls_server: dict[str, object]) -> None:
    url = f"https://127.0.0.1:{tls_server['port']}/healthz"
    response = httpx.get(url, verify=context(tls_server))
    assert response.status_code == 200
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_r12a_the_usb_key_certificate_logs_in_through_the_tls_handshake(
    tls_server: dict[str, object],
) -> None:
    bidder = tls_server["bidder"]
    ctx = context(tls_server)
    ctx.load_cert_chain(str(bidder.cert_path), str(bidder.key_path))  # type: ignore[attr-defined]
    url = f"https://127.0.0.1:{tls_server['port']}/api/v1/auth/login"
    with httpx.Client(verify=ctx) as client:
        response = client.post(url, json={"username": "chengfa", "password": "bidder password"})
        assert response.status_code == 200, response.text
        wrong = client.post(url, json={"username": "chengfa", "password": "wrong"})
        assert wrong.status_code == 401
    without = httpx.post(
        url, json={"username": "chengfa", "password": "bidder password"}, verify=context(tls_server)
    )
    assert without.status_code == 401 and without.json()["code"] == "BAD_CREDENTIALS"


def test_r35_a_client_certificate_from_an_untrusted_ca_is_refused(
    tls_server: dict[str, object],
) -> None:
    rogue_dir = Path(str(tls_server["base"])) / "rogue"
    init_ca(rogue_dir)
    rogue = issue_certificate(rogue_dir, common_name="冒名公司", out_prefix=rogue_dir / "leaf")
    ctx = context(tls_server)
    ctx.load_cert_chain(str(rogue.cert_path), str(rogue.key_path))
    url = f"https://127.0.0.1:{tls_server['port']}/healthz"
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.get(url, verify=ctx)
