"""SQL for applications."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from wangua.applications.models import Application


def application_of(session: Session, lot_id: int, user_id: int | None) -> Application | None:
    if user_id is None:
        return None
    return session.scalars(
        select(Application).where(Application.lot_id == lot_id, Application.user_id == user_id)
    ).one_or_none()


def bidder_numbers(session: Session, application_ids: set[int]) -> dict[int, str | None]:
    if not application_ids:
        return {}
    rows = session.execute(
        select(Application.id, Application.bidder_number).where(Application.id.in_(application_ids))
    )
    return {app_id: number for app_id, number in rows}


def application_id_by_order_no(session: Session, order_no: str) -> int | None:
    """The application an order number (订单流水号) belongs to (R-15, R-16a)."""
    return session.scalar(select(Application.id).where(Application.order_no == order_no.strip()))
