"""PDFs over HTTP: shown in the browser to print, named, with their SHA-256."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from fastapi.responses import Response

from wangua.printing import documents
from wangua.printing.models import IssuedDocument


def pdf_response(data: bytes, filename: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}",
            "X-Content-SHA256": hashlib.sha256(data).hexdigest(),
            **(headers or {}),
        },
    )


def issued_response(issued: IssuedDocument) -> Response:
    """An issued document (R-28a) with its verification code in `X-Verification-Code`."""
    title = documents.TITLES[issued.kind]
    lot_code = issued.statement["lot"]["code"]
    return pdf_response(
        issued.pdf,
        f"{title}-{lot_code}.pdf",
        {"X-Verification-Code": documents.display(issued.code)},
    )
