"""The link to each bank (R-16a, R-30b): when it last made a correctly signed call.

Every signed call (notification, health poll, refund instructions, refund confirmation)
moves the bank's contact time, in its own small transaction, whatever the call's
outcome: the link works even when a call is refused. A call with a bad signature never
counts. Monitoring reads it (`wangua_bank_link_up`, `wangua_bank_last_contact_seconds`).
This is operational state like a heartbeat, not a business change, so it is not audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from wangua.deposits.intake import BANK
from wangua.deposits.models import BankLink
from wangua.runtime import Runtime


def seen(rt: Runtime, bank_code: str) -> None:
    """The bank reached us now, with a valid signature."""
    with rt.work(BANK) as work:
        now = work.now()
        insert = postgresql.insert if work.is_postgres else sqlite.insert
        statement = insert(BankLink).values(bank_code=bank_code, last_contact_at=now)
        work.session.execute(
            statement.on_conflict_do_update(
                index_elements=[BankLink.bank_code],
                set_={"last_contact_at": statement.excluded.last_contact_at},
            )
        )


def last_contacts(session: Session) -> dict[str, datetime]:
    rows = session.execute(select(BankLink.bank_code, BankLink.last_contact_at))
    return {code: at for code, at in rows}


def is_up(last_contact: datetime | None, now: datetime, timeout: timedelta) -> bool:
    """A link is up while the bank's last signed call is at most `timeout` old."""
    return last_contact is not None and now - last_contact <= timeout
