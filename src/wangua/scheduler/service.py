"""Timers as rows, fired idempotently in due order, each at its own due time.

`catch_up` brings one locked lot up to the present: every one of its timers
due at or before now fires, in due order. Writers call it after taking the
lot lock, so a quote is always judged against the lot as it stands at its
receipt time, however late the scheduler loop runs. The loop and the
simulated clock's `advance` call it too; a fired timer never fires again.

A closing timer (one that ends a window in which bidders send requests: the listing
deadline, the inquiry's end, the countdown's end) fires WANGUA_TIMER_GRACE_MS after it is
due, still at its due time: with several processes, a request another process received
before the deadline is judged before the lot moves on (R-25c; within one process
bidding.receipts makes sure of it without waiting). A request received in the grace is
judged once the timer has fired, at its own receipt time (`InGrace`): after the deadline
it meets the inquiry, the countdown or the result, whichever the requests received
before the deadline led to. A process that has a request for the lot received before the
timer and not yet judged holds the lot (scheduler.holds): whoever fires a closing timer
takes the lot's advisory lock for its transaction first, and leaves a lot held elsewhere
for the next try.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from wangua.lots.models import Lot
from wangua.lots.repository import try_lock_lot, try_lock_lots
from wangua.runtime import SYSTEM, Runtime, Work
from wangua.scheduler.models import Timer

Handler = Callable[[Work, Lot, datetime], None]
TogetherHandler = Callable[[Work, list[tuple[Lot, datetime]]], None]


class InGrace(Exception):
    """A request received after a closing timer's due time, while the timer waits its
    grace: judge it again once the timer may fire, at `until`; when `until` is None,
    another process holds the lot (scheduler.holds): judge it again shortly."""

    def __init__(self, until: datetime | None) -> None:
        super().__init__(until)
        self.until = until


log = logging.getLogger(__name__)
_handlers: dict[str, Handler] = {}
_together: dict[str, TogetherHandler] = {}
_follow_ups: set[str] = set()
_closing: set[str] = set()
RECEIPT_WAIT = 5.0  # seconds a pass waits for the quotes received before a lot's timers
HELD_RETRY = 0.05  # seconds before a lot left due (held by another process) is tried again
LOTS_PER_PASS = 200
HOLD_KEY = 0x5748  # the first key of a lot's advisory lock (scheduler.holds), the lot id second


def handles(
    *kinds: str, follow_up: bool = False, closing: bool = False
) -> Callable[[Handler], Handler]:
    """Register the handler of these timer kinds. A follow-up is bookkeeping after a
    decision that nobody waits for: the scheduler fires it only after every lot due at
    the same time has had its decisive timers (see fire_due). A closing timer ends a
    window of bidders' requests and waits the timer grace."""

    def register(handler: Handler) -> Handler:
        for kind in kinds:
            _handlers[kind] = handler
            if follow_up:
                _follow_ups.add(kind)
            if closing:
                _closing.add(kind)
        return handler

    return register


def handles_together(
    *kinds: str, closing: bool = False
) -> Callable[[TogetherHandler], TogetherHandler]:
    """Register the handler of these timer kinds that fires them for many lots in one call,
    each lot with its timer's own due time (`fire_together`); a lot caught up alone is a
    call with one."""

    def register(handler: TogetherHandler) -> TogetherHandler:
        def alone(work: Work, lot: Lot, at: datetime) -> None:
            handler(work, [(lot, at)])

        handles(*kinds, closing=closing)(alone)
        for kind in kinds:
            _together[kind] = handler
        return handler

    return register


def _fireable(by: datetime, grace: timedelta) -> ColumnElement[bool]:
    """Timers that may fire at `by`: due by then, a closing one due a grace before."""
    if not grace:
        return Timer.due_at <= by
    return or_(
        and_(Timer.kind.not_in(_closing), Timer.due_at <= by),
        and_(Timer.kind.in_(_closing), Timer.due_at <= by - grace),
    )


def _next_firing(session: Session, grace: timedelta) -> datetime | None:
    """When the earliest unfired timer may fire (see _fireable)."""
    unfired = Timer.fired_at.is_(None)
    if not grace:
        return session.scalar(select(func.min(Timer.due_at)).where(unfired))
    plain = session.scalar(
        select(func.min(Timer.due_at)).where(unfired, Timer.kind.not_in(_closing))
    )
    closing = session.scalar(
        select(func.min(Timer.due_at)).where(unfired, Timer.kind.in_(_closing))
    )
    times = [plain, None if closing is None else closing + grace]
    return min((t for t in times if t is not None), default=None)


def schedule(work: Work, lot_id: int, kind: str, due_at: datetime) -> None:
    """Set (or move) the lot's one timer of this kind."""
    schedule_all(work, lot_id, {kind: due_at})


def schedule_all(work: Work, lot_id: int, due: Mapping[str, datetime]) -> None:
    """Set (or move) the lot's one timer of each kind in `due`."""
    schedule_lots(work, {lot_id: due})


def schedule_lots(work: Work, due: Mapping[int, Mapping[str, datetime]]) -> None:
    """Set (or move) each lot's one timer of each kind in `due[lot_id]`, read in one
    statement."""
    kinds = sorted({kind for timers in due.values() for kind in timers})
    timers = work.session.scalars(
        select(Timer).where(Timer.lot_id.in_(list(due)), Timer.kind.in_(kinds))
    )
    existing = {(timer.lot_id, timer.kind): timer for timer in timers}
    new = []
    for lot_id, lot_due in due.items():
        for kind, due_at in lot_due.items():
            timer = existing.get((lot_id, kind))
            if timer is None:
                new.append({"lot_id": lot_id, "kind": kind, "due_at": due_at})
            else:
                timer.due_at = due_at
                timer.fired_at = None
    if new:  # one statement, on SQLite too (the ORM would insert them one by one there)
        work.session.execute(insert(Timer), new)
    work.timers_changed = True


def cancel(work: Work, *lot_ids: int) -> None:
    """Delete the lots' timers that have not fired."""
    work.session.execute(delete(Timer).where(Timer.lot_id.in_(lot_ids), Timer.fired_at.is_(None)))
    work.timers_changed = True


def catch_up(
    work: Work, lot: Lot, *, follow_ups: bool = True, savepoint: bool = True
) -> InGrace | None:
    """Fire the locked lot's due timers in due order, each at its own due time (without
    follow-ups when `follow_ups` is false). A timer due after the receipt of a request this
    process has received for the lot and not yet judged waits for that request (R-25c, see
    bidding.receipts): the lot is brought up to that receipt only. A closing timer does not
    fire before its grace has passed, nor while another process holds the lot, nor any
    timer due after it: returns what a request judged now meets (`InGrace`), None when
    nothing is held back.

    What fired stays fired even if the request that caught up is then refused (a bid
    after the deadline still closes the lot): a savepoint follows the catch-up, and
    `Runtime.work` rolls a refusal back to it and commits the rest. The scheduler, which
    refuses nothing afterwards, needs no savepoint."""
    now = work.now()
    waiting = work.waiting(lot.id)
    until = now if waiting is None else min(now, waiting)
    held: InGrace | None = None
    fired = False
    while True:
        work.session.flush()
        due = select(Timer).where(
            Timer.lot_id == lot.id, Timer.fired_at.is_(None), Timer.due_at <= until
        )
        if not follow_ups:
            due = due.where(Timer.kind.not_in(_follow_ups))
        timer = work.session.scalars(due.order_by(Timer.due_at, Timer.id).limit(1)).first()
        if timer is None:
            break
        if timer.kind in _closing and work.timer_grace:
            may_fire = timer.due_at + work.timer_grace
            if may_fire > work.clock.now(work.session):
                held = InGrace(may_fire)
                break
            if not _free_to_close(work, [lot.id]):
                held = InGrace(None)
                break
        timer.fired_at = now
        _handlers[timer.kind](work, lot, timer.due_at)
        fired = True
    if fired and savepoint:
        work.session.flush()
        work.caught_up()
    return held


def judged_after_timers(work: Work, lot: Lot, *, follow_ups: bool = True) -> None:
    """`catch_up` for a request judged at its receipt: raise `InGrace` when a closing timer
    due by the receipt still waits its grace, so the request is judged after it fires."""
    held = catch_up(work, lot, follow_ups=follow_ups)
    if held is not None:
        raise held


def _free_to_close(work: Work, lot_ids: list[int]) -> set[int]:
    """The lots among `lot_ids` whose closing timers may fire in this transaction: those
    no other process holds for a request it received before them (scheduler.holds), now
    locked by this transaction until it ends, so that none is held meanwhile. This
    process's own holds whose requests are judged are let go first. One process (no
    grace) holds nothing."""
    if not (lot_ids and work.timer_grace and work.is_postgres):
        return set(lot_ids)
    work.let_go_holds()
    locked = work.session.scalars(
        text(
            "SELECT lot_id FROM unnest(CAST(:lot_ids AS integer[])) AS lot_id"
            " WHERE pg_try_advisory_xact_lock(:key, lot_id)"
        ),
        {"lot_ids": lot_ids, "key": HOLD_KEY},
    )
    return set(locked)


def lots_due(runtime: Runtime, at: datetime, limit: int = LOTS_PER_PASS) -> dict[int, datetime]:
    """The lots with a timer to fire at `at`, earliest first, each with its earliest."""
    with runtime.read() as session:
        rows = session.execute(
            select(Timer.lot_id, func.min(Timer.due_at).label("due"))
            .where(Timer.fired_at.is_(None), _fireable(at, runtime.timer_grace))
            .group_by(Timer.lot_id)
            .order_by("due")
            .limit(limit)
        )
        return {lot_id: due for lot_id, due in rows}


def next_due(runtime: Runtime) -> datetime | None:
    """When the scheduler next has a timer to fire (a closing one a grace after its due
    time)."""
    with runtime.read() as session:
        return _next_firing(session, runtime.timer_grace)


def next_closing(runtime: Runtime, within: timedelta) -> datetime | None:
    """When the scheduler next fires a closing timer (a grace after it is due), if within
    `within` from now: a bounded read of the pending timers' index, however many there are."""
    by = runtime.now() + within - runtime.timer_grace
    with runtime.read() as session:
        due = session.scalar(
            select(func.min(Timer.due_at)).where(
                Timer.fired_at.is_(None), Timer.due_at <= by, Timer.kind.in_(_closing)
            )
        )
    return None if due is None else due + runtime.timer_grace


def closing_due(connection: Connection, lot_ids: list[int]) -> dict[int, datetime]:
    """Each of the lots with a closing timer not yet fired, with the earliest's due time."""
    rows = connection.execute(
        select(Timer.lot_id, func.min(Timer.due_at))
        .where(Timer.lot_id.in_(lot_ids), Timer.fired_at.is_(None), Timer.kind.in_(_closing))
        .group_by(Timer.lot_id)
    )
    return {lot_id: due for lot_id, due in rows}


def fire_lot(runtime: Runtime, lot_id: int, at: datetime, *, follow_ups: bool = True) -> None:
    """Bring the lot up to the present, once the quotes this process received for it
    before `at`, its earliest timer's due time, are judged (R-25c): a countdown does not
    end under a bid received before its end, and does not wait for the bids after it,
    which it refuses. A quote stuck longer than RECEIPT_WAIT only delays the timers it
    precedes (catch_up leaves them), to the next pass."""
    runtime.receipts.wait_judged(lot_id, at, RECEIPT_WAIT)
    with runtime.work(SYSTEM) as work:
        lot = try_lock_lot(work, lot_id)
        if lot is not None:
            catch_up(work, lot, follow_ups=follow_ups, savepoint=False)


def fire_together(runtime: Runtime, due: Mapping[int, datetime]) -> None:
    """Bring the lots up to the present in one transaction, without follow-ups; for lots
    with no quote received before their timers still to judge (Receipts.settled). A lot
    whose one timer due is of a kind handled together (the deadlines) fires with
    the other such lots in one call, so deciding many lots due together takes a few
    statements, not a dozen for each; the other lots are caught up one by one in the same
    transaction. If that transaction fails, each lot is fired on its own (`fire_lot`), so
    one lot's fault stays its own."""
    try:
        with runtime.work(SYSTEM) as work:
            _catch_up_together(work, list(due))
    except Exception:
        log.exception("firing %d lots together failed; firing them one by one", len(due))
        for lot_id, at in due.items():
            fire_lot(runtime, lot_id, at, follow_ups=False)


def _catch_up_together(work: Work, lot_ids: list[int]) -> None:
    """`catch_up` without follow-ups, for many locked lots at once (see fire_together)."""
    lots = try_lock_lots(work, lot_ids)
    now = work.now()
    may_close = work.clock.now(work.session) - work.timer_grace if work.timer_grace else now
    pending = select(Timer).where(
        Timer.lot_id.in_([lot.id for lot in lots]),
        Timer.fired_at.is_(None),
        Timer.due_at <= now,
        Timer.kind.not_in(_follow_ups),
    )
    due: dict[int, list[Timer]] = {}
    for timer in work.session.scalars(pending):
        due.setdefault(timer.lot_id, []).append(timer)
    together: dict[str, list[tuple[Lot, Timer]]] = {}
    alone = []
    for lot in lots:
        timers = due.get(lot.id, [])
        if len(timers) == 1 and _fires_together(work, lot, timers[0], may_close):
            together.setdefault(timers[0].kind, []).append((lot, timers[0]))
        elif timers:
            alone.append(lot)
    closing = [lot.id for members in together.values() for lot, t in members if t.kind in _closing]
    free = _free_to_close(work, closing)  # a lot held elsewhere waits for the next pass
    together = {
        kind: kept
        for kind, members in together.items()
        if (kept := [(lot, t) for lot, t in members if t.kind not in _closing or lot.id in free])
    }
    for kind, members in together.items():
        for _, timer in members:
            timer.fired_at = now
        _together[kind](work, [(lot, timer.due_at) for lot, timer in members])
    fired = [lot for members in together.values() for lot, _ in members]
    if fired:  # what the handlers left due, if anything, fires in order
        work.session.flush()
        left = set(work.session.scalars(pending.with_only_columns(Timer.lot_id)))
        alone += [lot for lot in fired if lot.id in left]
    for lot in alone:
        catch_up(work, lot, follow_ups=False, savepoint=False)


def _fires_together(work: Work, lot: Lot, timer: Timer, may_close: datetime) -> bool:
    """Whether the lot's one due timer fires in a call with other lots: its kind has such
    a handler, no quote received before it waits (R-25c), and a closing timer's grace has
    passed (catch_up applies the same conditions)."""
    waiting = work.waiting(lot.id)
    return (
        timer.kind in _together
        and (waiting is None or timer.due_at <= waiting)
        and (timer.kind not in _closing or timer.due_at <= may_close)
    )


def fire_due(runtime: Runtime) -> int:
    """One pass of the scheduler: every lot with a due timer is caught up, the decisive
    timers of all of them before any follow-up, so when many countdowns end together
    each lot's result is out without waiting for the others' settlements. The lots with
    no quote received before their timers still to judge fire together, in one
    transaction (`fire_together`), before the lots that have one, so no lot's decision
    waits for another's bids. Requests held for the decisions (Receipts.close_at) go once
    the decisive timers have fired. Returns the lots seen."""
    now = runtime.now()
    lot_ids = lots_due(runtime, now)
    if not lot_ids:  # the usual idle pass: one read
        return 0
    settled = {
        lot_id: due for lot_id, due in lot_ids.items() if runtime.receipts.settled(lot_id, due)
    }
    if settled:
        with runtime.receipts.deciding():
            fire_together(runtime, settled)
    for lot_id, due in lot_ids.items():
        if lot_id not in settled:
            fire_lot(runtime, lot_id, due, follow_ups=False)
    runtime.receipts.close_at(None)  # the requests held for these decisions may go
    for lot_id, due in lots_due(runtime, now).items():
        fire_lot(runtime, lot_id, due)
    return len(lot_ids)


def advance(runtime: Runtime, seconds: float) -> datetime:
    """Move the simulated clock; every timer due on the way fires at its own due time."""
    clock = runtime.clock
    assert clock.mode == "simulated"
    with runtime.advance_lock:
        return _advance(runtime, seconds)


def _advance(runtime: Runtime, seconds: float) -> datetime:
    clock = runtime.clock
    with runtime.work(SYSTEM) as work:
        target = clock.lock(work.session) + timedelta(seconds=seconds)  # type: ignore[union-attr]
    previous = None
    while True:
        with runtime.work(SYSTEM) as work:
            current = clock.lock(work.session)  # type: ignore[union-attr]
            due = _next_firing(work.session, runtime.timer_grace)
            if due is not None and due > target:
                due = None
            step = target if due is None else max(due, current)
            clock.set(work.session, step)  # type: ignore[union-attr]
        if due is None:
            return target
        if due == previous:  # the last pass left it: another process holds the lot
            time.sleep(HELD_RETRY)
        previous = due
        fire_due(runtime)
