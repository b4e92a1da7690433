"""Metrics read from the database at scrape time, and the `/metrics` endpoint (R-33).

Timer lag is how long the oldest due timer has waited to fire; the outbox
backlog counts deliveries to external platforms not yet taken (R-04); the
checkpoint age is how long ago the audit record was last signed (R-32a). Per
configured bank, the time of its last signed call and whether the link counts as up
(a signed call within `WANGUA_BANK_LINK_TIMEOUT_SECONDS`, R-16a).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from wangua.audit.checkpoints import latest_at
from wangua.deposits import links
from wangua.deposits.banks import banks
from wangua.publishing.models import Delivery
from wangua.runtime import Runtime
from wangua.scheduler.models import Timer


class StateCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterable[Metric]:
        with self.runtime.read() as session:
            now = self.runtime.clock.now(session)
            oldest_due = session.scalar(
                select(func.min(Timer.due_at)).where(Timer.fired_at.is_(None), Timer.due_at <= now)
            )
            backlog = session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.delivered_at.is_(None))
            )
            signed = latest_at(session)
            contacts = links.last_contacts(session)
        lag = GaugeMetricFamily(
            "wangua_timer_lag_seconds", "最早到期而尚未触发的定时器已迟到的秒数"
        )
        lag.add_metric([], 0.0 if oldest_due is None else (now - oldest_due).total_seconds())
        yield lag
        yield GaugeMetricFamily(
            "wangua_outbox_backlog", "尚未送达外部平台的推送数", value=float(backlog or 0)
        )
        age = GaugeMetricFamily(
            "wangua_audit_checkpoint_age_seconds", "距最近一次审计签名检查点的秒数"
        )
        if signed is not None:
            age.add_metric([], (now - signed).total_seconds())
        yield age
        yield from self._bank_links(contacts, now)

    def _bank_links(self, contacts: dict[str, datetime], now: datetime) -> Iterable[Metric]:
        settings = self.runtime.settings
        timeout = timedelta(seconds=settings.bank_link_timeout_seconds)
        up = GaugeMetricFamily(
            "wangua_bank_link_up",
            "银行链路是否正常:最近一次签名调用在超时时间内为 1",
            labels=["bank"],
        )
        last = GaugeMetricFamily(
            "wangua_bank_last_contact_seconds",
            "银行最近一次签名调用(通知、健康检查、退款指令或确认)的时间(Unix 秒)",
            labels=["bank"],
        )
        for code, bank in banks(settings).items():
            if not bank.secret:
                continue  # a bank that cannot sign has no link
            contact = contacts.get(code)
            up.add_metric([code], 1.0 if links.is_up(contact, now, timeout) else 0.0)
            if contact is not None:
                last.add_metric([code], contact.timestamp())
        yield up
        yield last


class _Process(Collector):
    """The process-wide instruments (quotes, live clients, the runtime's own)."""

    def collect(self) -> Iterable[Metric]:
        yield from REGISTRY.collect()


def metrics_router(runtime: Runtime) -> APIRouter:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Process())
    registry.register(StateCollector(runtime))
    router = APIRouter(tags=["operations"])

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        """Prometheus text exposition (R-33)."""
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
