"""The state of each bank link on /metrics: the time of its last signed call and whether
the link counts as up (R-16a, R-33). SQLite and PostgreSQL."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.deposits.support import COUNTY_BANK, signed
from tests.harness import Stack

COUNTY = COUNTY_BANK["code"]


def _links(stack: Stack) -> dict[str, dict[str, float]]:
    """{metric name: {bank: value}} for the two bank link families."""
    found: dict[str, dict[str, float]] = {
        "wangua_bank_link_up": {},
        "wangua_bank_last_contact_seconds": {},
    }
    text = stack.anonymous().get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in found:
                found[sample.name][sample.labels["bank"]] = sample.value
    return found


def _county_poll(stack: Stack, secret: str = COUNTY_BANK["secret"]) -> int:
    return signed(stack, "GET", "/api/v1/bank/health", secret=secret, bank_id=COUNTY).status_code


def test_r16a_bank_link_is_up_while_signed_calls_arrive_and_down_after_the_timeout(
    stack: Stack,
) -> None:
    timeout = stack.runtime.settings.bank_link_timeout_seconds
    stack.advance(timeout + 1)
    quiet = _links(stack)
    assert quiet["wangua_bank_link_up"] == {"default": 0.0, COUNTY: 0.0}
    # a call with a bad signature is no contact
    assert _county_poll(stack, secret="wrong") == 401
    assert _links(stack) == quiet
    # a signed health poll is
    assert _county_poll(stack) == 200
    polled_at = stack.now().timestamp()
    after_poll = _links(stack)
    assert after_poll["wangua_bank_link_up"] == {"default": 0.0, COUNTY: 1.0}
    assert after_poll["wangua_bank_last_contact_seconds"][COUNTY] == polled_at
    # still up at the timeout, down just after it, the contact time kept
    stack.advance(timeout)
    assert _links(stack)["wangua_bank_link_up"][COUNTY] == 1.0
    stack.advance(1)
    late = _links(stack)
    assert late["wangua_bank_link_up"][COUNTY] == 0.0
    assert late["wangua_bank_last_contact_seconds"][COUNTY] == polled_at


def test_r16a_every_signed_bank_call_counts_as_contact_whatever_its_outcome(
    stack: Stack,
) -> None:
    stack.advance(stack.runtime.settings.bank_link_timeout_seconds + 1)
    # a notification refused for its amount still shows the link works
    refused = signed(
        stack,
        "POST",
        "/api/v1/bank/notifications",
        {"txn_id": "link-check", "amount": "-1.00", "paid_at": stack.now().isoformat()},
        secret=COUNTY_BANK["secret"],
        bank_id=COUNTY,
    )
    assert refused.status_code == 422
    pulled = signed(stack, "POST", "/api/v1/bank/refund-instructions", {})
    assert pulled.status_code == 200
    now = stack.now().timestamp()
    state = _links(stack)
    assert state["wangua_bank_link_up"] == {"default": 1.0, COUNTY: 1.0}
    assert state["wangua_bank_last_contact_seconds"] == {"default": now, COUNTY: now}
