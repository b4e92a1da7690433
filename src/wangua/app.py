"""create_app(settings): the JSON API (and, later, the pages) on one runtime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from wangua import __version__, pages
from wangua.announcements.api import router as announcements_router
from wangua.applications.api import router as applications_router
from wangua.audit.api import router as audit_router
from wangua.availability.runner import Heartbeat
from wangua.backups.api import router as backups_router
from wangua.backups.runner import RecordKeeper
from wangua.bidding import lifecycle  # noqa: F401  (registers the timer handlers)
from wangua.bidding.api import router as bidding_router
from wangua.bidding.submission import ClosingHold, ReceiptDesk
from wangua.cap.api import router as cap_router
from wangua.confidentiality.api import router as confidentiality_router
from wangua.config import Settings
from wangua.deposits.api import router as deposits_router
from wangua.deposits.finance_api import router as deposit_finance_router
from wangua.documents.api import router as documents_router
from wangua.identity.api import router as identity_router
from wangua.kit.lanes import limit_request_threads
from wangua.kit.security_headers import SecurityHeaders
from wangua.live.api import router as live_router
from wangua.lots.api import router as lots_router
from wangua.monitoring.logging import RequestLogMiddleware, configure_logging
from wangua.monitoring.metrics import MetricsMiddleware
from wangua.monitoring.state import metrics_router
from wangua.oversight.api import router as oversight_router
from wangua.pricing.api import router as pricing_router
from wangua.printing.api import router as printing_router
from wangua.publishing.api import router as publishing_router
from wangua.publishing.runner import DeliveryWorker
from wangua.reserve.api import router as reserve_router
from wangua.results.api import router as results_router
from wangua.runtime import Runtime
from wangua.scheduler.api import router as clock_router
from wangua.scheduler.holds import Holds
from wangua.scheduler.runner import SchedulerLoop
from wangua.suspension import service as suspension_service  # noqa: F401  (resume timer)
from wangua.suspension.api import router as suspension_router
from wangua.web import install_problem_handlers


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    rt = runtime or Runtime(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(rt.settings.log_format)
        limit_request_threads(rt.settings.request_threads)
        rt.broadcaster.bind(asyncio.get_running_loop())
        rt.broadcaster.start()
        heartbeat = Heartbeat(rt)
        await heartbeat.start()
        holds = Holds(rt) if rt.db.is_postgres and rt.timer_grace else None
        if holds is not None:  # several processes (scheduler.holds)
            holds.start()
        scheduler = SchedulerLoop(rt) if rt.clock.mode == "system" else None
        if scheduler is not None:
            scheduler.start()
        deliveries = DeliveryWorker(rt)
        deliveries.start()
        keeper = RecordKeeper(rt)
        keeper.start()
        try:
            yield
        finally:
            await keeper.stop()
            await deliveries.stop()
            if scheduler is not None:
                await scheduler.stop()
            if holds is not None:
                await holds.stop()
            await heartbeat.stop()
            rt.broadcaster.stop()

    app = FastAPI(
        title="wangua 网上挂牌出让系统 API",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = rt
    install_problem_handlers(app)
    app.add_middleware(ClosingHold, receipts=rt.receipts)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(SecurityHeaders, trusted_proxies=rt.trusted_proxies)
    app.include_router(metrics_router(rt))
    # A request is matched against the routes in this order, router by router, and no two
    # routes match the same request (tests/test_routes.py): what bidders and their brokers
    # call most often comes first.
    for router in (
        bidding_router,
        live_router,
        lots_router,
        clock_router,
        identity_router,
        applications_router,
        deposits_router,
        deposit_finance_router,
        cap_router,
        reserve_router,
        suspension_router,
        announcements_router,
        documents_router,
        publishing_router,
        pricing_router,
        results_router,
        confidentiality_router,
        printing_router,
        oversight_router,
        audit_router,
        backups_router,
    ):
        app.include_router(router)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> Any:
        """200 when the server can reach its database."""

        def ping() -> None:
            with rt.read() as session:
                session.execute(text("SELECT 1"))

        try:
            await run_in_threadpool(ping)
        except Exception as exc:
            return JSONResponse(
                {"status": "unavailable", "error": type(exc).__name__}, status_code=503
            )
        return {"status": "ok", "clock": rt.clock.mode}

    pages.install(app)
    if not rt.timer_grace:  # one process (bidding.submission.ReceiptDesk)
        app.state.arrival_desk = ReceiptDesk(rt, app.routes)  # kit.arrival
    return app
