"""Signing in, registering and signing out on the pages (R-12a, R-34, R-35).

The browser proves the certificate in one of two ways: the TLS client certificate of
the connection (a USB key's certificate reaches the browser this way), or a signature
of the server's nonce made in the page with WebCrypto from the key file the bidder
chooses; the key never leaves the browser.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wangua.identity import service
from wangua.identity.client_certs import presented_certificate
from wangua.identity.signin import register_bidder, sign_in
from wangua.kit.problems import Problem
from wangua.pages.rendering import render
from wangua.pages.session import COOKIE, Viewer, end_session, keep_session
from wangua.web import RateLimited, RuntimeDep

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _proof(
    request: Request, rt: RuntimeDep, certificate: str, nonce: str, signature: str
) -> service.Proof | str | None:
    if certificate and nonce and signature:
        return service.Proof(certificate, nonce, signature)
    return presented_certificate(request, rt.trusted_proxies)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, rt: RuntimeDep, viewer: Viewer, next: str = "/") -> HTMLResponse:
    tls = presented_certificate(request, rt.trusted_proxies) is not None
    return render(request, "auth/login.html", {"next": _safe_next(next), "tls_certificate": tls})


@router.post("/login", dependencies=[RateLimited])
def login(
    request: Request,
    rt: RuntimeDep,
    viewer: Viewer,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    certificate: Annotated[str, Form(max_length=20000)] = "",
    nonce: Annotated[str, Form(max_length=200)] = "",
    signature: Annotated[str, Form(max_length=2000)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """R-12a: certificate and password, as `POST /api/v1/auth/login`; the session token
    goes into an HttpOnly cookie."""
    try:
        outcome = sign_in(
            rt, username, password, _proof(request, rt, certificate, nonce, signature)
        )
    except Problem as problem:
        context = {
            "next": _safe_next(next),
            "problem": problem,
            "username": username,
            "tls_certificate": False,
        }
        return render(request, "auth/login.html", context, status_code=problem.status)
    assert outcome.token is not None and outcome.expires_at is not None
    response = RedirectResponse(_safe_next(next), status_code=303)
    keep_session(response, outcome.token, outcome.expires_at, _secure(request))
    return response


@router.post("/logout")
def logout(request: Request, rt: RuntimeDep, viewer: Viewer) -> Response:
    token = request.cookies.get(COOKIE)
    if token and viewer is not None:
        with rt.work(viewer) as work:
            service.logout(work, token)
    response = RedirectResponse("/", status_code=303)
    end_session(response)
    return response


@router.get("/register", response_class=HTMLResponse)
def register_page(request: Request, viewer: Viewer) -> HTMLResponse:
    return render(request, "auth/register.html", {})


@router.post("/register", dependencies=[RateLimited])
def register(
    request: Request,
    rt: RuntimeDep,
    viewer: Viewer,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    party_kind: Annotated[str, Form(pattern="^(legal|natural|other)$")],
    party_name: Annotated[str, Form(min_length=1, max_length=200)],
    id_type: Annotated[str, Form(min_length=1, max_length=40)],
    id_no: Annotated[str, Form(min_length=1, max_length=64)],
    certificate: Annotated[str, Form(min_length=1, max_length=20000)],
    nonce: Annotated[str, Form(min_length=1, max_length=200)],
    signature: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    """Self-registration of a bidder with the certificate proof, as `POST /api/v1/register`."""
    party = {
        "kind": party_kind,
        "name": party_name.strip(),
        "id_type": id_type.strip(),
        "id_no": id_no.strip(),
        "domestic": True,
    }
    try:
        register_bidder(rt, username, password, service.Proof(certificate, nonce, signature), party)
    except Problem as problem:
        context = {"problem": problem, "form": {"username": username, "party_name": party_name}}
        return render(request, "auth/register.html", context, status_code=problem.status)
    return RedirectResponse("/login?registered=1", status_code=303)
