"""The engine's stages on a database already imported, timed one by one, without writing.

    python -m tests.bench.dedup_stages DATABASE_URL [--profile OUT.prof]
    python -m tests.bench.dedup_stages DATABASE_URL --match [--slow-s 0.5]

Reads the records (with match keys) of `DATABASE_URL` as `popdb dedup run --rebuild` would,
then runs blocking, comparison, training, scoring and clustering in process, printing per
stage the seconds, the process's resident memory (VmRSS) and its high-water mark (VmHWM),
and a fingerprint of what each stage produced (pairs, gammas, model, scores, clusters), so
that two versions of the engine can be compared stage by stage on the same data (issue 17).
Nothing is written: the transaction is rolled back.

With `--match` (on a database imported with `popdb import --no-match`): the whole of
`popdb.registry.matching.match` in one transaction, every SQL statement slower than
`--slow-s` timed (its first words only), the memory at each step, then fingerprints of what
it decided (pairs: records, decision, review status and reason, probability to 6 places;
clusters: each person's record ids; golden fields: each person's survivorship fields and
kept numbers), and a rollback, so the same import can be matched again by another version.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import time
from typing import Any

import numpy as np
import sqlalchemy as sa


def _memory() -> dict[str, int]:
    """VmRSS and VmHWM of this process, in MB."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM")):
                out[line.split(":")[0]] = int(line.split()[1]) // 1024
    return out


def _digest(*arrays: Any) -> str:
    h = hashlib.md5()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:12]


_FINGERPRINTS = {
    "pairs": """SELECT md5(string_agg(concat_ws(',', left_record_id, right_record_id, decision,
                   review_status, review_reason, round(probability::numeric, 6)), ';'
                   ORDER BY left_record_id, right_record_id)) FROM match_candidate""",
    "clusters": """SELECT md5(string_agg(ids, ';' ORDER BY ids)) FROM (
                   SELECT string_agg(id::text, ',' ORDER BY id) AS ids FROM source_record
                   WHERE person_id IS NOT NULL GROUP BY person_id) c""",
    "golden": """SELECT md5(string_agg(concat_ws(',', f.first, p.full_name, p.dob_year,
                   p.dob_month, p.dob_day, p.sex, p.permanent_address, p.current_address,
                   p.permanent_commune_code, p.current_commune_code, p.birth_registration_code,
                   p.pin_state, CASE WHEN p.pin_state = 'kept' THEN p.personal_id_number END,
                   length(p.personal_id_number)), ';' ORDER BY f.first))
                 FROM person p JOIN (SELECT person_id, min(id) AS first FROM source_record
                   WHERE person_id IS NOT NULL GROUP BY person_id) f ON f.person_id = p.id""",
    "households": """SELECT md5(string_agg(concat_ws(',', h.household_key, m.relation,
                   m.source_record_id), ';' ORDER BY m.source_record_id))
                 FROM household_membership m JOIN household h ON h.id = m.household_id""",
    "events": """SELECT string_agg(kind || ':' || n, ' ' ORDER BY kind) FROM (
                   SELECT kind::text, count(*) AS n FROM person_event GROUP BY kind) e""",
}


def match_once(url: str, slow_s: float) -> None:
    """`popdb.registry.matching.match` in one transaction, timed, fingerprinted, undone."""
    from sqlalchemy import event

    from popdb.registry.matching import RunOptions, match

    engine = sa.create_engine(url)
    slow: list[tuple[float, str]] = []
    started: list[float] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(*_: Any) -> None:
        started.append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        took = time.perf_counter() - started.pop()
        if took >= slow_s:
            slow.append((round(took, 2), " ".join(statement.split())[:110]))

    clock = time.perf_counter()

    def say(what: str) -> None:
        print(f"{time.perf_counter() - clock:8.1f} s {json.dumps(_memory())} {what}", flush=True)

    print(f"load average {os.getloadavg()}", flush=True)
    with engine.connect() as connection:
        transaction = connection.begin()
        summary = match(connection, RunOptions(), say)
        say("done")
        print(json.dumps({"seconds": summary.seconds, "pairs": summary.pairs,
                          "persons": summary.persons}), flush=True)  # fmt: skip
        for took, statement in slow:
            print(f"  {took:7.2f} s  {statement}")
        for name, query in _FINGERPRINTS.items():
            print(f"fingerprint {name}: {connection.scalar(sa.text(query))}", flush=True)
        transaction.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--profile", help="write a cProfile of the stages here")
    parser.add_argument("--match", action="store_true", help="the whole match, then undone")
    parser.add_argument("--slow-s", type=float, default=0.5)
    args = parser.parse_args()
    if args.match:
        match_once(args.url, args.slow_s)
        return

    from dedup import store
    from dedup.blocking import DEFAULT_RULES, candidate_pairs
    from dedup.comparisons import comparisons_for, compute_gammas
    from dedup.run import NOT_HELD, _cluster
    from dedup.scoring import (
        decide,
        hold_reasons,
        household_once,
        match_weights,
        similar_names,
        tf_adjustments,
    )  # fmt: skip
    from dedup.training import train

    engine = sa.create_engine(args.url)
    profile = cProfile.Profile() if args.profile else None
    clock = time.perf_counter()
    report: dict[str, Any] = {"load average": os.getloadavg()[0]}

    def lap(name: str, fingerprint: str = "") -> None:
        nonlocal clock
        now = time.perf_counter()
        report[name] = {"s": round(now - clock, 2), **_memory(), "fp": fingerprint}
        print(name, json.dumps(report[name]), flush=True)
        clock = time.perf_counter()

    with engine.connect() as connection:
        frame, _persons, _matched = store.load_frame(connection, f"sr.{NOT_HELD}")
        lap("read", _digest(frame.ids))
        if profile:
            profile.enable()
        pairs, _ = candidate_pairs(frame, DEFAULT_RULES)
        lap("block", _digest(pairs.left, pairs.right, pairs.rule))
        comparisons = comparisons_for(frame)
        gammas = compute_gammas(frame, pairs, comparisons)
        lap("compare", _digest(gammas.matrix))
        model = train(frame, pairs, comparisons, rules=DEFAULT_RULES, seed=0, gammas=gammas)
        lap("train", hashlib.md5(json.dumps(model.to_params(), sort_keys=True).encode())
            .hexdigest()[:12])  # fmt: skip
        adjust = tf_adjustments(model, frame, pairs, gammas)
        similar = similar_names(frame, pairs, gammas, model)
        weights = match_weights(gammas, model, adjust, tags=pairs.rule)
        scores = household_once(gammas, model, weights, adjust, similar)
        decision = decide(gammas, scores, model, similar)
        holds = hold_reasons(gammas, model, decision, similar)
        lap("score", _digest(np.round(scores.probability, 9), decision)
            + f" holds={len(holds)}")  # fmt: skip
        result = _cluster(connection, frame, pairs, scores, decision, gammas, model, similar,
                          persons=None)  # fmt: skip
        lap("cluster", _digest(result.labels, result.decision))
        if profile:
            profile.disable()
            profile.dump_stats(args.profile)
        connection.rollback()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
