"""Browsing the pages over HTTP as a person would: a cookie session, forms, fragments."""

from __future__ import annotations

import re

import httpx

from tests.harness import Account, Stack


def browser(stack: Stack) -> httpx.Client:
    client = httpx.Client(base_url=stack.url, timeout=60, follow_redirects=False)
    stack.clients.append(client)
    return client


def signed_in(stack: Stack, account: Account) -> httpx.Client:
    """A browser session opened through the login page, with the certificate proof."""
    client = browser(stack)
    form = {
        "username": account.username,
        "password": account.password,
        "next": "/",
        **stack.proof(account.key_path, account.cert_path),
    }
    answer = client.post("/login", data=form)
    assert answer.status_code == 303, answer.text
    assert "wangua_session" in client.cookies
    return client


def text_of(html: str) -> str:
    """The visible text of a page, whitespace collapsed, for assertions on what people read."""
    without_scripts = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", without_scripts))
