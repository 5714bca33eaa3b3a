"""Rate limits and enumeration detection, counted in PostgreSQL.

Counters live in `client_usage`, one row per (client, kind, time bucket), bumped with
`INSERT … ON CONFLICT DO UPDATE … RETURNING`, so every gunicorn worker on every machine sees
the same count: a limit kept in one process's memory would let N workers grant N times the
rate. Buckets are fixed windows on the database clock (epoch seconds floored to the width),
so workers with skewed clocks still agree.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core.models import ApiClient
from popdb.core.settings import Settings
from popdb.identity.clients import suspend_client
from popdb.identity.policy import Policy

log = logging.getLogger(__name__)
DAY = 86_400

_BUMP = sa.text(
    """
    INSERT INTO client_usage (client_id, kind, bucket, hits)
    VALUES (:client_id, :kind,
            to_timestamp(floor(extract(epoch FROM now()) / :width) * :width), :n)
    ON CONFLICT (client_id, kind, bucket) DO UPDATE SET hits = client_usage.hits + EXCLUDED.hits
    RETURNING hits,
              ceil(extract(epoch FROM bucket) + :width - extract(epoch FROM now()))::int AS left
    """
)
#: Both rate windows in one round trip, in a transaction that need not wait for the WAL flush.
_BUMP_RATES = sa.text(
    """
    INSERT INTO client_usage (client_id, kind, bucket, hits)
    SELECT :client_id, v.kind,
           to_timestamp(floor(extract(epoch FROM now()) / v.width) * v.width), :n
    FROM unnest(CAST(:kinds AS text[]), CAST(:widths AS int[])) AS v(kind, width),
         (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
    ON CONFLICT (client_id, kind, bucket) DO UPDATE SET hits = client_usage.hits + EXCLUDED.hits
    RETURNING kind, hits, extract(epoch FROM now() - bucket) AS elapsed
    """
)
_PRUNE = sa.text(
    "DELETE FROM client_usage WHERE client_id = :client_id AND bucket < now() - interval '2 days'"
)


@dataclass(frozen=True)
class Limited:
    """A refusal: which limit, and how many seconds until the window resets."""

    limit: str
    retry_after: int
    message: str


def bump(session: Session, client_id: int, kind: str, width: int, n: int = 1) -> tuple[int, int]:
    """Add `n` hits to the current bucket; return (hits so far, seconds left in the bucket)."""
    hits, left = session.execute(
        _BUMP, {"client_id": client_id, "kind": kind, "width": width, "n": n}
    ).one()
    if kind == "day" and hits == n:  # first hit of a new day: drop this client's old buckets
        session.execute(_PRUNE, {"client_id": client_id})
    return int(hits), max(1, int(left))


def limits_for(client: ApiClient, settings: Settings) -> tuple[int | None, int | None]:
    """(per second, per day): the policy's, else the agency defaults; others unlimited."""
    policy = Policy.of(client.policy)
    per_second, per_day = policy.rate_per_second, policy.rate_per_day
    if client.role == "agency":
        per_second = per_second or settings.agency_rate_per_second
        per_day = per_day or settings.agency_rate_per_day
    return per_second, per_day


def check_rate(
    session: Session, client: ApiClient, settings: Settings, n: int = 1
) -> Limited | None:
    """Count `n` hits (a request, or the further items of a batch); a refusal when over the
    per-second or per-day limit.

    The caller commits the count at once. Its transaction does not wait for the WAL flush
    (`synchronous_commit = off`): a crash may forget the last few counts, which costs
    nothing, while an fsync per request would halve the throughput of every call.
    """
    per_second, per_day = limits_for(client, settings)
    windows = [(kind, width) for kind, width, limit in (("second", 1, per_second),
               ("day", DAY, per_day)) if limit]  # fmt: skip
    if not windows:
        return None
    widths = dict(windows)
    counts = {  # kind: (hits so far, whole seconds left in the window)
        kind: (int(hits), max(1, math.ceil(widths[kind] - float(elapsed))))
        for kind, hits, elapsed in session.execute(
            _BUMP_RATES,
            {
                "client_id": client.id,
                "kinds": [k for k, _ in windows],
                "widths": [w for _, w in windows],
                "n": n,
            },
        )  # fmt: skip
    }
    if "day" in counts and counts["day"][0] <= n:  # a new day: drop this client's old buckets
        session.execute(_PRUNE, {"client_id": client.id})
    if per_second and counts["second"][0] > per_second:
        return Limited("per_second", counts["second"][1],
                       f"More than {per_second} requests (or items) in a second.")  # fmt: skip
    if per_day and counts["day"][0] > per_day:
        return Limited("per_day", counts["day"][1],
                       f"More than {per_day} requests (or batch items) today (UTC).")  # fmt: skip
    return None


@dataclass(frozen=True)
class Probe:
    """The enumeration state after a call: misses in the window and what was decided."""

    misses: int
    flagged: bool  # this call crossed the flag threshold
    blocked: bool  # this call crossed the block threshold: the client is now suspended


def count_misses(session: Session, client: ApiClient, misses: int, settings: Settings) -> Probe:
    """Count verify answers that were "no" (unknown or non-matching numbers).

    An agency checking its own customers mostly gets "yes"; one walking through numbers it
    does not know mostly gets "no". Past `enumeration_flag_misses` in a window the client is
    flagged (a warning and an audit event); past `enumeration_block_misses` it is suspended
    until an operator runs `popdb clients unblock`.
    """
    if misses <= 0:
        return Probe(0, False, False)
    width = max(1, settings.enumeration_window_seconds)
    total, _ = bump(session, client.id, "miss", width, misses)
    before = total - misses
    flagged = before < settings.enumeration_flag_misses <= total
    blocked = before < settings.enumeration_block_misses <= total
    if flagged:
        log.warning(
            "identity: possible enumeration",
            extra={"client_id": client.id, "misses": total, "window_s": width},
        )
    if blocked:
        log.warning(
            "identity: client suspended for enumeration",
            extra={"client_id": client.id, "misses": total, "window_s": width},
        )
        suspend_client(
            session,
            client,
            f"{total} unanswered verifications within {math.ceil(width / 60)} minutes",
        )
    return Probe(total, flagged, blocked)


# --- questions about one number ----------------------------------------------------------------

#: Marks and counters share `client_usage` (kind is 8 characters): a counter is the question
#: kind's letter and 7 characters of the number's hash, a mark is "q" and 7 characters of the
#: question's hash. 42 bits per client and window: a collision only ever over-counts.
_QUESTIONS = sa.text(
    """
    WITH asked AS (
        SELECT DISTINCT mark, counter
        FROM unnest(CAST(:marks AS text[]), CAST(:counters AS text[])) AS a(mark, counter)
    ),
    b AS (SELECT to_timestamp(floor(extract(epoch FROM now()) / :width) * :width) AS bucket),
    new AS (
        INSERT INTO client_usage (client_id, kind, bucket, hits)
        SELECT DISTINCT :client_id, asked.mark, b.bucket, 1 FROM asked, b
        ON CONFLICT (client_id, kind, bucket) DO NOTHING
        RETURNING kind
    ),
    fresh AS (
        SELECT counter, count(*) FILTER (WHERE mark IN (SELECT kind FROM new)) AS n
        FROM asked GROUP BY counter
    )
    INSERT INTO client_usage (client_id, kind, bucket, hits)
    SELECT :client_id, fresh.counter, b.bucket, fresh.n FROM fresh, b
    ON CONFLICT (client_id, kind, bucket) DO UPDATE SET hits = client_usage.hits + EXCLUDED.hits
    RETURNING kind, hits,
              ceil(extract(epoch FROM bucket) + :width - extract(epoch FROM now()))::int AS left
    """
)
#: question kind: (counter letter, the setting that limits it, what the refusal says)
QUESTION_KINDS = {
    "verify": ("v", "identity_questions_per_number", "verify questions"),
    "predicate": ("p", "identity_predicates_per_number", "questions of one predicate"),
}


@dataclass(frozen=True)
class Question:
    """One question about a number. Distinct questions are counted per (kind, number, topic):
    verify claim sets per number; predicate arguments per number and predicate name."""

    kind: str  # a key of QUESTION_KINDS
    number: str
    question: Any
    topic: str = ""


def _h7(*parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:7]


def question_key(value: Any) -> str:
    """A stable text for a question (claims, or a predicate and its argument)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)  # fmt: skip


def count_questions(
    session: Session,
    client: ApiClient,
    asked: Iterable[Question],
    settings: Settings,
) -> Limited | None:
    """Count the distinct questions asked about each number (and topic) in the enumeration
    window; a refusal when any is past its limit.

    The same question asked again is not counted again (an agency re-verifying a customer
    asks nothing new), but once a number is over its limit every question about it is
    refused until the window ends, a repeated one included: a refused question is counted,
    so asking it again cannot slip through. One statement for a whole batch.
    """
    marks, counters = question_keys(asked)
    if not marks:
        return None
    width = max(1, settings.enumeration_window_seconds)
    rows = session.execute(
        _QUESTIONS,
        {"client_id": client.id, "marks": marks, "counters": counters, "width": width},
    )
    return questions_refusal(client.id, ((k, h, left) for k, h, left in rows), settings)


def question_keys(asked: Iterable[Question]) -> tuple[list[str], list[str]]:
    """(marks, counters) of `_QUESTIONS` for the questions asked, in order."""
    marks: list[str] = []
    counters: list[str] = []
    for q in asked:
        letter = QUESTION_KINDS[q.kind][0]
        marks.append("q" + _h7(q.kind, q.number, q.topic, question_key(q.question)))
        counters.append(letter + _h7(q.number, q.topic))
    return marks, counters


def questions_refusal(
    client_id: int, counted: Iterable[tuple[str, int, int]], settings: Settings
) -> Limited | None:
    """The refusal for counters (kind, hits, seconds left) past their limit, or None."""
    width = max(1, settings.enumeration_window_seconds)
    limits = {letter: int(getattr(settings, name)) for letter, name, _ in QUESTION_KINDS.values()}
    worst: tuple[str, int, int] | None = None
    for kind, hits, left in counted:
        letter = kind[0]
        if int(hits) > limits[letter] and (worst is None or int(left) > worst[2]):
            worst = (letter, int(hits), max(1, int(left)))
    if worst is None:
        return None
    letter, hits, left = worst
    name = next(what for code, _, what in QUESTION_KINDS.values() if code == letter)
    log.warning(
        "identity: too many questions about one number",
        extra={"client_id": client_id, "kind": name, "questions": hits, "window_s": width},
    )
    return Limited(
        "per_number",
        left,
        f"More than {limits[letter]} different {name} about one number within "
        f"{math.ceil(width / 60)} minutes.",
    )
