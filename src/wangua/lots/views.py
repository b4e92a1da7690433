"""The lot as the API and the pages show it (API.md, Lots), with what it shows from
other tables (the leader's bidder number, the result, the confirmation, documents and
supplements) read in a fixed number of statements however many lots are shown."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
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

Parts = tuple[Result | None, str | None]
"""A lot's result and its leader's bidder number."""


def with_parts(lots: Select[Any]) -> Select[Any]:
    """A query of lots (or of their ids) that also reads each one's `Parts` in the same
    statement."""
    return (
        lots.add_columns(Result, Application.bidder_number)
        .outerjoin(Result, Result.lot_id == Lot.id)
        .outerjoin(Application, Application.id == Lot.leader_application_id)
    )


def view(session: Session, lot: Lot) -> dict[str, Any]:
    return views(session, [lot])[0]


def views(
    session: Session, lots: Sequence[Lot], parts: Mapping[int, Parts] | None = None
) -> list[dict[str, Any]]:
    """The public views of `lots`, in their order; `parts` when already read."""
    if not lots:
        return []
    ids = [lot.id for lot in lots]
    if parts is None:
        parts = {
            lot_id: (result, leader)
            for lot_id, result, leader in session.execute(
                with_parts(select(Lot.id)).where(Lot.id.in_(ids))
            )
        }
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
    shown = []
    for lot in lots:
        result, leader = parts.get(lot.id, (None, None))
        shown.append(
            {
                **service.public_view(lot, leader, result),
                "confirmation": confirmation_view(session, result),
                "documents": [document_view(d, lot.asset_type) for d in documents[lot.id]],
                "supplements": [supplement_view(s) for s in supplements[lot.id]],
            }
        )
    return shown
