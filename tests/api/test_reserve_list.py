"""R-11 over the API: the administrator sees which lots await their sealed reserve, when
each import window opens and whether the reserve was imported, never the price."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from tests.api.bidding_support import listing_lot
from tests.harness import Account, Stack
from tests.identity.test_account_lists import every_page
from wangua.reserve.sealing import seal


def test_r11_the_administrator_lists_the_lots_awaiting_their_sealed_reserve(
    stack: Stack, staff: Account
) -> None:
    assert stack.admin is not None
    lot, _, _ = listing_lot(stack, staff, 1, has_reserve=True)
    without = stack.published_lot(staff)
    listed = stack.admin.http.get("/api/v1/admin/reserves", params={"limit": 500})
    assert listed.status_code == 200, listed.text
    ids = [row["lot_id"] for row in listed.json()]
    assert lot["id"] in ids and without["id"] not in ids
    ends = [datetime.fromisoformat(row["listing_end"]) for row in listed.json()]
    assert ends == sorted(ends)  # the next deadline first
    row = next(r for r in listed.json() if r["lot_id"] == lot["id"])
    end = datetime.fromisoformat(lot["listing_end"])
    assert datetime.fromisoformat(row["window_opens"]) == end - timedelta(minutes=30)
    assert (row["code"], row["status"], row["imported"]) == (lot["code"], "listing", False)
    pages = every_page(stack.admin.http, "/api/v1/admin/reserves", 1)
    assert [r["lot_id"] for page in pages for r in page] == ids
    supervisor = stack.account("supervisor")
    system = stack.anonymous().get("/api/v1/reserve-key").content
    sealed = seal(
        lot["code"],
        "125000000.00",
        system,
        supervisor.key_path.read_bytes(),
        supervisor.cert_path.read_bytes(),
    ).to_bytes()
    stack.advance_to(end - timedelta(minutes=30))
    body = {"sealed": base64.b64encode(sealed).decode()}
    imported = stack.admin.http.post(f"/api/v1/lots/{lot['id']}/reserve", json=body)
    assert imported.status_code == 204, imported.text
    after = stack.admin.http.get("/api/v1/admin/reserves", params={"limit": 500})
    row = next(r for r in after.json() if r["lot_id"] == lot["id"])
    assert row["imported"] is True and row["imported_at"] is not None
    assert "125000000" not in after.text  # sealed until the decision
    refused = supervisor.http.get("/api/v1/admin/reserves")
    assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_NOT_ALLOWED")
