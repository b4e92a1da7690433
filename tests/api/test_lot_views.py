"""The public lot view (API.md, Lots): what it shows from other tables (R-07 bidder
numbers, R-08 documents, R-10a supplements) belongs to the right lot, and a list reads
those tables in as many statements for many lots as for one."""

from __future__ import annotations

from tests.api.test_announcements import upload
from tests.harness import Account, Stack, statements_matching

SHOWN_TABLES = ("documents", "supplements", "results", "applications", "workday_schedules")


def test_r08_r10a_a_list_of_lots_shows_each_its_own_parts_in_a_fixed_number_of_reads(
    stack: Stack, staff: Account
) -> None:
    drafts = [staff.http.post("/api/v1/lots", json=stack.lot_body()).json() for _ in range(3)]
    assert upload(staff, drafts[0]["id"], "announcement").status_code == 201
    assert upload(staff, drafts[2]["id"], "boundary_map").status_code == 201
    assert upload(staff, drafts[2]["id"], "announcement").status_code == 201
    for draft in drafts:
        assert staff.http.post(f"/api/v1/lots/{draft['id']}/publish").status_code == 200
    notice = {"title": "关于调整容积率的补充公告", "body": "容积率调整为≤2.2"}
    response = staff.http.post(f"/api/v1/lots/{drafts[1]['id']}/supplements", json=notice)
    assert response.status_code == 201, response.text
    bidder = stack.bidder()
    number = stack.qualified(bidder, drafts[0])["bidder_number"]
    stack.advance_to(drafts[0]["listing_start"])
    assert stack.quote(bidder, drafts[0], drafts[0]["start_price"]).status_code == 201

    public = stack.anonymous()
    after = {"cursor": drafts[0]["id"] - 1}
    with statements_matching(*SHOWN_TABLES) as one:
        single = public.get("/api/v1/lots", params={**after, "limit": 1}).json()
    with statements_matching(*SHOWN_TABLES) as three:
        listed = public.get("/api/v1/lots", params={**after, "limit": 3}).json()

    assert [lot["id"] for lot in listed] == [d["id"] for d in drafts]
    assert listed[0] == single[0]
    assert [lot["leader"] for lot in listed] == [number, None, None]
    assert [[d["kind"] for d in lot["documents"]] for lot in listed] == [
        ["announcement"],
        [],
        ["boundary_map", "announcement"],
    ]
    assert [[s["title"] for s in lot["supplements"]] for lot in listed] == [
        [],
        [notice["title"]],
        [],
    ]
    for lot in listed:
        assert stack.lot(lot["id"]) == lot
    assert len(three) == len(one), three
