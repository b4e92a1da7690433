"""Times: aware UTC inside, RFC 3339 with Z on the wire, Asia/Shanghai for people."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from wangua.kit.problems import Problem

SHANGHAI = ZoneInfo("Asia/Shanghai")


def wall_now() -> datetime:
    """The wall clock, for session tokens, nonces and certificate validity only (API.md Clock)."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = as_utc(value).isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z")


def parse_rfc3339(value: object, *, field: str) -> datetime:
    """An RFC 3339 time with an explicit offset, as aware UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            raise _invalid_time(field, value) from None
    else:
        raise _invalid_time(field, value)
    if parsed.tzinfo is None:
        raise _invalid_time(field, value)
    return parsed.astimezone(UTC)


def _invalid_time(field: str, value: object) -> Problem:
    return Problem(
        422,
        "INVALID_TIME",
        "时间格式不正确",
        f'{field} 必须是带时区的 RFC 3339 时间(如 "2026-12-01T09:00:00+08:00"),收到:{value!r}',
    )
