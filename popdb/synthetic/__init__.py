"""Realistic, labelled synthetic citizen records: DC01 rows and a Western variant, with truth.

Why: `popdb demo`, the dedup benchmark (our matcher against Splink and recordlinkage on the
same files) and the quality tests need data that is hard in the ways real registry data is
hard, so that a matcher tuned on it also works on held-out data. Nothing here is real: names
come from our own lists (`popdb/data/names/`, see PROVENANCE.md there), places from the
official unit lists, numbers from the generator.

The population model: households share a commune, an address and (along the father's line,
the mother's for the matrilineal Ê Đê and Gia Rai) a family name; children carry their
parents' full names; twins share date of birth, parents and address; common names collide
(Zipf-like given names, Nguyễn 38 %) and some different people are made namesakes on purpose
(same full name and birth year, some in the same commune). Most people have one record; a
configurable share has 2-4, as if collected again later, by another commune, or in the
2020 campaign under the pre-2025 unit codes. Every record, the first included, is typed by a
clerk: fields are corrupted independently (domain.md 4.2-4.5: diacritics dropped, tone
placement, NFD, case, hỏi/ngã and dialect typos, middle name omitted, day/month swapped,
year-only dates, missing or mistyped numbers, moved addresses, legacy unit names and
abbreviations, ...), with per-commune clerk habits so that batches differ. Each row carries
its person's id in `truth_id`.

Deterministic for a seed (and a given Faker version: street names and Western names come
from Faker's static lists). Streaming: memory is bounded by the duplicate delay window, not
by the number of records.

The package, by stage: `config` (knobs, rates, record shapes, DC01 columns), `tables` (small
tables, package data), `names` and `places` (the name lists and the official units),
`randomness`, `variants` (how clerks type Vietnamese), `addresses`, `population` (households,
twins, namesakes), `records` (one clerk's row of a person), `streams` (records with delayed
duplicates), `files` (CSV and demo batches), `statistics`, `foreign` (the Western variant).
"""

from popdb.synthetic.config import (
    DC01_HEADERS,
    DEFAULT_RATES,
    DEMO_COMMUNES,
    FOREIGN_RATES,
    TRUTH_COLUMN,
    PersonTruth,
    SyntheticConfig,
    SyntheticRecord,
)
from popdb.synthetic.files import DemoFile, write_csv, write_demo_files
from popdb.synthetic.foreign import FOREIGN_HEADERS, FOREIGN_PROFILE, generate_foreign
from popdb.synthetic.statistics import summarize
from popdb.synthetic.streams import generate, generate_records

__all__ = [
    "DC01_HEADERS",
    "DEFAULT_RATES",
    "DEMO_COMMUNES",
    "FOREIGN_HEADERS",
    "FOREIGN_PROFILE",
    "FOREIGN_RATES",
    "TRUTH_COLUMN",
    "DemoFile",
    "PersonTruth",
    "SyntheticConfig",
    "SyntheticRecord",
    "generate",
    "generate_foreign",
    "generate_records",
    "summarize",
    "write_csv",
    "write_demo_files",
]
