"""WANGUA_REPLICA_URL: anonymous public reads come from the replica; bidding, sign-in and
the signed-in never do.

Real streaming replication cannot be set up here, so the "replica" is a copy of the
primary's SQLite file made with the online backup API and then made to differ on purpose
(a renamed lot, a quote the copy never got); whichever database answers shows itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import ServerThread, Stack, running_stack
from wangua.app import create_app
from wangua.runtime import Runtime

REPLICA_NAME = "副本中的地块名称"


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[Stack]:
    with running_stack("sqlite", tmp_path) as stack:
        yield stack


def _copy(source_url: str, target: Path) -> None:
    source = sqlite3.connect(source_url.removeprefix("sqlite:///"))
    copy = sqlite3.connect(target)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()


def test_public_reads_come_from_the_replica_and_bidding_never_does(
    primary: Stack, tmp_path: Path
) -> None:
    staff = primary.account("staff", "xianning-city")
    lot = primary.published_lot(staff)
    first, second = primary.bidder(), primary.bidder()
    primary.qualified(first, lot)
    primary.qualified(second, lot)
    primary.advance_to(lot["listing_start"])
    assert primary.quote(first, lot, lot["start_price"]).status_code == 201

    settings = primary.runtime.settings
    replica = tmp_path / "replica.sqlite3"
    _copy(settings.resolved_database_url, replica)
    with sqlite3.connect(replica) as conn:
        conn.execute("UPDATE lots SET name = ? WHERE id = ?", (REPLICA_NAME, lot["id"]))
    conn.close()
    # The primary moves on; the replica never hears of it.
    view = primary.lot(lot["id"])
    next_amount = f"{int(view['current_price'].split('.')[0]) + 1_000_000}.00"
    assert primary.quote(second, lot, next_amount).status_code == 201

    runtime = Runtime(settings.model_copy(update={"replica_url": f"sqlite:///{replica}"}))
    try:
        with ServerThread(create_app(runtime=runtime)) as server:
            anonymous = httpx.Client(base_url=server.url, timeout=30)
            signed_in = httpx.Client(
                base_url=server.url,
                timeout=30,
                headers={"Authorization": f"Bearer {staff.token}"},
            )
            bidder = httpx.Client(
                base_url=server.url,
                timeout=30,
                headers={"Authorization": f"Bearer {first.token}"},
            )
            try:
                # Anonymous public reads: the replica.
                public = anonymous.get(f"/api/v1/lots/{lot['id']}").json()
                assert public["name"] == REPLICA_NAME
                assert public["quote_count"] == 1
                listed = anonymous.get("/api/v1/lots", params={"limit": 100}).json()
                assert [x["name"] for x in listed if x["id"] == lot["id"]] == [REPLICA_NAME]
                quotes = anonymous.get(f"/api/v1/lots/{lot['id']}/quotes").json()
                assert len(quotes) == 1
                page = anonymous.get(f"/lots/{lot['id']}")
                assert page.status_code == 200 and REPLICA_NAME in page.text
                assert REPLICA_NAME in anonymous.get("/").text

                # The signed-in read the primary, so they see what they just did.
                own = signed_in.get(f"/api/v1/lots/{lot['id']}").json()
                assert own["name"] != REPLICA_NAME
                assert own["quote_count"] == 2

                # Bidding judges against the primary: the replica's price is stale, so a
                # quote that is only valid there would be refused, and one valid on the
                # primary is accepted and recorded there.
                stale = bidder.post(
                    f"/api/v1/lots/{lot['id']}/quotes", json={"amount": next_amount}
                )
                assert stale.status_code in (409, 422), stale.text
                current = int(own["current_price"].split(".")[0])
                placed = bidder.post(
                    f"/api/v1/lots/{lot['id']}/quotes",
                    json={"amount": f"{current + 1_000_000}.00"},
                )
                assert placed.status_code == 201, placed.text
                assert primary.lot(lot["id"])["quote_count"] == 3
                assert anonymous.get(f"/api/v1/lots/{lot['id']}").json()["quote_count"] == 1

                # The live event stream reads the primary's log: the replica has 1 quote
                # event, the primary 3.
                with anonymous.stream(
                    "GET", f"/api/v1/lots/{lot['id']}/events", timeout=10
                ) as stream:
                    seen = 0
                    for line in stream.iter_lines():
                        if line == "event: quote":
                            seen += 1
                        if seen == 3:
                            break
                assert seen == 3
            finally:
                for client in (anonymous, signed_in, bidder):
                    client.close()
    finally:
        runtime.close()


def test_without_a_replica_public_reads_use_the_primary(primary: Stack) -> None:
    runtime = primary.runtime
    assert runtime.replica is None
    with runtime.public_read() as session:
        assert session.get_bind().engine is runtime.db.read_engine  # type: ignore[union-attr]
