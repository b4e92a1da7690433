"""The staff pages after the result and before the announcement: the winner's signed
confirmation on the console (R-28b), forfeiture of the winner's deposit (R-44), voiding a
result and relisting the parcel (R-43), and the starting price proposed with its
appraisal (R-LR28). Each form changes what the API shows; a refusal shows the service's
message and code and changes nothing. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from tests.deposits.support import due_after, refunds, sell
from tests.harness import Account, Stack
from tests.pages.support import signed_in, text_of
from tests.pages.test_staff_pages import local
from wangua.deposits.payouts import FORFEIT_CAUSES
from wangua.kit.times import SHANGHAI
from wangua.lots.models import Lot
from wangua.pages import staff_results
from wangua.results.service import VOID_CAUSES


def _after(day: str) -> datetime:
    """The morning after an Asia/Shanghai date."""
    return datetime.fromisoformat(day).replace(hour=9, tzinfo=SHANGHAI) + timedelta(days=1)


def _sold(stack: Stack, staff: Account) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A lot sold to one bidder under R-22(1): the lot, the winner's application, the result."""
    lot = stack.published_lot(staff)
    winner = stack.bidder()
    won = stack.qualified(winner, lot)
    return lot, won, sell(stack, lot, winner)


def _deposit(stack: Stack, lot: dict[str, Any], application: dict[str, Any]) -> list[str]:
    finance = stack.account("finance", "xianning-city")
    return [r["status"] for r in refunds(finance, lot) if r["application_id"] == application["id"]]


def _price(staff: Account, lot_id: int) -> dict[str, Any]:
    response = staff.http.get(f"/api/v1/lots/{lot_id}/price")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_r44_r43_the_causes_on_the_pages_are_the_services() -> None:
    assert staff_results.FORFEIT_CAUSES == FORFEIT_CAUSES
    assert staff_results.VOID_CAUSES == VOID_CAUSES


def test_r28b_the_console_records_the_signed_confirmation(stack: Stack, staff: Account) -> None:
    lot, _, result = _sold(stack, staff)
    deadline = due_after(result["decided_at"], 3)
    client = signed_in(stack, staff)
    console = client.get(f"/staff/lots/{lot['id']}")
    assert console.status_code == 200
    action = f'action="/staff/lots/{lot["id"]}/confirmation/signature"'
    assert action in console.text
    assert f'href="/staff/lots/{lot["id"]}/result"' in console.text
    text = text_of(console.text)
    assert f"签订截止日 {deadline}" in text
    assert "尚未签订" in text
    watching = signed_in(stack, stack.account("supervisor")).get(f"/staff/lots/{lot['id']}")
    assert deadline in text_of(watching.text) and action not in watching.text
    county = signed_in(stack, stack.account("staff", "xianan"))
    foreign = county.post(f"/staff/lots/{lot['id']}/confirmation/signature", data={"note": ""})
    assert foreign.status_code == 403 and 'data-code="FORBIDDEN"' in foreign.text
    assert stack.lot(lot["id"])["confirmation"]["signed_at"] is None

    done = client.post(
        f"/staff/lots/{lot['id']}/confirmation/signature",
        data={"note": "竞得人法定代表人到场签订"},
    )
    assert done.status_code == 303, text_of(done.text)
    assert done.headers["location"] == f"/staff/lots/{lot['id']}"
    signed = stack.lot(lot["id"])["confirmation"]
    assert signed["deadline"] == deadline
    assert datetime.fromisoformat(signed["signed_at"]) == stack.now()
    after = client.get(done.headers["location"])
    shown = text_of(after.text)
    assert f"已于 {stack.now().astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S} 签订" in shown
    assert staff.username in shown and "竞得人法定代表人到场签订" in shown
    assert action not in after.text

    again = client.post(f"/staff/lots/{lot['id']}/confirmation/signature", data={"note": "再次"})
    assert again.status_code == 409
    assert 'data-code="CONFIRMATION_ALREADY_SIGNED"' in again.text
    assert "成交确认书已登记签订" in text_of(again.text)
    assert stack.lot(lot["id"])["confirmation"] == signed


def test_r28b_r44_a_late_signing_is_refused_and_the_missed_deadline_forfeits(
    stack: Stack, staff: Account
) -> None:
    lot, won, result = _sold(stack, staff)
    deadline = due_after(result["decided_at"], 3)
    client = signed_in(stack, staff)
    early = client.post(
        f"/staff/lots/{lot['id']}/forfeiture",
        data={"cause": "missed_confirmation", "note": "未到场办理"},
    )
    assert early.status_code == 409
    assert 'data-code="CONFIRMATION_NOT_OVERDUE"' in early.text
    assert "成交确认期限尚未届满" in text_of(early.text)
    assert "未到场办理" in early.text  # the form comes back as typed
    assert _deposit(stack, lot, won) == ["earnest"]

    stack.advance_to(_after(deadline))
    console = client.get(f"/staff/lots/{lot['id']}")
    assert "未在期限内签订" in text_of(console.text)
    assert "/confirmation/signature" not in console.text
    late = client.post(f"/staff/lots/{lot['id']}/confirmation/signature", data={"note": ""})
    assert late.status_code == 409
    assert 'data-code="CONFIRMATION_OVERDUE"' in late.text
    assert deadline in text_of(late.text)
    assert stack.lot(lot["id"])["confirmation"] == {"deadline": deadline, "signed_at": None}

    done = client.post(
        f"/staff/lots/{lot['id']}/forfeiture",
        data={"cause": "missed_confirmation", "note": "逾期未到场办理成交确认"},
    )
    assert done.status_code == 303, text_of(done.text)
    assert _deposit(stack, lot, won) == ["forfeited"]
    page = text_of(client.get(done.headers["location"]).text)
    assert f"{staff.username} 于" in page and "决定没收竞得人保证金" in page
    assert "逾期未到场办理成交确认" in page
    nothing_left = client.get(done.headers["location"]).text
    assert f'action="/staff/lots/{lot["id"]}/forfeiture"' not in nothing_left
    assert "未签订,保证金已没收" in text_of(client.get(f"/staff/lots/{lot['id']}").text)


def test_r44_a_signed_confirmation_is_not_forfeited_as_missed_or_refused(
    stack: Stack, staff: Account
) -> None:
    lot, won, _ = _sold(stack, staff)
    client = signed_in(stack, staff)
    assert client.post(f"/staff/lots/{lot['id']}/confirmation/signature").status_code == 303
    page = client.get(f"/staff/lots/{lot['id']}/result")
    assert page.status_code == 200
    assert f'action="/staff/lots/{lot["id"]}/forfeiture"' in page.text
    assert "已登记签订,不适用" in text_of(page.text)
    for cause in ("missed_confirmation", "refused_confirmation"):
        refused = client.post(
            f"/staff/lots/{lot['id']}/forfeiture", data={"cause": cause, "note": "拒签"}
        )
        assert refused.status_code == 409, cause
        assert 'data-code="CONFIRMATION_SIGNED"' in refused.text
        assert "竞得人已签订成交确认书" in text_of(refused.text)
    unreasoned = client.post(
        f"/staff/lots/{lot['id']}/forfeiture", data={"cause": "refused_contract", "note": " "}
    )
    assert unreasoned.status_code == 422
    assert 'data-code="REASON_REQUIRED"' in unreasoned.text
    assert _deposit(stack, lot, won) == ["earnest"]

    done = client.post(
        f"/staff/lots/{lot['id']}/forfeiture",
        data={"cause": "refused_contract", "note": "竞得人书面表示不签订出让合同"},
    )
    assert done.status_code == 303, text_of(done.text)
    assert _deposit(stack, lot, won) == ["forfeited"]
    shown = text_of(client.get(done.headers["location"]).text)
    assert "已没收" in shown and "竞得人书面表示不签订出让合同" in shown
    twice = client.post(
        f"/staff/lots/{lot['id']}/forfeiture", data={"cause": "abandoned", "note": "放弃"}
    )
    assert twice.status_code == 409 and 'data-code="NOT_FORFEITABLE"' in twice.text


def test_r43_a_result_is_voided_from_the_form_and_keeps_the_result(
    stack: Stack, staff: Account
) -> None:
    lot, won, _ = _sold(stack, staff)
    client = signed_in(stack, staff)
    page = client.get(f"/staff/lots/{lot['id']}/result")
    assert f'action="/staff/lots/{lot["id"]}/void"' in page.text
    assert "恶意串通或者阻碍正常的网上挂牌出让活动" in text_of(page.text)
    silent = client.post(f"/staff/lots/{lot['id']}/void", data={"cause": "2", "note": ""})
    assert silent.status_code == 422 and 'data-code="REASON_REQUIRED"' in silent.text
    unknown = client.post(f"/staff/lots/{lot['id']}/void", data={"cause": "4", "note": "其他"})
    assert unknown.status_code == 422 and 'data-code="UNKNOWN_CAUSE"' in unknown.text
    assert stack.lot(lot["id"])["status"] == "sold"

    done = client.post(
        f"/staff/lots/{lot['id']}/void", data={"cause": "2", "note": "经查实与其他竞买人恶意串通"}
    )
    assert done.status_code == 303, text_of(done.text)
    assert stack.lot(lot["id"])["status"] == "voided"
    decided = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/result").json()
    assert decided["outcome"] == "sold"
    assert decided["winner"]["bidder_number"] == won["bidder_number"]
    assert (decided["voided"]["cause"], decided["voided"]["note"]) == (
        2,
        "经查实与其他竞买人恶意串通",
    )
    after = client.get(done.headers["location"])
    shown = text_of(after.text)
    assert "该结果已于" in shown and "经查实与其他竞买人恶意串通" in shown
    assert won["bidder_number"] in shown
    assert f'action="/staff/lots/{lot["id"]}/relist"' in after.text
    again = client.post(f"/staff/lots/{lot['id']}/void", data={"cause": "1", "note": "再次"})
    assert again.status_code == 409 and 'data-code="NOT_VOIDABLE"' in again.text


def test_r43_a_voided_lot_is_relisted_from_the_form_as_a_new_draft(
    stack: Stack, staff: Account
) -> None:
    lot, _, _ = _sold(stack, staff)
    voided = staff.http.post(
        f"/api/v1/lots/{lot['id']}/void", json={"cause": 1, "note": "提供虚假材料"}
    )
    assert voided.status_code == 200, voided.text
    start = (stack.now() + timedelta(days=22)).replace(second=0, microsecond=0)
    end = start + timedelta(days=10)
    form = {
        "code": f"{lot['code']}-重",
        "listing_start": local(start),
        "listing_end": local(end),
        "application_deadline": local(end - timedelta(days=2)),
        "deposit_deadline": local(end - timedelta(days=2)),
    }
    client = signed_in(stack, staff)

    def relisted() -> list[int]:
        with stack.runtime.read() as session:
            return list(session.scalars(select(Lot.id).where(Lot.relisted_from == lot["id"])))

    taken = client.post(f"/staff/lots/{lot['id']}/relist", data={**form, "code": lot["code"]})
    assert taken.status_code == 409 and 'data-code="LOT_CODE_TAKEN"' in taken.text
    garbled = client.post(f"/staff/lots/{lot['id']}/relist", data={**form, "listing_end": "明天"})
    assert garbled.status_code == 422 and 'data-code="INVALID_TIME"' in garbled.text
    assert form["code"] in garbled.text  # the form comes back as typed
    announced = stack.published_lot(staff)
    early = client.post(f"/staff/lots/{announced['id']}/relist", data=form)
    assert early.status_code == 409 and 'data-code="NOT_RELISTABLE"' in early.text
    assert relisted() == []

    done = client.post(f"/staff/lots/{lot['id']}/relist", data=form)
    assert done.status_code == 303, text_of(done.text)
    (new_id,) = relisted()
    assert done.headers["location"] == f"/staff/lots/{new_id}"
    new = staff.http.get(f"/api/v1/lots/{new_id}").json()
    assert (new["status"], new["relisted_from"], new["code"]) == ("draft", lot["id"], form["code"])
    assert (new["name"], new["start_price"]) == (lot["name"], lot["start_price"])
    assert datetime.fromisoformat(new["listing_start"]) == start
    page = client.get(f"/staff/lots/{lot['id']}/result")
    assert f'href="/staff/lots/{new_id}"' in page.text and form["code"] in text_of(page.text)


def test_rlr28_staff_propose_the_start_price_with_the_appraisal(
    stack: Stack, staff: Account
) -> None:
    draft = staff.http.post("/api/v1/lots", json=stack.lot_body()).json()
    client = signed_in(stack, staff)
    console = client.get(f"/staff/lots/{draft['id']}")
    assert "起始价审批记录" in text_of(console.text)
    assert f'href="/staff/lots/{draft["id"]}/price"' in console.text
    page = client.get(f"/staff/lots/{draft['id']}/price")
    assert page.status_code == 200
    assert f'action="/staff/lots/{draft["id"]}/price/propose"' in page.text
    assert '<label for="appraised_price">' in page.text

    above = client.post(
        f"/staff/lots/{draft['id']}/price/propose", data={"appraised_price": "120,000,000.01"}
    )
    assert above.status_code == 422
    assert 'data-code="BELOW_APPRAISED_PRICE"' in above.text
    assert "起始价不得低于评估价" in text_of(above.text)
    garbled = client.post(
        f"/staff/lots/{draft['id']}/price/propose", data={"appraised_price": "一亿"}
    )
    assert garbled.status_code == 422 and 'data-code="INVALID_AMOUNT"' in garbled.text
    assert _price(staff, draft["id"])["appraised_price"] is None

    done = client.post(
        f"/staff/lots/{draft['id']}/price/propose", data={"appraised_price": "118,000,000"}
    )
    assert done.status_code == 303, text_of(done.text)
    record = _price(staff, draft["id"])
    assert (record["appraised_price"], record["proposed_by"]) == ("118000000.00", staff.username)
    assert not record["approved"]
    bureau = stack.account("grantor", "xianning-city")
    assert bureau.http.post(f"/api/v1/lots/{draft['id']}/price/review").status_code == 200
    reviewed = _price(staff, draft["id"])
    shown = text_of(client.get(done.headers["location"]).text)
    assert "118,000,000.00" in shown
    assert staff.username in shown and bureau.username in shown and "未批准" in shown

    assert staff.http.post(f"/api/v1/lots/{draft['id']}/publish").status_code == 200
    locked = client.post(
        f"/staff/lots/{draft['id']}/price/propose", data={"appraised_price": "100000000"}
    )
    assert locked.status_code == 409 and 'data-code="PRICE_LOCKED"' in locked.text
    assert _price(staff, draft["id"]) == reviewed
    county = signed_in(stack, stack.account("staff", "xianan"))
    for path in ("/price", "/result"):
        foreign = county.get(f"/staff/lots/{draft['id']}{path}")
        assert foreign.status_code == 403 and 'data-code="FORBIDDEN"' in foreign.text
