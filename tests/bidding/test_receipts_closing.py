"""R-25c, R-27: requests received at or after the scheduler's next decisive moment wait
until the timers due then have fired; those received before it do not (the scheduler
waits for them), and each pass lets the held requests go."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from wangua.bidding.receipts import Receipts

DEADLINE = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def _held(receipts: Receipts, received_at: datetime) -> asyncio.Future[None]:
    return asyncio.ensure_future(receipts.after_closing(received_at))


async def _still_held(*requests: asyncio.Future[None]) -> bool:
    await asyncio.sleep(0.05)
    return not any(request.done() for request in requests)


def test_r25c_requests_at_or_after_the_next_deadline_wait_for_its_timers() -> None:
    async def scenario() -> None:
        receipts = Receipts()
        before = _held(receipts, DEADLINE + MS)
        await asyncio.wait_for(before, 1)  # nothing armed: nothing held
        receipts.close_at(DEADLINE)
        earlier = _held(receipts, DEADLINE - MS)
        await asyncio.wait_for(earlier, 1)
        at, after = _held(receipts, DEADLINE), _held(receipts, DEADLINE + MS)
        assert await _still_held(at, after)
        receipts.close_at(None)  # the pass has fired the deadline's timers
        await asyncio.wait_for(asyncio.gather(at, after), 1)

    asyncio.run(scenario())


def test_r25c_moving_the_next_deadline_lets_the_requests_before_it_go() -> None:
    async def scenario() -> None:
        receipts = Receipts()
        receipts.close_at(DEADLINE)
        held = _held(receipts, DEADLINE + MS)
        assert await _still_held(held)
        receipts.close_at(DEADLINE + timedelta(minutes=5))  # a bid restarted the countdown
        await asyncio.wait_for(held, 1)
        restarted = _held(receipts, DEADLINE + timedelta(minutes=5))
        assert await _still_held(restarted)
        receipts.close_at(None)
        await asyncio.wait_for(restarted, 1)

    asyncio.run(scenario())
