"""Lots: fields, grantor scope, announcement and listing periods (R-02, R-03, R-09)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.harness import Account, Stack


def test_r02_lot_carries_its_fields_and_money_as_two_decimal_strings(
    stack: Stack, staff: Account
) -> None:
    body = stack.lot_body(asset_type="state_land_lease", layer="underground", price_cap="200000000")
    response = staff.http.post("/api/v1/lots", json=body)
    assert response.status_code == 201, response.text
    lot = response.json()
    assert lot["status"] == "draft"
    assert lot["start_price"] == "120000000.00"
    assert lot["price_cap"] == "200000000.00"
    assert lot["asset_type"] == "state_land_lease" and lot["layer"] == "underground"
    assert lot["planning"]["plot_ratio"] == "≤2.5"
    assert lot["current_price"] is None and lot["leader"] is None and lot["quote_count"] == 0
    assert lot["listing_start"].endswith("Z")
    # a draft is not public
    assert stack.anonymous().get(f"/api/v1/lots/{lot['id']}").status_code == 404


@pytest.mark.parametrize(
    "amount", ["-1.00", "0", "0.00", "12.345", "abc", 1.5, "", None, "NaN", "1e3"]
)
def test_money_refuses_bad_amounts_and_changes_nothing(
    stack: Stack, staff: Account, amount: object
) -> None:
    body = stack.lot_body(start_price=amount)
    response = staff.http.post("/api/v1/lots", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] in {"INVALID_AMOUNT", "VALIDATION_ERROR"}
    codes = [lot["code"] for lot in staff.http.get("/api/v1/lots?limit=500").json()]
    assert body["code"] not in codes


def test_r03_staff_create_lots_of_their_own_grantor_only(stack: Stack) -> None:
    county_staff = stack.account("staff", "jiayu")
    response = county_staff.http.post("/api/v1/lots", json=stack.lot_body(grantor="xianning-city"))
    assert response.status_code == 403
    assert (
        county_staff.http.post("/api/v1/lots", json=stack.lot_body(grantor="jiayu")).status_code
        == 201
    )


def test_r03_staff_cannot_publish_another_grantors_lot(stack: Stack, staff: Account) -> None:
    lot = staff.http.post("/api/v1/lots", json=stack.lot_body()).json()
    other = stack.account("staff", "chibi")
    assert other.http.post(f"/api/v1/lots/{lot['id']}/publish").status_code in (403, 404)


def test_r03_bidders_cannot_create_lots(stack: Stack) -> None:
    bidder = stack.bidder()
    assert bidder.http.post("/api/v1/lots", json=stack.lot_body()).status_code == 403
    assert stack.anonymous().post("/api/v1/lots", json=stack.lot_body()).status_code == 401


def test_r09a_announcement_at_least_20_days_before_listing(stack: Stack, staff: Account) -> None:
    now = stack.now()
    start = now + timedelta(days=20) - timedelta(seconds=1)
    body = stack.lot_body(
        listing_start=start.isoformat(),
        listing_end=(start + timedelta(days=10)).isoformat(),
        application_deadline=(start + timedelta(days=8)).isoformat(),
        deposit_deadline=(start + timedelta(days=9)).isoformat(),
    )
    lot = staff.http.post("/api/v1/lots", json=body).json()
    refused = staff.http.post(f"/api/v1/lots/{lot['id']}/publish")
    assert refused.status_code == 422 and refused.json()["code"] == "ANNOUNCEMENT_TOO_LATE"
    assert stack.anonymous().get(f"/api/v1/lots/{lot['id']}").status_code == 404


def test_r09a_exactly_20_days_is_enough(stack: Stack, staff: Account) -> None:
    start = stack.now() + timedelta(days=20)
    body = stack.lot_body(
        listing_start=start.isoformat(),
        listing_end=(start + timedelta(days=10)).isoformat(),
        application_deadline=(start + timedelta(days=8)).isoformat(),
        deposit_deadline=(start + timedelta(days=9)).isoformat(),
    )
    lot = staff.http.post("/api/v1/lots", json=body).json()
    assert staff.http.post(f"/api/v1/lots/{lot['id']}/publish").status_code == 200


def test_r09b_listing_at_least_10_days(stack: Stack, staff: Account) -> None:
    start = stack.now() + timedelta(days=25)
    body = stack.lot_body(
        listing_start=start.isoformat(),
        listing_end=(start + timedelta(days=10, seconds=-1)).isoformat(),
        application_deadline=(start + timedelta(days=8)).isoformat(),
        deposit_deadline=(start + timedelta(days=9)).isoformat(),
    )
    lot = staff.http.post("/api/v1/lots", json=body).json()
    refused = staff.http.post(f"/api/v1/lots/{lot['id']}/publish")
    assert refused.status_code == 422 and refused.json()["code"] == "LISTING_TOO_SHORT"


def test_published_lot_is_public_and_listing_opens_on_time(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    public = (
        stack.anonymous().get("/api/v1/lots", params={"status": "announced", "limit": 500}).json()
    )
    assert lot["id"] in [item["id"] for item in public]
    start = datetime.fromisoformat(lot["listing_start"])
    stack.advance_to(start - timedelta(microseconds=1))
    assert stack.lot(lot["id"])["status"] == "announced"
    stack.advance(0.000001)
    assert stack.lot(lot["id"])["status"] == "listing"


def test_lot_list_pages_with_link_header(stack: Stack, staff: Account) -> None:
    for _ in range(3):
        stack.published_lot(staff)
    first = stack.anonymous().get("/api/v1/lots", params={"limit": 2})
    assert len(first.json()) == 2
    link = first.headers["link"]
    assert 'rel="next"' in link
    url = link.split(";")[0].strip("<>")
    second = stack.anonymous().get(url).json()
    assert second and second[0]["id"] > first.json()[-1]["id"]


def test_unknown_lot_is_a_problem_404(stack: Stack) -> None:
    response = stack.anonymous().get("/api/v1/lots/999999999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "NOT_FOUND"


def test_r02_other_asset_types_need_their_own_fields_and_word_their_documents(
    stack: Stack, staff: Account
) -> None:
    body = stack.lot_body(asset_type="mining_right", land_use="采矿用地", layer="underground")
    warned = staff.http.post("/api/v1/lots", json=body)
    assert warned.status_code == 201  # API v1 clients know no `details`: a warning, not a refusal
    assert warned.json()["details_missing"] == ["矿种", "矿区面积(平方千米)", "生产规模"]
    body["code"] += "-2"
    body["details"] = {
        "mineral": "建筑用石料",
        "mining_area_km2": "0.2136",
        "production_scale": "50万吨/年",
    }
    lot = staff.http.post("/api/v1/lots", json=body).json()
    assert lot["asset_type_name"] == "矿业权" and lot["details"]["mineral"] == "建筑用石料"
    assert lot["details_missing"] == []
    response = staff.http.post(
        f"/api/v1/lots/{lot['id']}/documents",
        data={"kind": "contract_template"},
        files={"file": ("合同.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert response.json()["kind_name"] == "采矿权出让合同"


def test_a_cursor_beyond_any_id_is_refused_not_a_crash(stack: Stack) -> None:
    answer = stack.anonymous().get("/api/v1/lots", params={"cursor": "9" * 20})
    assert answer.status_code == 422
    assert answer.json()["code"] == "INVALID_CURSOR"


@pytest.mark.parametrize(
    ("path", "params", "headers", "code"),
    [
        ("/api/v1/lots", {"cursor": "¹"}, {}, "INVALID_CURSOR"),
        ("/api/v1/lots/1/events", {}, {"Last-Event-ID": "²"}, "INVALID_EVENT_ID"),
        ("/api/v1/lots/1/events", {}, {"Last-Event-ID": "9" * 20}, "INVALID_EVENT_ID"),
        ("/lots/1/live", {}, {"Last-Event-ID": "³"}, "INVALID_EVENT_ID"),
        ("/live", {"lots": "1:¹"}, {}, "INVALID_EVENT_ID"),
    ],
)
def test_r03_a_number_in_other_digits_or_beyond_any_id_is_refused_not_a_crash(
    stack: Stack, path: str, params: dict[str, str], headers: dict[str, str], code: str
) -> None:
    """Superscript digits pass Python's `isdigit` but not `int`: refused like any other
    malformed number (found by the OpenAPI fuzz test). Headers go as Latin-1, as HTTP has them."""
    raw = {name: value.encode("latin-1") for name, value in headers.items()}
    answer = stack.anonymous().get(path, params=params, headers=raw)
    assert answer.status_code == 422, answer.text
    assert code in answer.text
