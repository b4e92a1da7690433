"""What each printed document states (R-28a), read from the record as plain JSON data:
the statement is stored with the issued document and answered by its verification."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wangua.applications.models import Application
from wangua.bidding.models import Result
from wangua.cap.service import result_lottery
from wangua.deposits.models import Guarantee
from wangua.identity.models import Party, User
from wangua.kit.money import format_fen
from wangua.kit.times import rfc3339
from wangua.lots.assets import ASSET_TYPES, LAYERS
from wangua.lots.models import GRANTORS, Lot
from wangua.results.confirmation import deadline

RULE_TEXTS = {
    "R-22(1)": "挂牌期限届满无竞买人参加网上限时竞价,挂牌期限内只有一个竞买人报价且报价不低于底价"
    "(第二十二条第(一)项)",
    "R-22(2)": "挂牌期限届满无竞买人参加网上限时竞价,挂牌期限内有两个或者两个以上竞买人报价,"
    "出价最高者为竞得人,但报价低于底价者除外(第二十二条第(二)项)",
    "R-22(3)": "挂牌期限内无应价者或者竞买人的报价均低于底价,挂牌不成交(第二十二条第(三)项)",
    "R-23": "网上限时竞价按价高者得且最高报价不低于底价的原则确定竞得人(第二十三条)",
    "R-27": "网上限时竞价中无人报价,以挂牌期限内网上报价最高者为竞得人,但低于底价者除外"
    "(第二十七条)",
    "R-CAP": "报价达到最高限价后,在接受最高限价的竞买人中以摇号方式确定竞得人,成交价为最高限价;"
    "最高限价低于底价的不成交(本宗地最高限价规则)",
}
"""The deciding rules (R-22, R-23, R-27) as the regulation words them, and the house rule
of a price cap (R-CAP)."""

COMPANY_LABELS = {
    "name": "拟用名称",
    "investors": "出资主体",
    "equity": "股本构成",
    "registered_capital": "注册资本(元)",
    "formation": "成立时间",
    "formation_date": "成立时间",
}
"""R-14: the declared new company, as the application form names its parts."""

PLANNING_LABELS = {
    "plot_ratio": "容积率",
    "building_density": "建筑密度",
    "green_ratio": "绿地率",
    "height_limit": "建筑限高",
}


def lot_facts(lot: Lot) -> dict[str, Any]:
    """The lot as every document names it (R-02, R-08)."""
    asset = ASSET_TYPES.get(lot.asset_type, ASSET_TYPES["state_construction_land"])
    return {
        "id": lot.id,
        "code": lot.code,
        "name": lot.name,
        "grantor": GRANTORS.get(lot.grantor, lot.grantor),
        "right": asset.right,
        "contract": asset.contract,
        "location": lot.location,
        "area_m2": f"{lot.area_m2:.2f}",
        "land_use": lot.land_use,
        "term_years": lot.term_years,
        "layer": LAYERS.get(lot.layer, lot.layer),
        "planning": [[PLANNING_LABELS.get(k, k), str(v)] for k, v in lot.planning.items()],
        "start_price": format_fen(lot.start_price_fen),
        "increment": format_fen(lot.increment_fen),
        "deposit": format_fen(lot.deposit_fen),
        "listing_start": rfc3339(lot.listing_start),
        "listing_end": rfc3339(lot.listing_end),
    }


def applicant_name(session: Session, application: Application) -> str:
    """The applying party's name; for a party-less account, the members' names."""
    user = session.get(User, application.user_id)
    party = session.get(Party, user.party_id) if user and user.party_id else None
    return party.name if party else "、".join(m["name"] for m in application.members)


def members(application: Application, *, identities: bool = True) -> list[dict[str, str]]:
    """R-13: every member with its share; a single bidder is one member at 100.00."""
    keys = ("name", "id_type", "id_no", "share") if identities else ("name", "share")
    return [{key: str(member[key]) for key in keys} for member in application.members]


def company_lines(declared: dict[str, Any] | None) -> list[list[str]]:
    """R-14: the new company to be formed after winning, as [label, text] lines."""
    lines = []
    for key, value in (declared or {}).items():
        if isinstance(value, list):
            text = "、".join(
                f"{v.get('name', '')} {v.get('share', '')}%" if isinstance(v, dict) else str(v)
                for v in value
            )
        else:
            text = str(value)
        lines.append([COMPANY_LABELS.get(key, key), text])
    return lines


def rule_text(rule: str) -> str:
    return RULE_TEXTS.get(rule, rule)


def confirmation(session: Session, lot: Lot, result: Result, winner: Application) -> dict[str, Any]:
    """R-28a: the confirmation (成交确认书); a joint winner's lists every member and share."""
    assert result.price_fen is not None
    return {
        "kind": "confirmation",
        "lot": lot_facts(lot),
        "winner": applicant_name(session, winner),
        "bidder_number": winner.bidder_number,
        "order_no": winner.order_no,
        "parties": members(winner),
        "new_company": company_lines(winner.new_company),
        "price": format_fen(result.price_fen),
        "earnest": format_fen(lot.deposit_fen),
        "rule": result.rule,
        "rule_text": rule_text(result.rule),
        "decided_at": rfc3339(result.decided_at),
        "confirm_by": deadline(session, result.decided_at).isoformat(),  # R-28b
    }


def qualification(session: Session, lot: Lot, application: Application) -> dict[str, Any]:
    """R-16b, R-16c: the qualification confirmation with the bidder number."""
    guarantee = session.scalars(
        select(Guarantee).where(Guarantee.application_id == application.id)
    ).one_or_none()
    return {
        "kind": "qualification",
        "lot": lot_facts(lot),
        "applicant": applicant_name(session, application),
        "bidder_number": application.bidder_number,
        "order_no": application.order_no,
        "parties": members(application),
        "price": None,
        "paid": format_fen(application.paid_fen),
        "guarantee": None
        if guarantee is None
        else {
            "issuer": guarantee.issuer,
            "number": guarantee.number,
            "amount": format_fen(guarantee.amount_fen),
        },
        "qualified_at": rfc3339(application.qualified_at),
    }


def result_announcement(session: Session, lot: Lot, result: Result) -> dict[str, Any]:
    """R-29, R-25c: the result as the public reads it: price, reserve, winner, rule, and
    the lottery that drew the winner at the cap (R-CAP)."""
    winner = (
        session.get(Application, result.winner_application_id)
        if result.winner_application_id is not None
        else None
    )
    return {
        "kind": "result_announcement",
        "lot": lot_facts(lot),
        "outcome": result.outcome,
        "winner": applicant_name(session, winner) if winner else None,
        "parties": members(winner, identities=False) if winner else [],
        "price": None if result.price_fen is None else format_fen(result.price_fen),
        "reserve_price": None if result.reserve_fen is None else format_fen(result.reserve_fen),
        "rule": result.rule,
        "rule_text": rule_text(result.rule),
        "decided_at": rfc3339(result.decided_at),
        "lottery": result_lottery(session, result),
    }
