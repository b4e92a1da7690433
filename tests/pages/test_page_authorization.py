"""Who may open which page (R-03): every page route declares a decision here, signed-out
visitors are sent to the login page, and signed-in people without the role get 403."""

from __future__ import annotations

import re

import fastapi.routing
import pytest
from fastapi.dependencies.models import Dependant

from tests.harness import Account, Stack
from tests.pages.support import browser, signed_in
from wangua.app import create_app
from wangua.pages.session import signed_in as signed_in_dependency

PUBLIC, SIGNED_IN = "public", "signed in"


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


PAGE_POLICY: dict[tuple[str, str], str | frozenset[str]] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/lots/{lot_id}"): PUBLIC,
    ("GET", "/lots/{lot_id}/live"): PUBLIC,
    ("GET", "/live"): PUBLIC,
    ("GET", "/supplements"): PUBLIC,
    ("GET", "/results"): PUBLIC,
    ("GET", "/lang/{locale}"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,  # ends the cookie's session, if any
    ("GET", "/register"): PUBLIC,
    ("POST", "/register"): PUBLIC,
    # bidder
    ("GET", "/my"): roles("bidder"),
    ("GET", "/lots/{lot_id}/apply"): roles("bidder"),
    ("POST", "/lots/{lot_id}/apply"): roles("bidder"),
    ("GET", "/my/applications/{application_id}"): roles("bidder"),
    ("GET", "/my/applications/{application_id}/status"): roles("bidder"),
    ("POST", "/my/applications/{application_id}/deposit-account"): roles("bidder"),
    ("GET", "/lots/{lot_id}/panel"): roles("bidder"),
    ("POST", "/lots/{lot_id}/quote/confirm"): roles("bidder"),
    ("POST", "/lots/{lot_id}/quotes"): roles("bidder"),
    ("POST", "/lots/{lot_id}/inquiry"): roles("bidder"),
    ("POST", "/lots/{lot_id}/proxy"): roles("bidder"),
    ("POST", "/lots/{lot_id}/proxy/cancel"): roles("bidder"),
    ("POST", "/lots/{lot_id}/cap-acceptance"): roles("bidder"),
    # printed documents (R-28a)
    ("GET", "/lots/{lot_id}/confirmation.pdf"): roles("bidder", "staff"),
    ("GET", "/my/applications/{application_id}/qualification.pdf"): roles("bidder"),
    ("GET", "/lots/{lot_id}/result.pdf"): PUBLIC,
    ("GET", "/verify"): PUBLIC,
    # supervisor and grantor (R-07, R-33, R-32b; R-LR28, R-37)
    ("GET", "/supervisor"): roles("supervisor"),
    ("POST", "/supervisor/identity-access/{request_id}/approve"): roles("supervisor"),
    ("GET", "/grantor"): roles("grantor"),
    ("POST", "/grantor/lots/{lot_id}/price/review"): roles("grantor"),
    ("POST", "/grantor/lots/{lot_id}/price/approve"): roles("grantor"),
    ("POST", "/grantor/approvals"): roles("grantor"),
    # finance (R-16a, R-16b, R-30b, R-41)
    ("GET", "/finance"): roles("finance"),
    ("POST", "/finance/payments/{payment_id}/assign"): roles("finance"),
    ("POST", "/finance/payments/{payment_id}/return"): roles("finance"),
    ("POST", "/finance/refund-instructions.csv"): roles("finance"),
    ("GET", "/finance/lots/{lot_id}"): roles("finance"),
    ("POST", "/finance/refunds/{refund_id}/release"): roles("finance"),
    ("GET", "/finance/lots/{lot_id}/reconciliation.csv"): roles("finance"),
    ("GET", "/finance/reconciliation"): roles("finance"),
    ("GET", "/finance/reconciliation.csv"): roles("finance"),
    ("GET", "/finance/lots/{lot_id}/reconciliation.pdf"): roles("finance"),
    ("GET", "/finance/reconciliation.pdf"): roles("finance"),
    # administrator (R-11, R-12b, R-32a, R-32c); account requests are staff's, as in the API
    ("GET", "/admin"): roles("admin"),
    ("POST", "/admin/users"): roles("admin"),
    ("POST", "/admin/lots/{lot_id}/reserve"): roles("admin"),
    ("GET", "/admin/account-requests"): roles("staff"),
    ("POST", "/admin/users/{user_id}/unlock"): roles("staff"),
    ("POST", "/admin/users/{user_id}/certificate"): roles("staff"),
    ("GET", "/admin/backups"): roles("admin"),
    ("POST", "/admin/backups/drill"): roles("admin"),
    ("GET", "/admin/audit"): roles("admin", "supervisor"),
    # staff (trading center); the live view also for supervisors, read-only
    ("GET", "/staff"): roles("staff"),
    ("GET", "/staff/new"): roles("staff"),
    ("POST", "/staff/lots"): roles("staff"),
    ("POST", "/staff/lots/{lot_id}/publish"): roles("staff"),
    ("GET", "/staff/lots/{lot_id}/documents"): roles("staff"),
    ("POST", "/staff/lots/{lot_id}/documents"): roles("staff"),
    ("GET", "/staff/lots/{lot_id}/supplements"): roles("staff"),
    ("POST", "/staff/lots/{lot_id}/supplements"): roles("staff"),
    ("GET", "/staff/lots/{lot_id}/suspension"): roles("staff"),
    ("POST", "/staff/lots/{lot_id}/suspend"): roles("staff"),
    ("POST", "/staff/lots/{lot_id}/resume"): roles("staff"),
    ("POST", "/staff/lots/{lot_id}/terminate"): roles("staff"),
    ("GET", "/staff/lots/{lot_id}/bidders"): roles("staff"),
    ("POST", "/staff/lots/{lot_id}/identity-access"): roles("staff"),
    # after the result (R-28b, R-44, R-43) and the starting price (R-LR28)
    ("GET", "/staff/lots/{lot_id}/result"): roles("staff"),
    ("POST", "/staff/lots/{lot_id}/confirmation/signature"): roles("staff"),
    ("POST", "/staff/lots/{lot_id}/forfeiture"): roles("staff"),
    ("POST", "/staff/lots/{lot_id}/void"): roles("staff"),
    ("POST", "/staff/lots/{lot_id}/relist"): roles("staff"),
    ("GET", "/staff/lots/{lot_id}/price"): roles("staff"),
    ("POST", "/staff/lots/{lot_id}/price/propose"): roles("staff"),
    ("GET", "/staff/live"): roles("staff", "supervisor"),
    ("GET", "/staff/lots/{lot_id}"): roles("staff", "supervisor"),
}


def decision(dependant: Dependant) -> str | frozenset[str]:
    signed, pending = False, [dependant]
    while pending:
        for sub in pending.pop().dependencies:
            allowed = getattr(sub.call, "allowed_roles", None)
            if allowed:
                return frozenset(allowed)
            signed = signed or sub.call is signed_in_dependency
            pending.append(sub)
    return SIGNED_IN if signed else PUBLIC


def page_table(stack: Stack) -> dict[tuple[str, str], str | frozenset[str]]:
    app = create_app(runtime=stack.runtime)
    table: dict[tuple[str, str], str | frozenset[str]] = {}
    for context in fastapi.routing.iter_route_contexts(app.routes):
        dependant = getattr(context.route, "dependant", None)
        if dependant is None or context.path.startswith(("/api/", "/healthz", "/metrics")):
            continue
        for method in context.methods - {"HEAD"}:
            table[(method, context.path)] = decision(dependant)
    return table


def test_r03_every_page_has_an_authorization_decision(stack: Stack) -> None:
    if stack.backend != "sqlite":
        pytest.skip("the route table does not depend on the database")
    table = page_table(stack)
    undecided = sorted(set(table) - set(PAGE_POLICY))
    assert not undecided, f"pages without a decision in PAGE_POLICY: {undecided}"
    assert not sorted(set(PAGE_POLICY) - set(table)), "PAGE_POLICY names pages that do not exist"
    differing = {k: (table[k], PAGE_POLICY[k]) for k in PAGE_POLICY if table[k] != PAGE_POLICY[k]}
    assert not differing, f"enforced vs declared: {differing}"


def test_r03_pages_send_strangers_to_login_and_refuse_other_roles(
    stack: Stack, staff: Account
) -> None:
    if stack.backend != "sqlite":
        pytest.skip("the role check does not depend on the database")
    assert stack.admin is not None
    people: dict[str, Account] = {
        "bidder": stack.bidder(),
        "staff": staff,
        "grantor": stack.account("grantor", "xianning-city"),
        "supervisor": stack.account("supervisor"),
        "finance": stack.account("finance"),
        "admin": stack.admin,
    }
    sessions = {name: signed_in(stack, account) for name, account in people.items()}
    stranger = browser(stack)
    for (method, path), allowed in sorted(PAGE_POLICY.items(), key=str):
        if allowed in (PUBLIC, SIGNED_IN):
            continue
        url = re.sub(r"\{[a-z_]+\}", "999999999", path)
        answer = stranger.request(method, url)
        assert answer.status_code == 303, (method, path, answer.status_code)
        assert answer.headers["location"].startswith("/login"), (method, path)
        for name, client in sessions.items():
            answer = client.request(method, url)
            if name in allowed:
                assert (
                    answer.status_code != 403 or 'data-code="ROLE_NOT_ALLOWED"' not in answer.text
                )
            else:
                assert answer.status_code == 403, (method, path, name, answer.status_code)
                assert 'data-code="ROLE_NOT_ALLOWED"' in answer.text, (method, path, name)


def test_r35_a_form_posted_from_another_site_changes_nothing(stack: Stack) -> None:
    bidder = stack.bidder()
    client = signed_in(stack, bidder)
    answer = client.post(
        "/lots/1/quotes",
        data={"amount": "1.00", "request_id": "x"},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 403
    assert 'data-code="CROSS_SITE_REQUEST"' in answer.text
