"""SQL for lots: the row lock that makes each lot's writer the only one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from wangua.kit.problems import not_found
from wangua.lots.models import Lot
from wangua.runtime import Work

_LOCK = (
    select(Lot)
    .where(Lot.id == bindparam("lot_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def lock_lot(work: Work, lot_id: int) -> Lot:
    """SELECT … FOR UPDATE on PostgreSQL; on SQLite the transaction began IMMEDIATE.
    The statement is built once, so its cache key is computed once."""
    lot = work.session.scalars(_LOCK, {"lot_id": lot_id}).one_or_none()
    if lot is None:
        raise not_found("地块")
    return lot


def try_lock_lot(work: Work, lot_id: int) -> Lot | None:
    """The scheduler's lock: skip a lot another process is already working on."""
    return next(iter(try_lock_lots(work, [lot_id])), None)


def try_lock_lots(work: Work, lot_ids: Sequence[int]) -> list[Lot]:
    """The scheduler's lock on several lots in one statement, in the order of their ids:
    those another process is already working on are skipped."""
    stmt = select(Lot).where(Lot.id.in_(lot_ids)).order_by(Lot.id)
    stmt = stmt.with_for_update(skip_locked=True) if work.is_postgres else stmt
    return list(work.session.scalars(stmt))


def get_lot(session: Session, lot_id: int) -> Lot:
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise not_found("地块")
    return lot


def find_lots(
    session: Session,
    *,
    grantor: str | None = None,
    status: str | None = None,
    land_use: str | None = None,
    ends_from: datetime | None = None,
    ends_until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Lot]:
    """Published lots for the public list, newest listing deadline first (drafts never)."""
    stmt = select(Lot).where(Lot.status != "draft")
    if grantor:
        stmt = stmt.where(Lot.grantor == grantor)
    if status:
        stmt = stmt.where(Lot.status == status)
    if land_use:
        stmt = stmt.where(Lot.land_use.contains(land_use, autoescape=True))
    if ends_from:
        stmt = stmt.where(Lot.listing_end >= ends_from)
    if ends_until:
        stmt = stmt.where(Lot.listing_end < ends_until)
    stmt = stmt.order_by(Lot.listing_end.desc(), Lot.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))
