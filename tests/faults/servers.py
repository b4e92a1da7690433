"""Real `wangua serve` processes for fault tests: start, kill -9, restart, inspect.

An `Installation` is a data folder, a development CA, a migrated database and a
first administrator, all made through the command line. A `ServerProcess` is
one `wangua serve` child in its own process group; killing the group kills it
without a chance to clean up. The HTTP flows reuse `tests.harness.Stack`, whose
base URL and account clients are rebound whenever the server moves port.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import (
    BANK_SECRET,
    CLOCK_START,
    KEEP_ALIVE,
    Account,
    Stack,
    drop_postgres_database,
    free_port,
    fresh_postgres_database,
    postgres_available,
)

ADMIN_PASSWORD = "admin password"
START_TIMEOUT = 30.0
CLI_TIMEOUT = 60.0


def wangua_executable() -> str:
    beside = Path(sys.executable).parent / "wangua"
    if beside.exists():
        return str(beside)
    found = shutil.which("wangua")
    if found is None:
        pytest.fail("the `wangua` command is not installed")
    return found


def require_backend(backend: str) -> None:
    """PostgreSQL tests skip where there is no server, except on CI where they fail."""
    if backend != "postgresql" or postgres_available():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("PostgreSQL is unreachable at 127.0.0.1:5432, and CI needs it")
    pytest.skip("PostgreSQL is not reachable here")


def money(value: str) -> Decimal:
    return Decimal(value)


def yuan(value: Decimal) -> str:
    return f"{value:.2f}"


@dataclass
class Installation:
    backend: str
    base: Path
    env: dict[str, str]
    ca_dir: Path
    admin_key: Path
    admin_cert: Path
    logs: list[Path] = field(default_factory=list)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [wangua_executable(), *args],
            env=self.env,
            cwd=self.base,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, (
            f"wangua {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
        return done

    def log_tails(self, lines: int = 60) -> str:
        parts = []
        for log in self.logs:
            text = log.read_text(errors="replace") if log.exists() else ""
            tail = "\n".join(text.splitlines()[-lines:])
            parts.append(f"----- {log.name} (last {lines} lines) -----\n{tail}")
        return "\n".join(parts)


def _environment(base: Path, database_url: str, ca_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGUA_")}
    env.update(
        {
            "WANGUA_DATA_DIR": str(base / "data"),
            "WANGUA_DATABASE_URL": database_url,
            "WANGUA_CLOCK": "simulated",
            "WANGUA_CLOCK_START": CLOCK_START,
            "WANGUA_TRUST_ANCHORS": str(ca_dir / "ca.crt.pem"),
            "WANGUA_BANK_SECRET": BANK_SECRET,
            # dozens of accounts sign in from one address within a minute
            "WANGUA_LOGIN_RATE_PER_MINUTE": "1000000",
            # the cheap argon2id profile of tests/harness.py
            "WANGUA_ARGON2_TIME_COST": "1",
            "WANGUA_ARGON2_MEMORY_KIB": "8192",
            "WANGUA_ARGON2_PARALLELISM": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def provision(inst: Installation) -> None:
    """Through the command line, as an operator would: a CA, the schema, an administrator."""
    inst.cli("ca", "init", str(inst.ca_dir))
    inst.cli("db", "upgrade")
    inst.cli("ca", "issue", str(inst.ca_dir), "--cn", "admin", "--out", str(inst.base / "admin"))
    inst.cli(
        "user",
        "add",
        "--username",
        "admin",
        "--password",
        ADMIN_PASSWORD,
        "--role",
        "admin",
        "--cert",
        str(inst.admin_cert),
    )


@contextmanager
def installation(
    backend: str, base: Path, database_url: str | None = None, **env: str
) -> Iterator[Installation]:
    """A fresh database with its schema and an administrator, made with the CLI: on the
    test cluster, or at `database_url` (an empty database the caller owns). `env`
    overrides WANGUA_* settings of every command and server."""
    ca_dir = base / "ca"
    pg_name = None
    if database_url is not None:
        url = database_url
    elif backend == "postgresql":
        require_backend(backend)
        pg_name = f"wangua_fault_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        url = fresh_postgres_database(pg_name)
    else:
        url = f"sqlite:///{base / 'data' / 'wangua.sqlite3'}"
    try:
        inst = Installation(
            backend,
            base,
            {**_environment(base, url, ca_dir), **env},
            ca_dir,
            base / "admin.key.pem",
            base / "admin.crt.pem",
        )
        provision(inst)
        try:
            yield inst
        except BaseException:
            print(inst.log_tails())  # shown by pytest when the test fails
            raise
    finally:
        if pg_name:
            drop_postgres_database(pg_name)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, from /proc (0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


PRELOADER = """
import json, os, signal, sys, traceback

import wangua.app, wangua.serving  # what `wangua serve` imports, once
from wangua.cli import main

signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
for line in sys.stdin:
    order = json.loads(line)
    pid = os.fork()
    if pid:
        print(pid, flush=True)
        continue
    code = 1
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        out = os.open(order["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        main(order["argv"], prog_name="wangua")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
"""
"""A process that has imported what `wangua serve` imports and forks, on each line of
its input, a child in a session of its own that runs `wangua serve` from its
command-line entry: migrations, the serving session (R-37c), the scheduler, the socket."""


class Forked:
    """A server forked by the preloader: not our child, so watched through /proc."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                state = "gone"
            if state in ("gone", "Z", "X"):
                self.returncode = -1  # unknown: the preloader reaped it
        return self.returncode

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while (code := self.poll()) is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.01)
        return code


class ServerProcess:
    """`wangua serve` in its own process group (session).

    `start()` runs the `wangua` command. After `preload()`, starts fork a preloaded
    process instead (`start(cold=True)` still runs the command): a cold start is about
    2 s of CPU, nearly all of it Python importing FastAPI, SQLAlchemy, pydantic and our
    routes and models, and a test that restarts fifty times would spend most of its time
    there rather than on what it tests. `started_in` says how long each start took.
    """

    def __init__(self, inst: Installation, *extra: str, env: dict[str, str] | None = None) -> None:
        self.inst = inst
        self.extra = extra
        self.env = {**inst.env, **(env or {})}
        self.port = 0
        self.proc: subprocess.Popen[bytes] | Forked | None = None
        self.preloader: subprocess.Popen[bytes] | None = None
        self.started_in = 0.0
        """Seconds from the last start to its first healthy answer."""
        self.started_cpu = 0.0
        """CPU seconds the server used in that time (Linux; 0 elsewhere)."""
        self.started_cold = True
        """Whether the last start ran the `wangua` command (rather than a fork)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _log(self) -> Path:
        log = self.inst.base / f"server-{len(self.inst.logs) + 1}.log"
        self.inst.logs.append(log)
        return log

    def preload(self) -> None:
        """Start the preloader that later starts fork (it imports in the background)."""
        if self.preloader is None or self.preloader.poll() is not None:
            log = self.inst.base / "preloader.log"
            with log.open("ab") as errors:
                self.preloader = subprocess.Popen(
                    [sys.executable, "-c", PRELOADER],
                    env=self.env,
                    cwd=self.inst.base,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=errors,
                    start_new_session=True,
                )

    def start(self, *, cold: bool = False) -> str:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = free_port()
        argv = ["serve", "--host", "127.0.0.1", "--port", str(self.port), *self.extra]
        preloader = self.preloader
        self.started_cold = cold or preloader is None or preloader.poll() is not None
        began = time.monotonic()
        if self.started_cold:
            with self._log().open("wb") as out:
                self.proc = subprocess.Popen(
                    [wangua_executable(), *argv],
                    env=self.env,
                    cwd=self.inst.base,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
        else:
            assert preloader is not None and preloader.stdin and preloader.stdout
            preloader.stdin.write(json.dumps({"log": str(self._log()), "argv": argv}).encode())
            preloader.stdin.write(b"\n")
            preloader.stdin.flush()
            pid = preloader.stdout.readline().strip()
            assert pid.isdigit(), f"the preloader died: see {self.inst.base / 'preloader.log'}"
            self.proc = Forked(int(pid))
        self._wait_healthy()
        self.started_in = time.monotonic() - began
        self.started_cpu = cpu_seconds(self.proc.pid)  # a fork's count starts at zero
        return self.url

    def _wait_healthy(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"wangua serve exited with {self.proc.returncode}")
            with suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.05)
        raise AssertionError(f"wangua serve was not healthy within {START_TIMEOUT:.0f} s")

    def kill9(self) -> None:
        """SIGKILL to the whole process group: no shutdown, no flush, no goodbye."""
        assert self.proc is not None
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        preloader, self.preloader = self.preloader, None
        if preloader is not None:
            with suppress(ProcessLookupError):
                os.killpg(preloader.pid, signal.SIGKILL)
            preloader.wait(timeout=10)
            for pipe in (preloader.stdin, preloader.stdout):
                if pipe is not None:
                    pipe.close()
        if self.proc is None or self.proc.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@contextmanager
def serving(inst: Installation) -> Iterator[ServerProcess]:
    server = ServerProcess(inst)
    try:
        yield server
    finally:
        server.stop()


def process_stack(inst: Installation, url: str) -> Stack:
    """The shared HTTP helpers, pointed at a server process (no in-process runtime)."""
    stack = Stack(
        inst.backend,
        url,
        runtime=None,
        ca_dir=inst.ca_dir,  # type: ignore[arg-type]
        work_dir=inst.base,
    )
    stack.admin = stack.login(Account("admin", ADMIN_PASSWORD, inst.admin_key, inst.admin_cert))
    return stack


def rebind(stack: Stack, url: str, accounts: list[Account]) -> None:
    """Point the helpers and every account's client at a restarted server (tokens persist)."""
    stack.close()
    stack.clients.clear()
    stack.url = url
    for account in accounts:
        account.client = httpx.Client(
            base_url=url,
            timeout=60,
            headers={"Authorization": f"Bearer {account.token}"},
            limits=KEEP_ALIVE,
        )
        stack.clients.append(account.client)


def bidder_client(stack: Stack, account: Account, timeout: float = 10.0) -> httpx.Client:
    return httpx.Client(
        base_url=stack.url,
        timeout=timeout,
        headers={"Authorization": f"Bearer {account.token}"},
        limits=KEEP_ALIVE,
    )


def all_quotes(stack: Stack, lot_id: int) -> list[dict[str, Any]]:
    """Every quote of the lot, page by page (the cursor is the last seq seen)."""
    client = stack.anonymous()
    quotes: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": 1000}
        if quotes:
            params["cursor"] = quotes[-1]["seq"]
        response = client.get(f"/api/v1/lots/{lot_id}/quotes", params=params)
        assert response.status_code == 200, response.text
        page = list(response.json())
        quotes.extend(page)
        if len(page) < 1000:
            return quotes


def next_amount(view: dict[str, Any]) -> str:
    if view["current_price"] is None:
        return str(view["start_price"])
    return yuan(money(view["current_price"]) + money(view["increment"]))


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@dataclass(frozen=True)
class Acked:
    """A quote the server acknowledged (201, or 200 for a replayed request id)."""

    lot_id: int
    seq: int
    amount: str
    bidder_number: str
    request_id: str
    bidder: int


def check_ledger(stack: Stack, lot_id: int, acked: list[Acked]) -> list[dict[str, Any]]:
    """The lot's quotes are gap-free and rising, hold every acknowledged quote exactly
    once, and agree with the lot's public view. Returns the quotes."""
    quotes = all_quotes(stack, lot_id)
    seqs = [q["seq"] for q in quotes]
    assert seqs == list(range(1, len(quotes) + 1)), f"lot {lot_id}: seqs not 1..N: {seqs}"
    amounts = [money(q["amount"]) for q in quotes]
    falls = [
        (q["seq"], q["amount"])
        for q, prev in zip(quotes[1:], amounts, strict=False)
        if money(q["amount"]) <= prev
    ]
    assert not falls, f"lot {lot_id}: amounts do not strictly increase at {falls}"
    by_seq = {q["seq"]: q for q in quotes}
    mine = [a for a in acked if a.lot_id == lot_id]
    assert len({a.seq for a in mine}) == len(mine), f"lot {lot_id}: one seq acknowledged twice"
    for ack in mine:
        quote = by_seq.get(ack.seq)
        assert quote is not None, f"lot {lot_id}: acknowledged quote lost: {ack}"
        assert (quote["amount"], quote["bidder_number"]) == (ack.amount, ack.bidder_number), (
            f"lot {lot_id}: seq {ack.seq} holds {quote}, but {ack} was acknowledged"
        )
        copies = [
            q
            for q in quotes
            if (q["amount"], q["bidder_number"]) == (ack.amount, ack.bidder_number)
        ]
        assert len(copies) == 1, f"lot {lot_id}: {ack} stored {len(copies)} times"
    view = stack.lot(lot_id)
    assert view["quote_count"] == len(quotes), (
        f"lot {lot_id}: quote_count {view['quote_count']} but {len(quotes)} quotes listed"
    )
    last = quotes[-1] if quotes else None
    assert view["current_price"] == (last["amount"] if last else None), view
    assert view["leader"] == (last["bidder_number"] if last else None), view
    return quotes
