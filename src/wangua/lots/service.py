"""Creating, publishing and reading lots (R-02, R-03, R-09a, R-09b)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from wangua.audit.service import lot_stream, record
from wangua.bidding.models import Result
from wangua.kit.money import format_fen, parse_amount
from wangua.kit.problems import Problem, forbidden
from wangua.kit.times import parse_rfc3339, rfc3339
from wangua.lots import rules
from wangua.lots.assets import ASSET_TYPES, LAYERS, missing_details
from wangua.lots.models import GRANTORS, Lot
from wangua.lots.repository import lock_lot
from wangua.lots.schemas import LotCreate
from wangua.pricing import service as pricing
from wangua.publishing.service import publish
from wangua.runtime import Actor, Work
from wangua.scheduler.service import schedule_all


def check_grantor_scope(actor: Actor, grantor: str) -> None:
    """R-03: staff act on their own grantor's lots only."""
    if actor.grantor != grantor:
        raise forbidden("只能办理本出让人的地块")


def create_lot(work: Work, body: LotCreate) -> Lot:
    """A draft lot; nothing is public until it is published."""
    if body.grantor not in GRANTORS:
        raise Problem(422, "UNKNOWN_GRANTOR", "出让人不存在", f"未配置的出让人代码:{body.grantor}")
    check_grantor_scope(work.actor, body.grantor)
    start = parse_amount(body.start_price, field="start_price")
    increment = parse_amount(body.increment, field="increment")
    deposit = parse_amount(body.deposit, field="deposit")
    cap = None if body.price_cap is None else parse_amount(body.price_cap, field="price_cap")
    times = {
        name: parse_rfc3339(getattr(body, name), field=name)
        for name in ("application_deadline", "deposit_deadline", "listing_start", "listing_end")
    }
    if not times["listing_start"] < times["listing_end"]:
        raise Problem(422, "INVALID_SCHEDULE", "挂牌时间不正确", "挂牌截止时间必须晚于挂牌开始时间")
    if (
        times["application_deadline"] > times["listing_end"]
        or times["deposit_deadline"] > times["listing_end"]
    ):
        raise Problem(
            422,
            "INVALID_SCHEDULE",
            "申请或保证金截止时间不正确",
            "竞买申请和保证金交纳截止时间不得晚于挂牌截止时间",
        )
    if cap is not None and cap < start:
        raise Problem(422, "INVALID_PRICE_CAP", "最高限价不得低于起始价")
    if work.session.scalar(select(Lot.id).where(Lot.code == body.code)) is not None:
        raise Problem(409, "LOT_CODE_TAKEN", "宗地编号已存在", f"宗地编号 {body.code} 已存在")
    assert work.actor.user_id is not None
    lot = Lot(
        code=body.code,
        name=body.name,
        grantor=body.grantor,
        asset_type=body.asset_type,
        layer=body.layer,
        location=body.location,
        area_m2=body.area_m2,
        land_use=body.land_use,
        term_years=body.term_years,
        planning=body.planning,
        details=body.details,
        start_price_fen=start,
        increment_fen=increment,
        deposit_fen=deposit,
        has_reserve=body.has_reserve,
        price_cap_fen=cap,
        status="draft",
        created_at=work.now(),
        created_by=work.actor.user_id,
        quote_count=0,
        event_seq=0,
        proxy_seq=0,
        **times,
    )
    work.session.add(lot)
    work.session.flush()
    record(
        work,
        "lot.created",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        data=body.model_dump(mode="json"),
    )
    return lot


def publish_lot(work: Work, lot_id: int, *, require_price_approval: bool = False) -> Lot:
    """R-09a, R-09b: publish the announcement now and schedule the lot's timers; with
    WANGUA_PRICE_APPROVAL=required, only with an approved starting price (R-LR28)."""
    lot = lock_lot(work, lot_id)
    check_grantor_scope(work.actor, lot.grantor)
    if lot.status != "draft":
        raise Problem(409, "ALREADY_PUBLISHED", "该地块公告已发布")
    now = work.now()
    if rules.announcement_too_late(now, lot.listing_start):
        raise Problem(
            422,
            "ANNOUNCEMENT_TOO_LATE",
            "公告发布时间不足",
            "挂牌出让公告应当至少在挂牌开始日前20日发布",
        )
    if rules.listing_too_short(lot.listing_start, lot.listing_end):
        raise Problem(422, "LISTING_TOO_SHORT", "挂牌时间不足", "挂牌时间不得少于10日")
    if require_price_approval and not pricing.approved(work.session, lot.id):
        raise Problem(
            409, "PRICE_NOT_APPROVED", "起始价尚未批准", "起始价须经拟定、审核、批准后方可发布公告"
        )
    lot.status = "announced"
    lot.published_at = now
    schedule_all(
        work,
        lot.id,
        {
            "listing_start": lot.listing_start,
            "deposit_deadline": lot.deposit_deadline,
            "listing_end": lot.listing_end,
        },
    )
    record(work, "lot.published", stream=lot_stream(lot.id), object_type="lot", object_id=lot.id)
    publish(
        work,
        "announcement",
        lot,
        {
            "summary": f"{lot.name}挂牌出让,起始价 {format_fen(lot.start_price_fen)} 元",
            "announcement": public_view(lot, None),
        },
    )
    return lot


def public_view(
    lot: Lot, leader_number: str | None, result: Result | None = None
) -> dict[str, Any]:
    """The public lot view (API.md): it never names a bidder (R-07)."""
    return {
        "id": lot.id,
        "code": lot.code,
        "name": lot.name,
        "status": lot.status,
        "grantor": lot.grantor,
        "grantor_name": GRANTORS.get(lot.grantor),
        "asset_type": lot.asset_type,
        "asset_type_name": ASSET_TYPES[lot.asset_type].name
        if lot.asset_type in ASSET_TYPES
        else None,
        "layer_name": LAYERS.get(lot.layer),
        "details": lot.details,
        "details_missing": missing_details(lot.asset_type, lot.details),
        "layer": lot.layer,
        "location": lot.location,
        "area_m2": f"{lot.area_m2:.2f}",
        "land_use": lot.land_use,
        "term_years": lot.term_years,
        "planning": lot.planning,
        "start_price": format_fen(lot.start_price_fen),
        "increment": format_fen(lot.increment_fen),
        "deposit": format_fen(lot.deposit_fen),
        "has_reserve": lot.has_reserve,
        "price_cap": None if lot.price_cap_fen is None else format_fen(lot.price_cap_fen),
        "cap_reached": lot.capped,
        "application_deadline": rfc3339(lot.application_deadline),
        "deposit_deadline": rfc3339(lot.deposit_deadline),
        "listing_start": rfc3339(lot.listing_start),
        "listing_end": rfc3339(lot.listing_end),
        "published_at": rfc3339(lot.published_at),
        "current_price": None if lot.highest_fen is None else format_fen(lot.highest_fen),
        "leader": leader_number,
        "quote_count": lot.quote_count,
        "inquiry_end": rfc3339(lot.inquiry_end),
        "timed_deadline": rfc3339(lot.timed_deadline),
        "ended_at": rfc3339(lot.ended_at),
        "outcome": result.outcome if result else None,
        "relisted_from": lot.relisted_from,
    }
