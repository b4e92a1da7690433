"""What the public board and a bidder's own view of a lot show (R-07, R-19c, R-27)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wangua.applications.models import Application
from wangua.applications.repository import bidder_numbers
from wangua.bidding import rules
from wangua.bidding.models import InquiryAnswer, Proxy, Quote, Result
from wangua.bidding.service import quote_view
from wangua.cap.service import acceptance_refusal, has_accepted, result_lottery
from wangua.identity.models import Party, User
from wangua.kit.money import format_fen
from wangua.kit.problems import Problem
from wangua.kit.times import rfc3339
from wangua.lots.models import Lot
from wangua.results.confirmation import confirmation_view
from wangua.results.service import void_view


def result_view(session: Session, lot_id: int) -> dict[str, Any]:
    """The decision with the rule that made it, the winner and the reserve price
    revealed (R-27), and the lottery that drew the winner at the cap (R-CAP); 404
    NOT_DECIDED before."""
    result = session.get(Result, lot_id)
    if result is None:
        raise Problem(404, "NOT_DECIDED", "该地块尚未产生出让结果")
    winner = None
    if result.winner_application_id is not None:
        application = session.get(Application, result.winner_application_id)
        assert application is not None
        user = session.get(User, application.user_id)
        party = session.get(Party, user.party_id) if user and user.party_id else None
        members = application.members
        winner = {
            "bidder_number": application.bidder_number,
            "name": party.name if party else "、".join(m["name"] for m in members),
            "members": members,
        }
    return {
        "outcome": result.outcome,
        "price": None if result.price_fen is None else format_fen(result.price_fen),
        "winner": winner,
        "reserve_price": None if result.reserve_fen is None else format_fen(result.reserve_fen),
        "decided_at": rfc3339(result.decided_at),
        "rule": result.rule,
        "voided": None if result.voided_at is None else void_view(result),
        "confirmation": confirmation_view(session, result),
        "lottery": result_lottery(session, result),
    }


def quote_history(session: Session, lot_id: int) -> list[dict[str, Any]]:
    """Every accepted quote, newest first, by bidder number only (R-07)."""
    quotes = list(
        session.scalars(select(Quote).where(Quote.lot_id == lot_id).order_by(Quote.seq.desc()))
    )
    numbers = bidder_numbers(session, {q.application_id for q in quotes})
    return [quote_view(q, numbers.get(q.application_id)) for q in quotes]


def next_minimum(lot: Lot) -> str:
    """The lowest amount the next quote may have (R-19a, R-19b)."""
    if lot.highest_fen is None:
        return format_fen(lot.start_price_fen)
    return format_fen(lot.highest_fen + lot.increment_fen)


@dataclass(frozen=True)
class BidderStanding:
    """One bidder's own position on a lot: what the page lets them do."""

    application: Application | None
    has_listing_quote: bool
    inquiry_answer: bool | None
    proxy_max: str | None
    won: bool = False
    in_lottery: bool = False  # R-CAP: accepted the cap, or quoted it
    may_accept_cap: bool = False  # R-CAP: the cap is reached and the bidder may still accept

    @property
    def qualified(self) -> bool:
        return self.application is not None and self.application.status == "qualified"


def bidder_standing(session: Session, lot: Lot, user_id: int) -> BidderStanding:
    application = session.scalar(
        select(Application).where(Application.lot_id == lot.id, Application.user_id == user_id)
    )
    if application is None:
        return BidderStanding(None, False, None, None)
    quoted = session.scalar(
        select(Quote.id).where(
            Quote.application_id == application.id, Quote.phase == rules.Phase.LISTING.value
        )
    )
    answer = session.scalar(
        select(InquiryAnswer.joined).where(
            InquiryAnswer.lot_id == lot.id, InquiryAnswer.application_id == application.id
        )
    )
    proxy = session.scalar(
        select(Proxy.max_fen).where(
            Proxy.lot_id == lot.id,
            Proxy.application_id == application.id,
            Proxy.cancelled_at.is_(None),
        )
    )
    result = session.get(Result, lot.id)
    in_lottery = has_accepted(session, lot, application.id)
    return BidderStanding(
        application,
        quoted is not None,
        answer,
        None if proxy is None else format_fen(proxy),
        won=result is not None and result.winner_application_id == application.id,
        in_lottery=in_lottery,
        may_accept_cap=not in_lottery
        and acceptance_refusal(
            lot, rules.Bidder(application.id, application.status == "qualified", bool(answer))
        )
        is None,
    )
