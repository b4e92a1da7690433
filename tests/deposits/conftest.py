"""A second bank for a county (WANGUA_BANKS), configured on the running system."""

from __future__ import annotations

import json

import pytest

from tests.deposits.support import COUNTY_BANK
from tests.harness import Account, Stack


@pytest.fixture(autouse=True)
def county_bank(stack: Stack) -> None:
    settings = stack.runtime.settings
    if not settings.banks:
        settings.banks = json.dumps([COUNTY_BANK], ensure_ascii=False)


@pytest.fixture
def finance(stack: Stack) -> Account:
    return stack.account("finance", "xianning-city")
