"""Server-Sent Events per lot: the event log, in order, resumable with Last-Event-ID."""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence

from fastapi import APIRouter, Request

from wangua.kit.paging import stored_number
from wangua.kit.problems import Problem
from wangua.kit.times import rfc3339
from wangua.live.events import events_after_each
from wangua.live.models import LotEvent
from wangua.live.recent import Committed
from wangua.live.stream import TailResponse
from wangua.live.tail import Feed, Frames, Position, tails
from wangua.runtime import Runtime
from wangua.web import ObjectId, RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["live"])
HEARTBEAT_SECONDS = 15.0


def frame(event: LotEvent | Committed) -> str:
    data = {**event.data, "seq": event.seq, "at": event.data.get("at") or rfc3339(event.at)}
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event.seq}\nevent: {event.name}\ndata: {body}\n\n"


def read_frames(rt: Runtime, positions: Sequence[Position], limit: int) -> list[Frames]:
    with rt.read() as session:
        found = events_after_each(session, [(p.lot_id, p.after) for p in positions], limit)
        return [[(e.seq, frame(e)) for e in events] for events in found]


def render(events: Sequence[Committed], view: Hashable) -> Frames:
    return [(e.seq, frame(e)) for e in events]


EVENTS = Feed(read_frames, HEARTBEAT_SECONDS, render=render)


@router.get("/lots/{lot_id}/events")
async def lot_events(lot_id: ObjectId, request: Request, rt: RuntimeDep) -> TailResponse:
    """R-19c: every accepted quote and phase change, as it happens. `id:` is the lot's
    event sequence number; reconnecting with Last-Event-ID resumes without gaps."""
    last = request.headers.get("last-event-id") or request.query_params.get("last_event_id") or "0"
    after = stored_number(last)
    if after is None:
        raise Problem(422, "INVALID_EVENT_ID", "Last-Event-ID 不正确")

    shared = tails(rt, EVENTS)
    await shared.require_lot(lot_id)
    return TailResponse(
        shared,
        lot_id,
        after,
        first="retry: 2000\n\n",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
