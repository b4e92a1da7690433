"""Fixtures: a running system per database backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import Account, Stack, postgres_available, running_stack

BACKENDS = ["sqlite", "postgresql"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if postgres_available():
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError("PostgreSQL is unreachable at 127.0.0.1:5432, and CI needs it")
    skip = pytest.mark.skip(reason="PostgreSQL is not reachable here")
    for item in items:
        if "postgresql" in item.keywords or "[postgresql" in item.nodeid:
            item.add_marker(skip)


@pytest.fixture(scope="session", params=BACKENDS)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    base: Path = tmp_path_factory.mktemp(request.param)
    if request.param == "postgresql" and not postgres_available():
        pytest.skip("PostgreSQL is not reachable here")
    with running_stack(request.param, base) as running:
        yield running


@pytest.fixture
def staff(stack: Stack) -> Account:
    return stack.account("staff", "xianning-city")
