"""The lot archive (R-32d): the full record of an ended lot, signed by the system as
JSON and printable as PDF, for staff and supervisors. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tests.harness import Account, Stack
from tests.printing.support import PARTNER, PRICE, Auction, assert_fonts_embedded, pdf_text
from wangua.audit.checkpoints import SigningKey
from wangua.printing import archive


def fetch(caller: Account, auction: Auction) -> dict[str, Any]:
    answer = caller.http.get(f"/api/v1/lots/{auction.lot['id']}/archive.json")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    return dict(answer.json())


def system_key(stack: Stack) -> Ed25519PublicKey:
    key = SigningKey(stack.runtime.settings.resolved_audit_key_dir).public_key()
    assert key is not None
    return key


def independently_verified(document: dict[str, Any], key: Ed25519PublicKey) -> bool:
    """A verifier that knows only the documented rule: Ed25519 over the archive without
    `signature`, as JSON with sorted keys, no whitespace and non-ASCII unescaped."""
    body = {k: v for k, v in document.items() if k != "signature"}
    message = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    try:
        key.verify(base64.b64decode(document["signature"]["value"]), message.encode())
    except InvalidSignature:
        return False
    return True


def test_r32d_the_archive_json_is_signed_by_the_system_and_tampering_breaks_it(
    stack: Stack, auction: Auction
) -> None:
    answer = auction.staff.http.get(f"/api/v1/lots/{auction.lot['id']}/archive.json")
    document = answer.json()
    key = system_key(stack)
    signature = document["signature"]
    assert signature["algorithm"] == "Ed25519"
    assert signature["key_id"] == hashlib.sha256(key.public_bytes_raw()).hexdigest()
    assert independently_verified(document, key)
    assert archive.verify(document, key)
    body = {k: v for k, v in document.items() if k != "signature"}
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert answer.headers["x-archive-sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    for tamper in (
        lambda d: d["quotes"][-1].update(amount="124000000.00"),
        lambda d: d["result"].update(rule="R-27"),
        lambda d: d["audit"]["entries"].pop(),
        lambda d: d.update(extra="x"),
    ):
        forged = copy.deepcopy(document)
        tamper(forged)
        assert not independently_verified(forged, key)
        assert not archive.verify(forged, key)
    assert not archive.verify(document, Ed25519PrivateKey.generate().public_key())


def test_r32d_the_archive_holds_the_whole_record_of_the_lot(stack: Stack, auction: Auction) -> None:
    document = fetch(auction.staff, auction)
    assert document["format"] == "wangua-lot-archive/1"
    assert document["lot"]["code"] == auction.lot["code"] and document["lot"]["status"] == "sold"
    bidders = {b["bidder_number"]: b for b in document["bidders"]}
    winner = bidders[auction.won["bidder_number"]]
    assert winner["name"] == auction.winner.party_name  # revealed now that the lot ended
    assert [m["name"] for m in winner["members"]] == [auction.winner.party_name, PARTNER["name"]]
    assert bidders[auction.lost["bidder_number"]]["name"] == auction.rival.party_name
    quotes = [(q["amount"], q["phase"], q["by_proxy"]) for q in document["quotes"]]
    assert quotes == [
        ("120000000.00", "listing", False),
        ("121000000.00", "listing", False),
        ("122000000.00", "timed", True),
        (PRICE, "timed", False),
    ]
    assert all(q["received_at"].endswith("Z") for q in document["quotes"])
    assert [q["seq"] for q in document["quotes"]] == [1, 2, 3, 4]
    assert sorted(a["bidder_number"] for a in document["inquiry"] if a["joined"]) == sorted(
        [auction.won["bidder_number"], auction.lost["bidder_number"]]
    )
    assert [(p["bidder_number"], p["max_amount"]) for p in document["proxies"]] == [
        (auction.lost["bidder_number"], "122000000.00")
    ]
    assert [w["data"]["seconds_left"] for w in document["warnings"]] == [60, 30, 10]
    assert [p["data"]["status"] for p in document["phases"]] == [
        "listing",
        "inquiry",
        "timed_bidding",
    ]
    result = document["result"]
    assert (result["outcome"], result["price"], result["rule"]) == ("sold", PRICE, "R-23")
    assert "第二十三条" in result["rule_text"]
    assert result["winner"]["bidder_number"] == auction.won["bidder_number"]
    payments = document["deposits"]["payments"]
    assert {p["application_id"] for p in payments} == {auction.won["id"], auction.lost["id"]}
    refunds = {(r["application_id"], r["status"]) for r in document["deposits"]["refunds"]}
    assert refunds == {(auction.won["id"], "earnest"), (auction.lost["id"], "due")}
    audit = document["audit"]
    assert audit["stream"] == f"lot:{auction.lot['id']}" and audit["intact"] is True
    assert [e["seq"] for e in audit["entries"]] == list(range(1, audit["head"]["seq"] + 1))
    actions = [e["action"] for e in audit["entries"]]
    assert "lot.published" in actions and "lot.decided" in actions
    previous = "0" * 64
    for entry in audit["entries"]:  # each link names its predecessor
        assert entry["prev_hash"] == previous
        previous = entry["hash"]
    assert audit["head"]["hash"] == previous


def test_r32d_the_archive_lists_issued_documents_with_their_hashes_and_is_stable(
    stack: Stack, auction: Auction
) -> None:
    pdf = auction.winner.http.get(f"/api/v1/lots/{auction.lot['id']}/confirmation.pdf")
    supervisor = stack.account("supervisor")
    first = supervisor.http.get(f"/api/v1/lots/{auction.lot['id']}/archive.json")
    again = supervisor.http.get(f"/api/v1/lots/{auction.lot['id']}/archive.json")
    assert first.content == again.content  # exporting does not change the lot's record
    issued = first.json()["issued_documents"]
    confirmation = next(d for d in issued if d["kind"] == "confirmation")
    assert confirmation["code"] == pdf.headers["x-verification-code"]
    assert confirmation["sha256"] == hashlib.sha256(pdf.content).hexdigest()
    actions = [e["action"] for e in first.json()["audit"]["entries"]]
    assert "document.issued" in actions


def test_r32d_the_archive_pdf_prints_the_record_and_the_json_digest(
    stack: Stack, auction: Auction
) -> None:
    supervisor = stack.account("supervisor")
    answer = supervisor.http.get(f"/api/v1/lots/{auction.lot['id']}/archive.pdf")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    document = fetch(supervisor, auction)
    assert answer.headers["x-archive-sha256"] == archive.digest(document)
    text = pdf_text(answer.content)
    assert "宗地档案" in text and auction.lot["code"] in text
    assert auction.winner.party_name in text and auction.rival.party_name in text
    assert "限时竞价" in text and "自动委托" in text and "R-23" in text
    assert "123,000,000.00" in text
    assert archive.digest(document) in text
    assert document["audit"]["entries"][-1]["hash"] in text
    assert_fonts_embedded(answer.content)


def test_r32d_the_archive_waits_for_the_end_and_its_keepers(
    stack: Stack, auction: Auction, staff: Account
) -> None:
    running = stack.published_lot(staff)
    early = staff.http.get(f"/api/v1/lots/{running['id']}/archive.json")
    assert (early.status_code, early.json()["code"]) == (409, "LOT_NOT_ENDED")
    path = f"/api/v1/lots/{auction.lot['id']}/archive.json"
    county = stack.account("staff", "tongshan").http.get(path)
    assert (county.status_code, county.json()["code"]) == (403, "FORBIDDEN")
    for caller in (auction.winner, stack.account("finance", "xianning-city")):
        refused = caller.http.get(path)
        assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_NOT_ALLOWED")
    assert stack.anonymous().get(path).status_code == 401


@pytest.mark.parametrize("form", ["json", "pdf"])
def test_r32d_r37_a_terminated_lot_archives_with_its_termination(
    stack: Stack, staff: Account, form: str
) -> None:
    lot = stack.published_lot(staff)
    ended = staff.http.post(
        f"/api/v1/lots/{lot['id']}/terminate", json={"cause": 1, "note": "司法机关要求终止"}
    )
    assert ended.status_code == 200, ended.text
    answer = staff.http.get(f"/api/v1/lots/{lot['id']}/archive.{form}")
    assert answer.status_code == 200, answer.text
    if form == "json":
        result = answer.json()["result"]
        assert (result["outcome"], result["rule"], result["cause"]) == ("terminated", "R-37", 1)
        assert archive.verify(answer.json(), system_key(stack))
    else:
        assert "终止" in pdf_text(answer.content)
