"""The host's and supervisors' console of a lot over the API (R-33), as the console page
shows it beside the public board: the timers still to fire, the turnout in numbers only
(R-07, R-21) and the checks (R-08, R-11)."""

from __future__ import annotations

from datetime import datetime

from tests.api.bidding_support import listing_lot
from tests.harness import Account, Stack


def test_r33_the_console_shows_timers_turnout_and_checks_never_who(
    stack: Stack, staff: Account
) -> None:
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    late = stack.bidder()
    stack.apply(late, lot)  # applied, never paid
    assert stack.quote(a, lot, "120000000.00").status_code == 201
    path = f"/api/v1/lots/{lot['id']}/console"
    answer = staff.http.get(path)
    assert answer.status_code == 200, answer.text
    console = answer.json()
    assert console["lot_id"] == lot["id"] and console["status"] == "listing"
    assert console["turnout"] == {
        "applied": 3,
        "qualified": 2,
        "quoted": 1,
        "joined": 0,
        "declined": 0,
        "unanswered": 1,
    }
    kinds = [t["kind"] for t in console["timers"]]
    assert "listing_end" in kinds and "listing_start" not in kinds  # fired already
    due = [datetime.fromisoformat(t["due_at"]) for t in console["timers"]]
    assert due == sorted(due)
    end = next(t for t in console["timers"] if t["kind"] == "listing_end")
    assert datetime.fromisoformat(end["due_at"]) == datetime.fromisoformat(lot["listing_end"])
    codes = {c["code"]: c for c in console["checks"]}
    assert (
        "DOCUMENTS_MISSING" in codes and "尚未上传的出让文件" in codes["DOCUMENTS_MISSING"]["text"]
    )
    assert "RESERVE_NOT_IMPORTED" not in codes  # the lot has no reserve
    for account in (a, b, late):
        assert account.party_name not in answer.text and account.username not in answer.text
    supervisor = stack.account("supervisor")
    watched = supervisor.http.get(path)
    assert watched.status_code == 200 and watched.json()["turnout"] == console["turnout"]
    stack.advance_to(lot["listing_end"])
    assert a.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": True}).status_code == 200
    inquiry = staff.http.get(path).json()
    assert inquiry["status"] == "inquiry"
    assert inquiry["turnout"]["joined"] == 1 and inquiry["turnout"]["unanswered"] == 0
    assert [t["kind"] for t in inquiry["timers"]] == ["inquiry_end"]


def test_r03_the_console_is_the_grantors_staffs_and_drafts_are_theirs_alone(
    stack: Stack, staff: Account
) -> None:
    draft = staff.http.post("/api/v1/lots", json=stack.lot_body(has_reserve=True)).json()
    path = f"/api/v1/lots/{draft['id']}/console"
    own = staff.http.get(path)
    assert own.status_code == 200 and own.json()["status"] == "draft"
    assert "RESERVE_NOT_IMPORTED" in [c["code"] for c in own.json()["checks"]]
    assert stack.account("supervisor").http.get(path).status_code == 404
    elsewhere = stack.account("staff", "chibi").http.get(path)
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (403, "FORBIDDEN")
    refused = stack.bidder().http.get(path)
    assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_NOT_ALLOWED")
    assert staff.http.get("/api/v1/lots/999999999/console").status_code == 404
