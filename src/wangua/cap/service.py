"""The price cap procedure (R-CAP, a house rule).

A quote above a lot's cap is refused (bidding.rules). The first quote at the cap ends
price competition: no quote can follow it, and the lot keeps its phase until that
phase's deadline (the listing deadline, which the law fixes, or the countdown the cap bid
restarted) while the bidders who may quote in it accept the cap or not. At the deadline
the lot is decided by a lottery among the bidder who quoted the cap and those who
accepted it, at the cap, unless the cap is below the reserve (cap.draw). A lot that
reaches its cap in the listing period has no inquiry: there is no price left to bid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wangua.applications.repository import bidder_numbers
from wangua.audit.service import lot_stream, record
from wangua.bidding import rules
from wangua.bidding.models import Result
from wangua.bidding.repository import quoting
from wangua.cap import draw
from wangua.cap.models import CapAcceptance, CapLottery
from wangua.kit.money import format_fen
from wangua.kit.problems import Problem
from wangua.kit.times import rfc3339
from wangua.live.events import emit
from wangua.lots.models import Lot
from wangua.lots.repository import lock_lot
from wangua.runtime import Work
from wangua.scheduler.service import judged_after_timers


def acceptance_end(lot: Lot) -> datetime | None:
    """Until when the cap may be accepted: the deadline of the phase the cap came in."""
    if lot.status == "listing":
        return lot.listing_end
    if lot.status == "timed_bidding":
        return lot.timed_deadline
    return None


def reach_cap(work: Work, lot: Lot, at: datetime) -> None:
    """R-CAP: the quote at the cap, just accepted at `at`, ends price competition. The
    lottery's seed is drawn now and sealed, and its digest published before anyone can
    accept the cap, so nobody can choose the seed for the entrants or know it early."""
    seed = draw.new_seed()
    lottery = CapLottery(
        lot_id=lot.id,
        reached_at=at,
        commitment=draw.commitment(seed),
        sealed_seed=work.sealing_key.seal_secret(seed, lot.code),
    )
    work.session.add(lottery)
    assert lot.price_cap_fen is not None
    emit(
        work,
        lot,
        "phase",
        {
            "status": lot.status,
            "at": rfc3339(at),
            "cap_reached": True,
            "price_cap": format_fen(lot.price_cap_fen),
            "acceptance_end": rfc3339(acceptance_end(lot)),
            "lottery_commitment": lottery.commitment,
        },
    )
    record(
        work,
        "lot.cap_reached",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        data={"price_cap_fen": lot.price_cap_fen, "commitment": lottery.commitment},
        at=at,
    )


def acceptance_refusal(lot: Lot, bidder: rules.Bidder) -> Problem | None:
    """R-CAP: why `bidder` may not accept the lot's cap in its current phase, or None: the
    cap must be reached, and the bidder one who may quote now (qualified; in timed
    bidding, a participant). The receipt's time against the deadline is the caller's."""
    if acceptance_end(lot) is None:
        return Problem(409, "NOT_OPEN", "当前不在接受最高限价的时间内")
    if not lot.capped:
        return Problem(409, "NOT_CAPPED", "本宗地报价尚未达到最高限价")
    if not bidder.qualified:
        return Problem(403, "NOT_QUALIFIED", "您在该地块没有竞买资格")
    if lot.status == "timed_bidding" and not bidder.joined_timed:
        return Problem(403, "NOT_A_PARTICIPANT", "您未参加本宗地的网上限时竞价")
    return None


@dataclass(frozen=True)
class Accepted:
    accepted_at: datetime
    bidder_number: str
    acceptance_end: datetime


def accept_cap(work: Work, lot_id: int, received_at: datetime | None = None) -> Accepted:
    """R-CAP: a bidder who may quote in the lot's phase now (any qualified bidder in the
    listing period, a participant in timed bidding) accepts the cap and enters the
    lottery; judged at its receipt time like a quote. Accepting again changes nothing."""
    lot = lock_lot(work, lot_id)
    if received_at is not None:
        work.received(received_at)
    judged_after_timers(work, lot)
    now = work.now()
    seen = quoting(work.session, lot.id, work.actor.user_id, None, due_by=None)
    assert seen is not None  # the lot is locked
    ends = acceptance_end(lot)
    if ends is not None and now >= ends:
        raise Problem(409, "NOT_OPEN", "当前不在接受最高限价的时间内")
    refused = acceptance_refusal(lot, seen.bidder)
    if refused is not None:
        raise refused
    assert ends is not None
    application_id = seen.bidder.application_id
    number = seen.bidder_number or ""
    if application_id == lot.leader_application_id:  # quoted the cap: entered already
        lottery = work.session.get(CapLottery, lot.id)
        assert lottery is not None
        return Accepted(lottery.reached_at, number, ends)
    accepted = work.session.get(CapAcceptance, (lot.id, application_id))
    if accepted is None:
        accepted = CapAcceptance(lot_id=lot.id, application_id=application_id, accepted_at=now)
        work.session.add(accepted)
        record(
            work,
            "cap.accepted",
            stream=lot_stream(lot.id),
            object_type="application",
            object_id=application_id,
        )
    return Accepted(accepted.accepted_at, number, ends)


def has_accepted(session: Session, lot: Lot, application_id: int) -> bool:
    """Whether the bidder is in the lot's lottery: accepted the cap, or quoted it."""
    if not lot.capped:
        return False
    if application_id == lot.leader_application_id:
        return True
    return session.get(CapAcceptance, (lot.id, application_id)) is not None


def draw_lottery(work: Work, lot: Lot, at: datetime) -> int:
    """R-CAP: at the deadline, open the seed and draw the winner among the bidder who
    quoted the cap and those who accepted it; publish the seed and the entrants so anyone
    can check the draw. Returns the winner's application."""
    lottery = work.session.get(CapLottery, lot.id)
    assert lottery is not None and lot.leader_application_id is not None
    seed = work.sealing_key.open_secret(lottery.sealed_seed, lot.code)
    assert draw.commitment(seed) == lottery.commitment
    accepted = set(
        work.session.scalars(
            select(CapAcceptance.application_id).where(CapAcceptance.lot_id == lot.id)
        )
    )
    numbers = {
        number: application_id
        for application_id, number in bidder_numbers(
            work.session, accepted | {lot.leader_application_id}
        ).items()
        if number is not None
    }
    won = draw.winner(seed, lot.code, numbers)
    lottery.seed = seed.hex()
    lottery.entrants = sorted(numbers)
    lottery.winner_application_id = numbers[won]
    lottery.drawn_at = at
    record(
        work,
        "lot.cap_lottery_drawn",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        data={
            "method": draw.METHOD,
            "commitment": lottery.commitment,
            "seed": lottery.seed,
            "entrants": lottery.entrants,
            "winner": won,
        },
        at=at,
    )
    return numbers[won]


def outcome(work: Work, lot: Lot, reserve_fen: int | None, at: datetime) -> rules.Outcome:
    """R-CAP: the lottery's winner buys at the cap, unless the cap is below the reserve,
    in which case nobody does and nothing is drawn."""
    assert lot.price_cap_fen is not None
    if not rules.meets_reserve(lot.price_cap_fen, reserve_fen):
        return rules.Outcome(False, None, None, "R-CAP")
    return rules.Outcome(True, draw_lottery(work, lot, at), lot.price_cap_fen, "R-CAP")


def lottery_view(session: Session, lot_id: int) -> dict[str, Any] | None:
    """The lot's lottery as published: the commitment from the moment the cap is
    reached; the seed, the entrants and the winner (bidder numbers) once drawn."""
    lottery = session.get(CapLottery, lot_id)
    if lottery is None:
        return None
    winner = None
    if lottery.winner_application_id is not None:
        winner = bidder_numbers(session, {lottery.winner_application_id}).get(
            lottery.winner_application_id
        )
    return {
        "method": draw.METHOD,
        "reached_at": rfc3339(lottery.reached_at),
        "commitment": lottery.commitment,
        "seed": lottery.seed,
        "entrants": lottery.entrants,
        "winner": winner,
        "drawn_at": rfc3339(lottery.drawn_at),
    }


def result_lottery(session: Session, result: Result) -> dict[str, Any] | None:
    """The lottery view for a result decided by the cap procedure; None (without reading
    anything) for a result of any other rule."""
    return lottery_view(session, result.lot_id) if result.rule == "R-CAP" else None
