"""R-32a: every action of a whole auction is in the lot's audit stream, with its actor."""

from __future__ import annotations

from sqlalchemy import select

from tests.api.bidding_support import deadline, listing_lot, result, to_timed_bidding
from tests.harness import Account, Stack
from wangua.audit.checkpoints import SigningKey
from wangua.audit.models import AuditEntry
from wangua.audit.service import lot_stream
from wangua.audit.verify import verify


def lot_record(stack: Stack, lot_id: int) -> list[tuple[str, str, int | None, str | None]]:
    with stack.runtime.read() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.stream == lot_stream(lot_id))
            .order_by(AuditEntry.seq)
        )
        return [(e.action, e.actor_role, e.actor_user_id, e.actor_cert_serial) for e in entries]


def user_id(account: Account) -> int:
    return int(account.http.get("/api/v1/me").json()["id"])


def test_r32a_a_whole_auction_is_in_the_record_with_its_actors(
    stack: Stack, staff: Account
) -> None:
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    assert stack.quote(a, lot, "120000000.00").status_code == 201
    assert stack.quote(b, lot, "121000000.00").status_code == 201
    assert stack.quote(b, lot, "121000000.00").status_code == 409  # refused: not recorded
    to_timed_bidding(stack, lot, [a])
    assert stack.quote(a, lot, "122000000.00").status_code == 201
    stack.advance_to(deadline(stack, lot))
    assert result(stack, lot)["outcome"] == "sold"

    record = lot_record(stack, lot["id"])
    who = {user_id(staff): "staff", user_id(a): "a", user_id(b): "b"}
    assert [(action, role, who.get(uid)) for action, role, uid, _ in record] == [
        ("lot.created", "staff", "staff"),
        ("lot.published", "staff", "staff"),
        ("application.submitted", "bidder", "a"),
        ("application.qualified", "bank", None),
        ("payment.matched", "bank", None),
        ("application.submitted", "bidder", "b"),
        ("application.qualified", "bank", None),
        ("payment.matched", "bank", None),
        ("lot.listing_opened", "system", None),
        ("quote.accepted", "bidder", "a"),
        ("quote.accepted", "bidder", "b"),
        ("lot.deposits_closed", "system", None),
        ("lot.inquiry_opened", "system", None),
        ("inquiry.answered", "bidder", "a"),
        ("lot.timed_bidding_started", "system", None),
        ("quote.accepted", "bidder", "a"),
        ("lot.decided", "system", None),
        ("deposits.settled", "system", None),
    ]
    # people act with their certificate; the bank and the system have none
    assert all((serial is not None) == (uid is not None) for _, _, uid, serial in record)
    with stack.runtime.read() as session:
        report = verify(session, SigningKey(stack.runtime.settings.resolved_audit_key_dir))
    assert report.failure is None, report.failure
