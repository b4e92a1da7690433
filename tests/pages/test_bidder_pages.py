"""A bidder's pages over HTTP: apply, deposit instructions, quote with a confirmation,
inquiry, proxy; each action through the same service as the API (R-13 … R-26)."""

from __future__ import annotations

import re

import httpx

from tests.api.bidding_support import listing_lot, to_timed_bidding
from tests.harness import Account, Stack
from tests.pages.support import signed_in, text_of


def _confirm(client: httpx.Client, lot_id: int, amount: str) -> tuple[str, str]:
    """The confirmation step: returns the request id and the page text."""
    answer = client.post(
        f"/lots/{lot_id}/quote/confirm", data={"amount": amount}, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200, answer.text
    match = re.search(r'name="request_id" value="([^"]+)"', answer.text)
    assert match is not None
    return match.group(1), text_of(answer.text)


def test_r13_apply_jointly_through_the_form_and_see_deposit_instructions(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    client = signed_in(stack, bidder)
    form = {
        "mode": "joint",
        "member_name_0": "甲置业有限公司",
        "member_id_type_0": "统一社会信用代码",
        "member_id_no_0": "91421200A",
        "member_share_0": "60.00",
        "member_name_1": "乙建设有限公司",
        "member_id_type_1": "统一社会信用代码",
        "member_id_no_1": "91421200B",
        "member_share_1": "40.00",
        "consent": "yes",
    }
    answer = client.post(f"/lots/{lot['id']}/apply", data=form)
    assert answer.status_code == 303, answer.text
    page = client.get(answer.headers["location"])
    text = text_of(page.text)
    assert "等待保证金到账" in text
    assert "乙建设有限公司" in text
    applications = bidder.http.get("/api/v1/me/applications").json()
    assert [m["share"] for m in applications[0]["members"]] == ["60.00", "40.00"]
    assert applications[0]["order_no"] in text
    assert applications[0]["deposit"]["account_no"] in text


def test_r13_shares_not_100_are_refused_on_the_page_and_nothing_is_created(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    client = signed_in(stack, bidder)
    form = {
        "mode": "joint",
        "member_name_0": "甲",
        "member_id_type_0": "统一社会信用代码",
        "member_id_no_0": "1",
        "member_share_0": "60",
        "consent": "yes",
    }
    answer = client.post(f"/lots/{lot['id']}/apply", data=form)
    assert answer.status_code == 422
    assert 'data-code="SHARES_NOT_100"' in answer.text
    assert bidder.http.get("/api/v1/me/applications").json() == []


def test_r16b_qualification_status_appears_once_the_deposit_arrives(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    client = signed_in(stack, bidder)
    application = stack.apply(bidder, lot)
    status_url = f"/my/applications/{application['id']}/status"
    assert "等待保证金到账" in text_of(client.get(status_url).text)
    assert stack.pay(application).json()["status"] == "matched"
    text = text_of(client.get(status_url).text)
    assert "已取得竞买资格" in text
    number = bidder.http.get(f"/api/v1/applications/{application['id']}").json()["bidder_number"]
    assert number in text


def test_r20_quote_is_confirmed_in_figures_and_capitals_and_sent_once(
    stack: Stack, staff: Account
) -> None:
    lot, (bidder,), _ = listing_lot(stack, staff, 1, start_price="120000000.00")
    client = signed_in(stack, bidder)
    request_id, text = _confirm(client, lot["id"], "120,000,000")
    assert "120,000,000.00" in text
    assert "壹亿贰仟万元整" in text
    assert stack.lot(lot["id"])["quote_count"] == 0, "confirming sends nothing"
    form = {"amount": "120000000.00", "request_id": request_id}
    first = client.post(f"/lots/{lot['id']}/quotes", data=form, headers={"HX-Request": "true"})
    again = client.post(f"/lots/{lot['id']}/quotes", data=form, headers={"HX-Request": "true"})
    assert first.status_code == again.status_code == 200
    assert "报价成功" in first.text
    assert text_of(first.text) == text_of(again.text)
    quotes = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/quotes").json()
    assert [q["amount"] for q in quotes] == ["120000000.00"], "a double click is one quote"


def test_r19b_a_refused_quote_shows_the_rule_in_the_readers_language_and_changes_nothing(
    stack: Stack, staff: Account
) -> None:
    lot, (first, second), _ = listing_lot(stack, staff, 2)
    assert stack.quote(first, lot, lot["start_price"]).status_code == 201
    client = signed_in(stack, second)
    answer = client.post(
        f"/lots/{lot['id']}/quotes",
        data={"amount": lot["start_price"], "request_id": "same-price"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 422
    assert 'data-code="INCREMENT_TOO_SMALL"' in answer.text
    assert "加价幅度不得小于规定的增价幅度" in text_of(answer.text)
    client.cookies.set("lang", "en")
    english = client.post(
        f"/lots/{lot['id']}/quotes",
        data={"amount": lot["start_price"], "request_id": "same-price-en"},
        headers={"HX-Request": "true"},
    )
    assert "The raise must be at least the set increment" in text_of(english.text)
    assert stack.lot(lot["id"])["quote_count"] == 1


def test_r22_join_the_inquiry_and_set_and_cancel_a_proxy(stack: Stack, staff: Account) -> None:
    lot, (first, second), _ = listing_lot(stack, staff, 2)
    assert stack.quote(first, lot, lot["start_price"]).status_code == 201
    minimum = f"{float(lot['start_price']) + float(lot['increment']):.2f}"
    assert stack.quote(second, lot, minimum).status_code == 201
    stack.advance_to(lot["listing_end"])
    client = signed_in(stack, first)
    panel = client.get(f"/lots/{lot['id']}/panel", headers={"HX-Request": "true"})
    assert "参加限时竞价" in text_of(panel.text)
    joined = client.post(
        f"/lots/{lot['id']}/inquiry", data={"join": "yes"}, headers={"HX-Request": "true"}
    )
    assert joined.status_code == 200
    assert "您已选择参加限时竞价" in text_of(joined.text)
    view = to_timed_bidding(stack, lot, [second])
    assert view["status"] == "timed_bidding"
    ceiling = f"{float(minimum) + 10 * float(lot['increment']):.2f}"
    proxied = client.post(
        f"/lots/{lot['id']}/proxy", data={"max_amount": ceiling}, headers={"HX-Request": "true"}
    )
    assert proxied.status_code == 200, proxied.text
    assert "已设委托最高价" in text_of(proxied.text)
    assert (
        stack.lot(lot["id"])["leader"]
        == first.http.get("/api/v1/me/applications").json()[0]["bidder_number"]
    ), "the proxy outbid the leader at once (R-26)"
    cancelled = client.post(f"/lots/{lot['id']}/proxy/cancel", headers={"HX-Request": "true"})
    assert cancelled.status_code == 200
    assert "设置委托" in text_of(cancelled.text)


def test_r_cap_accept_the_cap_on_the_panel_and_see_the_lottery_on_the_board(
    stack: Stack, staff: Account
) -> None:
    lot, (first, second), _ = listing_lot(stack, staff, 2, price_cap="121000000.00")
    assert stack.quote(second, lot, "121000000.00").status_code == 201
    client = signed_in(stack, first)
    panel = text_of(client.get(f"/lots/{lot['id']}/panel", headers={"HX-Request": "true"}).text)
    assert "报价已达最高限价 121,000,000.00 元" in panel and "接受最高限价,参加摇号" in panel
    assert "报价金额" not in panel  # no quote form: price competition is over
    accepted = client.post(f"/lots/{lot['id']}/cap-acceptance", headers={"HX-Request": "true"})
    assert accepted.status_code == 200, accepted.text
    assert "您将参加最高限价摇号" in text_of(accepted.text)
    commitment = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/lottery").json()["commitment"]
    board = text_of(stack.anonymous().get(f"/lots/{lot['id']}").text)
    assert "价格竞争结束" in board and commitment in board
    stack.advance_to(lot["listing_end"])
    board = text_of(stack.anonymous().get(f"/lots/{lot['id']}").text)
    drawn = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/lottery").json()
    assert "最高限价摇号" in board and drawn["seed"] in board and drawn["winner"] in board


def test_r07_my_quotes_are_marked_on_my_board_only(stack: Stack, staff: Account) -> None:
    lot, (mine, other), _ = listing_lot(stack, staff, 2)
    assert stack.quote(mine, lot, lot["start_price"]).status_code == 201
    own = signed_in(stack, mine).get(f"/lots/{lot['id']}")
    theirs = signed_in(stack, other).get(f"/lots/{lot['id']}")
    assert 'class="mine"' in own.text
    assert 'class="mine"' not in theirs.text


def test_r19c_live_board_streams_rows_and_the_board_as_html(stack: Stack, staff: Account) -> None:
    lot, (bidder,), _ = listing_lot(stack, staff, 1)
    assert stack.quote(bidder, lot, lot["start_price"]).status_code == 201
    names: list[str] = []
    data: dict[str, list[str]] = {}
    with (
        httpx.Client(base_url=stack.url, timeout=10) as client,
        client.stream("GET", f"/lots/{lot['id']}/live") as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        current = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                current = line[7:]
                names.append(current)
            elif line.startswith("data: "):
                data.setdefault(current, []).append(line[6:])
            if "board" in names and current == "tick" and names.count("tick") >= 2:
                break
    assert names[:1] == ["tick"]
    assert "quote" in names
    assert names.index("quote") < names.index("board")
    row = "\n".join(data["quote"])
    assert 'data-seq="1"' in row
    assert "挂牌报价" in text_of(row)
    assert "挂牌中" in text_of("\n".join(data["board"]))
