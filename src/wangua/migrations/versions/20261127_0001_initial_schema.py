"""initial schema

Revision ID: 20261127_0001
Revises: (none)
Create Date: 2026-11-27 13:14:41.719236
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wangua.db

GRANTORS = {  # as configured when this migration was written; later changes get a migration
    "xianning-city": "咸宁市自然资源和城乡建设局",
    "xianan": "咸安区自然资源和规划局",
    "jiayu": "嘉鱼县自然资源和规划局",
    "chibi": "赤壁市自然资源和规划局",
    "tongcheng": "通城县自然资源和规划局",
    "chongyang": "崇阳县自然资源和规划局",
    "tongshan": "通山县自然资源和规划局",
}

revision: str = "20261127_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_streams",
        sa.Column("stream", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("stream", name=op.f("pk_audit_streams")),
    )
    op.create_table(
        "clock_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("now", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clock_state")),
    )
    op.create_table(
        "grantors",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_grantors")),
    )
    op.create_table(
        "login_nonces",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_login_nonces")),
    )
    op.create_table(
        "parties",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("id_type", sa.String(length=40), nullable=False),
        sa.Column("id_no", sa.String(length=64), nullable=False),
        sa.Column("domestic", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
    )
    op.create_table(
        "audit_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("stream", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("actor_cert_serial", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=30), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("input_digest", sa.String(length=64), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["stream"], ["audit_streams.stream"], name=op.f("fk_audit_entries_stream_audit_streams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("stream", "seq", name=op.f("uq_audit_entries_stream_seq")),
    )
    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("party_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("grantor", sa.String(length=32), nullable=True),
        sa.Column("cert_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("cert_pem", sa.Text(), nullable=False),
        sa.Column("cert_serial", sa.String(length=64), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("failed_day", sa.Date(), nullable=True),
        sa.Column("locked_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_users_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("cert_fingerprint", name=op.f("uq_users_cert_fingerprint")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "access_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_access_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_access_tokens")),
    )
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "lots",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("grantor", sa.String(length=32), nullable=False),
        sa.Column("asset_type", sa.String(length=40), nullable=False),
        sa.Column("layer", sa.String(length=20), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("area_m2", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("land_use", sa.String(length=100), nullable=False),
        sa.Column("term_years", sa.Integer(), nullable=False),
        sa.Column("planning", sa.JSON(), nullable=False),
        sa.Column("start_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("increment_fen", sa.BigInteger(), nullable=False),
        sa.Column("deposit_fen", sa.BigInteger(), nullable=False),
        sa.Column("has_reserve", sa.Boolean(), nullable=False),
        sa.Column("price_cap_fen", sa.BigInteger(), nullable=True),
        sa.Column("application_deadline", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deposit_deadline", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("listing_start", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("listing_end", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("published_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("highest_fen", sa.BigInteger(), nullable=True),
        sa.Column(
            "leader_application_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("quote_count", sa.Integer(), nullable=False),
        sa.Column("inquiry_end", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("timed_deadline", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("proxy_seq", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_lots_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["grantor"], ["grantors.code"], name=op.f("fk_lots_grantor_grantors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
        sa.UniqueConstraint("code", name=op.f("uq_lots_code")),
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lots_grantor"), ["grantor"], unique=False)
        batch_op.create_index(batch_op.f("ix_lots_status"), ["status"], unique=False)

    op.create_table(
        "applications",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_no", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("new_company", sa.JSON(), nullable=True),
        sa.Column("consented_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("qualified_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("bidder_number", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_applications_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_applications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint(
            "lot_id", "bidder_number", name=op.f("uq_applications_lot_id_bidder_number")
        ),
        sa.UniqueConstraint("lot_id", "user_id", name=op.f("uq_applications_lot_id_user_id")),
        sa.UniqueConstraint("order_no", name=op.f("uq_applications_order_no")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applications_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_user_id"), ["user_id"], unique=False)

    op.create_table(
        "lot_events",
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_lot_events_lot_id_lots")),
        sa.PrimaryKeyConstraint("lot_id", "seq", name=op.f("pk_lot_events")),
    )
    op.create_table(
        "timers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("due_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("fired_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_timers_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timers")),
        sa.UniqueConstraint("lot_id", "kind", name=op.f("uq_timers_lot_id_kind")),
    )
    with op.batch_alter_table("timers", schema=None) as batch_op:
        batch_op.create_index("ix_timers_pending", ["fired_at", "due_at"], unique=False)

    op.create_table(
        "inquiry_answers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("joined", sa.Boolean(), nullable=False),
        sa.Column("answered_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_inquiry_answers_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_inquiry_answers_lot_id_lots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiry_answers")),
        sa.UniqueConstraint(
            "lot_id", "application_id", name=op.f("uq_inquiry_answers_lot_id_application_id")
        ),
    )
    with op.batch_alter_table("inquiry_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inquiry_answers_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("txn_id", sa.String(length=100), nullable=False),
        sa.Column("account_no", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("payer_name", sa.String(length=200), nullable=False),
        sa.Column("payer_account", sa.String(length=64), nullable=False),
        sa.Column("received_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_payments_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("txn_id", name=op.f("uq_payments_txn_id")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "proxies",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("max_fen", sa.BigInteger(), nullable=False),
        sa.Column("set_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("set_seq", sa.Integer(), nullable=False),
        sa.Column("cancelled_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_proxies_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_proxies_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proxies")),
    )
    with op.batch_alter_table("proxies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proxies_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "quotes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column(
            "application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("phase", sa.String(length=10), nullable=False),
        sa.Column("received_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by_proxy", sa.Boolean(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_quotes_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_quotes_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotes")),
        sa.UniqueConstraint(
            "lot_id",
            "application_id",
            "request_id",
            name=op.f("uq_quotes_lot_id_application_id_request_id"),
        ),
        sa.UniqueConstraint("lot_id", "seq", name=op.f("uq_quotes_lot_id_seq")),
    )
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quotes_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "results",
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column(
            "winner_application_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("reserve_fen", sa.BigInteger(), nullable=True),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("decided_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_results_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["winner_application_id"],
            ["applications.id"],
            name=op.f("fk_results_winner_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("lot_id", name=op.f("pk_results")),
    )
    op.bulk_insert(
        sa.table("grantors", sa.column("code", sa.String), sa.column("name", sa.String)),
        [{"code": code, "name": name} for code, name in GRANTORS.items()],
    )
    op.bulk_insert(
        sa.table(
            "audit_streams",
            sa.column("stream", sa.String),
            sa.column("seq", sa.Integer),
            sa.column("head_hash", sa.String),
        ),
        [{"stream": "system", "seq": 0, "head_hash": "0" * 64}],
    )


def downgrade() -> None:
    op.drop_table("results")
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quotes_application_id"))

    op.drop_table("quotes")
    with op.batch_alter_table("proxies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proxies_lot_id"))

    op.drop_table("proxies")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_application_id"))

    op.drop_table("payments")
    with op.batch_alter_table("inquiry_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inquiry_answers_lot_id"))

    op.drop_table("inquiry_answers")
    with op.batch_alter_table("timers", schema=None) as batch_op:
        batch_op.drop_index("ix_timers_pending")

    op.drop_table("timers")
    op.drop_table("lot_events")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_user_id"))
        batch_op.drop_index(batch_op.f("ix_applications_lot_id"))

    op.drop_table("applications")
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lots_status"))
        batch_op.drop_index(batch_op.f("ix_lots_grantor"))

    op.drop_table("lots")
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_tokens_user_id"))

    op.drop_table("access_tokens")
    op.drop_table("users")
    op.drop_table("audit_entries")
    op.drop_table("parties")
    op.drop_table("login_nonces")
    op.drop_table("grantors")
    op.drop_table("clock_state")
    op.drop_table("audit_streams")
