"""The command line (API.md, Command line): ca, user add, db upgrade, audit verify."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509

from wangua.cli import main


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "WANGUA_DATA_DIR": str(tmp_path / "data"),
        "WANGUA_TRUST_ANCHORS": str(tmp_path / "ca" / "ca.crt.pem"),
        "WANGUA_ARGON2_MEMORY_KIB": "8192",
        "WANGUA_ARGON2_TIME_COST": "1",
    }


def run(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_r12a_ca_init_and_issue_make_an_ecdsa_p256_development_ca(
    tmp_path: Path, env: dict[str, str]
) -> None:
    assert run(["ca", "init", str(tmp_path / "ca")], env)[0] == 0
    code, out = run(
        [
            "ca",
            "issue",
            str(tmp_path / "ca"),
            "--cn",
            "咸宁城发置业有限公司",
            "--out",
            str(tmp_path / "company"),
        ],
        env,
    )
    assert code == 0, out
    cert = x509.load_pem_x509_certificate((tmp_path / "company.crt.pem").read_bytes())
    assert (
        cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
        == "咸宁城发置业有限公司"
    )
    assert cert.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]
    assert run(["ca", "init", str(tmp_path / "ca")], env)[0] != 0  # never overwrites a CA key


def test_user_add_binds_the_certificate_and_defaults_staff_to_the_city_bureau(
    tmp_path: Path, env: dict[str, str]
) -> None:
    run(["ca", "init", str(tmp_path / "ca")], env)
    run(
        ["ca", "issue", str(tmp_path / "ca"), "--cn", "admin", "--out", str(tmp_path / "admin")],
        env,
    )
    run(
        ["ca", "issue", str(tmp_path / "ca"), "--cn", "clerk", "--out", str(tmp_path / "clerk")],
        env,
    )
    code, out = run(
        [
            "user",
            "add",
            "--username",
            "admin",
            "--password",
            "admin password",
            "--role",
            "admin",
            "--cert",
            str(tmp_path / "admin.crt.pem"),
        ],
        env,
    )
    assert code == 0, out
    code, out = run(
        [
            "user",
            "add",
            "--username",
            "clerk",
            "--password",
            "clerk password",
            "--role",
            "staff",
            "--cert",
            str(tmp_path / "clerk.crt.pem"),
        ],
        env,
    )
    assert code == 0 and "grantor=xianning-city" in out, out
    code, out = run(
        [
            "user",
            "add",
            "--username",
            "clerk2",
            "--password",
            "clerk password",
            "--role",
            "staff",
            "--cert",
            str(tmp_path / "clerk.crt.pem"),
        ],
        env,
    )
    assert code != 0 and "CERTIFICATE_IN_USE" in out
    code, out = run(["audit", "verify"], env)
    assert code == 0 and out.strip() == "ok 2 records"


def test_user_add_refuses_a_certificate_from_an_untrusted_ca(
    tmp_path: Path, env: dict[str, str]
) -> None:
    run(["ca", "init", str(tmp_path / "ca")], env)
    run(["ca", "init", str(tmp_path / "rogue")], env)
    run(["ca", "issue", str(tmp_path / "rogue"), "--cn", "x", "--out", str(tmp_path / "x")], env)
    code, out = run(
        [
            "user",
            "add",
            "--username",
            "x",
            "--password",
            "long password",
            "--role",
            "admin",
            "--cert",
            str(tmp_path / "x.crt.pem"),
        ],
        env,
    )
    assert code != 0 and "CERTIFICATE_INVALID" in out


def test_db_upgrade_and_the_installed_entry_point(tmp_path: Path, env: dict[str, str]) -> None:
    wangua = Path(sys.executable).parent / "wangua"
    done = subprocess.run(
        [str(wangua), "db", "upgrade"],
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "wangua.sqlite3").exists()
