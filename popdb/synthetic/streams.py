"""Records as a stream, each person's duplicates delayed so that neighbouring rows do not give the
truth away."""

from __future__ import annotations

import dataclasses
import heapq
import random
from collections.abc import Iterator
from typing import Any

from popdb.synthetic.config import DEFAULT_RATES, H_KEY, SyntheticConfig, SyntheticRecord
from popdb.synthetic.population import Population
from popdb.synthetic.randomness import FastRandom
from popdb.synthetic.records import Writer


def interleave(groups: Iterator[list[Any]], rng: random.Random, delay: int) -> Iterator[Any]:
    """Each group's first item now, the others at random later positions (up to `delay`
    items on), so a person's records are not neighbours. Memory: the pending duplicates."""
    pending: list[tuple[int, int, Any]] = []
    emitted = 0
    seq = 0
    for group in groups:
        for k, item in enumerate(group):
            if k == 0:
                continue
            heapq.heappush(pending, (emitted + rng.randint(1, delay), seq, item))
            seq += 1
        yield group[0]
        emitted += 1
        while pending and pending[0][0] <= emitted:
            yield heapq.heappop(pending)[2]
            emitted += 1
    while pending:
        yield heapq.heappop(pending)[2]


def _config(config: SyntheticConfig | None, overrides: dict[str, Any]) -> SyntheticConfig:
    config = config or SyntheticConfig()
    return dataclasses.replace(config, **overrides) if overrides else config


def generate_records(
    persons: int, *, seed: int, config: SyntheticConfig | None = None, **overrides: Any
) -> Iterator[SyntheticRecord]:
    """The records of `persons` people, with what is known about each (see SyntheticRecord).

    `overrides` are `SyntheticConfig` fields, e.g. `duplicate_share=0.3`. Rows get their
    form number ("Số phiếu": the collecting commune and a running number) as they are
    emitted, so numbers follow file order and tell nothing about persons. Bad knobs raise
    ValueError here, not at the first row.
    """
    if persons < 0:
        raise ValueError("persons must not be negative")
    config = _config(config, overrides)
    rates = config.rate_table(DEFAULT_RATES)
    population = Population(seed, config)
    writer = Writer(population, rates)

    def groups() -> Iterator[list[SyntheticRecord]]:
        made = 0
        while made < persons:
            for person in population.household()[: persons - made]:
                made += 1
                yield writer.records(person)

    def numbered() -> Iterator[SyntheticRecord]:
        order_rng = FastRandom(f"order:{seed}")
        for n, record in enumerate(interleave(groups(), order_rng, config.duplicate_delay), 1):
            record.row[H_KEY] = f"{record.collected_by}-{n:07d}"
            yield record

    return numbered()


def generate(
    persons: int, *, seed: int, config: SyntheticConfig | None = None, **overrides: Any
) -> Iterator[dict[str, str]]:
    """DC01 rows (keys: `DC01_HEADERS`, including `truth_id`) of `persons` people.

    Deterministic for `seed`; streams (constant memory for any number of persons). See
    `SyntheticConfig` for the knobs and `DEFAULT_RATES` for the corruptions.
    """
    records = generate_records(persons, seed=seed, config=config, **overrides)
    return (record.row for record in records)
