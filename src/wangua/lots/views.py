"""The lot as the API and the pages show it (API.md, Lots), with what it shows from
other tables (the leader's bidder number, the result, the confirmation, documents and
supplements) read in a fixed number of statements however many lots are shown."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from wangua.announcements.models import Supplement
from wangua.announcements.service import supplement_view
from wangua.applications.models import Application
from wangua.bidding.models import Result
from wangua.documents.models import Document
from wangua.documents.service import document_view
from wangua.lots import service
from wangua.lots.models import Lot
from wangua.results.confirmation import confirmation_view

Row = tuple[Lot, Result | None, str | None]
"""A lot with its result and its leader's bidder number, as `with_parts` reads them."""


def with_parts(lots: Select[Any]) -> Select[Any]:
    """A query of lots that also reads each one's result and leader's bidder number in the
    same statement: its rows are `Row`s."""
    return (
        lots.add_columns(Result, Application.bidder_number)
        .outerjoin(Result, Result.lot_id == Lot.id)
        .outerjoin(Application, Application.id == Lot.leader_application_id)
    )


def view(session: Session, lot: Lot) -> dict[str, Any]:
    return views_of(session, [lot])[0]


def views_of(session: Session, lots: Sequence[Lot]) -> list[dict[str, Any]]:
    """The views of lots already read, in their order."""
    read = session.execute(with_parts(select(Lot).where(Lot.id.in_([lot.id for lot in lots]))))
    rows: dict[int, Row] = {row[0].id: row for row in read}
    return views(session, [rows[lot.id] for lot in lots])


def views(session: Session, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The public views of the lots of `rows`, in their order."""
    if not rows:
        return []
    ids = [lot.id for lot, _, _ in rows]
    documents: defaultdict[int, list[Document]] = defaultdict(list)
    for document in session.scalars(
        select(Document)
        .where(Document.lot_id.in_(ids), Document.superseded_by.is_(None))
        .order_by(Document.id)
    ):
        documents[document.lot_id].append(document)
    supplements: defaultdict[int, list[Supplement]] = defaultdict(list)
    for supplement in session.scalars(
        select(Supplement).where(Supplement.lot_id.in_(ids)).order_by(Supplement.id)
    ):
        supplements[supplement.lot_id].append(supplement)
    return [
        {
            **service.public_view(lot, leader, result),
            "confirmation": confirmation_view(session, result),
            "documents": [document_view(d, lot.asset_type) for d in documents[lot.id]],
            "supplements": [supplement_view(s) for s in supplements[lot.id]],
        }
        for lot, result, leader in rows
    ]
