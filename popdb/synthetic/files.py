"""Generated records written out: one CSV, or the demo's batches (one file per commune and
collection date)."""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from popdb.synthetic.config import DC01_HEADERS, DEMO_COMMUNES, H_KEY, TRUTH_COLUMN, SyntheticConfig
from popdb.synthetic.streams import generate_records


def write_csv(
    path: str | os.PathLike[str],
    rows: Iterable[Mapping[str, str]],
    headers: Sequence[str],
    *,
    encoding: str = "utf-8-sig",
) -> int:
    """Write `rows` (dicts; missing keys written empty) under `headers`; return the row count.

    UTF-8 with a BOM by default, which Excel needs to read Vietnamese text and our importer
    accepts. Streams: rows are written as they come.
    """
    count = 0
    cells = itemgetter(*headers) if len(headers) > 1 else None  # one C call per full row
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        for row in rows:
            try:
                writer.writerow(cells(row) if cells is not None else [row[headers[0]]])
            except KeyError:
                writer.writerow([row.get(h, "") for h in headers])
            count += 1
    return count


@dataclass(frozen=True)
class DemoFile:
    """One batch file of `write_demo_files`: import it with `--commune commune_code
    --collected-on collected_on`. Usable wherever a path is (`os.PathLike`)."""

    path: Path
    commune_code: str
    collected_on: date
    vintage: str
    rows: int

    def __fspath__(self) -> str:
        return str(self.path)


def write_demo_files(
    directory: str | os.PathLike[str],
    persons: int = 1000,
    *,
    seed: int = 0,
    config: SyntheticConfig | None = None,
    truth_column: bool = True,
    **overrides: Any,
) -> list[DemoFile]:
    """Generate `persons` people and write one DC01 CSV per batch: per collecting commune
    and collection date (imports are per commune), named `dc01-<commune>-<yyyymmdd>.csv`.

    Communes default to `DEMO_COMMUNES` (pass `communes=` to change them); pre-2025 batches
    (2020 campaign or early 2025) carry that time's commune code. With `truth_column` False
    the truth goes to `truth.csv` (file, form number, truth_id) instead of a column the
    importer would keep as unmapped. Returns the files, oldest batch first.
    """
    if config is None and "communes" not in overrides:
        overrides["communes"] = DEMO_COMMUNES
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    headers = list(DC01_HEADERS if truth_column else DC01_HEADERS[:-1])
    handles: dict[tuple[str, date], tuple[IO[str], Any, Path]] = {}
    counts: Counter[tuple[str, date]] = Counter()
    vintages: dict[tuple[str, date], str] = {}
    truth_file = (
        None if truth_column else (out_dir / "truth.csv").open("w", encoding="utf-8", newline="")
    )
    truth_writer = csv.writer(truth_file) if truth_file is not None else None
    if truth_writer is not None:
        truth_writer.writerow(["file", H_KEY, TRUTH_COLUMN])
    try:
        for record in generate_records(persons, seed=seed, config=config, **overrides):
            key = (record.collected_by, record.collected_on)
            entry = handles.get(key)
            if entry is None:
                path = out_dir / f"dc01-{key[0]}-{key[1]:%Y%m%d}.csv"
                handle = path.open("w", encoding="utf-8-sig", newline="")
                writer = csv.writer(handle)
                writer.writerow(headers)
                entry = handles[key] = (handle, writer, path)
                vintages[key] = record.vintage
            entry[1].writerow([record.row[h] for h in headers])
            counts[key] += 1
            if truth_writer is not None:
                truth_writer.writerow([entry[2].name, record.row[H_KEY], record.row[TRUTH_COLUMN]])
    finally:
        for opened, _, _ in handles.values():
            opened.close()
        if truth_file is not None:
            truth_file.close()
    return [
        DemoFile(handles[key][2], key[0], key[1], vintages[key], counts[key])
        for key in sorted(handles, key=lambda k: (k[1], k[0]))
    ]
