"""A serving process with more than 1,024 open files (many SSE watchers, many
connections) still checks out database connections: nothing may use select() on them."""

from __future__ import annotations

import os
import resource
import tempfile
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from tests.harness import drop_postgres_database, fresh_postgres_database, postgres_available
from wangua.db import Database


@pytest.fixture
def many_files() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2100:
        pytest.skip("the open-file limit is below 2,100 here")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2100), hard))
    held = [tempfile.TemporaryFile() for _ in range(1100)]  # noqa: SIM115
    try:
        yield
    finally:
        for handle in held:
            handle.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_connections_check_out_with_descriptors_above_1024(many_files: None) -> None:
    if not postgres_available():
        pytest.skip("PostgreSQL is not reachable here")
    name = f"wangua_fd_{os.getpid()}"
    url = fresh_postgres_database(name)
    database = Database(url)
    try:
        for _ in range(3):  # the second checkout reuses the pooled connection
            with database.read_session() as session:
                assert session.execute(text("SELECT 1")).scalar() == 1
    finally:
        database.dispose()
        drop_postgres_database(name)
