"""Running the server: migrations under an advisory lock, then uvicorn."""

from __future__ import annotations

import gc
import ssl
from typing import Any

import uvicorn
from sqlalchemy import create_engine, text

from wangua.config import Settings
from wangua.db import normalise_url
from wangua.identity.client_certs import ClientCertificateProtocol
from wangua.kit.http_protocol import HttpProtocol
from wangua.migrations import upgrade

MIGRATION_LOCK = 7_316_842  # pg_advisory_lock key: one process migrates at a time
# Pending connections the kernel queues before accept (capped by net.core.somaxconn):
# thousands of watchers reconnect at once after a restart; uvicorn's 2048 dropped some.
BACKLOG = 8192


def migrate(settings: Settings) -> None:
    """Bring the schema to the newest revision (a no-op when it is already there)."""
    url = settings.resolved_database_url
    if normalise_url(url).get_backend_name() == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(url)
        return
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        try:
            upgrade(url)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
    engine.dispose()


def worker_app() -> Any:
    """The application of one worker process of `wangua serve --workers N` (settings
    from the environment, like the parent's)."""
    from wangua.app import create_app

    app = create_app(Settings())
    gc.freeze()
    return app


def run_workers(*, host: str, port: int, workers: int) -> None:
    """Several worker processes on one socket. Safe on PostgreSQL: the lot row lock
    orders writers, SKIP LOCKED gives each timer to one process, and LISTEN/NOTIFY wakes
    every process's watchers. TLS is then nginx's job (docs/deployment.md)."""
    uvicorn.run(
        "wangua.serving:worker_app",
        factory=True,
        http=HttpProtocol,
        workers=workers,
        host=host,
        port=port,
        proxy_headers=False,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=5,
        backlog=BACKLOG,
    )


def run(
    settings: Settings,
    *,
    host: str,
    port: int,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    tls_client_ca: str | None = None,
) -> None:
    from wangua.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        http=ClientCertificateProtocol if tls_client_ca else HttpProtocol,
        host=host,
        port=port,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
        ssl_ca_certs=tls_client_ca,
        ssl_cert_reqs=ssl.CERT_OPTIONAL if tls_client_ca else ssl.CERT_NONE,
        proxy_headers=False,
        log_level="info",
        access_log=False,  # monitoring.logging writes one line per request
        timeout_graceful_shutdown=5,
        backlog=BACKLOG,
    )
    config.load()
    if config.ssl is not None:  # TLS 1.2 and newer, forward-secret AEAD suites only
        config.ssl.minimum_version = ssl.TLSVersion.TLSv1_2
        config.ssl.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
    gc.freeze()  # what start-up made lives as long as the process: keep it out of collections
    uvicorn.Server(config).run()
