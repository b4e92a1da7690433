"""The running system: settings, database, clock, broadcaster, trust anchors.

`Runtime.work(actor)` opens one write transaction and hands services a `Work`:
the session, the clock read inside the transaction, the acting user, and the
events it appends to lots' logs, handed to the live streams once it has committed.
`Runtime.together()` opens one for several requests' `Work`, each in a savepoint.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from sqlalchemy.orm import Session, SessionTransaction

from wangua.bidding.receipts import Receipts
from wangua.bidding.standings import Standings
from wangua.config import Settings
from wangua.db import Database
from wangua.identity.passwords import configure_password_hashing
from wangua.identity.ratelimit import SourceLimiter
from wangua.identity.tokens import TokenCache
from wangua.identity.trust import Trust
from wangua.kit.clock import SimulatedClock, SystemClock, make_clock
from wangua.kit.problems import Problem
from wangua.live.broadcaster import Broadcaster, LocalBroadcaster
from wangua.live.notify import PostgresBroadcaster
from wangua.live.recent import Committed, RecentEvents
from wangua.publishing.targets import Target, parse_targets
from wangua.reserve.sealing import SealingKey


@dataclass(frozen=True)
class Actor:
    """Who acts: an account with the role it acts in, or the system itself."""

    user_id: int | None
    role: str
    username: str
    cert_serial: str | None = None
    grantor: str | None = None
    roles: tuple[str, ...] = ()

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


SYSTEM = Actor(user_id=None, role="system", username="system", roles=("system",))


@dataclass
class Work:
    """One write transaction, as services see it."""

    session: Session
    clock: SystemClock | SimulatedClock
    actor: Actor
    is_postgres: bool
    sealing_key: SealingKey
    publish_targets: list[Target] = field(default_factory=list)
    emitted: list[Committed] = field(default_factory=list)
    """The events this transaction appended to lots' logs, in order (live.events)."""
    timers_changed: bool = False
    after_catch_up: SessionTransaction | None = None
    """The savepoint after timers this transaction fired (see scheduler.catch_up)."""
    _emitted_by_catch_up: int = 0
    timer_grace: timedelta = timedelta(0)
    """How long after its due time a closing timer fires (scheduler: the deadlines)."""
    waiting: Callable[[int], datetime | None] = lambda lot_id: None
    """The earliest receipt time of a quote to the lot this process has received and not
    yet judged (bidding.receipts)."""
    let_go_holds: Callable[[], None] = lambda: None
    """Let go of this process's holds on lots whose requests are judged (scheduler.holds)."""
    sessions_changed: set[int] = field(default_factory=set)
    """Accounts whose sign-in tokens this transaction revoked or whose certificate it
    changed: this process forgets their tokens once it has committed (identity.tokens)."""
    _now: datetime | None = None

    def now(self) -> datetime:
        """R-18: the server's time, read once inside the transaction (after its locks, at
        the first call) unless the request's receipt was stamped on arrival (`received`),
        and the same for everything the transaction records."""
        if self._now is None:
            self._now = self.clock.now(self.session)
        return self._now

    def caught_up(self) -> None:
        """Mark what the timers fired so far changed: a refusal from here on keeps it
        (`refused_after_catch_up`)."""
        self.after_catch_up = self.session.begin_nested()
        self._emitted_by_catch_up = len(self.emitted)

    def refused_after_catch_up(self) -> None:
        """Roll the refused request's own changes back, events included, and keep what
        the timers it caught up changed."""
        assert self.after_catch_up is not None
        self.after_catch_up.rollback()
        del self.emitted[self._emitted_by_catch_up :]

    def received(self, at: datetime) -> None:
        """R-18: the request was received at `at` (stamped on arrival, bidding.receipts);
        everything this transaction records happens then."""
        assert self._now is None, "the time was read before the receipt was known"
        self._now = at


class Together:
    """Several requests' work in one transaction (`Runtime.together`)."""

    def __init__(self, rt: Runtime, session: Session) -> None:
        self.rt = rt
        self.session = session
        self.done: list[Work] = []

    @contextmanager
    def work(
        self, actor: Actor, waiting: Callable[[int], datetime | None] | None = None
    ) -> Iterator[Work]:
        """One request's work, in a savepoint: kept if it ends well; if it is refused (a
        `Problem`), only the timers it fired are kept (as `Runtime.work` does); rolled back
        on any other exception, which the caller may let end the transaction or not.
        `waiting` replaces the receipts' earliest (see `Work.waiting`)."""
        work = self.rt._work(self.session, actor, waiting)
        savepoint = self.session.begin_nested()
        try:
            yield work
        except Problem:
            if work.after_catch_up is None:
                savepoint.rollback()
            else:
                work.refused_after_catch_up()
                savepoint.commit()
                self.done.append(work)
            raise
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()
        self.done.append(work)


class Runtime:
    def __init__(self, settings: Settings, broadcaster: Broadcaster | None = None) -> None:
        self.settings = settings
        configure_password_hashing(
            settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
        )
        self.db = Database(settings.resolved_database_url)
        self.replica = Database(settings.replica_url) if settings.replica_url else None
        self.clock = make_clock(settings.clock, settings.clock_start)
        self.broadcaster: Broadcaster = broadcaster or (
            PostgresBroadcaster(
                self.db.url.set(drivername="postgresql").render_as_string(hide_password=False)
            )
            if self.db.is_postgres
            else LocalBroadcaster()
        )
        self.sealing_key = SealingKey(settings.resolved_reserve_key_dir)
        self.publish_targets = parse_targets(settings.publish_targets)
        self.trust = Trust(settings.trust_anchor_paths, settings.resolved_crl_dir)
        self.login_limiter = SourceLimiter(self.db)
        self.trusted_proxies = frozenset(
            p.strip() for p in settings.trusted_proxies.split(",") if p.strip()
        )
        self.on_timers_changed: Callable[[], None] = lambda: None
        self.let_go_holds: Callable[[], None] = lambda: None
        self.advance_lock = threading.Lock()
        self.receipts = Receipts()
        self.standings = Standings()
        self.recent_events = RecentEvents()
        self.tokens = TokenCache(settings.token_cache_ms / 1000)
        self.timer_grace = timedelta(milliseconds=settings.timer_grace_ms)

    @property
    def trust_anchors(self) -> list[x509.Certificate]:
        return self.trust.anchors

    @contextmanager
    def work(self, actor: Actor = SYSTEM) -> Iterator[Work]:
        refused = None
        with self._transaction() as (session, works):
            work = self._work(session, actor)
            works.append(work)
            try:
                yield work
            except Problem as problem:
                if work.after_catch_up is None:
                    raise
                work.refused_after_catch_up()
                refused = problem
        if refused is not None:
            raise refused

    @contextmanager
    def together(self) -> Iterator[Together]:
        """One transaction for the work of several requests, each in a savepoint of its own
        (`Together.work`): one lock and one durable commit for all (bidding.judging)."""
        with self._transaction() as (session, works):
            together = Together(self, session)
            yield together
            works.extend(together.done)

    @contextmanager
    def _transaction(self) -> Iterator[tuple[Session, list[Work]]]:
        """One write transaction; the works the caller lists are followed up once it has
        committed (`_committed`). While it commits, the lots it appended events to are
        marked as being committed by this process (live.recent), so a live stream woken by
        the commit's notification before its events are handed over waits for them."""
        works: list[Work] = []
        lots: set[int] = set()
        try:
            with self.db.write_session() as session:
                yield session, works
                lots = {event.lot_id for w in works for event in w.emitted}
                self.recent_events.committing(lots)
        except BaseException:
            self.recent_events.abandon(lots)
            self._publish(lots)  # the streams that waited for this commit read the log
            raise
        self._committed(works, lots)

    def _work(
        self,
        session: Session,
        actor: Actor,
        waiting: Callable[[int], datetime | None] | None = None,
    ) -> Work:
        return Work(
            session,
            self.clock,
            actor,
            self.db.is_postgres,
            self.sealing_key,
            self.publish_targets,
            timer_grace=self.timer_grace,
            waiting=waiting or self.receipts.earliest,
            let_go_holds=self.let_go_holds,
        )

    def _committed(self, works: list[Work], lots: set[int]) -> None:
        """What follows the commit of `works`: watchers given the events and told, tokens
        forgotten, timers looked at again."""
        self.recent_events.add((event for w in works for event in w.emitted), lots)
        self._publish(lots)
        forget = set().union(*(w.sessions_changed for w in works))
        if forget:
            self.tokens.forget(forget)
        if any(w.timers_changed for w in works):
            self.on_timers_changed()

    def _publish(self, lots: set[int]) -> None:
        for lot_id in sorted(lots):
            self.broadcaster.publish(lot_id)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.db.read_session() as session:
            yield session

    @contextmanager
    def public_read(self, actor: Actor | None = None) -> Iterator[Session]:
        """A read of public data: from the streaming replica (WANGUA_REPLICA_URL) when one
        is set and nobody is signed in, else from the primary. Whoever is signed in may have
        just written, so they read the primary and see their own writes; the replica may lag
        by a moment, which an anonymous visitor cannot tell from a page loaded a moment ago.
        Never for anything that bids, authenticates or writes."""
        database = self.replica if self.replica is not None and actor is None else self.db
        with database.read_session() as session:
            yield session

    def now(self) -> datetime:
        with self.db.read_session() as session:
            return self.clock.now(session)

    def close(self) -> None:
        self.db.dispose()
        if self.replica is not None:
            self.replica.dispose()
