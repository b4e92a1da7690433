"""The external platforms notices are pushed to (R-04), from WANGUA_PUBLISH_TARGETS."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """A platform that takes signed JSON webhooks (省公共资源交易电子服务系统, 中国土地市场网 …)."""

    name: str
    url: str
    secret: str


def parse_targets(text: str) -> list[Target]:
    """`[{"name": "hubei-ggzy", "url": "https://…", "secret": "…"}, …]`; empty means none."""
    if not text.strip():
        return []
    items = json.loads(text)
    return [Target(str(i["name"]), str(i["url"]), str(i["secret"])) for i in items]
