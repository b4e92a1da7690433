"""Server-Sent Events per lot: the event log, in order, resumable with Last-Event-ID."""

from __future__ import annotations

import json
import weakref
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from wangua.kit.problems import Problem
from wangua.kit.times import rfc3339
from wangua.live.models import LotEvent
from wangua.live.tail import Tails
from wangua.runtime import Runtime
from wangua.web import ObjectId, RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["live"])
HEARTBEAT_SECONDS = 15.0


def frame(event: LotEvent) -> str:
    data = {**event.data, "seq": event.seq, "at": event.data.get("at") or rfc3339(event.at)}
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event.seq}\nevent: {event.name}\ndata: {body}\n\n"


_tails: weakref.WeakKeyDictionary[Runtime, Tails] = weakref.WeakKeyDictionary()


def tails(rt: Runtime) -> Tails:
    """The process's shared tails of the watched lots (live/tail.py)."""
    found = _tails.get(rt)
    if found is None:
        found = _tails[rt] = Tails(rt, frame, HEARTBEAT_SECONDS)
    return found


async def stream(rt: Runtime, lot_id: ObjectId, after: int) -> AsyncIterator[str]:
    shared = tails(rt)
    tail = shared.open(lot_id, after)
    try:
        yield "retry: 2000\n\n"
        # No polling for a disconnect: the response's own listener cancels this generator
        # when the client leaves (or, on servers of ASGI spec 2.4, the next send fails).
        woken = False
        while True:
            changed = tail.changed  # before looking: a pulse after the look still wakes us
            frames = await shared.frames_after(tail, lot_id, after)
            if frames:
                after = frames[-1][0]
                yield "".join(text for _, text in frames)
            elif woken:  # the lot's heartbeat
                yield ": keep-alive\n\n"
            await changed.wait()
            woken = True
    finally:
        shared.close(lot_id)


@router.get("/lots/{lot_id}/events")
async def lot_events(lot_id: ObjectId, request: Request, rt: RuntimeDep) -> StreamingResponse:
    """R-19c: every accepted quote and phase change, as it happens. `id:` is the lot's
    event sequence number; reconnecting with Last-Event-ID resumes without gaps."""
    last = request.headers.get("last-event-id") or request.query_params.get("last_event_id") or "0"
    if not last.isdigit():
        raise Problem(422, "INVALID_EVENT_ID", "Last-Event-ID 不正确")

    await tails(rt).require_lot(lot_id)
    return StreamingResponse(
        stream(rt, lot_id, int(last)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
