"""The reconciliation report as a PDF: the same figures as the JSON, to the fen, for
finance of the lot's grantor (R-16b, R-30, R-44). SQLite and PostgreSQL."""

from __future__ import annotations

from tests.harness import Stack
from tests.printing.support import Auction, assert_fonts_embedded, pdf_text
from wangua.printing.render import yuan


def test_r30_the_reconciliation_pdf_states_the_json_totals_to_the_fen(
    stack: Stack, auction: Auction
) -> None:
    finance = stack.account("finance", "xianning-city")
    lot_path = f"/api/v1/lots/{auction.lot['id']}/reconciliation"
    for path in (lot_path, "/api/v1/finance/reconciliation"):
        report = finance.http.get(path).json()
        answer = finance.http.get(f"{path}.pdf")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/pdf"
        text = pdf_text(answer.content)
        assert "保证金对账单" in text and "合计" in text
        for column, amount in report["totals"].items():
            assert yuan(amount) in text, column
        assert report["balanced"] is True and "对账结果:平衡" in text
        assert_fonts_embedded(answer.content)
    lot_report = finance.http.get(lot_path).json()
    assert lot_report["totals"]["earnest"] == "24000000.00"
    assert lot_report["totals"]["received"] == "48000000.00"
    text = pdf_text(finance.http.get(f"{lot_path}.pdf").content)
    assert auction.lot["code"] in text and "48,000,000.00" in text and "24,000,000.00" in text


def test_r30_the_reconciliation_pdf_is_for_finance_of_the_lots_grantor(
    stack: Stack, auction: Auction
) -> None:
    path = f"/api/v1/lots/{auction.lot['id']}/reconciliation.pdf"
    county = stack.account("finance", "tongshan").http.get(path)
    assert county.status_code == 404
    refused = auction.staff.http.get(path)
    assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_NOT_ALLOWED")
