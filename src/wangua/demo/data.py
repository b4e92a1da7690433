"""The demonstration's static data: organisations, accounts and lots in Xianning.

Every moment is a `When`, relative to the moment the demonstration is seeded,
so a demonstration started on any day tells the same story: lots decided last
week, lots listing now, one lot whose listing deadline falls a few minutes
after the server comes up, and lots announced for the coming weeks.

The companies are fictitious; their names only sound like Xianning's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from wangua.kit.times import SHANGHAI
from wangua.lots.models import GRANTORS

DEMO_PASSWORD = "xianning2026"  # noqa: S105  (a published demonstration password)
"""Every demonstration account's password (at least 8 characters)."""

ID_TYPE = "统一社会信用代码"


@dataclass(frozen=True)
class When:
    """A moment relative to the demonstration's `now`.

    With `clock` ("HH:MM" or "HH:MM:SS", Beijing time) it is that time of the
    day `days` after today's Beijing date; without it, `now` plus `days` and
    `minutes`.
    """

    days: int = 0
    clock: str | None = None
    minutes: float = 0.0

    def resolve(self, now: datetime) -> datetime:
        if self.clock is None:
            return now + timedelta(days=self.days, minutes=self.minutes)
        local_day = now.astimezone(SHANGHAI).date() + timedelta(days=self.days)
        moment = datetime.combine(local_day, time.fromisoformat(self.clock), tzinfo=SHANGHAI)
        return moment.astimezone(UTC) + timedelta(minutes=self.minutes)


def day(days: int, clock: str) -> When:
    """`clock` (Beijing time) on the day `days` after today."""
    return When(days=days, clock=clock)


def from_now(*, minutes: float = 0.0, days: int = 0) -> When:
    """`now` plus the given offset (negative: in the past)."""
    return When(days=days, minutes=minutes)


@dataclass(frozen=True)
class Company:
    """A bidder: a company that registers itself with its certificate."""

    username: str
    name: str
    id_no: str
    payer_account: str


@dataclass(frozen=True)
class Official:
    """An account the administrator creates: staff, supervisor, finance, admin."""

    username: str
    role: str
    title: str
    grantor: str | None = None


@dataclass(frozen=True)
class LotSpec:
    """A lot, its schedule, and the phase it is in when the server comes up."""

    key: str
    code: str
    name: str
    grantor: str
    location: str
    area_m2: str
    land_use: str
    term_years: int
    planning: dict[str, Any]
    start_price: str
    increment: str
    deposit: str
    published: When
    listing_start: When
    listing_end: When
    application_deadline: When
    deposit_deadline: When
    phase: str
    story: str
    price_cap: str | None = None


COMPANIES: tuple[Company, ...] = (
    Company("xncf", "咸宁城发置业有限公司", "91421200DM00000011", "1818 0101 0000 1101"),
    Company("xcjt", "湖北香城建设投资有限公司", "91421200DM00000022", "1818 0101 0000 2202"),
    Company("lshzy", "赤壁陆水湖置业有限公司", "91421281DM00000033", "1818 0301 0000 3303"),
    Company("cthf", "湖北楚天华府房地产开发有限公司", "91420100DM00000044", "1818 0201 0000 4404"),
    Company("wqg", "咸宁温泉谷文旅置业有限公司", "91421200DM00000055", "1818 0101 0000 5505"),
    Company("jycj", "嘉鱼县鱼岳城市建设开发有限公司", "91421221DM00000066", "1818 0401 0000 6606"),
    Company("tcsm", "崇阳县天城商贸有限公司", "91421223DM00000077", "1818 0601 0000 7707"),
    Company("enxc", "湖北鄂南新材料科技有限公司", "91421222DM00000088", "1818 0501 0000 8808"),
    Company("guest", "湖北桂乡置业有限公司", "91421200DM00000099", "1818 0101 0000 9909"),
)

PARTNERS: dict[str, str] = {
    "湖北鄂南建工集团有限公司": "91421200DM00000100",
    "咸宁高新投资集团有限公司": "91421200DM00000111",
}
"""Joint-application members that have no account of their own: name → credit code."""

CROWD: tuple[str, ...] = ("xncf", "xcjt", "lshzy", "wqg", "cthf", "jycj")
"""The bidders that quote and bid by themselves while the demonstration runs."""

VISITOR = "guest"
"""A qualified bidder left for the visitor: nobody else acts as it."""

_CITY = "xianning-city"

LOTS: tuple[LotSpec, ...] = (
    LotSpec(
        key="xianan-sold",
        code="XA{year}-08",
        name="咸安区贺胜路以西、永安大道以南地块",
        grantor="xianan",
        location="咸宁市咸安区贺胜路以西、永安大道以南",
        area_m2="38650.25",
        land_use="城镇住宅用地",
        term_years=70,
        planning={
            "容积率": ">1.0且≤2.2",
            "建筑密度": "≤25%",
            "绿地率": "≥35%",
            "建筑限高": "≤60米",
        },
        start_price="156000000.00",
        increment="500000.00",
        deposit="31200000.00",
        published=day(-40, "09:30"),
        listing_start=day(-17, "09:00"),
        listing_end=day(-6, "10:00"),
        application_deadline=day(-8, "16:00"),
        deposit_deadline=day(-8, "17:00"),
        phase="sold",
        story="经网上限时竞价成交(联合竞买,含自动委托报价)",
    ),
    LotSpec(
        key="chongyang-sold",
        code="CY{year}-04",
        name="崇阳县天城镇崇阳大道与桃溪路交汇处东南侧地块",
        grantor="chongyang",
        location="咸宁市崇阳县天城镇崇阳大道与桃溪路交汇处东南侧",
        area_m2="9860.40",
        land_use="商服用地",
        term_years=40,
        planning={
            "容积率": ">1.0且≤2.5",
            "建筑密度": "≤45%",
            "绿地率": "≥20%",
            "建筑限高": "≤36米",
        },
        start_price="38000000.00",
        increment="200000.00",
        deposit="7600000.00",
        published=day(-38, "10:00"),
        listing_start=day(-16, "09:00"),
        listing_end=day(-4, "10:00"),
        application_deadline=day(-6, "16:00"),
        deposit_deadline=day(-6, "17:00"),
        phase="sold",
        story="仅一人报价,挂牌截止时以挂牌价成交",
    ),
    LotSpec(
        key="tongcheng-unsold",
        code="TC{year}-03",
        name="通城经济开发区银城大道以南工业地块",
        grantor="tongcheng",
        location="咸宁市通城县隽水镇通城经济开发区银城大道以南",
        area_m2="66700.00",
        land_use="工业用地",
        term_years=50,
        planning={
            "容积率": "≥1.0",
            "建筑系数": "≥40%",
            "绿地率": "≤15%",
            "投资强度": "≥200万元/亩",
        },
        start_price="11520000.00",
        increment="100000.00",
        deposit="2304000.00",
        published=day(-37, "09:00"),
        listing_start=day(-14, "09:00"),
        listing_end=day(-3, "10:00"),
        application_deadline=day(-5, "16:00"),
        deposit_deadline=day(-5, "17:00"),
        phase="unsold",
        story="无人报价,挂牌截止后不成交",
    ),
    LotSpec(
        key="city-live",
        code="XN{year}-12",
        name="银泉大道以东、长江大道以北地块",
        grantor=_CITY,
        location="咸宁市咸安区银泉大道以东、长江大道以北",
        area_m2="52316.80",
        land_use="城镇住宅用地",
        term_years=70,
        planning={
            "容积率": ">1.0且≤2.5",
            "建筑密度": "≤25%",
            "绿地率": "≥35%",
            "建筑限高": "≤80米",
        },
        start_price="218000000.00",
        increment="1000000.00",
        deposit="43600000.00",
        published=day(-35, "10:00"),
        listing_start=from_now(days=-10, minutes=4),
        listing_end=from_now(minutes=4),
        application_deadline=day(-2, "16:00"),
        deposit_deadline=day(-2, "17:00"),
        phase="listing",
        story="演示开始约4分钟后挂牌截止 → 询问5分钟 → 网上限时竞价,现场可看",
    ),
    LotSpec(
        key="chibi-listing",
        code="CB{year}-11",
        name="赤马港街道河北大道以东、陆水湖大道以北地块",
        grantor="chibi",
        location="咸宁市赤壁市赤马港街道河北大道以东、陆水湖大道以北",
        area_m2="45210.00",
        land_use="城镇住宅用地",
        term_years=70,
        planning={
            "容积率": ">1.0且≤2.8",
            "建筑密度": "≤28%",
            "绿地率": "≥30%",
            "建筑限高": "≤80米",
        },
        start_price="128000000.00",
        increment="500000.00",
        deposit="25600000.00",
        published=day(-32, "09:30"),
        listing_start=day(-9, "09:00"),
        listing_end=day(2, "15:00"),
        application_deadline=day(1, "16:00"),
        deposit_deadline=day(1, "17:00"),
        phase="listing",
        story="挂牌中,已有报价,两天后截止",
    ),
    LotSpec(
        key="xianan-capped",
        code="XA{year}-11",
        name="咸安区温泉路以东、金桂路以北地块",
        grantor="xianan",
        location="咸宁市咸安区温泉路以东、金桂路以北",
        area_m2="21860.40",
        land_use="城镇住宅用地",
        term_years=70,
        planning={
            "容积率": ">1.0且≤2.5",
            "建筑密度": "≤25%",
            "绿地率": "≥30%",
            "建筑限高": "≤60米",
        },
        start_price="52000000.00",
        increment="200000.00",
        deposit="10400000.00",
        published=day(-31, "09:30"),
        listing_start=day(-7, "09:00"),
        listing_end=day(4, "15:00"),
        application_deadline=day(3, "16:00"),
        deposit_deadline=day(3, "17:00"),
        phase="listing",
        story="挂牌中,报价已达最高限价,截止时在接受最高限价的竞买人中摇号",
        price_cap="54000000.00",
    ),
    LotSpec(
        key="jiayu-listing",
        code="JY{year}-05",
        name="鱼岳镇沿湖大道与嘉鱼大道交汇处商业地块",
        grantor="jiayu",
        location="咸宁市嘉鱼县鱼岳镇沿湖大道与嘉鱼大道交汇处西北侧",
        area_m2="12480.60",
        land_use="商服用地",
        term_years=40,
        planning={
            "容积率": ">1.0且≤3.0",
            "建筑密度": "≤50%",
            "绿地率": "≥20%",
            "建筑限高": "≤50米",
        },
        start_price="46000000.00",
        increment="200000.00",
        deposit="9200000.00",
        published=day(-30, "09:00"),
        listing_start=day(-8, "09:00"),
        listing_end=day(5, "10:00"),
        application_deadline=day(3, "16:00"),
        deposit_deadline=day(3, "17:00"),
        phase="listing",
        story="挂牌中,已有报价,五天后截止",
    ),
    LotSpec(
        key="tongshan-announced",
        code="TS{year}-06",
        name="通羊镇九宫大道以北、新城路以东地块",
        grantor="tongshan",
        location="咸宁市通山县通羊镇九宫大道以北、新城路以东",
        area_m2="28930.00",
        land_use="城镇住宅用地",
        term_years=70,
        planning={
            "容积率": ">1.0且≤2.0",
            "建筑密度": "≤25%",
            "绿地率": "≥35%",
            "建筑限高": "≤54米",
        },
        start_price="72000000.00",
        increment="300000.00",
        deposit="14400000.00",
        published=day(-16, "09:00"),
        listing_start=day(6, "09:00"),
        listing_end=day(16, "10:00"),
        application_deadline=day(14, "16:00"),
        deposit_deadline=day(14, "17:00"),
        phase="announced",
        story="已公告,六天后开始挂牌,可申请竞买",
    ),
    LotSpec(
        key="city-announced",
        code="XNGX{year}-03",
        name="咸宁高新区青龙路以南、龟山路以东工业地块",
        grantor=_CITY,
        location="咸宁市咸宁高新技术产业开发区青龙路以南、龟山路以东",
        area_m2="80040.00",
        land_use="工业用地",
        term_years=50,
        planning={
            "容积率": "≥1.2",
            "建筑系数": "≥40%",
            "绿地率": "≤15%",
            "投资强度": "≥300万元/亩",
        },
        start_price="19200000.00",
        increment="100000.00",
        deposit="3840000.00",
        published=day(-6, "09:30"),
        listing_start=day(15, "09:00"),
        listing_end=day(25, "10:00"),
        application_deadline=day(23, "16:00"),
        deposit_deadline=day(23, "17:00"),
        phase="announced",
        story="新近公告,十五天后开始挂牌",
    ),
)

LIVE_LOT = "city-live"
"""The lot whose listing deadline falls a few minutes after the demonstration starts."""


def staff_username(grantor: str) -> str:
    """The staff account of a grantor: staff create lots of their own grantor only (R-03)."""
    return f"staff-{grantor}"


OFFICIALS: tuple[Official, ...] = (
    Official("admin", "admin", "咸宁市公共资源交易中心 系统管理员"),
    Official("jiandu", "supervisor", "咸宁市公共资源交易中心 监督人员"),
    Official("caiwu", "finance", "咸宁市自然资源和城乡建设局 财务人员", _CITY),
    *(
        Official(staff_username(grantor), "staff", f"{GRANTORS[grantor]} 经办人员", grantor)
        for grantor in dict.fromkeys(lot.grantor for lot in LOTS)
    ),
)
