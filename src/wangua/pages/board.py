"""The live board over Server-Sent Events, as HTML fragments htmx swaps in (R-19c).

Each lot event becomes named SSE events: `quote` (a history row), `board` (the summary:
price, leader, phase, countdown, result), `phase` (the bidder's panel reloads),
`warning`, and `tick` (the server's time, which the countdown synchronises to).
The `id:` is the lot's event sequence, so the browser resumes without gaps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable, Sequence
from datetime import datetime
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from wangua.applications.models import Application
from wangua.kit.paging import stored_number
from wangua.kit.problems import Problem, not_found
from wangua.live.events import events_after_each
from wangua.live.models import LotEvent
from wangua.live.stream import TailResponse
from wangua.live.tail import Feed, Frames, Position, tails
from wangua.lots.models import Lot
from wangua.pages.public import board_context
from wangua.pages.rendering import fragment, fragment_in, locale_of
from wangua.pages.session import Viewer
from wangua.runtime import Runtime
from wangua.web import ObjectId, RuntimeDep

router = APIRouter(include_in_schema=False)
TICK_SECONDS = 5.0
BoardView = tuple[str, tuple[str, ...]]  # the locale, and the viewer's own bidder numbers


def sse(name: str, html: str, event_id: int | None = None) -> str:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines.append(f"event: {name}")
    lines.extend(f"data: {line}" for line in html.splitlines() or [""])
    return "\n".join(lines) + "\n\n"


def _mine(session: Session, lot_id: int, viewer: Any) -> tuple[str, ...]:
    if viewer is None or viewer.user_id is None:
        return ()
    number = session.scalar(
        select(Application.bidder_number).where(
            Application.lot_id == lot_id, Application.user_id == viewer.user_id
        )
    )
    return (number,) if number else ()


def _event_frame(locale: str, event: LotEvent, mine: tuple[str, ...]) -> str:
    if event.name == "quote":
        context = {"quote": event.data, "mine": mine}
        return sse("quote", fragment_in(locale, "partials/quote_row.html", context), event.seq)
    if event.name == "warning":
        return sse("warning", fragment_in(locale, "partials/warning.html", event.data), event.seq)
    return sse("phase", "", event.seq)


def read_frames(rt: Runtime, positions: Sequence[Position], limit: int) -> list[Frames]:
    """For each position, one frame per event after it in the view's locale, marking the
    view's own bidder numbers; the last also carries the board as it stands and the
    server's time. One read of the log for all positions, one board per lot."""
    read: list[Frames] = []
    with rt.read() as session:
        found = events_after_each(session, [(p.lot_id, p.after) for p in positions], limit)
        boards: dict[int, dict[str, Any]] = {}
        now = rt.clock.now(session)
        for (lot_id, view, _), events in zip(positions, found, strict=True):
            if not events:
                read.append([])
                continue
            locale, mine = cast(BoardView, view)
            frames = [(event.seq, _event_frame(locale, event, mine)) for event in events]
            if lot_id not in boards:
                lot = session.get(Lot, lot_id)
                assert lot is not None
                boards[lot_id] = board_context(session, lot)
            closing = [] if events[-1].name == "warning" else [sse("warning", "")]
            closing.append(sse("board", fragment_in(locale, "partials/board.html", boards[lot_id])))
            closing.append(_tick(locale, now))
            seq, text = frames[-1]
            frames[-1] = (seq, text + "".join(closing))
            read.append(frames)
    return read


def _tick(locale: str, now: datetime) -> str:
    return sse("tick", fragment_in(locale, "partials/tick.html", {"server_now": now}))


def current_tick(rt: Runtime, locale: str) -> str:
    with rt.read() as session:
        return _tick(locale, rt.clock.now(session))


def _idle_tick(rt: Runtime, view: Hashable) -> str:
    return current_tick(rt, cast(BoardView, view)[0])


BOARD = Feed(read_frames, TICK_SECONDS, keep_alive=_idle_tick)


@router.get("/lots/{lot_id}/live")
async def live_board(
    lot_id: ObjectId, request: Request, rt: RuntimeDep, viewer: Viewer, after: int = 0
) -> TailResponse:
    """The lot's board as it changes; `Last-Event-ID` (or `after`) resumes without gaps.
    Watchers reading the same language, who are not bidders of the lot, share one
    rendering per event (live/tail.py); a bidder's own rows are marked in theirs."""
    last = request.headers.get("last-event-id")
    if last is not None:
        resumed = stored_number(last)
        if resumed is None:
            raise Problem(422, "INVALID_EVENT_ID", "Last-Event-ID 不正确")
        after = resumed

    locale = locale_of(request)

    def opening() -> tuple[BoardView, str]:
        """The stream's view and its first tick, in one read."""
        with rt.read() as session:
            lot = session.get(Lot, lot_id)
            if lot is None or lot.status == "draft":
                raise not_found("地块")
            view = (locale, _mine(session, lot_id, viewer))
            return view, "retry: 2000\n\n" + _tick(locale, rt.clock.now(session))

    view, first = await run_in_threadpool(opening)
    return TailResponse(
        tails(rt, BOARD),
        lot_id,
        max(after, 0),
        view=view,
        first=first,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


WALL_LIMIT = 200


def wall_positions(text: str) -> dict[int, int]:
    """`lot:seq,lot:seq` — the last event each tile shows; also the stream's event id."""
    positions: dict[int, int] = {}
    for item in filter(None, text.split(",")):
        lot, _, seq = item.partition(":")
        lot_id, last = stored_number(lot), stored_number(seq)
        if lot_id is None or last is None:
            raise Problem(422, "INVALID_EVENT_ID", "地块或事件序号不正确")
        positions[lot_id] = last
    if not positions or len(positions) > WALL_LIMIT:
        raise Problem(422, "INVALID_EVENT_ID", f"须为 1 到 {WALL_LIMIT} 宗地块")
    return positions


def _wall_batch(
    request: Request, rt: Runtime, positions: dict[int, int], lots: set[int]
) -> tuple[str, set[int]]:
    """Board and warning fragments for each of `lots` that has news, named by lot; and
    which lots had news."""
    frames = []
    news = set()
    with rt.read() as session:
        asked = sorted(lots)
        found = events_after_each(session, [(lot_id, positions[lot_id]) for lot_id in asked])
        for lot_id, events in zip(asked, found, strict=True):
            if not events:
                continue
            news.add(lot_id)
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
            return "", news
        now = rt.clock.now(session)
    position = ",".join(f"{lot}:{seq}" for lot, seq in positions.items())
    return "".join(frames) + f"id: {position}\n" + _tick(locale_of(request), now), news


async def _wall_stream(
    request: Request, rt: Runtime, positions: dict[int, int]
) -> AsyncIterator[str]:
    """Reads a lot's log only when the lot was published (or may hold more than one read
    returned): a quote on one lot of a wall of 200 costs one read, not 200."""
    yield "retry: 2000\n\n"
    yield await run_in_threadpool(current_tick, rt, locale_of(request))
    waits: dict[int, asyncio.Future[bool]] = {}
    stale = set(positions)
    try:
        while True:  # the response cancels this generator when the client leaves
            for lot in stale:  # the waiter is taken before the read: no publish is missed
                if lot not in waits or waits[lot].done():
                    waits[lot] = asyncio.ensure_future(rt.broadcaster.waiter(lot).wait())
            frames, stale = await run_in_threadpool(_wall_batch, request, rt, positions, stale)
            if frames:
                yield frames
                continue  # those lots may have more than one read returns
            done, _ = await asyncio.wait(
                waits.values(), timeout=TICK_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                yield await run_in_threadpool(current_tick, rt, locale_of(request))
            stale = {lot for lot, wait in waits.items() if wait.done()}
    finally:
        for wait in waits.values():
            wait.cancel()


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
