"""What a generated file holds: counts of persons, records, twins, corruptions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from popdb.core.text import canonical
from popdb.synthetic.config import H_CMND, H_PIN, PersonTruth, SyntheticRecord


def summarize(records: Iterable[SyntheticRecord]) -> dict[str, Any]:
    """Counts and rates of a generated set, for reports and tests (holds one entry per person:
    not for streams larger than memory).

    Namesakes are persons sharing canonical full name and birth year with another person;
    corruption rates are per record.
    """
    n = 0
    per_person: Counter[str] = Counter()
    persons: dict[str, PersonTruth] = {}
    kinds: Counter[str] = Counter()
    with_pin = with_cmnd = legacy = 0
    for r in records:
        n += 1
        per_person[r.person.truth_id] += 1
        persons.setdefault(r.person.truth_id, r.person)
        kinds.update(set(r.corruptions))
        with_pin += bool(r.row[H_PIN])
        with_cmnd += bool(r.row[H_CMND])
        legacy += r.vintage != "2025-07"
    twins: Counter[int] = Counter(
        p.twin_group for p in persons.values() if p.twin_group is not None
    )
    by_name: Counter[tuple[str | None, int]] = Counter(
        (canonical(p.full_name), p.year) for p in persons.values()
    )
    namesakes = sum(1 for p in persons.values() if by_name[canonical(p.full_name), p.year] > 1)
    return {
        "records": n,
        "persons": len(persons),
        "persons_with_duplicates": sum(1 for c in per_person.values() if c > 1),
        "records_per_person_max": max(per_person.values(), default=0),
        "twin_sets": sum(1 for c in twins.values() if c > 1),
        "twin_persons": sum(c for c in twins.values() if c > 1),
        "namesake_persons": namesakes,
        "forced_namesakes": sum(1 for p in persons.values() if p.namesake_of),
        "share_with_pin": with_pin / n if n else 0.0,
        "share_with_cmnd": with_cmnd / n if n else 0.0,
        "share_legacy": legacy / n if n else 0.0,
        "corruption_rates": {k: kinds[k] / n for k in sorted(kinds)} if n else {},
    }
