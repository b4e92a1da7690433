"""problem+json errors (RFC 9457) with stable machine codes and Chinese text."""

from __future__ import annotations

from typing import Any


class Problem(Exception):
    """A refusal that changes nothing: raised inside a transaction, it rolls it back."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail or title
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {
            "type": f"https://wangua.example/problems/{self.code.lower().replace('_', '-')}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
            **self.extra,
        }


def not_found(what: str = "对象") -> Problem:
    return Problem(404, "NOT_FOUND", f"{what}不存在")


def forbidden(detail: str = "当前账户无权执行此操作") -> Problem:
    return Problem(403, "FORBIDDEN", "无权操作", detail)


def unauthenticated() -> Problem:
    return Problem(401, "UNAUTHENTICATED", "请先登录", "缺少或无效的访问令牌")
