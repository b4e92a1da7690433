"""What the bidders did before the demonstration starts, in the order they did it.

Amounts are never written out: a quote is `steps` increments above nothing
less than the lot's next minimum (the start price first, then the highest
quote plus one increment), so every quote in the story is valid by
construction. Lots publish themselves at their `published` moment (data.py);
listing starts, deadlines, inquiries and countdowns are the system's own timers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wangua.demo.data import When, day, from_now


@dataclass(frozen=True)
class Apply:
    """A bidder applies (alone, or jointly with `members` as (name, share)) and,
    if `pays`, its deposit arrives at the bank at once."""

    when: When
    bidder: str
    lot: str
    members: tuple[tuple[str, str], ...] = ()
    new_company: dict[str, Any] | None = None
    pays: bool = True


@dataclass(frozen=True)
class Quote:
    """A quote or timed bid: the next minimum plus `steps - 1` increments."""

    when: When
    bidder: str
    lot: str
    steps: int = 1


@dataclass(frozen=True)
class Answer:
    """An answer to the deadline inquiry: join timed bidding or not."""

    when: When
    bidder: str
    lot: str
    join: bool


@dataclass(frozen=True)
class Proxy:
    """A proxy whose maximum is the next minimum plus `steps` increments."""

    when: When
    bidder: str
    lot: str
    steps: int


@dataclass(frozen=True)
class AcceptCap:
    """A bidder accepts a lot's price cap and enters its lottery (R-CAP)."""

    when: When
    bidder: str
    lot: str


Action = Apply | Quote | Answer | Proxy | AcceptCap

_JOINT_NEW_COMPANY = {
    "name": "咸宁楚天鄂南置业有限公司",
    "investors": [
        {"name": "湖北楚天华府房地产开发有限公司", "share": "51.00"},
        {"name": "湖北鄂南建工集团有限公司", "share": "49.00"},
    ],
    "registered_capital": "50000000.00",
    "formation": "成交后30日内在咸安区注册成立,由新公司签订出让合同",
}

STORY: tuple[Action, ...] = (
    # 咸安区 residential lot: a joint bid wins in timed bidding, partly by proxy.
    Apply(
        day(-33, "10:20"),
        "cthf",
        "xianan-sold",
        members=(
            ("湖北楚天华府房地产开发有限公司", "51.00"),
            ("湖北鄂南建工集团有限公司", "49.00"),
        ),
        new_company=_JOINT_NEW_COMPANY,
    ),
    Apply(day(-30, "09:45"), "xcjt", "xianan-sold"),
    Apply(day(-28, "15:10"), "wqg", "xianan-sold"),
    Quote(day(-17, "09:32"), "wqg", "xianan-sold"),
    Quote(day(-15, "10:05"), "xcjt", "xianan-sold"),
    Quote(day(-12, "14:20"), "cthf", "xianan-sold", steps=2),
    Quote(day(-9, "09:12"), "wqg", "xianan-sold"),
    Quote(day(-7, "15:40"), "xcjt", "xianan-sold"),
    Quote(day(-6, "09:41"), "cthf", "xianan-sold"),
    Quote(day(-6, "09:57"), "xcjt", "xianan-sold"),
    Answer(day(-6, "10:01:20"), "xcjt", "xianan-sold", join=True),
    Answer(day(-6, "10:02:05"), "cthf", "xianan-sold", join=True),
    Answer(day(-6, "10:03:10"), "wqg", "xianan-sold", join=False),
    Quote(day(-6, "10:06:12"), "cthf", "xianan-sold"),
    Quote(day(-6, "10:08:40"), "xcjt", "xianan-sold"),
    Proxy(day(-6, "10:09:30"), "cthf", "xianan-sold", steps=5),
    Quote(day(-6, "10:11:05"), "xcjt", "xianan-sold"),
    Quote(day(-6, "10:13:50"), "xcjt", "xianan-sold", steps=2),
    # 崇阳县 commercial lot: one bidder, nobody joins the inquiry: sold at its quote.
    Apply(day(-30, "11:00"), "tcsm", "chongyang-sold"),
    Quote(day(-15, "10:30"), "tcsm", "chongyang-sold"),
    # 通城县 industrial lot: the only applicant never pays; nobody quotes: unsold.
    Apply(day(-20, "10:00"), "enxc", "tongcheng-unsold", pays=False),
    # The city's residential lot that goes live minutes after the demonstration starts.
    Apply(
        day(-25, "10:00"),
        "xncf",
        "city-live",
        members=(("咸宁城发置业有限公司", "60.00"), ("咸宁高新投资集团有限公司", "40.00")),
    ),
    Apply(day(-24, "09:30"), "xcjt", "city-live"),
    Apply(day(-22, "15:00"), "lshzy", "city-live"),
    Apply(day(-20, "10:40"), "wqg", "city-live"),
    Apply(day(-18, "09:00"), "guest", "city-live"),
    Quote(day(-9, "10:15"), "xcjt", "city-live"),
    Quote(day(-8, "14:30"), "lshzy", "city-live"),
    Quote(day(-6, "09:50"), "xncf", "city-live"),
    Quote(day(-4, "11:20"), "wqg", "city-live"),
    Quote(day(-3, "16:05"), "xcjt", "city-live", steps=2),
    Quote(day(-1, "10:30"), "lshzy", "city-live"),
    Quote(from_now(minutes=-42), "xncf", "city-live"),
    Quote(from_now(minutes=-15), "wqg", "city-live"),
    # 赤壁市 residential lot, listing for two more days.
    Apply(day(-28, "10:00"), "lshzy", "chibi-listing"),
    Apply(day(-27, "11:00"), "xncf", "chibi-listing"),
    Apply(day(-26, "14:00"), "cthf", "chibi-listing"),
    Apply(day(-25, "09:00"), "guest", "chibi-listing"),
    Quote(day(-8, "09:40"), "lshzy", "chibi-listing"),
    Quote(day(-6, "15:00"), "cthf", "chibi-listing"),
    Quote(day(-3, "10:20"), "xncf", "chibi-listing"),
    Quote(day(-1, "16:45"), "lshzy", "chibi-listing"),
    # 咸安区 residential lot with a price cap: reached, one bidder accepted it; the visitor
    # may accept it too before the lottery at the deadline.
    Apply(day(-27, "10:00"), "xcjt", "xianan-capped"),
    Apply(day(-26, "15:30"), "jycj", "xianan-capped"),
    Apply(day(-24, "09:40"), "wqg", "xianan-capped"),
    Apply(day(-22, "10:00"), "guest", "xianan-capped"),
    Quote(day(-6, "10:05"), "xcjt", "xianan-capped"),
    Quote(day(-4, "14:20"), "jycj", "xianan-capped", steps=3),
    Quote(day(-2, "09:31"), "wqg", "xianan-capped", steps=7),  # 54,000,000.00: the cap
    AcceptCap(day(-2, "11:10"), "jycj", "xianan-capped"),
    # 嘉鱼县 commercial lot, listing for five more days.
    Apply(day(-25, "10:30"), "jycj", "jiayu-listing"),
    Apply(day(-23, "14:10"), "xcjt", "jiayu-listing"),
    Apply(day(-21, "09:20"), "wqg", "jiayu-listing"),
    Apply(day(-20, "09:00"), "guest", "jiayu-listing"),
    Quote(day(-7, "09:15"), "jycj", "jiayu-listing"),
    Quote(day(-5, "11:00"), "wqg", "jiayu-listing"),
    Quote(day(-2, "14:35"), "xcjt", "jiayu-listing"),
    # 通山县 residential lot, announced: one early applicant already qualified.
    Apply(day(-10, "10:00"), "xcjt", "tongshan-announced"),
)
