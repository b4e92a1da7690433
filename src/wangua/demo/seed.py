"""Seeding the demonstration: real accounts, real lots, real flows, on a simulated clock.

The regulation wants announcements 20 days ahead and listings of 10 days, so
the history cannot be written at today's time. The seed runs the services on
a simulated clock that starts about six weeks back and moves forward through
the story (story.py) with `scheduler.service.advance`, so every listing start,
deadline, inquiry and countdown fires at its own due time, up to `now`.
The database is then served on the system clock (run.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from wangua.applications.service import apply
from wangua.bidding import rules
from wangua.bidding.service import answer_inquiry, place_quote, set_proxy, standing
from wangua.cap.service import accept_cap
from wangua.config import Settings
from wangua.demo.data import (
    COMPANIES,
    DEMO_PASSWORD,
    ID_TYPE,
    LIVE_LOT,
    LOTS,
    OFFICIALS,
    PARTNERS,
    Company,
    LotSpec,
    staff_username,
)
from wangua.demo.files import DemoPaths, start_afresh
from wangua.demo.story import STORY, AcceptCap, Action, Answer, Apply, Proxy, Quote
from wangua.demo.texts import accounts_readme
from wangua.deposits.api import BANK
from wangua.deposits.service import Credit, receive
from wangua.identity.certificates import init_ca, issue_certificate, sign_message
from wangua.identity.service import (
    Proof,
    actor_of,
    create_user,
    hashed_password,
    issue_nonce,
    verify_proof,
)
from wangua.kit.problems import Problem
from wangua.kit.times import SHANGHAI, as_utc
from wangua.lots.models import Lot
from wangua.lots.schemas import LotCreate
from wangua.lots.service import create_lot, publish_lot
from wangua.runtime import SYSTEM, Actor, Runtime
from wangua.scheduler.service import advance
from wangua.serving import migrate

HISTORY = timedelta(days=41)
"""How far back the simulated clock starts: before the first announcement of the story."""


@dataclass(frozen=True)
class DemoAccount:
    """A demonstration account and the files of its certificate."""

    username: str
    password: str
    role: str
    name: str
    grantor: str | None
    key_path: Path
    cert_path: Path


@dataclass(frozen=True)
class DemoLot:
    """A seeded lot as it stands when the seed ends."""

    key: str
    id: int
    code: str
    name: str
    grantor: str
    land_use: str
    start_price_fen: int
    status: str
    listing_start: datetime
    listing_end: datetime
    quote_count: int
    story: str


@dataclass(frozen=True)
class DemoInfo:
    """What a seeded demonstration holds."""

    paths: DemoPaths
    now: datetime
    accounts: tuple[DemoAccount, ...]
    lots: tuple[DemoLot, ...]

    def lot(self, key: str) -> DemoLot:
        """The lot seeded from the LotSpec with this key."""
        return next(lot for lot in self.lots if lot.key == key)

    def account(self, username: str) -> DemoAccount:
        """The account with this username."""
        return next(a for a in self.accounts if a.username == username)

    @property
    def live(self) -> DemoLot:
        """The lot whose listing deadline falls minutes after `now`."""
        return self.lot(LIVE_LOT)


def seed_demo(data_dir: Path, now: datetime) -> DemoInfo:
    """Create a fresh demonstration in `data_dir` whose present is `now` (aware).

    The previous demonstration's files there are deleted first (files.py).
    Nothing is served; the database is closed when this returns.
    """
    now = as_utc(now).replace(microsecond=0)
    paths = DemoPaths(data_dir.resolve())
    usernames = [o.username for o in OFFICIALS] + [c.username for c in COMPANIES]
    start_afresh(paths, usernames)
    init_ca(paths.ca_dir)
    settings = Settings(
        data_dir=paths.data_dir,
        database_url=paths.database_url,
        clock="simulated",
        clock_start=now - HISTORY,
        trust_anchors=str(paths.ca_cert),
    )
    migrate(settings)
    runtime = Runtime(settings)
    try:
        seeder = _Seeder(runtime, paths, now)
        accounts = seeder.create_accounts()
        seeder.play()
        lots = seeder.lots()
    finally:
        runtime.close()
    info = DemoInfo(paths=paths, now=now, accounts=tuple(accounts), lots=tuple(lots))
    paths.readme.write_text(accounts_readme(info), encoding="utf-8")
    return info


class _Seeder:
    def __init__(self, runtime: Runtime, paths: DemoPaths, now: datetime) -> None:
        self.runtime = runtime
        self.paths = paths
        self.now = now
        self.actors: dict[str, Actor] = {}
        self.lot_ids: dict[str, int] = {}
        self.companies = {c.username: c for c in COMPANIES}

    # -- accounts -------------------------------------------------------------
    def create_accounts(self) -> list[DemoAccount]:
        """The administrator first (as from the command line), then the officials it
        creates, then the companies, each registering itself with its certificate."""
        accounts = [self._official(o.username, o.role, o.title, o.grantor) for o in OFFICIALS]
        accounts += [self._company(company) for company in COMPANIES]
        return accounts

    def _issue(self, username: str, common_name: str) -> tuple[Path, Path]:
        pair = issue_certificate(
            self.paths.ca_dir,
            common_name=common_name,
            out_prefix=self.paths.accounts_dir / username,
        )
        return pair.key_path, pair.cert_path

    def _official(self, username: str, role: str, title: str, grantor: str | None) -> DemoAccount:
        key, cert = self._issue(username, title)
        creator = self.actors.get("admin", SYSTEM)
        password_hash = hashed_password(DEMO_PASSWORD)
        with self.runtime.work(creator) as work:
            user = create_user(
                work,
                username=username,
                password_hash=password_hash,
                roles=[role],
                certificate_pem=cert.read_text(),
                anchors=self.runtime.trust_anchors,
                grantor=grantor,
            )
        self.actors[username] = actor_of(user)
        return DemoAccount(username, DEMO_PASSWORD, role, title, user.grantor, key, cert)

    def _company(self, company: Company) -> DemoAccount:
        """Self-registration: the same certificate proof as a login (API.md, Identity)."""
        key, cert = self._issue(company.username, company.name)
        with self.runtime.work(SYSTEM) as work:
            nonce = issue_nonce(work).nonce
        proof = Proof(cert.read_text(), nonce, sign_message(key.read_bytes(), nonce))
        password_hash = hashed_password(DEMO_PASSWORD)
        with self.runtime.work(SYSTEM) as work:
            verify_proof(work, proof, self.runtime.trust)
            user = create_user(
                work,
                username=company.username,
                password_hash=password_hash,
                roles=["bidder"],
                certificate_pem=proof.certificate_pem,
                anchors=self.runtime.trust_anchors,
                party={
                    "kind": "legal",
                    "name": company.name,
                    "id_type": ID_TYPE,
                    "id_no": company.id_no,
                    "domestic": True,
                },
            )
        self.actors[company.username] = actor_of(user)
        return DemoAccount(company.username, DEMO_PASSWORD, "bidder", company.name, None, key, cert)

    # -- the story --------------------------------------------------------------
    def play(self) -> None:
        """Publish the lots and act the story in time order, then move the clock to now."""
        items: list[LotSpec | Action] = [*LOTS, *STORY]
        moments = [
            (item.published if isinstance(item, LotSpec) else item.when).resolve(self.now)
            for item in items
        ]
        for index in sorted(range(len(items)), key=lambda i: (moments[i], i)):
            moment, item = moments[index], items[index]
            if moment >= self.now:
                raise ValueError(f"演示剧本中的时刻不在过去:{item}")
            self._advance_to(moment)
            try:
                if isinstance(item, LotSpec):
                    self._publish(item, moment)
                else:
                    self._act(item)
            except Problem as problem:
                raise RuntimeError(
                    f"演示剧本执行失败:{item}:{problem.code} {problem.detail}"
                ) from problem
        self._advance_to(self.now)

    def _advance_to(self, moment: datetime) -> None:
        seconds = (moment - self.runtime.now()).total_seconds()
        if seconds > 0:
            advance(self.runtime, seconds)

    def _publish(self, spec: LotSpec, moment: datetime) -> None:
        body = LotCreate(
            code=spec.code.format(year=moment.astimezone(SHANGHAI).year),
            name=spec.name,
            grantor=spec.grantor,
            location=spec.location,
            area_m2=Decimal(spec.area_m2),
            land_use=spec.land_use,
            term_years=spec.term_years,
            planning=spec.planning,
            start_price=spec.start_price,
            increment=spec.increment,
            deposit=spec.deposit,
            application_deadline=spec.application_deadline.resolve(self.now),
            deposit_deadline=spec.deposit_deadline.resolve(self.now),
            listing_start=spec.listing_start.resolve(self.now),
            listing_end=spec.listing_end.resolve(self.now),
            price_cap=spec.price_cap,
        )
        staff = self.actors[staff_username(spec.grantor)]
        with self.runtime.work(staff) as work:
            lot_id = create_lot(work, body).id
        with self.runtime.work(staff) as work:
            publish_lot(work, lot_id)
        self.lot_ids[spec.key] = lot_id

    def _act(self, action: Action) -> None:
        lot_id = self.lot_ids[action.lot]
        actor = self.actors[action.bidder]
        if isinstance(action, Apply):
            self._apply(action, lot_id, actor)
            return
        with self.runtime.work(actor) as work:
            lot = work.session.get(Lot, lot_id)
            assert lot is not None
            minimum = rules.next_minimum(standing(lot))
            if isinstance(action, Quote):
                amount = minimum + (action.steps - 1) * lot.increment_fen
                place_quote(work, lot_id, amount, str(uuid.uuid4()), work.clock.now(work.session))
            elif isinstance(action, Answer):
                answer_inquiry(work, lot_id, action.join)
            elif isinstance(action, Proxy):
                maximum = minimum + action.steps * lot.increment_fen
                set_proxy(work, lot_id, maximum, self.runtime.settings.proxy_max_steps)
            elif isinstance(action, AcceptCap):
                accept_cap(work, lot_id)

    def _apply(self, action: Apply, lot_id: int, actor: Actor) -> None:
        members = [
            {"name": name, "id_type": ID_TYPE, "id_no": self._id_no(name), "share": share}
            for name, share in action.members
        ]
        with self.runtime.work(actor) as work:
            application = apply(work, lot_id, members or None, action.new_company, consent=True)
            order_no = application.order_no
            lot = work.session.get(Lot, lot_id)
            assert lot is not None
            deposit_fen = lot.deposit_fen
        if not action.pays:
            return
        company = self.companies[action.bidder]
        with self.runtime.work(BANK) as work:
            matched = receive(
                work,
                Credit(
                    txn_id=f"DEMO{uuid.uuid4().hex[:16].upper()}",
                    account_no=self.runtime.settings.deposit_account_no,
                    amount_fen=deposit_fen,
                    paid_at=work.now(),
                    memo=f"竞买保证金 {order_no}",
                    payer_name=company.name,
                    payer_account=company.payer_account,
                ),
            )
        if matched != "matched":
            raise RuntimeError(f"演示保证金未能匹配:{action}")

    def _id_no(self, name: str) -> str:
        for company in COMPANIES:
            if company.name == name:
                return company.id_no
        return PARTNERS[name]

    # -- the outcome ------------------------------------------------------------
    def lots(self) -> list[DemoLot]:
        with self.runtime.read() as session:
            rows = {lot.id: lot for lot in session.scalars(select(Lot))}
        seeded: list[DemoLot] = []
        for spec in LOTS:
            lot = rows[self.lot_ids[spec.key]]
            seeded.append(
                DemoLot(
                    key=spec.key,
                    id=lot.id,
                    code=lot.code,
                    name=lot.name,
                    grantor=lot.grantor,
                    land_use=lot.land_use,
                    start_price_fen=lot.start_price_fen,
                    status=lot.status,
                    listing_start=lot.listing_start,
                    listing_end=lot.listing_end,
                    quote_count=lot.quote_count,
                    story=spec.story,
                )
            )
        return seeded
