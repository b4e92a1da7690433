"""Applying for a lot (R-13, R-14, R-15)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wangua.applications.models import Application
from wangua.applications.repository import application_of
from wangua.audit.service import lot_stream, record
from wangua.config import Settings
from wangua.deposits.accounts import instructions
from wangua.identity.models import Party, User
from wangua.kit import ids
from wangua.kit.money import format_fen, parse_share
from wangua.kit.problems import Problem
from wangua.kit.times import rfc3339
from wangua.lots.models import Lot
from wangua.lots.repository import lock_lot
from wangua.runtime import Work
from wangua.scheduler.service import catch_up

FULL_SHARE = 100_00  # 100.00 % in hundredths of a percent


def _members(work: Work, given: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """R-13: every member with its share; shares positive and summing to exactly 100%."""
    if given is None:
        user = work.session.get(User, work.actor.user_id)
        party = work.session.get(Party, user.party_id) if user and user.party_id else None
        if party is None:
            raise Problem(422, "PARTY_REQUIRED", "账户未登记竞买主体信息")
        return [
            {"name": party.name, "id_type": party.id_type, "id_no": party.id_no, "share": "100.00"}
        ]
    members: list[dict[str, Any]] = []
    total = 0
    for index, member in enumerate(given):
        for key in ("name", "id_type", "id_no"):
            if not isinstance(member.get(key), str) or not member[key].strip():
                raise Problem(
                    422,
                    "MEMBER_INCOMPLETE",
                    "联合竞买成员信息不完整",
                    f"第 {index + 1} 个成员缺少 {key}",
                )
        try:
            share = parse_share(member.get("share"), field=f"members[{index}].share")
        except Problem:
            raise Problem(
                422,
                "SHARES_NOT_100",
                "出资比例不正确",
                "每个成员的出资比例须为正数、最多两位小数,合计恰为 100%",
            ) from None
        total += share
        members.append(
            {
                "name": member["name"].strip(),
                "id_type": member["id_type"].strip(),
                "id_no": member["id_no"].strip(),
                "share": format_fen(share),
            }
        )
    if not members or total != FULL_SHARE:
        raise Problem(
            422,
            "SHARES_NOT_100",
            "出资比例合计须为 100%",
            f"联合竞买各方出资比例合计为 {format_fen(total)}%,须恰为 100.00%",
        )
    return members


def apply(
    work: Work,
    lot_id: int,
    members: list[dict[str, Any]] | None,
    new_company: dict[str, Any] | None,
    consent: bool,
) -> Application:
    """R-13 … R-15: one application per bidder per lot, with consent and an order number."""
    lot = lock_lot(work, lot_id)
    catch_up(work, lot)
    if consent is not True:
        raise Problem(
            422,
            "CONSENT_REQUIRED",
            "须同意竞买规则和出让文件",
            "提交竞买申请即视为同意网上交易规则和出让文件,请确认同意",
        )
    now = work.now()
    if lot.status not in ("announced", "listing") or now >= lot.application_deadline:
        raise Problem(409, "APPLICATIONS_CLOSED", "竞买申请已截止或尚未开放")
    if application_of(work.session, lot.id, work.actor.user_id) is not None:
        raise Problem(
            409, "ALREADY_APPLIED", "您已申请过该地块", "同一竞买人对同一宗地只能提交一份申请"
        )
    checked = _members(work, members)
    assert work.actor.user_id is not None
    order_no = ids.order_number(now)
    while work.session.scalar(select(Application.id).where(Application.order_no == order_no)):
        order_no = ids.order_number(now)
    application = Application(
        lot_id=lot.id,
        user_id=work.actor.user_id,
        order_no=order_no,
        status="awaiting_deposit",
        members=checked,
        new_company=new_company,
        consented_at=now,
        created_at=now,
        paid_fen=0,
    )
    work.session.add(application)
    work.session.flush()
    record(
        work,
        "application.submitted",
        stream=lot_stream(lot.id),
        object_type="application",
        object_id=application.id,
        data={
            "members": checked,
            "new_company": new_company,
            "order_no": order_no,
            "consent": True,
        },
    )
    return application


def application_view(
    session: Session, application: Application, lot: Lot, settings: Settings
) -> dict[str, Any]:
    """The application with its deposit instructions: the bank of the lot's grantor
    (R-16a), or the application's virtual sub-account once issued."""
    return {
        "id": application.id,
        "lot_id": application.lot_id,
        "lot_code": lot.code,
        "order_no": application.order_no,
        "status": application.status,
        "bidder_number": application.bidder_number,
        "members": application.members,
        "new_company": application.new_company,
        "consented_at": rfc3339(application.consented_at),
        "created_at": rfc3339(application.created_at),
        "qualified_at": rfc3339(application.qualified_at),
        "paid": format_fen(application.paid_fen),
        "deposit": instructions(session, settings, application, lot),
    }
