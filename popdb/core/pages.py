"""Keyset pagination, one way for every list: fetch `limit + 1` rows past the cursor, hand
out `limit` of them and, when there was one more, the cursor of the last one handed out.

No offsets: a page stays right while rows are added, and the next page is one indexed
range scan however deep the client goes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next: Any


def fetch_size(limit: int) -> int:
    """How many rows to ask the database for: one more than the page tells whether the
    list goes on."""
    return limit + 1


def page_of(rows: Sequence[T], limit: int, cursor: Callable[[T], Any]) -> Page[T]:
    """The page of `rows` (fetched with `fetch_size(limit)`) and the cursor of its last row
    when more follow, else None."""
    items = list(rows[:limit])
    more = len(rows) > limit and bool(items)
    return Page(items, cursor(items[-1]) if more else None)
