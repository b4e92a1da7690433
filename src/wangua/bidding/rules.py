"""The bidding rules as pure functions over plain data: no clock, no I/O.

Given a lot's standing and a quote at a time, accept or refuse with which code
(R-19a … R-25c); given the proxies, which bids follow (R-26); given the lot at
its deadline, which outcome under which rule (R-22, R-23, R-27).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

COUNTDOWN = timedelta(minutes=5)
"""R-25a: every accepted timed bid restarts the countdown at 5 minutes."""

INQUIRY_WINDOW = timedelta(minutes=5)
"""R-24: bidders answer the inquiry within 5 minutes after the listing deadline."""

WARNING_SECONDS = (60, 30, 10)
"""R-25b (house rule): three warnings in the last minute of each countdown."""


class Phase(StrEnum):
    LISTING = "listing"
    TIMED = "timed"


class Refusal(StrEnum):
    """Why a quote is refused; the values are the API's stable codes."""

    NOT_QUALIFIED = "NOT_QUALIFIED"
    NOT_OPEN = "NOT_OPEN"
    NOT_A_PARTICIPANT = "NOT_A_PARTICIPANT"
    ALREADY_HIGHEST = "ALREADY_HIGHEST"
    ABOVE_PRICE_CAP = "ABOVE_PRICE_CAP"
    BELOW_START_PRICE = "BELOW_START_PRICE"
    INCREMENT_TOO_SMALL = "INCREMENT_TOO_SMALL"


@dataclass(frozen=True)
class Window:
    """The quoting phase that is open, and when it closes (exclusive)."""

    phase: Phase
    opens_at: datetime
    closes_at: datetime


@dataclass(frozen=True)
class Standing:
    """What a quote is judged against: the lot's prices and its open window."""

    start_fen: int
    increment_fen: int
    cap_fen: int | None
    highest_fen: int | None
    leader: int | None
    window: Window | None


@dataclass(frozen=True)
class Bidder:
    application_id: int
    qualified: bool
    joined_timed: bool


@dataclass(frozen=True)
class ProxyOrder:
    application_id: int
    max_fen: int
    set_seq: int


@dataclass(frozen=True)
class ProxyBid:
    application_id: int
    amount_fen: int


@dataclass(frozen=True)
class Outcome:
    sold: bool
    winner: int | None
    price_fen: int | None
    rule: str


def quoting_window(
    status: str,
    listing_start: datetime,
    listing_end: datetime,
    timed_deadline: datetime | None,
    timed_start: datetime | None,
) -> Window | None:
    """R-18, R-25c: quotes are taken in the listing period and in timed bidding only."""
    if status == "listing":
        return Window(Phase.LISTING, listing_start, listing_end)
    if status == "timed_bidding" and timed_deadline is not None and timed_start is not None:
        return Window(Phase.TIMED, timed_start, timed_deadline)
    return None


def next_minimum(standing: Standing) -> int:
    """R-19a, R-19b, R-23: the start price first, then the highest plus one increment."""
    if standing.highest_fen is None:
        return standing.start_fen
    return standing.highest_fen + standing.increment_fen


def refusal(standing: Standing, bidder: Bidder, amount_fen: int, now: datetime) -> Refusal | None:
    """Judge one quote received at `now`; None means it is accepted."""
    if not bidder.qualified:
        return Refusal.NOT_QUALIFIED  # R-19a
    window = standing.window
    if window is None or not window.opens_at <= now < window.closes_at:
        return Refusal.NOT_OPEN  # R-18, R-25c: nothing at or after a deadline
    if window.phase is Phase.TIMED and not bidder.joined_timed:
        return Refusal.NOT_A_PARTICIPANT
    if standing.leader == bidder.application_id:
        return Refusal.ALREADY_HIGHEST  # R-19d, R-23
    if standing.cap_fen is not None and amount_fen > standing.cap_fen:
        return Refusal.ABOVE_PRICE_CAP  # R-CAP
    if standing.highest_fen is None:
        if amount_fen < standing.start_fen:
            return Refusal.BELOW_START_PRICE  # R-19a
    elif amount_fen < next_minimum(standing):
        return Refusal.INCREMENT_TOO_SMALL  # R-19b, R-23
    return None


def proxy_bids(
    highest_fen: int,
    leader: int | None,
    increment_fen: int,
    cap_fen: int | None,
    proxies: Sequence[ProxyOrder],
) -> list[ProxyBid]:
    """R-26: while someone else leads, the earliest-set proxy that can pay the next
    minimum bids it; repeat until no proxy can bid."""
    ordered = sorted(proxies, key=lambda p: p.set_seq)
    bids: list[ProxyBid] = []
    while True:
        minimum = highest_fen + increment_fen
        if cap_fen is not None and minimum > cap_fen:
            return bids
        bidder = next(
            (p for p in ordered if p.application_id != leader and p.max_fen >= minimum), None
        )
        if bidder is None:
            return bids
        bids.append(ProxyBid(bidder.application_id, minimum))
        highest_fen, leader = minimum, bidder.application_id


def countdown_deadline(received_at: datetime) -> datetime:
    """R-25a: the countdown restarts at 5 minutes from the bid's receipt time."""
    return received_at + COUNTDOWN


def warning_times(deadline: datetime) -> dict[int, datetime]:
    """R-25b: when each last-minute warning is due, by seconds left."""
    return {s: deadline - timedelta(seconds=s) for s in WARNING_SECONDS}


def meets_reserve(price_fen: int, reserve_fen: int | None) -> bool:
    """R-11: a price sells unless it is below the reserve (if the lot has one)."""
    return reserve_fen is None or price_fen >= reserve_fen


def outcome_without_timed_bidding(
    listing_bidders: int, highest_fen: int | None, leader: int | None, reserve_fen: int | None
) -> Outcome:
    """R-22: nobody joined timed bidding; decide on the listing quotes."""
    if listing_bidders == 0 or highest_fen is None or leader is None:
        return Outcome(False, None, None, "R-22(3)")
    if not meets_reserve(highest_fen, reserve_fen):
        return Outcome(False, None, None, "R-22(3)")
    rule = "R-22(1)" if listing_bidders == 1 else "R-22(2)"
    return Outcome(True, leader, highest_fen, rule)


def outcome_of_timed_bidding(
    timed_bids: int, highest_fen: int | None, leader: int | None, reserve_fen: int | None
) -> Outcome:
    """R-23 (highest timed bid wins) or R-27 (nobody bid: the highest listing quote wins),
    in both cases only if not below the reserve."""
    rule = "R-23" if timed_bids > 0 else "R-27"
    if highest_fen is None or leader is None or not meets_reserve(highest_fen, reserve_fen):
        return Outcome(False, None, None, rule)
    return Outcome(True, leader, highest_fen, rule)
