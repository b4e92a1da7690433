"""Suspending a lot (R-37): close the bidding channel, freeze its timers, keep what it had left."""

from __future__ import annotations

from datetime import datetime, timedelta

from wangua.audit.service import lot_stream, record
from wangua.kit.times import rfc3339
from wangua.live.events import emit
from wangua.lots.models import Lot
from wangua.publishing.service import publish
from wangua.runtime import Work
from wangua.scheduler.service import cancel
from wangua.suspension.models import Suspension

CAUSES = {
    1: "纪委监委机关、司法机关依法要求中止或者终止出让活动",
    2: "委托人要求或者依照法律、行政法规规定中止或者终止",
    3: "宗地使用条件变更等影响宗地价格的重要变动需要重新报批",
    4: "系统遭受破坏或者发生电力、网络故障、网络恶意入侵等,导致系统不能正常运行",
    5: "依法应当中止或者终止挂牌活动的其他情形",
}
CENTER_CAUSES = frozenset({1, 4})
"""R-37, Art. 38: the trading center may act at once for causes (1) and (4); the others
need the grantor's approval."""

SUSPENDABLE = ("announced", "listing", "inquiry", "timed_bidding")


def _running_deadline(lot: Lot) -> datetime | None:
    return {
        "announced": lot.listing_start,
        "listing": lot.listing_end,
        "inquiry": lot.inquiry_end,
        "timed_bidding": lot.timed_deadline,
    }.get(lot.status)


def suspend_lot(work: Work, lot: Lot, cause: int, note: str, *, frozen_at: datetime) -> Suspension:
    """Suspend the locked lot: quoting closes (NOT_OPEN), its timers stop, and the time its
    current phase had left at `frozen_at` is kept for the resumption (R-39)."""
    now = work.now()
    deadline = _running_deadline(lot)
    remaining = max(deadline - frozen_at, timedelta(0)) if deadline else timedelta(0)
    suspension = Suspension(
        lot_id=lot.id,
        cause=cause,
        note=note,
        from_status=lot.status,
        frozen_at=frozen_at,
        suspended_at=now,
        suspended_by=work.actor.user_id,
        remaining_us=remaining // timedelta(microseconds=1),
    )
    work.session.add(suspension)
    lot.status = "suspended"
    cancel(work, lot.id)
    emit(
        work,
        lot,
        "suspended",
        {
            "at": rfc3339(now),
            "cause": cause,
            "cause_text": CAUSES[cause],
            "note": note,
            "from_status": suspension.from_status,
        },
    )
    publish(
        work,
        "suspension",
        lot,
        {
            "summary": f"因{CAUSES[cause]},中止网上挂牌出让活动",
            "cause": cause,
            "note": note,
            "suspended_at": rfc3339(now),
        },
    )
    record(
        work,
        "lot.suspended",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        data={
            "cause": cause,
            "note": note,
            "from_status": suspension.from_status,
            "frozen_at": rfc3339(frozen_at),
        },
    )
    return suspension
