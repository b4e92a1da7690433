"""One migration history for both databases, in step with the models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.harness import drop_postgres_database, fresh_postgres_database, postgres_available
from wangua.migrations import drift, upgrade


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_models_have_not_drifted_from_the_migrations(backend: str, tmp_path: Path) -> None:
    name = f"wangua_migrations_{os.getpid()}"
    if backend == "postgresql":
        if not postgres_available():
            pytest.skip("PostgreSQL is not reachable here")
        url = fresh_postgres_database(name)
    else:
        url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    try:
        upgrade(url)
        assert drift(url) == []
        upgrade(url)  # a second run is a no-op
    finally:
        if backend == "postgresql":
            drop_postgres_database(name)
