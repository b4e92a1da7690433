"""Who may link a bidder to a lot (R-07).

Before a lot is decided only the bidder itself. Staff of the lot's grantor see
the lot's bidders after the decision, and before it only through a break-glass
request that a supervisor approves, for a limited time; the request, the
approval and every look are recorded.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from wangua.applications.models import Application
from wangua.audit.service import lot_stream, record
from wangua.confidentiality.models import BreakGlass
from wangua.identity.models import Party, User
from wangua.identity.repository import usernames
from wangua.kit.money import format_fen
from wangua.kit.paging import invalid_cursor
from wangua.kit.problems import Problem, forbidden, not_found
from wangua.kit.times import rfc3339, wall_now
from wangua.lots.models import ENDED, Lot
from wangua.lots.repository import get_lot
from wangua.runtime import Work

ACCESS_PERIOD = timedelta(hours=4)
AccessStatus = Literal["pending", "approved"]


def request_access(work: Work, lot_id: int, reason: str) -> BreakGlass:
    lot = get_lot(work.session, lot_id)
    if work.actor.grantor != lot.grantor:
        raise forbidden("只能办理本出让人的地块")
    assert work.actor.user_id is not None
    request = BreakGlass(
        lot_id=lot.id, requested_by=work.actor.user_id, requested_at=wall_now(), reason=reason
    )
    work.session.add(request)
    work.session.flush()
    record(
        work,
        "identity_access.requested",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        data={"request_id": request.id, "reason": reason},
    )
    return request


def approve_access(work: Work, request_id: int) -> BreakGlass:
    request = work.session.get(BreakGlass, request_id, with_for_update=True)
    if request is None:
        raise not_found("申请")
    if request.approved_at is not None:
        raise Problem(409, "ALREADY_APPROVED", "该申请已批准")
    now = wall_now()
    request.approved_by, request.approved_at = work.actor.user_id, now
    request.expires_at = now + ACCESS_PERIOD
    record(
        work,
        "identity_access.approved",
        stream=lot_stream(request.lot_id),
        object_type="lot",
        object_id=request.lot_id,
        data={"request_id": request.id},
    )
    return request


def _break_glass_open(work: Work, lot: Lot) -> bool:
    return (
        work.session.scalar(
            select(BreakGlass.id)
            .where(
                BreakGlass.lot_id == lot.id,
                BreakGlass.requested_by == work.actor.user_id,
                BreakGlass.expires_at > wall_now(),
            )
            .limit(1)
        )
        is not None
    )


def bidders(work: Work, lot_id: int) -> list[dict[str, Any]]:
    """The lot's applicants with their identities, for its grantor's staff after the
    decision or under an approved break-glass request; each look is recorded."""
    lot = get_lot(work.session, lot_id)
    if work.actor.grantor != lot.grantor:
        raise forbidden("只能查看本出让人的地块")
    decided = lot.status in ENDED
    if not decided and not _break_glass_open(work, lot):
        raise Problem(
            403,
            "IDENTITIES_SEALED",
            "竞买人身份在出让结果产生前保密",
            "出让结果产生前查看竞买人身份,须经监督人员批准的特别查阅申请",
        )
    rows = work.session.execute(
        select(Application, User, Party)
        .join(User, User.id == Application.user_id)
        .outerjoin(Party, Party.id == User.party_id)
        .where(Application.lot_id == lot.id)
        .order_by(Application.id)
    )
    record(
        work,
        "identity_access.viewed",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        data={"decided": decided},
    )
    return [
        {
            "application_id": application.id,
            "order_no": application.order_no,
            "status": application.status,
            "bidder_number": application.bidder_number,
            "name": party.name if party else user.username,
            "id_type": party.id_type if party else None,
            "id_no": party.id_no if party else None,
            "members": application.members,
            "paid": format_fen(application.paid_fen),
            "qualified_at": rfc3339(application.qualified_at),
        }
        for application, user, party in rows
    ]


def access_requests(
    session: Session,
    status: AccessStatus,
    cursor: int | None = None,
    limit: int | None = None,
) -> list[tuple[BreakGlass, Lot]]:
    """Break-glass requests for supervisors: `pending` ones oldest first (`cursor`: after
    this id), `approved` ones most recently approved first (`cursor`: after this request
    in that order; 422 INVALID_CURSOR if it is not an approved request)."""
    stmt = select(BreakGlass, Lot).join(Lot, Lot.id == BreakGlass.lot_id)
    if status == "pending":
        stmt = stmt.where(BreakGlass.approved_at.is_(None)).order_by(BreakGlass.id)
        if cursor is not None:
            stmt = stmt.where(BreakGlass.id > cursor)
    else:
        stmt = stmt.where(BreakGlass.approved_at.is_not(None)).order_by(
            BreakGlass.approved_at.desc(), BreakGlass.id.desc()
        )
        if cursor is not None:
            seen = session.get(BreakGlass, cursor)
            if seen is None or seen.approved_at is None:
                raise invalid_cursor()
            stmt = stmt.where(
                or_(
                    BreakGlass.approved_at < seen.approved_at,
                    and_(BreakGlass.approved_at == seen.approved_at, BreakGlass.id < seen.id),
                )
            )
    return [(request, lot) for request, lot in session.execute(stmt.limit(limit))]


def own_requests(
    session: Session,
    lot_id: int,
    user_id: int | None,
    before: int | None = None,
    limit: int | None = None,
) -> list[BreakGlass]:
    """A staff member's own break-glass requests for a lot, newest first."""
    stmt = select(BreakGlass).where(BreakGlass.lot_id == lot_id, BreakGlass.requested_by == user_id)
    if before is not None:
        stmt = stmt.where(BreakGlass.id < before)
    return list(session.scalars(stmt.order_by(BreakGlass.id.desc()).limit(limit)))


def access_views(session: Session, rows: list[tuple[BreakGlass, Lot]]) -> list[dict[str, Any]]:
    """The requests as the API shows them: who asked, why, and who approved until when."""
    people: set[int | None] = {r.requested_by for r, _ in rows}
    names = usernames(session, people | {r.approved_by for r, _ in rows})
    now = wall_now()
    return [
        {
            "id": request.id,
            "lot_id": lot.id,
            "lot_code": lot.code,
            "lot_name": lot.name,
            "lot_status": lot.status,
            "reason": request.reason,
            "requested_by": names.get(request.requested_by),
            "requested_at": rfc3339(request.requested_at),
            "status": "pending" if request.approved_at is None else "approved",
            "approved_by": names.get(request.approved_by or 0),
            "approved_at": rfc3339(request.approved_at),
            "expires_at": rfc3339(request.expires_at),
            "open": request.expires_at is not None and request.expires_at > now,
        }
        for request, lot in rows
    ]
