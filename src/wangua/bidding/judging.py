"""A quote's judging under its lot's lock (R-18 … R-26), alone or together with the quotes
queued right behind it: then one worker-thread hand-off, one lock and one durable commit
for them all.

A lot's quotes are judged one at a time in the order they arrived (bidding.receipts).
Each in a transaction of its own, a hot lot's rate was that of one worker-thread
hand-off, one lock and one durable commit after another however many bid. So when a quote's
turn comes, the quotes waiting right behind it are taken along (`Receipts.take_along`,
up to `AT_MOST`) and judged in the same transaction, one after another in arrival order,
each exactly as it would be alone: at its own receipt time (R-18), with the lot's timers
caught up to that time, and in a savepoint of its own, so that a refusal changes nothing
but keeps the timers it fired. Every answer is given once the transaction has committed.

A quote that meets a closing timer in its grace (scheduler.service.InGrace) ends the
batch there: it and the quotes behind it are judged on their own, after the timer. If
the transaction fails, nothing of it is kept and every quote in it is judged on its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from sqlalchemy.orm import Session

from wangua.bidding import service
from wangua.bidding.prejudge import refuse_stale
from wangua.bidding.receipts import Receipt
from wangua.bidding.standings import Accepted
from wangua.kit.problems import Problem
from wangua.monitoring.metrics import QUOTES_JUDGED_TOGETHER
from wangua.runtime import Actor, Runtime, Work
from wangua.scheduler.service import InGrace

AT_MOST = 31  # quotes taken along, each a savepoint: PostgreSQL keeps 64 per transaction cheap
log = logging.getLogger(__name__)
QuoteAnswer = tuple[dict[str, Any], bool]
"""A judged quote's view and whether it is new (R-20: not, for a `request_id` seen)."""


@dataclass(eq=False)
class Asked:
    """A quote received as `receipt`, to be judged."""

    actor: Actor
    receipt: Receipt
    amount_fen: int
    request_id: str | None
    answer: QuoteAnswer | Problem | None = None
    """Set when it was judged along with an earlier quote (`judge_together`)."""

    def answered(self) -> QuoteAnswer:
        """The answer given to it along with an earlier quote: returned, or raised."""
        assert self.answer is not None
        if isinstance(self.answer, Problem):
            raise self.answer
        return self.answer


def place(work: Work, asked: Asked) -> service.Placed:
    """Judge the quote under its lot's lock. On PostgreSQL, if another transaction holds
    the lock, a plainly stale quote is refused before this one waits (bidding.prejudge)."""
    receipt = asked.receipt
    stale = partial(_refuse_stale, work.session, asked)
    return service.place_quote(
        work,
        receipt.lot_id,
        asked.amount_fen,
        asked.request_id,
        receipt.received_at,
        before_queueing=stale if work.is_postgres else None,
    )


def judge(rt: Runtime, asked: Asked) -> QuoteAnswer:
    """Judge the quote, next up in its lot's queue, with those waiting right behind it
    (`judge_together`) or, if none is, alone (`judge_alone`); return its answer or raise
    it. Runs in a worker thread."""
    behind = rt.receipts.take_along(asked.receipt, AT_MOST)
    if not behind:
        return judge_alone(rt, asked)
    return judge_together(rt, asked, cast(list[Asked], behind))


def judge_alone(rt: Runtime, asked: Asked) -> QuoteAnswer:
    """A stale quote is refused by a read of the committed lot before the lock is taken,
    unless this process's own acceptances show it is not stale (bidding.standings)."""
    if not surely_not_stale(rt, asked):
        refuse_if_stale(rt, asked)
    with rt.work(asked.actor) as work:
        placed = place(work, asked)
    return _answer(rt, placed)


def surely_not_stale(rt: Runtime, asked: Asked) -> bool:
    receipt = asked.receipt
    return rt.standings.not_stale(receipt.lot_id, asked.amount_fen, receipt.received_at)


def refuse_if_stale(rt: Runtime, asked: Asked) -> None:
    """Refuse a plainly stale quote by a read of the committed lot (bidding.prejudge)."""
    with rt.read() as session:
        _refuse_stale(session, asked)


def _refuse_stale(session: Session, asked: Asked) -> None:
    receipt = asked.receipt
    refuse_stale(
        session,
        asked.actor,
        receipt.lot_id,
        asked.amount_fen,
        asked.request_id,
        receipt.received_at,
    )


def judge_together(rt: Runtime, first: Asked, behind: list[Asked]) -> QuoteAnswer:
    """Judge `first`, next up in its lot's queue, and `behind`, the quotes taken along
    behind it, in one transaction; once it has committed, answer those behind and mark
    them judged, and return the first's answer (or raise it). Those behind it left
    without an answer are judged on their own, and so is `first` if the transaction
    fails."""
    try:
        answers, held = _judged(rt, [first, *behind])
    except Exception:
        log.exception("quotes to lot %s judged together failed", first.receipt.lot_id)
        return judge_alone(rt, first)
    QUOTES_JUDGED_TOGETHER.observe(len(answers))
    for asked, answer in zip(behind, answers[1:], strict=False):
        asked.answer = answer
        rt.receipts.judged(asked.receipt)
    if not answers:
        assert held is not None
        raise held
    first.answer = answers[0]
    return first.answered()


def _judged(rt: Runtime, asked: list[Asked]) -> tuple[list[QuoteAnswer | Problem], InGrace | None]:
    """The answers of `asked` judged in turn in one committed transaction, up to the first
    that meets a closing timer in its grace (returned too). A quote that the lot, as the
    quotes before it in the transaction left it, plainly refuses is refused by a read
    (bidding.prejudge), without a savepoint: the quotes racing at the current price's
    next step are refused but one."""
    answers: list[QuoteAnswer | Problem] = []
    placed: list[service.Placed] = []
    held = None
    with rt.together() as together:
        for turn, one in enumerate(asked):
            judged_before = tuple(a.receipt for a in asked[:turn])
            waiting = partial(rt.receipts.earliest, besides=judged_before)
            try:
                if not _clears(rt, one, placed):
                    _refuse_stale(together.session, one)
                with together.work(one.actor, waiting) as work:
                    placed.append(place(work, one))
            except Problem as refused:
                answers.append(refused)
            except InGrace as grace:
                held = grace
                break
            else:
                answers.append(_view(placed[-1]))
    for one_placed in placed:
        _accepted(rt, one_placed)
    return answers, held


def _clears(rt: Runtime, asked: Asked, placed: list[service.Placed]) -> bool:
    """Whether the quote is surely not stale for the lot as the latest acceptance, in this
    transaction or else by this process, left it (bidding.standings)."""
    latest = next((Accepted.left(p.standing) for p in reversed(placed) if p.created), None)
    if latest is None:
        return surely_not_stale(rt, asked)
    return latest.not_stale(asked.amount_fen, asked.receipt.received_at)


def _answer(rt: Runtime, placed: service.Placed) -> QuoteAnswer:
    _accepted(rt, placed)
    return _view(placed)


def _accepted(rt: Runtime, placed: service.Placed) -> None:
    if placed.created:
        rt.standings.accepted(placed.quote.lot_id, placed.standing, placed.quote.received_at)


def _view(placed: service.Placed) -> QuoteAnswer:
    return service.quote_view(placed.quote, placed.bidder_number), placed.created
