"""R-37c: a crash close to a countdown's end suspends the lot instead of deciding it.

A server process is killed two minutes before the end of a timed bidding's countdown
and started again. The simulated clock cannot move while nothing serves, so the
outage is an instant, two minutes before that deadline: within its last five
minutes. The lot must come back suspended with cause (4), every quote intact, and
resume (R-39) with a fresh countdown.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.api.bidding_support import read_events
from tests.faults.servers import at, installation, process_stack, rebind, serving

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_r37c_crash_two_minutes_before_the_countdown_ends_suspends_the_lot(
    backend: str, tmp_path: Path
) -> None:
    with installation(backend, tmp_path) as inst, serving(inst) as server:
        stack = process_stack(inst, server.start())
        staff = stack.account("staff", "xianning-city")
        lot = stack.published_lot(staff)
        a, b = stack.bidder(), stack.bidder()
        app_a = stack.qualified(a, lot)
        stack.qualified(b, lot)
        stack.advance_to(lot["listing_start"])
        assert stack.quote(a, lot, "120000000.00").status_code == 201
        assert stack.quote(b, lot, "121000000.00").status_code == 201
        stack.advance_to(lot["listing_end"])
        for bidder in (a, b):
            assert (
                bidder.http.post(
                    f"/api/v1/lots/{lot['id']}/inquiry", json={"join": True}
                ).status_code
                == 200
            )
        stack.advance_to(stack.lot(lot["id"])["inquiry_end"])
        assert stack.quote(a, lot, "122000000.00").status_code == 201
        deadline = at(stack.lot(lot["id"])["timed_deadline"])
        stack.advance_to(deadline - timedelta(minutes=2))
        before = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/quotes").json()

        server.kill9()
        time.sleep(2)
        rebind(stack, server.start(), [staff, a, b])

        view = stack.lot(lot["id"])
        assert view["status"] == "suspended"
        events = read_events(stack, lot["id"], count=7)
        assert events[-1]["event"] == "suspended"
        assert (events[-1]["data"]["cause"], events[-1]["data"]["from_status"]) == (
            4,
            "timed_bidding",
        )
        assert stack.anonymous().get(f"/api/v1/lots/{lot['id']}/quotes").json() == before
        refused = stack.quote(b, lot, "123000000.00")
        assert refused.status_code == 409 and refused.json()["code"] == "NOT_OPEN"
        # the deadline passes: nothing is decided
        stack.advance_to(deadline + timedelta(minutes=1))
        assert stack.anonymous().get(f"/api/v1/lots/{lot['id']}/result").status_code == 404

        effective = stack.now() + timedelta(days=5)
        resumed = staff.http.post(
            f"/api/v1/lots/{lot['id']}/resume", json={"effective_at": effective.isoformat()}
        )
        assert resumed.status_code == 200, resumed.text
        stack.advance_to(effective)
        view = stack.lot(lot["id"])
        assert view["status"] == "timed_bidding"
        assert at(view["timed_deadline"]) == effective + timedelta(minutes=5)
        assert view["leader"] == app_a["bidder_number"]
        stack.advance(300)
        result = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/result").json()
        assert (result["outcome"], result["price"], result["rule"]) == (
            "sold",
            "122000000.00",
            "R-23",
        )
        verified = inst.cli("audit", "verify")
        assert verified.stdout.startswith("ok ")
