"""Engines, the declarative base, column types, and the transaction boundary.

`Database.write()` is the only place that commits. On SQLite a write
transaction starts with BEGIN IMMEDIATE, which makes it the single writer; on
PostgreSQL services lock the rows they change (the lot row: one writer per lot).
"""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg.pq import ConnStatus
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, create_engine, event
from sqlalchemy.engine import URL, Dialect, Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from wangua.kit.times import as_utc

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def normalise_url(url: str) -> URL:
    """Pick our own drivers: psycopg 3 for PostgreSQL, the standard module for SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite")
    raise ValueError(f"unsupported database: {parsed.get_backend_name()}")


def _sqlite_engine(url: URL, *, immediate: bool) -> Engine:
    engine = create_engine(
        url, poolclass=NullPool if url.database in (None, "", ":memory:") else None
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _postgres_engine(url: URL) -> Engine:
    engine = create_engine(url, pool_size=20, max_overflow=20)

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        """Replace a pooled connection the server has closed (a restart, an idle timeout)
        before any statement runs on it, without the round trip of a pre-ping: an idle
        connection whose socket is readable has been sent something; reading it fails
        if the server has gone. The pool then connects afresh (DisconnectionError)."""
        pgconn = dbapi_connection.pgconn
        readable = select.poll()  # poll, not select: a busy process has descriptors > 1024
        readable.register(pgconn.socket, select.POLLIN)
        try:
            while pgconn.status == ConnStatus.OK and readable.poll(0):
                pgconn.consume_input()
        except psycopg.OperationalError as exc:
            raise DisconnectionError(str(exc)) from exc
        if pgconn.status != ConnStatus.OK:
            raise DisconnectionError("the server closed the connection")

    return engine


class Database:
    """Both engines of one database: writes (single writer per lot) and reads."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            self.write_engine = _sqlite_engine(self.url, immediate=True)
            self.read_engine = _sqlite_engine(self.url, immediate=False)
        else:
            self.write_engine = _postgres_engine(self.url)
            # A read is one statement per round trip, without BEGIN and COMMIT.
            self.read_engine = self.write_engine.execution_options(isolation_level="AUTOCOMMIT")
        self._writer = sessionmaker(self.write_engine, expire_on_commit=False)
        self._reader = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """One transaction: commits when the block ends, rolls back on any exception."""
        with self._writer() as session, session.begin():
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        with self._reader() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()
