"""The web pages: server-rendered HTML over the same services as the JSON API."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from wangua.kit.problems import Problem
from wangua.pages.admin import router as admin_router
from wangua.pages.auth import router as auth_router
from wangua.pages.bidder import router as bidder_router
from wangua.pages.board import router as board_router
from wangua.pages.console import router as console_router
from wangua.pages.documents import router as documents_router
from wangua.pages.finance import router as finance_router
from wangua.pages.oversight import router as oversight_router
from wangua.pages.public import router as public_router
from wangua.pages.records import router as records_router
from wangua.pages.rendering import HERE, render
from wangua.pages.session import SignInRequired, login_url
from wangua.pages.staff import router as staff_router
from wangua.pages.staff_results import router as staff_results_router
from wangua.pages.staff_suspension import router as staff_suspension_router

JSON_PATHS = ("/api/", "/metrics", "/healthz", "/static/")


def page_problem(request: Request, exc: Exception) -> Response:
    """A refusal shown as a page (or, to htmx, as the fragment it swaps in)."""
    if isinstance(exc, Problem):
        status, title, detail = exc.status, exc.title, exc.detail
    elif isinstance(exc, RequestValidationError):
        status, title, detail = 422, "提交的内容不完整或格式不正确", "请检查表单中的各项"
    else:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        title = "页面不存在" if status == 404 else "请求无法处理"
        detail = None
    template = "partials/problem.html" if request.headers.get("hx-request") else "error.html"
    code = exc.code if isinstance(exc, Problem) else None
    return render(
        request,
        template,
        {"title": title, "detail": detail, "code": code, "status": status},
        status_code=status,
    )


def install(app: FastAPI) -> None:
    """Mount the pages, their static files, and HTML answers for refusals on page paths."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in (
        public_router,
        auth_router,
        bidder_router,
        board_router,
        documents_router,
        staff_router,
        staff_suspension_router,
        staff_results_router,
        console_router,
        oversight_router,
        finance_router,
        admin_router,
        records_router,
    ):
        app.include_router(router)

    for exc_class in (Problem, RequestValidationError, StarletteHTTPException):
        api_handler = app.exception_handlers[exc_class]

        async def handler(request: Request, exc: Exception, api_handler=api_handler) -> Response:  # type: ignore[no-untyped-def]
            if request.url.path.startswith(JSON_PATHS):
                answer: Response = await api_handler(request, exc)
                return answer
            return page_problem(request, exc)

        app.add_exception_handler(exc_class, handler)

    async def sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        target = login_url(exc.next_url)
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    app.add_exception_handler(SignInRequired, sign_in)
