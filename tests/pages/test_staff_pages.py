"""The trading center's pages over HTTP: a lot from the form to its announcement (R-09a),
documents (R-08), supplements (R-10b), suspension (R-37), and the live wall and console
that staff and supervisors watch (R-33) without seeing who the bidders are (R-07)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.harness import Account, Stack
from tests.pages.support import signed_in, text_of
from wangua.confidentiality.models import BreakGlass
from wangua.lots.models import Lot

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(moment: datetime) -> str:
    """What a `datetime-local` input sends: Asia/Shanghai wall time to the minute."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def lot_form(stack: Stack, **overrides: str) -> dict[str, str]:
    start = (stack.now() + timedelta(days=22)).replace(second=0, microsecond=0)
    end = start + timedelta(days=10, hours=6)
    form = {
        "code": f"咸土储挂〔2026〕{uuid.uuid4().hex[:8]}号",
        "name": "温泉路以南地块",
        "grantor": "xianning-city",
        "asset_type": "state_construction_land",
        "layer": "surface",
        "location": "咸宁市咸安区温泉路以南",
        "area_m2": "12,345.67",
        "land_use": "商服用地",
        "term_years": "40",
        "planning_key_0": "容积率",
        "planning_value_0": "≤3.0",
        "planning_key_1": "绿地率",
        "planning_value_1": "",
        "start_price": "86,000,000",
        "increment": "500000",
        "deposit": "17200000.00",
        "price_cap": "",
        "listing_start": local(start),
        "listing_end": local(end),
        "application_deadline": local(end - timedelta(days=2)),
        "deposit_deadline": local(end - timedelta(days=2)),
        "then": "publish",
    }
    form.update(overrides)
    return form


def created(stack: Stack, code: str) -> bool:
    with stack.runtime.read() as session:
        return session.scalar(select(Lot.id).where(Lot.code == code)) is not None


def test_r09a_a_lot_is_created_and_announced_from_the_form(stack: Stack, staff: Account) -> None:
    client = signed_in(stack, staff)
    blank = client.get("/staff/new")
    assert blank.status_code == 200
    assert 'name="listing_start" type="datetime-local"' in blank.text
    form = lot_form(stack)
    answer = client.post("/staff/lots", data=form)
    assert answer.status_code == 303, text_of(answer.text)
    lot_id = int(answer.headers["location"].rsplit("/", 1)[1])
    lot = stack.lot(lot_id)
    assert lot["status"] == "announced"
    assert lot["code"] == form["code"]
    assert lot["start_price"] == "86000000.00"
    assert lot["area_m2"] == "12345.67"
    assert lot["planning"] == {"容积率": "≤3.0"}
    typed = datetime.fromisoformat(form["listing_start"]).replace(tzinfo=SHANGHAI)
    assert datetime.fromisoformat(lot["listing_start"]) == typed
    desk = text_of(client.get("/staff").text)
    assert form["code"] in desk.split("公告期", 1)[1]


def test_r09a_a_refused_announcement_shows_the_rule_and_creates_nothing(
    stack: Stack, staff: Account
) -> None:
    client = signed_in(stack, staff)
    soon = stack.now() + timedelta(days=5)
    form = lot_form(
        stack,
        listing_start=local(soon),
        listing_end=local(soon + timedelta(days=11)),
        application_deadline=local(soon + timedelta(days=9)),
        deposit_deadline=local(soon + timedelta(days=9)),
    )
    answer = client.post("/staff/lots", data=form)
    assert answer.status_code == 422
    assert 'data-code="ANNOUNCEMENT_TOO_LATE"' in answer.text
    text = text_of(answer.text)
    assert "公告发布时间不足" in text
    assert "挂牌出让公告应当至少在挂牌开始日前20日发布" in text
    assert f'value="{form["code"]}"' in answer.text
    assert f'value="{form["listing_start"]}"' in answer.text
    assert not created(stack, form["code"])


def test_r02_form_errors_stand_next_to_their_fields(stack: Stack, staff: Account) -> None:
    client = signed_in(stack, staff)
    form = lot_form(stack, start_price="八千万", listing_end="", name="")
    answer = client.post("/staff/lots", data=form)
    assert answer.status_code == 422
    assert 'data-code="FORM_INVALID"' in answer.text
    for name in ("start_price", "listing_end", "name"):
        assert re.search(rf'id="f-{name}"[^>]*aria-invalid="true"', answer.text, re.S), name
        assert f'id="f-{name}-error"' in answer.text
    assert "须为大于零、最多两位小数的金额(元)" in text_of(answer.text)
    assert 'value="八千万"' in answer.text
    assert not created(stack, form["code"])


def test_r08_an_uploaded_document_is_on_the_public_lot_page(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    client = signed_in(stack, staff)
    content = b"%PDF-1.4 announcement of the lot"
    answer = client.post(
        f"/staff/lots/{lot['id']}/documents",
        data={"kind": "announcement"},
        files={"file": ("出让公告.pdf", content, "application/pdf")},
    )
    assert answer.status_code == 303, text_of(answer.text)
    public = text_of(stack.anonymous().get(f"/lots/{lot['id']}").text)
    assert "国有建设用地使用权挂牌出让公告:出让公告.pdf" in public
    again = client.post(
        f"/staff/lots/{lot['id']}/documents",
        data={"kind": "announcement"},
        files={"file": ("另一份.pdf", b"%PDF-1.4 changed", "application/pdf")},
    )
    assert again.status_code == 409
    assert "已发布的出让文件不得变更" in text_of(again.text)
    assert "另一份.pdf" not in text_of(stack.anonymous().get(f"/lots/{lot['id']}").text)


def test_r10b_a_major_supplement_moves_the_deadline(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    now = stack.advance_to(lot["listing_start"])
    client = signed_in(stack, staff)
    answer = client.post(
        f"/staff/lots/{lot['id']}/supplements",
        data={"title": "关于调整规划条件的补充公告", "body": "容积率调整为≤2.8。", "major": "yes"},
    )
    assert answer.status_code == 303, text_of(answer.text)
    moved = datetime.fromisoformat(stack.lot(lot["id"])["listing_end"])
    assert moved == now + timedelta(days=20)
    assert moved > datetime.fromisoformat(lot["listing_end"])
    page = text_of(client.get(answer.headers["location"]).text)
    assert "挂牌截止时间由" in page
    assert moved.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") in page
    assert "关于调整规划条件的补充公告" in text_of(stack.anonymous().get("/supplements").text)


def test_r37_a_suspension_with_its_cause_shows_on_the_public_board(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    client = signed_in(stack, staff)
    answer = client.post(
        f"/staff/lots/{lot['id']}/suspend", data={"cause": "4", "note": "机房断电"}
    )
    assert answer.status_code == 303, text_of(answer.text)
    assert stack.lot(lot["id"])["status"] == "suspended"
    public = text_of(stack.anonymous().get(f"/lots/{lot['id']}").text)
    assert "本宗地挂牌活动已中止" in public
    page = text_of(client.get(answer.headers["location"]).text)
    assert "机房断电" in page
    assert "尚未公告恢复" in page
    too_soon = client.post(
        f"/staff/lots/{lot['id']}/resume",
        data={"effective_at": local(stack.now() + timedelta(days=2))},
    )
    assert too_soon.status_code == 422
    assert "应当在恢复网上挂牌出让5日前发布恢复公告" in text_of(too_soon.text)
    assert stack.lot(lot["id"])["status"] == "suspended"


def test_r37_a_cause_the_grantor_must_approve_is_refused_until_approved(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    client = signed_in(stack, staff)
    refused = client.post(f"/staff/lots/{lot['id']}/suspend", data={"cause": "2"})
    assert refused.status_code == 403
    assert 'data-code="APPROVAL_REQUIRED"' in refused.text
    assert "须出让人批准:尚未批准" in text_of(refused.text)
    assert stack.lot(lot["id"])["status"] == "announced"
    grantor = stack.account("grantor", "xianning-city")
    approval = grantor.http.post(
        f"/api/v1/lots/{lot['id']}/approvals",
        json={"action": "suspend", "cause": 2, "note": "委托人要求"},
    )
    assert approval.status_code == 201, approval.text
    page = text_of(client.get(f"/staff/lots/{lot['id']}/suspension").text)
    assert "须出让人批准:已批准" in page
    assert "未使用" in page
    answer = client.post(f"/staff/lots/{lot['id']}/suspend", data={"cause": "2"})
    assert answer.status_code == 303
    assert stack.lot(lot["id"])["status"] == "suspended"


def listing_lot(stack: Stack, staff: Account) -> tuple[dict[str, Any], Account, str]:
    """A lot in its listing period with one quote, and that quote's bidder and number."""
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    stack.qualified(bidder, lot)
    stack.advance_to(lot["listing_start"])
    quote = stack.quote(bidder, lot, lot["start_price"])
    assert quote.status_code == 201, quote.text
    return lot, bidder, quote.json()["bidder_number"]


def test_r33_the_live_wall_shows_the_grantors_running_lots(stack: Stack, staff: Account) -> None:
    running = stack.published_lot(staff)
    county = stack.published_lot(stack.account("staff", "xianan"), grantor="xianan")
    stack.advance_to(county["listing_start"])
    announced = stack.published_lot(staff)
    wall = signed_in(stack, staff).get("/staff/live")
    assert wall.status_code == 200
    assert f'sse-swap="board-{running["id"]}"' in wall.text
    assert running["code"] in text_of(wall.text)
    assert f'sse-swap="board-{announced["id"]}"' not in wall.text
    assert f'sse-swap="board-{county["id"]}"' not in wall.text
    supervisor = signed_in(stack, stack.account("supervisor")).get("/staff/live")
    assert f'sse-swap="board-{county["id"]}"' in supervisor.text


def test_r07_the_console_shows_the_board_and_keeps_bidders_sealed(
    stack: Stack, staff: Account
) -> None:
    lot, bidder, number = listing_lot(stack, staff)
    client = signed_in(stack, staff)
    console = client.get(f"/staff/lots/{lot['id']}")
    assert console.status_code == 200
    assert f'sse-connect="/lots/{lot["id"]}/live' in console.text
    assert 'sse-swap="quote"' in console.text
    text = text_of(console.text)
    assert number in text
    assert "挂牌截止" in text.split("待触发的计时", 1)[1]
    assert "取得竞买资格 1" in text
    assert bidder.party_name not in text
    sealed = client.get(f"/staff/lots/{lot['id']}/bidders")
    assert 'data-code="IDENTITIES_SEALED"' in sealed.text
    assert bidder.party_name not in sealed.text
    asked = client.post(
        f"/staff/lots/{lot['id']}/identity-access", data={"reason": "纪委调查需要核实竞买人"}
    )
    assert asked.status_code == 303
    assert "待监督人员批准" in text_of(client.get(asked.headers["location"]).text)
    with stack.runtime.read() as session:
        request_id = session.scalar(select(BreakGlass.id).where(BreakGlass.lot_id == lot["id"]))
    supervisor = stack.account("supervisor")
    approved = supervisor.http.post(f"/api/v1/identity-access/{request_id}/approve")
    assert approved.status_code == 200, approved.text
    opened = client.get(f"/staff/lots/{lot['id']}/bidders")
    assert opened.status_code == 200
    assert bidder.party_name in text_of(opened.text)
    assert bidder.party_name not in text_of(client.get(f"/staff/lots/{lot['id']}").text)


def test_r33_a_supervisor_watches_the_console_but_cannot_act(stack: Stack, staff: Account) -> None:
    lot, _, number = listing_lot(stack, staff)
    supervisor = signed_in(stack, stack.account("supervisor"))
    console = supervisor.get(f"/staff/lots/{lot['id']}")
    assert console.status_code == 200
    assert number in text_of(console.text)
    assert "监督人员只读查看" in text_of(console.text)
    assert "/suspension" not in console.text
    refused = supervisor.post(f"/staff/lots/{lot['id']}/suspend", data={"cause": "1"})
    assert refused.status_code == 403
    assert 'data-code="ROLE_NOT_ALLOWED"' in refused.text
    assert stack.lot(lot["id"])["status"] == "listing"
    staff_console = signed_in(stack, staff).get(f"/staff/lots/{lot['id']}")
    assert f'href="/staff/lots/{lot["id"]}/suspension"' in staff_console.text


def test_r03_staff_do_not_open_another_grantors_lot(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    county = signed_in(stack, stack.account("staff", "xianan"))
    for path in ("", "/documents", "/supplements", "/suspension", "/bidders"):
        answer = county.get(f"/staff/lots/{lot['id']}{path}")
        assert answer.status_code == 403, path
        assert 'data-code="FORBIDDEN"' in answer.text, path
    refused = county.post(f"/staff/lots/{lot['id']}/suspend", data={"cause": "1"})
    assert refused.status_code == 403
    assert stack.lot(lot["id"])["status"] == "announced"
