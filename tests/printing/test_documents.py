"""The documents people sign and print (R-28a): the confirmation, the qualification
confirmation and the result announcement, issued once, verifiable by anyone.
SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import shutil
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from tests.harness import Account, Stack
from tests.printing.support import (
    PARTNER,
    PRICE,
    PRICE_IN_CAPITALS,
    PRICE_PRINTED,
    Auction,
    assert_fonts_embedded,
    pdf_text,
)
from wangua.audit.models import AuditEntry
from wangua.audit.service import lot_stream
from wangua.printing.models import IssuedDocument
from wangua.printing.render import cn_date, override_dir


def test_r28a_the_confirmation_names_every_joint_member_share_and_the_price(
    stack: Stack, auction: Auction
) -> None:
    answer = auction.winner.http.get(f"/api/v1/lots/{auction.lot['id']}/confirmation.pdf")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")
    text = pdf_text(answer.content)
    assert "成交确认书" in text
    assert auction.winner.party_name in text
    assert PARTNER["name"] in text
    assert "60.00%" in text and "40.00%" in text
    assert PRICE_PRINTED in text and PRICE_IN_CAPITALS in text
    assert auction.won["bidder_number"] in text
    assert auction.lot["code"] in text
    assert answer.headers["x-verification-code"] in text
    assert auction.rival.party_name not in text
    result = stack.anonymous().get(f"/api/v1/lots/{auction.lot['id']}/result").json()
    assert cn_date(result["confirmation"]["deadline"]) in text  # R-28b, as the API says
    assert_fonts_embedded(answer.content)


def test_r28a_a_document_is_issued_once_and_served_again_byte_for_byte(
    stack: Stack, auction: Auction
) -> None:
    path = f"/api/v1/lots/{auction.lot['id']}/confirmation.pdf"
    first = auction.winner.http.get(path)
    again = auction.winner.http.get(path)
    by_staff = auction.staff.http.get(path)
    assert first.content == again.content == by_staff.content
    codes = {r.headers["x-verification-code"] for r in (first, again, by_staff)}
    assert len(codes) == 1
    assert first.headers["x-content-sha256"] == hashlib.sha256(first.content).hexdigest()
    with stack.runtime.read() as session:
        issued = session.scalars(
            select(IssuedDocument).where(
                IssuedDocument.lot_id == auction.lot["id"], IssuedDocument.kind == "confirmation"
            )
        ).one()
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.stream == lot_stream(auction.lot["id"]),
                AuditEntry.action == "document.issued",
                AuditEntry.object_id == str(issued.id),
            )
        ).all()
    assert issued.sha256 == hashlib.sha256(first.content).hexdigest()
    assert len(entries) == 1


def test_r28a_concurrent_first_requests_all_get_the_one_issued_document(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    stack.advance_to(lot["listing_end"])  # nobody quoted: unsold at once, R-22(3)
    path = f"/api/v1/lots/{lot['id']}/result.pdf"
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: stack.anonymous().get(path), range(4)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert len({a.headers["x-verification-code"] for a in answers}) == 1
    assert "不成交" in pdf_text(answers[0].content)
    with stack.runtime.read() as session:
        rows = session.scalars(
            select(IssuedDocument).where(IssuedDocument.lot_id == lot["id"])
        ).all()
    assert [r.kind for r in rows] == ["result_announcement"]


def test_r28a_the_confirmation_is_refused_before_the_decision_and_to_others(
    stack: Stack, auction: Auction, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    stack.qualified(bidder, lot)
    path = f"/api/v1/lots/{lot['id']}/confirmation.pdf"
    for caller in (bidder, staff):
        early = caller.http.get(path)
        assert (early.status_code, early.json()["code"]) == (404, "NOT_DECIDED")
    decided = f"/api/v1/lots/{auction.lot['id']}/confirmation.pdf"
    loser = auction.rival.http.get(decided)
    assert (loser.status_code, loser.json()["code"]) == (403, "NOT_WINNER")
    stranger = stack.bidder().http.get(decided)
    assert (stranger.status_code, stranger.json()["code"]) == (403, "NOT_WINNER")
    county = stack.account("staff", "tongshan").http.get(decided)
    assert (county.status_code, county.json()["code"]) == (403, "FORBIDDEN")
    finance = stack.account("finance", "xianning-city").http.get(decided)
    assert (finance.status_code, finance.json()["code"]) == (403, "ROLE_NOT_ALLOWED")
    assert stack.anonymous().get(decided).status_code == 401
    missing = staff.http.get("/api/v1/lots/999999999/confirmation.pdf")
    assert missing.status_code == 404


def test_r28a_a_verification_code_answers_what_the_document_states(
    stack: Stack, auction: Auction
) -> None:
    answer = auction.winner.http.get(f"/api/v1/lots/{auction.lot['id']}/confirmation.pdf")
    code = answer.headers["x-verification-code"]
    public = stack.anonymous()
    for typed in (code, code.lower(), code.replace("-", "")):
        verified = public.get(f"/api/v1/documents/verify/{typed}")
        assert verified.status_code == 200, verified.text
        assert verified.json()["code"] == code
    found = verified.json()
    assert found["kind"] == "confirmation" and found["title"] == "成交确认书"
    assert found["lot"] == {
        "id": auction.lot["id"],
        "code": auction.lot["code"],
        "name": auction.lot["name"],
    }
    assert [(p["name"], p["share"]) for p in found["parties"]] == [
        (auction.winner.party_name, "60.00"),
        (PARTNER["name"], "40.00"),
    ]
    assert found["price"] == PRICE
    assert found["sha256"] == hashlib.sha256(answer.content).hexdigest()
    assert found["size"] == len(answer.content)
    assert found["issued_at"].endswith("Z")
    assert (found["status"], found["recorded"], found["sealed"]) == ("valid", True, False)
    assert found["statement"]["rule"] == "R-23"
    for unknown in ("0000-0000-0000-0000", "not a code at all", "ABCD"):
        missing = public.get(f"/api/v1/documents/verify/{unknown}")
        assert (missing.status_code, missing.json()["code"]) == (404, "UNKNOWN_CODE")


def test_r28a_the_qualification_confirmation_carries_the_bidder_number(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder, other = stack.bidder(), stack.bidder()
    waiting = stack.apply(other, lot)
    early = other.http.get(f"/api/v1/applications/{waiting['id']}/qualification.pdf")
    assert (early.status_code, early.json()["code"]) == (409, "NOT_QUALIFIED")
    application = stack.qualified(bidder, lot)
    path = f"/api/v1/applications/{application['id']}/qualification.pdf"
    answer = bidder.http.get(path)
    assert answer.status_code == 200, answer.text
    text = pdf_text(answer.content)
    assert "竞买资格确认书" in text
    assert application["bidder_number"] in text and application["order_no"] in text
    assert bidder.party_name in text and "24,000,000.00" in text
    assert_fonts_embedded(answer.content)
    assert other.http.get(path).status_code == 404
    verified = stack.anonymous().get(
        f"/api/v1/documents/verify/{answer.headers['x-verification-code']}"
    )
    sealed = verified.json()
    assert sealed["kind"] == "qualification" and sealed["sealed"] is True
    assert sealed["parties"] is None and sealed["statement"] is None  # R-07 until the end
    assert sealed["sha256"] == hashlib.sha256(answer.content).hexdigest()


def test_r28a_the_result_announcement_is_public_after_the_decision(
    stack: Stack, auction: Auction, staff: Account
) -> None:
    public = stack.anonymous()
    answer = public.get(f"/api/v1/lots/{auction.lot['id']}/result.pdf")
    assert answer.status_code == 200, answer.text
    text = pdf_text(answer.content)
    assert "出让结果公告" in text and "成交" in text
    assert PRICE_PRINTED in text and PRICE_IN_CAPITALS in text
    assert auction.winner.party_name in text and PARTNER["name"] in text
    assert PARTNER["id_no"] not in text  # a public notice names, it does not identify
    assert "R-23" in text
    assert_fonts_embedded(answer.content)
    verified = public.get(f"/api/v1/documents/verify/{answer.headers['x-verification-code']}")
    assert verified.json()["kind"] == "result_announcement"
    undecided = stack.published_lot(staff)
    early = public.get(f"/api/v1/lots/{undecided['id']}/result.pdf")
    assert (early.status_code, early.json()["code"]) == (404, "NOT_DECIDED")


def test_r28a_r43_a_voided_result_is_no_longer_issued_and_verifies_as_voided(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    winner = stack.bidder()
    stack.qualified(winner, lot)
    stack.advance_to(lot["listing_start"])
    assert stack.quote(winner, lot, "120000000.00").status_code == 201
    stack.advance_to(lot["listing_end"])
    stack.advance(6 * 60)
    issued = winner.http.get(f"/api/v1/lots/{lot['id']}/confirmation.pdf")
    assert issued.status_code == 200, issued.text
    code = issued.headers["x-verification-code"]
    void = staff.http.post(f"/api/v1/lots/{lot['id']}/void", json={"cause": 2, "note": "串通"})
    assert void.status_code == 200, void.text
    again = winner.http.get(f"/api/v1/lots/{lot['id']}/confirmation.pdf")
    assert (again.status_code, again.json()["code"]) == (409, "RESULT_VOIDED")
    verified = stack.anonymous().get(f"/api/v1/documents/verify/{code}").json()
    assert verified["status"] == "voided" and verified["price"] == "120000000.00"


def test_r28a_staff_adjust_a_template_in_the_data_folder(stack: Stack, staff: Account) -> None:
    folder = override_dir(stack.runtime.settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "qualification.html").write_text(
        '{% extends "issued.html" %}{% block body %}<h1>竞买资格确认书</h1>'
        "<p>本中心自定格式 竞买号 {{ bidder_number }}</p>{% endblock %}",
        encoding="utf-8",
    )
    try:
        lot = stack.published_lot(staff)
        bidder = stack.bidder()
        application = stack.qualified(bidder, lot)
        answer = bidder.http.get(f"/api/v1/applications/{application['id']}/qualification.pdf")
        text = pdf_text(answer.content)
        assert "本中心自定格式" in text and application["bidder_number"] in text
        assert answer.headers["x-verification-code"] in text  # the packaged footer stays
    finally:
        shutil.rmtree(folder)
