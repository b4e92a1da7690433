"""R-19c: the live streams of many lots read the event log together, each from its own
position, and get exactly what reading alone would give."""

from __future__ import annotations

import pytest

from tests.harness import Stack, statements_matching
from wangua.live import events
from wangua.live.events import emit_all, events_after_each
from wangua.lots.repository import try_lock_lots


def _lots_with_events(stack: Stack, counts: list[int]) -> dict[int, int]:
    """Published lots with `counts` warnings appended to each: each lot's last event
    before them."""
    staff = stack.account("staff", "xianning-city")
    lot_ids = [stack.published_lot(staff)["id"] for _ in counts]
    with stack.runtime.work() as work:
        lots = {lot.id: lot for lot in try_lock_lots(work, lot_ids)}
        before = {lot_id: lots[lot_id].event_seq for lot_id in lot_ids}
        emit_all(
            work,
            [
                (lots[lot_id], "warning", {"n": n})
                for lot_id, count in zip(lot_ids, counts, strict=True)
                for n in range(count)
            ],
        )
    return before


def test_r19c_each_position_gets_its_lots_events_after_it_in_order(stack: Stack) -> None:
    """Positions of three lots, one lot twice from different places, one with nothing new:
    one statement; each gets its lot's events after its position, in order, at most the
    limit, as a read of its own would."""
    published = _lots_with_events(stack, [5, 3, 0])
    first, second, third = published
    positions = [
        (first, published[first]),  # before its five
        (second, published[second] + 1),
        (first, published[first] + 3),
        (third, published[third]),
    ]
    with (
        statements_matching("FROM lot_events", this_thread=True) as reads,
        stack.runtime.read() as session,
    ):
        found = events_after_each(session, positions, limit=4)
    assert len(reads) == 1, reads
    shown = [[(e.lot_id, e.seq, e.data.get("n")) for e in each] for each in found]
    base = published[first]
    assert shown == [
        [(first, base + 1 + n, n) for n in range(4)],  # the limit
        [(second, published[second] + 1 + n, n) for n in (1, 2)],
        [(first, base + 4, 3), (first, base + 5, 4)],
        [],
    ]


def test_r19c_positions_beyond_one_statement_are_read_in_several(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More positions than one statement takes are read in as many statements as needed,
    each answered in place."""
    monkeypatch.setattr(events, "POSITIONS_PER_STATEMENT", 2)
    before = _lots_with_events(stack, [1, 2, 3])
    with (
        statements_matching("FROM lot_events", this_thread=True) as reads,
        stack.runtime.read() as session,
    ):
        found = events_after_each(session, [(lot_id, 0) for lot_id in before])
    assert len(reads) == 2, reads
    assert [[(e.lot_id, e.seq) for e in each] for each in found] == [
        [(lot_id, seq) for seq in range(1, last + count + 1)]
        for (lot_id, last), count in zip(before.items(), [1, 2, 3], strict=True)
    ]
