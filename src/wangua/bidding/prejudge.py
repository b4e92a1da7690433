"""Refusing a stale quote before the lot lock (R-19b, R-25c), so refusals never queue for it.

While a quoting phase is open a lot's highest price only rises. So when the pure rules,
given the lot as last committed and the quote's receipt time, refuse a quote as
`INCREMENT_TOO_SMALL`, every check that takes precedence (qualification, open window,
participation, leader, cap) has passed on that same state, and the locked check, which
judges the quote at the same receipt time on the lot as it is then, would refuse it with
the same code. Likewise a lot that has ended (decided, voided,
terminated) never opens again: a qualified bidder's quote to it is `NOT_OPEN` under the
lock as here, which is what the burst of bids at a deadline gets once the lot is decided.
Only these refusals are answered here; any other answer, a repeated `request_id`
included, is left to `service.place_quote`, which takes the lock and decides every
acceptance (bidding.submission). The check runs while a quote waits its turn behind the
lot's earlier quotes, and before it would wait for a lock another transaction holds; a
quote that finds the lock free is judged under it at once, where a refusal waits for
nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from wangua.bidding import rules
from wangua.bidding.repository import quoting
from wangua.bidding.service import refusal_problem
from wangua.runtime import Actor


def refuse_stale(
    session: Session,
    actor: Actor,
    lot_id: int,
    amount_fen: int,
    request_id: str | None,
    received_at: datetime,
) -> None:
    """Raise the `INCREMENT_TOO_SMALL` problem if the committed lot already refuses the
    quote received at `received_at` for its amount alone, or `NOT_OPEN` if it has ended;
    otherwise return and let the locked path judge it."""
    seen = quoting(session, lot_id, actor.user_id, request_id, due_by=None)
    if seen is None or seen.earlier_quote_id is not None:
        return
    refused = rules.refusal(seen.standing, seen.bidder, amount_fen, received_at)
    if refused is rules.Refusal.INCREMENT_TOO_SMALL or (
        refused is rules.Refusal.NOT_OPEN and seen.ended
    ):
        raise refusal_problem(refused, amount_fen, seen.standing, received_at)
