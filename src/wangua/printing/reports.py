"""Reports as PDFs: the deposit reconciliation (对账单), the same figures as its JSON and
CSV, balancing to the fen (R-16b, R-30, R-44)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from wangua.deposits.reconciliation import COLUMNS
from wangua.kit.times import rfc3339
from wangua.lots.models import GRANTORS
from wangua.printing.render import render_pdf
from wangua.printing.responses import pdf_response
from wangua.runtime import Runtime

LABELS = {
    "received": "到账合计",
    "qualified": "计入竞买资格",
    "pending": "未结(地块未结束)",
    "unmatched": "未匹配",
    "due": "应退未付",
    "refunded": "已退还",
    "held": "暂存待核实",
    "earnest": "转作定金",
    "forfeited": "不予退还",
    "interest_paid": "已付利息",
}
BUCKETS = COLUMNS[2:-1]
"""The buckets that add up to what was received; `qualified` and `interest_paid` are
shown beside them."""


def reconciliation_pdf(rt: Runtime, report: dict[str, Any]) -> Response:
    """A reconciliation report (a lot's, or a grantor's per bank account) as a PDF."""
    now = rt.now()
    subject = report.get("lot_code") or GRANTORS.get(report.get("grantor") or "", "")
    pdf = render_pdf(
        rt.settings.data_dir,
        "reconciliation.html",
        {
            "report": report,
            "columns": [(c, LABELS[c]) for c in COLUMNS],
            "buckets": [LABELS[c] for c in BUCKETS],
            "grantor_name": GRANTORS.get(report.get("grantor") or ""),
            "generated_at": rfc3339(now),
        },
        title=f"保证金对账单 {subject}",
        created=now,
    )
    return pdf_response(pdf, f"保证金对账单-{subject}.pdf")
