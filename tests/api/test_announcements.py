"""Listing documents (R-08) and supplementary notices (R-10a, R-10b)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import httpx

from tests.api.bidding_support import listing_lot, read_events
from tests.harness import Account, Stack

PDF = b"%PDF-1.4\n% boundary map of lot XN2026-01\n"


def upload(
    staff: Account, lot_id: int, kind: str, data: bytes = PDF, name: str = "界址图.pdf"
) -> httpx.Response:
    return staff.http.post(
        f"/api/v1/lots/{lot_id}/documents",
        data={"kind": kind},
        files={"file": (name, data, "application/pdf")},
    )


def test_r08_documents_are_stored_hashed_and_downloadable(stack: Stack, staff: Account) -> None:
    lot = staff.http.post("/api/v1/lots", json=stack.lot_body()).json()
    response = upload(staff, lot["id"], "boundary_map")
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert document["kind_name"] == "宗地界址图" and document["size"] == len(PDF)
    # not public while the lot is a draft
    assert stack.anonymous().get(document["url"]).status_code == 404
    staff.http.post(f"/api/v1/lots/{lot['id']}/publish")
    downloaded = stack.anonymous().get(document["url"])
    assert downloaded.status_code == 200 and downloaded.content == PDF
    assert downloaded.headers["x-content-sha256"] == document["sha256"]
    assert "filename*=UTF-8''" in downloaded.headers["content-disposition"]
    assert [d["kind"] for d in stack.lot(lot["id"])["documents"]] == ["boundary_map"]


def test_r08_only_the_seven_kinds(stack: Stack, staff: Account) -> None:
    lot = staff.http.post("/api/v1/lots", json=stack.lot_body()).json()
    response = upload(staff, lot["id"], "photo")
    assert response.status_code == 422
    assert response.json()["code"] == "UNKNOWN_DOCUMENT_KIND"


def test_r10a_a_published_document_never_changes(stack: Stack, staff: Account) -> None:
    lot = staff.http.post("/api/v1/lots", json=stack.lot_body()).json()
    upload(staff, lot["id"], "announcement", b"draft 1")
    upload(staff, lot["id"], "announcement", b"draft 2")  # a draft may be replaced
    staff.http.post(f"/api/v1/lots/{lot['id']}/publish")
    refused = upload(staff, lot["id"], "announcement", b"changed after publication")
    assert refused.status_code == 409
    assert refused.json()["code"] == "DOCUMENT_PUBLISHED"
    documents = stack.lot(lot["id"])["documents"]
    assert [d["sha256"] for d in documents] == [hashlib.sha256(b"draft 2").hexdigest()]


def test_r10b_a_major_supplement_late_in_the_listing_moves_the_deadline(
    stack: Stack, staff: Account
) -> None:
    lot, (a,), _ = listing_lot(stack, staff, 1)
    stack.advance(2 * 86400)
    now = stack.now()
    response = staff.http.post(
        f"/api/v1/lots/{lot['id']}/supplements",
        json={"title": "关于调整容积率的补充公告", "body": "容积率调整为≤2.2", "major": True},
    )
    assert response.status_code == 201, response.text
    moved = datetime.fromisoformat(response.json()["listing_end"])
    assert moved == now + timedelta(days=20)
    view = stack.lot(lot["id"])
    assert datetime.fromisoformat(view["listing_end"]) == moved
    assert view["supplements"][0]["title"] == "关于调整容积率的补充公告"
    # the old deadline passes without effect; the new one ends the listing
    stack.advance_to(datetime.fromisoformat(lot["listing_end"]) + timedelta(hours=1))
    assert stack.lot(lot["id"])["status"] == "listing"
    assert stack.quote(a, lot, "120000000.00").status_code == 201
    stack.advance_to(moved)
    assert stack.lot(lot["id"])["status"] == "inquiry"
    assert "supplement" in [e["event"] for e in read_events(stack, lot["id"], count=4)]


def test_r10b_a_minor_supplement_or_an_early_major_one_keeps_the_deadline(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)  # the deadline is 31 days away
    for major in (False, True):
        response = staff.http.post(
            f"/api/v1/lots/{lot['id']}/supplements",
            json={"title": "更正", "body": "更正文字错误", "major": major},
        )
        assert response.json()["listing_end"] == lot["listing_end"]


def test_r10a_supplements_only_after_publication_and_by_the_grantors_staff(
    stack: Stack, staff: Account
) -> None:
    draft = staff.http.post("/api/v1/lots", json=stack.lot_body()).json()
    body = {"title": "补充", "body": "内容", "major": False}
    refused = staff.http.post(f"/api/v1/lots/{draft['id']}/supplements", json=body)
    assert refused.status_code == 409 and refused.json()["code"] == "SUPPLEMENT_NOT_ALLOWED"
    lot = stack.published_lot(staff)
    other = stack.account("staff", "jiayu")
    assert other.http.post(f"/api/v1/lots/{lot['id']}/supplements", json=body).status_code == 403
