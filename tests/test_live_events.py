"""R-19c: the live streams of many lots read the event log together, each from its own
position, and get exactly what reading alone would give."""

from __future__ import annotations

import pytest

from tests.harness import Stack, statements_matching
from wangua.live import events
from wangua.live.events import emit_all, events_after_each
from wangua.live.models import LotEvent
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
    one statement; each gets its lot's events after its position, in order, as a read of
    its own would."""
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
        found = events_after_each(session, positions)
    assert len(reads) == 1, reads
    base = published[first]
    assert _shown(found) == [
        [(first, base + 1 + n, n) for n in range(5)],
        [(second, published[second] + 1 + n, n) for n in (1, 2)],
        [(first, base + 4, 3), (first, base + 5, 4)],
        [],
    ]


def test_r19c_each_position_gets_at_most_the_limit_and_none_is_cut_short(stack: Stack) -> None:
    """With a limit of 3: each position gets the three events after it, one of a lot
    whose page from an earlier position was cut at the limit is read again on its own
    (and so gets the events beyond that page)."""
    published = _lots_with_events(stack, [5, 4])
    first, second = published
    positions = [
        (first, published[first]),
        (first, published[first] + 1),
        (second, published[second]),
    ]
    with (
        statements_matching("FROM lot_events", this_thread=True) as reads,
        stack.runtime.read() as session,
    ):
        found = events_after_each(session, positions, limit=3)
    assert len(reads) == 2, reads
    base = published[first]
    assert _shown(found) == [
        [(first, base + 1 + n, n) for n in range(3)],
        [(first, base + 2 + n, n + 1) for n in range(3)],
        [(second, published[second] + 1 + n, n) for n in range(3)],
    ]


def _shown(found: list[list[LotEvent]]) -> list[list[tuple[int, int, object]]]:
    return [[(e.lot_id, e.seq, e.data.get("n")) for e in each] for each in found]


def test_r19c_lots_beyond_one_statement_are_read_in_several(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More lots than one statement takes are read in as many statements as needed, each
    position answered in place."""
    monkeypatch.setattr(events, "LOTS_PER_STATEMENT", 2)
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
