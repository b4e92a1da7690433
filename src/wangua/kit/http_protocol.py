"""The HTTP/1.1 protocol `wangua serve` runs: uvicorn's httptools protocol, stamping each
request's arrival (kit.arrival) and offering streams their body direct (kit.direct_body)."""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from wangua.kit.arrival import StampArrival
from wangua.kit.direct_body import OffersDirectBody


class HttpProtocol(StampArrival, OffersDirectBody, HttpToolsProtocol):
    """uvicorn's default HTTP/1.1 protocol with wangua's two additions."""
