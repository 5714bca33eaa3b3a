"""Why true pairs are missed: the engine's decisions in process, per labelled file.

    python -m tests.bench.missed_pairs load --workdir DIR [--files febrl1,...]
    python -m tests.bench.missed_pairs eval --workdir DIR [--files ...] [--show 20]

`load` writes each labelled file (the FEBRL sets, `independent`/`independent2` 15k,
`foreign` and popdb.synthetic's DC01 `synthetic` 10k, seed 42) and imports it once, without
matching, into its own database (`popdb_missed_<file>`). `eval` runs the engine's pipeline
(keys, blocking, EM training, scoring, decisions, clustering: what `dedup.run.run` does on a
first run) in a transaction that is rolled back, so a rule change is measured on the same
loaded records in seconds, and sorts every missed true pair into one category: never a
candidate pair, held in review (by the hold or refusal reason), or scored distinct; rejected
rows (no name) apart. It also prints the review load: items left open per 1,000 records, and
how many are true matches. Only the engine is measured; the peers run in `scripts/bench
dedup`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

FILES = ("febrl1", "febrl2", "febrl3", "febrl4", "independent", "independent2", "foreign",
         "synthetic")


def _spec_and_csv(name: str, workdir: Path) -> tuple[Any, Path]:
    from tests.bench import dedup_quality as dq
    from tests.bench.peers import FEBRL_SPEC

    path = workdir / f"{name}.csv"
    if name.startswith("febrl"):
        if not path.exists():
            dq.febrl_csv(path, name)
        return FEBRL_SPEC, path
    if name in ("foreign", "synthetic"):
        layout = "foreign" if name == "foreign" else "dc01"
        if path.exists():  # the same seed makes the same file
            return (dq.FOREIGN_SPEC if name == "foreign" else dq.DC01_SPEC), path
        return dq.labelled_csv(path, 10_000, layout, 42, "synthetic"), path
    return dq.labelled_csv(path, 15_000, "dc01", 42, name), path


def load(name: str, workdir: Path) -> None:
    """A fresh database holding the file's records, imported and not matched."""
    from popdb.synthetic import FOREIGN_PROFILE
    from tests.bench.dedup_quality import FEBRL_PROFILE, bench_database

    spec, path = _spec_and_csv(name, workdir)
    url = bench_database(f"popdb_missed_{name}")
    command = [sys.executable, "-m", "popdb", "import", str(path), "--commune", "00004",
               "--no-match", "--report", str(workdir / f"{name}-errors.csv")]  # fmt: skip
    if spec.layout != "dc01":
        profile = workdir / f"{name}-profile.json"
        profile.write_text(json.dumps(FEBRL_PROFILE if spec.layout == "febrl" else FOREIGN_PROFILE))
        command += ["--mapping", str(profile)]
    env = {**os.environ, "DATABASE_URL": url, "POPDB_HOME": str(workdir / f"{name}-home")}
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    (workdir / f"{name}.url").write_text(url)


def evaluate(name: str, workdir: Path, show: int = 0) -> dict[str, Any]:
    """The engine's clustering of the file, scored, with every missed pair's category."""
    from dedup import store
    from dedup.blocking import DEFAULT_RULES, candidate_pairs
    from dedup.clustering import cluster
    from dedup.comparisons import comparisons_for, compute_gammas
    from dedup.evaluation import pairwise_scores
    from dedup.scoring import (
        AUTO_LINK,
        DISTINCT,
        REVIEW,
        clean,
        decide,
        disagrees,
        hold_reasons,
        household_once,
        match_weights,
        similar_names,
        tf_adjustments,  # fmt: skip
        vouched,
    )
    from dedup.training import train

    spec, path = _spec_and_csv(name, workdir)
    url = (workdir / f"{name}.url").read_text()
    truth: dict[str, str] = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            truth[row[spec.source_key]] = row[spec.truth]
    engine = sa.create_engine(url)
    with engine.connect() as connection, connection.begin() as tx:
        store.compute_missing_keys(connection)
        frame, _, _ = store.load_frame(connection)
        keys = dict(connection.execute(sa.text("SELECT id, source_key FROM source_record")).all())
        rules = DEFAULT_RULES
        pairs, report = candidate_pairs(frame, rules)
        comparisons = comparisons_for(frame)
        gammas = compute_gammas(frame, pairs, comparisons)
        model = train(frame, pairs, comparisons, rules=rules, seed=0, gammas=gammas)
        adjust = tf_adjustments(model, frame, pairs, gammas)
        similar = similar_names(frame, pairs, gammas, model)
        scores = household_once(gammas, model, match_weights(gammas, model, adjust,
                                tags=pairs.rule), adjust, similar)  # fmt: skip
        decision = decide(gammas, scores, model, similar)
        holds = hold_reasons(gammas, model, decision, similar)
        result = cluster(frame, pairs, scores.probability, decision,
                         disagree=disagrees(gammas, model) | similar,
                         vouched=vouched(gammas, model), clean=clean(gammas, model))  # fmt: skip
        rows = {str(keys[int(i)]): k for k, i in enumerate(frame.ids.tolist())}
        tx.rollback()
    engine.dispose()
    labels = result.labels
    source = list(truth)
    predicted = [f"c{labels[rows[k]]}" if k in rows else f"none:{k}" for k in source]
    s = pairwise_scores(predicted, [truth[k] for k in source])
    record_truth = np.array([truth.get(str(keys[int(i)]), "") for i in frame.ids.tolist()])
    final = result.decision
    pending = labels[pairs.left] != labels[pairs.right]
    review = np.flatnonzero(pending & (final == REVIEW))
    reasons = {**holds, **result.refused}
    items_true = int((record_truth[pairs.left[review]] == record_truth[pairs.right[review]]).sum())
    # every true pair the clustering left apart, by the best thing the engine did with it
    by_truth: dict[str, list[str]] = {}
    for k in source:
        by_truth.setdefault(truth[k], []).append(k)
    ends = zip(pairs.left.tolist(), pairs.right.tolist(), strict=True)
    pair_index = {(int(a), int(b)): j for j, (a, b) in enumerate(ends)}
    categories: Counter[str] = Counter()
    examples: list[str] = []
    missed: list[str] = []
    for members in by_truth.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if a not in rows or b not in rows:
                    categories["rejected row (no name)"] += 1
                    continue
                x, y = sorted((rows[a], rows[b]))
                if labels[x] == labels[y]:
                    continue
                j = pair_index.get((x, y))
                if j is None:
                    category = f"never a candidate ({_numbers(frame, x, y)})"
                elif final[j] == REVIEW:
                    category = f"review: {reasons.get(j, 'uncertain')}"
                elif final[j] == DISTINCT:
                    category = "distinct (low score or two disagreements)"
                elif final[j] == AUTO_LINK:
                    category = "linked, cluster refused elsewhere"
                else:
                    category = "?"
                categories[category] += 1
                missed.append(f"{a}\t{b}\t{category}")
                if len(examples) < show:
                    examples.append(f"{category}: {_describe(frame, x)} || {_describe(frame, y)}"
                                    + (f" p={scores.probability[j]:.3f}" if j is not None else ""))
    out = {
        "file": name, "records": len(source), "P": round(s.precision, 4),
        "R": round(s.recall, 4), "F1": round(s.f1, 4), "false_merges": s.false_merges,
        "missed_pairs": s.missed_pairs, "pairs": len(pairs),
        "review_items": len(review), "per_1000": round(1000 * len(review) / len(source), 1),
        "review_true": items_true,
        "review_reasons": dict(Counter(reasons.get(int(j), "uncertain") for j in review)),
        "missed": dict(categories.most_common()),
        "pairs_per_rule": {r.rule: r.new_pairs for r in report.rules},
    }  # fmt: skip
    print(json.dumps(out, ensure_ascii=False))
    (workdir / f"{name}.missed.tsv").write_text("".join(f"{m}\n" for m in sorted(missed)))
    for line in examples:
        print("   ", line)
    return out


def _numbers(frame: Any, x: int, y: int) -> str:
    """How a never-blocked pair's other document numbers relate: one slip apart with a half
    kept (the half rules' companions failed), one slip across the middle (neither half
    equal), or not one number."""
    from dedup.clustering import one_slip

    a, b = frame["other_id"][x], frame["other_id"][y]
    if a is None or b is None:
        return "a number missing"
    if not one_slip(a, b):
        return "numbers differ"
    head = frame["other_id_head"]
    tail = frame["other_id_tail"]
    kept = head[x] == head[y] or tail[x] == tail[y]
    return "one slip, a half kept" if kept else "one slip across the middle"


def _describe(frame: Any, i: int) -> str:
    cols = ("family", "middle", "given", "dob_year", "dob_month", "dob_day", "pin", "other_id",
            "address")  # fmt: skip
    return " ".join(str(frame[c][i]) for c in cols if c in frame.columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("what", choices=["load", "eval"])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--files", default=",".join(FILES))
    parser.add_argument("--show", type=int, default=0, help="print this many missed pairs")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"load average: {os.getloadavg()[0]:.1f}", file=sys.stderr)
    for name in args.files.split(","):
        if args.what == "load":
            load(name, args.workdir)
        else:
            evaluate(name, args.workdir, args.show)


if __name__ == "__main__":
    main()
