"""Test harness: real servers on real databases, driven over HTTP.

Each backend (SQLite file, PostgreSQL database) gets one `wangua` app served by
uvicorn on a loopback port, with a simulated clock. Tests isolate themselves by
creating their own accounts and lots, and move time through the API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn
from sqlalchemy import event
from sqlalchemy.engine import Engine

from wangua.app import create_app
from wangua.config import Settings
from wangua.identity.certificates import init_ca, issue_certificate, sign_message
from wangua.identity.service import create_user, hashed_password
from wangua.kit.http_protocol import HttpProtocol
from wangua.runtime import Runtime
from wangua.serving import migrate

CLOCK_START = "2026-03-02T01:00:00+00:00"
BANK_SECRET = "test-bank-secret"
PG_ADMIN_URL = os.environ.get("WANGUA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def fresh_postgres_database(name: str) -> str:
    """A new empty database next to the CI one; returns its URL."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_postgres_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Receiver:
    """An external platform on loopback that takes webhooks, failing when told to."""

    def __init__(self) -> None:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0
        self.lock = threading.Lock()

        async def hook(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                if self.fail_next > 0:
                    self.fail_next -= 1
                    return Response("维护中", status_code=503)
                self.received.append((dict(request.headers), body))
            return Response(status_code=204)

        self.app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    def notices(self, lot_id: int) -> list[dict[str, Any]]:
        with self.lock:
            bodies = [json.loads(body) for _, body in self.received]
        return [b for b in bodies if b["lot"]["id"] == lot_id]


KEEP_ALIVE = httpx.Limits(keepalive_expiry=2.0)
"""Idle connections are dropped well before uvicorn closes them (5 s): reusing one as the
server closes it fails the request ("Server disconnected without sending a response")."""


class ServerThread:
    """uvicorn serving an app from a background thread, with `wangua serve`'s HTTP
    protocol unless `http` names another (uvicorn's "httptools", "h11")."""

    def __init__(self, app: Any, http: Any = HttpProtocol) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            http=http,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@dataclass
class Account:
    username: str
    password: str
    key_path: Path
    cert_path: Path
    token: str = ""
    client: httpx.Client | None = None
    party_name: str = ""

    @property
    def http(self) -> httpx.Client:
        assert self.client is not None
        return self.client


@dataclass
class Stack:
    """One running system and the helpers tests use to drive it over HTTP."""

    backend: str
    url: str
    runtime: Runtime
    ca_dir: Path
    work_dir: Path
    admin: Account | None = None
    cosigner: Account | None = None
    """A supervisor who co-signs the administrator's requests while listings run (R-32b)."""
    receiver: Receiver | None = None
    clients: list[httpx.Client] = field(default_factory=list)

    # -- plumbing ---------------------------------------------------------
    def anonymous(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=60, limits=KEEP_ALIVE)
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()

    def issue(self, cn: str) -> tuple[Path, Path]:
        pair = issue_certificate(
            self.ca_dir, common_name=cn, out_prefix=self.work_dir / uuid.uuid4().hex
        )
        return pair.key_path, pair.cert_path

    def proof(self, key_path: Path, cert_path: Path) -> dict[str, str]:
        nonce = self.anonymous().post("/api/v1/auth/challenge").json()["nonce"]
        return {
            "certificate": cert_path.read_text(),
            "nonce": nonce,
            "signature": sign_message(key_path.read_bytes(), nonce),
        }

    def login(self, account: Account) -> Account:
        body = {
            "username": account.username,
            "password": account.password,
            **self.proof(account.key_path, account.cert_path),
        }
        response = self.anonymous().post("/api/v1/auth/login", json=body)
        assert response.status_code == 200, response.text
        account.token = response.json()["token"]
        account.client = httpx.Client(
            base_url=self.url,
            timeout=60,
            headers={"Authorization": f"Bearer {account.token}"},
            limits=KEEP_ALIVE,
        )
        self.clients.append(account.client)
        return account

    # -- accounts ---------------------------------------------------------
    def account(self, role: str, grantor: str | None = None) -> Account:
        """A staff / supervisor / finance / admin account created by the administrator."""
        name = f"{role}-{uuid.uuid4().hex[:10]}"
        key, cert = self.issue(name)
        account = Account(name, "correct horse battery", key, cert)
        assert self.admin is not None
        body: dict[str, Any] = {
            "username": name,
            "password": account.password,
            "roles": [role],
            "certificate": cert.read_text(),
        }
        if grantor:
            body["grantor"] = grantor
        cosigned = {"X-Cosigner-Token": self.cosigner.token} if self.cosigner else {}
        response = self.admin.http.post("/api/v1/admin/users", json=body, headers=cosigned)
        assert response.status_code == 201, response.text
        return self.login(account)

    def bidder(self, company: str | None = None) -> Account:
        """A company that registers itself with its certificate (API.md, Identity)."""
        suffix = uuid.uuid4().hex[:10]
        company = company or f"测试置业有限公司{suffix}"
        key, cert = self.issue(company)
        account = Account(f"bidder-{suffix}", "bidder password 1", key, cert, party_name=company)
        body = {
            "username": account.username,
            "password": account.password,
            **self.proof(key, cert),
            "party": {
                "kind": "legal",
                "name": company,
                "id_type": "统一社会信用代码",
                "id_no": f"91421200{suffix.upper()}",
                "domestic": True,
            },
        }
        response = self.anonymous().post("/api/v1/register", json=body)
        assert response.status_code == 201, response.text
        return self.login(account)

    # -- time ---------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.fromisoformat(self.anonymous().get("/api/v1/clock").json()["now"])

    def advance(self, seconds: float) -> datetime:
        response = self.anonymous().post("/api/v1/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text
        return datetime.fromisoformat(response.json()["now"])

    def advance_to(self, moment: datetime | str) -> datetime:
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        seconds = (moment - self.now()).total_seconds()
        assert seconds >= 0, f"cannot go back to {moment}"
        return self.advance(seconds)

    # -- lots ---------------------------------------------------------------
    def lot_body(self, **overrides: Any) -> dict[str, Any]:
        now = self.now()
        start = now + timedelta(days=21)
        end = start + timedelta(days=10)
        body: dict[str, Any] = {
            "code": f"XN2026-{uuid.uuid4().hex[:8]}",
            "name": "咸安区永安大道以东地块",
            "grantor": "xianning-city",
            "asset_type": "state_construction_land",
            "layer": "surface",
            "location": "咸宁市咸安区永安大道以东、金桂路以北",
            "area_m2": "35210.45",
            "land_use": "城镇住宅用地",
            "term_years": 70,
            "planning": {"plot_ratio": "≤2.5", "building_density": "≤25%", "green_ratio": "≥35%"},
            "start_price": "120000000.00",
            "increment": "1000000.00",
            "deposit": "24000000.00",
            "has_reserve": False,
            "price_cap": None,
            "application_deadline": (end - timedelta(days=2)).isoformat(),
            "deposit_deadline": (end - timedelta(days=1)).isoformat(),
            "listing_start": start.isoformat(),
            "listing_end": end.isoformat(),
        }
        body.update(overrides)
        return body

    def published_lot(self, staff: Account, **overrides: Any) -> dict[str, Any]:
        response = staff.http.post("/api/v1/lots", json=self.lot_body(**overrides))
        assert response.status_code == 201, response.text
        lot = response.json()
        response = staff.http.post(f"/api/v1/lots/{lot['id']}/publish")
        assert response.status_code == 200, response.text
        return response.json()

    def apply(self, bidder: Account, lot: dict[str, Any], **body: Any) -> dict[str, Any]:
        response = bidder.http.post(
            f"/api/v1/lots/{lot['id']}/applications", json={"consent": True, **body}
        )
        assert response.status_code == 201, response.text
        return response.json()

    def bank(self, body: dict[str, Any], secret: str = BANK_SECRET) -> httpx.Response:
        raw = json.dumps(body, ensure_ascii=False).encode()
        signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        return self.anonymous().post(
            "/api/v1/bank/notifications",
            content=raw,
            headers={"Content-Type": "application/json", "X-Bank-Signature": f"sha256={signature}"},
        )

    def pay(
        self,
        application: dict[str, Any],
        amount: str | None = None,
        paid_at: datetime | None = None,
    ) -> httpx.Response:
        return self.bank(
            {
                "txn_id": uuid.uuid4().hex,
                "account_no": application["deposit"]["account_no"],
                "amount": amount or application["deposit"]["amount"],
                "paid_at": (paid_at or self.now()).isoformat(),
                "memo": f"竞买保证金 {application['order_no']}",
                "payer_name": "付款单位",
                "payer_account": "6222000011112222",
            }
        )

    def qualified(self, bidder: Account, lot: dict[str, Any], **body: Any) -> dict[str, Any]:
        application = self.apply(bidder, lot, **body)
        assert self.pay(application).json()["status"] == "matched"
        response = bidder.http.get(f"/api/v1/applications/{application['id']}")
        assert response.json()["status"] == "qualified", response.text
        return dict(response.json())

    def lot(self, lot_id: int) -> dict[str, Any]:
        return dict(self.anonymous().get(f"/api/v1/lots/{lot_id}").json())

    def quote(
        self, bidder: Account, lot: dict[str, Any], amount: str, request_id: str | None = None
    ) -> httpx.Response:
        return bidder.http.post(
            f"/api/v1/lots/{lot['id']}/quotes",
            json={"amount": amount, "request_id": request_id or str(uuid.uuid4())},
        )


@contextmanager
def statements_matching(*fragments: str, this_thread: bool = False) -> Iterator[list[str]]:
    """The SQL statements any engine sends meanwhile that contain one of `fragments`; with
    `this_thread`, only those the calling thread sends (not the server's background work,
    such as its heartbeat)."""
    seen: list[str] = []
    caller = threading.get_ident()

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if this_thread and threading.get_ident() != caller:
            return
        if any(fragment in statement for fragment in fragments):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


@contextmanager
def captured_logs() -> Iterator[list[str]]:
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


@contextmanager
def running_stack(backend: str, base: Path, http: Any = HttpProtocol) -> Iterator[Stack]:
    """Migrate a fresh database, start a server on it (`http`: see ServerThread), and
    create the first administrator."""
    ca_dir = base / "ca"
    init_ca(ca_dir)
    pg_name = None
    if backend == "postgresql":
        pg_name = f"wangua_test_{os.getpid()}"
        url = fresh_postgres_database(pg_name)
    else:
        url = f"sqlite:///{base / 'wangua.sqlite3'}"
    receiver = Receiver()
    receiver_server = ServerThread(receiver.app).__enter__()
    hook = f"{receiver_server.url}/hook"
    targets = [{"name": "hubei-ggzy", "url": hook, "secret": "platform-secret"}]
    settings = Settings(
        publish_targets=json.dumps(targets),
        publish_retry_seconds=0.05,
        login_rate_per_minute=1_000_000,
        data_dir=base,
        database_url=url,
        clock="simulated",
        clock_start=datetime.fromisoformat(CLOCK_START),
        trust_anchors=str(ca_dir / "ca.crt.pem"),
        bank_secret=BANK_SECRET,
        argon2_time_cost=1,
        argon2_memory_kib=8192,
        argon2_parallelism=1,
    )
    migrate(settings)
    runtime = Runtime(settings)
    pair = issue_certificate(ca_dir, common_name="admin", out_prefix=base / "admin")
    admin_key, admin_cert = pair.key_path, pair.cert_path
    admin_password = hashed_password("admin password")
    with runtime.work() as work:
        create_user(
            work,
            username="admin",
            password_hash=admin_password,
            roles=["admin"],
            certificate_pem=admin_cert.read_text(),
            anchors=runtime.trust_anchors,
        )
    try:
        with ServerThread(create_app(runtime=runtime), http) as server:
            stack = Stack(backend, server.url, runtime, ca_dir, base, receiver=receiver)
            stack.admin = stack.login(Account("admin", "admin password", admin_key, admin_cert))
            stack.cosigner = stack.account("supervisor")
            try:
                yield stack
            finally:
                stack.close()
    finally:
        receiver_server.__exit__()
        runtime.close()
        if pg_name:
            drop_postgres_database(pg_name)
