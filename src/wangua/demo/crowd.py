"""A small crowd of simulated bidders, acting over real HTTP while the demonstration runs.

Once the server answers, the crowd logs in (certificate proof plus password)
and, on its own schedule:

- quotes on the lots in their listing period now and then (a few a minute);
- answers the live lot's inquiry when its listing deadline has passed;
- bids in the live lot's timed bidding a few times with pauses, so the
  countdown visibly restarts; one bidder hands its bidding to a proxy;
- then stops bidding, so that the countdown runs out and the lot is decided,
  and reports the result.

Every action is guarded: an error is logged and the crowd carries on; the
whole crowd is bounded in time and in actions, and stops with the server.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from wangua.demo.data import CROWD
from wangua.demo.seed import DemoAccount, DemoInfo
from wangua.demo.texts import STATUS_NAMES, wan
from wangua.identity.certificates import sign_message
from wangua.kit.times import SHANGHAI, wall_now

log = logging.getLogger(__name__)

RUN_LIMIT = 45 * 60.0
"""Seconds after which the crowd stops whatever it is doing."""
LISTING_QUOTES = 24
"""Listing-period quotes the crowd places in all."""
TIMED_TURNS = (5, 7)
"""Turns (bids, and one proxy) the crowd takes in timed bidding: a random number in this range."""
PROXY_TURN = 2
"""The turn at which one bidder hands its bidding to a proxy."""
HTTP_TIMEOUT = 10.0
STARTUP_TIMEOUT = 60.0
RETRY = 5.0
DECIDED = ("sold", "unsold", "suspended", "terminated", "voided")

Task = Callable[[], float | None]
"""One strand of the crowd's behaviour: acts once, answers the seconds until it wants
to act again, or None when it is finished."""


@dataclass
class Member:
    """A logged-in crowd bidder and its bidder numbers (lot id → number)."""

    account: DemoAccount
    http: httpx.Client
    numbers: dict[int, str]

    @property
    def name(self) -> str:
        return f"{self.account.username}({self.account.name})"


class Crowd:
    """The simulated bidders, in one background thread."""

    def __init__(self, base_url: str, info: DemoInfo, rng: random.Random | None = None) -> None:
        self.base_url = base_url
        self.info = info
        self.rng = rng or random.Random()
        self.live_id = info.live.id
        self.listing_ids = [lot.id for lot in info.lots if lot.status == "listing"]
        self.members: list[Member] = []
        self.inquiry_answered = False
        self.joined: list[Member] = []
        self.proxy_holder: Member | None = None
        self.listing_left = LISTING_QUOTES
        self.timed_turns = self.rng.randint(*TIMED_TURNS)
        self.turns_taken = 0
        self._stop = threading.Event()
        self._public = httpx.Client(base_url=base_url, timeout=HTTP_TIMEOUT)
        self._thread = threading.Thread(target=self._run, name="wangua-demo-crowd", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the crowd to stop and wait a little for it (it is a daemon thread)."""
        self._stop.set()
        self._thread.join(timeout)

    # -- the thread ---------------------------------------------------------------
    def _run(self) -> None:
        try:
            if self._wait_until_up():
                self._log_in()
                self._play()
        except Exception:
            log.exception("模拟竞买人意外出错,已停止;演示服务不受影响")
        finally:
            for client in [self._public, *(m.http for m in self.members)]:
                client.close()
        log.info("模拟竞买人已停止")

    def _wait_until_up(self) -> bool:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if self._public.get("/healthz").status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            if self._stop.wait(0.5):
                return False
        log.warning("服务在 %.0f 秒内未就绪,模拟竞买人不启动", STARTUP_TIMEOUT)
        return False

    def _log_in(self) -> None:
        for username in CROWD:
            try:
                self.members.append(self._member(username))
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                log.warning(
                    "模拟竞买人 %s 登录失败(%s: %s),不参加", username, type(exc).__name__, exc
                )
        log.info("模拟竞买人已登录:%s", "、".join(m.name for m in self.members))

    def _member(self, username: str) -> Member:
        """Log in like any bidder: the certificate's key signs a fresh nonce, plus the password."""
        account = self.info.account(username)
        http = httpx.Client(base_url=self.base_url, timeout=HTTP_TIMEOUT)
        try:
            nonce = http.post("/api/v1/auth/challenge").json()["nonce"]
            body = {
                "username": account.username,
                "password": account.password,
                "certificate": account.cert_path.read_text(),
                "nonce": nonce,
                "signature": sign_message(account.key_path.read_bytes(), nonce),
            }
            response = http.post("/api/v1/auth/login", json=body)
            response.raise_for_status()
            http.headers["Authorization"] = f"Bearer {response.json()['token']}"
            applications = http.get("/api/v1/me/applications").json()
        except BaseException:
            http.close()
            raise
        numbers = {a["lot_id"]: a["bidder_number"] for a in applications if a["bidder_number"]}
        return Member(account, http, numbers)

    def _play(self) -> None:
        """Run the strands until each is finished, the time limit passes, or we are stopped."""
        started = time.monotonic()
        due: dict[Task, float] = {
            self._listing_turn: started + self.rng.uniform(3, 10),
            self._live_turn: started,
        }
        while due and time.monotonic() - started < RUN_LIMIT:
            task = min(due, key=due.__getitem__)
            if self._stop.wait(max(0.0, due[task] - time.monotonic())):
                return
            try:
                delay = task()
            except Exception as exc:
                log.warning("模拟竞买人操作失败(%s: %s),稍后重试", type(exc).__name__, exc)
                delay = RETRY
            if delay is None:
                del due[task]
            else:
                due[task] = time.monotonic() + delay

    # -- reading ------------------------------------------------------------------
    def _lot(self, lot_id: int) -> dict[str, Any]:
        response = self._public.get(f"/api/v1/lots/{lot_id}")
        response.raise_for_status()
        lot: dict[str, Any] = response.json()
        return lot

    @staticmethod
    def _price(lot: dict[str, Any], steps: int) -> Decimal:
        """The next minimum (start price first, then highest + increment) plus `steps - 1`
        increments."""
        increment = Decimal(lot["increment"])
        if lot["current_price"] is None:
            return Decimal(lot["start_price"]) + (steps - 1) * increment
        return Decimal(lot["current_price"]) + steps * increment

    # -- listing quotes -------------------------------------------------------------
    def _listing_turn(self) -> float | None:
        if self.listing_left <= 0 or not self.listing_ids:
            return None
        live_open = self.live_id in self.listing_ids
        lot_id = (
            self.live_id
            if live_open and self.rng.random() < 0.5
            else self.rng.choice(self.listing_ids)
        )
        lot = self._lot(lot_id)
        if lot["status"] != "listing" or lot["cap_reached"]:  # R-CAP: nothing left to quote
            self.listing_ids.remove(lot_id)
            return 1.0
        self.listing_left -= 1
        candidates = _not_leading(lot, self.members)
        if candidates:
            member = self.rng.choice(candidates)
            self._quote(member, lot, self._price(lot, self.rng.choice((1, 1, 1, 2, 3))))
        return self.rng.uniform(12, 30)

    def _quote(self, member: Member, lot: dict[str, Any], amount: Decimal) -> dict[str, Any] | None:
        response = member.http.post(
            f"/api/v1/lots/{lot['id']}/quotes",
            json={"amount": f"{amount:.2f}", "request_id": str(uuid.uuid4())},
        )
        if response.status_code not in (200, 201):
            problem = response.json()
            log.info(
                "%s 对 %s 报价 %s 被拒绝:%s %s",
                member.name,
                lot["code"],
                wan(f"{amount:.2f}"),
                problem.get("code"),
                problem.get("detail"),
            )
            return None
        quote: dict[str, Any] = response.json()
        phase = "限时竞价出价" if quote["phase"] == "timed" else "挂牌报价"
        log.info(
            "%s %s:%s %s,竞买号 %s,第 %s 笔",
            lot["code"],
            phase,
            member.name,
            wan(quote["amount"]),
            quote["bidder_number"],
            quote["seq"],
        )
        return quote

    # -- the live lot ---------------------------------------------------------------
    def _live_turn(self) -> float | None:
        lot = self._lot(self.live_id)
        status = lot["status"]
        if status == "listing":
            return max(2.0, _seconds_until(_time(lot["listing_end"])) + 2.0)
        if status == "inquiry":
            if not self.inquiry_answered:
                self.inquiry_answered = True
                self._answer_inquiry(lot)
            return max(2.0, _seconds_until(_time(lot["inquiry_end"])) + self.rng.uniform(8, 25))
        if status == "timed_bidding":
            if self.turns_taken == 0:
                log.info(
                    "%s 网上限时竞价开始:%d 家模拟竞买人参加,倒计时截止 %s",
                    lot["code"],
                    len(self.joined),
                    _clock(lot["timed_deadline"]),
                )
            if self.turns_taken >= self.timed_turns:
                return 15.0  # no more bids: wait for the countdown to end
            self.turns_taken += 1
            if self.turns_taken == PROXY_TURN and self.proxy_holder is None:
                self._set_proxy(lot)
            else:
                self._timed_bid(lot)
            return self.rng.uniform(15, 50)
        if status in DECIDED:
            self._report(lot)
            return None
        return RETRY

    def _answer_inquiry(self, lot: dict[str, Any]) -> None:
        """Every crowd bidder of the lot answers; if there are three or more, one that
        does not lead declines."""
        eligible = [m for m in self.members if lot["id"] in m.numbers]
        self.rng.shuffle(eligible)
        behind = _not_leading(lot, eligible)
        declining = behind[0] if len(eligible) >= 3 and behind else None
        log.info("%s 挂牌截止,进入询问(至 %s)", lot["code"], _clock(lot["inquiry_end"]))
        for member in eligible:
            join = member is not declining
            response = member.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": join})
            if response.status_code == 200:
                log.info("%s 应答询问:%s", member.name, "参加限时竞价" if join else "不参加")
                if join:
                    self.joined.append(member)
            else:
                log.info("%s 应答询问被拒绝:%s", member.name, response.json().get("code"))
            if self._stop.wait(self.rng.uniform(1, 4)):
                return

    def _timed_bid(self, lot: dict[str, Any]) -> None:
        others = [m for m in _not_leading(lot, self.joined) if m is not self.proxy_holder]
        if not others:
            return
        member = self.rng.choice(others)
        quote = self._quote(member, lot, self._price(lot, self.rng.choice((1, 1, 2))))
        if quote is not None:
            self._log_standing(lot["id"], quote["bidder_number"])

    def _set_proxy(self, lot: dict[str, Any]) -> None:
        candidates = _not_leading(lot, self.joined)
        if not candidates:
            return
        member = self.rng.choice(candidates)
        maximum = self._price(lot, 1) + self.rng.randint(2, 4) * Decimal(lot["increment"])
        response = member.http.put(
            f"/api/v1/lots/{lot['id']}/proxy", json={"max_amount": f"{maximum:.2f}"}
        )
        if response.status_code != 200:
            log.info("%s 设置自动委托报价被拒绝:%s", member.name, response.json().get("code"))
            return
        self.proxy_holder = member
        log.info("%s 设置自动委托报价,最高限价 %s", member.name, wan(f"{maximum:.2f}"))
        self._log_standing(lot["id"], member.numbers[lot["id"]])

    def _log_standing(self, lot_id: int, acted: str) -> None:
        """The standing after bidder number `acted` bid; another leader means a proxy answered."""
        lot = self._lot(lot_id)
        if lot["timed_deadline"]:
            log.info(
                "%s %s当前最高 %s,领先竞买号 %s,倒计时重新开始,%s 截止",
                lot["code"],
                "" if lot["leader"] == acted else "自动委托报价随即跟进,",
                wan(lot["current_price"]),
                lot["leader"],
                _clock(lot["timed_deadline"]),
            )

    def _report(self, lot: dict[str, Any]) -> None:
        response = self._public.get(f"/api/v1/lots/{lot['id']}/result")
        if response.status_code != 200:
            log.info("%s 状态:%s", lot["code"], STATUS_NAMES.get(lot["status"], lot["status"]))
            return
        result = response.json()
        if result["outcome"] == "sold":
            log.info(
                "%s 已成交:成交价 %s,竞得人 %s(竞买号 %s,依 %s)",
                lot["code"],
                wan(result["price"]),
                result["winner"]["name"],
                result["winner"]["bidder_number"],
                result["rule"],
            )
        else:
            log.info("%s 未成交(%s)", lot["code"], result["rule"])


def _not_leading(lot: dict[str, Any], among: list[Member]) -> list[Member]:
    """The members in `among` qualified for the lot that do not lead it."""
    return [m for m in among if lot["id"] in m.numbers and m.numbers[lot["id"]] != lot["leader"]]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _clock(text: str) -> str:
    """An API time as Beijing wall-clock time."""
    return f"{_time(text).astimezone(SHANGHAI):%H:%M:%S}"


def _seconds_until(moment: datetime) -> float:
    return (moment - wall_now()) / timedelta(seconds=1)
