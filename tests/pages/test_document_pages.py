"""Printed documents from the pages (R-28a): the winner downloads the confirmation with
the browser session, others are refused, and anyone checks a verification code."""

from __future__ import annotations

from tests.harness import Stack
from tests.pages.support import browser, signed_in, text_of
from tests.printing.support import PRICE_PRINTED, pdf_text, timed_auction


def test_r28a_winner_downloads_the_confirmation_and_the_public_verifies_it(
    stack: Stack,
) -> None:
    auction = timed_auction(stack)
    lot_id = auction.lot["id"]
    winner = signed_in(stack, auction.winner)
    board = winner.get(f"/lots/{lot_id}")
    assert f'href="/lots/{lot_id}/confirmation.pdf"' in board.text
    pdf = winner.get(f"/lots/{lot_id}/confirmation.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert auction.winner.party_name in pdf_text(pdf.content)
    code = pdf.headers["x-verification-code"]

    rival = signed_in(stack, auction.rival).get(f"/lots/{lot_id}/confirmation.pdf")
    assert rival.status_code == 403
    assert rival.headers["content-type"].startswith("text/html")

    checked = browser(stack).get("/verify", params={"code": code})
    text = text_of(checked.text)
    assert checked.status_code == 200
    assert "有效" in text
    assert auction.winner.party_name in text
    assert PRICE_PRINTED in text
    assert pdf.headers["x-content-sha256"] in text


def test_r28a_an_unknown_code_is_reported_not_found(stack: Stack) -> None:
    checked = browser(stack).get("/verify", params={"code": "0000-0000-0000-0000"})
    assert 'data-code="UNKNOWN_CODE"' in checked.text
    assert 'data-testid="verified"' not in checked.text


def test_r29_the_result_announcement_is_public_after_the_decision(stack: Stack) -> None:
    auction = timed_auction(stack)
    pdf = browser(stack).get(f"/lots/{auction.lot['id']}/result.pdf")
    assert pdf.status_code == 200
    assert PRICE_PRINTED in pdf_text(pdf.content)
