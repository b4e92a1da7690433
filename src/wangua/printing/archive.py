"""The lot archive (R-32d, Art. 32(5)): after a lot ends, its full record as one document.

`build` reads the record in one read transaction: the lot, its documents with their
hashes, the bidders (identities revealed now that it has ended), every quote with its
receipt time and phase, inquiry answers, proxies, warnings and phase changes,
suspensions, the result with the rule that decided it, deposits, guarantees and
refunds, and the lot's audit chain, checked link by link.

The archive is a function of the record: it carries no time of its own, so the same
record gives the same bytes. `sign` adds `signature`: Ed25519, with the system's audit
checkpoint key, over `canonical(archive without "signature")` (sorted keys, no
whitespace, UTF-8, non-ASCII unescaped), with the key id and public key.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from wangua.applications.models import Application
from wangua.audit.checkpoints import SigningKey, key_id
from wangua.audit.models import AuditEntry, AuditStream
from wangua.audit.service import GENESIS, HASHED, canonical, entry_hash, lot_stream
from wangua.bidding.models import InquiryAnswer, Proxy, Quote, Result
from wangua.kit.money import format_fen
from wangua.kit.problems import Problem, forbidden
from wangua.kit.times import rfc3339
from wangua.live.models import LotEvent
from wangua.lots.models import ENDED
from wangua.lots.repository import get_lot
from wangua.lots.service import public_view
from wangua.printing import documents, sections
from wangua.printing.statements import applicant_name, rule_text
from wangua.runtime import Actor

FORMAT = "wangua-lot-archive/1"


def build(session: Session, actor: Actor, lot_id: int) -> dict[str, Any]:
    """The unsigned archive of an ended lot, for staff of its grantor and supervisors."""
    lot = get_lot(session, lot_id)
    if actor.role == "staff" and actor.grantor != lot.grantor:
        raise forbidden("只能查看本出让人的地块")
    if lot.status not in ENDED:
        raise Problem(
            409,
            "LOT_NOT_ENDED",
            "地块出让活动尚未结束",
            "成交、不成交、终止或竞得结果被认定无效后,方可导出宗地档案",
        )
    applications = list(
        session.scalars(
            select(Application).where(Application.lot_id == lot.id).order_by(Application.id)
        )
    )
    numbers = {a.id: a.bidder_number for a in applications}
    result = session.get(Result, lot.id)
    events = list(
        session.scalars(select(LotEvent).where(LotEvent.lot_id == lot.id).order_by(LotEvent.seq))
    )
    return {
        "format": FORMAT,
        "lot": {
            **public_view(lot, numbers.get(lot.leader_application_id or 0), result),
            "created_at": rfc3339(lot.created_at),
            "notes": lot.notes,
        },
        "documents": sections.listing_documents(session, lot.id),
        "supplements": sections.supplements(session, lot.id),
        "issued_documents": [
            {
                "code": documents.display(d.code),
                "kind": d.kind,
                "title": documents.TITLES[d.kind],
                "application_id": d.application_id,
                "sha256": d.sha256,
                "size": d.size,
                "issued_at": rfc3339(d.issued_at),
            }
            for d in documents.issued_for_lot(session, lot.id)
        ],
        "bidders": [_bidder(session, a) for a in applications],
        "quotes": _quotes(session, lot.id, numbers),
        "inquiry": _inquiry(session, lot.id, numbers),
        "proxies": _proxies(session, lot.id, numbers),
        "warnings": [_event(e) for e in events if e.name == "warning"],
        "phases": [_event(e) for e in events if e.name in ("phase", "suspended", "resumed")],
        "suspensions": sections.suspensions(session, lot.id),
        "result": _result(session, result, events),
        "deposits": sections.money(session, lot.id, [a.id for a in applications]),
        "audit": chain(session, lot.id),
    }


def _bidder(session: Session, application: Application) -> dict[str, Any]:
    return {
        "application_id": application.id,
        "order_no": application.order_no,
        "status": application.status,
        "bidder_number": application.bidder_number,
        "name": applicant_name(session, application),
        "members": application.members,
        "new_company": application.new_company,
        "consented_at": rfc3339(application.consented_at),
        "created_at": rfc3339(application.created_at),
        "qualified_at": rfc3339(application.qualified_at),
        "paid": format_fen(application.paid_fen),
    }


def _quotes(session: Session, lot_id: int, numbers: dict[int, str | None]) -> list[Any]:
    rows = session.scalars(select(Quote).where(Quote.lot_id == lot_id).order_by(Quote.seq))
    return [
        {
            "seq": q.seq,
            "amount": format_fen(q.amount_fen),
            "application_id": q.application_id,
            "bidder_number": numbers.get(q.application_id),
            "phase": q.phase,
            "received_at": rfc3339(q.received_at),
            "by_proxy": q.by_proxy,
        }
        for q in rows
    ]


def _inquiry(session: Session, lot_id: int, numbers: dict[int, str | None]) -> list[Any]:
    rows = session.scalars(
        select(InquiryAnswer).where(InquiryAnswer.lot_id == lot_id).order_by(InquiryAnswer.id)
    )
    return [
        {
            "application_id": a.application_id,
            "bidder_number": numbers.get(a.application_id),
            "joined": a.joined,
            "answered_at": rfc3339(a.answered_at),
        }
        for a in rows
    ]


def _proxies(session: Session, lot_id: int, numbers: dict[int, str | None]) -> list[Any]:
    rows = session.scalars(select(Proxy).where(Proxy.lot_id == lot_id).order_by(Proxy.set_seq))
    return [
        {
            "application_id": p.application_id,
            "bidder_number": numbers.get(p.application_id),
            "max_amount": format_fen(p.max_fen),
            "set_at": rfc3339(p.set_at),
            "set_seq": p.set_seq,
            "cancelled_at": rfc3339(p.cancelled_at),
        }
        for p in rows
    ]


def _event(event: LotEvent) -> dict[str, Any]:
    return {"seq": event.seq, "name": event.name, "at": rfc3339(event.at), "data": event.data}


def _result(session: Session, result: Result | None, events: list[LotEvent]) -> dict[str, Any]:
    """The decision and its rule (R-22, R-23, R-27), its voiding (R-43), or the
    termination (R-37) that ended the lot without one."""
    if result is None:
        ending = next((e for e in reversed(events) if e.data.get("status") == "terminated"), None)
        data = ending.data if ending else {}
        return {
            "outcome": "terminated",
            "rule": "R-37",
            "rule_text": f"终止网上挂牌出让活动:{data.get('cause_text', '')}",
            "cause": data.get("cause"),
            "note": data.get("note"),
            "decided_at": data.get("at"),
        }
    winner = (
        session.get(Application, result.winner_application_id)
        if result.winner_application_id is not None
        else None
    )
    return {
        "outcome": result.outcome,
        "price": None if result.price_fen is None else format_fen(result.price_fen),
        "winner": None
        if winner is None
        else {
            "application_id": winner.id,
            "bidder_number": winner.bidder_number,
            "name": applicant_name(session, winner),
            "members": winner.members,
        },
        "reserve_price": None if result.reserve_fen is None else format_fen(result.reserve_fen),
        "rule": result.rule,
        "rule_text": rule_text(result.rule),
        "decided_at": rfc3339(result.decided_at),
        "voided": None
        if result.voided_at is None
        else {
            "voided_at": rfc3339(result.voided_at),
            "cause": result.void_cause,
            "note": result.void_note,
        },
    }


def _hashed(entry: AuditEntry) -> dict[str, Any]:
    """The fields an entry's hash covers (audit.service), its time in RFC 3339."""
    return {**{name: getattr(entry, name) for name in HASHED}, "at": rfc3339(entry.at)}


def chain(session: Session, lot_id: int) -> dict[str, Any]:
    """The lot's audit chain (R-32a), every link recomputed: `intact` is whether each
    entry's hash covers its fields and its predecessor and the last one is the head."""
    stream = lot_stream(lot_id)
    entries = list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.stream == stream).order_by(AuditEntry.seq)
        )
    )
    head = session.get(AuditStream, stream)
    previous, intact = GENESIS, True
    for entry in entries:
        fields = _hashed(entry)
        intact = intact and entry.prev_hash == previous
        intact = intact and entry.entry_hash == entry_hash(previous, fields)
        previous = entry.entry_hash
    intact = (
        intact
        and head is not None
        and (head.seq, head.head_hash)
        == (
            len(entries),
            previous,
        )
    )
    return {
        "stream": stream,
        "entries": [
            {**_hashed(e), "prev_hash": e.prev_hash, "hash": e.entry_hash} for e in entries
        ],
        "head": {
            "seq": len(entries),
            "hash": previous,
            "at": rfc3339(entries[-1].at) if entries else None,
        },
        "intact": intact,
    }


def digest(archive: dict[str, Any]) -> str:
    """The SHA-256 of what the signature covers: printed on the PDF, sent as a header."""
    body = {k: v for k, v in archive.items() if k != "signature"}
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def sign(archive: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    private = key.private_key()
    public = private.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        **archive,
        "signature": {
            "algorithm": "Ed25519",
            "key_id": key_id(public),
            "public_key": pem.decode(),
            "value": base64.b64encode(private.sign(canonical(archive).encode())).decode(),
        },
    }


def verify(archive: dict[str, Any], public: Ed25519PublicKey) -> bool:
    """Whether `archive` is exactly what the holder of `public` signed."""
    signature = archive.get("signature")
    if not isinstance(signature, dict) or signature.get("key_id") != key_id(public):
        return False
    body = {k: v for k, v in archive.items() if k != "signature"}
    try:
        public.verify(base64.b64decode(str(signature.get("value"))), canonical(body).encode())
    except (InvalidSignature, ValueError):
        return False
    return True
