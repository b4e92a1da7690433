"""Starting-price approval (R-LR28), voided results and relisting (R-43)."""

from __future__ import annotations

from typing import Any

from tests.api.bidding_support import listing_lot, result
from tests.harness import Account, Stack


def test_rlr28_price_is_proposed_reviewed_and_approved_by_three_people(
    stack: Stack, staff: Account
) -> None:
    lot = staff.http.post("/api/v1/lots", json=stack.lot_body()).json()
    base = f"/api/v1/lots/{lot['id']}/price"
    low = staff.http.post(f"{base}/propose", json={"appraised_price": "120000000.01"})
    assert low.status_code == 422 and low.json()["code"] == "BELOW_APPRAISED_PRICE"
    assert (
        staff.http.post(f"{base}/propose", json={"appraised_price": "118000000.00"}).status_code
        == 200
    )
    bureau, committee = stack.account("grantor"), stack.account("grantor")
    assert committee.http.post(f"{base}/approve").json()["code"] == "PRICE_NOT_REVIEWED"
    assert bureau.http.post(f"{base}/review").status_code == 200
    same = bureau.http.post(f"{base}/approve")
    assert same.status_code == 409 and same.json()["code"] == "SAME_PERSON"
    record = committee.http.post(f"{base}/approve").json()
    assert record["approved"] and record["appraised_price"] == "118000000.00"
    assert (record["proposed_by"], record["reviewed_by"], record["approved_by"]) == (
        staff.username,
        bureau.username,
        committee.username,
    )
    assert stack.bidder().http.get(base).status_code == 403


def test_rlr28_publication_waits_for_the_approval_when_the_deployment_requires_it(
    stack: Stack, staff: Account
) -> None:
    lot = staff.http.post("/api/v1/lots", json=stack.lot_body()).json()
    stack.runtime.settings.price_approval = "required"
    try:
        refused = staff.http.post(f"/api/v1/lots/{lot['id']}/publish")
        assert refused.status_code == 409 and refused.json()["code"] == "PRICE_NOT_APPROVED"
        base = f"/api/v1/lots/{lot['id']}/price"
        staff.http.post(f"{base}/propose", json={"appraised_price": "100000000.00"})
        stack.account("grantor").http.post(f"{base}/review")
        stack.account("grantor").http.post(f"{base}/approve")
        assert staff.http.post(f"/api/v1/lots/{lot['id']}/publish").status_code == 200
    finally:
        stack.runtime.settings.price_approval = "off"


def sold_lot(stack: Stack, staff: Account) -> tuple[dict[str, Any], dict[str, Any]]:
    lot, (a,), (app_a,) = listing_lot(stack, staff, 1)
    stack.quote(a, lot, "120000000.00")
    stack.advance_to(lot["listing_end"])
    stack.advance(300)
    return lot, app_a


def test_r43_a_voided_result_keeps_the_result_and_its_voiding(stack: Stack, staff: Account) -> None:
    lot, app_a = sold_lot(stack, staff)
    response = staff.http.post(
        f"/api/v1/lots/{lot['id']}/void", json={"cause": 2, "note": "经查实与其他竞买人恶意串通"}
    )
    assert response.status_code == 200 and response.json()["status"] == "voided"
    decided = result(stack, lot)
    assert (
        decided["outcome"] == "sold"
        and decided["winner"]["bidder_number"] == app_a["bidder_number"]
    )
    assert (
        decided["voided"]["cause"] == 2
        and decided["voided"]["note"] == "经查实与其他竞买人恶意串通"
    )
    assert stack.lot(lot["id"])["status"] == "voided"
    again = staff.http.post(f"/api/v1/lots/{lot['id']}/void", json={"cause": 1, "note": "x"})
    assert again.status_code == 409


def test_r43_only_sold_results_and_known_causes(stack: Stack, staff: Account) -> None:
    lot, _, _ = listing_lot(stack, staff, 1)
    assert (
        staff.http.post(f"/api/v1/lots/{lot['id']}/void", json={"cause": 1, "note": "x"}).json()[
            "code"
        ]
        == "NOT_VOIDABLE"
    )
    sold, _ = sold_lot(stack, staff)
    assert (
        staff.http.post(f"/api/v1/lots/{sold['id']}/void", json={"cause": 4, "note": "x"}).json()[
            "code"
        ]
        == "UNKNOWN_CAUSE"
    )


def test_r43_a_voided_lot_is_listed_again_as_a_new_lot_linked_to_the_old(
    stack: Stack, staff: Account
) -> None:
    lot, _ = sold_lot(stack, staff)
    staff.http.post(f"/api/v1/lots/{lot['id']}/void", json={"cause": 1, "note": "提供虚假材料"})
    fresh = stack.lot_body()
    body = {
        key: fresh[key]
        for key in ("application_deadline", "deposit_deadline", "listing_start", "listing_end")
    }
    response = staff.http.post(
        f"/api/v1/lots/{lot['id']}/relist", json={"code": fresh["code"], **body}
    )
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["status"] == "draft" and new["relisted_from"] == lot["id"]
    assert (new["name"], new["start_price"], new["planning"]) == (
        lot["name"],
        lot["start_price"],
        lot["planning"],
    )
    assert staff.http.post(f"/api/v1/lots/{new['id']}/publish").status_code == 200
