"""The audit chain: every identity read and every registry change, keyed and chained.

Each `audit_event` row carries the hash of the row before it and a hash of its own canonical
form (its id, time, who, what, why and that previous hash), so removing, editing or reordering
a row breaks every hash after it. Since migration 0011 (issue 22 item 5) that hash is an
HMAC-SHA256 under a key held outside the database (`hash_version` 2, `key_id` naming the
key by its fingerprint): who can write to the database but has not the key cannot re-hash the
rows after one they deleted. Rows written before are SHA-256 (`hash_version` 1) and still
verify, but only as the chain's beginning: an unkeyed row after a keyed one, or a chain of
unkeyed rows only, is a rewrite (`seal` appends a keyed row after the old ones at the first
start with a key). The database also refuses UPDATE, DELETE and TRUNCATE (triggers,
migration 0001) and the service's role may only insert and read (popdb/ops/roles.py);
`verify` recomputes the chain and an `Anchor` kept elsewhere reveals a cut tail.

The key: POPDB_AUDIT_KEY, else the first line of the key file (POPDB_AUDIT_KEY_FILE, default
POPDB_HOME/audit.key, made 0600 at the embedded server's first start); later lines of the file
are retired keys, kept so that their rows still verify (rotation: put a new first line).

Appends are serialised by a transaction-scoped advisory lock, so the chain order is the
commit order. Write the audit event as the last step of a transaction: the lock is held
until commit. `append_many` takes the lock, reads the head and draws the ids in one statement
(`audit_reserve`, migration 0011), computes the keyed hashes here (the key never reaches the
server) and inserts every row in one more: two statements for any number of events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core.errors import ConfigError, InvalidInput
from popdb.core.models import ApiClient, AuditEvent
from popdb.core.settings import Settings

GENESIS = "0" * 64
#: Any constant unique to this lock; pg_advisory_xact_lock takes a bigint.
_CHAIN_LOCK = 0x706F7064625F6175  # "popdb_au"
HASHED = (
    "id", "occurred_at", "actor_id", "actor_name", "role", "action", "subject_type",
    "subject_id", "purpose", "legal_basis", "fields", "request_id", "detail", "prev_hash",
)  # fmt: skip
#: a keyed row's hash also covers its version and key id, so neither can be swapped
HASHED_V2 = (*HASHED, "hash_version", "key_id")
UNKEYED, KEYED = 1, 2
#: shortest key accepted (characters): `generate_key` makes 64 hex digits (256 bits)
MIN_KEY_CHARS = 32


def key_id_of(key: str) -> str:
    """A key's public name in `audit_event.key_id`: a fingerprint, useless to forge with."""
    return hashlib.sha256(b"popdb audit key id\0" + key.encode("utf-8")).hexdigest()[:16]


def generate_key() -> str:
    return secrets.token_hex(32)


@dataclass(frozen=True)
class Keyring:
    """The key new rows are hashed with (`active`) and retired keys that verify old rows."""

    active: str | None
    retired: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for key in (self.active, *self.retired):
            if key is not None and len(key) < MIN_KEY_CHARS:
                raise ConfigError(
                    f"an audit key must have at least {MIN_KEY_CHARS} characters "
                    "(`python -c 'import secrets; print(secrets.token_hex(32))'` makes one)"
                )

    @property
    def active_id(self) -> str | None:
        return None if self.active is None else key_id_of(self.active)

    def key_for(self, key_id: str | None) -> str | None:
        for key in (self.active, *self.retired):
            if key is not None and key_id_of(key) == key_id:
                return key
        return None

    def require_active(self) -> str:
        if self.active is None:
            raise ConfigError(
                "no audit key: set POPDB_AUDIT_KEY or write one to the key file "
                "(POPDB_AUDIT_KEY_FILE, default POPDB_HOME/audit.key); the audit chain is "
                "keyed and nothing may be audited without it"
            )
        return self.active

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        """POPDB_AUDIT_KEY (plus any retired keys of the file), else the file's first line."""
        lines: list[str] = []
        path = settings.audit_key_path
        try:
            lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
        except FileNotFoundError:
            if settings.audit_key_file is not None and settings.audit_key is None:
                raise ConfigError(f"POPDB_AUDIT_KEY_FILE {path} does not exist") from None
        except OSError as exc:
            raise ConfigError(f"cannot read the audit key file {path}: {exc}") from exc
        lines = [ln for ln in lines if ln and not ln.startswith("#")]
        if settings.audit_key:
            return cls(settings.audit_key, tuple(k for k in lines if k != settings.audit_key))
        return cls(lines[0], tuple(lines[1:])) if lines else cls(None)


def ensure_key_file(path: Path) -> bool:
    """Create the key file (mode 0600) with a new key unless it exists; True when created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(generate_key() + "\n")
    return True


_keyring: Keyring | None = None


def use_keyring(keys: Keyring | None) -> None:
    """Set the process's keys (None: read them again from the environment when next needed)."""
    global _keyring
    _keyring = keys


def keyring() -> Keyring:
    """The process's keys, read from the environment's settings at first use."""
    global _keyring
    if _keyring is None:
        _keyring = Keyring.from_settings(Settings.from_env())
    return _keyring



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


class UnknownKey(ConfigError):
    """A keyed row names a key that is not among the keys given."""


def compute_hash(row: Mapping[str, Any], keys: Keyring | None = None) -> str:
    """The row's hash: version 1, SHA-256 of the canonical JSON of `HASHED`; version 2, an
    HMAC-SHA256 of that of `HASHED_V2` under the key its `key_id` names."""
    version = row.get("hash_version") or UNKEYED
    names = HASHED if version == UNKEYED else HASHED_V2
    payload = {k: row[k] for k in names}
    payload["occurred_at"] = _timestamp(payload["occurred_at"])
    data = _canonical(payload, names).encode("utf-8")
    if version == UNKEYED:
        return hashlib.sha256(data).hexdigest()
    if version != KEYED:
        raise InvalidInput(f"unknown audit hash version {version!r}")
    key = (keys or keyring()).key_for(row["key_id"])
    if key is None:
        raise UnknownKey(f"the audit key {row['key_id']} is not among the keys given")
    return hmac.new(key.encode("utf-8"), data, hashlib.sha256).hexdigest()


def _canonical(payload: Mapping[str, Any], names: Sequence[str] = HASHED) -> str:
    """The hashed form: JSON of the hashed columns, sorted keys, no spaces, UTF-8 as is."""
    return json.dumps({k: payload[k] for k in names}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """One event to append with `append_many`: the arguments of `record`."""

    action: str
    subject_type: str | None = None
    subject_id: str | int | None = None
    purpose: str | None = None
    legal_basis: str | None = None
    fields: Iterable[str] = ()
    request_id: str | None = None
    detail: Mapping[str, Any] | None = None
    #: who, when not the `actor` of `append_many` (a group commit of many clients' calls)
    actor: Actor | None = None


@dataclass(frozen=True)
class Appended:
    """An event as the chain took it."""

    id: int
    occurred_at: dt.datetime
    prev_hash: str
    hash: str


_RESERVE = sa.text("SELECT prev_hash, ids, occurred_at FROM audit_reserve(:lock, :n)")


def append_many(
    session: Session | sa.Connection, *, entries: Sequence[Entry], actor: Actor | None = None
) -> list[Appended]:
    """Append `entries` in the given order, in the caller's transaction (which commits or
    rolls back with them); the chain lock is then held until that commit. A session is
    flushed first; the group commit (`popdb.core.audit_writer`) passes its connection.

    Two statements for any number of entries: `audit_reserve` (lock, head, ids, time) and
    one INSERT of every row, hashed here with the active key. Each entry's own `actor`, else
    `actor`, is who did it, so a group commit may gather many clients' calls in one list.
    The batch calls use this; `record` is it for one entry.
    """
    if not entries:
        return []
    if any(not e.action for e in entries):
        raise InvalidInput("an audit event needs an action")
    if any(e.actor is None and actor is None for e in entries):
        raise InvalidInput("an audit event needs an actor")
    keyring().require_active()  # before the lock: no key, no append
    if isinstance(session, Session):
        session.flush()
    reserved = session.execute(_RESERVE, {"lock": _CHAIN_LOCK, "n": len(entries)}).one()
    rows, appended = chain_rows(reserved.prev_hash, reserved.ids, reserved.occurred_at,
                                entries, actor)  # fmt: skip
    session.execute(sa.insert(AuditEvent), rows)
    return appended


#: `audit_reserve`'s SQL in the DBAPI's own parameter style, for the group commit's raw
#: connection (popdb.core.audit_writer): (lock, n) → (prev_hash, ids, occurred_at)
RESERVE_SQL = "SELECT prev_hash, ids, occurred_at FROM audit_reserve(%s, %s)"
CHAIN_LOCK = _CHAIN_LOCK
#: every column `chain_rows` fills, in INSERT order
ROW_COLUMNS = (*HASHED_V2, "hash")


def chain_rows(
    prev: str,
    ids: Sequence[int],
    now: dt.datetime,
    entries: Sequence[Entry],
    actor: Actor | None = None,
) -> tuple[list[dict[str, Any]], list[Appended]]:
    """The rows (every column of `ROW_COLUMNS`) of `entries` after the head `prev`, with the
    ids and time `audit_reserve` gave, hashed here with the active key: the INSERT's rows,
    and what each entry's caller gets back."""
    keys = keyring()
    key_id = key_id_of(keys.require_active())
    rows, appended = [], []
    for event_id, e in zip(sorted(ids), entries, strict=True):
        who = e.actor or actor
        assert who is not None
        row: dict[str, Any] = {"id": event_id, "occurred_at": now, **_row(who, e),
                               "prev_hash": prev, "hash_version": KEYED,
                               "key_id": key_id}  # fmt: skip
        row["hash"] = compute_hash(row, keys)
        rows.append(row)
        appended.append(Appended(event_id, now, prev, row["hash"]))
        prev = row["hash"]
    return rows, appended


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
    """Append one event in the caller's transaction; it commits or rolls back with the action."""
    if not action:
        raise InvalidInput("an audit event needs an action")
    entry = Entry(action, subject_type, subject_id, purpose, legal_basis, tuple(fields),
                  request_id, detail)  # fmt: skip
    return append_many(session, actor=actor, entries=[entry])[0]


def record_many(session: Session, *, actor: Actor, entries: Sequence[Entry]) -> int:
    """Append many events at once (a batch call: one per item); how many were appended."""
    return len(append_many(session, actor=actor, entries=entries))


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


SEAL_ACTION = "audit.chain_keyed"


def seal(session: Session) -> bool:
    """After unkeyed (version 1) rows, append a keyed one, so they can no longer be
    extended, cut or re-hashed without the key; True when it did. Run at every start."""
    head = session.scalar(
        sa.select(AuditEvent.hash_version).order_by(AuditEvent.id.desc()).limit(1)
    )
    if head is None or head == KEYED:
        return False
    unkeyed = session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.hash_version == 1)
    )
    record(session, actor=Actor.operator("popdb"), action=SEAL_ACTION,
           detail={"unkeyed_rows": unkeyed, "key_id": keyring().active_id})  # fmt: skip
    return True


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
    """The chain's head; the session's commit (before the anchor is kept) also makes that head
    durable: the verify's group commit answers only after its rows are flushed, but they are
    visible a moment before (popdb.core.audit_writer), and an anchor must not name a row a
    crash could still take back. The logical message is WAL of the session's own, so that its
    commit flushes (a transaction that wrote nothing commits without waiting)."""
    session.execute(sa.text("SELECT pg_logical_emit_message(true, 'popdb.audit.anchor', '')"))
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
    #: rows hashed without a key (written before migration 0011)
    unkeyed: int | None = None

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


def verify(
    connection: sa.Connection, against: Anchor | None = None, keys: Keyring | None = None
) -> ChainVerdict:
    """Recompute every hash in id order with `keys` (the process's by default); name the
    first row that does not fit.

    Archived years (detached partitions) are not read: their recorded end hashes must fit
    end to end from the genesis, and the chain left in the database starts from the last
    one's. Their own rows are checked when attached back (or in the dump, docs/operations.md).
    """
    keys = keys or keyring()
    columns = [getattr(AuditEvent, name) for name in HASHED_V2] + [AuditEvent.hash]
    prev, checked, archived, cut = GENESIS, 0, 0, 0
    unkeyed, keyed = 0, 0

    def bad(row_id: int | None, problem: str) -> ChainVerdict:
        return ChainVerdict(False, checked, prev, row_id, problem, unkeyed=unkeyed)

    for part in _archived(connection):
        if part.first_prev_hash != prev:
            return bad(part.first_id, f"archived {part.name} does not continue the chain")
        prev, archived, cut = part.last_hash, archived + part.rows, part.last_id
    rows = connection.execute(
        sa.select(*columns).order_by(AuditEvent.id).execution_options(yield_per=5000)
    )
    anchor_seen = against is None or against.head_id == 0 or against.head_id <= cut
    for mapping in rows.mappings():
        row: Mapping[str, Any] = dict(mapping)
        if row["id"] <= cut:
            return bad(row["id"], "older than the archived cut")
        if row["prev_hash"] != prev:
            return bad(row["id"], "prev_hash does not match the previous")
        if row["hash_version"] == UNKEYED and keyed:
            return bad(row["id"], "an unkeyed row after keyed ones: rewritten without the key")
        if row["hash_version"] == KEYED and keys.key_for(row["key_id"]) is None:
            return bad(row["id"], f"hashed with the audit key {row['key_id']}, which is not "
                                  f"among the keys given (active: {keys.active_id}): a wrong "
                                  "or missing POPDB_AUDIT_KEY, or a forged row")  # fmt: skip
        if row["hash_version"] not in (UNKEYED, KEYED):
            return bad(row["id"], f"unknown hash version {row['hash_version']}")
        if compute_hash(row, keys) != row["hash"]:
            return bad(row["id"], "hash does not match the row's content")
        if against is not None and row["id"] == against.head_id:
            if row["hash"] != against.head_hash:
                return bad(row["id"], "differs from the anchor's head")
            anchor_seen = True
        if row["hash_version"] == KEYED:
            keyed += 1
        else:
            unkeyed += 1
        prev, checked = row["hash"], checked + 1
    if not anchor_seen:
        return bad(against.head_id if against else None,
                   "the anchored head is missing: the chain was cut")  # fmt: skip
    if against is not None and checked + archived < against.events:
        return bad(None, "fewer events than when anchored")
    if unkeyed and not keyed:
        return bad(None, "no keyed row: the chain was never sealed with the key (run "
                         "`popdb db upgrade` with it), or was rewritten without it")  # fmt: skip
    return ChainVerdict(True, checked, prev, archived=archived or None, unkeyed=unkeyed)
