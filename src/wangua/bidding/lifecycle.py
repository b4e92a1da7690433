"""A lot's phases, moved by its timers (R-22 … R-27).

announced → listing (listing start) → inquiry (listing deadline, R-22/R-24)
→ timed_bidding (inquiry end, if anyone joined) → sold | unsold.
Each handler runs under the lot's lock at the timer's own due time and does
nothing if the lot is no longer in the phase the timer belongs to. The deadlines'
handlers take every lot whose deadline the scheduler fires together (a lot alone is a
list of one), so lots that share a deadline move on in a few statements.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, distinct, func, select

from wangua.applications.models import Application
from wangua.audit.service import Entry, lot_stream, record, record_all
from wangua.availability.service import WINDOW, outages_touching, suspend_for_outage
from wangua.bidding import rules
from wangua.bidding.models import InquiryAnswer, Quote, Result
from wangua.cap import service as cap
from wangua.deposits.refunds import settle_lot
from wangua.kit.money import format_fen
from wangua.kit.times import rfc3339
from wangua.live.events import emit, emit_all
from wangua.lots.models import Lot
from wangua.publishing.service import publish
from wangua.reserve.service import has_sealed_reserve, open_reserve, open_reserves
from wangua.runtime import Work
from wangua.scheduler.service import (
    cancel,
    handles,
    handles_together,
    schedule_lots,
)
from wangua.suspension.core import suspend_lot

WARNING_KINDS = {seconds: f"warning_{seconds}" for seconds in rules.WARNING_SECONDS}
COUNTDOWN_KINDS = ("countdown_end", *WARNING_KINDS.values())


@handles("listing_start")
def open_listing(work: Work, lot: Lot, at: datetime) -> None:
    """R-18: the listing period opens at the announced start."""
    if lot.status != "announced":
        return
    lot.status = "listing"
    emit(
        work,
        lot,
        "phase",
        {"status": "listing", "at": rfc3339(at), "listing_end": rfc3339(lot.listing_end)},
    )
    record(
        work,
        "lot.listing_opened",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        at=at,
    )


@handles("deposit_deadline")
def close_deposits(work: Work, lot: Lot, at: datetime) -> None:
    """R-16b: applications without the full deposit by the deadline are not qualified."""
    pending = work.session.scalars(
        select(Application).where(
            Application.lot_id == lot.id, Application.status == "awaiting_deposit"
        )
    ).all()
    for application in pending:
        application.status = "rejected"
    record(
        work,
        "lot.deposits_closed",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        data={"rejected": [a.id for a in pending]},
        at=at,
    )


@handles_together("listing_end", closing=True)
def end_listings(work: Work, ending: list[tuple[Lot, datetime]]) -> None:
    """R-22: at the deadline, ask the bidders who quoted; with no quote the lot is unsold.
    A lot whose price reached its cap is decided by its lottery (R-CAP). Lots whose
    listings end together move on together, each at its own deadline."""
    ending = _not_suspended_by_outage(
        work, [(lot, at) for lot, at in ending if lot.status == "listing"]
    )
    unquoted = rules.outcome_without_timed_bidding(0, None, None, None)
    decide_all(work, [(lot, unquoted, at) for lot, at in ending if lot.quote_count == 0])
    asking = []
    for lot, at in ending:
        if lot.quote_count == 0:
            continue
        if lot.has_reserve and not has_sealed_reserve(work, lot):
            suspend_for_missing_reserve(work, lot, at)
        elif lot.capped:  # R-CAP: no price is left to bid in timed bidding
            _decide_by_lottery(work, lot, at)
        else:
            asking.append((lot, at, at + rules.INQUIRY_WINDOW))
    if not asking:
        return
    for lot, _, inquiry_end in asking:
        lot.status = "inquiry"
        lot.inquiry_end = inquiry_end
    schedule_lots(work, {lot.id: {"inquiry_end": inquiry_end} for lot, _, inquiry_end in asking})
    emit_all(
        work,
        [
            (
                lot,
                "phase",
                {"status": "inquiry", "at": rfc3339(at), "inquiry_end": rfc3339(inquiry_end)},
            )
            for lot, at, inquiry_end in asking
        ],
    )
    record_all(
        work,
        [
            Entry("lot.inquiry_opened", "lot", stream=lot_stream(lot.id), object_id=lot.id, at=at)
            for lot, at, _ in asking
        ],
    )


@handles_together("inquiry_end", closing=True)
def end_inquiries(work: Work, ending: list[tuple[Lot, datetime]]) -> None:
    """R-24 (house rule): timed bidding starts when the 5 minutes end, if anyone joined;
    otherwise R-22 decides on the listing quotes. Lots whose inquiries end together move
    on together, each at its own time."""
    ending = _not_suspended_by_outage(
        work, [(lot, at) for lot, at in ending if lot.status == "inquiry"]
    )
    if not ending:
        return
    joined = _counts(
        work,
        select(InquiryAnswer.lot_id, func.count())
        .where(
            InquiryAnswer.lot_id.in_([lot.id for lot, _ in ending]),
            InquiryAnswer.joined.is_(True),
        )
        .group_by(InquiryAnswer.lot_id),
    )
    unjoined = [(lot, at) for lot, at in ending if lot.id not in joined]
    if unjoined:
        _decide_by_counts(
            work,
            unjoined,
            select(Quote.lot_id, func.count(distinct(Quote.application_id)))
            .where(Quote.lot_id.in_([lot.id for lot, _ in unjoined]))
            .group_by(Quote.lot_id),
            rules.outcome_without_timed_bidding,
        )
    starting = [(lot, at) for lot, at in ending if lot.id in joined]
    if not starting:
        return
    for lot, _ in starting:
        lot.status = "timed_bidding"
    restart_countdowns(work, starting)
    emit_all(
        work,
        [
            (
                lot,
                "phase",
                {
                    "status": "timed_bidding",
                    "at": rfc3339(at),
                    "timed_deadline": rfc3339(lot.timed_deadline),
                    "minimum": format_fen(
                        (lot.highest_fen or lot.start_price_fen) + lot.increment_fen
                    ),
                    "participants": joined[lot.id],
                },
            )
            for lot, at in starting
        ],
    )
    record_all(
        work,
        [
            Entry(
                "lot.timed_bidding_started",
                "lot",
                stream=lot_stream(lot.id),
                object_id=lot.id,
                data={"participants": joined[lot.id]},
                at=at,
            )
            for lot, at in starting
        ],
    )


def restart_countdown(work: Work, lot: Lot, at: datetime) -> None:
    """R-25a, R-25b: a fresh 5-minute countdown and its three warnings."""
    restart_countdowns(work, [(lot, at)])


def restart_countdowns(work: Work, restarting: list[tuple[Lot, datetime]]) -> None:
    """R-25a, R-25b: for each lot a fresh 5-minute countdown from `at` and its three
    warnings, the timers read in one statement."""
    due = {}
    for lot, at in restarting:
        lot.timed_deadline = rules.countdown_deadline(at)
        warnings = rules.warning_times(lot.timed_deadline)
        due[lot.id] = {
            "countdown_end": lot.timed_deadline,
            **{WARNING_KINDS[seconds]: when for seconds, when in warnings.items()},
        }
    schedule_lots(work, due)


@handles_together(*WARNING_KINDS.values())
def warn(work: Work, warned: list[tuple[Lot, datetime]]) -> None:
    """R-25b: one of the three last-minute warnings, for every lot due it together."""
    emit_all(
        work,
        [
            (
                lot,
                "warning",
                {
                    "seconds_left": round((lot.timed_deadline - at).total_seconds()),
                    "timed_deadline": rfc3339(lot.timed_deadline),
                },
            )
            for lot, at in warned
            if lot.status == "timed_bidding" and lot.timed_deadline is not None
        ],
    )


@handles_together("countdown_end", closing=True)
def end_countdowns(work: Work, ending: list[tuple[Lot, datetime]]) -> None:
    """R-25c, R-23, R-27: the countdowns ended; no bid is taken any more. Lots whose
    countdowns end together are decided together, each at its own deadline. A lot whose
    price reached its cap is decided by its lottery (R-CAP)."""
    ending = _not_suspended_by_outage(
        work, [(lot, at) for lot, at in ending if lot.status == "timed_bidding"]
    )
    for lot, at in ending:
        if lot.capped:
            _decide_by_lottery(work, lot, at)
    ending = [(lot, at) for lot, at in ending if not lot.capped]
    if not ending:
        return
    _decide_by_counts(
        work,
        ending,
        select(Quote.lot_id, func.count())
        .where(Quote.lot_id.in_([lot.id for lot, _ in ending]), Quote.phase == rules.Phase.TIMED)
        .group_by(Quote.lot_id),
        rules.outcome_of_timed_bidding,
    )


def _decide_by_counts(
    work: Work,
    deciding: list[tuple[Lot, datetime]],
    counting: Select[int, int],
    outcome: Callable[[int, int | None, int | None, int | None], rules.Outcome],
) -> None:
    """Decide each lot by `outcome` of its count (bidders or timed bids, per lot from
    `counting`), its highest price, its leader and its reserve, opened for the decision."""
    counts = _counts(work, counting)
    reserves = open_reserves(work, [lot for lot, _ in deciding])
    decide_all(
        work,
        [
            (
                lot,
                outcome(
                    counts.get(lot.id, 0),
                    lot.highest_fen,
                    lot.leader_application_id,
                    reserves.get(lot.id),
                ),
                at,
            )
            for lot, at in deciding
        ],
    )


def _decide_by_lottery(work: Work, lot: Lot, at: datetime) -> None:
    """R-CAP: the price reached the cap; the lottery decides, at the cap."""
    decide(work, lot, cap.outcome(work, lot, open_reserve(work, lot), at), at)


def decide(work: Work, lot: Lot, outcome: rules.Outcome, at: datetime) -> None:
    """Record the lot's result and close it (see `decide_all`)."""
    decide_all(work, [(lot, outcome, at)])


def decide_all(work: Work, decisions: list[tuple[Lot, rules.Outcome, datetime]]) -> None:
    """Record each lot's result, decided at its `at`, and close the lots: no timer of them
    fires again but their settlements. The reserve, if a lot has one, is opened here and
    shown with the result (R-11, R-25c). A few statements for however many lots."""
    if not decisions:
        return
    reserves = open_reserves(work, [lot for lot, _, _ in decisions])
    winner_ids = [outcome.winner for _, outcome, _ in decisions if outcome.winner is not None]
    winners: dict[int | None, Application] = {}
    if winner_ids:  # for the results' bidder numbers
        loaded = work.session.scalars(select(Application).where(Application.id.in_(winner_ids)))
        winners = {application.id: application for application in loaded}
    results = [
        Result(
            lot_id=lot.id,
            outcome="sold" if outcome.sold else "unsold",
            price_fen=outcome.price_fen,
            winner_application_id=outcome.winner,
            reserve_fen=reserves.get(lot.id),
            rule=outcome.rule,
            decided_at=at,
        )
        for lot, outcome, at in decisions
    ]
    emit_all(
        work,
        [
            (lot, "result", _result_data(work, result, winners.get(result.winner_application_id)))
            for (lot, _, _), result in zip(decisions, results, strict=True)
        ],
    )
    work.session.add_all(results)
    for (lot, _, at), result in zip(decisions, results, strict=True):
        lot.status = result.outcome
        lot.ended_at = at
    cancel(work, *(lot.id for lot, _, _ in decisions))  # its flush writes the lots too
    record_all(
        work,
        [
            Entry(
                "lot.decided",
                "lot",
                stream=lot_stream(lot.id),
                object_id=lot.id,
                data={
                    "outcome": result.outcome,
                    "price_fen": result.price_fen,
                    "winner_application_id": outcome.winner,
                    "rule": outcome.rule,
                },
                at=at,
            )
            for (lot, outcome, at), result in zip(decisions, results, strict=True)
        ],
    )
    schedule_lots(work, {lot.id: {"settle": at} for lot, _, at in decisions})


@handles("settle", follow_up=True)
def settle(work: Work, lot: Lot, at: datetime) -> None:
    """R-29, R-30a, R-30b, R-41: after the decision, the result notice for the publishing
    platforms and the deposits' settlement, at the decision's time. Requests that catch
    the lot up fire it with the decision; the scheduler after every lot due with it."""
    result = work.session.get(Result, lot.id)
    if result is None:
        return
    publish(
        work,
        "result",
        lot,
        {
            "summary": _result_summary(lot, result),
            "result": _result_data(work, result, _winner(work, result)),
        },
    )
    settle_lot(work, lot, at)


def _winner(work: Work, result: Result) -> Application | None:
    winner_id = result.winner_application_id
    return None if winner_id is None else work.session.get(Application, winner_id)


def _result_data(work: Work, result: Result, winner: Application | None) -> dict[str, Any]:
    return {
        "outcome": result.outcome,
        "price": None if result.price_fen is None else format_fen(result.price_fen),
        "bidder_number": winner.bidder_number if winner else None,
        "reserve_price": None if result.reserve_fen is None else format_fen(result.reserve_fen),
        "rule": result.rule,
        "decided_at": rfc3339(result.decided_at),
        "lottery": cap.result_lottery(work.session, result),
    }


def _result_summary(lot: Lot, result: Result) -> str:
    if result.outcome == "sold" and result.price_fen is not None:
        return f"{lot.name}成交,成交价 {format_fen(result.price_fen)} 元"
    return f"{lot.name}不成交"


def _counts(work: Work, counting: Select[int, int]) -> dict[int, int]:
    """A count per lot id, from a statement that selects (lot id, count) grouped by lot."""
    return {lot_id: count for lot_id, count in work.session.execute(counting)}


def _not_suspended_by_outage(
    work: Work, deadlines: list[tuple[Lot, datetime]]
) -> list[tuple[Lot, datetime]]:
    """R-37c: a deadline with an outage in its last 5 minutes suspends its lot instead of
    deciding; the outages read in one statement. Returns the lots that were not."""
    if not deadlines:
        return []
    ats = [at for _, at in deadlines]
    outages = outages_touching(work, min(ats) - WINDOW, max(ats))
    kept = []
    for lot, at in deadlines:
        outage = next(
            (o for o in outages if o.started_at <= at and o.ended_at >= at - WINDOW), None
        )
        if outage is None:
            kept.append((lot, at))
        else:
            suspend_for_outage(work, lot, outage.started_at)
    return kept


def suspend_for_missing_reserve(work: Work, lot: Lot, at: datetime) -> None:
    """R-11: a lot that has a reserve but received none cannot be decided; suspended
    under cause (5), it can resume once a reserve is sealed and imported."""
    suspend_lot(work, lot, 5, "设有底价但未导入底价,依规中止,不作出成交决定", frozen_at=at)
