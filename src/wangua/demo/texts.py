"""What the demonstration tells people: the start-up banner and the accounts README."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from wangua.bidding.rules import INQUIRY_WINDOW
from wangua.demo.data import CROWD, DEMO_PASSWORD, VISITOR
from wangua.demo.story import STORY, Apply
from wangua.kit.money import format_fen
from wangua.kit.times import SHANGHAI
from wangua.lots.models import GRANTORS

if TYPE_CHECKING:
    from wangua.demo.seed import DemoInfo

STATUS_NAMES = {
    "draft": "草稿",
    "announced": "已公告",
    "listing": "挂牌中",
    "inquiry": "询问中",
    "timed_bidding": "限时竞价中",
    "sold": "已成交",
    "unsold": "未成交",
    "suspended": "已中止",
    "terminated": "已终止",
    "voided": "已撤销",
}
ROLE_NAMES = {
    "admin": "系统管理员",
    "supervisor": "监督人员",
    "finance": "财务人员",
    "staff": "经办人员",
    "grantor": "出让人",
    "bidder": "竞买人",
}


def beijing(moment: datetime) -> str:
    """A moment as people in Xianning read it."""
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}"


def wan(amount: str | int) -> str:
    """An API amount (yuan string) or integer fen, in 万元 without trailing zeros."""
    yuan = Decimal(format_fen(amount)) if isinstance(amount, int) else Decimal(amount)
    text = f"{yuan / 10000:,.6f}".rstrip("0").rstrip(".")
    return f"{text} 万元"


def visitor_lots() -> list[str]:
    """The keys of the lots the visitor's account is qualified for."""
    return [a.lot for a in STORY if isinstance(a, Apply) and a.bidder == VISITOR and a.pays]


def accounts_readme(info: DemoInfo) -> str:
    """accounts/README.txt: every account, its role and password, and how to log in."""
    lines = [
        "wangua 网上挂牌出让系统 · 演示账户",
        "=" * 40,
        f"生成时间:{beijing(info.now)}(北京时间)",
        f"数据库:{info.paths.database}",
        f"演示 CA 证书(信任锚):{info.paths.ca_cert}",
        "",
        f"所有演示账户的密码均为:{DEMO_PASSWORD}",
        "每个账户的私钥和证书在本目录:<用户名>.key.pem、<用户名>.crt.pem。",
        "",
        "用户名 | 角色 | 单位或职务 | 出让人",
        "-" * 40,
    ]
    for account in info.accounts:
        grantor = GRANTORS.get(account.grantor or "", "—")
        role = ROLE_NAMES.get(account.role, account.role)
        lines.append(f"{account.username} | {role}({account.role}) | {account.name} | {grantor}")
    visitor = info.account(VISITOR)
    qualified = "、".join(info.lot(key).code for key in visitor_lots())
    lines += [
        "",
        "说明:",
        "· 竞买人均为虚构企业,通过系统自助注册(证书 + 密码)。",
        f"· 模拟竞买人:{'、'.join(CROWD)}。演示运行时它们会自动报价、应答询问、参加限时竞价。",
        f"· {VISITOR}({visitor.name})留给您使用:已取得 {qualified} 的竞买资格,没有程序替它操作。",
        "· 每个出让人有一个经办人员账户(staff-<出让人代码>),只能办理本出让人的地块。",
        "",
        "登录方法(证书 + 密码,R-12a):先取随机数,用私钥签名,再登录。",
        "Python 示例(端口以启动时显示的为准):",
        "",
        "    import httpx",
        "    from wangua.identity.certificates import sign_message",
        '    base, user = "http://127.0.0.1:8000", "guest"',
        f'    folder = "{info.paths.accounts_dir}"',
        '    nonce = httpx.post(f"{base}/api/v1/auth/challenge").json()["nonce"]',
        '    key = open(f"{folder}/{user}.key.pem", "rb").read()',
        '    cert = open(f"{folder}/{user}.crt.pem").read()',
        '    body = {"username": user, "password": "' + DEMO_PASSWORD + '", "certificate": cert,',
        '            "nonce": nonce, "signature": sign_message(key, nonce)}',
        '    token = httpx.post(f"{base}/api/v1/auth/login", json=body).json()["token"]',
        "",
        '之后的请求带上请求头 "Authorization: Bearer <token>"。',
        "",
    ]
    return "\n".join(lines)


def banner(info: DemoInfo, base_url: str) -> str:
    """What `wangua demo` prints before serving: where to look, and what happens when."""
    live = info.live
    inquiry_end = live.listing_end + INQUIRY_WINDOW
    minutes_left = round((live.listing_end - info.now).total_seconds() / 60)
    lines = [
        "",
        "=" * 72,
        " wangua 网上挂牌出让系统 · 演示 (demo)",
        "=" * 72,
        f" 网址 URL:              {base_url}",
        f" 现场看板 Live board:   {base_url}/lots/{live.id}",
        f" 接口文档 API docs:     {base_url}/api/v1/docs",
        f" 地块列表 Lots:         {base_url}/api/v1/lots",
        f" 数据目录 Data folder:  {info.paths.data_dir}",
        "",
        f" ★ 现场地块 Live lot:{live.code} {live.name}(id {live.id})",
        f"   挂牌截止 listing deadline:{beijing(live.listing_end)}"
        f"(北京时间,约 {minutes_left} 分钟后)",
        f"   → 询问 inquiry 至 {inquiry_end.astimezone(SHANGHAI):%H:%M:%S}:"
        "有报价的竞买人选择是否参加限时竞价",
        f"   → {inquiry_end.astimezone(SHANGHAI):%H:%M:%S} 起网上限时竞价 timed bidding:"
        "每次出价后倒计时重新从 5 分钟开始,倒计时结束即产生结果",
        f"   实时事件 SSE:  curl -N {base_url}/api/v1/lots/{live.id}/events",
        f"   报价记录 Quotes: {base_url}/api/v1/lots/{live.id}/quotes",
        f"   出让结果 Result: {base_url}/api/v1/lots/{live.id}/result",
        "",
        " 地块 Lots(id | 编号 | 状态 | 出让人 | 用途 | 起始价 | 挂牌期):",
    ]
    for lot in info.lots:
        lines.append(
            f"   {lot.id} | {lot.code} | {STATUS_NAMES.get(lot.status, lot.status)} | "
            f"{GRANTORS.get(lot.grantor, lot.grantor)} | {lot.land_use} | "
            f"{wan(lot.start_price_fen)} | "
            f"{lot.listing_start.astimezone(SHANGHAI):%m-%d %H:%M} 至 "
            f"{lot.listing_end.astimezone(SHANGHAI):%m-%d %H:%M}"
        )
        lines.append(f"       {lot.name}:{lot.story}")
    visitor = info.account(VISITOR)
    qualified = "、".join(info.lot(key).code for key in visitor_lots())
    lines += [
        "",
        f" 账户 Accounts:密码均为 {DEMO_PASSWORD};证书和私钥在 {info.paths.accounts_dir}",
        f"   账户说明见 {info.paths.readme}",
        f"   网页登录 {base_url}/login:用户名、密码,及该账户的证书文件和私钥文件",
        "   管理员 admin · 监督人员 jiandu · 财务 caiwu · 经办人员 staff-<出让人代码>",
        f"   访客竞买人 {VISITOR}({visitor.name}):已取得 {qualified} 的竞买资格,可以自己报价",
        f"   模拟竞买人 crowd:{'、'.join(CROWD)}",
        "     会自动报价、应答询问、参加限时竞价,并设置一次自动委托报价",
        "",
        " 按 Ctrl+C 停止 (stop)。每次启动都会重新生成演示数据。",
        "=" * 72,
        "",
    ]
    return "\n".join(lines)
