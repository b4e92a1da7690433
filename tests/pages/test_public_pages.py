"""The public pages: the lot list with filters, a lot with its board, results (R-07, R-19c)."""

from __future__ import annotations

from tests.harness import Account, Stack
from tests.pages.support import browser, text_of


def test_r19c_lot_list_shows_published_lots_and_filters_them(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff, land_use="商服用地")
    other = stack.published_lot(staff, grantor="xianning-city", land_use="工业用地")
    page = browser(stack).get("/", params={"use": "商服"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    text = text_of(page.text)
    assert lot["code"] in text
    assert other["code"] not in text
    by_phase = text_of(browser(stack).get("/", params={"phase": "sold"}).text)
    assert lot["code"] not in by_phase


def test_r07_lot_page_shows_conditions_and_board_without_names(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    stack.qualified(bidder, lot)
    stack.advance_to(lot["listing_start"])
    assert stack.quote(bidder, lot, lot["start_price"]).status_code == 201
    page = browser(stack).get(f"/lots/{lot['id']}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert lot["name"] in text
    assert "挂牌中" in text
    assert f"{int(float(lot['start_price'])):,}" in text
    assert bidder.party_name not in text
    assert f'sse-connect="/lots/{lot["id"]}/live' in page.text


def test_unknown_lot_is_a_page_not_json(stack: Stack) -> None:
    page = browser(stack).get("/lots/999999999")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "资源不存在" in page.text or "地块" in page.text


def test_english_locale_is_switchable(stack: Stack, staff: Account) -> None:
    client = browser(stack)
    answer = client.get("/lang/en")
    assert answer.status_code == 303
    page = client.get("/")
    assert 'lang="en"' in page.text
    assert "Listed lots" in page.text
