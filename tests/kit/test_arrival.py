"""R-18: the HTTP protocol stamps a request when its last byte has been read, before the
application runs (kit.arrival), on a real uvicorn server."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

from tests.harness import ServerThread
from wangua.kit.arrival import arrived_at


async def _echo_stamp(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    seen = time.time()
    while (await receive()).get("more_body"):
        pass
    body = json.dumps({"stamp": arrived_at(scope), "seen": seen}).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _ask(port: int, head: bytes, body: bytes, pause: float) -> tuple[dict[str, float], float]:
    """Send the head, wait `pause`, send the body; the answer and when the body went."""
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(head)
        time.sleep(pause)
        body_sent = time.time()
        connection.sendall(body)
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    return json.loads(answer.split(b"\r\n\r\n", 1)[1]), body_sent


def test_r18_a_request_is_stamped_when_it_has_arrived_whole() -> None:
    body = b'{"amount": "122000000.00"}'
    head = (
        b"POST /quotes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    with ServerThread(_echo_stamp) as server:
        whole, sent = _ask(server.port, head + body, b"", 0)
        assert sent - 1 < whole["stamp"] <= whole["seen"]
        split, body_sent = _ask(server.port, head, body, 0.3)
    # the application started on the head; the stamp waited for the amount
    assert split["seen"] < body_sent <= split["stamp"]
