"""One frozen settings object, read from the environment once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from popdb.core.errors import ConfigError


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _bool(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true/false), got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Everything configurable. `DATABASE_URL` unset means the embedded server under `home`."""

    database_url: str | None
    home: Path
    log_level: str = "INFO"
    max_upload_bytes: int = 512 * 1024 * 1024
    secret_key: str | None = None
    web_workers: int = 2
    web_threads: int = 4
    #: How long a claimed review item stays with its claimant (POPDB_REVIEW_CLAIM_MINUTES).
    review_claim_minutes: int = 15
    #: identity routes: body size limit, default rates of agencies whose policy names none,
    #: and enumeration detection (verify misses per window: flagged, then blocked)
    identity_max_body_bytes: int = 1024 * 1024
    agency_rate_per_second: int = 20
    agency_rate_per_day: int = 100_000
    enumeration_window_seconds: int = 600
    enumeration_flag_misses: int = 50
    enumeration_block_misses: int = 200
    #: web hardening (issue 22): the admin cookie's Secure flag (off only for plain-HTTP
    #: development), the absolute admin session lifetime, per-route detail on /metrics,
    #: and police uploads allowed per hour and client
    session_cookie_secure: bool = True
    admin_session_hours: int = 8
    metrics_per_route: bool = False
    police_uploads_per_hour: int = 120
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("POPDB_HOME") or "~/.local/share/popdb").expanduser()
        return cls(
            database_url=os.environ.get("DATABASE_URL") or None,
            home=home,
            log_level=os.environ.get("POPDB_LOG_LEVEL", "INFO").upper(),
            max_upload_bytes=_int("POPDB_MAX_UPLOAD_BYTES", 512 * 1024 * 1024),
            secret_key=os.environ.get("POPDB_SECRET_KEY") or None,
            web_workers=_int("POPDB_WEB_WORKERS", 2),
            web_threads=_int("POPDB_WEB_THREADS", 4),
            review_claim_minutes=_int("POPDB_REVIEW_CLAIM_MINUTES", 15),
            identity_max_body_bytes=_int("POPDB_IDENTITY_MAX_BODY_BYTES", 1024 * 1024),
            agency_rate_per_second=_int("POPDB_AGENCY_RATE_PER_SECOND", 20),
            agency_rate_per_day=_int("POPDB_AGENCY_RATE_PER_DAY", 100_000),
            enumeration_window_seconds=_int("POPDB_ENUMERATION_WINDOW_SECONDS", 600),
            enumeration_flag_misses=_int("POPDB_ENUMERATION_FLAG_MISSES", 50),
            enumeration_block_misses=_int("POPDB_ENUMERATION_BLOCK_MISSES", 200),
            session_cookie_secure=_bool("POPDB_SESSION_COOKIE_SECURE", True),
            admin_session_hours=_int("POPDB_ADMIN_SESSION_HOURS", 8),
            metrics_per_route=_bool("POPDB_METRICS_PER_ROUTE", False),
            police_uploads_per_hour=_int("POPDB_POLICE_UPLOADS_PER_HOUR", 120),
        )

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def uploads(self) -> Path:
        return self.home / "uploads"
