"""Random identifiers: tokens, order numbers, bidder numbers."""

from __future__ import annotations

import secrets
from datetime import datetime

from wangua.kit.times import SHANGHAI


def token() -> str:
    return secrets.token_urlsafe(32)


def order_number(at: datetime) -> str:
    """R-15: an order number (订单流水号), unique; the date keeps it readable on bank slips."""
    return f"WG{at.astimezone(SHANGHAI):%Y%m%d}{secrets.randbelow(10**10):010d}"


def bidder_number() -> str:
    """R-16c: a random bidder number (竞买号); uniqueness within the lot is the caller's loop."""
    return f"{secrets.randbelow(10**6):06d}"
