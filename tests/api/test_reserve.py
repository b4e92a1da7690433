"""The sealed reserve price (R-11, R-32b) and decisions against it (R-22, R-23, R-27)."""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import datetime, timedelta
from typing import Any

from tests.api.bidding_support import listing_lot, read_events, result, to_timed_bidding
from tests.harness import Account, Stack, captured_logs
from wangua.backups.core import backup
from wangua.reserve.sealing import seal


def sealed(stack: Stack, lot: dict[str, Any], price: str, signer: Account) -> str:
    system_cert = stack.anonymous().get("/api/v1/reserve-key")
    assert system_cert.status_code == 200 and "BEGIN CERTIFICATE" in system_cert.text
    envelope = seal(
        lot["code"],
        price,
        system_cert.content,
        signer.key_path.read_bytes(),
        signer.cert_path.read_bytes(),
    )
    return base64.b64encode(envelope.to_bytes()).decode()


def import_reserve(
    stack: Stack, lot: dict[str, Any], body: str, admin: Account | None = None
) -> Any:
    admin = admin or stack.admin
    assert admin is not None
    return admin.http.post(f"/api/v1/lots/{lot['id']}/reserve", json={"sealed": body})


def into_window(stack: Stack, lot: dict[str, Any]) -> None:
    stack.advance_to(datetime.fromisoformat(lot["listing_end"]) - timedelta(minutes=30))


def test_r11_reserve_is_imported_only_in_the_last_30_minutes_once(
    stack: Stack, staff: Account
) -> None:
    supervisor = stack.account("supervisor")
    lot, _, _ = listing_lot(stack, staff, 1, has_reserve=True)
    body = sealed(stack, lot, "125000000.00", supervisor)
    stack.advance_to(datetime.fromisoformat(lot["listing_end"]) - timedelta(minutes=30, seconds=1))
    early = import_reserve(stack, lot, body)
    assert early.status_code == 409 and early.json()["code"] == "RESERVE_WINDOW_CLOSED"
    stack.advance(1)
    assert import_reserve(stack, lot, body).status_code == 204
    again = import_reserve(stack, lot, body)
    assert again.status_code == 409 and again.json()["code"] == "RESERVE_ALREADY_SET"


def test_r11_only_an_administrator_imports(stack: Stack, staff: Account) -> None:
    supervisor = stack.account("supervisor")
    lot, _, _ = listing_lot(stack, staff, 1, has_reserve=True)
    into_window(stack, lot)
    response = import_reserve(stack, lot, sealed(stack, lot, "1.00", supervisor), admin=staff)
    assert response.status_code == 403


def test_r32b_the_seal_must_carry_a_supervisors_signature(stack: Stack, staff: Account) -> None:
    lot, _, _ = listing_lot(stack, staff, 1, has_reserve=True)
    other = stack.published_lot(staff, has_reserve=True)
    into_window(stack, lot)
    not_supervisor = stack.account("finance")
    supervisor = stack.account("supervisor")
    cases = {
        "by finance": sealed(stack, lot, "125000000.00", not_supervisor),
        "for another lot": sealed(stack, other, "125000000.00", supervisor),
        "not base64": "%%%",
        "garbage": base64.b64encode(b"{}").decode(),
    }
    # a seal whose ciphertext was swapped after signing
    good = base64.b64decode(sealed(stack, lot, "125000000.00", supervisor)).decode()
    swapped = base64.b64decode(sealed(stack, lot, "1.00", supervisor)).decode()

    forged = json.loads(good)
    forged["ciphertext"] = json.loads(swapped)["ciphertext"]
    cases["ciphertext swapped"] = base64.b64encode(json.dumps(forged).encode()).decode()
    for name, body in cases.items():
        response = import_reserve(stack, lot, body)
        assert response.status_code == 422, name
        assert response.json()["code"] == "RESERVE_SIGNATURE_INVALID", name


def test_r11_r22_single_bidder_below_the_reserve_is_unsold(stack: Stack, staff: Account) -> None:
    supervisor = stack.account("supervisor")
    lot, (a,), _ = listing_lot(stack, staff, 1, has_reserve=True)
    stack.quote(a, lot, "120000000.00")
    into_window(stack, lot)
    assert (
        import_reserve(stack, lot, sealed(stack, lot, "120000000.01", supervisor)).status_code
        == 204
    )
    stack.advance_to(lot["listing_end"])
    stack.advance(300)
    decided = result(stack, lot)
    assert (decided["outcome"], decided["rule"], decided["reserve_price"]) == (
        "unsold",
        "R-22(3)",
        "120000000.01",
    )
    assert decided["winner"] is None and decided["price"] is None


def test_r11_r22_highest_at_the_reserve_wins(stack: Stack, staff: Account) -> None:
    supervisor = stack.account("supervisor")
    lot, (a, b), (_, app_b) = listing_lot(stack, staff, 2, has_reserve=True)
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    into_window(stack, lot)
    import_reserve(stack, lot, sealed(stack, lot, "121000000.00", supervisor))
    stack.advance_to(lot["listing_end"])
    stack.advance(300)
    decided = result(stack, lot)
    assert (decided["outcome"], decided["rule"], decided["price"], decided["reserve_price"]) == (
        "sold",
        "R-22(2)",
        "121000000.00",
        "121000000.00",
    )
    assert decided["winner"]["bidder_number"] == app_b["bidder_number"]


def test_r11_r23_timed_winner_below_the_reserve_is_unsold(stack: Stack, staff: Account) -> None:
    supervisor = stack.account("supervisor")
    lot, (a, b), _ = listing_lot(stack, staff, 2, has_reserve=True)
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    into_window(stack, lot)
    import_reserve(stack, lot, sealed(stack, lot, "150000000.00", supervisor))
    to_timed_bidding(stack, lot, [a, b])
    stack.quote(a, lot, "122000000.00")
    stack.advance(300)
    decided = result(stack, lot)
    assert (decided["outcome"], decided["rule"], decided["reserve_price"]) == (
        "unsold",
        "R-23",
        "150000000.00",
    )


def test_r11_r27_nobody_bids_and_the_listing_quote_is_below_the_reserve(
    stack: Stack, staff: Account
) -> None:
    supervisor = stack.account("supervisor")
    lot, (a, b), _ = listing_lot(stack, staff, 2, has_reserve=True)
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    into_window(stack, lot)
    import_reserve(stack, lot, sealed(stack, lot, "130000000.00", supervisor))
    to_timed_bidding(stack, lot, [a])
    stack.advance(300)
    decided = result(stack, lot)
    assert (decided["outcome"], decided["rule"]) == ("unsold", "R-27")


def test_r11_a_lot_with_a_reserve_but_none_imported_is_suspended_not_decided(
    stack: Stack, staff: Account
) -> None:
    lot, (a,), _ = listing_lot(stack, staff, 1, has_reserve=True)
    stack.quote(a, lot, "120000000.00")
    stack.advance_to(lot["listing_end"])
    stack.advance(600)
    assert stack.lot(lot["id"])["status"] == "suspended"
    missing = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/result")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_DECIDED"
    names = [e["event"] for e in read_events(stack, lot["id"], count=3)]
    assert names[-1] == "suspended"


def test_r11_the_reserve_never_leaks_before_the_decision(stack: Stack, staff: Account) -> None:
    supervisor = stack.account("supervisor")
    lot, (a, b), _ = listing_lot(stack, staff, 2, has_reserve=True)
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    into_window(stack, lot)
    price, fen = "123456789.12", "12345678912"
    with captured_logs() as logs:
        import_reserve(stack, lot, sealed(stack, lot, price, supervisor))
        to_timed_bidding(stack, lot, [a, b])
        again = import_reserve(stack, lot, sealed(stack, lot, price, supervisor)).text
    seen = [
        *logs,
        again,
        stack.anonymous().get(f"/api/v1/lots/{lot['id']}").text,
        stack.anonymous().get(f"/api/v1/lots/{lot['id']}/quotes").text,
        stack.anonymous().get(f"/api/v1/lots/{lot['id']}/result").text,
        staff.http.get(f"/api/v1/lots/{lot['id']}").text,
        str(read_events(stack, lot["id"], count=5)),
    ]
    with stack.runtime.db.read_session() as session:
        from sqlalchemy import text

        for table in ("audit_entries", "lot_events", "sealed_reserves", "lots", "timers"):
            seen.append(str(session.execute(text(f"SELECT * FROM {table}")).all()))  # noqa: S608
    if stack.backend == "sqlite":
        for name in ("wangua.sqlite3", "wangua.sqlite3-wal"):
            if (stack.work_dir / name).exists():
                seen.append((stack.work_dir / name).read_bytes().decode("latin-1"))
    copy = stack.work_dir / f"leak-{lot['id']}.backup"
    backup(stack.runtime.settings.resolved_database_url, copy)
    if stack.backend == "sqlite":
        seen.append(copy.read_bytes().decode("latin-1"))
    else:  # the custom format is compressed: read it back as SQL
        seen.append(
            subprocess.run(
                ["pg_restore", "-f", "-", str(copy)],
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            ).stdout
        )
    for text_seen in seen:
        for form in (price, fen, "123456789.1", "123,456,789"):
            assert form not in text_seen
    stack.advance(300)
    assert result(stack, lot)["reserve_price"] == price
