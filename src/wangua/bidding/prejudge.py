"""Refusing a stale quote before the lot lock (R-19b, R-25c), so refusals never queue for it.

While a quoting phase is open a lot's highest price only rises. So when the pure rules,
given the lot as last committed and the time read after it, refuse a quote as
`INCREMENT_TOO_SMALL`, every check that takes precedence (qualification, open window,
participation, leader, cap) has passed on that same state, and the locked check at that
moment would refuse it with the same code. Likewise a lot that has ended (decided, voided,
terminated) never opens again: a qualified bidder's quote to it is `NOT_OPEN` under the
lock as here, which is what the burst of bids at a deadline gets once the lot is decided.
Only these refusals are answered here; any other answer, a repeated `request_id`
included, is left to `service.place_quote`, which takes the lock and decides every
acceptance.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from wangua.bidding import rules, service
from wangua.bidding.repository import quoting
from wangua.bidding.service import refusal_problem
from wangua.kit.clock import Clock
from wangua.runtime import Actor, Runtime


def refuse_stale(
    session: Session,
    clock: Clock,
    actor: Actor,
    lot_id: int,
    amount_fen: int,
    request_id: str | None,
) -> None:
    """Raise the `INCREMENT_TOO_SMALL` problem if the committed lot already refuses the
    quote for its amount alone, or `NOT_OPEN` if it has ended; otherwise return and let
    the locked path judge it."""
    seen = quoting(session, lot_id, actor.user_id, request_id, due_by=None)
    if seen is None or seen.earlier_quote_id is not None:
        return
    now = clock.now(session)  # after the read: the window was open all along until now
    refused = rules.refusal(seen.standing, seen.bidder, amount_fen, now)
    if refused is rules.Refusal.INCREMENT_TOO_SMALL or (
        refused is rules.Refusal.NOT_OPEN and seen.ended
    ):
        raise refusal_problem(refused, amount_fen, seen.standing)


def submit_quote(
    rt: Runtime, actor: Actor, lot_id: int, amount_fen: int, request_id: str | None
) -> tuple[dict[str, Any], bool]:
    """A quote from the API or a page: refused early when plainly stale, else judged under
    the lot's lock (R-19a … R-26). Returns the quote's view and whether it is new."""
    with rt.read() as session:
        refuse_stale(session, rt.clock, actor, lot_id, amount_fen, request_id)
    with rt.work(actor) as work:
        placed = service.place_quote(work, lot_id, amount_fen, request_id)
        return service.quote_view(placed.quote, placed.bidder_number), placed.created
