"""SQL for lots: the row lock that makes each lot's writer the only one."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from wangua.kit.problems import not_found
from wangua.lots.models import Lot
from wangua.runtime import Work


def lock_lot(work: Work, lot_id: int) -> Lot:
    """SELECT … FOR UPDATE on PostgreSQL; on SQLite the transaction began IMMEDIATE."""
    lot = work.session.scalars(
        select(Lot)
        .where(Lot.id == lot_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if lot is None:
        raise not_found("地块")
    return lot


def try_lock_lot(work: Work, lot_id: int) -> Lot | None:
    """The scheduler's lock: skip a lot another process is already working on."""
    stmt: Select[Lot] = select(Lot).where(Lot.id == lot_id)
    stmt = stmt.with_for_update(skip_locked=True) if work.is_postgres else stmt
    return work.session.scalars(stmt).one_or_none()


def get_lot(session: Session, lot_id: int) -> Lot:
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise not_found("地块")
    return lot
