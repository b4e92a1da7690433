"""Before a lot is decided nobody but the bidder itself can link a bidder to it (R-07)."""

from __future__ import annotations

from tests.api.bidding_support import listing_lot, read_events, result, to_timed_bidding
from tests.harness import Account, Stack, captured_logs


def test_r07_no_response_or_log_line_links_a_bidder_to_the_lot_before_the_decision(
    stack: Stack, staff: Account
) -> None:
    with captured_logs() as logs:
        lot, (a, b, c), applications = listing_lot(stack, staff, 3)
        seen: list[str] = []
        public, rival = stack.anonymous(), c.http

        def look() -> None:
            for client in (public, rival, staff.http):
                for path in ("", "/quotes", "/result", "/documents"):
                    seen.append(client.get(f"/api/v1/lots/{lot['id']}{path}").text)
            seen.append(public.get("/api/v1/lots?limit=500").text)
            seen.append(public.get("/api/v1/feed.atom").text)
            seen.append(staff.http.get("/api/v1/publications?limit=500").text)
            seen.append(staff.http.get(f"/api/v1/lots/{lot['id']}/bidders").text)
            for application in applications[:2]:
                seen.append(rival.get(f"/api/v1/applications/{application['id']}").text)
                seen.append(staff.http.get(f"/api/v1/applications/{application['id']}").text)

        seen.append(stack.quote(a, lot, "120000000.00").text)
        seen.append(stack.quote(b, lot, "121000000.00").text)
        seen.append(stack.quote(a, lot, "121000000.00").text)  # a refusal, for its message
        look()
        to_timed_bidding(stack, lot, [a, b])
        seen.append(stack.quote(a, lot, "122000000.00").text)
        seen.append(str(read_events(stack, lot["id"], count=6)))
        look()
    secrets = [value for account in (a, b, c) for value in (account.party_name, account.username)]
    secrets += [account.http.get("/api/v1/me").json()["party"]["id_no"] for account in (a, b, c)]
    for text in seen + logs:
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked in {text[:300]!r}"
    stack.advance(300)
    assert result(stack, lot)["winner"]["name"] == a.party_name  # published with the result


def test_r07_staff_see_identities_before_the_decision_only_by_approved_break_glass(
    stack: Stack, staff: Account
) -> None:
    lot, (a,), _ = listing_lot(stack, staff, 1)
    url = f"/api/v1/lots/{lot['id']}/bidders"
    sealed = staff.http.get(url)
    assert sealed.status_code == 403 and sealed.json()["code"] == "IDENTITIES_SEALED"
    request = staff.http.post(
        f"/api/v1/lots/{lot['id']}/identity-access",
        json={"reason": "公安机关协查函(咸公经协〔2026〕12号)"},
    ).json()
    assert staff.http.get(url).status_code == 403  # not yet approved
    approve = f"/api/v1/identity-access/{request['id']}/approve"
    assert staff.http.post(approve).status_code == 403  # staff cannot approve their own request
    assert stack.account("supervisor").http.post(approve).status_code == 200
    bidders = staff.http.get(url).json()
    assert [row["name"] for row in bidders] == [a.party_name]
    other_staff = stack.account("staff")  # the approval is for the requester only
    assert other_staff.http.get(url).status_code == 403
    with stack.runtime.db.read_session() as session:
        from sqlalchemy import select

        from wangua.audit.models import AuditEntry

        actions = list(
            session.scalars(
                select(AuditEntry.action)
                .where(
                    AuditEntry.stream == f"lot:{lot['id']}",
                    AuditEntry.action.like("identity_access.%"),
                )
                .order_by(AuditEntry.seq)
            )
        )
    assert actions == [
        "identity_access.requested",
        "identity_access.approved",
        "identity_access.viewed",
    ]


def test_r07_staff_see_the_bidders_after_the_decision(stack: Stack, staff: Account) -> None:
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    stack.quote(a, lot, "120000000.00")
    stack.advance_to(lot["listing_end"])
    stack.advance(300)
    names = {row["name"] for row in staff.http.get(f"/api/v1/lots/{lot['id']}/bidders").json()}
    assert names == {a.party_name, b.party_name}
    assert (
        stack.account("staff", "jiayu").http.get(f"/api/v1/lots/{lot['id']}/bidders").status_code
        == 403
    )
