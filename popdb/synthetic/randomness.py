"""Cheap, deterministic random draws: many millions are made per file."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class FastRandom(random.Random):
    """`random.Random` whose randint, randrange and choice cost one `random()` call each.

    The standard versions draw exact integers through several Python calls, and they were
    the largest cost of the generator. int(random() * n) is biased by less than n / 2**53,
    which synthetic data can afford. Deterministic for a seed like its parent.
    """

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        if step != 1:
            return super().randrange(start, stop, step)
        return start + int(self.random() * (stop - start))

    def choice(self, seq: Sequence[T]) -> T:  # type: ignore[override]
        return seq[int(self.random() * len(seq))]


class Weighted:
    """Items with weights; `pick` is a bisection on the cumulative weights (fast, seedable)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Iterable[tuple[Any, float]]) -> None:
        items: list[Any] = []
        cum: list[float] = []
        total = 0.0
        for item, weight in pairs:
            if weight <= 0:
                continue
            total += weight
            items.append(item)
            cum.append(total)
        if not items:
            raise ValueError("no item with a positive weight")
        self.items = tuple(items)
        self.cum = tuple(cum)
        self.total = total

    def pick(self, rnd: Callable[[], float]) -> Any:
        return self.items[bisect_right(self.cum, rnd() * self.total)]
