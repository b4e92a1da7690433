"""Who may call what (R-03, R-07): the route table against a declared decision per endpoint.

A new endpoint without a decision here fails CI; every role an endpoint does not admit is
refused over HTTP, and every role it admits passes the role check.
"""

from __future__ import annotations

import re

import fastapi.routing
import pytest
from fastapi.dependencies.models import Dependant

from tests.harness import Account, Stack
from wangua.app import create_app
from wangua.web import current_actor

PUBLIC, SIGNED_IN = "public", "signed in"
ROLES = ("bidder", "staff", "grantor", "supervisor", "finance", "admin")


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


POLICY: dict[tuple[str, str], str | frozenset[str]] = {
    ("POST", "/api/v1/auth/challenge"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): SIGNED_IN,
    ("GET", "/api/v1/me"): SIGNED_IN,
    ("POST", "/api/v1/register"): PUBLIC,
    ("POST", "/api/v1/admin/users"): roles("admin"),
    ("GET", "/api/v1/admin/users"): roles("admin"),
    ("GET", "/api/v1/admin/revocations"): roles("admin"),
    ("POST", "/api/v1/me/certificate/report-loss"): SIGNED_IN,
    ("POST", "/api/v1/me/unlock-request"): PUBLIC,  # proven by the certificate, not a session
    ("POST", "/api/v1/certificate/rebind-request"): PUBLIC,  # likewise
    ("GET", "/api/v1/admin/account-requests"): roles("staff"),
    ("POST", "/api/v1/admin/users/{user_id}/unlock"): roles("staff"),
    ("POST", "/api/v1/admin/users/{user_id}/certificate"): roles("staff"),
    ("GET", "/api/v1/clock"): PUBLIC,
    ("POST", "/api/v1/clock/advance"): PUBLIC,  # simulated clock only; 404 in production
    ("POST", "/api/v1/lots"): roles("staff"),
    ("POST", "/api/v1/lots/{lot_id}/publish"): roles("staff"),
    ("GET", "/api/v1/lots"): PUBLIC,
    ("GET", "/api/v1/lots/{lot_id}"): PUBLIC,
    ("POST", "/api/v1/lots/{lot_id}/applications"): roles("bidder"),
    ("GET", "/api/v1/applications/{application_id}"): SIGNED_IN,  # its bidder; staff after
    ("GET", "/api/v1/me/applications"): SIGNED_IN,
    ("POST", "/api/v1/bank/notifications"): PUBLIC,  # authenticated by the bank's HMAC
    ("POST", "/api/v1/lots/{lot_id}/quotes"): roles("bidder"),
    ("GET", "/api/v1/lots/{lot_id}/quotes"): PUBLIC,
    ("POST", "/api/v1/lots/{lot_id}/inquiry"): roles("bidder"),
    ("GET", "/api/v1/lots/{lot_id}/standing"): roles("bidder"),
    ("PUT", "/api/v1/lots/{lot_id}/proxy"): roles("bidder"),
    ("DELETE", "/api/v1/lots/{lot_id}/proxy"): roles("bidder"),
    ("GET", "/api/v1/lots/{lot_id}/result"): PUBLIC,
    ("POST", "/api/v1/lots/{lot_id}/cap-acceptance"): roles("bidder"),
    ("GET", "/api/v1/lots/{lot_id}/lottery"): PUBLIC,
    ("GET", "/api/v1/lots/{lot_id}/events"): PUBLIC,
    ("GET", "/api/v1/reserve-key"): PUBLIC,
    ("POST", "/api/v1/lots/{lot_id}/reserve"): roles("admin"),
    ("GET", "/api/v1/admin/reserves"): roles("admin"),
    ("POST", "/api/v1/lots/{lot_id}/suspend"): roles("staff"),
    ("POST", "/api/v1/lots/{lot_id}/resume"): roles("staff"),
    ("POST", "/api/v1/lots/{lot_id}/terminate"): roles("staff"),
    ("POST", "/api/v1/lots/{lot_id}/approvals"): roles("grantor"),
    ("GET", "/api/v1/lots/{lot_id}/approvals"): roles("staff", "grantor"),
    ("GET", "/api/v1/approvals"): roles("grantor"),
    ("GET", "/api/v1/lots/{lot_id}/suspension"): roles("staff"),
    ("POST", "/api/v1/lots/{lot_id}/supplements"): roles("staff"),
    ("POST", "/api/v1/lots/{lot_id}/documents"): roles("staff"),
    ("GET", "/api/v1/lots/{lot_id}/documents"): PUBLIC,
    ("GET", "/api/v1/lots/{lot_id}/documents/{document_id}"): PUBLIC,
    ("GET", "/api/v1/publications"): roles("staff", "supervisor", "admin"),
    ("GET", "/api/v1/feed.atom"): PUBLIC,
    ("POST", "/api/v1/lots/{lot_id}/price/propose"): roles("staff"),
    ("POST", "/api/v1/lots/{lot_id}/price/review"): roles("grantor"),
    ("POST", "/api/v1/lots/{lot_id}/price/approve"): roles("grantor"),
    ("GET", "/api/v1/lots/{lot_id}/price"): roles("staff", "grantor", "supervisor"),
    ("GET", "/api/v1/prices"): roles("grantor"),
    ("POST", "/api/v1/lots/{lot_id}/void"): roles("staff"),
    ("POST", "/api/v1/lots/{lot_id}/relist"): roles("staff"),
    ("POST", "/api/v1/lots/{lot_id}/confirmation/signature"): roles("staff"),
    ("GET", "/api/v1/lots/{lot_id}/bidders"): roles("staff"),
    ("POST", "/api/v1/lots/{lot_id}/identity-access"): roles("staff"),
    ("POST", "/api/v1/identity-access/{request_id}/approve"): roles("supervisor"),
    ("GET", "/api/v1/lots/{lot_id}/identity-access"): roles("staff"),
    ("GET", "/api/v1/identity-access"): roles("supervisor"),
    # oversight: co-signatures (R-32b), the console, the record (R-32a, R-32c)
    ("GET", "/api/v1/admin/cosignatures"): roles("supervisor"),
    ("GET", "/api/v1/admin/cosignature-required"): roles("admin"),
    ("GET", "/api/v1/lots/{lot_id}/console"): roles("staff", "supervisor"),
    ("GET", "/api/v1/admin/audit"): roles("admin", "supervisor"),
    ("GET", "/api/v1/admin/audit/checkpoints"): roles("admin", "supervisor"),
    ("POST", "/api/v1/admin/audit/verify"): roles("admin", "supervisor"),
    ("GET", "/api/v1/admin/backups"): roles("admin"),
    ("GET", "/api/v1/admin/backup-schedule"): roles("admin"),
    ("POST", "/api/v1/admin/backups/{name}/drill"): roles("admin"),
    # deposits, bank channel and refunds (R-16a … R-44)
    ("GET", "/api/v1/bank/health"): PUBLIC,  # the bank's HMAC over the empty body
    ("POST", "/api/v1/bank/refund-instructions"): PUBLIC,  # the bank's HMAC
    ("POST", "/api/v1/bank/refund-confirmations"): PUBLIC,  # the bank's HMAC
    ("GET", "/api/v1/workdays/{year}"): PUBLIC,
    ("POST", "/api/v1/applications/{application_id}/deposit-account"): roles("bidder"),
    ("POST", "/api/v1/guarantees"): roles("staff"),
    ("POST", "/api/v1/lots/{lot_id}/forfeiture"): roles("staff"),
    ("PUT", "/api/v1/admin/workdays/{year}"): roles("admin"),
    ("GET", "/api/v1/lots/{lot_id}/refunds"): roles("finance"),
    ("POST", "/api/v1/refunds/{refund_id}/release"): roles("finance"),
    ("GET", "/api/v1/finance/payments"): roles("finance"),
    ("POST", "/api/v1/finance/payments/{payment_id}/assign"): roles("finance"),
    ("POST", "/api/v1/finance/payments/{payment_id}/return"): roles("finance"),
    ("POST", "/api/v1/finance/refund-instructions.csv"): roles("finance"),
    ("POST", "/api/v1/finance/refund-confirmations"): roles("finance"),
    ("GET", "/api/v1/lots/{lot_id}/reconciliation"): roles("finance"),
    ("GET", "/api/v1/lots/{lot_id}/reconciliation.csv"): roles("finance"),
    ("GET", "/api/v1/finance/reconciliation"): roles("finance"),
    ("GET", "/api/v1/finance/reconciliation.csv"): roles("finance"),
    ("GET", "/api/v1/lots/{lot_id}/reconciliation.pdf"): roles("finance"),
    ("GET", "/api/v1/finance/reconciliation.pdf"): roles("finance"),
    # printed documents and the lot archive (R-28a, R-32d)
    ("GET", "/api/v1/lots/{lot_id}/confirmation.pdf"): roles("bidder", "staff"),  # the winner
    ("GET", "/api/v1/applications/{application_id}/qualification.pdf"): roles("bidder"),
    ("GET", "/api/v1/lots/{lot_id}/result.pdf"): PUBLIC,
    ("GET", "/api/v1/documents/verify/{code}"): PUBLIC,
    ("GET", "/api/v1/lots/{lot_id}/archive.json"): roles("staff", "supervisor"),
    ("GET", "/api/v1/lots/{lot_id}/archive.pdf"): roles("staff", "supervisor"),
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,  # scraped by monitoring; nginx keeps it off the internet
}
API_PATHS = ("/api/", "/healthz", "/metrics")  # the pages have their own matrix (tests/pages)
ENDS_A_SESSION = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/me/certificate/report-loss")}


def decision(dependant: Dependant) -> str | frozenset[str]:
    """What the route's dependencies enforce: a role set, a signed-in caller, or nothing."""
    signed_in, pending = False, [dependant]
    while pending:
        for sub in pending.pop().dependencies:
            allowed = getattr(sub.call, "allowed_roles", None)
            if allowed:
                return frozenset(allowed)
            signed_in = signed_in or sub.call is current_actor
            pending.append(sub)
    return SIGNED_IN if signed_in else PUBLIC


def route_table(stack: Stack) -> dict[tuple[str, str], str | frozenset[str]]:
    app = create_app(runtime=stack.runtime)
    table: dict[tuple[str, str], str | frozenset[str]] = {}
    for context in fastapi.routing.iter_route_contexts(app.routes):
        dependant = getattr(context.route, "dependant", None)
        if dependant is None or not context.path.startswith(API_PATHS):
            continue
        for method in context.methods - {"HEAD"}:
            table[(method, context.path)] = decision(dependant)
    return table


def test_r03_every_endpoint_has_an_authorization_decision(stack: Stack) -> None:
    if stack.backend != "sqlite":
        pytest.skip("the route table does not depend on the database")
    table = route_table(stack)
    undecided = sorted(set(table) - set(POLICY))
    assert not undecided, f"endpoints without a decision in POLICY: {undecided}"
    assert not sorted(set(POLICY) - set(table)), "POLICY names endpoints that no longer exist"
    differing = {key: (table[key], POLICY[key]) for key in POLICY if table[key] != POLICY[key]}
    assert not differing, f"enforced vs declared: {differing}"


def test_r03_every_role_is_refused_where_it_is_not_admitted(stack: Stack, staff: Account) -> None:
    if stack.backend != "sqlite":
        pytest.skip("the role check does not depend on the database")
    assert stack.admin is not None
    callers: dict[str, Account] = {
        "bidder": stack.bidder(),
        "staff": staff,
        "grantor": stack.account("grantor"),
        "supervisor": stack.account("supervisor"),
        "finance": stack.account("finance"),
        "admin": stack.admin,
    }
    anonymous = stack.anonymous()
    for (method, path), allowed in sorted(POLICY.items(), key=str):
        if allowed == PUBLIC:
            continue
        url = re.sub(r"\{[a-z_]+\}", "999999999", path)
        answer = anonymous.request(method, url, json={})
        assert answer.status_code == 401, (method, path, "anonymous", answer.text)
        for name, caller in callers.items():
            admitted = allowed == SIGNED_IN or name in allowed
            if admitted and (method, path) in ENDS_A_SESSION:
                continue
            answer = caller.http.request(method, url, json={})
            json_answer = "json" in answer.headers.get("content-type", "")
            body = answer.json() if json_answer else None
            code = body.get("code") if isinstance(body, dict) else None
            if admitted:
                assert code not in ("UNAUTHENTICATED", "ROLE_NOT_ALLOWED"), (method, path, name)
            else:
                assert (answer.status_code, code) == (403, "ROLE_NOT_ALLOWED"), (method, path, name)
