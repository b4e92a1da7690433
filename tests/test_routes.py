"""The route table: no two routes match the same request, so the order the routers are
included in (wangua.app, the most called first) changes which route answers nothing."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path

from tests.harness import Stack
from wangua.app import create_app

PARAMETER = re.compile(r"\{[^}]+\}")


def test_no_two_routes_match_the_same_request(stack: Stack) -> None:
    if stack.backend != "sqlite":
        pytest.skip("the route table does not depend on the database")
    app = create_app(runtime=stack.runtime)
    contexts = list(iter_route_contexts(app.routes))
    mounts = [context.path for context in contexts if not context.methods]  # static files
    routes = [
        (context.path, compile_path(context.path)[0], set(context.methods))
        for context in contexts
        if context.methods
    ]
    assert len(routes) > 150 and mounts == ["/static"]
    for path, _, methods in routes:
        for value in ("1", "x"):
            request = PARAMETER.sub(value, path)
            answering = [p for p, regex, m in routes if regex.match(request) and m & methods]
            assert answering == [path], (request, methods)
            assert not any(request.startswith(f"{mount}/") for mount in mounts), request
