"""Keyset pages: `limit` rows and the cursor of the last one only when more follow."""

from __future__ import annotations

from popdb.core.pages import fetch_size, page_of


def test_a_full_fetch_gives_the_page_and_the_last_rows_cursor() -> None:
    rows = [10, 9, 8, 7]  # fetched with fetch_size(3) == 4
    assert fetch_size(3) == 4
    page = page_of(rows, 3, lambda r: r)
    assert page.items == [10, 9, 8] and page.next == 8


def test_the_last_page_has_no_cursor() -> None:
    assert page_of([5, 4], 3, lambda r: r).next is None
    assert page_of([5, 4, 3], 3, lambda r: r).next is None
    assert page_of([], 3, lambda r: r).items == []
