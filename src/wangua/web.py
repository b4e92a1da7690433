"""What every endpoint shares: the runtime, the caller, problem+json, paging."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from wangua.identity.ratelimit import client_address
from wangua.identity.service import read_token, token_hash
from wangua.kit.messages import N_
from wangua.kit.paging import id_cursor
from wangua.kit.problems import Problem, unauthenticated
from wangua.runtime import Actor, Runtime

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


# Dependencies that do no I/O are coroutines, so FastAPI runs them on the event loop
# instead of handing each to a worker thread.


async def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def bearer_token_hash(request: Request) -> str | None:
    """The hash of the bearer token the request's Authorization header carries, if any."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token_hash(token.strip())


async def optional_actor(request: Request, rt: RuntimeDep) -> Actor | None:
    """The caller a bearer token names: remembered by this process for a moment
    (identity.tokens), else read in a worker thread (`read_once`)."""
    hashed = bearer_token_hash(request)
    if hashed is None:
        return None
    actor = rt.tokens.remembered(hashed) or await read_once(rt, hashed)
    if actor is None:
        raise unauthenticated()
    return actor


async def read_once(rt: Runtime, hashed: str) -> Actor | None:
    """The token's account, read in a worker thread; requests that carry the same token
    while it is read wait for that read instead of each reading it (a bidder's burst of
    bids at a deadline), unless the process has forgotten tokens since it began (a
    logout, a lost certificate: identity.tokens), which a later read must see."""
    reads = rt.tokens.reads
    generation = rt.tokens.generation
    shared = reads.get(hashed)
    if shared is None or shared[0] != generation:
        read = asyncio.ensure_future(run_in_threadpool(read_token, rt, hashed))
        shared = reads[hashed] = (generation, read)
        read.add_done_callback(lambda _: reads.pop(hashed) if reads.get(hashed) is shared else None)
    return await asyncio.shield(shared[1])  # one caller going away leaves it to the others


async def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise unauthenticated()
    return actor


def act_as(actor: Actor, roles: tuple[str, ...]) -> Actor:
    """The caller acting in the first of `roles` they hold; 403 ROLE_NOT_ALLOWED if none."""
    for name in roles:
        if name in actor.roles:
            return Actor(
                actor.user_id, name, actor.username, actor.cert_serial, actor.grantor, actor.roles
            )
    raise Problem(403, "ROLE_NOT_ALLOWED", "无权操作", f"需要以下角色之一:{'、'.join(roles)}")


def role(*roles: str) -> Callable[[Actor], Coroutine[Any, Any, Actor]]:
    """A dependency that admits callers holding one of `roles`, acting in that role.
    The roles are kept on the dependency so the route table can be audited."""

    async def check(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        return act_as(actor, roles)

    check.allowed_roles = roles  # type: ignore[attr-defined]
    return check


def login_rate(request: Request, rt: RuntimeDep) -> None:
    """R-34: attempts per source address per minute (WANGUA_LOGIN_RATE_PER_MINUTE)."""
    address = client_address(request, rt.trusted_proxies)
    rt.login_limiter.hit(address, rt.settings.login_rate_per_minute)


RateLimited = Depends(login_rate)
ObjectId = Annotated[int, Path(ge=1, le=2**63 - 1)]
"""An id in a path: anything else is refused before it reaches the database."""
OptionalActor = Annotated[Actor | None, Depends(optional_actor)]
CurrentActor = Annotated[Actor, Depends(current_actor)]


def problem_response(problem: Problem) -> JSONResponse:
    response = JSONResponse(problem.body(), status_code=problem.status, media_type=PROBLEM_JSON)
    if "retry_after" in problem.extra:
        response.headers["Retry-After"] = str(problem.extra["retry_after"])
    return response


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(exc)

    async def on_validation(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        fields = "、".join(".".join(str(p) for p in e["loc"][1:]) or "请求体" for e in errors)
        return problem_response(
            Problem(
                422,
                "VALIDATION_ERROR",
                "请求数据不正确",
                f"以下字段缺失或格式不正确:{fields}",
                errors=errors,
            )
        )

    async def on_http(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        codes = {
            404: ("NOT_FOUND", N_("资源不存在")),
            405: ("METHOD_NOT_ALLOWED", N_("不支持该请求方法")),
        }
        code, title = codes.get(exc.status_code, ("HTTP_ERROR", str(exc.detail)))
        return problem_response(Problem(exc.status_code, code, title))

    async def on_database_unavailable(_request: Request, exc: Exception) -> Response:
        """The database could not be reached or dropped the connection (a restart, a
        crash, a failover), or gave up on a lock. Nothing was acknowledged; a write whose
        COMMIT was under way may still have been stored, which the client learns by
        sending it again with the same request id."""
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).strip()
        log.warning("database unavailable: %s", reason.splitlines()[0] if reason else "?")
        return problem_response(
            Problem(
                503,
                "DATABASE_UNAVAILABLE",
                "系统暂时无法处理请求",
                "数据库暂时不可用,请稍后重试;重发报价时请使用同一 request_id",
                retry_after=1,
            )
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(OperationalError, on_database_unavailable)


def page_limit(limit: int | None, default: int = 50, maximum: int = 500) -> int:
    if limit is None:
        return default
    if not 1 <= limit <= maximum:
        raise Problem(422, "INVALID_LIMIT", "分页参数不正确", f"limit 须在 1 到 {maximum} 之间")
    return limit


def parse_cursor(cursor: str | None) -> int:
    """An ascending id cursor; anything that is not an id in range is 422 INVALID_CURSOR."""
    return id_cursor(cursor)


def link_next(
    request: Request, response: Response, items: list[Any], limit: int, cursor: int | None
) -> None:
    """API.md: the next page's URL comes in a Link header."""
    if len(items) == limit and cursor is not None:
        url = request.url.include_query_params(limit=limit, cursor=cursor)
        response.headers["Link"] = f'<{url}>; rel="next"'
