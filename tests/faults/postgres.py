"""A private, throwaway PostgreSQL server that a test may crash and start again.

The machine's PostgreSQL cluster is shared (colleagues' tests, CI): a fault test never
stops it. Instead it makes its own with the distribution's binaries (Debian puts them
in /usr/lib/postgresql/<version>/bin; WANGUA_TEST_PG_BIN names another folder):
`initdb` into a temporary folder, trust authentication on 127.0.0.1 and a free port,
durable commits (fsync, synchronous_commit and full_page_writes on, as
docs/deployment.md asks of production), its socket and log in that folder. `crash()`
is `pg_ctl stop -m immediate`: every server process quits at once without a
checkpoint, and the next start recovers from the WAL.

PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user.
Without binaries the test is skipped, except on CI, where it fails.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.harness import free_port

PG_TIMEOUT = 60.0


def postgres_binaries() -> Path | None:
    """The folder with initdb, pg_ctl and postgres: WANGUA_TEST_PG_BIN, or the newest
    of /usr/lib/postgresql/<version>/bin."""
    named = os.environ.get("WANGUA_TEST_PG_BIN")
    candidates = [Path(named)] if named else []
    found = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)[
        ::-1
    ]
    for folder in candidates:
        if all((folder / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI needs it for this test")
    pytest.skip(reason)


@dataclass
class PrivatePostgres:
    bin_dir: Path
    folder: Path
    port: int
    run_as: str | None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "postgresql.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str, timeout: float = PG_TIMEOUT) -> subprocess.CompletedProcess[str]:
        extra: dict[str, Any] = {}
        if self.run_as is not None:
            extra = {"user": self.run_as, "group": self.run_as, "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        done = subprocess.run(
            [str(self.bin_dir / argv[0]), *argv[1:]],
            cwd=self.folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **extra,
        )
        assert done.returncode == 0, (
            f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}\n"
            f"{self.log_tail()}"
        )
        return done

    def log_tail(self, lines: int = 30) -> str:
        with suppress(OSError):
            text = self.log.read_text(errors="replace")
            return "----- postgresql.log -----\n" + "\n".join(text.splitlines()[-lines:])
        return ""

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.folder}'\n"
                "fsync = on\n"
                "synchronous_commit = on\n"
                "full_page_writes = on\n"
                "max_connections = 200\n"
            )

    def start(self) -> None:
        """Start and wait until it accepts connections (after any crash recovery)."""
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            str(int(PG_TIMEOUT)),
            "start",
        )

    def crash(self) -> None:
        """Immediate shutdown: the processes quit at once, no checkpoint, like a crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def accepts_connections(self) -> bool:
        try:
            with psycopg.connect(self.url(), connect_timeout=2):
                return True
        except psycopg.Error:
            return False


PREFIX = "wangua-pg-"
OWNER = "owner.pid"  # the test process's pid, in each server's folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_leftovers(bin_dir: Path, run_as: str | None) -> list[Path]:
    """Stop and remove the private servers of test runs that were killed (SIGKILL leaves
    no chance to clean up): the folders whose owner process is gone. Returns them."""
    swept = []
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((folder / OWNER).read_text())
        except (OSError, ValueError):
            continue  # not ours, or still being made
        if _alive(owner):
            continue
        leftover = PrivatePostgres(bin_dir, folder, 0, run_as)
        if (leftover.data / "postmaster.pid").exists():
            with suppress(AssertionError, subprocess.TimeoutExpired):
                leftover.crash()
        shutil.rmtree(folder, ignore_errors=True)
        swept.append(folder)
    return swept


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A new PostgreSQL server of this test's own, removed afterwards (or by the next run,
    if this one is killed)."""
    bin_dir = postgres_binaries()
    if bin_dir is None:
        _skip_or_fail("no PostgreSQL server binaries (initdb, pg_ctl) to run a private server")
    assert bin_dir is not None
    run_as = None
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            _skip_or_fail("running as root and there is no `postgres` user to run PostgreSQL")
        run_as = "postgres"
    for swept in sweep_leftovers(bin_dir, run_as):
        print(f"removed the private PostgreSQL of a killed run: {swept}")
    # not under pytest's tmp_path: its folders are private to the user running the tests
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))
    (folder / OWNER).write_text(str(os.getpid()))
    if run_as is not None:
        os.chown(folder, account.pw_uid, account.pw_gid)
    server = PrivatePostgres(bin_dir, folder, free_port(), run_as)
    try:
        began = time.monotonic()
        server.init()
        server.start()
        print(
            f"private PostgreSQL ({bin_dir}) on port {server.port} in "
            f"{time.monotonic() - began:.1f} s"
        )
        yield server
    except BaseException:
        print(server.log_tail())
        raise
    finally:
        try:
            try:
                server.stop()
            except (AssertionError, subprocess.TimeoutExpired):
                server.crash()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
