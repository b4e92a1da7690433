"""The command line (API.md, Command line)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from wangua.config import Settings


@click.group()
@click.version_option(package_name="wangua")
def main() -> None:
    """wangua 网上挂牌出让系统."""


def _settings() -> Settings:
    return Settings()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False))
@click.option("--tls-client-ca", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="worker processes (PostgreSQL only; TLS then terminates at nginx)",
)
def serve(
    host: str,
    port: int,
    tls_cert: str | None,
    tls_key: str | None,
    tls_client_ca: str | None,
    workers: int,
) -> None:
    """Serve the web pages and the API (settings from WANGUA_* variables)."""
    from wangua.db import normalise_url
    from wangua.serving import migrate, run, run_workers

    settings = _settings()
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if workers > 1:
        if tls_cert:
            raise click.UsageError("--workers > 1 serves plain HTTP behind nginx; drop --tls-*")
        if normalise_url(settings.resolved_database_url).get_backend_name() != "postgresql":
            raise click.UsageError("--workers > 1 needs PostgreSQL (WANGUA_DATABASE_URL)")
        if settings.timer_grace_ms == 0:
            click.echo(
                "提示:多个进程时请设置 WANGUA_TIMER_GRACE_MS(如 2000),使截止前送达其他进程的"
                "出价在决定结果前得到判定(见 docs/deployment.md)",
                err=True,
            )
        migrate(settings)
        run_workers(host=host, port=port, workers=workers)
        return
    migrate(settings)
    run(
        settings,
        host=host,
        port=port,
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_client_ca=tls_client_ca,
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """An embedded SQLite database with a realistic, live demonstration."""
    from wangua.demo.run import run_demo

    run_demo(host=host, port=port)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations."""
    from wangua.serving import migrate

    migrate(_settings())
    click.echo("database is at the newest schema")


@main.group()
def user() -> None:
    """Accounts."""


@user.command("add")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option(
    "--role",
    "roles",
    required=True,
    multiple=True,
    type=click.Choice(["bidder", "staff", "grantor", "supervisor", "finance", "admin"]),
)
@click.option("--cert", "cert_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--grantor", default=None)
@click.option(
    "--cosigner-cert",
    type=click.Path(exists=True, dir_okay=False),
    help="while a listing runs: the supervisor's certificate (R-32b)",
)
@click.option(
    "--cosigner-key",
    type=click.Path(exists=True, dir_okay=False),
    help="while a listing runs: the supervisor's private key (R-32b)",
)
def user_add(
    username: str,
    password: str,
    roles: tuple[str, ...],
    cert_file: str,
    grantor: str | None,
    cosigner_cert: str | None,
    cosigner_key: str | None,
) -> None:
    """Create an account bound to its certificate; staff, grantor officers and finance
    belong to a grantor (default xianning-city). While a listing runs, a supervisor
    co-signs with their certificate and key."""
    from wangua.identity.service import create_user, hashed_password
    from wangua.kit.problems import Problem
    from wangua.oversight.cosignature import cosigner_by_certificate, record_cosignature
    from wangua.runtime import Runtime
    from wangua.serving import migrate

    settings = _settings()
    migrate(settings)
    runtime = Runtime(settings)
    if not runtime.trust_anchors:
        raise click.ClickException(
            "no trust anchors: set WANGUA_TRUST_ANCHORS to the CA certificate file(s)"
        )
    try:
        password_hash = hashed_password(password)
        with runtime.work() as work:
            supervisor = cosigner_by_certificate(
                work.session,
                runtime.trust,
                Path(cosigner_cert).read_text() if cosigner_cert else None,
                Path(cosigner_key).read_bytes() if cosigner_key else None,
            )
            record_cosignature(work, supervisor, "user.create")
            account = create_user(
                work,
                username=username,
                password_hash=password_hash,
                roles=list(roles),
                certificate_pem=Path(cert_file).read_text(),
                anchors=runtime.trust_anchors,
                grantor=grantor,
            )
            click.echo(
                f"created user {account.id} {username} roles={','.join(roles)}"
                f"{' grantor=' + account.grantor if account.grantor else ''}"
            )
    except Problem as problem:
        raise click.ClickException(f"{problem.code}: {problem.detail}") from None
    finally:
        runtime.close()


@main.group()
def ca() -> None:
    """A development certificate authority (ECDSA P-256)."""


@ca.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
def ca_init(directory: str) -> None:
    """Create DIR/ca.key.pem and DIR/ca.crt.pem."""
    from wangua.identity.certificates import init_ca

    try:
        pair = init_ca(Path(directory))
    except FileExistsError:
        raise click.ClickException(f"{directory} already holds a CA key") from None
    click.echo(f"{pair.key_path}\n{pair.cert_path}")


@ca.command("issue")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--cn", required=True, help="the subject's common name")
@click.option("--out", "out_prefix", required=True, help="writes PREFIX.key.pem and PREFIX.crt.pem")
def ca_issue(directory: str, cn: str, out_prefix: str) -> None:
    """Issue a key and certificate signed by the CA in DIR."""
    from wangua.identity.certificates import issue_certificate

    pair = issue_certificate(Path(directory), common_name=cn, out_prefix=Path(out_prefix))
    click.echo(f"{pair.key_path}\n{pair.cert_path}")


@main.group()
def reserve() -> None:
    """Sealed reserve prices (R-11)."""


@reserve.command("seal")
@click.option("--lot", "lot_code", required=True, help="the lot's code")
@click.option("--price", required=True, help="the reserve price in yuan, e.g. 125000000.00")
@click.option("--key", "key_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--cert", "cert_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--to",
    "system_cert",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="the system's sealing certificate (GET /api/v1/reserve-key)",
)
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False))
def reserve_seal(
    lot_code: str, price: str, key_file: str, cert_file: str, system_cert: str, out_file: str
) -> None:
    """Seal a reserve price to the system and sign it as the supervisor."""
    from wangua.kit.problems import Problem
    from wangua.reserve.sealing import SealInvalid, seal

    try:
        sealed = seal(
            lot_code,
            price,
            Path(system_cert).read_bytes(),
            Path(key_file).read_bytes(),
            Path(cert_file).read_bytes(),
        )
    except (Problem, SealInvalid, ValueError) as error:
        raise click.ClickException(f"cannot seal: {error}") from None
    Path(out_file).write_bytes(sealed.to_bytes())
    click.echo(
        f"sealed reserve for {lot_code} written to {out_file}; import it with base64 of the file"
    )


@main.group()
def audit() -> None:
    """The audit record."""


@audit.command("verify")
def audit_verify() -> None:
    """Check every chain of the audit record (R-32a)."""
    from wangua.audit.checkpoints import SigningKey
    from wangua.audit.verify import verify
    from wangua.runtime import Runtime

    settings = _settings()
    runtime = Runtime(settings)
    try:
        with runtime.read() as session:
            report = verify(session, SigningKey(settings.resolved_audit_key_dir))
    finally:
        runtime.close()
    if report.failure is not None:
        click.echo(f"FAILED at {report.failure}", err=True)
        sys.exit(1)
    click.echo(f"ok {report.count} records")


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint of every chain now (R-32a)."""
    from wangua.audit.checkpoints import checkpoint
    from wangua.runtime import Runtime

    runtime = Runtime(_settings())
    try:
        signed = checkpoint(runtime)
    finally:
        runtime.close()
    click.echo(
        f"检查点 {signed.id}: {signed.streams} 条链, {signed.entries} 条记录, 根 {signed.root}"
    )


@main.group(invoke_without_command=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="备份文件")
@click.pass_context
def backup(ctx: click.Context, out_file: str | None) -> None:
    """A consistent backup of the database, with FILE.sha256 and FILE.manifest.json (R-32c)."""
    if ctx.invoked_subcommand is not None:
        return
    if out_file is None:
        raise click.UsageError("需要 --out FILE")
    from wangua.backups.core import BackupError
    from wangua.backups.daily import take_backup
    from wangua.runtime import Runtime

    runtime = Runtime(_settings())
    try:
        manifest = take_backup(runtime, Path(out_file), "command")
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    finally:
        runtime.close()
    rows = sum(manifest.tables.values())
    click.echo(
        f"已备份到 {out_file}: {len(manifest.tables)} 张表 {rows} 行, sha256 {manifest.sha256}"
    )


@backup.command("drill")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def backup_drill(file: str) -> None:
    """Restore FILE into a scratch database, compare row counts and verify the audit record."""
    from wangua.backups.core import BackupError
    from wangua.backups.drill import drill

    try:
        report = drill(_settings(), Path(file))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    for mismatch in report.mismatches:
        click.echo(f"行数不符 {mismatch}", err=True)
    if report.audit.failure is not None:
        click.echo(f"审计记录校验失败: {report.audit.failure}", err=True)
    if not report.ok:
        sys.exit(1)
    click.echo(
        f"演练通过: {len(report.tables)} 张表行数一致, 审计记录 ok {report.audit.count} records"
    )


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def restore(file: str) -> None:
    """Restore FILE into the configured database, which must be empty (R-32c)."""
    from wangua.backups.core import BackupError, restore

    settings = _settings()
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        digest = restore(settings.resolved_database_url, Path(file))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"已从 {file} 恢复 (sha256 {digest})")


@main.group()
def bank() -> None:
    """Bank statements (R-16a)."""


@bank.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--bank", "bank_code", default="default", show_default=True, help="the bank's code")
def bank_import(file: str, bank_code: str) -> None:
    """Import statement lines (CSV), matched exactly like notifications."""
    from wangua.deposits.banks import banks
    from wangua.deposits.statement_import import import_statement
    from wangua.runtime import Runtime
    from wangua.serving import migrate

    settings = _settings()
    if bank_code not in banks(settings):
        raise click.ClickException(f"unknown bank {bank_code!r}")
    migrate(settings)
    runtime = Runtime(settings)
    try:
        counts, refusals = import_statement(runtime, bank_code, Path(file))
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    finally:
        runtime.close()
    for line in refusals:
        click.echo(line, err=True)
    outcomes = ("matched", "unmatched", "duplicate", "refused")
    click.echo(" ".join(f"{k}={counts[k]}" for k in outcomes))


@bank.command("confirm-refunds")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--bank", "bank_code", default="default", show_default=True, help="the bank's code")
def bank_confirm_refunds(file: str, bank_code: str) -> None:
    """Import the bank's refund confirmations (CSV), judged exactly like API confirmations."""
    from wangua.deposits.banks import banks
    from wangua.deposits.confirmation_import import (
        decode_file,
        import_confirmations,
        outcome_counts,
    )
    from wangua.deposits.intake import BANK
    from wangua.runtime import Runtime
    from wangua.serving import migrate

    settings = _settings()
    if bank_code not in banks(settings):
        raise click.ClickException(f"unknown bank {bank_code!r}")
    path = Path(file)
    migrate(settings)
    runtime = Runtime(settings)
    try:
        lines = import_confirmations(
            runtime, BANK, bank_code, decode_file(path.read_bytes()), path.name
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    finally:
        runtime.close()
    for line in lines:
        if line.code is not None:
            click.echo(f"line {line.number}: {line.status} {line.code} {line.detail}", err=True)
    click.echo(" ".join(f"{k}={v}" for k, v in outcome_counts(lines).items()))


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(sys.argv[0]))
