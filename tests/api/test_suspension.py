"""Suspension, resumption and termination (R-37, R-37b, R-39) over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.api.bidding_support import listing_lot, read_events, result, to_timed_bidding
from tests.harness import Account, Stack


def suspend(staff: Account, lot: dict[str, Any], cause: int, note: str = "依法中止") -> Any:
    return staff.http.post(f"/api/v1/lots/{lot['id']}/suspend", json={"cause": cause, "note": note})


def resume(staff: Account, lot: dict[str, Any], effective_at: datetime) -> Any:
    return staff.http.post(
        f"/api/v1/lots/{lot['id']}/resume", json={"effective_at": effective_at.isoformat()}
    )


def test_r37_cause_1_suspends_at_once_closing_quoting_and_freezing_timers(
    stack: Stack, staff: Account
) -> None:
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    stack.quote(a, lot, "120000000.00")
    response = suspend(staff, lot, 1, "司法机关要求中止")
    assert response.status_code == 200 and response.json()["status"] == "suspended"
    refused = stack.quote(b, lot, "121000000.00")
    assert refused.status_code == 409 and refused.json()["code"] == "NOT_OPEN"
    stack.advance_to(datetime.fromisoformat(lot["listing_end"]) + timedelta(days=1))
    assert stack.lot(lot["id"])["status"] == "suspended"
    events = read_events(stack, lot["id"], count=3)
    assert events[-1]["event"] == "suspended"
    assert events[-1]["data"]["cause"] == 1 and events[-1]["data"]["from_status"] == "listing"


def test_r37_causes_2_3_5_need_the_grantors_approval(stack: Stack, staff: Account) -> None:
    lot, _, _ = listing_lot(stack, staff, 1)
    for cause in (2, 3, 5):
        refused = suspend(staff, lot, cause)
        assert refused.status_code == 403 and refused.json()["code"] == "APPROVAL_REQUIRED"
    other_grantor = stack.account("grantor", "chibi")
    body = {"action": "suspend", "cause": 3, "note": "规划条件调整需重新报批"}
    assert (
        other_grantor.http.post(f"/api/v1/lots/{lot['id']}/approvals", json=body).status_code == 403
    )
    officer = stack.account("grantor", "xianning-city")
    assert officer.http.post(f"/api/v1/lots/{lot['id']}/approvals", json=body).status_code == 201
    assert suspend(staff, lot, 2).json()["code"] == "APPROVAL_REQUIRED"  # approved cause 3 only
    assert suspend(staff, lot, 3).status_code == 200


def test_r37_staff_of_another_grantor_cannot_suspend(stack: Stack, staff: Account) -> None:
    lot, _, _ = listing_lot(stack, staff, 1)
    assert suspend(stack.account("staff", "tongshan"), lot, 1).status_code == 403
    assert stack.lot(lot["id"])["status"] == "listing"


def test_r39_resumption_needs_five_days_notice_and_restores_the_time_left(
    stack: Stack, staff: Account
) -> None:
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    stack.quote(a, lot, "120000000.00")
    stack.advance(86400)
    suspended_at = stack.now()
    left = datetime.fromisoformat(lot["listing_end"]) - suspended_at
    suspend(staff, lot, 4, "机房断电")
    stack.advance(3600)
    short = resume(staff, lot, stack.now() + timedelta(days=5) - timedelta(seconds=1))
    assert short.status_code == 422 and short.json()["code"] == "RESUME_NOTICE_TOO_SHORT"
    effective = stack.now() + timedelta(days=5)
    announced = resume(staff, lot, effective)
    assert announced.status_code == 200 and announced.json()["status"] == "suspended"
    stack.advance_to(effective - timedelta(microseconds=1))
    assert stack.quote(b, lot, "121000000.00").json()["code"] == "NOT_OPEN"
    stack.advance_to(effective)
    view = stack.lot(lot["id"])
    assert view["status"] == "listing"
    assert datetime.fromisoformat(view["listing_end"]) == effective + left
    assert stack.quote(b, lot, "121000000.00").status_code == 201
    assert [
        q["amount"] for q in stack.anonymous().get(f"/api/v1/lots/{lot['id']}/quotes").json()
    ] == ["120000000.00", "121000000.00"]


def test_r39_timed_bidding_resumes_with_a_fresh_countdown(stack: Stack, staff: Account) -> None:
    lot, (a, b), (app_a, _) = listing_lot(stack, staff, 2)
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    to_timed_bidding(stack, lot, [a, b])
    stack.quote(a, lot, "122000000.00")
    stack.advance(240)
    suspend(staff, lot, 4, "网络故障")
    effective = stack.now() + timedelta(days=6)
    resume(staff, lot, effective)
    stack.advance_to(effective)
    view = stack.lot(lot["id"])
    assert view["status"] == "timed_bidding" and view["leader"] == app_a["bidder_number"]
    assert datetime.fromisoformat(view["timed_deadline"]) == effective + timedelta(minutes=5)
    stack.advance(300)
    decided = result(stack, lot)
    assert (decided["outcome"], decided["price"], decided["rule"]) == (
        "sold",
        "122000000.00",
        "R-23",
    )


def test_r37_termination_ends_the_lot_without_a_result(stack: Stack, staff: Account) -> None:
    lot, (a,), _ = listing_lot(stack, staff, 1)
    stack.quote(a, lot, "120000000.00")
    refused = staff.http.post(f"/api/v1/lots/{lot['id']}/terminate", json={"cause": 2, "note": "x"})
    assert refused.status_code == 403 and refused.json()["code"] == "APPROVAL_REQUIRED"
    done = staff.http.post(
        f"/api/v1/lots/{lot['id']}/terminate", json={"cause": 1, "note": "纪委要求"}
    )
    assert done.status_code == 200 and done.json()["status"] == "terminated"
    assert stack.quote(a, lot, "125000000.00").json()["code"] == "NOT_OPEN"
    stack.advance_to(lot["listing_end"])
    assert stack.lot(lot["id"])["status"] == "terminated"
    assert stack.anonymous().get(f"/api/v1/lots/{lot['id']}/result").json()["code"] == "NOT_DECIDED"
    again = staff.http.post(f"/api/v1/lots/{lot['id']}/terminate", json={"cause": 1, "note": "x"})
    assert again.status_code == 409


def test_r37_unknown_cause_is_refused(stack: Stack, staff: Account) -> None:
    lot, _, _ = listing_lot(stack, staff, 1)
    for cause in (0, 6, -1):
        response = suspend(staff, lot, cause)
        assert response.status_code == 422 and response.json()["code"] == "UNKNOWN_CAUSE"


def test_r37b_a_bidders_own_failures_suspend_nothing(stack: Stack, staff: Account) -> None:
    lot, (a, b), (_, app_b) = listing_lot(stack, staff, 2)
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    # a's connection drops mid-stream and a then locks itself out with wrong passwords
    read_events(stack, lot["id"], count=1)
    for _ in range(5):
        body = {"username": a.username, "password": "wrong", **stack.proof(a.key_path, a.cert_path)}
        stack.anonymous().post("/api/v1/auth/login", json=body)
    stack.advance_to(lot["listing_end"])
    stack.advance(300)
    decided = result(stack, lot)
    assert (
        decided["outcome"] == "sold"
        and decided["winner"]["bidder_number"] == app_b["bidder_number"]
    )
