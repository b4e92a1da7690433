"""bidding.standings: the stale check a waiting quote gets (R-19b, R-25c) is skipped only
where, against the lot as this process last accepted a quote on it, the check could not
refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from wangua.bidding import rules
from wangua.bidding.standings import PRUNE_AT, Standings

OPENS = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CLOSES = OPENS + timedelta(days=10)
LOT = 7


def standing(highest_fen: int | None, increment_fen: int, closes_at: datetime) -> rules.Standing:
    return rules.Standing(
        start_fen=100_000_00,
        increment_fen=increment_fen,
        cap_fen=None,
        highest_fen=highest_fen,
        leader=1,
        window=rules.Window(rules.Phase.LISTING, OPENS, closes_at),
    )


@given(
    highest=st.integers(100_000_00, 10**12),
    increment=st.integers(1, 10**8),
    amount=st.integers(0, 10**12 + 10**9),
    closes_in=st.integers(1, 10**6),
    received_in=st.integers(-(10**6), 2 * 10**6),
)
def test_r19b_the_check_is_skipped_only_where_it_would_not_refuse(
    highest: int, increment: int, amount: int, closes_in: int, received_in: int
) -> None:
    closes_at = OPENS + timedelta(seconds=closes_in)
    received_at = OPENS + timedelta(seconds=received_in)
    last = standing(highest, increment, closes_at)
    standings = Standings()
    standings.accepted(LOT, last, OPENS)
    bidder = rules.Bidder(application_id=2, qualified=True, joined_timed=False)
    refused = rules.refusal(last, bidder, amount, received_at)
    if standings.not_stale(LOT, amount, received_at):
        assert refused is not rules.Refusal.INCREMENT_TOO_SMALL
        assert received_at < closes_at  # the lot cannot have been decided at the receipt
    elif OPENS <= received_at < closes_at:
        assert refused is rules.Refusal.INCREMENT_TOO_SMALL  # skipped no check it could not


def test_r19b_only_a_lot_with_a_quote_accepted_here_skips_the_check() -> None:
    standings = Standings()
    received = OPENS + timedelta(hours=1)
    assert not standings.not_stale(LOT, 200_000_00, received)
    standings.accepted(LOT, standing(None, 1_000_00, CLOSES), OPENS)  # nothing accepted yet
    assert not standings.not_stale(LOT, 200_000_00, received)
    standings.accepted(LOT, standing(120_000_00, 1_000_00, CLOSES), OPENS)
    assert standings.not_stale(LOT, 121_000_00, received)
    assert not standings.not_stale(LOT, 120_999_99, received)
    assert not standings.not_stale(LOT + 1, 121_000_00, received)


def test_r25c_a_quote_at_or_after_the_window_last_seen_is_checked() -> None:
    standings = Standings()
    standings.accepted(LOT, standing(120_000_00, 1_000_00, CLOSES), OPENS)
    assert standings.not_stale(LOT, 125_000_00, CLOSES - timedelta(microseconds=1))
    assert not standings.not_stale(LOT, 125_000_00, CLOSES)


def test_r19b_the_latest_acceptance_counts() -> None:
    standings = Standings()
    standings.accepted(LOT, standing(120_000_00, 1_000_00, CLOSES), OPENS)
    standings.accepted(LOT, standing(130_000_00, 1_000_00, CLOSES), OPENS)
    assert not standings.not_stale(LOT, 121_000_00, OPENS)
    assert standings.not_stale(LOT, 131_000_00, OPENS)


def test_lots_whose_window_closed_are_forgotten_and_the_open_ones_kept() -> None:
    """Each lot's window closes a second after its quote was received; the next lot's quote
    comes then. However many lots, the process keeps few of them, and a lot whose window
    is still open keeps skipping the check."""
    standings = Standings()
    standings.accepted(LOT, standing(120_000_00, 1_000_00, CLOSES), OPENS)
    lots = range(1000, 1000 + 10 * PRUNE_AT)
    for n, lot in enumerate(lots):
        received = OPENS + timedelta(seconds=n)
        standings.accepted(
            lot, standing(120_000_00, 1_000_00, received + timedelta(seconds=1)), received
        )
        assert len(standings) <= 2 * PRUNE_AT
    latest = OPENS + timedelta(seconds=len(lots) - 1)
    assert standings.not_stale(LOT, 121_000_00, latest)
    assert standings.not_stale(lots[-1], 121_000_00, latest)
    assert not standings.not_stale(lots[0], 121_000_00, OPENS)  # forgotten: checked
