"""Voiding a result (R-43) and listing the parcel again as a new lot."""

from __future__ import annotations

from typing import Any

from wangua.audit.service import lot_stream, record
from wangua.bidding.models import Result
from wangua.kit.money import format_fen
from wangua.kit.problems import Problem, forbidden
from wangua.kit.times import rfc3339
from wangua.live.events import emit
from wangua.lots.models import Lot
from wangua.lots.repository import lock_lot
from wangua.lots.schemas import LotCreate
from wangua.lots.service import create_lot
from wangua.publishing.service import publish
from wangua.runtime import Work
from wangua.scheduler.service import catch_up

VOID_CAUSES = {
    1: "未按要求提供有关文件材料、提供虚假文件材料或者隐瞒重要事实",
    2: "恶意串通或者阻碍正常的网上挂牌出让活动",
    3: "导致竞买行为无效的其他行为",
}
"""R-43 (Art. 43): the causes that make a winning result void."""


def void_result(work: Work, lot_id: int, cause: int, note: str) -> Result:
    """R-43: the result stays on record beside its voiding; the lot becomes `voided`."""
    if cause not in VOID_CAUSES:
        raise Problem(
            422, "UNKNOWN_CAUSE", "无效事由不正确", "事由须为第四十三条第(一)至(三)项之一"
        )
    if not note.strip():
        raise Problem(422, "REASON_REQUIRED", "须填写认定结果无效的说明")
    lot = lock_lot(work, lot_id)
    if work.actor.grantor != lot.grantor:
        raise forbidden("只能办理本出让人的地块")
    catch_up(work, lot)
    result = work.session.get(Result, lot.id)
    if result is None or lot.status != "sold":
        raise Problem(409, "NOT_VOIDABLE", "只有已成交的结果可以认定无效")
    now = work.now()
    result.voided_at, result.voided_by = now, work.actor.user_id
    result.void_cause, result.void_note = cause, note
    lot.status = "voided"
    emit(
        work,
        lot,
        "result",
        {
            **void_view(result),
            "outcome": result.outcome,
            "price": format_fen(result.price_fen or 0),
            "rule": result.rule,
        },
    )
    publish(
        work,
        "voiding",
        lot,
        {"summary": f"竞得结果无效:{VOID_CAUSES[cause]}", "voided": void_view(result)},
    )
    record(
        work,
        "result.voided",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        data={"cause": cause, "note": note},
    )
    return result


def void_view(result: Result) -> dict[str, Any]:
    return {
        "voided_at": rfc3339(result.voided_at),
        "cause": result.void_cause,
        "cause_text": VOID_CAUSES.get(result.void_cause or 0),
        "note": result.void_note,
    }


def relist(work: Work, lot_id: int, schedule: dict[str, Any], code: str) -> Lot:
    """List a voided or unsold parcel again: a new draft lot with the same conditions,
    linked to the old one, with its own code and schedule."""
    old = lock_lot(work, lot_id)
    if old.status not in ("voided", "unsold", "terminated"):
        raise Problem(409, "NOT_RELISTABLE", "只有无效、不成交或终止的地块可以重新挂牌")
    body = LotCreate(
        code=code,
        name=old.name,
        grantor=old.grantor,
        asset_type=old.asset_type,
        layer=old.layer,
        location=old.location,
        area_m2=old.area_m2,
        land_use=old.land_use,
        term_years=old.term_years,
        planning=old.planning,
        details=old.details,
        start_price=format_fen(old.start_price_fen),
        increment=format_fen(old.increment_fen),
        deposit=format_fen(old.deposit_fen),
        has_reserve=old.has_reserve,
        price_cap=None if old.price_cap_fen is None else format_fen(old.price_cap_fen),
        **schedule,
    )
    lot = create_lot(work, body)
    lot.relisted_from = old.id
    record(
        work,
        "lot.relisted",
        stream=lot_stream(old.id),
        object_type="lot",
        object_id=old.id,
        data={"new_lot_id": lot.id, "code": code},
    )
    return lot
