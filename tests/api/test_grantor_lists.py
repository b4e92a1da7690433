"""What the grantor's page and the staff's suspension page list, over the API: the starting
prices awaiting review (R-LR28), the grantor's approvals (R-37, Art. 38) and the suspension
a lot is under (R-37, R-39)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.api.bidding_support import listing_lot
from tests.harness import Account, Stack
from tests.identity.test_account_lists import every_page


def test_rlr28_the_grantor_lists_its_draft_prices_awaiting_review(
    stack: Stack, staff: Account
) -> None:
    officer = stack.account("grantor", "xianning-city")
    lot = staff.http.post("/api/v1/lots", json=stack.lot_body()).json()
    unpriced = staff.http.post("/api/v1/lots", json=stack.lot_body()).json()
    base = f"/api/v1/lots/{lot['id']}/price"
    assert staff.http.post(f"{base}/propose", json={"appraised_price": "118000000.00"}).is_success
    listed = officer.http.get("/api/v1/prices", params={"limit": 500})
    assert listed.status_code == 200, listed.text
    ids = [row["lot_id"] for row in listed.json()]
    assert lot["id"] in ids and unpriced["id"] not in ids and ids == sorted(ids)
    row = next(r for r in listed.json() if r["lot_id"] == lot["id"])
    assert (row["code"], row["appraised_price"], row["proposed_by"]) == (
        lot["code"],
        "118000000.00",
        staff.username,
    )
    assert row["reviewed_by"] is None and row["approved"] is False
    assert officer.http.post(f"{base}/review").status_code == 200
    reviewed = officer.http.get("/api/v1/prices", params={"limit": 500}).json()
    assert next(r for r in reviewed if r["lot_id"] == lot["id"])["reviewed_by"] == officer.username
    pages = every_page(officer.http, "/api/v1/prices", 1)
    assert [r["lot_id"] for page in pages for r in page] == ids
    county = stack.account("grantor", "chibi").http.get("/api/v1/prices", params={"limit": 500})
    assert lot["id"] not in [r["lot_id"] for r in county.json()]
    refused = staff.http.get("/api/v1/prices")
    assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_NOT_ALLOWED")


def test_r37_approvals_are_listed_for_the_lot_and_the_grantor_and_marked_when_used(
    stack: Stack, staff: Account
) -> None:
    lot, _, _ = listing_lot(stack, staff, 1)
    officer = stack.account("grantor", "xianning-city")
    approvals = f"/api/v1/lots/{lot['id']}/approvals"
    for cause in (3, 5):
        body = {"action": "suspend", "cause": cause, "note": f"事由 {cause}"}
        assert officer.http.post(approvals, json=body).status_code == 201
    listed = staff.http.get(approvals)
    assert listed.status_code == 200, listed.text
    assert [(a["cause"], a["used"]) for a in listed.json()] == [(3, False), (5, False)]
    assert listed.json()[0]["approved_by"] == officer.username
    assert listed.json()[0]["cause_name"].startswith("宗地使用条件变更")
    suspension = f"/api/v1/lots/{lot['id']}/suspension"
    assert staff.http.get(suspension).json()["suspension"] is None
    body = {"cause": 3, "note": "规划条件调整需重新报批"}
    assert staff.http.post(f"/api/v1/lots/{lot['id']}/suspend", json=body).status_code == 200
    used = staff.http.get(approvals).json()
    assert [(a["cause"], a["used"]) for a in used] == [(3, True), (5, False)]
    assert officer.http.get(approvals).json() == used  # the lot's grantor sees them too
    under = staff.http.get(suspension).json()
    assert under["status"] == "suspended" and under["suspension"]["cause"] == 3
    assert under["suspension"]["note"] == body["note"]
    assert under["suspension"]["from_status"] == "listing"
    left = datetime.fromisoformat(lot["listing_end"]) - stack.now()
    assert abs(under["suspension"]["remaining_seconds"] - left.total_seconds()) < 1
    earliest = datetime.fromisoformat(under["earliest_resume_at"])
    assert earliest == stack.now() + timedelta(days=5)
    newest_first = officer.http.get("/api/v1/approvals", params={"limit": 500}).json()
    assert [a["cause"] for a in newest_first if a["lot_id"] == lot["id"]] == [5, 3]
    county = stack.account("grantor", "chibi")
    assert lot["id"] not in [a["lot_id"] for a in county.http.get("/api/v1/approvals").json()]
    for outsider in (county, stack.account("staff", "chibi")):
        refused = outsider.http.get(approvals)
        assert (refused.status_code, refused.json()["code"]) == (403, "FORBIDDEN")
    other = stack.account("staff", "chibi").http.get(suspension)
    assert (other.status_code, other.json()["code"]) == (403, "FORBIDDEN")
