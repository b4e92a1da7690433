"""Printed documents (R-28a), their public verification, and the lot archive (R-32d).

Documents and archives render outside any transaction (WeasyPrint takes a fraction of
a second to seconds); only the issue itself and the export record are written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from wangua.audit.checkpoints import SigningKey
from wangua.audit.service import SYSTEM_STREAM, canonical, record
from wangua.printing import archive, documents
from wangua.printing.render import render_pdf
from wangua.printing.responses import issued_response, pdf_response
from wangua.runtime import Actor, Runtime
from wangua.web import ObjectId, OptionalActor, RuntimeDep, role

router = APIRouter(prefix="/api/v1", tags=["printing"])
WinnerOrStaff = Annotated[Actor, Depends(role("bidder", "staff"))]
Bidder = Annotated[Actor, Depends(role("bidder"))]
Keeper = Annotated[Actor, Depends(role("staff", "supervisor"))]
Code = Annotated[str, Path(min_length=1, max_length=64)]
PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "PDF"}
}
SIGNED_JSON: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "the archive, signed",
    }
}


@router.get("/lots/{lot_id}/confirmation.pdf", response_class=Response, responses=PDF)
def confirmation_pdf(lot_id: ObjectId, rt: RuntimeDep, actor: WinnerOrStaff) -> Response:
    """R-28a: the confirmation (成交确认书) for the winner and the lot's staff; a joint
    winner's lists every member and share. `404 NOT_DECIDED` before the decision, `403
    NOT_WINNER` for other bidders, `409 NOT_SOLD` / `RESULT_VOIDED`. Issued once: every
    download is the same PDF with the same verification code."""
    return issued_response(documents.obtain(rt, actor, documents.confirmation(actor, lot_id)))


@router.get(
    "/applications/{application_id}/qualification.pdf", response_class=Response, responses=PDF
)
def qualification_pdf(application_id: ObjectId, rt: RuntimeDep, actor: Bidder) -> Response:
    """R-16c: a qualified bidder's qualification confirmation (竞买资格确认书) with its
    bidder number; `409 NOT_QUALIFIED` before the deposit qualifies."""
    return issued_response(
        documents.obtain(rt, actor, documents.qualification(actor, application_id))
    )


@router.get("/lots/{lot_id}/result.pdf", response_class=Response, responses=PDF)
def result_pdf(lot_id: ObjectId, rt: RuntimeDep, actor: OptionalActor) -> Response:
    """R-29: the public result announcement (出让结果公告); `404 NOT_DECIDED` before."""
    return issued_response(documents.obtain(rt, actor, documents.result_announcement(lot_id)))


@router.get("/documents/verify/{code}")
def verify_document(code: Code, rt: RuntimeDep) -> dict[str, Any]:
    """Anyone checks a printed document's verification code against the record: what it
    states (kind, lot, parties, price, issue time) and the SHA-256 of its PDF.
    `404 UNKNOWN_CODE` for a code nothing was issued with."""
    with rt.read() as session:
        return documents.verify(session, code)


def _signed_archive(rt: Runtime, actor: Actor, lot_id: int) -> dict[str, Any]:
    with rt.read() as session:
        unsigned = archive.build(session, actor, lot_id)
    return archive.sign(unsigned, SigningKey(rt.settings.resolved_audit_key_dir))


def _exported(rt: Runtime, actor: Actor, lot_id: int, form: str, digest: str) -> None:
    """The export is recorded in the system chain, so the lot's own record, and with it
    the archive, does not change by being exported."""
    with rt.work(actor) as work:
        record(
            work,
            "lot.archive_exported",
            stream=SYSTEM_STREAM,
            object_type="lot",
            object_id=lot_id,
            data={"form": form, "sha256": digest},
        )


@router.get("/lots/{lot_id}/archive.json", response_class=Response, responses=SIGNED_JSON)
def archive_json(lot_id: ObjectId, rt: RuntimeDep, actor: Keeper) -> Response:
    """R-32d: the ended lot's full record as a machine-readable protocol, signed with the
    system's Ed25519 audit checkpoint key (`signature`); `X-Archive-SHA256` is the SHA-256
    of what the signature covers. `409 LOT_NOT_ENDED` before the lot ends."""
    signed = _signed_archive(rt, actor, lot_id)
    digest = archive.digest(signed)
    _exported(rt, actor, lot_id, "json", digest)
    return Response(
        canonical(signed).encode(),
        media_type="application/json",
        headers={"X-Archive-SHA256": digest},
    )


@router.get("/lots/{lot_id}/archive.pdf", response_class=Response, responses=PDF)
def archive_pdf(lot_id: ObjectId, rt: RuntimeDep, actor: Keeper) -> Response:
    """R-32d: the same record for the trading center's paper file (Art. 32(5)); it
    prints the SHA-256 and signature of the JSON archive it was made from."""
    signed = _signed_archive(rt, actor, lot_id)
    digest = archive.digest(signed)
    head = signed["audit"]["head"]["at"] or signed["lot"]["created_at"]
    pdf = render_pdf(
        rt.settings.data_dir,
        "archive.html",
        {"archive": signed, "digest": digest},
        title=f"宗地档案 {signed['lot']['code']}",
        created=datetime.fromisoformat(head),
    )
    _exported(rt, actor, lot_id, "pdf", digest)
    return pdf_response(pdf, f"宗地档案-{signed['lot']['code']}.pdf", {"X-Archive-SHA256": digest})
