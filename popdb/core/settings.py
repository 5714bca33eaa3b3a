"""One frozen settings object, read from the environment once."""

from __future__ import annotations

import datetime as dt
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


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return value


def _date(name: str, default: dt.date) -> dt.date:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a date YYYY-MM-DD, got {raw!r}") from exc


#: The registry's epoch: no batch may say it was collected earlier (POPDB_EPOCH). The oldest
#: official commune list we hold is 2020-02-25; 2016-01-01 leaves room for paper registers
#: digitised late (the 2014 Law on Citizen Identification took effect on that day) while refusing
#: forged dates that would sort a batch before all genuine evidence.
DEFAULT_EPOCH = dt.date(2016, 1, 1)


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
    #: POST /identity/verify on the lean path (api/identity/lean.py): one prepared statement,
    #: leased rate quota, group-committed audit (POPDB_LEAN_VERIFY=0: the flask-smorest route)
    lean_verify: bool = True
    #: group commit of audit appends: how long the writer waits for more entries after the
    #: first (POPDB_AUDIT_GROUP_WAIT_MS) and the most entries in one commit
    audit_group_wait_ms: float = 0.0
    audit_group_max: int = 64
    #: flush the WAL for the groups on a thread of its own, while the next groups are
    #: appended (POPDB_AUDIT_GROUP_PIPELINE=0: append, flush, answer, one group at a time)
    audit_group_pipeline: bool = True
    identity_max_body_bytes: int = 1024 * 1024
    agency_rate_per_second: int = 20
    agency_rate_per_day: int = 100_000
    enumeration_window_seconds: int = 600
    enumeration_flag_misses: int = 50
    enumeration_block_misses: int = 200
    #: read replicas (popdb/core/replicas.py): DATABASE_REPLICA_URLS, comma-separated, names
    #: replicas of an external server (the embedded server's are found under home/replicas);
    #: a replica further behind than POPDB_REPLICA_MAX_LAG_S is skipped; lag is measured at
    #: most every POPDB_REPLICA_CHECK_S.
    database_replica_urls: tuple[str, ...] = ()
    replica_max_lag_s: float = 5.0
    replica_check_s: float = 1.0
    #: earliest collection date a batch may carry (POPDB_EPOCH, YYYY-MM-DD)
    epoch: dt.date = DEFAULT_EPOCH
    #: distinct questions one client may ask about one number per enumeration window: verify
    #: claim sets (each batch item too), and arguments of each predicate (age_at_least 18 and
    #: 65 are two questions of one predicate)
    identity_questions_per_number: int = 10
    identity_predicates_per_number: int = 3
    #: web hardening (issue 22): the admin cookie's Secure flag (off only for plain-HTTP
    #: development), the absolute admin session lifetime, per-route detail on /metrics,
    #: and police uploads allowed per hour and client
    session_cookie_secure: bool = True
    admin_session_hours: int = 8
    metrics_per_route: bool = False
    police_uploads_per_hour: int = 120
    #: hold every uploaded batch at `loaded` for a match preview until an administrator
    #: releases it (POPDB_MATCH_PREVIEW; default off: batches match right after loading)
    match_preview: bool = False
    #: database roles (issue 22 item 5): DATABASE_URL is the service's (it cannot alter the
    #: schema nor change the audit log); POPDB_OWNER_DATABASE_URL the schema owner's, used by
    #: migrations and maintenance only. The embedded server derives both; its service role is
    #: named POPDB_SERVICE_ROLE.
    owner_database_url: str | None = None
    service_role: str = "popdb_service"
    #: the audit chain's HMAC key, held outside the database: POPDB_AUDIT_KEY, else the first
    #: line of POPDB_AUDIT_KEY_FILE (default POPDB_HOME/audit.key, made at the embedded
    #: server's first start); further lines of the file are retired keys kept to verify
    #: their rows
    audit_key: str | None = None
    audit_key_file: Path | None = None
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
            lean_verify=_bool("POPDB_LEAN_VERIFY", True),
            audit_group_wait_ms=_float("POPDB_AUDIT_GROUP_WAIT_MS", 0.0),
            audit_group_max=_int("POPDB_AUDIT_GROUP_MAX", 64),
            audit_group_pipeline=_bool("POPDB_AUDIT_GROUP_PIPELINE", True),
            identity_max_body_bytes=_int("POPDB_IDENTITY_MAX_BODY_BYTES", 1024 * 1024),
            agency_rate_per_second=_int("POPDB_AGENCY_RATE_PER_SECOND", 20),
            agency_rate_per_day=_int("POPDB_AGENCY_RATE_PER_DAY", 100_000),
            enumeration_window_seconds=_int("POPDB_ENUMERATION_WINDOW_SECONDS", 600),
            enumeration_flag_misses=_int("POPDB_ENUMERATION_FLAG_MISSES", 50),
            enumeration_block_misses=_int("POPDB_ENUMERATION_BLOCK_MISSES", 200),
            database_replica_urls=tuple(
                u.strip() for u in os.environ.get("DATABASE_REPLICA_URLS", "").split(",")
                if u.strip()
            ),
            replica_max_lag_s=_float("POPDB_REPLICA_MAX_LAG_S", 5.0),
            replica_check_s=_float("POPDB_REPLICA_CHECK_S", 1.0),
            epoch=_date("POPDB_EPOCH", DEFAULT_EPOCH),
            identity_questions_per_number=_int("POPDB_IDENTITY_QUESTIONS_PER_NUMBER", 10),
            identity_predicates_per_number=_int("POPDB_IDENTITY_PREDICATES_PER_NUMBER", 3),
            session_cookie_secure=_bool("POPDB_SESSION_COOKIE_SECURE", True),
            admin_session_hours=_int("POPDB_ADMIN_SESSION_HOURS", 8),
            metrics_per_route=_bool("POPDB_METRICS_PER_ROUTE", False),
            police_uploads_per_hour=_int("POPDB_POLICE_UPLOADS_PER_HOUR", 120),
            match_preview=_bool("POPDB_MATCH_PREVIEW", False),
            owner_database_url=os.environ.get("POPDB_OWNER_DATABASE_URL") or None,
            service_role=_role_name(os.environ.get("POPDB_SERVICE_ROLE") or "popdb_service"),
            audit_key=os.environ.get("POPDB_AUDIT_KEY") or None,
            audit_key_file=(
                Path(os.environ["POPDB_AUDIT_KEY_FILE"]).expanduser()
                if os.environ.get("POPDB_AUDIT_KEY_FILE") else None
            ),
        )

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def uploads(self) -> Path:
        return self.home / "uploads"

    @property
    def audit_key_path(self) -> Path:
        """Where the audit key is read from when POPDB_AUDIT_KEY is unset."""
        return self.audit_key_file or self.home / "audit.key"


def _role_name(raw: str) -> str:
    """A role name safe to put in SQL unquoted: lower-case letters, digits, _."""
    if not raw or len(raw) > 63 or not raw[0].isalpha() or not all(
        c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in raw
    ):
        raise ConfigError(
            f"POPDB_SERVICE_ROLE must be lower-case letters, digits or _, got {raw!r}"
        )
    return raw
