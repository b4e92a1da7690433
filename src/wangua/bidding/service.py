"""Quoting, the deadline inquiry, proxies (R-18 … R-27): one transaction each.

Every writer locks the lot, catches its timers up to the present, reads the
time, judges with the pure rules, and only then writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from wangua.applications.models import Application
from wangua.applications.repository import application_of
from wangua.audit.service import lot_stream, record
from wangua.bidding import rules
from wangua.bidding.lifecycle import restart_countdown
from wangua.bidding.models import InquiryAnswer, Proxy, Quote
from wangua.bidding.repository import Quoting, last_receipt, lock_quoting, quoting
from wangua.cap.service import reach_cap
from wangua.kit.messages import N_
from wangua.kit.money import format_fen
from wangua.kit.problems import Problem, not_found
from wangua.kit.times import rfc3339
from wangua.live.events import emit
from wangua.lots.models import Lot
from wangua.lots.repository import lock_lot
from wangua.monitoring import metrics
from wangua.runtime import Work
from wangua.scheduler.service import judged_after_timers

REFUSALS: dict[rules.Refusal, tuple[int, str]] = {
    rules.Refusal.NOT_QUALIFIED: (403, N_("您在该地块没有竞买资格")),
    rules.Refusal.NOT_OPEN: (409, N_("当前不在报价时间内")),
    rules.Refusal.NOT_A_PARTICIPANT: (403, N_("您未参加本宗地的网上限时竞价")),
    rules.Refusal.ALREADY_HIGHEST: (409, N_("您已是当前最高报价者,不能连续报价")),
    rules.Refusal.ABOVE_PRICE_CAP: (422, N_("报价超过最高限价")),
    rules.Refusal.BELOW_START_PRICE: (422, N_("首次报价不得低于起始价")),
    rules.Refusal.INCREMENT_TOO_SMALL: (422, N_("加价幅度不得小于规定的增价幅度")),
}


def refusal_problem(
    refused: rules.Refusal, amount_fen: int, standing: rules.Standing, received_at: datetime
) -> Problem:
    """The refusal as the API answers it, counted by code, with the receipt time the quote
    was judged at (R-18: a quote refused as late is told when the server received it). A
    quote too small for the current price (R-19b) is told that price (public in the lot
    view), so a client can quote again without asking for it."""
    status, title = REFUSALS[refused]
    metrics.QUOTES_REFUSED.labels(code=refused.value).inc()
    extra = {"received_at": rfc3339(received_at)}
    if refused is rules.Refusal.INCREMENT_TOO_SMALL and standing.highest_fen is not None:
        extra["current_price"] = format_fen(standing.highest_fen)
    detail = f"{title}(报价 {format_fen(amount_fen)} 元)"
    return Problem(status, refused.value, title, detail, **extra)


_INSERT_QUOTE = insert(Quote).returning(Quote.id)


@dataclass(frozen=True)
class Placed:
    quote: Quote
    bidder_number: str
    created: bool
    standing: rules.Standing  # the lot's, after the quote


def standing(lot: Lot) -> rules.Standing:
    return rules.Standing(
        start_fen=lot.start_price_fen,
        increment_fen=lot.increment_fen,
        cap_fen=lot.price_cap_fen,
        highest_fen=lot.highest_fen,
        leader=lot.leader_application_id,
        window=rules.quoting_window(
            lot.status, lot.listing_start, lot.listing_end, lot.timed_deadline, lot.inquiry_end
        ),
    )


def quote_view(quote: Quote, bidder_number: str | None) -> dict[str, Any]:
    return {
        "seq": quote.seq,
        "amount": format_fen(quote.amount_fen),
        "bidder_number": bidder_number,
        "phase": quote.phase,
        "received_at": rfc3339(quote.received_at),
        "by_proxy": quote.by_proxy,
    }


def _joined(work: Work, lot: Lot, application: Application) -> bool:
    return bool(
        work.session.scalar(
            select(InquiryAnswer.joined).where(
                InquiryAnswer.lot_id == lot.id, InquiryAnswer.application_id == application.id
            )
        )
    )


def _quoting(
    work: Work, lot: Lot, request_id: str | None, received_at: datetime | None = None
) -> Quoting:
    due_by = work.now() if received_at is None else received_at
    seen = quoting(work.session, lot.id, work.actor.user_id, request_id, due_by=due_by)
    assert seen is not None  # the lot is locked
    return seen


def _lock_quoting(
    work: Work,
    lot_id: int,
    request_id: str | None,
    received_at: datetime,
    before_queueing: Callable[[], None] | None,
) -> tuple[Lot, Quoting] | None:
    """The lot locked and the caller's place on it, in one statement unless another
    transaction holds the lock (PostgreSQL). Read again once this one has waited for the
    lock, or when the statement found the lot's row changed by a transaction that
    committed while it ran: the statement saw the lot's row as that transaction left it,
    but every other row as it was before (READ COMMITTED), so the lot's latest quote, if
    that transaction added it, was missing, and with it that quote's receipt time."""
    user_id = work.actor.user_id
    locked = lock_quoting(
        work.session, lot_id, user_id, request_id, received_at, unless_held=work.is_postgres
    )
    waited = locked is None and work.is_postgres
    if waited:
        if before_queueing is not None:
            before_queueing()
        locked = lock_quoting(work.session, lot_id, user_id, request_id, received_at)
    if locked is None:
        return None
    lot, seen = locked
    if waited or (lot.quote_count and seen.last_received_at is None):
        seen = _quoting(work, lot, request_id, received_at)
    return lot, seen


def place_quote(
    work: Work,
    lot_id: int,
    amount_fen: int,
    request_id: str | None,
    received_at: datetime,
    *,
    before_queueing: Callable[[], None] | None = None,
) -> Placed:
    """R-19a … R-25c: judge the quote at the server's receipt time; accept or refuse.

    The receipt time is `received_at`, stamped when the request reached the server
    (bidding.receipts). A lot's receipt times never go backwards: a quote that arrived
    before the lot's latest quote but is judged after it (that one reached another
    process, or came by proxy from a later call) is received at that quote's time, still
    before the deadline it was accepted under.

    `before_queueing` runs when another transaction holds the lot's lock, before this
    one waits for it: it may refuse a plainly stale quote at once (bidding.prejudge)."""
    locked = _lock_quoting(work, lot_id, request_id, received_at, before_queueing)
    if locked is None:
        raise not_found("地块")
    lot, seen = locked
    _received(work, received_at, seen.last_received_at)
    if seen.timers_due:  # a bid at the deadline closes the lot; the settlement is left to
        judged_after_timers(work, lot, follow_ups=False)  # the scheduler, not to the answer
        seen = _quoting(work, lot, request_id)
    if seen.earlier_quote_id is not None:
        earlier = work.session.get(Quote, seen.earlier_quote_id)
        assert earlier is not None
        return Placed(earlier, seen.bidder_number or "", False, standing(lot))
    now = work.now()
    judged = standing(lot)
    refused = rules.refusal(judged, seen.bidder, amount_fen, now)
    if refused is not None:
        raise refusal_problem(refused, amount_fen, judged, now)
    quote = accept(
        work,
        lot,
        seen.bidder.application_id,
        seen.bidder_number,
        amount_fen,
        now,
        request_id=request_id,
        by_proxy=False,
    )
    run_proxies(work, lot)
    return Placed(quote, seen.bidder_number or "", True, standing(lot))


def accept(
    work: Work,
    lot: Lot,
    application_id: int,
    bidder_number: str | None,
    amount_fen: int,
    at: datetime,
    *,
    request_id: str | None,
    by_proxy: bool,
) -> Quote:
    """Record an accepted quote: irrevocable (R-20), published at once (R-19c)."""
    phase = rules.Phase.TIMED if lot.status == "timed_bidding" else rules.Phase.LISTING
    lot.quote_count += 1
    values: dict[str, Any] = {
        "lot_id": lot.id,
        "seq": lot.quote_count,
        "application_id": application_id,
        "amount_fen": amount_fen,
        "phase": phase.value,
        "received_at": at,
        "by_proxy": by_proxy,
        "request_id": request_id,
    }
    quote = Quote(**values)  # written below in one statement, not through a flush
    quote.id = work.session.connection().execute(_INSERT_QUOTE, values).scalar_one()
    lot.highest_fen = amount_fen
    lot.leader_application_id = application_id
    if phase is rules.Phase.TIMED:
        restart_countdown(work, lot, at)
    data = quote_view(quote, bidder_number)
    data["timed_deadline"] = rfc3339(lot.timed_deadline) if phase is rules.Phase.TIMED else None
    data["next_minimum"] = format_fen(rules.next_minimum(standing(lot)))
    emit(work, lot, "quote", data)
    if lot.capped:
        reach_cap(work, lot, at)
    metrics.QUOTES_ACCEPTED.inc()
    record(
        work,
        "quote.accepted",
        stream=lot_stream(lot.id),
        object_type="quote",
        object_id=quote.seq,
        data={
            "amount_fen": amount_fen,
            "application_id": application_id,
            "phase": phase.value,
            "by_proxy": by_proxy,
        },
        at=at,
    )
    return quote


def active_proxies(work: Work, lot: Lot) -> list[Proxy]:
    return list(
        work.session.scalars(
            select(Proxy)
            .where(Proxy.lot_id == lot.id, Proxy.cancelled_at.is_(None))
            .order_by(Proxy.set_seq)
        )
    )


def run_proxies(work: Work, lot: Lot) -> None:
    """R-26: proxy bids triggered by a call are placed before the call answers."""
    if lot.status != "timed_bidding" or lot.highest_fen is None:
        return
    proxies = active_proxies(work, lot)
    if not proxies:
        return
    orders = [rules.ProxyOrder(p.application_id, p.max_fen, p.set_seq) for p in proxies]
    bids = rules.proxy_bids(
        lot.highest_fen, lot.leader_application_id, lot.increment_fen, lot.price_cap_fen, orders
    )
    applications = {
        p.application_id: work.session.get(Application, p.application_id) for p in proxies
    }
    for bid in bids:
        application = applications[bid.application_id]
        assert application is not None
        accept(
            work,
            lot,
            application.id,
            application.bidder_number,
            bid.amount_fen,
            work.now(),
            request_id=None,
            by_proxy=True,
        )


def _participant(work: Work, lot: Lot) -> Application:
    application = application_of(work.session, lot.id, work.actor.user_id)
    if (
        application is None
        or application.status != "qualified"
        or not _joined(work, lot, application)
    ):
        raise Problem(403, "NOT_A_PARTICIPANT", "您未参加本宗地的网上限时竞价")
    return application


def _in_timed_bidding(work: Work, lot: Lot) -> None:
    if (
        lot.status != "timed_bidding"
        or lot.timed_deadline is None
        or work.now() >= lot.timed_deadline
    ):
        raise Problem(409, "NOT_IN_TIMED_BIDDING", "当前不在网上限时竞价阶段")


def _received(work: Work, received_at: datetime, latest: datetime | None) -> None:
    """R-18: the request was received at `received_at`, but never before the lot's latest
    quote (`latest`): the lot's receipt times do not go backwards."""
    work.received(received_at if latest is None else max(received_at, latest))


def set_proxy(
    work: Work, lot_id: int, max_fen: int, max_steps: int, received_at: datetime | None = None
) -> Proxy:
    """R-26: hand bidding to a proxy with a maximum; it bids at once if someone else leads.
    Judged, and its bid placed, at its receipt time: `received_at` when stamped on
    arrival (never before the lot's latest quote), else now."""
    lot = lock_lot(work, lot_id)
    if received_at is not None:
        _received(work, received_at, last_receipt(work.session, lot.id))
    judged_after_timers(work, lot)
    _in_timed_bidding(work, lot)
    application = _participant(work, lot)
    minimum = rules.next_minimum(standing(lot))
    if max_fen < minimum:
        raise Problem(
            422,
            "PROXY_MAX_TOO_LOW",
            "委托最高限价低于下一口最低报价",
            f"委托最高限价不得低于 {format_fen(minimum)} 元",
        )
    if (max_fen - minimum) // lot.increment_fen > max_steps:
        raise Problem(
            422,
            "PROXY_MAX_TOO_HIGH",
            "委托最高限价超出单次委托允许的范围",
            f"委托最高限价最多为下一口最低报价之上 {max_steps} 个增价幅度",
        )
    now = work.now()
    _cancel_proxy(work, lot, application, now)
    lot.proxy_seq += 1
    proxy = Proxy(
        lot_id=lot.id,
        application_id=application.id,
        max_fen=max_fen,
        set_at=now,
        set_seq=lot.proxy_seq,
    )
    work.session.add(proxy)
    record(
        work,
        "proxy.set",
        stream=lot_stream(lot.id),
        object_type="proxy",
        object_id=application.id,
        data={"max_fen": max_fen, "set_seq": lot.proxy_seq},
    )
    work.session.flush()
    run_proxies(work, lot)
    return proxy


def cancel_proxy(work: Work, lot_id: int, received_at: datetime | None = None) -> None:
    """R-26: the bidder may cancel the proxy at any time and bid by hand; the proxy bids
    for nothing received after the cancellation's receipt (`received_at`, as set_proxy)."""
    lot = lock_lot(work, lot_id)
    if received_at is not None:
        _received(work, received_at, last_receipt(work.session, lot.id))
    judged_after_timers(work, lot)
    application = application_of(work.session, lot.id, work.actor.user_id)
    if application is None:
        raise Problem(403, "NOT_A_PARTICIPANT", "您未参加本宗地的网上限时竞价")
    if _cancel_proxy(work, lot, application, work.now()):
        record(
            work,
            "proxy.cancelled",
            stream=lot_stream(lot.id),
            object_type="proxy",
            object_id=application.id,
        )


def _cancel_proxy(work: Work, lot: Lot, application: Application, now: datetime) -> bool:
    proxies = work.session.scalars(
        select(Proxy).where(
            Proxy.lot_id == lot.id,
            Proxy.application_id == application.id,
            Proxy.cancelled_at.is_(None),
        )
    ).all()
    for proxy in proxies:
        proxy.cancelled_at = now
    return bool(proxies)


def answer_inquiry(
    work: Work, lot_id: int, join: bool, received_at: datetime | None = None
) -> InquiryAnswer:
    """R-21, R-22, R-24: a bidder with a valid listing quote answers within 5 minutes,
    judged at its receipt time: `received_at` when stamped on arrival, else now."""
    lot = lock_lot(work, lot_id)
    if received_at is not None:
        work.received(received_at)
    judged_after_timers(work, lot)
    now = work.now()
    if lot.status != "inquiry" or lot.inquiry_end is None or now >= lot.inquiry_end:
        raise Problem(409, "INQUIRY_CLOSED", "询问已结束或尚未开始")
    application = application_of(work.session, lot.id, work.actor.user_id)
    quoted = application is not None and work.session.scalar(
        select(Quote.id)
        .where(Quote.lot_id == lot.id, Quote.application_id == application.id)
        .limit(1)
    )
    if application is None or not quoted:
        raise Problem(403, "NOT_ELIGIBLE", "挂牌期内没有有效报价,不能参加限时竞价")
    answer = work.session.scalars(
        select(InquiryAnswer).where(
            InquiryAnswer.lot_id == lot.id, InquiryAnswer.application_id == application.id
        )
    ).one_or_none()
    if answer is None:
        answer = InquiryAnswer(
            lot_id=lot.id, application_id=application.id, joined=join, answered_at=now
        )
        work.session.add(answer)
    else:
        answer.joined, answer.answered_at = join, now
    record(
        work,
        "inquiry.answered",
        stream=lot_stream(lot.id),
        object_type="application",
        object_id=application.id,
        data={"join": join},
    )
    return answer
