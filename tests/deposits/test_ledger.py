"""Deposit accounting without a database (R-16b, R-30a, R-30b, R-44)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from wangua.deposits import ledger
from wangua.deposits.calendar import shanghai_date
from wangua.deposits.refunds import REFUND_WORKING_DAYS
from wangua.kit.workdays import Schedule, add_working_days

DEADLINE = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
DEPOSIT = 2_400_000_00


def test_r30b_lot_ending_2025_09_30_has_refunds_due_2025_10_14() -> None:
    # 23:30 in Shanghai on 30 September is still 30 September there.
    ended = datetime(2025, 9, 30, 15, 30, tzinfo=UTC)
    due = add_working_days(shanghai_date(ended), REFUND_WORKING_DAYS)
    # 10-09, 10-10, Saturday 10-11 (adjusted working day), 10-13, 10-14
    assert due.day == date(2025, 10, 14) and not due.assumed


def test_r30b_refunds_across_spring_festival_2025() -> None:
    ended = datetime(2025, 1, 27, 2, 0, tzinfo=UTC)  # the last working day before the holiday
    due = add_working_days(shanghai_date(ended), REFUND_WORKING_DAYS)
    # the holiday is 01-28 … 02-04; 02-05, 02-06, 02-07, Saturday 02-08 (worked), 02-10
    assert due.day == date(2025, 2, 10)


def test_r30b_a_loaded_schedule_counts_its_adjusted_weekend() -> None:
    holidays = frozenset(date(2099, 10, d) for d in range(1, 8))
    schedule = Schedule(holidays=holidays, workdays=frozenset({date(2099, 10, 10)}))
    counted = add_working_days(date(2099, 9, 30), 5, {2099: schedule})
    # 10-08 (Thu), 10-09 (Fri), Saturday 10-10 (worked), 10-12, 10-13
    assert counted.day == date(2099, 10, 13) and not counted.assumed
    assert add_working_days(date(2099, 9, 30), 5).assumed


def test_r30b_interest_is_simple_daily_interest_rounded_half_up_to_the_fen() -> None:
    # 1,000,000.00 yuan at 0.35 % a year for 3 days = 28.767... yuan -> 28.77
    assert ledger.interest_fen(100_000_000, 35, 3) == 2_877
    assert ledger.interest_fen(73, 10_000, 1) == 0  # 0.2 fen
    assert ledger.interest_fen(183, 10_000, 1) == 1  # 0.501 fen
    assert ledger.interest_fen(365, 5_000, 1) == 1  # exactly 0.5 fen goes up
    assert ledger.interest_fen(100_000_000, 35, 0) == 0
    assert ledger.days_late(date(2026, 10, 13), date(2026, 10, 12)) == 0
    assert ledger.days_late(date(2026, 10, 13), date(2026, 10, 16)) == 3


def test_r30a_winner_deposit_becomes_earnest_and_the_excess_is_due() -> None:
    payments = [
        ledger.PaymentFact(1, 1_000_000_00, DEADLINE - timedelta(days=2), 7),
        ledger.PaymentFact(2, 2_000_000_00, DEADLINE - timedelta(days=1), 7),
        ledger.PaymentFact(3, 500_00, DEADLINE + timedelta(seconds=1), 7),
        ledger.PaymentFact(4, DEPOSIT, DEADLINE, 8, payer_verified=False),
    ]
    shares = ledger.settle(DEPOSIT, DEADLINE, payments, winner=7)
    assert [(s.payment, s.amount_fen, s.status) for s in shares if s.application_id == 7] == [
        (1, 1_000_000_00, "earnest"),
        (2, 1_400_000_00, "earnest"),
        (2, 600_000_00, "due"),
        (3, 500_00, "due"),
    ]
    assert [(s.amount_fen, s.status) for s in shares if s.application_id == 8] == [
        (DEPOSIT, "held")
    ]


def test_r17_a_winner_on_a_guarantee_gets_all_its_cash_back() -> None:
    payments = [ledger.PaymentFact(1, DEPOSIT, DEADLINE, 7)]
    shares = ledger.settle(DEPOSIT, DEADLINE, payments, winner=7, winner_guaranteed=True)
    assert [(s.amount_fen, s.status) for s in shares] == [(DEPOSIT, "due")]


@st.composite
def payment_streams(draw: st.DrawFn) -> tuple[list[ledger.PaymentFact], list[int]]:
    """Split, late, duplicated (same bank txn twice), unmatched and over-paid credits."""
    messages: list[tuple[int, ledger.PaymentFact]] = []
    for key in range(draw(st.integers(0, 25))):
        application = draw(st.sampled_from([None, 1, 2, 3]))
        kind = draw(st.sampled_from(["full", "split", "over", "tiny"]))
        amount = {
            "full": DEPOSIT,
            "split": draw(st.integers(1, DEPOSIT)),
            "over": DEPOSIT + draw(st.integers(1, DEPOSIT)),
            "tiny": draw(st.integers(1, 100)),
        }[kind]
        offset = draw(st.integers(-10 * 86400, 2 * 86400))  # late when positive
        fact = ledger.PaymentFact(
            key,
            amount,
            DEADLINE + timedelta(seconds=offset),
            application,
            payer_verified=draw(st.booleans()),
        )
        messages.append((key, fact))
        if draw(st.booleans()):
            messages.append((key, fact))  # the bank sends it again
    seen: set[int] = set()
    accepted = []
    for key, fact in messages:  # idempotent by txn id, as the endpoint is
        if key not in seen:
            seen.add(key)
            accepted.append(fact)
    outcomes = draw(st.lists(st.integers(0, 3), min_size=len(accepted), max_size=len(accepted)))
    return accepted, outcomes


@settings(max_examples=300, deadline=None)
@given(payment_streams(), st.sampled_from([None, 1, 2, 3]), st.booleans(), st.booleans())
def test_money_is_conserved_and_nobody_qualifies_without_the_full_deposit_on_time(
    stream: tuple[list[ledger.PaymentFact], list[int]],
    winner_choice: int | None,
    ended: bool,
    forfeit: bool,
) -> None:
    payments, outcomes = stream
    received = sum(p.amount_fen for p in payments)

    # R-16b: qualification needs the full deposit credited by the deadline.
    for application in (1, 2, 3):
        own = [p for p in payments if p.application_id == application]
        on_time = sum(p.amount_fen for p in own if p.paid_at <= DEADLINE)
        assert ledger.qualifies(DEPOSIT, own, DEADLINE) == (on_time >= DEPOSIT)
        late_only = [p for p in own if p.paid_at > DEADLINE]
        assert not ledger.qualifies(DEPOSIT, late_only, DEADLINE)

    matched = [p for p in payments if p.application_id is not None]
    qualified = {
        a
        for a in (1, 2, 3)
        if ledger.qualifies(DEPOSIT, [p for p in matched if p.application_id == a], DEADLINE)
    }
    winner = winner_choice if winner_choice in qualified else None
    shares = ledger.settle(DEPOSIT, DEADLINE, matched, winner) if ended else []

    # Each payment is split into parts that add up to it, and only the winner has earnest.
    for payment in matched if ended else []:
        parts = [s for s in shares if s.payment == payment.key]
        assert sum(s.amount_fen for s in parts) == payment.amount_fen
        assert all(s.amount_fen > 0 for s in parts)
    earnest = sum(s.amount_fen for s in shares if s.status == "earnest")
    assert earnest == (DEPOSIT if ended and winner is not None else 0)
    assert all(s.application_id == winner for s in shares if s.status == "earnest")

    # Staff and banks act on the rows: some refunds are paid, the earnest may be forfeited.
    rows = []
    for share, outcome in zip(shares, outcomes * 2 + [0] * len(shares), strict=False):
        status: str = share.status
        if status == "due" and outcome == 1:
            status = "paid"
        if status == "held" and outcome == 2:
            status = "due"
        if status == "earnest" and forfeit:
            status = "forfeited"
        rows.append((share.payment, share.amount_fen, status))

    result = ledger.balance(payments, rows)
    assert result.received == received
    assert result.balanced
    b = result.buckets
    assert received == (
        b["paid"]
        + b["earnest"]
        + b["held"]
        + b["forfeited"]
        + b["due"]
        + b["pending"]
        + b["unmatched"]
    )
    assert b["unmatched"] == sum(p.amount_fen for p in payments if p.application_id is None)
    if not ended:
        assert b["pending"] == sum(p.amount_fen for p in matched)
