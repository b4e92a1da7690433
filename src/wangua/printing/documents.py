"""Issuing the documents people sign and print, and verifying them (R-28a).

A document is issued once per subject (the lot's confirmation, an application's
qualification confirmation, the lot's result announcement). The first request reads
what it states, renders it outside any transaction, and then, under the lot's lock,
stores the PDF with its verification code and SHA-256 and appends `document.issued`
to the lot's audit chain. Every later request gets that same PDF, byte for byte, with
the same code; a concurrent first request that loses the race serves the winner's.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from wangua.applications.models import Application
from wangua.audit.models import AuditEntry
from wangua.audit.service import digest, lot_stream, record
from wangua.bidding.models import Result
from wangua.kit.problems import Problem, forbidden, not_found
from wangua.kit.times import rfc3339
from wangua.lots.models import ENDED, Lot
from wangua.lots.repository import get_lot, lock_lot
from wangua.printing import statements
from wangua.printing.models import IssuedDocument
from wangua.printing.render import render_pdf
from wangua.runtime import SYSTEM, Actor, Runtime

TITLES = {
    "confirmation": "成交确认书",
    "qualification": "竞买资格确认书",
    "result_announcement": "出让结果公告",
}
VERIFY_PATH = "/api/v1/documents/verify/"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: no I, L, O or U to misread on paper. 16 characters, 80 bits."""
_READ_AS = str.maketrans("OIL", "011")
_CODE = re.compile(f"[{ALPHABET}]{{16}}")


@dataclass(frozen=True)
class Wanted:
    """A document a caller may have: what it is for and what it states."""

    kind: str
    subject: str
    lot_id: int
    application_id: int | None
    statement: dict[str, Any]


Check = Callable[[Session], Wanted]
"""Decides whether the caller may have the document now (raising a Problem if not)."""


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(16))


def display(code: str) -> str:
    """XXXX-XXXX-XXXX-XXXX, as printed."""
    return "-".join(code[i : i + 4] for i in range(0, 16, 4))


def normalise(text: str) -> str | None:
    """A code as typed from paper: any case, with or without hyphens and spaces."""
    code = re.sub(r"[\s-]", "", text).upper().translate(_READ_AS)
    return code if _CODE.fullmatch(code) else None


def obtain(rt: Runtime, actor: Actor | None, check: Check) -> IssuedDocument:
    """The issued document the caller may have, issued now if it never was."""
    with rt.read() as session:
        wanted = check(session)
        issued = _issued(session, wanted.subject)
        issued_at = rt.clock.now(session)
    if issued is not None:
        return issued
    code = new_code()
    pdf = render_pdf(
        rt.settings.data_dir,
        f"{wanted.kind}.html",
        {**wanted.statement, "code": display(code), "verify_path": VERIFY_PATH + display(code)},
        title=TITLES[wanted.kind],
        created=issued_at,
    )
    with rt.work(actor or SYSTEM) as work:
        lock_lot(work, wanted.lot_id)
        check(work.session)  # still the caller's, and still issuable, under the lot's lock
        issued = _issued(work.session, wanted.subject)
        if issued is not None:
            return issued
        issued = IssuedDocument(
            code=code,
            kind=wanted.kind,
            subject=wanted.subject,
            lot_id=wanted.lot_id,
            application_id=wanted.application_id,
            statement=wanted.statement,
            sha256=hashlib.sha256(pdf).hexdigest(),
            size=len(pdf),
            pdf=pdf,
            issued_at=issued_at,
            issued_by=work.actor.user_id,
        )
        work.session.add(issued)
        work.session.flush()
        record(
            work,
            "document.issued",
            stream=lot_stream(wanted.lot_id),
            object_type="issued_document",
            object_id=issued.id,
            data=issue_data(issued),
        )
    return issued


def issue_data(issued: IssuedDocument) -> dict[str, Any]:
    """What the audit entry of an issue digests: verification checks it against the row."""
    return {
        "kind": issued.kind,
        "code": issued.code,
        "sha256": issued.sha256,
        "application_id": issued.application_id,
        "issued_at": rfc3339(issued.issued_at),
    }


def _issued(session: Session, subject: str) -> IssuedDocument | None:
    return session.scalars(
        select(IssuedDocument)
        .where(IssuedDocument.subject == subject)
        .options(undefer(IssuedDocument.pdf))
    ).one_or_none()


def _decided(session: Session, lot: Lot) -> Result:
    result = session.get(Result, lot.id)
    if result is None:
        raise Problem(404, "NOT_DECIDED", "该地块尚未产生出让结果")
    if result.voided_at is not None:
        raise Problem(
            409, "RESULT_VOIDED", "竞得结果已被认定无效", "该地块的竞得结果已依第四十三条认定无效"
        )
    return result


def confirmation(actor: Actor, lot_id: int) -> Check:
    """R-28a: the winner's confirmation, for the winner and the lot's staff."""

    def check(session: Session) -> Wanted:
        lot = get_lot(session, lot_id)
        if actor.role == "staff" and actor.grantor != lot.grantor:
            raise forbidden("只能查看本出让人的地块")
        result = _decided(session, lot)
        winner = (
            session.get(Application, result.winner_application_id)
            if result.winner_application_id is not None
            else None
        )
        if winner is None:
            raise Problem(409, "NOT_SOLD", "该地块未成交", "未成交的地块没有成交确认书")
        if actor.role == "bidder" and winner.user_id != actor.user_id:
            raise Problem(403, "NOT_WINNER", "无权下载", "成交确认书只向竞得人和交易机构提供")
        return Wanted(
            "confirmation",
            f"confirmation:lot:{lot.id}",
            lot.id,
            winner.id,
            statements.confirmation(session, lot, result, winner),
        )

    return check


def qualification(actor: Actor, application_id: int) -> Check:
    """R-16c: a qualified bidder's qualification confirmation with its bidder number."""

    def check(session: Session) -> Wanted:
        application = session.get(Application, application_id)
        if application is None or application.user_id != actor.user_id:
            raise not_found("竞买申请")
        if application.status != "qualified" or application.bidder_number is None:
            raise Problem(
                409,
                "NOT_QUALIFIED",
                "尚未取得竞买资格",
                "竞买保证金按时足额到账、取得竞买号后方可打印竞买资格确认书",
            )
        lot = get_lot(session, application.lot_id)
        return Wanted(
            "qualification",
            f"qualification:application:{application.id}",
            lot.id,
            application.id,
            statements.qualification(session, lot, application),
        )

    return check


def result_announcement(lot_id: int) -> Check:
    """R-29: the public result announcement, once the lot is decided."""

    def check(session: Session) -> Wanted:
        lot = get_lot(session, lot_id)
        result = _decided(session, lot)
        return Wanted(
            "result_announcement",
            f"result_announcement:lot:{lot.id}",
            lot.id,
            None,
            statements.result_announcement(session, lot, result),
        )

    return check


def verify(session: Session, text: str) -> dict[str, Any]:
    """What the document with this code states, from the record: kind, lot, parties,
    price, issue time and the SHA-256 of its PDF. A qualification confirmation names its
    bidder only once the lot has ended (R-07). `status` is `voided` when the result the
    document states was voided (R-43); `recorded` says its audit entry matches."""
    code = normalise(text)
    issued = None
    if code is not None:
        issued = session.scalars(
            select(IssuedDocument).where(IssuedDocument.code == code)
        ).one_or_none()
    if issued is None:
        raise Problem(404, "UNKNOWN_CODE", "核验码不存在", "没有以该核验码出具的文件,请核对后重试")
    lot = session.get(Lot, issued.lot_id)
    result = session.get(Result, issued.lot_id)
    assert lot is not None
    sealed = issued.kind == "qualification" and lot.status not in ENDED
    voided = issued.kind != "qualification" and result is not None and result.voided_at is not None
    statement = None if sealed else issued.statement
    return {
        "code": display(issued.code),
        "kind": issued.kind,
        "title": TITLES[issued.kind],
        "lot": {"id": lot.id, "code": lot.code, "name": lot.name},
        "parties": None if statement is None else statement["parties"],
        "price": issued.statement["price"],
        "issued_at": rfc3339(issued.issued_at),
        "sha256": issued.sha256,
        "size": issued.size,
        "status": "voided" if voided else "valid",
        "sealed": sealed,
        "recorded": _recorded(session, issued),
        "statement": statement,
    }


def _recorded(session: Session, issued: IssuedDocument) -> bool:
    entry = session.scalars(
        select(AuditEntry.input_digest).where(
            AuditEntry.stream == lot_stream(issued.lot_id),
            AuditEntry.action == "document.issued",
            AuditEntry.object_id == str(issued.id),
        )
    ).one_or_none()
    return entry == digest(issue_data(issued))


def issued_for_lot(session: Session, lot_id: int) -> list[IssuedDocument]:
    """The lot's issued documents (without their PDFs), oldest first."""
    return list(
        session.scalars(
            select(IssuedDocument)
            .where(IssuedDocument.lot_id == lot_id)
            .order_by(IssuedDocument.id)
        )
    )
