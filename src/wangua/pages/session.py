"""Who is looking at a page: a browser session held in a cookie.

Signing in on a page runs the same two-factor login as the API (R-12a, R-34) and
keeps the API token in an HttpOnly, SameSite=Strict cookie. Pages that change
something also require the request to come from our own origin (R-35).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.responses import Response

from wangua.identity.service import token_actor
from wangua.kit.problems import Problem
from wangua.runtime import Actor
from wangua.web import RuntimeDep, act_as

COOKIE = "wangua_session"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class SignInRequired(Exception):
    """The page needs a signed-in visitor; answered with a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def login_url(next_url: str) -> str:
    return f"/login?next={quote(next_url, safe='/')}"


def same_origin(request: Request) -> bool:
    """Whether a state-changing request comes from one of our own pages: the browser's
    Sec-Fetch-Site, else the Origin (our no-referrer policy makes it "null" on forms in
    some browsers), else nothing to judge by (not a browser)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def page_viewer(request: Request, rt: RuntimeDep) -> Actor | None:
    """The signed-in visitor, or None; a stale cookie counts as signed out."""
    token = request.cookies.get(COOKIE)
    actor = None
    if token:
        actor = token_actor(rt, token)
    request.state.viewer = actor
    if request.method in UNSAFE and not same_origin(request):
        raise Problem(403, "CROSS_SITE_REQUEST", "请求来源不正确", "请从本系统页面提交操作")
    return actor


Viewer = Annotated[Actor | None, Depends(page_viewer)]


def signed_in(request: Request, viewer: Viewer) -> Actor:
    if viewer is None:
        raise SignInRequired(str(request.url.path))
    return viewer


def page_role(*roles: str) -> Callable[..., Actor]:
    """Like `web.role` for pages: signed out goes to the login page; other roles get 403."""

    def check(request: Request, viewer: Viewer) -> Actor:
        if viewer is None:
            target = request.url.path if request.method == "GET" else "/"
            raise SignInRequired(target)
        return act_as(viewer, roles)

    check.allowed_roles = roles  # type: ignore[attr-defined]
    return check


def keep_session(response: Response, token: str, expires_at: datetime, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        token,
        expires=expires_at,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")
