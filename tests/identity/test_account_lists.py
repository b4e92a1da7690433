"""The administrator's lists over the API, as the administrator's page shows them: the
accounts it created with their lock (R-03, R-34) and the reported losses (R-12b)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.harness import Account, Stack


def every_page(client: httpx.Client, path: str, limit: int) -> list[list[dict[str, Any]]]:
    """Each page of a list endpoint, following `Link: rel="next"` (API.md)."""
    pages: list[list[dict[str, Any]]] = []
    response = client.get(httpx.URL(path).copy_merge_params({"limit": limit}))
    for _ in range(1000):
        assert response.status_code == 200, response.text
        pages.append(list(response.json()))
        if "next" not in response.links:
            return pages
        response = client.get(response.links["next"]["url"])
    raise AssertionError("paging does not end")


def _log_in_status(stack: Stack, account: Account, password: str) -> int:
    body = {
        "username": account.username,
        "password": password,
        **stack.proof(account.key_path, account.cert_path),
    }
    return stack.anonymous().post("/api/v1/auth/login", json=body).status_code


def test_r03_the_administrator_lists_the_accounts_it_created_newest_first(stack: Stack) -> None:
    assert stack.admin is not None
    clerk = stack.account("staff", "chibi")
    officer = stack.account("finance", "tongshan")
    bidder = stack.bidder()
    listed = stack.admin.http.get("/api/v1/admin/users", params={"limit": 500}).json()
    names = [user["username"] for user in listed]
    assert names.index(officer.username) < names.index(clerk.username)  # newest first
    assert bidder.username not in names  # bidders register themselves
    row = next(user for user in listed if user["username"] == clerk.username)
    assert row["roles"] == ["staff"] and row["grantor"] == "chibi"
    assert row["cert_serial"] and row["created_at"].endswith("Z")
    assert row["locked"] is False and row["locked_at"] is None
    ids = [user["id"] for user in listed]
    assert ids == sorted(ids, reverse=True)
    pages = every_page(stack.admin.http, "/api/v1/admin/users", 5)
    assert [u["id"] for page in pages for u in page] == ids
    assert all(len(page) <= 5 for page in pages)
    for caller in (stack.account("supervisor"), bidder):
        refused = caller.http.get("/api/v1/admin/users")
        assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_NOT_ALLOWED")


def test_r34_a_locked_account_is_listed_as_locked(stack: Stack) -> None:
    assert stack.admin is not None
    clerk = stack.account("staff", "jiayu")
    for _ in range(5):
        assert _log_in_status(stack, clerk, "wrong password") == 401
    assert _log_in_status(stack, clerk, clerk.password) == 423
    listed = stack.admin.http.get("/api/v1/admin/users", params={"limit": 500}).json()
    row = next(user for user in listed if user["username"] == clerk.username)
    assert row["locked"] is True and row["locked_at"].endswith("Z")


def test_r12b_reported_losses_are_listed_newest_first_with_their_holder(stack: Stack) -> None:
    assert stack.admin is not None
    first, second = stack.bidder(), stack.account("staff", "xianan")
    lost = [
        account.http.post("/api/v1/me/certificate/report-loss").json()
        for account in (first, second)
    ]
    listed = stack.admin.http.get("/api/v1/admin/revocations", params={"limit": 500}).json()
    serials = [row["serial"] for row in listed]
    assert serials.index(lost[1]["serial"]) < serials.index(lost[0]["serial"])
    row = next(r for r in listed if r["serial"] == lost[0]["serial"])
    assert row["username"] == first.username and row["reason"] == "reported_lost"
    assert row["revoked_at"] == lost[0]["revoked_at"] and len(row["fingerprint"]) == 64
    pages = every_page(stack.admin.http, "/api/v1/admin/revocations", 1)
    assert [r["fingerprint"] for page in pages for r in page] == [r["fingerprint"] for r in listed]
    for cursor in ("0" * 64, "not-a-fingerprint"):
        wrong = stack.admin.http.get("/api/v1/admin/revocations", params={"cursor": cursor})
        assert (wrong.status_code, wrong.json()["code"]) == (422, "INVALID_CURSOR")
    refused = stack.account("staff", "xianan").http.get("/api/v1/admin/revocations")
    assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_NOT_ALLOWED")
