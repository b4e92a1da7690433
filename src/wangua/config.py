"""Settings from WANGUA_* environment variables (API.md, Settings)."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WANGUA_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path.cwd() / "wangua-data")
    database_url: str | None = None
    # A streaming replica of the database for anonymous public reads (Runtime.public_read);
    # bidding, sign-in, writes and the live event streams always use the primary.
    replica_url: str | None = None
    clock: Literal["system", "simulated"] = "system"
    clock_start: datetime | None = None
    trust_anchors: str = ""
    bank_secret: str = ""  # no secret, no bank notifications: never a default anyone can read
    price_approval: Literal["off", "required"] = "off"
    login_rate_per_minute: int = 60
    token_hours: int = 12
    deposit_bank: str = "中国工商银行咸宁分行"
    deposit_account_name: str = "咸宁市公共资源交易中心"
    deposit_account_no: str = "1818 0000 0000 0000 001"
    banks: str = ""  # JSON list: code, name, secret, account_no, account_name, grantors
    bank_link_timeout_seconds: float = Field(default=900.0, gt=0)  # no signed call: link down
    refund_interest_bp: int = Field(default=35, ge=0)  # late-refund interest, 0.01 % a year
    proxy_max_steps: int = 1000
    request_threads: int = Field(default=8, ge=1)  # see kit/lanes.py
    # several processes: a closing timer waits for bids the others received to be held
    # by them (scheduler.holds)
    timer_grace_ms: int = Field(default=0, ge=0, le=60_000)
    # how long a process remembers the account behind a sign-in token; another process
    # may admit a revoked token this long (identity.tokens; 0: read it every time)
    token_cache_ms: int = Field(default=1000, ge=0, le=60_000)
    reserve_key_dir: Path | None = None
    crl_dir: Path | None = None
    trusted_proxies: str = ""
    publish_targets: str = ""
    publish_retry_seconds: float = Field(default=5.0, gt=0)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8192)
    argon2_parallelism: int = Field(default=4, ge=1)
    audit_key_dir: Path | None = None
    audit_checkpoint_minutes: float = Field(default=10.0, gt=0)
    backup_dir: Path | None = None
    backup_keep_days: int = Field(default=14, ge=1)
    backup_time: time = time(2, 0)  # Asia/Shanghai
    log_format: Literal["json", "text"] = "text"

    @field_validator("clock_start", mode="after")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("WANGUA_CLOCK_START needs a time zone offset")
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'wangua.sqlite3'}"

    @property
    def resolved_reserve_key_dir(self) -> Path:
        return self.reserve_key_dir or self.data_dir / "keys"

    @property
    def resolved_crl_dir(self) -> Path:
        return self.crl_dir or self.data_dir / "crl"

    @property
    def resolved_audit_key_dir(self) -> Path:
        return self.audit_key_dir or self.data_dir / "keys"

    @property
    def resolved_backup_dir(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    @property
    def trust_anchor_paths(self) -> list[Path]:
        return [Path(p.strip()) for p in self.trust_anchors.split(",") if p.strip()]
