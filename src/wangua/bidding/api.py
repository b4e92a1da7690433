"""Quoting and timed bidding endpoints (API.md, Quoting and timed bidding)."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy import select

from wangua.applications.repository import bidder_numbers
from wangua.bidding import service
from wangua.bidding.board import result_view
from wangua.bidding.models import Quote
from wangua.bidding.submission import (
    Received,
    in_turn,
    plain_lot_id,
    receipt_of,
    submit_quote,
)
from wangua.kit.money import format_fen, parse_amount
from wangua.kit.times import rfc3339
from wangua.lots.repository import get_lot
from wangua.runtime import Actor, Runtime
from wangua.web import (
    ObjectId,
    RuntimeDep,
    act_as,
    bearer_token_hash,
    link_next,
    page_limit,
    parse_cursor,
    role,
)

router = APIRouter(prefix="/api/v1", tags=["bidding"])
BIDDER = ("bidder",)
Bidder = Annotated[Actor, Depends(role(*BIDDER))]
JSON = "application/json"


class QuoteBody(BaseModel):
    amount: Any
    request_id: str | None = Field(default=None, min_length=1, max_length=64)


class InquiryBody(BaseModel):
    join: bool


class ProxyBody(BaseModel):
    max_amount: Any


class QuoteRoute(APIRoute):
    """R-18 … R-20: the route FastAPI makes of `place_quote`, except that a well-formed
    quote from a bidder whose sign-in token this process remembers (identity.tokens) is
    read and answered here, without FastAPI's dependency solving, validation and
    serialisation (about 0.5 ms of the interpreter a quote, a sixth of a refused one's).
    Any other request (malformed, unauthenticated, another role …) takes the whole route
    and gets the answer it always had; a quote answered here gets the answer the whole
    route gives it (tests/api/test_quote_route.py)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        whole = super().get_route_handler()

        async def handle(request: Request) -> Response:
            asked = await _plain_quote(request)
            if asked is None:
                return await whole(request)
            return await _answer(request, *asked)

        return handle


async def _plain_quote(request: Request) -> tuple[int, Actor, object, str | None] | None:
    """The lot, bidder, amount and request id of a well-formed quote from a remembered
    bidder; None for any other request."""
    rt: Runtime = request.app.state.runtime
    lot_id, hashed = plain_lot_id(request.path_params["lot_id"]), bearer_token_hash(request)
    actor = None if hashed is None else rt.tokens.remembered(hashed)
    if actor is None or BIDDER[0] not in actor.roles or lot_id is None:
        return None
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media != JSON:
        return None
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None
    if not isinstance(body, dict) or "amount" not in body:
        return None
    request_id = body.get("request_id")
    if request_id is not None and not (isinstance(request_id, str) and 0 < len(request_id) <= 64):
        return None
    return lot_id, act_as(actor, BIDDER), body["amount"], request_id


async def _answer(
    request: Request, lot_id: int, actor: Actor, amount: object, request_id: str | None
) -> Response:
    rt: Runtime = request.app.state.runtime
    receipt = await receipt_of(rt, request.scope, lot_id)
    try:
        view, created = await submit_quote(rt, actor, receipt, parse_amount(amount), request_id)
    finally:
        rt.receipts.judged(receipt)
    return JSONResponse(view, status_code=201 if created else 200)


async def place_quote(
    receipt: Received,
    lot_id: ObjectId,
    body: QuoteBody,
    response: Response,
    rt: RuntimeDep,
    actor: Bidder,
) -> dict[str, Any]:
    """R-18 … R-26: a quote (listing) or bid (timed), judged at the server's receipt time,
    the moment it arrived. The same `request_id` again returns the same quote with 200."""
    amount_fen = parse_amount(body.amount)
    view, created = await submit_quote(rt, actor, receipt, amount_fen, body.request_id)
    if not created:
        response.status_code = 200
    return view


router.add_api_route(
    "/lots/{lot_id}/quotes",
    place_quote,
    methods=["POST"],
    status_code=201,
    route_class_override=QuoteRoute,
)


@router.get("/lots/{lot_id}/quotes")
def list_quotes(
    lot_id: ObjectId,
    request: Request,
    response: Response,
    rt: RuntimeDep,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """Every accepted quote, oldest first; bidders appear by bidder number only (R-07)."""
    size = page_limit(limit, default=500, maximum=1000)
    after = parse_cursor(cursor)
    with rt.public_read() as session:
        get_lot(session, lot_id)
        quotes = list(
            session.scalars(
                select(Quote)
                .where(Quote.lot_id == lot_id, Quote.seq > after)
                .order_by(Quote.seq)
                .limit(size)
            )
        )
        numbers = bidder_numbers(session, {q.application_id for q in quotes})
    items = [service.quote_view(q, numbers.get(q.application_id)) for q in quotes]
    link_next(request, response, items, size, quotes[-1].seq if quotes else None)
    return items


@router.post("/lots/{lot_id}/inquiry")
async def answer_inquiry(
    receipt: Received, lot_id: ObjectId, body: InquiryBody, rt: RuntimeDep, actor: Bidder
) -> dict[str, Any]:
    """R-21, R-22, R-24: join (or decline) timed bidding within 5 minutes of the deadline,
    judged at the server's receipt time, the moment it arrived."""

    def answer() -> dict[str, Any]:
        with rt.work(actor) as work:
            answered = service.answer_inquiry(work, lot_id, body.join, receipt.received_at)
            lot = get_lot(work.session, lot_id)
            return {
                "join": answered.joined,
                "answered_at": rfc3339(answered.answered_at),
                "inquiry_end": rfc3339(lot.inquiry_end),
            }

    return await in_turn(rt, receipt, answer)


@router.put("/lots/{lot_id}/proxy")
async def set_proxy(
    receipt: Received, lot_id: ObjectId, body: ProxyBody, rt: RuntimeDep, actor: Bidder
) -> dict[str, Any]:
    """R-26: a proxy with a maximum; bids it triggers are placed before this answers.
    Received, like a quote, when it arrived."""
    max_fen = parse_amount(body.max_amount, field="max_amount")

    def setting() -> dict[str, Any]:
        with rt.work(actor) as work:
            proxy = service.set_proxy(
                work, lot_id, max_fen, rt.settings.proxy_max_steps, receipt.received_at
            )
            return {"max_amount": format_fen(proxy.max_fen), "set_at": rfc3339(proxy.set_at)}

    return await in_turn(rt, receipt, setting)


@router.delete("/lots/{lot_id}/proxy", status_code=204)
async def cancel_proxy(
    receipt: Received, lot_id: ObjectId, rt: RuntimeDep, actor: Bidder
) -> Response:
    def cancelling() -> None:
        with rt.work(actor) as work:
            service.cancel_proxy(work, lot_id, receipt.received_at)

    await in_turn(rt, receipt, cancelling)
    return Response(status_code=204)


@router.get("/lots/{lot_id}/result")
def get_result(lot_id: ObjectId, rt: RuntimeDep) -> dict[str, Any]:
    """The decision, with the rule that made it; 404 NOT_DECIDED before."""
    with rt.public_read() as session:
        get_lot(session, lot_id)
        return result_view(session, lot_id)
