"""One lot decided by timed bidding per database, shared by the printing tests."""

from __future__ import annotations

import pytest

from tests.harness import Stack
from tests.printing.support import Auction, timed_auction


@pytest.fixture(scope="module")
def auction(stack: Stack) -> Auction:
    return timed_auction(stack)
