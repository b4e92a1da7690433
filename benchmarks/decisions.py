"""What deciding a lot costs: N lots in timed bidding whose countdowns end together, on
PostgreSQL in this process, decided as the scheduler does (R-25c: together, in one
transaction; one after another in revisions before that), then settled one after another
(R-29, R-30b); prints the CPU and wall time per lot of each phase.

    python -m benchmarks.decisions [--lots 40] [--reserve PRICE] [--tree DIR]

`--reserve` gives every lot that sealed reserve (R-11), opened by the decisions.
`--tree` measures another checkout's `src/` and `tests/` (a `git worktree` of an earlier
revision), so two revisions can be compared on the same machine, one after the other.
The lots' three countdown warnings fire before, as they do on the system clock, so only
the countdowns' ends are due at the deadline.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=40)
    parser.add_argument("--reserve", help="every lot's sealed reserve price, e.g. 125000000.00")
    parser.add_argument("--tree", type=Path, help="another checkout to measure")
    args = parser.parse_args()
    if args.tree is not None:
        sys.path[:0] = [str(args.tree / "src"), str(args.tree)]
    from sqlalchemy import update
    from tests.api.bidding_support import deadline
    from tests.api.test_deadline_scheduling import _timed_lots
    from tests.harness import running_stack

    from wangua.kit.clock import ClockState
    from wangua.scheduler import service as scheduler

    with tempfile.TemporaryDirectory() as tmp, running_stack("postgresql", Path(tmp)) as stack:
        staff = stack.account("staff", "xianning-city")
        reserve = {"reserve": args.reserve} if args.reserve else {}
        lots, _ = _timed_lots(stack, staff, args.lots, **reserve)
        rt = stack.runtime
        ends = deadline(stack, lots[0])
        for moment in (ends - timedelta(seconds=5), ends + timedelta(milliseconds=1)):
            with rt.work() as work:  # the clock moves; the scheduler has not run yet
                work.session.execute(
                    update(ClockState).where(ClockState.id == 1).values(now=moment)
                )
            if moment < ends:
                scheduler.fire_due(rt)  # the warnings, fired at their own times
        now = rt.now()
        at = (now,) if "at" in inspect.signature(scheduler.fire_lot).parameters else ()
        for phase, follow_ups in (("decide", False), ("settle", True)):
            ids = scheduler.lots_due(rt, now)
            wall, cpu = time.perf_counter(), time.process_time()
            if not follow_ups and hasattr(scheduler, "fire_together"):
                scheduler.fire_together(rt, ids)
            else:  # settlements, and decisions of a revision that made them one by one
                for lot_id in ids:
                    scheduler.fire_lot(rt, lot_id, *at, follow_ups=follow_ups)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(
                f"{phase}: {len(ids)} lots, {1000 * cpu / len(ids):.1f} ms CPU and "
                f"{1000 * wall / len(ids):.1f} ms wall per lot ({args.tree or 'this checkout'})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
