"""The agency verify hot path's SQL and its per-process rate-quota leases (issue 21).

A verify is one indexed read and one audit append. `CHECK_AND_RESOLVE` is the read: in one
statement (prepared once per connection, run in autocommit) it checks the key, counts the
question about the number (identity_questions_per_number) for a client that may ask it, and
reads the compared columns of the number's holder. The audit append goes through the
process's group-commit writer (popdb/core/audit_writer.py). Everything unusual (an unknown
key, a refused client, an unknown or merged number, a "no" answer) takes the ordinary
services in popdb.identity, so the rules live in one place.

Rate limits are counted per process in leased slices (`QuotaLeases`): instead of bumping the
client's `client_usage` row on every request, a process claims up to 64 units of a window at
once and hands them out locally. A claim adds its size to the shared counter; the units whose
place in that counter is at most the limit are granted, the rest are refused, so however many
processes claim at once the units granted in a window never pass the limit. A slice dies with
its window. The price: units a process claimed and did not use in a window are lost to the
others, so a client can be refused at most `processes × (slice − 1)` units before its limit;
slices are sized so this is at most 1/8 of the limit, and a client with a small limit (20/s,
the default) claims one unit at a time, exactly as before.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from popdb.identity.answers import CLAIMS, NAME_CLAIMS
from popdb.identity.usage import DAY, Limited

#: The compared columns of `answers._VERIFY_COLUMNS`, in the order `CHECK_AND_RESOLVE` returns
PERSON_COLUMNS = (
    "id", "status", "merged_into_id", "personal_id_number", "full_name",
    *(c for c in NAME_CLAIMS if c != "full_name"),
    "dob_year", "dob_month", "dob_day", "sex", "nationality",
)  # fmt: skip
CLIENT_COLUMNS = ("id", "name", "role", "policy", "expires_at", "suspended_at",
                  "suspended_reason")  # fmt: skip
assert set(CLAIMS) - {"dob"} <= set(PERSON_COLUMNS)

#: $1 key hash, $2 number, $3 question marks, $4 question counters, $5 window width (s),
#: $6 consent reference given, $7 read the person here (no read replica in use), $8 the
#: questions-per-number limit: past it the person is not read at all (the call is refused).
#: Questions are counted only for a client the route would let ask (agency, not suspended,
#: not expired, a legal basis, `verify` granted, consent when needed): the Python checks run
#: again on the row and take the ordinary path when they disagree.
CHECK_AND_RESOLVE = (
    "CHECK_AND_RESOLVE",
    "(char(64), char(12), text[], text[], int, boolean, boolean, int)",
    """
    WITH c AS (
        SELECT id, name, role, policy, expires_at, suspended_at, suspended_reason
        FROM api_client WHERE key_hash = $1 AND active
    ),
    ok AS (
        SELECT id FROM c
        WHERE role = 'agency' AND suspended_at IS NULL
          AND (expires_at IS NULL OR expires_at > now())
          AND policy ->> 'legal_basis' IS NOT NULL
          AND coalesce(policy -> 'operations', '[]'::jsonb) @> '["verify"]'::jsonb
          AND (policy ->> 'legal_basis' IS DISTINCT FROM 'đ' OR $6)
    ),
    asked AS (
        SELECT DISTINCT mark, counter FROM unnest($3, $4) AS a(mark, counter)
    ),
    b AS (SELECT to_timestamp(floor(extract(epoch FROM now()) / $5) * $5) AS bucket),
    new AS (
        INSERT INTO client_usage (client_id, kind, bucket, hits)
        SELECT DISTINCT ok.id, asked.mark, b.bucket, 1 FROM ok, asked, b
        ON CONFLICT (client_id, kind, bucket) DO NOTHING
        RETURNING kind
    ),
    fresh AS (
        SELECT counter, count(*) FILTER (WHERE mark IN (SELECT kind FROM new)) AS n
        FROM asked GROUP BY counter
    ),
    q AS (
        INSERT INTO client_usage (client_id, kind, bucket, hits)
        SELECT ok.id, fresh.counter, b.bucket, fresh.n FROM ok, fresh, b
        ON CONFLICT (client_id, kind, bucket)
            DO UPDATE SET hits = client_usage.hits + EXCLUDED.hits
        RETURNING kind, hits,
            ceil(extract(epoch FROM bucket) + $5 - extract(epoch FROM now()))::int AS left_s
    )
    SELECT c.id, c.name, c.role, c.policy, c.expires_at, c.suspended_at, c.suspended_reason,
           (SELECT array_agg(ARRAY[q.kind, q.hits::text, q.left_s::text]) FROM q) AS counted,
           p.*
    FROM c
    LEFT JOIN ok ON true
    LEFT JOIN LATERAL (
        SELECT person.id, person.status, person.merged_into_id, person.personal_id_number,
               person.full_name, person.family_name, person.middle_name, person.given_name,
               person.father_name, person.mother_name, person.spouse_name,
               person.dob_year, person.dob_month, person.dob_day, person.sex,
               person.nationality
        FROM person WHERE person.personal_id_number = $2
        LIMIT 1
    ) p ON ok.id IS NOT NULL AND $7 AND NOT EXISTS (SELECT FROM q WHERE q.hits > $8)
    """,
)

#: Claim units of rate windows: $1 client, then per window its kind, width and units wanted.
#: Returns the counter after the claim: the claim's units are the places (hits − n, hits].
CLAIM = (
    "CLAIM",
    "(int, text[], int[], int[])",
    """
    INSERT INTO client_usage (client_id, kind, bucket, hits)
    SELECT $1, v.kind, to_timestamp(floor(extract(epoch FROM now()) / v.width) * v.width), v.n
    FROM unnest($2, $3, $4) AS v(kind, width, n)
    ON CONFLICT (client_id, kind, bucket) DO UPDATE SET hits = client_usage.hits + EXCLUDED.hits
    RETURNING kind, hits, extract(epoch FROM now() - bucket)::float8 AS elapsed
    """,
)
PRUNE = (
    "PRUNE",
    "(int)",
    "DELETE FROM client_usage WHERE client_id = $1 AND bucket < now() - interval '2 days'",
)
STATEMENTS = (CHECK_AND_RESOLVE, CLAIM, PRUNE)


@dataclass(frozen=True)
class HotClient:
    """The columns of `api_client` the verify path reads (duck-types an ApiClient for
    `clients.refusal`, `audit.Actor.of` and `usage.limits_for`)."""

    id: int
    name: str
    role: str
    policy: dict[str, Any]
    expires_at: Any
    suspended_at: Any
    suspended_reason: str | None


class PersonRow:
    """A person's compared columns with attribute access, like `answers._VERIFY_COLUMNS`."""

    __slots__ = PERSON_COLUMNS

    def __init__(self, values: Sequence[Any]) -> None:
        for name, value in zip(PERSON_COLUMNS, values, strict=True):
            setattr(self, name, value)


def split_row(row: Sequence[Any]) -> tuple[HotClient, list[tuple[str, int, int]] | None,
                                            PersonRow | None]:  # fmt: skip
    """(client, question counters as (kind, hits, seconds left) or None when not counted,
    person or None) from a `CHECK_AND_RESOLVE` row."""
    n = len(CLIENT_COLUMNS)
    client = HotClient(*row[:n])
    counted = row[n]
    counters = None if counted is None else [(k, int(h), int(s)) for k, h, s in counted]
    person = row[n + 1 :]
    return client, counters, (PersonRow(person) if person and person[0] is not None else None)


# --- rate-quota leases -------------------------------------------------------------------------

#: The most units one claim takes; and the share of a limit all processes' slices may hold.
MAX_SLICE = 64
SLICE_SHARE = 8


def slice_size(limit: int, processes: int) -> int:
    """Units to claim at once: at most 1/SLICE_SHARE of the limit over all processes."""
    return max(1, min(MAX_SLICE, limit // (SLICE_SHARE * max(1, processes))))


@dataclass
class _Slice:
    left: int
    deadline: float  # time.monotonic() at which the window (and the slice) ends
    retry_after: int


#: A claim: (client id, [(kind, width, units)]) → [(kind, counter after, seconds elapsed)]
Claimer = Callable[[int, list[tuple[str, int, int]]], list[tuple[str, int, float]]]


class QuotaLeases:
    """One process's slices of its clients' rate windows (per second, per day)."""

    def __init__(self, processes: int = 1) -> None:
        self.processes = processes
        self._slices: dict[tuple[int, str], _Slice] = {}
        self._lock = threading.Lock()
        self.claims = 0

    def take(self, client_id: int, per_second: int | None, per_day: int | None,
             claim: Claimer) -> Limited | None:  # fmt: skip
        """One unit of every limited window, or the refusal of the first window out of units.

        `claim` runs under this process's lock (one claim per client and window at a time in
        a process); a unit is taken only when every window has one, so a refused request
        wastes none.
        """
        windows = [(kind, width, limit) for kind, width, limit in (("second", 1, per_second),
                   ("day", DAY, per_day)) if limit]  # fmt: skip
        if not windows:
            return None
        with self._lock:
            now = time.monotonic()
            wanted: list[tuple[str, int, int]] = []
            for kind, width, limit in windows:
                s = self._slices.get((client_id, kind))
                if s is None or s.left <= 0 or now >= s.deadline:
                    wanted.append((kind, width, slice_size(limit, self.processes)))
            if wanted:
                self.claims += 1
                limits = {kind: limit for kind, _, limit in windows}
                widths = {kind: width for kind, width, _ in windows}
                sizes = {kind: n for kind, _, n in wanted}
                for kind, hits, elapsed in claim(client_id, wanted):
                    n, limit = sizes[kind], limits[kind]
                    granted = max(0, min(n, limit - (hits - n)))
                    left_s = widths[kind] - float(elapsed)
                    # the window's end as this process sees it, never later than the truth:
                    # `now` was read before the database's clock was
                    self._slices[(client_id, kind)] = _Slice(
                        granted, now + max(0.0, left_s), max(1, math.ceil(left_s))
                    )
            for kind, _, limit in windows:
                s = self._slices[(client_id, kind)]
                if s.left <= 0:
                    if kind == "second":
                        return Limited(
                            "per_second",
                            s.retry_after,
                            f"More than {limit} requests (or items) in a second.",
                        )
                    return Limited(
                        "per_day",
                        s.retry_after,
                        f"More than {limit} requests (or batch items) today (UTC).",
                    )
            for kind, _, _ in windows:
                self._slices[(client_id, kind)].left -= 1
        return None

    def forget(self, client_id: int) -> None:
        """Drop a client's slices (their units are lost, never handed out twice)."""
        with self._lock:
            for key in [k for k in self._slices if k[0] == client_id]:
                del self._slices[key]
