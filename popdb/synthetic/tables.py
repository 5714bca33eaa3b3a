"""The generator's small tables (ethnic mix by region, spellings, religions, abbreviations,
nicknames, ...), kept as package data in `popdb/data/synthetic/tables.json`, each with a note
on what it is. Read once at import; JSON lists come back as tuples, as the code expects."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


_TABLES: dict[str, Any] = {
    name: _tuples(entry["value"])
    for name, entry in json.loads(
        (files("popdb") / "data" / "synthetic" / "tables.json").read_text(encoding="utf-8")
    ).items()
}

CMND_PREFIX: dict[str, str] = _TABLES["cmnd_prefix"]
CMND_TWICE: tuple[int, int] = _TABLES["cmnd_twice"]
MIX: dict[str, tuple[tuple[str, float], ...]] = _TABLES["mix"]
REGION: dict[str, str] = _TABLES["region"]
SPELLINGS: dict[str, tuple[tuple[str, float], ...]] = _TABLES["spellings"]
RELIGIONS: dict[str, tuple[tuple[str, float], ...]] = _TABLES["religions"]
RELIGION_SPELLINGS: dict[str, tuple[tuple[str, float], ...]] = _TABLES["religion_spellings"]
MARITAL: dict[str, tuple[tuple[str, float], ...]] = _TABLES["marital"]
MALE_LINE: dict[str, str] = _TABLES["male_line"]
ALIASES: tuple[str, ...] = _TABLES["aliases"]
TWIN_PAIRS: tuple[tuple[str, str], ...] = _TABLES["twin_pairs"]
MOBILE_PREFIXES: tuple[str, ...] = _TABLES["mobile_prefixes"]
HAMLET_WORDS: tuple[str, ...] = _TABLES["hamlet_words"]
HCM_NAMES: tuple[str, ...] = _TABLES["hcm_names"]
HANOI_NAMES: tuple[str, ...] = _TABLES["hanoi_names"]
ABBREVIATIONS: tuple[tuple[str, tuple[str, ...]], ...] = _TABLES["abbreviations"]
NICKNAMES: dict[str, tuple[str, ...]] = _TABLES["nicknames"]
KEYBOARD: dict[str, str] = _TABLES["keyboard"]
PHONETIC: tuple[tuple[str, str], ...] = _TABLES["phonetic"]
STREET_SUFFIXES: tuple[tuple[str, int], ...] = _TABLES["street_suffixes"]
