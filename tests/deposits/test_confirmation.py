"""The winner signs the confirmation within 3 working days, recorded by staff; a signed
confirmation cannot be forfeited as missed or refused (R-28b, R-44, R-30a). SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from tests.deposits.support import due_after, let_lapse, refunds, sell
from tests.harness import Account, Stack
from wangua.audit.models import AuditEntry
from wangua.kit.times import SHANGHAI


def _sign(staff: Account, lot: dict[str, Any], note: str = "") -> Any:
    return staff.http.post(f"/api/v1/lots/{lot['id']}/confirmation/signature", json={"note": note})


def _forfeit(staff: Account, lot: dict[str, Any], cause: str) -> Any:
    return staff.http.post(
        f"/api/v1/lots/{lot['id']}/forfeiture", json={"cause": cause, "note": "书面决定"}
    )


def _statuses(finance: Account, lot: dict[str, Any], application: dict[str, Any]) -> list[str]:
    return [r["status"] for r in refunds(finance, lot) if r["application_id"] == application["id"]]


def _shanghai(day: str, hour: int) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)


def test_r28b_staff_record_the_signed_confirmation_and_it_shows_in_the_views(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    winner, loser = stack.bidder(), stack.bidder()
    won = stack.qualified(winner, lot)
    lost = stack.qualified(loser, lot)
    result = sell(stack, lot, winner)
    deadline = due_after(result["decided_at"], 3)
    pending = {"deadline": deadline, "signed_at": None}
    assert result["confirmation"] == pending
    assert stack.lot(lot["id"])["confirmation"] == pending
    # only staff of the lot's grantor record it
    assert _sign(finance, lot).status_code == 403
    county = _sign(stack.account("staff", "tongshan"), lot)
    assert county.status_code == 403 and county.json()["code"] == "FORBIDDEN"
    # signed on the last day of the 3 working days: in time
    stack.advance_to(_shanghai(deadline, 16))
    done = _sign(staff, lot, "竞得人法定代表人到场签订")
    assert done.status_code == 201, done.text
    signed = done.json()
    assert datetime.fromisoformat(signed.pop("signed_at")) == stack.now()
    assert signed == {
        "lot_id": lot["id"],
        "application_id": won["id"],
        "deadline": deadline,
        "recorded_by": staff.username,
        "note": "竞得人法定代表人到场签订",
    }
    shown = {"deadline": deadline, "signed_at": done.json()["signed_at"]}
    assert shown["signed_at"].endswith("Z")
    public = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/result").json()
    assert public["confirmation"] == shown
    assert stack.lot(lot["id"])["confirmation"] == shown
    again = _sign(staff, lot)
    assert again.status_code == 409 and again.json()["code"] == "CONFIRMATION_ALREADY_SIGNED"
    staff_id = staff.http.get("/api/v1/me").json()["id"]
    with stack.runtime.read() as session:
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.stream == f"lot:{lot['id']}", AuditEntry.action == "confirmation.signed"
            )
        ).all()
    assert [(e.actor_user_id, e.object_id) for e in entries] == [(staff_id, str(lot["id"]))]
    # the deposit stays earnest money (R-30a); the others are refunded as before
    assert _statuses(finance, lot, won) == ["earnest"]
    assert _statuses(finance, lot, lost) == ["due"]


def test_r28b_r44_a_signed_confirmation_is_not_forfeited_as_missed_or_refused(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    winner = stack.bidder()
    won = stack.qualified(winner, lot)
    result = sell(stack, lot, winner)
    assert _sign(staff, lot).status_code == 201
    stack.advance_to(_shanghai(due_after(result["decided_at"], 3), 9) + timedelta(days=1))
    for cause in ("missed_confirmation", "refused_confirmation"):
        refused = _forfeit(staff, lot, cause)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "CONFIRMATION_SIGNED"
    assert _statuses(finance, lot, won) == ["earnest"]
    # refusing the contract after signing the confirmation still forfeits
    contract = _forfeit(staff, lot, "refused_contract")
    assert contract.status_code == 200, contract.text
    assert _statuses(finance, lot, won) == ["forfeited"]


def test_r28b_a_signing_after_the_deadline_is_refused_and_the_deposit_may_be_forfeited(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    winner = stack.bidder()
    won = stack.qualified(winner, lot)
    result = sell(stack, lot, winner)
    deadline = due_after(result["decided_at"], 3)
    stack.advance_to(_shanghai(deadline, 9) + timedelta(days=1))
    late = _sign(staff, lot)
    assert late.status_code == 409 and late.json()["code"] == "CONFIRMATION_OVERDUE"
    assert deadline in late.json()["detail"]
    assert stack.lot(lot["id"])["confirmation"] == {"deadline": deadline, "signed_at": None}
    assert _forfeit(staff, lot, "missed_confirmation").status_code == 200
    assert _statuses(finance, lot, won) == ["forfeited"]


def test_r28b_nothing_to_sign_once_forfeited_voided_or_unsold(
    stack: Stack, staff: Account, finance: Account
) -> None:
    refused = stack.published_lot(staff)
    winner = stack.bidder()
    stack.qualified(winner, refused)
    sell(stack, refused, winner)
    assert _forfeit(staff, refused, "abandoned").status_code == 200
    after = _sign(staff, refused)
    assert after.status_code == 409 and after.json()["code"] == "DEPOSIT_FORFEITED"
    assert stack.lot(refused["id"])["confirmation"]["signed_at"] is None

    voided = stack.published_lot(staff)
    voided_winner = stack.bidder()
    won = stack.qualified(voided_winner, voided)
    sell(stack, voided, voided_winner)
    assert (
        staff.http.post(
            f"/api/v1/lots/{voided['id']}/void", json={"cause": 2, "note": "恶意串通"}
        ).status_code
        == 200
    )
    void = _sign(staff, voided)
    assert void.status_code == 409 and void.json()["code"] == "NOT_CONFIRMABLE"
    assert _statuses(finance, voided, won) == ["earnest"]

    unsold = stack.published_lot(staff)
    lapsed = let_lapse(stack, unsold)
    assert lapsed["confirmation"] is None and stack.lot(unsold["id"])["confirmation"] is None
    nothing = _sign(staff, unsold)
    assert nothing.status_code == 409 and nothing.json()["code"] == "NOT_CONFIRMABLE"
