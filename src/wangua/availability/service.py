"""R-37c: a deadline that passes while the system is not serving never decides a lot.

Each serving process records a session and beats every few seconds. When a
process starts and no other is alive, the time since the last one was seen is
an outage (with the simulated clock, which cannot move while nothing serves,
an instant). So is a gap in a process's own heartbeats, unless another process
served meanwhile: one process dying or stalling while another serves is no
outage of the system. Every lot whose
listing deadline, inquiry end or countdown end falls in an outage or within 5
minutes after it is suspended with cause (4); the deadline handlers check the
same record before they decide anything.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from wangua.audit.service import record
from wangua.availability.models import Outage, ServingSession
from wangua.kit.times import wall_now
from wangua.lots.models import Lot
from wangua.lots.repository import lock_lot
from wangua.runtime import SYSTEM, Runtime, Work
from wangua.suspension.core import suspend_lot

BEAT = timedelta(seconds=2)
ALIVE = timedelta(seconds=10)
"""A session whose last heartbeat is older than this (wall clock) is not serving."""
COVERED = timedelta(seconds=5)
"""A gap in one process's heartbeats is no outage if another process, serving since
before the gap, has beaten within this much of its end (so within half of ALIVE: it
was alive when the gap ended, and a gap of its own it records itself)."""
WINDOW = timedelta(minutes=5)
"""R-37c: down at any moment of the 5 minutes before a deadline."""


def outages_touching(work: Work, start: datetime, end: datetime) -> list[Outage]:
    """The outages that touch [start, end], earliest first."""
    return list(
        work.session.scalars(
            select(Outage)
            .where(Outage.started_at <= end, Outage.ended_at >= start)
            .order_by(Outage.started_at)
        )
    )


def _alive(session: ServingSession, host: str) -> bool:
    if session.stopped_at is not None or session.last_beat_wall < wall_now() - ALIVE:
        return False
    if session.host == host:
        try:
            os.kill(session.pid, 0)
        except OSError:
            return False
    return True


def start_serving(runtime: Runtime) -> int:
    """Register this process; record the outage since the system was last seen serving."""
    host = socket.gethostname()
    with runtime.work(SYSTEM) as work:
        now = work.now()
        sessions = list(work.session.scalars(select(ServingSession).with_for_update()))
        if sessions and not any(_alive(s, host) for s in sessions):
            if runtime.clock.mode == "system":
                last_seen = max(s.stopped_at or s.last_beat for s in sessions)
            else:
                last_seen = now
            record_outage(work, min(last_seen, now), now, "restart")
        serving = ServingSession(
            host=host, pid=os.getpid(), started_at=now, last_beat=now, last_beat_wall=wall_now()
        )
        work.session.add(serving)
        work.session.flush()
        return serving.id


def beat(runtime: Runtime, session_id: int) -> None:
    """A heartbeat; with the system clock, a gap since the last one is an outage."""
    with runtime.work(SYSTEM) as work:
        serving = work.session.get(ServingSession, session_id)
        if serving is None:
            return
        now = work.now()
        if (
            runtime.clock.mode == "system"
            and now - serving.last_beat > ALIVE
            and not _served_by_another(work, serving, now)
        ):
            record_outage(work, serving.last_beat, now, "heartbeat_gap")
        serving.last_beat = max(serving.last_beat, now)
        serving.last_beat_wall = wall_now()


def _served_by_another(work: Work, serving: ServingSession, now: datetime) -> bool:
    """Whether another process served throughout this one's gap, from its last beat to
    `now`: it started before the gap and is alive and beating at its end. (Had both
    stalled, the one that beats first finds the other's beat stale and records it.)"""
    host = socket.gethostname()
    others = work.session.scalars(
        select(ServingSession).where(
            ServingSession.id != serving.id,
            ServingSession.stopped_at.is_(None),
            ServingSession.started_at <= serving.last_beat,
            ServingSession.last_beat >= now - COVERED,
        )
    )
    return any(_alive(other, host) for other in others)


def stop_serving(runtime: Runtime, session_id: int) -> None:
    with runtime.work(SYSTEM) as work:
        serving = work.session.get(ServingSession, session_id)
        if serving is not None:
            serving.stopped_at = work.now()


def record_outage(work: Work, start: datetime, end: datetime, detected_by: str) -> None:
    """Record the outage and suspend, with cause (4), every lot it touches."""
    outage = Outage(started_at=start, ended_at=end, detected_by=detected_by)
    work.session.add(outage)
    work.session.flush()
    record(
        work,
        "outage.recorded",
        object_type="outage",
        object_id=outage.id,
        data={"started_at": start, "ended_at": end, "detected_by": detected_by},
    )
    hit = work.session.scalars(
        select(Lot.id)
        .where(
            or_(
                and_(Lot.status == "listing", Lot.listing_end.between(start, end + WINDOW)),
                and_(Lot.status == "inquiry", Lot.inquiry_end.between(start, end + WINDOW)),
                and_(
                    Lot.status == "timed_bidding", Lot.timed_deadline.between(start, end + WINDOW)
                ),
            )
        )
        .order_by(Lot.id)
    ).all()
    for lot_id in hit:
        suspend_for_outage(work, lock_lot(work, lot_id), start)


def suspend_for_outage(work: Work, lot: Lot, outage_start: datetime) -> None:
    suspend_lot(
        work,
        lot,
        4,
        "系统在截止前5分钟内未能正常运行,依规中止,恢复后继续",
        frozen_at=min(outage_start, work.now()),
    )
