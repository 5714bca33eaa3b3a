"""Normalization for matching: source-record columns → the match keys the engine compares.

Names go through `popdb.core.text` (NFC, look-alikes, case, canonical tone placement; an ASCII
fold as a second key for blocking and diacritic-less input). Dates stay partial. Numbers are
digits only; a 9-digit CMND from a range issued twice weighs nothing. Addresses go through
`dedup.address`. Every function memoises per distinct value: names and places repeat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from dedup.address import address_key
from dedup.types import Frame
from popdb.core import pin
from popdb.core.text import canonical, fold

#: String match keys, in the order of the `match_key` table.
STR_COLUMNS: tuple[str, ...] = (
    "family", "middle", "given", "family_fold", "middle_fold", "given_fold", "name_fold",
    "name_sorted", "initials", "pin", "other_id", "birth_place", "address", "commune",
    "father", "mother", "father_fold", "mother_fold", "other_id_head", "other_id_tail",
)  # fmt: skip
#: Integer match keys; 0 (dates) and -1 (sex) mean unknown.
INT_COLUMNS: tuple[str, ...] = ("dob_year", "dob_month", "dob_day", "sex")
INT_UNKNOWN = {"dob_year": 0, "dob_month": 0, "dob_day": 0, "sex": -1}
COLUMNS = STR_COLUMNS + INT_COLUMNS

#: The source_record columns features are computed from.
SOURCE_COLUMNS: tuple[str, ...] = (
    "id", "family_name", "middle_name", "given_name", "dob_year", "dob_month", "dob_day",
    "sex", "personal_id_number", "other_id_number", "birth_registration_code",
    "birth_registration_place", "permanent_address", "current_address",
    "permanent_commune_code", "current_commune_code", "father_name", "mother_name",
)  # fmt: skip

_CACHE = 500_000
_canonical = lru_cache(maxsize=_CACHE)(canonical)
_fold = lru_cache(maxsize=_CACHE)(fold)
_address = lru_cache(maxsize=_CACHE)(address_key)


@lru_cache(maxsize=_CACHE)
def name_key(text: str | None) -> str | None:
    """Canonical key of a name or name part, token by token (memoised per token)."""
    if not text:
        return None
    keys = [_canonical(t) for t in text.split()]
    return " ".join(k for k in keys if k) or None


@lru_cache(maxsize=_CACHE)
def name_fold(key: str | None) -> str | None:
    """ASCII fold of a canonical key: blocking and diacritic-less input only."""
    if not key:
        return None
    if " " not in key:
        return _fold(key)
    # Token by token, each token memoised: `fold` works per run of letters and spaces only
    # separate runs, so folding the tokens of a canonical key and joining the non-empty ones
    # gives the same key as folding it whole (tests/dedup/test_features_speed.py), while a
    # million distinct full names share a few thousand distinct tokens.
    return " ".join(f for f in map(name_fold, key.split(" ")) if f) or None


@lru_cache(maxsize=_CACHE)
def other_id_key(raw: str | None) -> str | None:
    """Digits and letters of another document number, upper case; None for a CMND from a
    range issued to two people (domain.md 2.4): it must never link records."""
    if not raw:
        return None
    key = "".join(ch for ch in raw.upper() if ch.isalnum())
    if not key:
        return None
    if key.isdigit() and len(key) == pin.CMND_LENGTH:
        try:
            if pin.is_duplicated_cmnd(key):
                return None
        except pin.PinError:
            return key
    return key


def halves(key: str | None) -> tuple[str | None, str | None]:
    """A document number's first and second half (the first the longer): a number typed with
    one wrong digit, or two adjacent digits swapped within a half, keeps the other half, so
    blocking on each finds the pair even when nothing else about it agrees."""
    if not key or len(key) < 2:
        return None, None
    middle = (len(key) + 1) // 2
    return key[:middle], key[middle:]


def _sorted_tokens(key: str | None) -> str | None:
    """Name tokens in sorted order: the same key whichever order a file wrote the name in."""
    return " ".join(sorted(key.split())) if key else None


def _initials(family_fold: str | None, given_fold: str | None) -> str | None:
    if not family_fold or not given_fold:
        return None
    return family_fold[0] + given_fold[0]


def features(row: Mapping[str, Any]) -> dict[str, Any]:
    """The match keys of one source record (a mapping with `SOURCE_COLUMNS`, and
    `batch_commune_code`, the commune that uploaded it, if known)."""
    family = name_key(row["family_name"])
    middle = name_key(row["middle_name"])
    given = name_key(row["given_name"])
    family_fold, given_fold = name_fold(family), name_fold(given)
    full = " ".join(p for p in (family, middle, given) if p) or None
    father, mother = name_key(row["father_name"]), name_key(row["mother_name"])
    place = row["birth_registration_code"] or _address(row["birth_registration_place"])
    other_id = other_id_key(row["other_id_number"])
    other_head, other_tail = halves(other_id)
    return {
        "family": family,
        "middle": middle,
        "given": given,
        "family_fold": family_fold,
        "middle_fold": name_fold(middle),
        "given_fold": given_fold,
        "name_fold": name_fold(full),
        "name_sorted": _sorted_tokens(name_fold(full)),
        "initials": _initials(family_fold, given_fold),
        "pin": row["personal_id_number"],
        "other_id": other_id,
        "birth_place": place,
        "address": _address(row["permanent_address"] or row["current_address"]),
        # where the record was collected when it names no commune of its own (a foreign
        # layout, a blank cell): name-only blocking still has a place to hold a name to
        "commune": (
            row["permanent_commune_code"]
            or row["current_commune_code"]
            or row.get("batch_commune_code")
        ),
        "father": father,
        "mother": mother,
        "father_fold": name_fold(father),
        "mother_fold": name_fold(mother),
        "other_id_head": other_head,
        "other_id_tail": other_tail,
        "dob_year": row["dob_year"] or 0,
        "dob_month": row["dob_month"] or 0,
        "dob_day": row["dob_day"] or 0,
        "sex": -1 if not row["sex"] else row["sex"],  # 0 is "no information" (QCVN 109)
    }


def frame_from_rows(ids: Sequence[int], rows: Iterable[Mapping[str, Any]]) -> Frame:
    """A frame from match-key rows (mappings with `COLUMNS`, as `features` returns)."""
    rows = list(rows)
    return frame_from_columns(ids, {name: [r[name] for r in rows] for name in COLUMNS})


def frame_from_columns(ids: Sequence[int], columns: Mapping[str, Sequence[Any]]) -> Frame:
    """A frame from column lists (as read back from the `match_key` table)."""
    out: dict[str, np.ndarray] = {}
    for name in STR_COLUMNS:
        col = np.empty(len(ids), dtype=object)
        col[:] = list(columns[name])
        out[name] = col
    for name in INT_COLUMNS:
        out[name] = np.asarray(columns[name], dtype=np.int16)
    ids_array = np.asarray(ids, dtype=np.int64)
    order = np.argsort(ids_array, kind="stable")
    return Frame(ids_array[order], {k: v[order] for k, v in out.items()})


def present(col: np.ndarray, name: str) -> np.ndarray:
    """Which values of column `name` are known."""
    if name in INT_UNKNOWN:
        return np.asarray(col != INT_UNKNOWN[name])
    return np.asarray([v is not None for v in col], dtype=bool)


def fill_rate(frame: Frame, name: str) -> float:
    """Share of records with a value in column `name`."""
    col = frame[name]
    return float(np.mean(present(col, name))) if len(col) else 0.0


def column_codes(frame: Frame, name: str) -> np.ndarray:
    """Each value of a column as a small integer, -1 for unknown; equal values get equal
    codes (memoised on the frame: blocking groups on them, comparisons test equality with
    them and compare each distinct pair of values once)."""
    cache = frame.codes
    if name not in cache:
        col = frame[name]
        known = present(col, name)
        codes = np.full(len(col), -1, dtype=np.int64)
        if col.dtype == object:
            table: dict[object, int] = {}
            values = col[known].tolist()
            codes[known] = np.fromiter(
                (table.setdefault(v, len(table)) for v in values), np.int64, len(values)
            )
            distinct = np.empty(len(table), dtype=object)
            distinct[:] = list(table)
            frame.code_values[name] = distinct
        else:
            codes[known] = col[known].astype(np.int64)
        cache[name] = codes
    return cache[name]


def code_values(frame: Frame, name: str) -> np.ndarray:
    """The distinct values of a string column, at the index of their code."""
    column_codes(frame, name)
    return frame.code_values[name]
