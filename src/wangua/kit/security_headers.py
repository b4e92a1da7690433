"""Response headers every page and answer carries (R-35): HSTS over HTTPS, no sniffing."""

from __future__ import annotations

from typing import Any

HSTS = b"max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Pure ASGI middleware. HTTPS is the connection's own scheme, or X-Forwarded-Proto
    from one of the trusted proxies."""

    def __init__(self, app: Any, trusted_proxies: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https" or self._forwarded_https(scope)

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"no-referrer"))
                if secure:
                    headers.append((b"strict-transport-security", HSTS))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)

    def _forwarded_https(self, scope: dict[str, Any]) -> bool:
        client = scope.get("client")
        if not client or client[0] not in self.trusted_proxies:
            return False
        headers: dict[bytes, bytes] = dict(scope.get("headers") or [])
        return headers.get(b"x-forwarded-proto", b"").lower() == b"https"
