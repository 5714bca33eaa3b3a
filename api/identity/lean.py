"""`POST /api/v1/identity/verify` without Flask at runtime: the agency hot path (issue 21).

A WSGI layer in front of the Flask app answers the ordinary verify itself: a JSON body the
route's schema would accept as it stands, a bearer key of an agency that may verify, a known
active number. Per call: one prepared statement in autocommit (`popdb.identity.hot`: key
check, question count, person read), a rate-quota unit from this process's leased slice
(usually no round trip), the name comparison of `answers.verify_with`, and the audit row
through this process's group-commit writer; the answer leaves once that row is durable, and
is a 503 when it could not be written.

Anything else goes to the Flask route unchanged, which stays the reference and the OpenAPI
document's source: a body the strict parser here does not take whole (so every 400 comes from
flask-smorest, with its messages), an unknown, refused or non-agency key, a policy refusal.
Those hand-overs happen before anything is counted, except the question count of a client
whose key row the SQL and Python judged differently in the same instant (an expiry passing):
counted twice at worst, never missed. A "no" answer (the miss counter, enumeration flags and
suspension), an unknown or merged number and a read replica take the ordinary services with
an ORM session, answered here.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import threading
import time
import unicodedata
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import psycopg2
import sqlalchemy as sa
from sqlalchemy.orm import Session

from api import metrics, safe_json
from popdb.core import audit, replicas
from popdb.core import errors as domain
from popdb.core.audit_writer import AuditUnavailable, GroupWriter
from popdb.core.codes import sex_claim
from popdb.core.dates import PartialDate
from popdb.core.models import ApiClient
from popdb.core.settings import Settings
from popdb.identity import answers as identity
from popdb.identity import hot, usage
from popdb.identity.clients import KEY_PREFIX, hash_key, refusal
from popdb.identity.policy import Policy

log = logging.getLogger("popdb.http")
PATH = "/api/v1/identity/verify"
_PIN = re.compile(r"[0-9]{12}")
_NATIONALITY = re.compile(r"[A-Z]{2}")
_OFFICER = re.compile(r"[A-Za-z0-9._:@-]{1,64}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_NAMES = frozenset(identity.NAME_CLAIMS)
_KNOWN = frozenset((*identity.CLAIMS, "personal_id_number", "purpose", "consent_ref"))
_HEADERS = [
    ("Content-Type", "application/json"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
]


class _Delegate(Exception):
    """Not for the lean path: let the Flask route answer."""


def _text(value: Any, low: int, high: int) -> bool:
    return (isinstance(value, str) and low <= len(value) <= high
            and not any(unicodedata.category(ch) == "Cc" for ch in value))  # fmt: skip


def parse(body: bytes) -> dict[str, Any] | None:
    """The body as `VerifySchema` would load it, or None when this parser is not sure it
    would (then the route parses it and answers any 400 itself). Never more lenient."""
    try:
        doc = safe_json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not doc.keys() <= _KNOWN:
        return None
    out: dict[str, Any] = {}
    for name, value in doc.items():
        if name in _NAMES:
            ok = _text(value, 1, 200)
        elif name == "personal_id_number":
            ok = isinstance(value, str) and _PIN.fullmatch(value) is not None
        elif name == "purpose":
            ok = _text(value, 3, 500)
        elif name == "consent_ref":
            ok = _text(value, 1, 200)
        elif name == "nationality":
            ok = isinstance(value, str) and _NATIONALITY.fullmatch(value) is not None
        elif name == "dob":
            try:
                ok = isinstance(value, str) and PartialDate.from_iso(value) is not None
            except ValueError:
                ok = False
        elif name == "sex":
            try:
                value = sex_claim(value)
                ok = True
            except ValueError:
                ok = False
        else:  # pragma: no cover (the key set was checked)
            ok = False
        if not ok:
            return None
        out[name] = value
    if "personal_id_number" not in out or "purpose" not in out:
        return None
    return out


# --- where the statements run ------------------------------------------------------------------


def _named(sql: str) -> str:
    """$1 … $n as pyformat names, for running a statement unprepared through SQLAlchemy."""
    return re.sub(r"\$(\d+)", r"%(p\1)s", sql)


class _Store(ABC):
    """One request's database: statements, the audit append, an ORM session when needed."""

    def __init__(self, factory: Callable[[], Session]) -> None:
        self._factory = factory
        self._session: Session | None = None

    def session(self) -> Session:
        if self._session is None:
            self._session = self._factory()
        return self._session

    @abstractmethod
    def run(self, statement: tuple[str, str, str], params: list[Any]) -> list[Any]:
        """Each store says how: a raw DBAPI connection, or the ORM session."""

    def claim(self, client_id: int, wanted: list[tuple[str, int, int]]
              ) -> list[tuple[str, int, float]]:  # fmt: skip
        rows = self.run(
            hot.CLAIM,
            [
                client_id,
                [k for k, _, _ in wanted],
                [w for _, w, _ in wanted],
                [n for _, _, n in wanted],
            ],
        )
        out = [(str(k), int(h), float(e)) for k, h, e in rows]
        sizes = {k: n for k, _, n in wanted}
        if any(k == "day" and h <= sizes[k] for k, h, _ in out):  # a new day: prune
            self.run(hot.PRUNE, [client_id])
        return out

    @abstractmethod
    def append(self, actor: audit.Actor, entry: audit.Entry) -> None:
        """Each store says how: a raw DBAPI connection, or the ORM session."""

    def finish(self) -> None:
        """Commit what the ORM session holds (a "no" answer's counts and audit)."""
        if self._session is not None:
            self._session.commit()

    def close(self, failed: bool) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


class _PgStore(_Store):
    """Production: this thread's own autocommit connection, statements prepared on it once;
    audit rows through the process's group-commit writer."""

    def __init__(self, factory: Callable[[], Session], lean: LeanVerify) -> None:
        super().__init__(factory)
        self._lean = lean
        self._writer = lean.writer
        assert self._writer is not None
        self._writer.announce()  # this request will append: the writer may wait for it
        self._announced = True

    def run(self, statement: tuple[str, str, str], params: list[Any]) -> list[Any]:
        local = self._lean.local
        raw = getattr(local, "raw", None)
        if raw is None:
            raw = self._lean.hot_engine.raw_connection()
            local.raw, local.prepared = raw, set()
            with raw.cursor() as cur:
                # only counters are written here (the audit goes through the writer, with
                # fsync): a crash may forget the last counts, as for the rate counts before
                cur.execute("SET synchronous_commit = off")
        name, types, sql = statement
        try:
            with raw.cursor() as cur:
                if name not in local.prepared:
                    cur.execute(f"PREPARE popdb_{name.lower()} {types} AS {sql}")
                    local.prepared.add(name)
                marks = ", ".join(["%s"] * len(params))
                cur.execute(f"EXECUTE popdb_{name.lower()} ({marks})", params)
                return cur.fetchall() if cur.description else []
        except psycopg2.Error as exc:
            # psycopg2 reports a connection cut mid-statement (a server crash) as a plain
            # DatabaseError: a closed connection means the database went away, a 503
            dbapi = raw.dbapi_connection
            gone = (
                type(exc) is psycopg2.DatabaseError
                or bool(getattr(dbapi, "closed", 1))
                or self._lean.hot_engine.dialect.is_disconnect(exc, dbapi, None)
            )
            self._drop()
            if gone:
                raise domain.DatabaseUnavailable("the database connection was lost") from exc
            raise
        except Exception:
            self._drop()
            raise

    def _drop(self) -> None:
        local = self._lean.local
        raw = getattr(local, "raw", None)
        local.raw = None
        if raw is not None:
            with contextlib.suppress(Exception):  # a dead connection may fail to close
                raw.invalidate()

    def append(self, actor: audit.Actor, entry: audit.Entry) -> None:
        announced, self._announced = self._announced, False
        self._writer.append(actor, entry, announced=announced)

    def close(self, failed: bool) -> None:
        if self._announced:
            self._announced = False
            self._writer.withdraw()
        super().close(failed)


class _SessionStore(_Store):
    """Tests (create_app with a session factory): everything on the request's session, in
    the test's transaction; statements unprepared, the audit row by `audit.append_many`."""

    def run(self, statement: tuple[str, str, str], params: list[Any]) -> list[Any]:
        result = (
            self.session()
            .connection()
            .exec_driver_sql(_named(statement[2]), {f"p{i}": v for i, v in enumerate(params, 1)})
        )
        return list(result.fetchall()) if result.returns_rows else []

    def append(self, actor: audit.Actor, entry: audit.Entry) -> None:
        audit.append_many(self.session(), actor=actor, entries=[entry])

    def close(self, failed: bool) -> None:
        if failed and self._session is not None:
            self._session.rollback()
        super().close(failed)


# --- the WSGI layer ----------------------------------------------------------------------------


class LeanVerify:
    """WSGI middleware: the ordinary verify here, everything else to `app`."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        config: Mapping[str, Any],
        factory: Callable[[], Session],
        *,
        engine: sa.Engine | None,
    ) -> None:
        self.app = app
        self.config = config  # the Flask app's: settings read per request, as the routes do
        settings: Settings = config["POPDB_SETTINGS"]
        self.factory = factory
        self.leases = hot.QuotaLeases(processes=max(1, settings.web_workers))
        self.local = threading.local()
        self.per_route = settings.metrics_per_route
        #: answers given here, and verify requests handed to the route (tests, benchmarks)
        self.answered = 0
        self.delegated = 0
        self.hot_engine: sa.Engine | None = None
        self.writer: GroupWriter | None = None
        if engine is not None:  # production; tests run on their session
            self.hot_engine = sa.create_engine(
                engine.url, isolation_level="AUTOCOMMIT", pool_size=settings.web_threads,
                max_overflow=settings.web_threads, hide_parameters=True,
            )  # fmt: skip
            self.writer = GroupWriter(
                sa.create_engine(engine.url, pool_size=2, max_overflow=1, hide_parameters=True),
                max_batch=settings.audit_group_max,
                max_wait_s=settings.audit_group_wait_ms / 1000,
                pipeline=settings.audit_group_pipeline,
            )  # fmt: skip

    @property
    def settings(self) -> Settings:
        return self.config["POPDB_SETTINGS"]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:  # fmt: skip
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        started = time.perf_counter()
        body = self._body(environ)
        if body is None:
            self.delegated += 1
            return self.app(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)  # whoever answers reads it again
        given = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        try:
            status, payload, headers = self._answer(environ, body, request_id)
        except _Delegate:
            self.delegated += 1
            environ["wsgi.input"] = io.BytesIO(body)
            return self.app(environ, start_response)
        self.answered += 1
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        start_response(f"{status} {_REASONS[status]}", [
            *_HEADERS, ("Content-Length", str(len(data))), ("X-Request-Id", request_id),
            *headers,
        ])  # fmt: skip
        route = PATH if self.per_route else metrics.ALL_ROUTES
        metrics.REQUESTS.labels("POST", route, str(status)).inc()
        metrics.LATENCY.labels("POST", route).observe(time.perf_counter() - started)
        if log.isEnabledFor(logging.INFO):
            log.info("request", extra={
                "request_id": request_id, "method": "POST", "route": PATH, "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "client_id": getattr(self.local, "client_id", None),
            })  # fmt: skip
        return [data]

    def _body(self, environ: dict[str, Any]) -> bytes | None:
        """The body when its length is known and within the identity limit, else None."""
        if not str(environ.get("CONTENT_TYPE", "")).startswith("application/json"):
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        if not 0 < length <= self.settings.identity_max_body_bytes:
            return None
        body = environ["wsgi.input"].read(length)
        if len(body) != length:  # the client stopped short: the route answers, from what came
            environ["wsgi.input"] = io.BytesIO(body)
            return None
        return body

    def _answer(self, environ: dict[str, Any], body: bytes, request_id: str
                ) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:  # fmt: skip
        officer = environ.get("HTTP_X_OFFICER_ID")
        if officer is not None and not _OFFICER.fullmatch(officer):
            raise _Delegate
        scheme, _, key = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key.startswith(KEY_PREFIX) or len(key) > 200:
            raise _Delegate
        args = parse(body)
        if args is None:
            raise _Delegate
        try:
            claims = identity.claims_of(args)
        except domain.InvalidInput:
            raise _Delegate from None
        store: _Store = (_PgStore(self.factory, self) if self.hot_engine is not None
                         else _SessionStore(self.factory))  # fmt: skip
        failed = True
        self.local.client_id = None
        try:
            out = self._verify(store, args, claims, key, officer, request_id)
            store.finish()
            failed = False
            return out
        except _Delegate:
            raise
        except (
            AuditUnavailable,
            domain.DatabaseUnavailable,
            psycopg2.OperationalError,
            psycopg2.InterfaceError,
            sa.exc.OperationalError,
            sa.exc.InterfaceError,
        ) as exc:
            log.warning("database unavailable: %s", type(exc).__name__,
                        extra={"request_id": request_id})  # fmt: skip
            return (
                503,
                _error(
                    503,
                    domain.DatabaseUnavailable.code,
                    "The database is not reachable just now; nothing was changed. "
                    "Try again shortly.",
                    request_id,
                ),
                [("Retry-After", "5")],
            )
        except sa.exc.DBAPIError as exc:
            if exc.connection_invalidated:
                return (
                    503,
                    _error(
                        503,
                        domain.DatabaseUnavailable.code,
                        "The database is not reachable just now; nothing was "
                        "changed. Try again shortly.",
                        request_id,
                    ),
                    [("Retry-After", "5")],
                )
            log.error("database error %s (SQLSTATE %s) on the lean verify path",
                      type(exc.orig).__name__, getattr(exc.orig, "pgcode", None),
                      extra={"request_id": request_id})  # fmt: skip
            return (
                500,
                _error(
                    500,
                    "internal_error",
                    "Something went wrong on our side; quote the request_id.",
                    request_id,
                ),
                [],
            )
        except Exception as exc:  # noqa: BLE001 (one error shape; never a trace or values)
            log.error("unhandled error %s on the lean verify path (SQLSTATE %s)",
                      type(exc).__name__, getattr(exc, "pgcode", None),
                      extra={"request_id": request_id})  # fmt: skip
            return (
                500,
                _error(
                    500,
                    "internal_error",
                    "Something went wrong on our side; quote the request_id.",
                    request_id,
                ),
                [],
            )
        finally:
            store.close(failed)

    def _verify(self, store: _Store, args: dict[str, Any], claims: dict[str, Any], key: str,
                officer: str | None, request_id: str
                ) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:  # fmt: skip
        settings = self.settings
        number = args["personal_id_number"]
        marks, counters = usage.question_keys([usage.Question("verify", number, claims)])
        on_replica = replicas.configured(settings)
        rows = store.run(hot.CHECK_AND_RESOLVE, [
            hash_key(key), number, marks, counters, max(1, settings.enumeration_window_seconds),
            bool((args.get("consent_ref") or "").strip()), not on_replica,
            settings.identity_questions_per_number,
        ])  # fmt: skip
        if not rows:
            raise _Delegate  # no such key: the route answers 401
        client, counted, person = hot.split_row(rows[0])
        if client.role != "agency" or refusal(client) is not None:  # type: ignore[arg-type]
            raise _Delegate
        policy = Policy.of(client.policy)
        try:
            identity.require(policy, "verify", consent_ref=args.get("consent_ref"))
        except domain.PopdbError:
            raise _Delegate from None
        if counted is None:
            raise _Delegate  # the key row changed between the SQL's check and ours
        self.local.client_id = client.id
        actor = audit.Actor(client.id, client.name, client.role)
        context: dict[str, Any] = {"officer_id": officer}
        if args.get("consent_ref"):
            context["consent_ref"] = args["consent_ref"]
        per_second, per_day = usage.limits_for(client, settings)  # type: ignore[arg-type]
        limited = self.leases.take(client.id, per_second, per_day, store.claim)
        if limited is None:
            limited = usage.questions_refusal(client.id, counted, settings)
            if limited is not None:  # audited like the route's refusal, nothing answered
                store.append(actor, audit.Entry(
                    "identity.refused", subject_type="api_client", subject_id=client.id,
                    purpose=args.get("purpose"), request_id=request_id,
                    detail={"operation": "verify", "limit": limited.limit, **context},
                ))  # fmt: skip
        if limited is not None:
            return (
                429,
                _error(429, "rate_limited", limited.message, request_id, {"limit": limited.limit}),
                [("Retry-After", str(limited.retry_after))],
            )
        if on_replica:
            person = replicas.read_on_replica(
                settings, store.session(), lambda read: identity.resolve_for_verify(read, number)
            )
        elif person is None or person.status == "retired":  # type: ignore[attr-defined]
            person = identity.resolve_many(store.session(), [number])[number]
        verdict = identity.verify_with(person, claims, policy)
        entry = audit.Entry(
            "identity.verify",
            subject_type="person" if verdict.person_id is not None else None,
            subject_id=verdict.person_id, purpose=args["purpose"],
            legal_basis=policy.legal_basis, fields=verdict.compared, request_id=request_id,
            detail={"personal_id_number": number, "match": verdict.match, **context},
        )  # fmt: skip
        if verdict.match:
            store.append(actor, entry)
        else:
            self._miss(store, client.id, actor, entry, args, request_id)
        out: dict[str, Any] = {"match": verdict.match, "request_id": request_id}
        if verdict.status is not None and "status" in policy.fields:
            out["status"] = verdict.status
        return 200, out, []

    def _miss(self, store: _Store, client_id: int, actor: audit.Actor, entry: audit.Entry,
              args: dict[str, Any], request_id: str) -> None:  # fmt: skip
        """A "no": the miss counter, a flag or a suspension as it is crossed, and the audit
        row, in one ORM transaction committed before the answer (as the route does)."""
        session = store.session()
        orm_client = session.get(ApiClient, client_id)
        assert orm_client is not None
        probe = usage.count_misses(session, orm_client, 1, self.settings)
        if probe.flagged:
            audit.record(
                session, actor=actor, action="identity.enumeration_flagged",
                subject_type="api_client", subject_id=client_id, purpose=args.get("purpose"),
                request_id=request_id,
                detail={"misses": probe.misses,
                        "window_s": self.settings.enumeration_window_seconds},
            )  # fmt: skip
        audit.record_many(session, actor=actor, entries=[entry])
        session.commit()
        if probe.blocked:
            self.leases.forget(client_id)


def _error(status: int, code: str, message: str, request_id: str,
           errors: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """The API's one error shape (api/error_responses.py)."""
    return {"code": code, "status": status, "message": message, "errors": errors or {},
            "request_id": request_id}  # fmt: skip


_REASONS = {200: "OK", 429: "TOO MANY REQUESTS", 500: "INTERNAL SERVER ERROR",
            503: "SERVICE UNAVAILABLE"}  # fmt: skip
