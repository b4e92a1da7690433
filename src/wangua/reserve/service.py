"""Importing and opening the sealed reserve price (R-11, R-32b)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from wangua.audit.service import Entry, lot_stream, record, record_all
from wangua.identity import certificates
from wangua.identity.models import User
from wangua.kit.paging import invalid_cursor
from wangua.kit.problems import Problem
from wangua.kit.times import rfc3339, wall_now
from wangua.lots.models import Lot
from wangua.lots.repository import lock_lot
from wangua.reserve.models import SealedReserveRow
from wangua.reserve.sealing import SealedReserve, SealInvalid
from wangua.runtime import Work
from wangua.scheduler.service import catch_up

IMPORT_WINDOW = timedelta(minutes=30)
"""R-11: the reserve is imported only within the 30 minutes before the listing deadline."""
AWAITING = ("announced", "listing", "suspended")
"""The statuses in which a lot with a reserve still expects, or holds, its sealed reserve."""


def awaited_reserves(
    session: Session, after: int | None = None, limit: int | None = None
) -> list[tuple[Lot, datetime | None]]:
    """Lots with a reserve that have not been decided, by listing deadline, each with the
    time its sealed reserve was imported (None: not yet); `after` is the id of the last lot
    already seen (422 INVALID_CURSOR if there is none such)."""
    stmt = (
        select(Lot, SealedReserveRow.imported_at)
        .outerjoin(SealedReserveRow, SealedReserveRow.lot_id == Lot.id)
        .where(Lot.has_reserve, Lot.status.in_(AWAITING))
    )
    if after is not None:
        seen = session.get(Lot, after)
        if seen is None:
            raise invalid_cursor()
        stmt = stmt.where(
            or_(
                Lot.listing_end > seen.listing_end,
                and_(Lot.listing_end == seen.listing_end, Lot.id > seen.id),
            )
        )
    stmt = stmt.order_by(Lot.listing_end, Lot.id).limit(limit)
    return [(lot, imported_at) for lot, imported_at in session.execute(stmt)]


def awaited_view(lot: Lot, imported_at: datetime | None) -> dict[str, Any]:
    return {
        "lot_id": lot.id,
        "code": lot.code,
        "name": lot.name,
        "grantor": lot.grantor,
        "status": lot.status,
        "listing_end": rfc3339(lot.listing_end),
        "window_opens": rfc3339(lot.listing_end - IMPORT_WINDOW),
        "imported": imported_at is not None,
        "imported_at": rfc3339(imported_at),
    }


def _invalid(detail: str) -> Problem:
    return Problem(422, "RESERVE_SIGNATURE_INVALID", "底价密封文件无效", detail)


def import_reserve(
    work: Work, lot_id: int, sealed_b64: str, anchors: list[x509.Certificate]
) -> None:
    """An administrator imports the supervisor-sealed file; its signature is the
    supervisor's co-signature (R-32b). Nothing here reveals the price."""
    lot = lock_lot(work, lot_id)
    catch_up(work, lot)
    now = work.now()
    if not lot.has_reserve:
        raise Problem(409, "RESERVE_NOT_EXPECTED", "该地块未设底价")
    if lot.status != "listing" or not lot.listing_end - IMPORT_WINDOW <= now < lot.listing_end:
        raise Problem(
            409, "RESERVE_WINDOW_CLOSED", "不在底价导入时间内", "底价只能在挂牌截止前30分钟内导入"
        )
    if work.session.get(SealedReserveRow, lot.id) is not None:
        raise Problem(409, "RESERVE_ALREADY_SET", "该地块底价已导入")
    sealed, signer = _verified(work, lot, sealed_b64, anchors)
    assert work.actor.user_id is not None
    work.session.add(
        SealedReserveRow(
            lot_id=lot.id,
            ciphertext=sealed.ciphertext,
            signer_user_id=signer.id,
            signer_cert_serial=signer.cert_serial,
            imported_by=work.actor.user_id,
            imported_at=now,
        )
    )
    record(
        work,
        "reserve.imported",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        data={
            "supervisor_user_id": signer.id,
            "supervisor_cert_serial": signer.cert_serial,
            "sealed_sha256": certificates.fingerprint_bytes(sealed.ciphertext),
        },
    )


def _verified(
    work: Work, lot: Lot, sealed_b64: str, anchors: list[x509.Certificate]
) -> tuple[SealedReserve, User]:
    try:
        sealed = SealedReserve.from_bytes(base64.b64decode(sealed_b64, validate=True))
    except (SealInvalid, binascii.Error, ValueError):
        raise _invalid("文件格式不正确") from None
    if sealed.lot_code != lot.code:
        raise _invalid("密封文件不是为本地块制作的")
    try:
        cert = certificates.verify_certificate(sealed.signer_certificate, anchors, wall_now())
        certificates.verify_possession(cert, sealed.signed_text(), sealed.signature)
    except certificates.CertificateRejected:
        raise _invalid("监督人员签名无法验证") from None
    signer = work.session.scalars(
        select(User).where(User.cert_fingerprint == certificates.fingerprint(cert))
    ).one_or_none()
    if signer is None or "supervisor" not in signer.roles:
        raise _invalid("签名证书不属于监督人员")
    try:
        work.sealing_key.open(sealed.ciphertext, lot.code)
    except SealInvalid:
        raise _invalid("密封文件无法用本系统密钥打开") from None
    return sealed, signer


def has_sealed_reserve(work: Work, lot: Lot) -> bool:
    return work.session.get(SealedReserveRow, lot.id) is not None


def open_reserve(work: Work, lot: Lot) -> int | None:
    """The decision opens the reserve (R-11); None when the lot has none."""
    return open_reserves(work, [lot]).get(lot.id)


def _reserves(session: Session, lot_ids: list[int]) -> list[SealedReserveRow]:
    """The lots' sealed reserves: those this transaction has read already without asking
    the database again (a decision opens them, then writes the result with them)."""
    rows = [session.identity_map.get(session.identity_key(SealedReserveRow, i)) for i in lot_ids]
    known = [row for row in rows if row is not None]
    missing = [i for i, row in zip(lot_ids, rows, strict=True) if row is None]
    if missing:
        known += session.scalars(
            select(SealedReserveRow).where(SealedReserveRow.lot_id.in_(missing))
        ).all()
    return known


def open_reserves(work: Work, lots: Sequence[Lot]) -> dict[int, int]:
    """The decisions open the lots' reserves (R-11), read in one statement: the price by
    lot id, for the lots that have one."""
    with_reserve = [lot for lot in lots if lot.has_reserve]  # only these can have had one
    if not with_reserve:
        return {}
    codes = {lot.id: lot.code for lot in with_reserve}
    rows = _reserves(work.session, list(codes))
    sealed = [row for row in rows if row.price_fen is None]
    prices = work.sealing_key.open_all([(row.ciphertext, codes[row.lot_id]) for row in sealed])
    for row, price_fen in zip(sealed, prices, strict=True):
        row.price_fen, row.opened_at = price_fen, work.now()
    record_all(
        work,
        [
            Entry("reserve.opened", "lot", stream=lot_stream(row.lot_id), object_id=row.lot_id)
            for row in sealed
        ],
    )
    return {row.lot_id: row.price_fen for row in rows if row.price_fen is not None}
