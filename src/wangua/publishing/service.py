"""Publishing notices through an outbox (R-04, R-29).

A notice is written in the same transaction as the change it announces (the result's
by the `settle` timer that the decision's transaction sets), with one delivery row per
configured platform; the delivery worker sends them after the commit, so nothing is
announced that did not happen and nothing that happened goes unannounced.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update

from wangua.audit.service import record
from wangua.kit.times import SHANGHAI, rfc3339, wall_now
from wangua.kit.workdays import add_working_days
from wangua.lots.models import GRANTORS, Lot
from wangua.publishing.models import Delivery, Publication
from wangua.publishing.targets import Target
from wangua.runtime import Runtime, Work

RESULT_DEADLINE_WORKING_DAYS = 10
"""R-29: the result is published within 10 working days."""
CLAIM = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=1)

TITLES = {
    "announcement": "挂牌出让公告",
    "supplement": "补充公告",
    "suspension": "中止公告",
    "resumption": "恢复公告",
    "termination": "终止公告",
    "result": "出让结果公告",
    "voiding": "竞得结果无效公告",
}


def publish(work: Work, kind: str, lot: Lot, payload: dict[str, Any]) -> Publication:
    """Queue a notice about `lot` for every configured platform."""
    now = work.now()
    due_by = None
    if kind == "result":
        due_by = add_working_days(now.astimezone(SHANGHAI).date(), RESULT_DEADLINE_WORKING_DAYS).day
    publication = Publication(
        kind=kind,
        lot_id=lot.id,
        title=f"{lot.name}({lot.code}){TITLES[kind]}",
        payload={
            "kind": kind,
            "lot": {
                "id": lot.id,
                "code": lot.code,
                "name": lot.name,
                "grantor": lot.grantor,
                "grantor_name": GRANTORS.get(lot.grantor),
            },
            **payload,
        },
        created_at=now,
        due_by=due_by,
    )
    work.session.add(publication)
    work.session.flush()
    for target in work.publish_targets:
        work.session.add(
            Delivery(
                publication_id=publication.id,
                target=target.name,
                attempts=0,
                next_attempt_at=wall_now(),
            )
        )
    return publication


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int, base_seconds: float) -> timedelta:
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def claim_due(runtime: Runtime, limit: int = 20) -> list[int]:
    """Claim due deliveries for a minute (a crashed worker's claims simply expire)."""
    now = wall_now()
    with runtime.work() as work:
        ids = list(
            work.session.scalars(
                select(Delivery.id)
                .where(
                    Delivery.delivered_at.is_(None),
                    Delivery.next_attempt_at <= now,
                    or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
                )
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            work.session.execute(
                update(Delivery).where(Delivery.id.in_(ids)).values(claimed_until=now + CLAIM)
            )
    return ids


def deliver(runtime: Runtime, delivery_id: int, client: httpx.Client) -> bool:
    """Send one claimed delivery and record the answer; True when the platform took it."""
    targets = {t.name: t for t in runtime.publish_targets}
    with runtime.read() as session:
        delivery = session.get(Delivery, delivery_id)
        publication = session.get(Publication, delivery.publication_id) if delivery else None
    if delivery is None or publication is None or delivery.delivered_at is not None:
        return False
    target = targets.get(delivery.target)
    status, error = (
        _send(client, target, publication, delivery) if target else (None, "未配置的平台")
    )
    with runtime.work() as work:
        row = work.session.get(Delivery, delivery_id)
        assert row is not None
        row.attempts += 1
        row.claimed_until = None
        row.last_status, row.last_error = status, error
        if error is None:
            row.delivered_at = wall_now()
            record(
                work,
                "publication.delivered",
                object_type="delivery",
                object_id=row.id,
                data={"publication_id": row.publication_id, "target": row.target},
            )
        else:
            row.next_attempt_at = wall_now() + backoff(
                row.attempts, runtime.settings.publish_retry_seconds
            )
    return error is None


def _send(
    client: httpx.Client, target: Target, publication: Publication, delivery: Delivery
) -> tuple[int | None, str | None]:
    body = json.dumps(
        {
            "id": publication.id,
            "kind": publication.kind,
            "title": publication.title,
            "published_at": rfc3339(publication.created_at),
            **publication.payload,
        },
        ensure_ascii=False,
    ).encode()
    try:
        response = client.post(
            target.url,
            content=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Wangua-Signature": signature(target.secret, body),
                "X-Wangua-Delivery": str(delivery.id),
            },
        )
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"[:1000]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, response.text[:1000] or f"HTTP {response.status_code}"


def deliveries_view(runtime: Runtime, limit: int, after: int) -> list[dict[str, Any]]:
    with runtime.read() as session:
        publications = list(
            session.scalars(
                select(Publication)
                .where(Publication.id > after)
                .order_by(Publication.id)
                .limit(limit)
            )
        )
        rows = session.scalars(
            select(Delivery).where(Delivery.publication_id.in_([p.id for p in publications]))
        ).all()
    by_publication: dict[int, list[Delivery]] = {}
    for row in rows:
        by_publication.setdefault(row.publication_id, []).append(row)
    return [
        {
            "id": p.id,
            "kind": p.kind,
            "lot_id": p.lot_id,
            "title": p.title,
            "published_at": rfc3339(p.created_at),
            "due_by": p.due_by.isoformat() if p.due_by else None,
            "deliveries": [
                {
                    "target": d.target,
                    "attempts": d.attempts,
                    "delivered_at": rfc3339(d.delivered_at),
                    "next_attempt_at": None if d.delivered_at else rfc3339(d.next_attempt_at),
                    "last_status": d.last_status,
                    "last_error": d.last_error,
                    "late": _late(p, d),
                }
                for d in by_publication.get(p.id, [])
            ],
        }
        for p in publications
    ]


def _late(publication: Publication, delivery: Delivery) -> bool:
    """R-29: a result not delivered by its due date (Asia/Shanghai) is late."""
    if publication.due_by is None:
        return False
    moment: datetime = delivery.delivered_at or wall_now()
    return moment.astimezone(SHANGHAI).date() > publication.due_by
