"""Property tests of the bidding rules (R-19a … R-27) against a reference model.

`ReferenceLot` is a small model of one lot's auction, written from RULES.md: it owns
the phases (listing → inquiry → timed bidding → decided), the clock and the record of
accepted quotes. For every decision it asks `wangua.bidding.rules` (the system under
test) and also works out on its own what the regulation expects; the lot then moves
on with what the rules module answered, so a wrong answer shows up both as a
disagreement and as a broken invariant over the record.

Each property test plays random operation sequences (quotes around the minimum, joins,
proxies, cancels, clock steps landing on and around every deadline) and checks one rule
after every step; the worked examples at the end pin down the edge cases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise, product
from typing import TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangua.bidding import rules

Refusal = rules.Refusal
Outcome = rules.Outcome
T = TypeVar("T")
Op = tuple[object, ...]
Operations = list[Op]

# ---------------------------------------------------------------------------
# The fixed universe
# ---------------------------------------------------------------------------

START = 100_000_00
INC = 1_000_00
FIVE_MINUTES = timedelta(minutes=5)  # R-24 inquiry, R-25a countdown
WARNINGS_LEFT = (timedelta(seconds=60), timedelta(seconds=30), timedelta(seconds=10))  # R-25b
LISTING_START = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
LISTING_DEADLINE = LISTING_START + timedelta(days=10)
CLOCK_START = LISTING_START - timedelta(minutes=1)
TIMED_START = LISTING_DEADLINE + FIVE_MINUTES  # when nothing goes wrong
BIDDER_IDS = (101, 102, 103, 104, 105)

LISTING, INQUIRY, TIMED, DECIDED = "listing", "inquiry", "timed", "decided"
STATUS_NAMES = {
    LISTING: "listing",
    INQUIRY: "inquiry",
    TIMED: "timed_bidding",
    DECIDED: "decided",
}


@dataclass(frozen=True)
class LotConfig:
    bidders: tuple[int, ...]
    qualified: frozenset[int]
    cap: int | None
    reserve: int | None


# ---------------------------------------------------------------------------
# What the model records
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One quote or bid as judged: the model's expectation and the rules' answer."""

    bidder: int
    amount: int
    at: datetime
    status: str
    by_proxy: bool
    qualified: bool
    joined: bool
    listing_quoter: bool
    highest: int | None
    leader: int | None
    model_open: bool
    expected: frozenset[Refusal]  # empty: accept; otherwise any of these codes
    actual: Refusal | None


@dataclass(frozen=True)
class Accepted:
    bidder: int
    amount: int
    at: datetime
    status: str
    by_proxy: bool
    window: tuple[datetime, datetime] | None  # the model's open window at receipt


@dataclass(frozen=True)
class ProxyRun:
    at: datetime
    highest: int
    leader: int | None
    orders: tuple[rules.ProxyOrder, ...]
    expected: tuple[tuple[int, int], ...]
    actual: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Restart:
    """A countdown (re)started at `at`: the model's deadline and the rules' deadline."""

    at: datetime
    expected: datetime
    actual: datetime


@dataclass(frozen=True)
class Warned:
    deadline: datetime
    seconds_left: int
    at: datetime


@dataclass(frozen=True)
class Decision:
    at: datetime
    timed: bool
    expected: Outcome
    actual: Outcome
    # the same decision had the reserve been each of these: (reserve, expected, actual)
    other_reserves: tuple[tuple[int | None, Outcome, Outcome], ...]


# ---------------------------------------------------------------------------
# The reference model
# ---------------------------------------------------------------------------


def reference_proxy_bids(
    highest: int, leader: int | None, cap: int | None, proxies: dict[int, tuple[int, int]]
) -> tuple[tuple[int, int], ...]:
    """R-26: while someone else leads, the earliest-set proxy able to pay the next minimum
    places it; again and again. Never above a proxy's maximum, nor above the cap.
    `proxies` maps bidder → (maximum, set sequence)."""
    bids: list[tuple[int, int]] = []
    price, leading = highest, leader
    while True:
        wanted = price + INC
        able = [
            (seq, bidder)
            for bidder, (maximum, seq) in proxies.items()
            if bidder != leading and maximum >= wanted and (cap is None or wanted <= cap)
        ]
        if not able:
            return tuple(bids)
        _, leading = min(able)
        price = wanted
        bids.append((leading, price))


@dataclass
class ReferenceLot:
    config: LotConfig
    clock: datetime = CLOCK_START
    status: str = LISTING
    inquiry_end: datetime | None = None
    timed_start: datetime | None = None
    countdown: datetime | None = None  # as the rules module computed it
    model_countdown: datetime | None = None  # as the model computes it
    highest: int | None = None
    leader: int | None = None
    listing_quoters: set[int] = field(default_factory=set)
    joined: set[int] = field(default_factory=set)
    refused_joins: set[int] = field(default_factory=set)
    proxies: dict[int, tuple[int, int]] = field(default_factory=dict)  # bidder → (max, seq)
    proxy_seq: int = 0
    timed_bids: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)
    proxy_runs: list[ProxyRun] = field(default_factory=list)
    restarts: list[Restart] = field(default_factory=list)
    warned: list[Warned] = field(default_factory=list)
    decision: Decision | None = None

    # -- the model's own view ------------------------------------------------

    def model_window(self) -> tuple[datetime, datetime] | None:
        """R-18, R-25c: the period in which quotes count, end excluded."""
        if self.status == LISTING:
            return (LISTING_START, LISTING_DEADLINE)
        if self.status == TIMED:
            assert self.timed_start is not None and self.model_countdown is not None
            return (self.timed_start, self.model_countdown)
        return None

    def model_open(self, at: datetime) -> bool:
        window = self.model_window()
        return window is not None and window[0] <= at < window[1]

    def expected_refusal(self, bidder: int, amount: int, at: datetime) -> frozenset[Refusal]:
        """The regulation's answer to a quote, worked out from the model's state."""
        if bidder not in self.config.qualified:
            return frozenset({Refusal.NOT_QUALIFIED})  # R-19a
        if not self.model_open(at):
            return frozenset({Refusal.NOT_OPEN})  # R-25c
        if self.status == TIMED and bidder not in self.joined:
            return frozenset({Refusal.NOT_A_PARTICIPANT})
        if bidder == self.leader:
            return frozenset({Refusal.ALREADY_HIGHEST})  # R-19d, R-23
        wrong: set[Refusal] = set()
        if self.config.cap is not None and amount > self.config.cap:
            wrong.add(Refusal.ABOVE_PRICE_CAP)  # R-CAP
        if self.highest is None:
            if amount < START:
                wrong.add(Refusal.BELOW_START_PRICE)  # R-19a
        elif amount - self.highest < INC:
            wrong.add(Refusal.INCREMENT_TOO_SMALL)  # R-19b, R-23
        return frozenset(wrong)

    def expected_proxy_bids(self) -> tuple[tuple[int, int], ...]:
        assert self.highest is not None
        return reference_proxy_bids(self.highest, self.leader, self.config.cap, self.proxies)

    def expected_outcome(self, timed: bool, reserve: int | None) -> Outcome:
        """R-22 (nobody joined), R-23 (timed bids), R-27 (joined, nobody bid)."""
        met = self.highest is not None and (reserve is None or self.highest >= reserve)
        if timed:
            rule = "R-23" if self.timed_bids else "R-27"
        elif not self.listing_quoters or not met:
            rule = "R-22(3)"
        else:
            rule = "R-22(1)" if len(self.listing_quoters) == 1 else "R-22(2)"
        if not met or rule == "R-22(3)":
            return Outcome(sold=False, winner=None, price_fen=None, rule=rule)
        return Outcome(sold=True, winner=self.leader, price_fen=self.highest, rule=rule)

    # -- the system under test ------------------------------------------------

    def standing(self) -> rules.Standing:
        window = rules.quoting_window(
            STATUS_NAMES[self.status],
            LISTING_START,
            LISTING_DEADLINE,
            self.countdown,
            self.timed_start,
        )
        return rules.Standing(
            start_fen=START,
            increment_fen=INC,
            cap_fen=self.config.cap,
            highest_fen=self.highest,
            leader=self.leader,
            window=window,
        )

    def as_bidder(self, bidder: int) -> rules.Bidder:
        return rules.Bidder(
            application_id=bidder,
            qualified=bidder in self.config.qualified,
            joined_timed=bidder in self.joined,
        )

    def judge(self, bidder: int, amount: int, by_proxy: bool) -> Refusal | None:
        at = self.clock
        actual = rules.refusal(self.standing(), self.as_bidder(bidder), amount, at)
        self.attempts.append(
            Attempt(
                bidder=bidder,
                amount=amount,
                at=at,
                status=self.status,
                by_proxy=by_proxy,
                qualified=bidder in self.config.qualified,
                joined=bidder in self.joined,
                listing_quoter=bidder in self.listing_quoters,
                highest=self.highest,
                leader=self.leader,
                model_open=self.model_open(at),
                expected=self.expected_refusal(bidder, amount, at),
                actual=actual,
            )
        )
        return actual

    def record(self, bidder: int, amount: int, by_proxy: bool) -> None:
        at = self.clock
        self.accepted.append(
            Accepted(bidder, amount, at, self.status, by_proxy, self.model_window())
        )
        self.highest, self.leader = amount, bidder
        if self.status == LISTING:
            self.listing_quoters.add(bidder)
        elif self.status == TIMED:
            self.timed_bids += 1
            self.restart_countdown(at)

    def restart_countdown(self, at: datetime) -> None:
        """R-25a: 5 minutes from the bid's receipt (or from the start of timed bidding)."""
        self.countdown = rules.countdown_deadline(at)
        self.model_countdown = at + FIVE_MINUTES
        self.restarts.append(Restart(at, self.model_countdown, self.countdown))

    def run_proxies(self) -> None:
        assert self.highest is not None
        orders = tuple(
            rules.ProxyOrder(application_id=b, max_fen=m, set_seq=s)
            for b, (m, s) in sorted(self.proxies.items())
        )
        expected = self.expected_proxy_bids()
        placed = rules.proxy_bids(self.highest, self.leader, INC, self.config.cap, orders)
        actual = tuple((p.application_id, p.amount_fen) for p in placed)
        self.proxy_runs.append(
            ProxyRun(self.clock, self.highest, self.leader, orders, expected, actual)
        )
        for bidder, amount in actual:
            self.judge(bidder, amount, by_proxy=True)
            self.record(bidder, amount, by_proxy=True)

    # -- the clock ------------------------------------------------------------

    def advance(self, inclusive: bool = True) -> None:
        """Run what is due at the clock. With `inclusive` false, a deadline falling
        exactly on the clock has not been processed yet (its job runs just after)."""
        now = self.clock

        def due(instant: datetime) -> bool:
            return instant <= now if inclusive else instant < now

        for _ in range(10):
            if self.status == LISTING and due(LISTING_DEADLINE):
                if not self.listing_quoters:
                    self.decide(LISTING_DEADLINE, timed=False)  # R-22(3) at once
                else:
                    self.status = INQUIRY
                    self.inquiry_end = LISTING_DEADLINE + FIVE_MINUTES
            elif (  # a window opens here: always run, whatever `inclusive` says
                self.status == INQUIRY and self.inquiry_end is not None and self.inquiry_end <= now
            ):
                if self.joined:
                    self.status = TIMED  # exactly when the 5 minutes end
                    self.timed_start = self.inquiry_end
                    self.restart_countdown(self.inquiry_end)
                else:
                    self.decide(self.inquiry_end, timed=False)
            elif self.status == TIMED and self.countdown is not None:
                self.emit_warnings(now)
                if not due(self.countdown):
                    return
                self.emit_warnings(self.countdown)
                self.decide(self.countdown, timed=True)
            else:
                return
        raise AssertionError("the lot never settles")

    def emit_warnings(self, until: datetime) -> None:
        """R-25b: warnings of the countdown in force that have fallen due by `until`."""
        assert self.countdown is not None
        done = {(w.deadline, w.seconds_left) for w in self.warned}
        for seconds, at in sorted(rules.warning_times(self.countdown).items()):
            if at <= until and at < self.countdown and (self.countdown, seconds) not in done:
                self.warned.append(Warned(self.countdown, seconds, at))

    def decide(self, at: datetime, timed: bool) -> None:
        decisions = [
            (reserve, self.expected_outcome(timed, reserve), self.actual_outcome(timed, reserve))
            for reserve in self.reserves_to_try()
        ]
        _, expected, actual = decisions[0]
        self.decision = Decision(at, timed, expected, actual, tuple(decisions[1:]))
        self.status = DECIDED
        self.proxies.clear()

    def reserves_to_try(self) -> list[int | None]:
        """The lot's own reserve first, then none and reserves around the price."""
        around = [] if self.highest is None else [self.highest + d for d in (-1, 0, 1)]
        return [self.config.reserve, None, *around]

    def actual_outcome(self, timed: bool, reserve: int | None) -> Outcome:
        if timed:
            return rules.outcome_of_timed_bidding(
                self.timed_bids, self.highest, self.leader, reserve
            )
        return rules.outcome_without_timed_bidding(
            len(self.listing_quoters), self.highest, self.leader, reserve
        )

    def next_instant(self) -> datetime:
        candidates = [LISTING_START, LISTING_DEADLINE]
        if self.status == INQUIRY and self.inquiry_end is not None:
            candidates.append(self.inquiry_end)
        if self.status == TIMED and self.model_countdown is not None:
            candidates.append(self.model_countdown)
            candidates.extend(self.model_countdown - left for left in WARNINGS_LEFT)
        later = [c for c in candidates if c > self.clock]
        return min(later) if later else self.clock + timedelta(minutes=1)

    # -- operations -------------------------------------------------------------

    def op_wait(self, how: str, size: int, inclusive: bool) -> None:
        """Move the clock by `size` seconds or hours, or onto an instant at which
        something is due, shifted by `size` microseconds; then run what is due."""
        if how == "seconds":
            self.clock += timedelta(seconds=size)
        elif how == "hours":
            self.clock += timedelta(hours=size)
        else:
            targets = {
                "next": self.next_instant(),
                "listing_start": LISTING_START,
                "listing_deadline": LISTING_DEADLINE,
                "inquiry_end": self.inquiry_end or self.clock,
                "countdown": self.model_countdown or self.clock,
            }
            self.clock = max(self.clock, targets[how] + timedelta(microseconds=size))
        self.advance(inclusive)

    def amount_for(self, kind: str, k: int) -> int:
        minimum = START if self.highest is None else self.highest + INC
        cap = self.config.cap
        return {
            "below_start": START - 1 if k == 1 else START - (k - 1) * INC,
            "start": START,
            "minimum_minus_1": minimum - 1,
            "minimum": minimum,
            "minimum_plus_k": minimum + k * INC,
            "minimum_plus_odd": minimum + (k - 1) * INC + INC // 2,
            "at_cap": cap if cap is not None else minimum,
            "above_cap": (cap if cap is not None else minimum + 40 * INC) + 1,
        }[kind]

    def op_quote(self, who: tuple[int, str], kind: str, k: int, inclusive: bool) -> None:
        self.advance(inclusive)
        bidder = self.bidder(who)
        amount = self.amount_for(kind, k)
        if self.judge(bidder, amount, by_proxy=False) is None:
            self.record(bidder, amount, by_proxy=False)
            if self.status == TIMED:
                self.run_proxies()  # before the call answers

    def op_join(self, who: tuple[int, str]) -> None:
        """R-21, R-22, R-24: answer the inquiry within its 5 minutes."""
        self.advance()
        bidder = self.bidder(who)
        if self.status != INQUIRY:
            return
        if bidder in self.listing_quoters:
            self.joined.add(bidder)
        else:
            self.refused_joins.add(bidder)

    def op_proxy(self, who: tuple[int, str], k: int, odd: int) -> None:
        """R-26: a joined bidder sets (or replaces) its proxy during timed bidding."""
        self.advance()
        bidder = self.bidder(who)
        if self.status != TIMED or bidder not in self.joined or self.highest is None:
            return
        maximum = self.highest + INC + k * INC + odd
        if maximum < self.highest + INC:
            return  # below the next minimum bid: refused
        self.proxy_seq += 1
        self.proxies[bidder] = (maximum, self.proxy_seq)
        self.run_proxies()

    def op_cancel(self, who: tuple[int, str]) -> None:
        self.advance()
        if self.status == TIMED:
            self.proxies.pop(self.bidder(who), None)

    def bidder(self, who: tuple[int, str]) -> int:
        """The `index`-th bidder of a pool: everyone, the qualified, the listing quoters,
        the joined, or the listing quoters not (yet) joined; optionally without the
        leader. An empty pool falls back to everyone (but the leader)."""
        index, pool = who
        pools = {
            "any": set(self.config.bidders),
            "qualified": set(self.config.qualified),
            "quoters": self.listing_quoters,
            "joined": self.joined,
            "waiting": self.listing_quoters - self.joined,
        }
        members = pools[pool.removesuffix("_not_leading")] or pools["any"]
        if pool.endswith("_not_leading"):
            members = (members - {self.leader}) or (pools["any"] - {self.leader})
        chosen = sorted(members)
        return chosen[index % len(chosen)]

    def apply(self, op: Op) -> None:
        name, *args = op
        getattr(self, f"op_{name}")(*args)

    def finish(self) -> None:
        for _ in range(20):
            if self.status == DECIDED:
                return
            self.op_wait("next", 0, True)
        raise AssertionError("the lot was never decided")


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------


def _same(value: T) -> T:
    return value


CAPS = st.one_of(
    st.none(),
    st.none().map(_same),
    st.builds(
        lambda k, odd: START + k * INC + odd, st.integers(1, 12), st.sampled_from([0, INC // 2])
    ),
)
RESERVES = st.none() | st.builds(
    lambda k, d: START + k * INC + d, st.integers(0, 4), st.sampled_from([-1, 0, 0, 0, 1])
)


def lot_config(
    count: int, unqualified: int | None, cap: int | None, reserve: int | None
) -> LotConfig:
    bidders = BIDDER_IDS[:count]
    qualified = frozenset(b for i, b in enumerate(bidders) if i != unqualified)
    return LotConfig(bidders, qualified, cap, reserve)


LOT_CONFIGS = st.builds(
    lot_config, st.integers(3, 5), st.sampled_from([None, 1, 2]), CAPS, RESERVES
)
BUSY_CONFIGS = st.builds(
    lot_config,
    st.integers(4, 5),
    st.sampled_from([None, 2]),
    st.none() | st.integers(15, 30).map(lambda k: START + k * INC),
    RESERVES,
)


def operations(name: str, *fields: Sequence[object]) -> st.SearchStrategy[Op]:
    """Every combination of the fields, drawn in one go (cheaper than a tuple of draws);
    values repeated in a field are drawn that much more often."""
    return st.sampled_from([(name, *values) for values in product(*fields)])


POOLS = ("any", "qualified_not_leading", "quoters", "joined", *["joined_not_leading"] * 3)
WHO = list(product(range(5), POOLS))
JOINER = list(product(range(5), ["any", "quoters", "waiting", "waiting"]))
AMOUNT_KINDS = (
    "below_start",
    "start",
    "minimum_minus_1",
    *["minimum"] * 5,
    "minimum_plus_k",
    "minimum_plus_k",
    "minimum_plus_odd",
    "at_cap",
    "above_cap",
)
BOTH = (False, True)
QUOTE = operations("quote", WHO, AMOUNT_KINDS, range(1, 4), BOTH)
JOIN = operations("join", JOINER)
PROXY_WHO = list(product(range(5), ["quoters", "joined", *["joined_not_leading"] * 3]))
PROXY = operations("proxy", PROXY_WHO, range(-1, 7), [0, 1, -1, INC // 2])
SOLO_QUOTE = operations("quote", [(0, "qualified")], AMOUNT_KINDS, range(1, 4), BOTH)
CANCEL = operations("cancel", WHO)
SHORT_WAIT = operations("wait", ["seconds"], range(121), BOTH)
LONG_WAIT = operations("wait", ["hours"], range(31), BOTH)
NEAR = [0, 0, -1, -1_000_000, 1_000_000]  # µs around an instant
PROBE = operations("wait", ["next"], NEAR, BOTH)
TIMED_STEP = operations("wait", ["seconds"], [*range(90), 240, 299, 300, 301], BOTH)
TIMED_JUMP = operations("wait", ["next", "next", "next", "countdown"], NEAR, BOTH)
COUNTDOWN_PROBE = operations("wait", ["countdown"], NEAR, [False])


def wait_for(how: str) -> Op:
    return ("wait", how, 0, True)


def weighted(*choices: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """One of the strategies, each as often as its weight says (`one_of` alone would
    merge repeated strategies into one branch)."""
    return st.one_of(*(s.map(_same) for weight, s in choices for _ in range(weight)))


BEFORE_LISTING = st.lists(
    weighted(
        (1, QUOTE),
        (1, SHORT_WAIT),
        (1, operations("wait", ["listing_start"], [-1, -1_000_000], BOTH)),
    ),
    max_size=3,
)
LISTING_OPS = weighted(
    (
        4,
        st.lists(
            weighted((8, QUOTE), (1, SHORT_WAIT), (1, LONG_WAIT), (1, JOIN), (1, PROXY)),
            min_size=3,
            max_size=10,
        ),
    ),
    (1, st.lists(weighted((3, SOLO_QUOTE), (1, SHORT_WAIT)), min_size=1, max_size=3)),
)
AT_LISTING_DEADLINE = st.lists(QUOTE, max_size=2)
INQUIRY_OPS = weighted(
    (
        3,
        st.lists(
            weighted((6, JOIN), (1, QUOTE), (1, SHORT_WAIT), (1, PROXY)), min_size=2, max_size=6
        ),
    ),
    (1, st.lists(weighted((1, QUOTE), (1, SHORT_WAIT), (1, PROXY)), max_size=2)),  # no joins
)
AT_INQUIRY_END = st.lists(weighted((1, QUOTE), (1, JOIN)), max_size=2)
TIMED_OPS = st.lists(
    weighted((6, QUOTE), (5, PROXY), (1, CANCEL), (1, JOIN), (2, TIMED_STEP), (1, TIMED_JUMP)),
    min_size=2,
    max_size=24,
)
AT_COUNTDOWN = st.lists(QUOTE, max_size=2)

# A busier variant: several rivals quote and all of them join, then mostly proxies.
RIVAL_QUOTE = operations(
    "quote",
    list(product(range(5), ["qualified_not_leading"])),
    ["minimum", "minimum", "minimum_plus_k"],
    range(1, 4),
    [True],
)
BUSY_LISTING_OPS = st.lists(RIVAL_QUOTE, min_size=2, max_size=6)
BUSY_INQUIRY_OPS = st.lists(
    operations("join", list(product(range(5), ["waiting"]))), min_size=2, max_size=5
)
BUSY_TIMED_OPS = st.lists(
    weighted((4, QUOTE), (6, PROXY), (1, CANCEL), (2, TIMED_STEP), (1, TIMED_JUMP)),
    min_size=4,
    max_size=24,
)


@st.composite
def operation_lists(
    draw: st.DrawFn,
    listing: st.SearchStrategy[Operations],
    inquiry: st.SearchStrategy[Operations],
    timed: st.SearchStrategy[Operations],
) -> Operations:
    """Random operations, grouped so that most runs live through every phase: a few
    before the listing opens, the listing, probes around its deadline, the inquiry,
    probes around its end, timed bidding, probes around the end of the countdown.
    Any operation may come in any phase."""
    return [
        *draw(BEFORE_LISTING),
        wait_for("listing_start"),
        *draw(listing),
        draw(PROBE),  # onto or around the listing deadline
        *draw(AT_LISTING_DEADLINE),
        wait_for("listing_deadline"),
        *draw(inquiry),
        draw(PROBE),  # onto or around the end of the inquiry
        *draw(AT_INQUIRY_END),
        wait_for("inquiry_end"),
        *draw(timed),
        draw(COUNTDOWN_PROBE),  # onto or around the end of the countdown
        *draw(AT_COUNTDOWN),
    ]


ProxyBook = tuple[int, int | None, int | None, dict[int, tuple[int, int]]]


@st.composite
def proxy_books(draw: st.DrawFn) -> ProxyBook:
    """Highest, leader, cap and proxies (bidder → (maximum, set sequence)) in any state,
    including ones a lot played step by step never reaches: several proxies of bidders
    other than the leader able to bid at once (in a lot, every price change runs the
    proxies, so afterwards only the leader's proxy can have room left)."""
    highest = START + draw(st.integers(0, 10)) * INC
    owners = draw(st.lists(st.sampled_from(BIDDER_IDS), unique=True, max_size=5))
    seqs = draw(st.permutations(range(1, len(owners) + 1)))
    maxima = [
        highest + draw(st.integers(-1, 8)) * INC + draw(st.sampled_from([0, 1, -1, INC // 2]))
        for _ in owners
    ]
    leader = draw(st.none() | st.sampled_from(BIDDER_IDS))
    cap = draw(st.none() | st.integers(0, 12).map(lambda k: highest + k * INC + INC // 2))
    return highest, leader, cap, dict(zip(owners, zip(maxima, seqs, strict=True), strict=True))


Scenario = tuple[LotConfig, Operations]
SCENARIOS = st.tuples(LOT_CONFIGS, operation_lists(LISTING_OPS, INQUIRY_OPS, TIMED_OPS))
BUSY_SCENARIOS = st.one_of(
    SCENARIOS,
    st.tuples(BUSY_CONFIGS, operation_lists(BUSY_LISTING_OPS, BUSY_INQUIRY_OPS, BUSY_TIMED_OPS)),
)

auction_property = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

Check = Callable[[ReferenceLot], None]


def run_auction(config: LotConfig, operations: Operations, check: Check) -> ReferenceLot:
    """Play the operations on a lot, checking after every step; then let it be decided."""
    lot = ReferenceLot(config)
    check(lot)
    for op in operations:
        lot.apply(op)
        check(lot)
    for _ in range(20):
        if lot.status == DECIDED:
            break
        lot.op_wait("next", 0, True)
        check(lot)
    assert lot.status == DECIDED
    return lot


# ---------------------------------------------------------------------------
# Invariants, one per rule
# ---------------------------------------------------------------------------


def check_increment(lot: ReferenceLot) -> None:
    """R-19b: every accepted quote beats the previous one by at least the increment."""
    for before, after in pairwise(lot.accepted):
        assert after.amount - before.amount >= INC, (before, after)
    for a in lot.attempts:
        if a.highest is not None and a.expected <= {Refusal.INCREMENT_TOO_SMALL}:
            want = Refusal.INCREMENT_TOO_SMALL if a.expected else None
            assert a.actual == want, a


def check_start_price(lot: ReferenceLot) -> None:
    """R-19a: only qualified bidders quote; the first quote is not below the start price."""
    if lot.accepted:
        assert lot.accepted[0].amount >= START, lot.accepted[0]
    for q in lot.accepted:
        assert q.bidder in lot.config.qualified, q
    for a in lot.attempts:
        if not a.qualified:
            assert a.actual == Refusal.NOT_QUALIFIED, a
        elif a.highest is None and a.expected <= {Refusal.BELOW_START_PRICE}:
            want = Refusal.BELOW_START_PRICE if a.expected else None
            assert a.actual == want, a


def check_leader_never_twice(lot: ReferenceLot) -> None:
    """R-19d, R-23: the leader cannot quote again until outbid, by hand or by proxy."""
    for before, after in pairwise(lot.accepted):
        assert after.bidder != before.bidder, (before, after)
    for a in lot.attempts:
        if a.expected == {Refusal.ALREADY_HIGHEST}:
            assert a.actual == Refusal.ALREADY_HIGHEST, a
    for run in lot.proxy_runs:
        leading = run.leader
        for bidder, _ in run.actual:
            assert bidder != leading, run
            leading = bidder


def check_deadlines(lot: ReferenceLot) -> None:
    """R-25c (and R-18, R-24): nothing is accepted outside an open window; a quote at
    or after a deadline is refused as NOT_OPEN."""
    for q in lot.accepted:
        assert q.status in (LISTING, TIMED), q
        assert q.window is not None and q.window[0] <= q.at < q.window[1], q
    for a in lot.attempts:
        if a.qualified and not a.model_open:
            assert a.actual == Refusal.NOT_OPEN, a


def check_join_needs_listing_quote(lot: ReferenceLot) -> None:
    """R-21: only listing quoters join; nobody else bids in timed bidding."""
    assert lot.joined <= lot.listing_quoters
    assert not lot.refused_joins & lot.joined
    for q in lot.accepted:
        if q.status == TIMED:
            assert q.bidder in lot.listing_quoters, q
    for a in lot.attempts:
        if a.status == TIMED and a.qualified and a.model_open and not a.listing_quoter:
            assert a.actual == Refusal.NOT_A_PARTICIPANT, a


def check_timed_needs_join(lot: ReferenceLot) -> None:
    """R-22: a bidder who did not join cannot bid in timed bidding."""
    for q in lot.accepted:
        if q.status == TIMED:
            assert q.bidder in lot.joined, q
    for a in lot.attempts:
        if a.expected == {Refusal.NOT_A_PARTICIPANT}:
            assert a.actual == Refusal.NOT_A_PARTICIPANT, a


def check_proxy_run(run: ProxyRun, cap: int | None) -> None:
    maxima = {o.application_id: o.max_fen for o in run.orders}
    price, leading = run.highest, run.leader
    for bidder, amount in run.actual:
        assert bidder in maxima, run
        assert bidder != leading, run
        assert amount <= maxima[bidder], run
        assert cap is None or amount <= cap, run
        assert amount == price + INC, run
        price, leading = amount, bidder
    assert run.actual == run.expected, run


def check_proxies(lot: ReferenceLot) -> None:
    """R-26: proxies bid the next minimum, earliest set first, never above their maximum
    (nor the cap); each proxy bid is a valid ordinary bid."""
    for run in lot.proxy_runs:
        check_proxy_run(run, lot.config.cap)
    for a in lot.attempts:
        if a.by_proxy:
            assert not a.expected, a
    if lot.status == TIMED and lot.highest is not None:  # no proxy left able to bid
        wanted = lot.highest + INC
        if lot.config.cap is None or wanted <= lot.config.cap:
            for bidder, (maximum, _) in lot.proxies.items():
                assert bidder == lot.leader or maximum < wanted, (bidder, lot.proxies)


def check_outcome(lot: ReferenceLot) -> None:
    """R-22, R-23, R-27: the outcome and the rule that names it."""
    if lot.decision is not None:
        assert lot.decision.actual == lot.decision.expected, lot.decision
        for reserve, expected, actual in lot.decision.other_reserves:
            assert actual == expected, (reserve, lot.decision)


def check_countdown_restart(lot: ReferenceLot) -> None:
    """R-25a: each countdown ends 5 minutes after the bid that (re)started it."""
    for r in lot.restarts:
        assert r.actual == r.expected == r.at + FIVE_MINUTES, r
    timed = [q for q in lot.accepted if q.status == TIMED]
    if lot.timed_start is not None:
        assert [r.at for r in lot.restarts] == [lot.timed_start] + [q.at for q in timed]


def check_warnings(lot: ReferenceLot) -> None:
    """R-25b: three warnings in the last minute of each countdown, at 60, 30, 10 s left."""
    seen: set[tuple[datetime, int]] = set()
    for w in lot.warned:
        assert (w.deadline, w.seconds_left) not in seen, w
        seen.add((w.deadline, w.seconds_left))
        assert w.deadline - timedelta(minutes=1) <= w.at < w.deadline, w
        assert w.at == w.deadline - timedelta(seconds=w.seconds_left), w
    if lot.decision is not None and lot.decision.timed:
        last = lot.decision.at
        times = sorted(w.at for w in lot.warned if w.deadline == last)
        assert times == sorted(last - left for left in WARNINGS_LEFT), times


def check_agreement(lot: ReferenceLot) -> None:
    """Every quote: accepted exactly when the model accepts; refused with one of the
    codes the model names (order: qualification, window, participation, leader, amount)."""
    for a in lot.attempts:
        if not a.expected:
            assert a.actual is None, a
        else:
            assert a.actual in a.expected, a


# ---------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------

scenarios = given(SCENARIOS)
busy_scenarios = given(BUSY_SCENARIOS)


@auction_property
@scenarios
def test_r19b_accepted_amounts_strictly_increase_by_at_least_the_increment(
    scenario: Scenario,
) -> None:
    run_auction(*scenario, check_increment)


@auction_property
@scenarios
def test_r19a_first_quote_not_below_start_price(scenario: Scenario) -> None:
    run_auction(*scenario, check_start_price)


@auction_property
@busy_scenarios
def test_r19d_leader_never_quotes_twice_in_a_row(scenario: Scenario) -> None:
    run_auction(*scenario, check_leader_never_twice)


@auction_property
@scenarios
def test_r25c_no_acceptance_at_or_after_a_deadline(scenario: Scenario) -> None:
    run_auction(*scenario, check_deadlines)


@auction_property
@scenarios
def test_r21_only_listing_quoters_may_join_timed_bidding(scenario: Scenario) -> None:
    run_auction(*scenario, check_join_needs_listing_quote)


@auction_property
@scenarios
def test_r22_not_joined_cannot_bid_in_timed_bidding(scenario: Scenario) -> None:
    run_auction(*scenario, check_timed_needs_join)


@auction_property
@given(scenario=BUSY_SCENARIOS, book=proxy_books())
def test_r26_proxy_never_bids_above_its_maximum_and_earliest_set_bids_first(
    scenario: Scenario, book: ProxyBook
) -> None:
    run_auction(*scenario, check_proxies)
    # the same rule on proxy books in any state, several proxies contending
    highest, leader, cap, proxies = book
    orders = tuple(rules.ProxyOrder(b, m, q) for b, (m, q) in proxies.items())
    placed = rules.proxy_bids(highest, leader, INC, cap, orders)
    actual = tuple((p.application_id, p.amount_fen) for p in placed)
    expected = reference_proxy_bids(highest, leader, cap, proxies)
    check_proxy_run(ProxyRun(TIMED_START, highest, leader, orders, expected, actual), cap)


@auction_property
@scenarios
def test_r22_r23_r27_outcome_is_the_one_the_regulation_names(scenario: Scenario) -> None:
    run_auction(*scenario, check_outcome)


@auction_property
@busy_scenarios
def test_r25a_each_timed_bid_restarts_the_countdown_at_five_minutes_from_receipt(
    scenario: Scenario,
) -> None:
    run_auction(*scenario, check_countdown_restart)


@auction_property
@busy_scenarios
def test_r25b_three_warnings_in_the_last_minute(scenario: Scenario) -> None:
    run_auction(*scenario, check_warnings)


@auction_property
@scenarios
def test_rules_agree_with_the_model_on_every_quote(scenario: Scenario) -> None:
    run_auction(*scenario, check_agreement)


# ---------------------------------------------------------------------------
# Worked examples
# ---------------------------------------------------------------------------

A, B, C = 101, 102, 103


def timed_standing(highest: int, leader: int, cap: int | None = None) -> rules.Standing:
    window = rules.quoting_window(
        "timed_bidding", LISTING_START, LISTING_DEADLINE, TIMED_START + FIVE_MINUTES, TIMED_START
    )
    return rules.Standing(START, INC, cap, highest, leader, window)


def listing_standing(highest: int | None, leader: int | None) -> rules.Standing:
    window = rules.quoting_window("listing", LISTING_START, LISTING_DEADLINE, None, None)
    return rules.Standing(START, INC, None, highest, leader, window)


def joined(bidder: int) -> rules.Bidder:
    return rules.Bidder(application_id=bidder, qualified=True, joined_timed=True)


def test_r23_listing_leader_leads_when_timed_bidding_starts() -> None:
    listing_high = START + 5 * INC
    standing = timed_standing(listing_high, leader=A)
    at = TIMED_START
    assert rules.next_minimum(standing) == listing_high + INC
    assert rules.refusal(standing, joined(A), listing_high + INC, at) == Refusal.ALREADY_HIGHEST
    assert rules.refusal(standing, joined(B), listing_high, at) == Refusal.INCREMENT_TOO_SMALL
    assert rules.refusal(standing, joined(B), listing_high + INC - 1, at) == (
        Refusal.INCREMENT_TOO_SMALL
    )
    assert rules.refusal(standing, joined(B), listing_high + INC, at) is None
    # A's proxy waits while A leads, then answers B.
    proxy_a = rules.ProxyOrder(application_id=A, max_fen=START + 20 * INC, set_seq=1)
    assert rules.proxy_bids(listing_high, A, INC, None, [proxy_a]) == []
    assert rules.proxy_bids(listing_high + INC, B, INC, None, [proxy_a]) == [
        rules.ProxyBid(A, listing_high + 2 * INC)
    ]


def test_r23_listing_leader_leads_through_the_whole_auction() -> None:
    """The same story played on the reference model, end to end."""
    config = LotConfig(BIDDER_IDS[:3], frozenset(BIDDER_IDS[:3]), cap=None, reserve=None)
    a, b, c = (0, "any"), (1, "any"), (2, "any")  # A, B, C
    lot = ReferenceLot(config)
    lot.op_wait("next", 0, True)  # listing opens
    lot.op_quote(b, "start", 1, True)
    lot.op_quote(a, "minimum", 1, True)
    lot.op_wait("next", 0, True)  # listing deadline
    assert lot.status == INQUIRY
    lot.op_join(a)
    lot.op_join(b)
    lot.op_join(c)  # C never quoted: R-21
    assert lot.joined == {A, B}
    assert lot.refused_joins == {C}
    lot.op_wait("next", -1, True)
    assert lot.status == INQUIRY  # everyone answered, still no timed bidding
    lot.op_wait("next", 0, True)
    assert lot.status == TIMED
    assert lot.timed_start == TIMED_START
    lot.op_quote(a, "minimum", 1, True)
    assert lot.attempts[-1].actual == Refusal.ALREADY_HIGHEST
    lot.op_proxy(a, 3, 0)  # A's proxy: nothing to do while A leads
    assert len(lot.accepted) == 2
    lot.op_wait("seconds", 100, True)
    lot.op_quote(b, "minimum", 1, True)  # B outbids A; A's proxy answers at once
    assert [(q.bidder, q.amount, q.by_proxy) for q in lot.accepted[2:]] == [
        (B, START + 2 * INC, False),
        (A, START + 3 * INC, True),
    ]
    assert lot.countdown == TIMED_START + timedelta(seconds=100) + FIVE_MINUTES
    lot.op_quote(c, "minimum", 1, True)
    assert lot.attempts[-1].actual == Refusal.NOT_A_PARTICIPANT
    lot.finish()
    assert lot.decision is not None
    assert lot.decision.actual == Outcome(True, A, START + 3 * INC, "R-23")
    for check in ALL_CHECKS:
        check(lot)


def test_r26_two_proxies_with_equal_maxima_are_decided_by_the_sequence() -> None:
    high = START + 10 * INC
    for room, winner in ((3, B), (4, C)):
        same_max = high + room * INC
        first = rules.ProxyOrder(application_id=B, max_fen=same_max, set_seq=7)
        second = rules.ProxyOrder(application_id=C, max_fen=same_max, set_seq=9)
        # A leads; B sets its proxy first and outbids A at once
        assert rules.proxy_bids(high, A, INC, None, [first]) == [rules.ProxyBid(B, high + INC)]
        # then C sets the same maximum: C and B take turns until one cannot pay
        bids = rules.proxy_bids(high + INC, B, INC, None, [second, first])
        assert [b.amount_fen for b in bids] == [high + k * INC for k in range(2, room + 1)]
        assert [b.application_id for b in bids] == [C, B, C, B][: room - 1]
        assert bids[-1] == rules.ProxyBid(winner, same_max)
    # both able to bid at once (A leads): the earlier-set proxy goes first
    same_max = high + 3 * INC
    first = rules.ProxyOrder(application_id=B, max_fen=same_max, set_seq=7)
    second = rules.ProxyOrder(application_id=C, max_fen=same_max, set_seq=9)
    assert rules.proxy_bids(high, A, INC, None, [second, first]) == [
        rules.ProxyBid(B, high + INC),
        rules.ProxyBid(C, high + 2 * INC),
        rules.ProxyBid(B, high + 3 * INC),
    ]


def test_r26_proxy_bids_stop_at_the_price_cap() -> None:
    high = START + 10 * INC
    cap = high + 2 * INC + INC // 2
    proxies = [
        rules.ProxyOrder(application_id=B, max_fen=high + 50 * INC, set_seq=1),
        rules.ProxyOrder(application_id=C, max_fen=high + 50 * INC, set_seq=2),
    ]
    bids = rules.proxy_bids(high, A, INC, cap, proxies)
    assert bids == [rules.ProxyBid(B, high + INC), rules.ProxyBid(C, high + 2 * INC)]
    standing = timed_standing(high + 2 * INC, leader=C, cap=cap)
    assert rules.refusal(standing, joined(B), cap, TIMED_START) == Refusal.INCREMENT_TOO_SMALL
    at_cap = START + 12 * INC
    assert rules.proxy_bids(high, A, INC, at_cap, proxies)[-1] == rules.ProxyBid(C, at_cap)
    standing = timed_standing(high, leader=A, cap=at_cap)
    assert rules.refusal(standing, joined(B), at_cap + 1, TIMED_START) == Refusal.ABOVE_PRICE_CAP


def test_r19a_below_start_price_and_r19b_increment_too_small_codes() -> None:
    at = LISTING_START + timedelta(days=1)
    bidder = rules.Bidder(application_id=A, qualified=True, joined_timed=False)
    empty = listing_standing(None, None)
    assert rules.refusal(empty, bidder, START - 1, at) == Refusal.BELOW_START_PRICE
    assert rules.refusal(empty, bidder, START, at) is None
    assert rules.refusal(empty, bidder, START + INC // 2, at) is None  # any amount at or above
    quoted = listing_standing(START, B)
    assert rules.refusal(quoted, bidder, START - 1, at) == Refusal.INCREMENT_TOO_SMALL
    assert rules.refusal(quoted, bidder, START, at) == Refusal.INCREMENT_TOO_SMALL
    assert rules.refusal(quoted, bidder, START + INC - 1, at) == Refusal.INCREMENT_TOO_SMALL
    assert rules.refusal(quoted, bidder, START + INC, at) is None
    assert rules.refusal(quoted, bidder, START + INC + 1, at) is None
    unqualified = rules.Bidder(application_id=C, qualified=False, joined_timed=False)
    assert rules.refusal(empty, unqualified, START, at) == Refusal.NOT_QUALIFIED


def test_r25c_the_deadline_instant_itself_is_closed() -> None:
    bidder = rules.Bidder(application_id=A, qualified=True, joined_timed=True)
    listing = listing_standing(START, B)
    tick = timedelta(microseconds=1)
    assert rules.refusal(listing, bidder, START + INC, LISTING_DEADLINE - tick) is None
    assert rules.refusal(listing, bidder, START + INC, LISTING_DEADLINE) == Refusal.NOT_OPEN
    assert rules.refusal(listing, bidder, START + INC, LISTING_START - tick) == Refusal.NOT_OPEN
    timed = timed_standing(START, leader=B)
    end = TIMED_START + FIVE_MINUTES
    assert rules.refusal(timed, bidder, START + INC, TIMED_START) is None
    assert rules.refusal(timed, bidder, START + INC, end - tick) is None
    assert rules.refusal(timed, bidder, START + INC, end) == Refusal.NOT_OPEN
    assert rules.quoting_window("inquiry", LISTING_START, LISTING_DEADLINE, None, None) is None


def test_r22_r23_r27_outcomes_by_example() -> None:
    high = START + 3 * INC
    without = rules.outcome_without_timed_bidding
    assert without(0, None, None, None) == Outcome(False, None, None, "R-22(3)")
    assert without(1, high, A, high) == Outcome(True, A, high, "R-22(1)")
    assert without(1, high, A, high + 1) == Outcome(False, None, None, "R-22(3)")
    assert without(2, high, A, None) == Outcome(True, A, high, "R-22(2)")
    assert without(3, high, A, high + 1) == Outcome(False, None, None, "R-22(3)")
    timed = rules.outcome_of_timed_bidding
    assert timed(0, high, A, None) == Outcome(True, A, high, "R-27")
    assert timed(0, high, A, high + 1) == Outcome(False, None, None, "R-27")
    assert timed(4, high, B, high) == Outcome(True, B, high, "R-23")
    assert timed(4, high, B, high + 1) == Outcome(False, None, None, "R-23")


def test_r25a_r25b_countdown_and_warnings_by_example() -> None:
    received = TIMED_START + timedelta(minutes=3, seconds=7)
    deadline = rules.countdown_deadline(received)
    assert deadline == received + FIVE_MINUTES
    assert rules.warning_times(deadline) == {
        60: deadline - timedelta(seconds=60),
        30: deadline - timedelta(seconds=30),
        10: deadline - timedelta(seconds=10),
    }


ALL_CHECKS: tuple[Check, ...] = (
    check_increment,
    check_start_price,
    check_leader_never_twice,
    check_deadlines,
    check_join_needs_listing_quote,
    check_timed_needs_join,
    check_proxies,
    check_outcome,
    check_countdown_restart,
    check_warnings,
    check_agreement,
)
