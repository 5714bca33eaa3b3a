"""The audit chain: every identity read and every registry change, hash-chained.

Each `audit_event` row carries the hash of the row before it and a SHA-256 of its own
canonical form (its id, time, who, what, why and that previous hash), so removing, editing or
reordering a row breaks every hash after it. The database refuses UPDATE, DELETE and TRUNCATE
(triggers, migration 0001); `verify` recomputes the chain and an `Anchor` kept elsewhere
reveals a cut tail.

Appends are serialised by a transaction-scoped advisory lock taken just before the insert, so
the chain order is the commit order. Write the audit event as the last step of a transaction:
the lock is held until commit. A single event is appended by one SQL function call
(`audit_append`), a batch by one lock, one read of the head and one INSERT.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core.errors import InvalidInput
from popdb.core.models import ApiClient, AuditEvent

GENESIS = "0" * 64
#: Any constant unique to this lock; pg_advisory_xact_lock takes a bigint.
_CHAIN_LOCK = 0x706F7064625F6175  # "popdb_au"
HASHED = (
    "id", "occurred_at", "actor_id", "actor_name", "role", "action", "subject_type",
    "subject_id", "purpose", "legal_basis", "fields", "request_id", "detail", "prev_hash",
)  # fmt: skip


@dataclass(frozen=True)
class Actor:
    """Who did it: an API client, or an operator at the command line."""

    id: int | None
    name: str
    role: str

    @classmethod
    def of(cls, client: ApiClient) -> Actor:
        return cls(client.id, client.name, client.role)

    @classmethod
    def operator(cls, name: str = "cli") -> Actor:
        return cls(None, name, "operator")


def _plain(value: Any) -> Any:
    """JSON values that survive a jsonb round trip unchanged (floats do not: 1e5 → 100000)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def compute_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the hashed columns (sorted keys, no spaces)."""
    payload = {k: row[k] for k in HASHED}
    payload["occurred_at"] = _timestamp(payload["occurred_at"])
    return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()


def _canonical(payload: Mapping[str, Any]) -> str:
    """The hashed form: JSON of the hashed columns, sorted keys, no spaces, UTF-8 as is."""
    return json.dumps({k: payload[k] for k in HASHED}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """One event to append with `record_many`: the arguments of `record` but the actor."""

    action: str
    subject_type: str | None = None
    subject_id: str | int | None = None
    purpose: str | None = None
    legal_basis: str | None = None
    fields: Iterable[str] = ()
    request_id: str | None = None
    detail: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Appended:
    """An event as the chain took it."""

    id: int
    occurred_at: dt.datetime
    prev_hash: str
    hash: str


_APPEND = sa.text(
    "SELECT * FROM audit_append(:lock, :template, :id_marker, :at_marker, :prev_marker, "
    ":actor_id, :actor_name, :role, :action, :subject_type, :subject_id, :purpose, "
    ":legal_basis, CAST(:fields AS jsonb), :request_id, CAST(:detail AS jsonb))"
)


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    purpose: str | None = None,
    legal_basis: str | None = None,
    fields: Iterable[str] = (),
    request_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Appended:
    """Append one event in the caller's transaction; it commits or rolls back with the action.

    One statement (`audit_append`, migration 0005) takes the chain lock, reads the head, draws
    the id and inserts, so the lock waits on no further round trip before the commit. The
    canonical JSON is built here, with markers where the id, the time and the previous hash
    go; the database fills them in and hashes the same bytes `compute_hash` would.
    """
    if not action:
        raise InvalidInput("an audit event needs an action")
    session.flush()
    token = secrets.token_hex(8)
    markers = {"id": f"@@id-{token}@@", "occurred_at": f"@@at-{token}@@",
               "prev_hash": f"@@prev-{token}@@"}  # fmt: skip
    row = _row(actor, Entry(action, subject_type, subject_id, purpose, legal_basis, fields,
                            request_id, detail))  # fmt: skip
    template = _canonical({**row, **markers})
    appended = session.execute(
        _APPEND,
        {
            **row,
            "lock": _CHAIN_LOCK,
            "template": template,
            "id_marker": json.dumps(markers["id"]),
            "at_marker": markers["occurred_at"],
            "prev_marker": markers["prev_hash"],
            "fields": json.dumps(row["fields"], ensure_ascii=False),
            "detail": json.dumps(row["detail"], ensure_ascii=False),
        },  # fmt: skip
    ).one()
    return Appended(appended.id, appended.occurred_at, appended.prev_hash, appended.hash)


def record_many(session: Session, *, actor: Actor, entries: Sequence[Entry]) -> int:
    """Append many events at once (a batch call: one per item), chained in the given order.

    One lock, one read of the head, one sequence round trip and one INSERT, where a loop over
    `record` would take four statements per event.
    """
    if not entries:
        return 0
    session.flush()
    session.execute(sa.insert(AuditEvent), _chain(session, actor, entries))
    return len(entries)


def _row(actor: Actor, e: Entry) -> dict[str, Any]:
    """The event's columns but id, time and hashes: what the caller says, made JSON-stable."""
    return {
        "actor_id": actor.id,
        "actor_name": actor.name,
        "role": actor.role,
        "action": e.action,
        "subject_type": e.subject_type,
        "subject_id": None if e.subject_id is None else str(e.subject_id),
        "purpose": e.purpose,
        "legal_basis": e.legal_basis,
        "fields": [str(f) for f in e.fields],
        "request_id": e.request_id,
        "detail": _plain(dict(e.detail or {})),
    }


def _chain(session: Session, actor: Actor, entries: Sequence[Entry]) -> list[dict[str, Any]]:
    """Rows for `entries` with ids and hashes, chained onto the head under the chain lock."""
    if any(not e.action for e in entries):
        raise InvalidInput("an audit event needs an action")
    session.execute(sa.select(sa.func.pg_advisory_xact_lock(_CHAIN_LOCK)))
    head = session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    ids = sorted(
        session.scalars(
            sa.select(sa.func.nextval("audit_event_id_seq")).select_from(
                sa.func.generate_series(1, len(entries))
            )
        )
    )
    # microseconds: what PostgreSQL keeps, so the hash recomputes from the stored row
    now = dt.datetime.now(dt.UTC)
    prev = head or GENESIS
    rows = []
    for event_id, e in zip(ids, entries, strict=True):
        row: dict[str, Any] = {"id": event_id, "occurred_at": now, **_row(actor, e),
                               "prev_hash": prev}  # fmt: skip
        row["hash"] = prev = compute_hash(row)
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Anchor:
    """The chain's head at a moment, kept outside the database to detect a cut tail."""

    head_id: int
    head_hash: str
    events: int
    anchored_at: str

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Anchor:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                int(data["head_id"]), str(data["head_hash"]), int(data["events"]),
                str(data["anchored_at"]),
            )  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"{path} is not an audit anchor file: {exc}") from exc


def anchor(session: Session) -> Anchor:
    head = session.execute(
        sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    events = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) or 0
    return Anchor(
        head.id if head else 0, head.hash if head else GENESIS, events,
        _timestamp(dt.datetime.now(dt.UTC)),
    )  # fmt: skip


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    checked: int
    head_hash: str
    first_bad_id: int | None = None
    problem: str | None = None
    #: events in archived (detached) years, whose end hashes were checked, not their rows
    archived: int | None = None

    def summary(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _archived(connection: sa.Connection) -> list[Any]:
    """Archived (detached) years of the chain, oldest first (popdb.core.partitions)."""
    if connection.scalar(sa.text("SELECT to_regclass('archived_partition')")) is None:
        return []  # a schema before migration 0014
    return list(
        connection.execute(
            sa.text(
                "SELECT name, rows, first_id, last_id, first_prev_hash, last_hash "
                "FROM archived_partition WHERE parent = 'audit_event' AND rows > 0 "
                "ORDER BY first_id"
            )
        )
    )


def verify(connection: sa.Connection, against: Anchor | None = None) -> ChainVerdict:
    """Recompute every hash in id order; name the first row that does not fit.

    Archived years (detached partitions) are not read: their recorded end hashes must fit
    end to end from the genesis, and the chain left in the database starts from the last
    one's. Their own rows are checked when attached back (or in the dump, docs/operations.md).
    """
    columns = [getattr(AuditEvent, name) for name in HASHED] + [AuditEvent.hash]
    prev, archived, cut = GENESIS, 0, 0
    for part in _archived(connection):
        if part.first_prev_hash != prev:
            return ChainVerdict(False, 0, prev, part.first_id,
                                f"archived {part.name} does not continue the chain")  # fmt: skip
        prev, archived, cut = part.last_hash, archived + part.rows, part.last_id
    rows = connection.execute(
        sa.select(*columns).order_by(AuditEvent.id).execution_options(yield_per=5000)
    )
    checked = 0
    anchor_seen = against is None or against.head_id == 0 or against.head_id <= cut
    for mapping in rows.mappings():
        row: Mapping[str, Any] = dict(mapping)
        if row["id"] <= cut:
            return ChainVerdict(False, checked, prev, row["id"], "older than the archived cut")
        if row["prev_hash"] != prev:
            return ChainVerdict(
                False, checked, prev, row["id"], "prev_hash does not match the previous"
            )
        if compute_hash(row) != row["hash"]:
            return ChainVerdict(
                False, checked, prev, row["id"], "hash does not match the row's content"
            )
        if against is not None and row["id"] == against.head_id:
            if row["hash"] != against.head_hash:
                return ChainVerdict(
                    False, checked, prev, row["id"], "differs from the anchor's head"
                )
            anchor_seen = True
        prev, checked = row["hash"], checked + 1
    if not anchor_seen:
        return ChainVerdict(
            False, checked, prev, against.head_id if against else None,
            "the anchored head is missing: the chain was cut",
        )  # fmt: skip
    if against is not None and checked + archived < against.events:
        return ChainVerdict(False, checked, prev, None, "fewer events than when anchored")
    return ChainVerdict(True, checked, prev, archived=archived or None)
