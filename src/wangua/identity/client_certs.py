"""Certificates presented in the TLS handshake (R-12a with USB-key certificates, R-35).

A browser with the bidder's USB key proves possession of the key in the TLS
handshake itself. Served directly (`wangua serve --tls-client-ca`), the peer
certificate reaches the application through the ASGI TLS extension
(`scope["extensions"]["tls"]["client_cert_chain"]`). Behind nginx, the proxy
verifies it and forwards it in `X-SSL-Client-Cert` (`$ssl_client_escaped_cert`)
with `X-SSL-Client-Verify: SUCCESS`, believed only from WANGUA_TRUSTED_PROXIES.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any
from urllib.parse import unquote

from fastapi import Request
from uvicorn.protocols.http.h11_impl import H11Protocol

from wangua.kit.arrival import StampArrival


def presented_certificate(request: Request, trusted_proxies: frozenset[str]) -> str | None:
    """The PEM of the client certificate of this request's connection, if any."""
    tls = request.scope.get("extensions", {}).get("tls", {})
    chain = tls.get("client_cert_chain") or []
    if chain:
        return str(chain[0])
    peer = request.client.host if request.client else None
    if peer in trusted_proxies and request.headers.get("x-ssl-client-verify") == "SUCCESS":
        forwarded = request.headers.get("x-ssl-client-cert")
        return unquote(forwarded) if forwarded else None
    return None


class ClientCertificateProtocol(StampArrival, H11Protocol):
    """HTTP/1.1 over TLS that hands the peer certificate to the application (and stamps
    arrivals, kit.arrival)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der:
            self.app = _with_client_certificate(self.app, ssl.DER_cert_to_PEM_cert(der))


def _with_client_certificate(app: Any, pem: str) -> Any:
    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            extensions = dict(scope.get("extensions") or {})
            extensions["tls"] = {"client_cert_chain": [pem], "client_cert_error": None}
            scope = {**scope, "extensions": extensions}
        await app(scope, receive, send)

    return wrapped
