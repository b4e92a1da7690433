"""A lot decided by timed bidding with a joint winner, a proxy and the three warnings,
and readers for the PDFs the system prints."""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from typing import Any

import pypdf

from tests.api.bidding_support import deadline, to_timed_bidding
from tests.harness import Account, Stack

PARTNER = {
    "name": "湖北楚天建设集团有限公司",
    "id_type": "统一社会信用代码",
    "id_no": "91420100MA4KXY2Q9B",
    "share": "40.00",
}
PRICE = "123000000.00"
PRICE_PRINTED = "123,000,000.00"
PRICE_IN_CAPITALS = "壹亿贰仟叁佰万元整"


@dataclass
class Auction:
    lot: dict[str, Any]
    staff: Account
    winner: Account
    rival: Account
    won: dict[str, Any]
    lost: dict[str, Any]


def joint_members(winner: Account) -> list[dict[str, str]]:
    lead = {
        "name": winner.party_name,
        "id_type": "统一社会信用代码",
        "id_no": "91421200MA49LEAD01",
        "share": "60.00",
    }
    return [lead, PARTNER]


def timed_auction(stack: Stack) -> Auction:
    """Listing quotes 120 and 121 million; in timed bidding the rival's proxy (max 122
    million) bids 122, the joint winner bids 123 by hand; the countdown runs out with its
    three warnings: sold at 123 million under R-23."""
    staff = stack.account("staff", "xianning-city")
    lot = stack.published_lot(staff)
    winner, rival = stack.bidder(), stack.bidder()
    won = stack.qualified(winner, lot, members=joint_members(winner))
    lost = stack.qualified(rival, lot)
    stack.advance_to(lot["listing_start"])
    assert stack.quote(rival, lot, "120000000.00").status_code == 201
    assert stack.quote(winner, lot, "121000000.00").status_code == 201
    to_timed_bidding(stack, lot, [winner, rival])
    proxy = rival.http.put(f"/api/v1/lots/{lot['id']}/proxy", json={"max_amount": "122000000.00"})
    assert proxy.status_code == 200, proxy.text
    stack.advance(30)
    assert stack.quote(winner, lot, PRICE).status_code == 201
    stack.advance_to(deadline(stack, lot))
    result = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/result").json()
    assert (result["outcome"], result["price"], result["rule"]) == ("sold", PRICE, "R-23")
    return Auction(lot, staff, winner, rival, won, lost)


def pdf_text(data: bytes) -> str:
    """The text a reader extracts, with line breaks removed (a long line may wrap)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "".join((page.extract_text() or "").replace("\n", "") for page in reader.pages)


def pdf_fonts(data: bytes) -> list[dict[str, str]]:
    """poppler's pdffonts: every font with whether it is embedded."""
    listing = subprocess.run(
        ["pdffonts", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    fonts = []
    for line in listing.splitlines()[2:]:
        columns = line.split()
        # name, type (one or more words), encoding, emb, sub, uni, object, generation
        fonts.append({"name": columns[0], "embedded": columns[-5], "subset": columns[-4]})
    return fonts


def assert_fonts_embedded(data: bytes) -> None:
    fonts = pdf_fonts(data)
    assert fonts, "a document with text has fonts"
    for font in fonts:
        assert font["embedded"] == "yes", font
        assert "Noto" in font["name"] and "CJK-SC" in font["name"], font
