"""Many lots live over one connection (R-33): a browser opens only a few connections per
host, so the staff's wall of running lots shares one stream."""

from __future__ import annotations

from decimal import Decimal

import httpx

from tests.harness import Account, Stack
from tests.pages.support import browser, text_of
from wangua.lots.models import Lot


def _read(
    stack: Stack, headers: dict[str, str], params: dict[str, str], want: int
) -> tuple[dict[str, str], str]:
    """Board fragments by event name and the last event id, once `want` boards arrived."""
    boards: dict[str, str] = {}
    last_id, name = "", ""
    with (
        httpx.Client(base_url=stack.url, timeout=10) as client,
        client.stream("GET", "/live", params=params, headers=headers) as stream,
    ):
        assert stream.status_code == 200
        for line in stream.iter_lines():
            if line.startswith("id: "):
                last_id = line[4:]
            elif line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name.startswith("board-"):
                boards[name] = boards.get(name, "") + line[6:]
            elif line == "" and len(boards) >= want and last_id:
                break
    return boards, last_id


def test_r33_one_stream_carries_every_tiles_board_and_resumes_by_position(
    stack: Stack, staff: Account
) -> None:
    first, second = stack.published_lot(staff), stack.published_lot(staff)
    a, b = stack.bidder(), stack.bidder()
    stack.qualified(a, first)
    stack.qualified(b, second)
    stack.advance_to(max(first["listing_start"], second["listing_start"]))
    assert stack.quote(a, first, first["start_price"]).status_code == 201
    assert stack.quote(b, second, second["start_price"]).status_code == 201
    lots = f"{first['id']}:0,{second['id']}:0"
    boards, last_id = _read(stack, {}, {"lots": lots}, want=2)
    for lot in (first, second):
        assert f"{int(Decimal(lot['start_price'])):,}.00" in text_of(boards[f"board-{lot['id']}"])
    positions = dict(item.split(":") for item in last_id.split(","))
    assert set(positions) == {str(first["id"]), str(second["id"])}

    higher = f"{Decimal(first['start_price']) + Decimal(first['increment']):.2f}"
    other = stack.bidder()
    stack.qualified(other, first)
    assert stack.quote(other, first, higher).status_code == 201
    boards, _ = _read(stack, {"Last-Event-ID": last_id}, {}, want=1)
    assert set(boards) == {f"board-{first['id']}"}, "only the lot with news is sent again"
    assert f"{int(Decimal(higher)):,}.00" in text_of(boards[f"board-{first['id']}"])


def test_r33_the_wall_stream_refuses_a_malformed_position(stack: Stack) -> None:
    answer = browser(stack).get("/live", params={"lots": "1:x"})
    assert answer.status_code == 422
    assert 'data-code="INVALID_EVENT_ID"' in answer.text


def _event_seq(stack: Stack, lot_id: int) -> int:
    with stack.runtime.read() as session:
        lot = session.get(Lot, lot_id)
        assert lot is not None
        return lot.event_seq


def test_r33_an_open_wall_shows_each_lots_news_as_it_is_published(
    stack: Stack, staff: Account
) -> None:
    """While the stream is open, a quote on one lot of the wall, then on another, each
    arrives as that lot's board, and only that lot's."""
    lots = [stack.published_lot(staff) for _ in range(3)]
    bidders = [stack.bidder() for _ in lots]
    for bidder, lot in zip(bidders, lots, strict=True):
        stack.qualified(bidder, lot)
    stack.advance_to(max(lot["listing_start"] for lot in lots))
    positions = ",".join(f"{lot['id']}:{_event_seq(stack, lot['id'])}" for lot in lots)
    to_quote = [(bidders[2], lots[2]), (bidders[0], lots[0])]
    boards: list[str] = []
    name = ""
    with (
        httpx.Client(base_url=stack.url, timeout=10) as client,
        client.stream("GET", "/live", params={"lots": positions}) as stream,
    ):
        for line in stream.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line == "":  # an event ends
                if name.startswith("board-"):
                    boards.append(name)
                if len(boards) == 2:
                    break
                if len(to_quote) + len(boards) == 2 and (name == "tick" or boards):
                    bidder, lot = to_quote.pop(0)
                    assert stack.quote(bidder, lot, lot["start_price"]).status_code == 201
                name = ""
    assert boards == [f"board-{lots[2]['id']}", f"board-{lots[0]['id']}"]
