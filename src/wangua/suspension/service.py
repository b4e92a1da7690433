"""Suspension, resumption and termination by people (R-37, R-38, R-39)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wangua.audit.service import lot_stream, record
from wangua.bidding import rules
from wangua.bidding.lifecycle import restart_countdown
from wangua.deposits.refunds import settle_lot
from wangua.identity.repository import usernames
from wangua.kit.problems import Problem, forbidden
from wangua.kit.times import rfc3339
from wangua.live.events import emit
from wangua.lots.models import Lot
from wangua.lots.repository import lock_lot
from wangua.publishing.service import publish
from wangua.reserve.service import IMPORT_WINDOW, has_sealed_reserve
from wangua.runtime import Work
from wangua.scheduler.service import cancel, catch_up, handles, schedule
from wangua.suspension.core import CAUSES, CENTER_CAUSES, SUSPENDABLE, suspend_lot
from wangua.suspension.models import Approval, Suspension

RESUME_NOTICE = timedelta(days=5)
"""R-39: resumption is announced at least 5 days before it takes effect."""

FINAL = ("sold", "unsold", "terminated", "voided")


def _check_cause(cause: int) -> None:
    if cause not in CAUSES:
        raise Problem(
            422,
            "UNKNOWN_CAUSE",
            "中止或终止事由不正确",
            "事由须为第三十七条第一款第(一)至(五)项之一",
        )


def _locked_in_scope(work: Work, lot_id: int) -> Lot:
    lot = lock_lot(work, lot_id)
    if work.actor.grantor != lot.grantor:
        raise forbidden("只能办理本出让人的地块")
    catch_up(work, lot)
    return lot


def approve(work: Work, lot_id: int, action: str, cause: int, note: str) -> Approval:
    """Art. 38: the grantor approves a suspension or termination for causes (2), (3), (5)."""
    _check_cause(cause)
    if action not in ("suspend", "terminate"):
        raise Problem(422, "UNKNOWN_ACTION", "审批事项不正确", "审批事项须为 suspend 或 terminate")
    lot = _locked_in_scope(work, lot_id)
    assert work.actor.user_id is not None
    approval = Approval(
        lot_id=lot.id,
        action=action,
        cause=cause,
        note=note,
        approved_by=work.actor.user_id,
        approved_at=work.now(),
    )
    work.session.add(approval)
    work.session.flush()
    record(
        work,
        f"approval.{action}",
        stream=lot_stream(lot.id),
        object_type="approval",
        object_id=approval.id,
        data={"cause": cause, "note": note},
    )
    return approval


def _use_approval(work: Work, lot: Lot, action: str, cause: int) -> None:
    if cause in CENTER_CAUSES:
        return
    approval = work.session.scalars(
        select(Approval)
        .where(
            Approval.lot_id == lot.id,
            Approval.action == action,
            Approval.cause == cause,
            Approval.used_at.is_(None),
        )
        .order_by(Approval.id)
        .limit(1)
    ).first()
    if approval is None:
        raise Problem(
            403,
            "APPROVAL_REQUIRED",
            "须经出让人批准",
            f"第({cause})项事由须先报出让人批准,批准后方可办理",
        )
    approval.used_at = work.now()


def suspend(work: Work, lot_id: int, cause: int, note: str) -> Suspension:
    """R-37: the trading center suspends; causes (2), (3), (5) need the grantor's approval."""
    _check_cause(cause)
    lot = _locked_in_scope(work, lot_id)
    if lot.status not in SUSPENDABLE:
        raise Problem(409, "NOT_SUSPENDABLE", "该地块当前不能中止", f"地块状态为 {lot.status}")
    _use_approval(work, lot, "suspend", cause)
    return suspend_lot(work, lot, cause, note, frozen_at=work.now())


def open_suspension(work: Work, lot: Lot) -> Suspension | None:
    return _not_resumed(work.session, lot)


def _not_resumed(session: Session, lot: Lot) -> Suspension | None:
    return session.scalars(
        select(Suspension)
        .where(Suspension.lot_id == lot.id, Suspension.resumed_at.is_(None))
        .order_by(Suspension.id.desc())
        .limit(1)
    ).first()


def resume(work: Work, lot_id: int, effective_at: datetime) -> Suspension:
    """R-39: announce the resumption now; it takes effect at least 5 days later."""
    lot = _locked_in_scope(work, lot_id)
    suspension = open_suspension(work, lot) if lot.status == "suspended" else None
    if suspension is None:
        raise Problem(409, "NOT_SUSPENDED", "该地块未处于中止状态")
    now = work.now()
    if effective_at - now < RESUME_NOTICE:
        raise Problem(
            422,
            "RESUME_NOTICE_TOO_SHORT",
            "恢复公告时间不足",
            "应当在恢复网上挂牌出让5日前发布恢复公告",
        )
    suspension.resume_announced_at, suspension.resume_at = now, effective_at
    schedule(work, lot.id, "resume", effective_at)
    emit(
        work,
        lot,
        "resumed",
        {
            "announced_at": rfc3339(now),
            "effective_at": rfc3339(effective_at),
            "status": suspension.from_status,
        },
    )
    publish(
        work,
        "resumption",
        lot,
        {
            "summary": f"定于 {rfc3339(effective_at)} 恢复网上挂牌出让活动",
            "effective_at": rfc3339(effective_at),
        },
    )
    record(
        work,
        "lot.resume_announced",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        data={"effective_at": rfc3339(effective_at)},
    )
    return suspension


@handles("resume")
def take_effect(work: Work, lot: Lot, at: datetime) -> None:
    """R-39 (house rule): a listing resumes with the time it had left; an inquiry with a
    fresh 5 minutes; timed bidding with a fresh countdown."""
    suspension = open_suspension(work, lot)
    if lot.status != "suspended" or suspension is None:
        return
    remaining = timedelta(microseconds=suspension.remaining_us)
    shift = at - suspension.frozen_at
    for name in ("application_deadline", "deposit_deadline"):
        if getattr(lot, name) > suspension.frozen_at:
            setattr(lot, name, getattr(lot, name) + shift)
            if name == "deposit_deadline":
                schedule(work, lot.id, "deposit_deadline", lot.deposit_deadline)
    status = suspension.from_status
    if status == "announced":
        lot.listing_start = at + remaining
        lot.listing_end = lot.listing_end + shift
        schedule(work, lot.id, "listing_start", lot.listing_start)
        schedule(work, lot.id, "listing_end", lot.listing_end)
    elif status == "listing":
        if lot.has_reserve and not has_sealed_reserve(work, lot):
            remaining = max(remaining, IMPORT_WINDOW)  # so that R-11's window exists again
        lot.listing_end = at + remaining
        schedule(work, lot.id, "listing_end", lot.listing_end)
    elif status == "inquiry":
        lot.inquiry_end = at + rules.INQUIRY_WINDOW
        schedule(work, lot.id, "inquiry_end", lot.inquiry_end)
    else:
        restart_countdown(work, lot, at)
    lot.status = status
    suspension.resumed_at = at
    emit(
        work,
        lot,
        "phase",
        {
            "status": status,
            "at": rfc3339(at),
            "resumed": True,
            "listing_end": rfc3339(lot.listing_end),
            "inquiry_end": rfc3339(lot.inquiry_end),
            "timed_deadline": rfc3339(lot.timed_deadline) if status == "timed_bidding" else None,
        },
    )
    record(
        work, "lot.resumed", stream=lot_stream(lot.id), object_type="lot", object_id=lot.id, at=at
    )


def terminate(work: Work, lot_id: int, cause: int, note: str) -> Lot:
    """R-37: end the listing for good; causes (2), (3), (5) need the grantor's approval."""
    _check_cause(cause)
    lot = _locked_in_scope(work, lot_id)
    if lot.status in FINAL:
        raise Problem(409, "ALREADY_ENDED", "该地块出让活动已结束")
    _use_approval(work, lot, "terminate", cause)
    now = work.now()
    lot.status = "terminated"
    lot.ended_at = now
    cancel(work, lot.id)
    emit(
        work,
        lot,
        "phase",
        {
            "status": "terminated",
            "at": rfc3339(now),
            "cause": cause,
            "cause_text": CAUSES[cause],
            "note": note,
        },
    )
    publish(
        work,
        "termination",
        lot,
        {
            "summary": f"因{CAUSES[cause]},终止网上挂牌出让活动",
            "cause": cause,
            "note": note,
        },
    )
    record(
        work,
        "lot.terminated",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        data={"cause": cause, "note": note},
    )
    settle_lot(work, lot, now)
    return lot


def grantor_approvals(
    session: Session, grantor: str | None, before: int | None = None, limit: int | None = None
) -> list[tuple[Approval, Lot]]:
    """The approvals (Art. 38) given for the grantor's lots, newest first (`before`: the id
    of the last one already seen)."""
    stmt = select(Approval, Lot).join(Lot, Lot.id == Approval.lot_id).where(Lot.grantor == grantor)
    if before is not None:
        stmt = stmt.where(Approval.id < before)
    rows = session.execute(stmt.order_by(Approval.id.desc()).limit(limit))
    return [(approval, lot) for approval, lot in rows]


def lot_approvals(
    session: Session, lot_id: int, after: int = 0, limit: int | None = None
) -> list[Approval]:
    """A lot's approvals, oldest first (`after`: the id of the last one already seen)."""
    return list(
        session.scalars(
            select(Approval)
            .where(Approval.lot_id == lot_id, Approval.id > after)
            .order_by(Approval.id)
            .limit(limit)
        )
    )


def current_suspension(session: Session, lot: Lot) -> Suspension | None:
    """The suspension a suspended lot is under (None when it is not suspended)."""
    return _not_resumed(session, lot) if lot.status == "suspended" else None


def approval_views(session: Session, rows: list[tuple[Approval, Lot]]) -> list[dict[str, Any]]:
    names = usernames(session, {a.approved_by for a, _ in rows})
    return [
        {
            "id": approval.id,
            "lot_id": lot.id,
            "lot_code": lot.code,
            "action": approval.action,
            "cause": approval.cause,
            "cause_name": CAUSES.get(approval.cause),
            "note": approval.note,
            "approved_by": names.get(approval.approved_by),
            "approved_at": rfc3339(approval.approved_at),
            "used": approval.used_at is not None,
            "used_at": rfc3339(approval.used_at),
        }
        for approval, lot in rows
    ]


def suspension_view(lot: Lot, suspension: Suspension | None, now: datetime) -> dict[str, Any]:
    """The suspension a lot is under, and the earliest time a resumption announced now
    may take effect (R-39)."""
    return {
        "lot_id": lot.id,
        "status": lot.status,
        "suspension": None
        if suspension is None
        else {
            "id": suspension.id,
            "cause": suspension.cause,
            "cause_name": CAUSES.get(suspension.cause),
            "note": suspension.note,
            "from_status": suspension.from_status,
            "suspended_at": rfc3339(suspension.suspended_at),
            "remaining_seconds": suspension.remaining_us / 1_000_000,
            "resume_announced_at": rfc3339(suspension.resume_announced_at),
            "resume_at": rfc3339(suspension.resume_at),
        },
        "earliest_resume_at": None if suspension is None else rfc3339(now + RESUME_NOTICE),
    }
