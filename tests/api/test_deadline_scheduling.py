"""Many deadlines at once (R-25c, R-27, R-29, R-30b): the scheduler decides every lot due
at an instant before it settles any, and a bid that closes a lot leaves the settlement to
the scheduler, so an announcement never waits behind other lots' bookkeeping."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.api.bidding_support import deadline, read_events, result
from tests.api.test_reserve import import_reserve, into_window, sealed
from tests.harness import Account, Stack, captured_logs, statements_matching
from wangua.audit.checkpoints import SigningKey
from wangua.audit.verify import verify
from wangua.availability.models import Outage
from wangua.bidding.lifecycle import end_countdowns
from wangua.deposits.models import Refund
from wangua.kit.clock import ClockState
from wangua.kit.times import rfc3339
from wangua.lots.models import Lot
from wangua.lots.repository import lock_lot
from wangua.publishing.models import Publication
from wangua.scheduler import service as scheduler
from wangua.scheduler.models import Timer


def _timed_lots(
    stack: Stack, staff: Account, count: int, reserve: str | None = None
) -> tuple[list[dict[str, Any]], Account]:
    """Lots published together, so in timed bidding with one deadline, and a bidder who
    may bid on each (the other leads); with `reserve`, each has that sealed reserve."""
    lots = [stack.published_lot(staff, has_reserve=reserve is not None) for _ in range(count)]
    a, b = stack.bidder(), stack.bidder()
    for lot in lots:
        stack.qualified(a, lot)
        stack.qualified(b, lot)
    stack.advance_to(lots[0]["listing_start"])
    for lot in lots:
        assert stack.quote(a, lot, "120000000.00").status_code == 201
        assert stack.quote(b, lot, "121000000.00").status_code == 201
    if reserve is not None:
        into_window(stack, lots[0])
        supervisor = stack.account("supervisor")
        for lot in lots:
            assert import_reserve(stack, lot, sealed(stack, lot, reserve, supervisor)).is_success
    stack.advance_to(lots[0]["listing_end"])
    for lot in lots:
        for bidder in (a, b):
            answer = bidder.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": True})
            assert answer.status_code == 200, answer.text
    stack.advance_to(stack.lot(lots[0]["id"])["inquiry_end"])
    assert len({stack.lot(lot["id"])["timed_deadline"] for lot in lots}) == 1
    return lots, a


def _set_clock(stack: Stack, moment: datetime) -> None:
    """Move the simulated clock without firing anything: what the system clock does
    while the scheduler has not yet run."""
    with stack.runtime.work() as work:
        work.session.execute(update(ClockState).where(ClockState.id == 1).values(now=moment))


def _settled(stack: Stack, lot_id: int) -> tuple[int, int]:
    """(result notices, refund rows) of the lot."""
    with stack.runtime.read() as session:
        notices = session.scalar(
            select(func.count())
            .select_from(Publication)
            .where(Publication.lot_id == lot_id, Publication.kind == "result")
        )
        refunds = session.scalar(
            select(func.count()).select_from(Refund).where(Refund.lot_id == lot_id)
        )
    return int(notices or 0), int(refunds or 0)


def test_r25c_lots_due_together_are_all_decided_before_any_is_settled(
    stack: Stack, staff: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    (first, second), _ = _timed_lots(stack, staff, 2)
    ends = deadline(stack, first)
    fired: list[tuple[str, int]] = []
    for kind in ("countdown_end", "settle"):
        handler = scheduler._handlers[kind]

        def recording(
            work: Any, lot: Lot, at: datetime, kind: str = kind, handler: Any = handler
        ) -> None:
            fired.append((kind, lot.id))
            handler(work, lot, at)

        monkeypatch.setitem(scheduler._handlers, kind, recording)
    _set_clock(stack, ends + timedelta(seconds=1))

    scheduler.fire_due(stack.runtime)

    kinds = [kind for kind, _ in fired]
    assert kinds == ["countdown_end", "countdown_end", "settle", "settle"], fired
    assert {lot for _, lot in fired} == {first["id"], second["id"]}
    for lot in (first, second):
        assert result(stack, lot)["decided_at"] == stack.lot(first["id"])["timed_deadline"]
        notices, refunds = _settled(stack, lot["id"])
        assert notices == 1 and refunds == 2  # the winner's earnest money, the loser's refund


def test_r25c_a_bid_that_closes_the_lot_leaves_the_settlement_to_the_scheduler(
    stack: Stack, staff: Account
) -> None:
    (lot,), bidder = _timed_lots(stack, staff, 1)
    _set_clock(stack, deadline(stack, lot) + timedelta(seconds=1))
    late = stack.quote(bidder, lot, "200000000.00")
    assert (late.status_code, late.json()["code"]) == (409, "NOT_OPEN"), late.text
    assert stack.lot(lot["id"])["status"] == "sold", "the bid's catch-up decided the lot"
    assert _settled(stack, lot["id"]) == (0, 0), "the bid did not wait for the settlement"

    assert scheduler.fire_due(stack.runtime) == 1

    assert _settled(stack, lot["id"]) == (1, 2)
    with stack.runtime.read() as session:
        pending = session.scalar(
            select(func.count())
            .select_from(Timer)
            .where(Timer.lot_id == lot["id"], Timer.fired_at.is_(None))
        )
    assert pending == 0


def test_r25c_a_bid_to_a_decided_lot_is_refused_without_waiting_for_its_lock(
    stack: Stack, staff: Account
) -> None:
    """Once a lot is decided, the burst of late bids is answered NOT_OPEN from the
    committed lot, without queueing for the lock its settlement may still hold."""
    (lot,), bidder = _timed_lots(stack, staff, 1)
    ended = deadline(stack, lot)
    stack.advance_to(ended + timedelta(seconds=1))
    assert result(stack, lot)["outcome"] == "sold"
    whole = int(stack.lot(lot["id"])["current_price"].split(".")[0]) + 1_000_000
    with stack.runtime.work() as work:
        lock_lot(work, lot["id"])
        late = bidder.http.post(
            f"/api/v1/lots/{lot['id']}/quotes",
            json={"amount": f"{whole}.00", "request_id": str(uuid.uuid4())},
            timeout=5,
        )
    assert late.status_code == 409 and late.json()["code"] == "NOT_OPEN", late.text
    assert datetime.fromisoformat(late.json()["received_at"]) == ended + timedelta(seconds=1)


def test_r44_a_forfeiture_before_the_scheduler_settles_catches_the_settlement_up(
    stack: Stack, staff: Account
) -> None:
    """The winner's deposit becomes earnest money in the settlement that follows the
    decision; a forfeiture decided in between settles the lot first, then forfeits."""
    (lot,), bidder = _timed_lots(stack, staff, 1)
    _set_clock(stack, deadline(stack, lot) + timedelta(seconds=1))
    late = stack.quote(bidder, lot, "200000000.00")
    assert late.json()["code"] == "NOT_OPEN"
    assert _settled(stack, lot["id"]) == (0, 0), "decided, not yet settled"
    done = staff.http.post(
        f"/api/v1/lots/{lot['id']}/forfeiture",
        json={"cause": "refused_confirmation", "note": "竞得人书面表示拒绝签订成交确认书"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["forfeited"] == stack.lot(lot["id"])["deposit"]
    assert _settled(stack, lot["id"]) == (1, 2)


def test_r25c_r23_r27_countdowns_ending_together_are_decided_in_one_transaction(
    stack: Stack, staff: Account
) -> None:
    """Lots whose countdowns end at the same instant are decided in one pass, all their
    results written by one statement, each as it would be alone: a timed bid wins (R-23),
    a timed bid below the reserve does not and the reserve is shown (R-11, R-23), the
    highest listing quote wins when nobody bids (R-27); the audit record still verifies,
    and the reserve is read once."""
    supervisor = stack.account("supervisor")
    lots = [stack.published_lot(staff, has_reserve=index == 1) for index in range(3)]
    bid, below, unbid = lots
    a, b = stack.bidder(), stack.bidder()
    numbers = {
        (bidder.username, lot["id"]): stack.qualified(bidder, lot)["bidder_number"]
        for lot in lots
        for bidder in (a, b)
    }
    stack.advance_to(bid["listing_start"])
    for lot in lots:
        assert stack.quote(a, lot, "120000000.00").status_code == 201
        assert stack.quote(b, lot, "121000000.00").status_code == 201
    into_window(stack, below)
    assert import_reserve(stack, below, sealed(stack, below, "150000000.00", supervisor)).is_success
    stack.advance_to(bid["listing_end"])
    for lot in lots:
        for bidder in (a, b):
            answer = bidder.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": True})
            assert answer.status_code == 200, answer.text
    stack.advance_to(stack.lot(bid["id"])["inquiry_end"])
    for lot in (bid, below):  # the simulated clock stands still: the same receipt time
        assert stack.quote(a, lot, "122000000.00").status_code == 201
    ends = deadline(stack, bid)
    assert {deadline(stack, lot) for lot in lots} == {ends}
    stack.advance_to(ends - timedelta(seconds=1))  # the warnings
    _set_clock(stack, ends)

    with (
        statements_matching("INSERT INTO results", this_thread=True) as written,
        statements_matching("FROM sealed_reserves", this_thread=True) as reserves_read,
    ):
        assert scheduler.fire_due(stack.runtime) == 3
    assert len(written) == 1, written
    assert len(reserves_read) == 1, reserves_read  # opened, then written with the result

    decided = {lot["id"]: result(stack, lot) for lot in lots}
    summary = {
        lot_id: (r["outcome"], r["rule"], r["price"], r["reserve_price"], r["decided_at"])
        for lot_id, r in decided.items()
    }
    at = rfc3339(ends)
    assert summary == {
        bid["id"]: ("sold", "R-23", "122000000.00", None, at),
        below["id"]: ("unsold", "R-23", None, "150000000.00", at),
        unbid["id"]: ("sold", "R-27", "121000000.00", None, at),
    }
    assert decided[bid["id"]]["winner"]["bidder_number"] == numbers[(a.username, bid["id"])]
    assert decided[unbid["id"]]["winner"]["bidder_number"] == numbers[(b.username, unbid["id"])]
    for lot in lots:
        event = read_events(stack, lot["id"], count=1, last_event_id=_last_seq(stack, lot) - 1)
        assert event[0]["event"] == "result"
        assert event[0]["data"]["outcome"] == decided[lot["id"]]["outcome"]
    with stack.runtime.read() as session:
        key = SigningKey(stack.runtime.settings.resolved_audit_key_dir)
        assert verify(session, key).failure is None


def test_r25c_deciding_more_lots_together_takes_no_more_statements(
    stack: Stack, staff: Account
) -> None:
    """The decisions of lots due together cost the same statements for 2 lots as for 6."""
    counts: list[Counter[str]] = []
    for size in (2, 6):
        lots, _ = _timed_lots(stack, staff, size)
        ends = deadline(stack, lots[0])
        stack.advance_to(ends - timedelta(seconds=1))  # the warnings
        _set_clock(stack, ends)
        due = scheduler.lots_due(stack.runtime, ends)
        assert len(due) == size
        with statements_matching("", this_thread=True) as sent:
            scheduler.fire_together(stack.runtime, due)
        assert {result(stack, lot)["outcome"] for lot in lots} == {"sold"}
        counts.append(Counter(" ".join(statement.split()[:4]) for statement in sent))
    assert counts[0] == counts[1]


def test_r25c_lots_that_fail_together_are_decided_one_by_one(
    stack: Stack, staff: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If deciding the lots together fails, each is decided on its own, so one lot's fault
    cannot hold back the others' results."""
    lots, _ = _timed_lots(stack, staff, 2)
    ends = deadline(stack, lots[0])
    stack.advance_to(ends - timedelta(seconds=1))
    _set_clock(stack, ends)

    def failing(work: Any, ending: Any) -> None:
        raise RuntimeError("a fault of one lot")

    monkeypatch.setitem(scheduler._together, "countdown_end", failing)
    with captured_logs() as logs:
        scheduler.fire_due(stack.runtime)

    assert [result(stack, lot)["outcome"] for lot in lots] == ["sold", "sold"]
    assert any("firing 2 lots together failed" in line for line in logs), logs


def test_r37c_lots_decided_together_each_check_their_own_deadline_for_an_outage(
    stack: Stack, staff: Account
) -> None:
    """An outage within the 5 minutes before one lot's deadline suspends that lot (R-37c);
    a lot decided with it, whose deadline is more than 5 minutes after the outage, is
    decided."""
    (hit, clear), _ = _timed_lots(stack, staff, 2)
    ends = deadline(stack, hit)
    later = ends + timedelta(seconds=10)
    with stack.runtime.work() as work:
        work.session.add(
            Outage(
                started_at=ends - timedelta(minutes=6),
                ended_at=ends - timedelta(minutes=5) + timedelta(seconds=5),
                detected_by="restart",
            )
        )
    with stack.runtime.work() as work:
        locked = [lock_lot(work, hit["id"]), lock_lot(work, clear["id"])]
        end_countdowns(work, [(locked[0], ends), (locked[1], later)])

    assert stack.lot(hit["id"])["status"] == "suspended"
    assert result(stack, clear)["decided_at"] == rfc3339(later)


def _last_seq(stack: Stack, lot: dict[str, Any]) -> int:
    with stack.runtime.read() as session:
        return int(session.get_one(Lot, lot["id"]).event_seq)


def test_r22_r24_listings_and_inquiries_ending_together_move_on_together(
    stack: Stack, staff: Account
) -> None:
    """Six lots with one listing deadline: the two without a quote are unsold (R-22), the
    four with quotes ask for timed bidding, their results and their phase changes each
    written by one statement; when the inquiries end, the two that someone joined start
    timed bidding and the two that nobody joined are decided on the listing quotes (R-24),
    again two statements of events for the four."""
    lots = [stack.published_lot(staff) for _ in range(6)]
    a, b = stack.bidder(), stack.bidder()
    for lot in lots[2:]:
        stack.qualified(a, lot)
        stack.qualified(b, lot)
    stack.advance_to(lots[0]["listing_start"])
    for lot in lots[2:]:
        assert stack.quote(a, lot, "120000000.00").status_code == 201
        assert stack.quote(b, lot, "121000000.00").status_code == 201

    with statements_matching("INSERT INTO lot_events") as written:
        stack.advance_to(lots[0]["listing_end"])
    assert len(written) == 2, written
    assert [stack.lot(lot["id"])["status"] for lot in lots] == ["unsold"] * 2 + ["inquiry"] * 4
    for lot in lots[2:4]:
        answer = a.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": True})
        assert answer.status_code == 200, answer.text

    with statements_matching("INSERT INTO lot_events") as written:
        stack.advance_to(stack.lot(lots[2]["id"])["inquiry_end"])
    assert len(written) == 2, written
    views = [stack.lot(lot["id"]) for lot in lots[2:]]
    assert [view["status"] for view in views] == ["timed_bidding"] * 2 + ["sold"] * 2
    assert views[0]["timed_deadline"] == views[1]["timed_deadline"]
    for lot in lots[4:]:
        assert result(stack, lot)["price"] == "121000000.00"


def test_r25b_the_warnings_of_lots_due_together_go_out_together(
    stack: Stack, staff: Account
) -> None:
    """The 60-second warning of three lots with one deadline: one statement writes the three
    warning events, each lot's own."""
    lots, _ = _timed_lots(stack, staff, 3)
    ends = deadline(stack, lots[0])
    _set_clock(stack, ends - timedelta(seconds=60))

    with statements_matching("INSERT INTO lot_events", this_thread=True) as written:
        assert scheduler.fire_due(stack.runtime) == 3
    assert len(written) == 1, written

    for lot in lots:
        (event,) = read_events(stack, lot["id"], count=1, last_event_id=_last_seq(stack, lot) - 1)
        assert (event["event"], event["data"]["seconds_left"]) == ("warning", 60)
        assert event["data"]["timed_deadline"] == rfc3339(ends)
