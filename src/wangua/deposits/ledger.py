"""Deposit accounting as pure functions: no database, no clock (R-16b, R-30a, R-30b, R-44).

Every fen received is, at any moment, in exactly one bucket: `pending` (its lot has
not ended), `unmatched` (no application yet), or the status of a refund row
(`due`, `paid`, `held`, `earnest`, `forfeited`). `settle` splits each payment into
rows that add up to it, so money is conserved by construction and checked by
`balance`.

Interest on a late refund (R-30b) is simple interest on the principal for the
calendar days between the due date and the day paid (both in Asia/Shanghai):
``amount_fen × rate_bp × days / (10000 × 365)``, rounded to the fen half up
(0.5 fen and above goes up), computed in integers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Status = Literal["due", "paid", "held", "earnest", "forfeited"]
BUCKETS = ("pending", "unmatched", "due", "paid", "held", "earnest", "forfeited")
DAYS_PER_YEAR = 365
BP = 10_000


@dataclass(frozen=True)
class PaymentFact:
    """One credit as accounting sees it."""

    key: int
    amount_fen: int
    paid_at: datetime
    application_id: int | None
    payer_verified: bool = True


@dataclass(frozen=True)
class Share:
    """Part of one payment with one destination."""

    payment: int
    application_id: int | None
    amount_fen: int
    status: Status


def on_time_total(payments: Iterable[PaymentFact], deadline: datetime) -> int:
    """R-16b: what counts toward the deposit: matched credits by the deadline (inclusive)."""
    return sum(p.amount_fen for p in payments if p.paid_at <= deadline)


def qualifies(
    deposit_fen: int, payments: Iterable[PaymentFact], deadline: datetime, guarantee_fen: int = 0
) -> bool:
    """R-16b, R-17: the full deposit credited on time, or a guarantee covering it."""
    return guarantee_fen >= deposit_fen or on_time_total(payments, deadline) >= deposit_fen


def settle(
    deposit_fen: int,
    deadline: datetime,
    payments: Sequence[PaymentFact],
    winner: int | None,
    winner_guaranteed: bool = False,
) -> list[Share]:
    """R-30a, R-30b, R-41: what becomes of a lot's matched payments when it ends.

    The winner's deposit becomes earnest money, taken from its on-time payments in
    credit order; a winner standing on a guarantee keeps all its cash refundable.
    Everything else is refunded: `due`, or `held` where the payer is not verified.
    """
    by_application: dict[int | None, list[PaymentFact]] = defaultdict(list)
    for payment in payments:
        by_application[payment.application_id].append(payment)
    shares: list[Share] = []
    for application_id, own in by_application.items():
        ordered = sorted(own, key=lambda p: (p.paid_at, p.key))
        earnest_left = 0
        if (
            application_id is not None
            and application_id == winner
            and not winner_guaranteed
            and qualifies(deposit_fen, ordered, deadline)
        ):
            earnest_left = deposit_fen
        for payment in ordered:
            take = min(earnest_left, payment.amount_fen) if payment.paid_at <= deadline else 0
            earnest_left -= take
            if take:
                shares.append(Share(payment.key, application_id, take, "earnest"))
            rest = payment.amount_fen - take
            if rest:
                status: Status = "due" if payment.payer_verified else "held"
                shares.append(Share(payment.key, application_id, rest, status))
    return shares


def days_late(due: date, paid: date) -> int:
    return max(0, (paid - due).days)


def interest_fen(amount_fen: int, rate_bp: int, days: int) -> int:
    """R-30b: simple interest for `days` late at `rate_bp` (0.01 % a year), half up."""
    if amount_fen <= 0 or rate_bp <= 0 or days <= 0:
        return 0
    numerator = amount_fen * rate_bp * days
    denominator = BP * DAYS_PER_YEAR
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass
class Balance:
    received: int = 0
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))

    @property
    def accounted(self) -> int:
        return sum(self.buckets.values())

    @property
    def balanced(self) -> bool:
        return self.received == self.accounted


def balance(payments: Iterable[PaymentFact], rows: Iterable[tuple[int, int, str]]) -> Balance:
    """Received money against its buckets. `rows` are (payment key, amount, status)
    of refund rows; a payment without rows is pending (matched) or unmatched."""
    settled: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for key, amount, status in rows:
        settled[key].append((amount, status))
    result = Balance()
    for payment in payments:
        result.received += payment.amount_fen
        parts = settled.get(payment.key)
        if not parts:
            bucket = "unmatched" if payment.application_id is None else "pending"
            result.buckets[bucket] += payment.amount_fen
            continue
        for amount, status in parts:
            result.buckets[status] += amount
    return result
