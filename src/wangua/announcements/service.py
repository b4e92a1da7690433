"""Publishing supplementary notices (R-10a, R-10b)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wangua.announcements.models import Supplement
from wangua.announcements.rules import deadline_after_supplement
from wangua.audit.service import lot_stream, record
from wangua.kit.problems import Problem, forbidden
from wangua.kit.times import rfc3339
from wangua.live.events import emit
from wangua.lots.repository import lock_lot
from wangua.publishing.service import publish
from wangua.runtime import Work
from wangua.scheduler.service import catch_up, schedule

OPEN_FOR_SUPPLEMENTS = ("announced", "listing", "suspended")


def publish_supplement(work: Work, lot_id: int, title: str, body: str, major: bool) -> Supplement:
    """R-10a: changes are appended as supplements; R-10b: a major one may move the deadline,
    and the deadline's timer with it (and the application and deposit deadlines by as much)."""
    lot = lock_lot(work, lot_id)
    if work.actor.grantor != lot.grantor:
        raise forbidden("只能办理本出让人的地块")
    catch_up(work, lot)
    if lot.status not in OPEN_FOR_SUPPLEMENTS:
        raise Problem(
            409,
            "SUPPLEMENT_NOT_ALLOWED",
            "当前不能发布补充公告",
            "补充公告只能在公告发布后、挂牌截止前发布",
        )
    now = work.now()
    before = lot.listing_end
    after = deadline_after_supplement(before, now, major)
    if after != before:
        shift = after - before
        lot.listing_end = after
        for name in ("application_deadline", "deposit_deadline"):
            if getattr(lot, name) > now:
                setattr(lot, name, getattr(lot, name) + shift)
        if lot.status != "suspended":
            schedule(work, lot.id, "listing_end", lot.listing_end)
            if lot.deposit_deadline > now:
                schedule(work, lot.id, "deposit_deadline", lot.deposit_deadline)
    assert work.actor.user_id is not None
    supplement = Supplement(
        lot_id=lot.id,
        title=title,
        body=body,
        major=major,
        published_at=now,
        published_by=work.actor.user_id,
        listing_end_before=before,
        listing_end_after=after,
    )
    work.session.add(supplement)
    work.session.flush()
    emit(work, lot, "supplement", supplement_view(supplement))
    publish(work, "supplement", lot, {"summary": title, "supplement": supplement_view(supplement)})
    record(
        work,
        "supplement.published",
        stream=lot_stream(lot.id),
        object_type="supplement",
        object_id=supplement.id,
        data={"title": title, "body": body, "major": major, "listing_end": rfc3339(after)},
    )
    return supplement


def lot_supplements(session: Session, lot_id: int) -> list[Supplement]:
    return list(
        session.scalars(
            select(Supplement).where(Supplement.lot_id == lot_id).order_by(Supplement.id)
        )
    )


def supplement_view(supplement: Supplement) -> dict[str, Any]:
    return {
        "id": supplement.id,
        "title": supplement.title,
        "body": supplement.body,
        "major": supplement.major,
        "published_at": rfc3339(supplement.published_at),
        "listing_end": rfc3339(supplement.listing_end_after),
        "listing_end_before": rfc3339(supplement.listing_end_before),
    }
