"""What the host's and supervisors' console shows of a lot beside its public board (R-33):
the timers still to fire, the turnout in numbers only (R-07, R-21), and what a host
should know before it matters (R-08, R-11, Art. 46)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from wangua.applications.models import Application
from wangua.bidding.models import InquiryAnswer, Quote
from wangua.bidding.rules import Phase
from wangua.documents.service import lot_documents
from wangua.kit.problems import not_found
from wangua.kit.times import rfc3339
from wangua.lots.assets import document_names, missing_details
from wangua.lots.models import Lot
from wangua.lots.service import check_grantor_scope
from wangua.reserve.models import SealedReserveRow
from wangua.runtime import Actor
from wangua.scheduler.models import Timer


def watched_lot(session: Session, lot_id: int, actor: Actor) -> Lot:
    """R-03: staff watch their own grantor's lots, drafts included; supervisors watch
    every published lot."""
    lot = session.get(Lot, lot_id)
    if lot is None or (lot.status == "draft" and actor.role != "staff"):
        raise not_found("地块")
    if actor.role == "staff":
        check_grantor_scope(actor, lot.grantor)
    return lot


def pending_timers(session: Session, lot_id: int) -> list[Timer]:
    """The lot's timers not yet fired, the next first."""
    return list(
        session.scalars(
            select(Timer)
            .where(Timer.lot_id == lot_id, Timer.fired_at.is_(None))
            .order_by(Timer.due_at, Timer.id)
        )
    )


def turnout(session: Session, lot: Lot) -> dict[str, int]:
    """How many applied, qualified, quoted in the listing and answered the inquiry:
    numbers only, never who (R-07, R-21)."""
    by_status: dict[str, int] = dict(
        session.execute(
            select(Application.status, func.count())
            .where(Application.lot_id == lot.id)
            .group_by(Application.status)
        ).all()
    )
    quoted = session.scalar(
        select(func.count(distinct(Quote.application_id))).where(
            Quote.lot_id == lot.id, Quote.phase == Phase.LISTING.value
        )
    )
    answers: dict[bool, int] = dict(
        session.execute(
            select(InquiryAnswer.joined, func.count())
            .where(InquiryAnswer.lot_id == lot.id)
            .group_by(InquiryAnswer.joined)
        ).all()
    )
    joined, declined = answers.get(True, 0), answers.get(False, 0)
    return {
        "applied": sum(by_status.values()),
        "qualified": by_status.get("qualified", 0),
        "quoted": quoted or 0,
        "joined": joined,
        "declined": declined,
        "unanswered": max((quoted or 0) - joined - declined, 0),
    }


@dataclass(frozen=True)
class Check:
    """Something a host should see to before it matters; `text` is a Chinese template
    filled with `values` (the pages translate it by `code`)."""

    code: str
    text: str
    values: dict[str, str]

    def view(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text.format(**self.values), **self.values}


DOCUMENTS_MISSING = "DOCUMENTS_MISSING"
DETAILS_MISSING = "DETAILS_MISSING"
RESERVE_NOT_IMPORTED = "RESERVE_NOT_IMPORTED"


def checks(session: Session, lot: Lot) -> list[Check]:
    """Missing listing documents (R-08), details the asset type needs (Art. 46), a reserve
    not yet imported (R-11)."""
    found: list[Check] = []
    names = document_names(lot.asset_type)
    present = {d.kind for d in lot_documents(session, lot.id)}
    missing = [name for kind, name in names.items() if kind not in present]
    if missing:
        found.append(
            Check(DOCUMENTS_MISSING, "尚未上传的出让文件:{names}", {"names": "、".join(missing)})
        )
    details = missing_details(lot.asset_type, lot.details)
    if details:
        found.append(
            Check(DETAILS_MISSING, "资产类型所需信息缺失:{names}", {"names": "、".join(details)})
        )
    if (
        lot.has_reserve
        and lot.status in ("draft", "announced", "listing")
        and session.get(SealedReserveRow, lot.id) is None
    ):
        found.append(
            Check(
                RESERVE_NOT_IMPORTED,
                "设有底价但尚未导入密封底价:须在挂牌截止前 30 分钟内导入,否则到期中止",
                {},
            )
        )
    return found


def console_view(session: Session, lot: Lot, now: datetime) -> dict[str, Any]:
    """The console's own panels as JSON; the board and quotes are the public API's."""
    return {
        "lot_id": lot.id,
        "status": lot.status,
        "server_now": rfc3339(now),
        "timers": [
            {"kind": t.kind, "due_at": rfc3339(t.due_at)} for t in pending_timers(session, lot.id)
        ],
        "turnout": turnout(session, lot),
        "checks": [c.view() for c in checks(session, lot)],
    }
