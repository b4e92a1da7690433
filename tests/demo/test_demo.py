"""`wangua demo`: the seeded demonstration, and the command that serves it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.harness import free_port
from wangua.applications.models import Application
from wangua.audit.verify import verify
from wangua.bidding.models import Quote, Result
from wangua.cap.models import CapAcceptance
from wangua.config import Settings
from wangua.demo.data import COMPANIES, DEMO_PASSWORD, LIVE_LOT, LOTS, OFFICIALS, VISITOR
from wangua.demo.files import DataDirInUse, DemoPaths, start_afresh
from wangua.demo.seed import DemoInfo, seed_demo
from wangua.identity.certificates import load_trust_anchors, verify_certificate
from wangua.identity.models import User
from wangua.kit.times import wall_now
from wangua.lots.models import Lot
from wangua.runtime import Runtime


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoInfo:
    return seed_demo(tmp_path_factory.mktemp("demo"), wall_now())


@pytest.fixture(scope="module")
def runtime(demo: DemoInfo) -> Iterator[Runtime]:
    rt = Runtime(Settings(data_dir=demo.paths.data_dir, database_url=demo.paths.database_url))
    yield rt
    rt.close()


def test_lots_are_in_the_promised_phases(demo: DemoInfo, runtime: Runtime) -> None:
    with runtime.read() as session:
        lots = {lot.id: lot for lot in session.scalars(select(Lot))}
        quotes = dict(
            session.execute(select(Quote.lot_id, func.count()).group_by(Quote.lot_id)).all()
        )
    assert len(lots) == len(LOTS)
    phases = {spec.key: spec.phase for spec in LOTS}
    for seeded in demo.lots:
        assert lots[seeded.id].status == phases[seeded.key] == seeded.status, seeded.key
    statuses = sorted(lot.status for lot in lots.values())
    assert statuses.count("announced") >= 1
    assert statuses.count("listing") >= 2
    listing = [lot for lot in lots.values() if lot.status == "listing"]
    assert all(quotes.get(lot.id, 0) > 0 and lot.highest_fen for lot in listing)
    assert {lot.grantor for lot in lots.values()} >= {"xianning-city", "xianan", "chibi"}


def test_a_lot_has_reached_its_cap_and_awaits_its_lottery(demo: DemoInfo, runtime: Runtime) -> None:
    """R-CAP: one lot shows the cap procedure: reached, accepted by one bidder, and the
    visitor qualified to accept it too."""
    capped = demo.lot("xianan-capped")
    with runtime.read() as session:
        lot = session.get(Lot, capped.id)
        assert lot is not None and lot.status == "listing" and lot.capped
        accepted = session.scalar(select(func.count()).where(CapAcceptance.lot_id == capped.id))
        assert accepted == 1
        visitor = session.scalar(
            select(Application.status)
            .join(User, User.id == Application.user_id)
            .where(Application.lot_id == capped.id, User.username == VISITOR)
        )
        assert visitor == "qualified"


def test_decided_lots_sold_after_timed_bidding_and_unsold(demo: DemoInfo, runtime: Runtime) -> None:
    timed = demo.lot("xianan-sold")
    unsold = demo.lot("tongcheng-unsold")
    with runtime.read() as session:
        sold = session.get(Result, timed.id)
        assert sold is not None and sold.outcome == "sold" and sold.rule == "R-23"
        phases = session.execute(
            select(Quote.phase, Quote.by_proxy).where(Quote.lot_id == timed.id)
        ).all()
        assert ("timed", True) in phases and ("timed", False) in phases
        winner = session.get(Application, sold.winner_application_id)
        assert winner is not None
        assert [m["share"] for m in winner.members] == ["51.00", "49.00"]
        lot = session.get(Lot, timed.id)
        assert lot is not None and sold.price_fen == lot.highest_fen

        nothing = session.get(Result, unsold.id)
        assert nothing is not None and nothing.outcome == "unsold" and nothing.price_fen is None
        assert session.scalar(select(func.count()).where(Quote.lot_id == unsold.id)) == 0
        rejected = session.scalars(select(Application).where(Application.lot_id == unsold.id))
        assert [a.status for a in rejected] == ["rejected"]


def test_live_lot_closes_minutes_after_now_with_a_lawful_schedule(
    demo: DemoInfo, runtime: Runtime
) -> None:
    live = demo.live
    assert live.key == LIVE_LOT and live.status == "listing" and live.quote_count > 0
    assert timedelta(minutes=3) <= live.listing_end - demo.now <= timedelta(minutes=5)
    with runtime.read() as session:
        lot = session.get(Lot, live.id)
        assert lot is not None and lot.published_at is not None
        assert lot.listing_end - lot.listing_start >= timedelta(days=10)  # R-09b
        assert lot.listing_start - lot.published_at >= timedelta(days=20)  # R-09a
        qualified = session.scalar(
            select(func.count()).where(
                Application.lot_id == live.id, Application.status == "qualified"
            )
        )
        assert qualified is not None and qualified >= 3


def test_account_files_and_readme(demo: DemoInfo) -> None:
    anchors = load_trust_anchors([demo.paths.ca_cert])
    usernames = {o.username for o in OFFICIALS} | {c.username for c in COMPANIES}
    assert {a.username for a in demo.accounts} == usernames
    readme = demo.paths.readme.read_text(encoding="utf-8")
    assert DEMO_PASSWORD in readme
    for account in demo.accounts:
        assert account.key_path == demo.paths.accounts_dir / f"{account.username}.key.pem"
        assert account.key_path.is_file()
        verify_certificate(account.cert_path.read_text(), anchors, wall_now())
        assert account.username in readme
    assert {a.role for a in demo.accounts} >= {"admin", "staff", "supervisor", "bidder"}


def test_audit_chain_verifies(runtime: Runtime) -> None:
    with runtime.read() as session:
        report = verify(session)
    assert report.failure is None
    assert report.count > 100


def test_a_fresh_start_deletes_only_the_previous_demos_files(tmp_path: Path) -> None:
    paths = DemoPaths(tmp_path)
    start_afresh(paths, ["alice"])
    paths.database.write_text("old demo")
    paths.accounts_dir.mkdir()
    paths.key("alice").write_text("old key")
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")

    deleted = start_afresh(paths, ["bob"])

    assert set(deleted) == {paths.database, paths.key("alice")}
    assert keep.read_text() == "mine"
    assert "accounts/bob.key.pem" in paths.manifest.read_text()


def test_a_folder_with_someone_elses_database_is_left_alone(tmp_path: Path) -> None:
    paths = DemoPaths(tmp_path)
    paths.database.write_text("production data")
    with pytest.raises(DataDirInUse):
        start_afresh(paths, ["alice"])
    assert paths.database.read_text() == "production data"
    assert not paths.manifest.exists()


def test_wangua_demo_serves_the_demonstration(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "WANGUA_DATA_DIR": str(tmp_path / "data")}
    env.pop("WANGUA_DATABASE_URL", None)
    out = (tmp_path / "out.log").open("w")
    err = (tmp_path / "err.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "wangua", "demo", "--port", str(port)],
        env=env,
        stdout=out,
        stderr=err,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "err.log").read_text()
            assert time.monotonic() < deadline, "the demo did not answer /healthz in 60 s"
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        lots = httpx.get(f"{base}/api/v1/lots", timeout=10).json()
        assert sorted(lot["status"] for lot in lots) == sorted(spec.phase for spec in LOTS)
        assert httpx.get(f"{base}/api/v1/clock", timeout=10).json()["mode"] == "system"
        assert "/api/v1/docs" in (tmp_path / "out.log").read_text()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        out.close()
        err.close()
