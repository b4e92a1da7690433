"""The live board over Server-Sent Events, as HTML fragments htmx swaps in (R-19c).

Each lot event becomes named SSE events: `quote` (a history row), `board` (the summary:
price, leader, phase, countdown, result), `phase` (the bidder's panel reloads),
`warning`, and `tick` (the server's time, which the countdown synchronises to).
The `id:` is the lot's event sequence, so the browser resumes without gaps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from wangua.applications.models import Application
from wangua.kit.problems import Problem, not_found
from wangua.live.events import events_after
from wangua.lots.models import Lot
from wangua.pages.public import board_context
from wangua.pages.rendering import fragment
from wangua.pages.session import Viewer
from wangua.runtime import Runtime
from wangua.web import ObjectId, RuntimeDep

router = APIRouter(include_in_schema=False)
TICK_SECONDS = 5.0


def sse(name: str, html: str, event_id: int | None = None) -> str:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines.append(f"event: {name}")
    lines.extend(f"data: {line}" for line in html.splitlines() or [""])
    return "\n".join(lines) + "\n\n"


def _mine(rt: Runtime, lot_id: int, viewer: Any) -> list[str]:
    if viewer is None or viewer.user_id is None:
        return []
    with rt.read() as session:
        number = session.scalar(
            select(Application.bidder_number).where(
                Application.lot_id == lot_id, Application.user_id == viewer.user_id
            )
        )
    return [number] if number else []


def _batch(
    request: Request, rt: Runtime, lot_id: int, after: int, mine: list[str]
) -> tuple[int, str]:
    """Frames for the events after `after`, and the last sequence sent."""
    with rt.read() as session:
        events = events_after(session, lot_id, after)
        if not events:
            return after, ""
        frames = []
        for event in events:
            if event.name == "quote":
                frames.append(
                    sse(
                        "quote",
                        fragment(
                            request, "partials/quote_row.html", {"quote": event.data, "mine": mine}
                        ),
                        event.seq,
                    )
                )
            elif event.name == "warning":
                frames.append(
                    sse(
                        "warning", fragment(request, "partials/warning.html", event.data), event.seq
                    )
                )
            else:
                frames.append(sse("phase", "", event.seq))
        if events[-1].name != "warning":
            frames.append(sse("warning", ""))  # a bid restarted the countdown, or it ended
        lot = session.get(Lot, lot_id)
        assert lot is not None
        frames.append(
            sse("board", fragment(request, "partials/board.html", board_context(session, lot)))
        )
        frames.append(_tick(request, rt.clock.now(session)))
    return events[-1].seq, "".join(frames)


def _tick(request: Request, now: datetime) -> str:
    return sse("tick", fragment(request, "partials/tick.html", {"server_now": now}))


def _current_tick(request: Request, rt: Runtime) -> str:
    with rt.read() as session:
        return _tick(request, rt.clock.now(session))


async def _stream(
    request: Request, rt: Runtime, lot_id: int, after: int, mine: list[str]
) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    yield await run_in_threadpool(_current_tick, request, rt)
    while True:  # the response cancels this generator when the client leaves
        waiter = rt.broadcaster.waiter(lot_id)
        after, frames = await run_in_threadpool(_batch, request, rt, lot_id, after, mine)
        if frames:
            yield frames
            continue
        try:
            async with asyncio.timeout(TICK_SECONDS):
                await waiter.wait()
        except TimeoutError:
            yield await run_in_threadpool(_current_tick, request, rt)


@router.get("/lots/{lot_id}/live")
async def live_board(
    lot_id: ObjectId, request: Request, rt: RuntimeDep, viewer: Viewer, after: int = 0
) -> StreamingResponse:
    """The lot's board as it changes; `Last-Event-ID` (or `after`) resumes without gaps."""
    last = request.headers.get("last-event-id")
    if last is not None:
        if not last.isdigit():
            raise Problem(422, "INVALID_EVENT_ID", "Last-Event-ID 不正确")
        after = int(last)

    def visible() -> list[str]:
        with rt.read() as session:
            lot = session.get(Lot, lot_id)
            if lot is None or lot.status == "draft":
                raise not_found("地块")
        return _mine(rt, lot_id, viewer)

    mine = await run_in_threadpool(visible)
    return StreamingResponse(
        _stream(request, rt, lot_id, max(after, 0), mine),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


WALL_LIMIT = 200


def wall_positions(text: str) -> dict[int, int]:
    """`lot:seq,lot:seq` — the last event each tile shows; also the stream's event id."""
    positions: dict[int, int] = {}
    for item in filter(None, text.split(",")):
        lot, _, seq = item.partition(":")
        if not (lot.isdigit() and seq.isdigit()) or len(lot) > 18 or len(seq) > 18:
            raise Problem(422, "INVALID_EVENT_ID", "地块或事件序号不正确")
        positions[int(lot)] = int(seq)
    if not positions or len(positions) > WALL_LIMIT:
        raise Problem(422, "INVALID_EVENT_ID", f"须为 1 到 {WALL_LIMIT} 宗地块")
    return positions


def _wall_batch(request: Request, rt: Runtime, positions: dict[int, int]) -> str:
    """Board and warning fragments for every tile whose lot has news, named by lot."""
    frames = []
    with rt.read() as session:
        for lot_id, after in positions.items():
            events = events_after(session, lot_id, after)
            if not events:
                continue
            positions[lot_id] = events[-1].seq
            lot = session.get(Lot, lot_id)
            assert lot is not None
            context = {**board_context(session, lot), "wall": True}
            frames.append(sse(f"board-{lot_id}", fragment(request, "partials/board.html", context)))
            last = events[-1]
            warning = ""
            if last.name == "warning":
                warning = fragment(request, "partials/warning.html", last.data)
            frames.append(sse(f"warning-{lot_id}", warning))
        if not frames:
            return ""
        now = rt.clock.now(session)
    position = ",".join(f"{lot}:{seq}" for lot, seq in positions.items())
    return "".join(frames) + f"id: {position}\n" + _tick(request, now)


async def _wall_stream(
    request: Request, rt: Runtime, positions: dict[int, int]
) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    yield await run_in_threadpool(_current_tick, request, rt)
    while True:  # the response cancels this generator when the client leaves
        waits = [asyncio.ensure_future(rt.broadcaster.waiter(lot).wait()) for lot in positions]
        frames = await run_in_threadpool(_wall_batch, request, rt, positions)
        if frames:
            for wait in waits:
                wait.cancel()
            yield frames
            continue
        done, pending = await asyncio.wait(
            waits, timeout=TICK_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        for wait in pending:
            wait.cancel()
        if not done:
            yield await run_in_threadpool(_current_tick, request, rt)


@router.get("/live")
async def live_wall(
    request: Request, rt: RuntimeDep, viewer: Viewer, lots: str = ""
) -> StreamingResponse:
    """Many lots' boards over one connection (a browser allows few per host): events
    `board-{id}` and `warning-{id}`; the event id records every tile's position, so a
    reconnect resumes each without gaps. Public, like each lot's board."""
    positions = wall_positions(request.headers.get("last-event-id") or lots)

    def visible() -> None:
        with rt.read() as session:
            for lot_id in positions:
                lot = session.get(Lot, lot_id)
                if lot is None or lot.status == "draft":
                    raise not_found("地块")

    await run_in_threadpool(visible)
    return StreamingResponse(
        _wall_stream(request, rt, positions),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
