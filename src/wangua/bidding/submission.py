"""A quote's way from the request to its answer (R-18 … R-26), for the API and the pages,
and an inquiry answer's (R-21, R-22) or a proxy's (R-26).

Either is stamped on arrival and entered in its lot's queue there and then, by the HTTP
protocol (`ReceiptDesk`, kit.arrival), or else by `received`, a dependency declared
before the caller's authentication; it is judged under the lot's lock at its receipt
time, after every request to the lot that arrived before it (bidding.receipts), a quote
possibly together with those that arrived before it or right behind it
(bidding.judging); a quote is refused at once when the committed lot plainly refuses it
(bidding.prejudge). One received after a deadline whose timer waits its grace, or while
another process holds the lot for a request it received before the deadline (several
processes, scheduler.service, scheduler.holds), is judged once the timer has fired.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from wangua.bidding import judging
from wangua.bidding.judging import Asked, QuoteAnswer
from wangua.bidding.receipts import Receipt, Receipts
from wangua.kit.arrival import arrival
from wangua.kit.times import wall_now
from wangua.runtime import Actor, Runtime
from wangua.scheduler.service import HELD_RETRY, InGrace
from wangua.web import ObjectId, RuntimeDep

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
RECEIPT = "wangua.receipt"
LOT_IDS = range(1, 2**63)  # as web.ObjectId admits


class ClosingHold:
    """R-25c: a write received at or after the scheduler's next closing timer waits, before
    anything else is done with it (routing, the caller's authentication), until that timer
    has fired (Receipts.after_closing). In the burst of late bids at a common deadline, the
    work of reading them as far as their receipt otherwise took most of the interpreter
    from the decisions. Reads never wait. A receipt the protocol entered for the request
    (`ReceiptDesk`) leaves its queue when the request ends, however it ends."""

    def __init__(self, app: ASGIApp, receipts: Receipts) -> None:
        self.app = app
        self.receipts = receipts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _READS:
            await self.app(scope, receive, send)
            return
        try:
            await self.receipts.after_closing(arrival(scope))
            await self.app(scope, receive, send)
        finally:
            receipt = scope.get("state", {}).get(RECEIPT)
            if receipt is not None:
                self.receipts.judged(receipt)


class ReceiptDesk:
    """R-18, R-25c: on the system clock, a request judged in its lot's queue (a quote, an
    inquiry answer, a proxy …: the routes that depend on `received`) is entered in the
    queue by the HTTP protocol the moment it has been read (kit.arrival), at the receipt
    time the queue stamps it with (Receipts.arrive_now), before the event loop runs any of
    its work. Entered later, by its task, a bid received just before a deadline in a burst
    could still be on its way to `received` when the scheduler's pass, begun after the
    deadline, found the lot settled and decided it.

    Installed only without a timer grace (one process). With several processes the grace
    already covers a request's way from its arrival to its queue, and a receipt entered
    by the protocol woke the holds thread (scheduler.holds) in the middle of a burst's
    reads: in side runs of the two-process deadline benchmark the server then read bids
    sent 3 to 30 ms before the deadline after it in four runs of six, and in none of
    three without."""

    def __init__(self, rt: Runtime, routes: Iterable[BaseRoute]) -> None:
        self.rt = rt
        self.routes = [
            (compile_path(context.path)[0], frozenset(context.methods))
            for context in iter_route_contexts(list(routes))
            if context.path
            and context.methods
            and _depends_on(getattr(context.route, "dependant", None), received)
        ]

    def __call__(self, scope: Scope) -> float | None:
        if self.rt.clock.mode != "system":
            return None
        method, path = scope["method"], scope["path"]
        for pattern, methods in self.routes:
            matched = pattern.match(path) if method in methods else None
            if matched is not None:
                return self._enter(scope, matched)
        return None

    def _enter(self, scope: Scope, matched: re.Match[str]) -> float | None:
        lot_id = plain_lot_id(matched["lot_id"])
        if lot_id is None:
            return None  # refused as such before its receipt is asked for
        receipt = self.rt.receipts.arrive_now(lot_id)
        scope["state"][RECEIPT] = receipt
        return receipt.received_at.timestamp()


def plain_lot_id(text: str) -> int | None:
    """The lot id a path gives in plain ASCII digits, in the range web.ObjectId admits."""
    if not text.isascii() or not text.isdigit() or int(text) not in LOT_IDS:
        return None
    return int(text)


def _depends_on(dependant: Dependant | None, call: Callable[..., Any]) -> bool:
    return dependant is not None and any(
        d.call is call or _depends_on(d, call) for d in dependant.dependencies
    )


async def received(lot_id: ObjectId, request: Request, rt: RuntimeDep) -> AsyncIterator[Receipt]:
    """R-18: the request's receipt: the one the protocol entered on arrival (`ReceiptDesk`),
    else one at the moment the HTTP protocol read the whole request (kit.arrival), else
    now, before anything else is done with it. The simulated clock is read from the
    database instead: its time moves only when told to."""
    receipt = await receipt_of(rt, request.scope, lot_id)
    try:
        yield receipt
    finally:
        rt.receipts.judged(receipt)  # a request refused before its judging (401, 422 …)


async def receipt_of(rt: Runtime, scope: Scope, lot_id: int) -> Receipt:
    """`received`'s receipt, for a route that reads its request itself (bidding.api)."""
    entered: Receipt | None = scope["state"].get(RECEIPT)
    if entered is not None and entered.lot_id == lot_id:
        return entered
    if rt.clock.mode == "system":
        return rt.receipts.arrive(lot_id, arrival(scope))
    return rt.receipts.arrive(lot_id, await run_in_threadpool(rt.now))


Received = Annotated[Receipt, Depends(received)]
T = TypeVar("T")
SIMULATED_CLOCK_POLL = 0.05  # seconds between reads of the simulated clock


async def in_turn(
    rt: Runtime,
    receipt: Receipt,
    judge: Callable[[], T],
    meanwhile: Callable[[], None] | None = None,
    along: Asked | None = None,
) -> T:
    """Run `judge` in a worker thread once every request to the lot received before
    `receipt` has been judged; while those are, `meanwhile` may refuse it at once, and
    then, with `along`, the judging of an earlier quote may take it along and answer it
    (bidding.judging)."""
    try:
        if not rt.receipts.next_up(receipt):
            if meanwhile is not None:
                await run_in_threadpool(meanwhile)
            receipt.along = along
            await rt.receipts.turn(receipt)
            receipt.along = None
            if receipt.judged and along is not None:
                return cast(T, along.answered())
        while True:
            await rt.receipts.not_deciding()
            try:
                return await run_in_threadpool(judge)
            except InGrace as held:  # received after a deadline whose timer waits
                if held.until is None:  # for another process's requests received before it
                    await asyncio.sleep(HELD_RETRY)
                else:
                    await _clock_reads(rt, held.until)
    finally:
        rt.receipts.judged(receipt)


async def _clock_reads(rt: Runtime, at: datetime) -> None:
    """Return once the server's clock reads `at` or later: the system clock by sleeping,
    the simulated one by watching it, since only an advance moves it."""
    if rt.clock.mode == "system":
        await asyncio.sleep(max(0.0, (at - wall_now()).total_seconds()))
        return
    while await run_in_threadpool(rt.now) < at:
        await asyncio.sleep(SIMULATED_CLOCK_POLL)


async def submit_quote(
    rt: Runtime, actor: Actor, receipt: Receipt, amount_fen: int, request_id: str | None
) -> QuoteAnswer:
    """Judge the quote received as `receipt`; return its view and whether it is new. While
    quotes that arrived before it are judged, a stale one is refused without waiting
    (unless this process's own acceptances show it is not stale, bidding.standings), and
    the judging of the quote before it may take it along (bidding.judging)."""
    asked = Asked(actor, receipt, amount_fen, request_id)
    check = not judging.surely_not_stale(rt, asked)
    return await in_turn(
        rt,
        receipt,
        partial(judging.judge, rt, asked),
        partial(judging.refuse_if_stale, rt, asked) if check else None,
        along=asked,
    )
