"""The reference engines of the dedup benchmark: Splink 4 (DuckDB) and the recordlinkage toolkit.

Bench-only: they need the `bench` extra (`pip install -e '.[dev,bench]'`); nothing that CI runs
imports this module. Each peer runs in a subprocess (`python -m tests.bench.peers ENGINE CSV
SPEC.json OUTDIR`) so that its wall time and peak memory are its own: peak memory is the larger
of the kernel's maximum RSS of the child (os.wait4) and the summed RSS of its process tree
sampled every 0.2 s (DuckDB allocates natively and recordlinkage's parallel compare runs worker
processes, so tracemalloc would see neither).

Both peers get the preparation a competent user does with pandas: names lowercased, an exact
key with diacritics and a folded one without (đ -> d) for blocking and fuzzy comparison, the
Vietnamese full name split into family (first token), middle and given (last token) names,
dates parsed (a year-only "00/00/1950" keeps its year), digits-only ID numbers, addresses
folded with the common abbreviations expanded. The configuration (`_splink_settings`,
`_recordlinkage_main`) follows each tool's documentation, with the reason for each departure
written beside it. They are the reference our engine must beat: do not weaken them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DC01_SPEC",
    "FEBRL_SPEC",
    "FOREIGN_SPEC",
    "Measured",
    "PeerResult",
    "Spec",
    "prepare",
    "run_measured",
    "run_recordlinkage",
    "run_splink",
]

REPO = Path(__file__).resolve().parents[2]

#: Cluster threshold of Splink's connected components, and its predict() floor.
SPLINK_CLUSTER_THRESHOLD = 0.95
SPLINK_PREDICT_THRESHOLD = 0.5
#: Pairs for Splink's u estimation (its docs: 1e6 to 1e7, more is better).
SPLINK_U_MAX_PAIRS = 1e7
#: The memory budget of one peer run, passed to the peer's process (MB).
MEMORY_BUDGET_ENV = "POPDB_BENCH_MEMORY_MB"
#: DuckDB's share of that budget; the rest is Python and pandas (the prepared frame of 1M
#: records alone is ~1.5 GB). DuckDB spills to disk past its limit, as its docs advise.
DUCKDB_SHARE = 0.5


@dataclass(frozen=True)
class Spec:
    """Which columns of a labelled CSV play which role. Absent roles are None or empty."""

    layout: str
    source_key: str
    truth: str = "truth_id"
    full_name: str | None = None  # family first (Vietnamese order)
    given_name: str | None = None
    family_name: str | None = None
    dob: str | None = None
    dob_format: str = "dmy"  # "dmy" (dd/mm/yyyy, 00 = unknown) or "ymd" (YYYYMMDD)
    sex: str | None = None
    pin: str | None = None  # personal / social security number
    other_id: str | None = None  # old 9-digit ID card number (CMND)
    birth_place: str | None = None
    address: tuple[str, ...] = ()
    locality: str | None = None  # suburb, commune
    postcode: str | None = None
    state: str | None = None
    father_name: str | None = None
    mother_name: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Spec:
        data = json.loads(text)
        data["address"] = tuple(data["address"])
        return cls(**data)


DC01_SPEC = Spec(
    layout="dc01",
    source_key="Số phiếu",
    full_name="Họ, chữ đệm và tên khai sinh",
    dob="Ngày, tháng, năm sinh",
    dob_format="dmy",
    sex="Giới tính",
    pin="Số định danh cá nhân",
    other_id="Số CMND",
    birth_place="Nơi đăng ký khai sinh",
    address=("Nơi thường trú",),
    father_name="Họ, chữ đệm và tên cha",
    mother_name="Họ, chữ đệm và tên mẹ",
)

FOREIGN_SPEC = Spec(
    layout="foreign",
    source_key="rec_id",
    given_name="given_name",
    family_name="surname",
    dob="date_of_birth",
    dob_format="ymd",
    sex="sex",
    pin="soc_sec_id",
    address=("street_number", "address_1"),
    locality="suburb",
    postcode="postcode",
    state="state",
)

#: The FEBRL files that ship with recordlinkage (Christen's generator, not ours): the
#: foreign layout without sex, with a second address line.
FEBRL_SPEC = replace(
    FOREIGN_SPEC, layout="febrl", sex=None, address=("street_number", "address_1", "address_2")
)


@dataclass
class Measured:
    """One subprocess: exit status, wall seconds, CPU seconds (user + system, its reaped
    children included), peak memory, and why it was stopped."""

    returncode: int
    seconds: float
    peak_mb: float
    cpu_seconds: float = 0.0
    stopped: str | None = None  # "timeout after N s" / "memory above N MB"


@dataclass
class PeerResult:
    """One engine's answer on one file: a cluster label per record, in the file's row order."""

    engine: str
    source_keys: list[str]
    labels: npt.NDArray[Any] | None
    seconds: float
    peak_mb: float
    cpu_seconds: float = 0.0
    pairs_left: list[str] = field(default_factory=list)
    pairs_right: list[str] = field(default_factory=list)
    pair_probability: list[float] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # set when the engine did not produce clusters

    @property
    def ok(self) -> bool:
        return self.labels is not None


# --- measuring a subprocess -----------------------------------------------------------------


def _session_rss_kb(session_id: int) -> int:
    """Summed RSS of every process in a session (the child and whatever it started)."""
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[0] is state (field 3); session is field 6, rss field 24.
        if int(fields[3]) == session_id:
            total += int(fields[21]) * page_kb
    return total


def run_measured(
    cmd: Sequence[str],
    *,
    log_path: Path,
    env: dict[str, str] | None = None,
    timeout_s: float | None = None,
    memory_limit_mb: float | None = None,
) -> Measured:
    """Run `cmd` in its own session, output to `log_path`; stop it past the time or memory
    limit (SIGKILL to the whole session)."""
    started = time.perf_counter()
    with log_path.open("ab") as log:
        log.write(f"$ {' '.join(cmd)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            list(cmd), stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    sampled_kb = 0
    stopped: str | None = None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        sampled_kb = max(sampled_kb, _session_rss_kb(proc.pid))
        elapsed = time.perf_counter() - started
        if stopped is None and timeout_s is not None and elapsed > timeout_s:
            stopped = f"did not finish in {timeout_s / 60:.0f} min"
        if stopped is None and memory_limit_mb is not None and sampled_kb / 1024 > memory_limit_mb:
            stopped = f"memory above {memory_limit_mb / 1024:.0f} GB"
        if stopped is not None:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    peak_mb = max(usage.ru_maxrss, sampled_kb) / 1024
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(proc.returncode, seconds, peak_mb, cpu, stopped)


def _run_peer(
    engine: str,
    csv_path: Path,
    spec: Spec,
    *,
    workdir: Path | None = None,
    timeout_s: float | None = None,
    memory_limit_mb: float | None = None,
) -> PeerResult:
    out = (workdir or csv_path.parent) / f"{engine}-{csv_path.stem}"
    out.mkdir(parents=True, exist_ok=True)
    spec_path = out / "spec.json"
    spec_path.write_text(spec.to_json(), encoding="utf-8")
    log = out / "log.txt"
    log.write_text("")
    load = round(os.getloadavg()[0], 1)
    measured = run_measured(
        [
            sys.executable,
            "-m",
            "tests.bench.peers",
            engine,
            str(csv_path),
            str(spec_path),
            str(out),
        ],
        log_path=log,
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            MEMORY_BUDGET_ENV: str(int(memory_limit_mb or 0)),
        },
        timeout_s=timeout_s,
        memory_limit_mb=memory_limit_mb,
    )
    keys = _source_keys(csv_path, spec)
    result = PeerResult(engine, keys, None, measured.seconds, measured.peak_mb)
    result.cpu_seconds = measured.cpu_seconds
    result.info["load average at start"] = load
    if measured.stopped or measured.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
        result.error = measured.stopped or f"exit {measured.returncode}: {tail[0][:200]} ({log})"
        return result
    result.info.update(json.loads((out / "info.json").read_text()))
    by_key = _read_two_columns(out / "clusters.csv")
    result.labels = np.array([by_key[k] for k in keys])
    import csv

    with (out / "pairs.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for left, right, probability in reader:
            result.pairs_left.append(left)
            result.pairs_right.append(right)
            result.pair_probability.append(float(probability))
    return result


def run_splink(
    csv_path: Path,
    spec: Spec,
    *,
    workdir: Path | None = None,
    timeout_s: float | None = None,
    memory_limit_mb: float | None = None,
) -> PeerResult:
    """Splink 4 on DuckDB over a labelled CSV; clusters at match probability 0.95."""
    return _run_peer(
        "splink",
        csv_path,
        spec,
        workdir=workdir,
        timeout_s=timeout_s,
        memory_limit_mb=memory_limit_mb,
    )


def run_recordlinkage(
    csv_path: Path,
    spec: Spec,
    *,
    workdir: Path | None = None,
    timeout_s: float | None = None,
    memory_limit_mb: float | None = None,
) -> PeerResult:
    """recordlinkage: blocking + sorted neighbourhood, binary comparisons, ECM, components."""
    return _run_peer(
        "recordlinkage",
        csv_path,
        spec,
        workdir=workdir,
        timeout_s=timeout_s,
        memory_limit_mb=memory_limit_mb,
    )


def _source_keys(csv_path: Path, spec: Spec) -> list[str]:
    return list(_read_columns(csv_path, [spec.source_key])[spec.source_key])


def _read_columns(csv_path: Path, columns: Sequence[str]) -> dict[str, list[str]]:
    import csv

    with csv_path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        at = [header.index(c) for c in columns]
        out: dict[str, list[str]] = {c: [] for c in columns}
        lists = [out[c] for c in columns]
        for row in reader:
            for i, target in zip(at, lists, strict=True):
                target.append(row[i])
    return out


def _read_two_columns(path: Path) -> dict[str, str]:
    import csv

    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        return {a: b for a, b in reader}


# --- data preparation (pandas) ---------------------------------------------------------------

#: Address abbreviations (domain.md 4.4), applied to the lowercased, unaccented text while its
#: dots are still there; "số 12" (number 12) loses its "số".
_ABBREVIATIONS = [
    (r"\btp\.?\s*hcm\b", "thanh pho ho chi minh"),
    (r"\bhcm\b", "ho chi minh"),
    (r"\bt\.?p\.", "thanh pho "),
    (r"\btp\b", "thanh pho"),
    (r"\bp\.", "phuong "),
    (r"\bq\.", "quan "),
    (r"\btx\.", "thi xa "),
    (r"\btt\.", "thi tran "),
    (r"\bh\.", "huyen "),
    (r"\bx\.", "xa "),
    (r"\bd\.", "duong "),
    (r"\bso\b", ""),
    (r"\bst\b", "street"),
    (r"\brd\b", "road"),
    (r"\bave\b", "avenue"),
]


def _unaccent(s: pd.Series) -> pd.Series:
    """Lowercase without diacritics, đ -> d."""
    return (
        s.str.normalize("NFD")
        .str.replace("[\u0300-\u036f]", "", regex=True)
        .str.replace("[đĐ]", "d", regex=True)
        .str.lower()
    )


def _fold(s: pd.Series) -> pd.Series:
    """Lowercase ASCII: diacritics stripped, đ -> d, punctuation to spaces, spaces collapsed."""
    out = (
        _unaccent(s)
        .str.replace(r"[^a-z0-9' ]+", " ", regex=True)
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
    )
    return out.where(out.str.len() > 0, None)


def _place_key(s: pd.Series) -> pd.Series:
    """An address or place folded with its abbreviations expanded."""
    unaccented = _unaccent(s)
    for pattern, repl in _ABBREVIATIONS:
        unaccented = unaccented.str.replace(pattern, repl, regex=True)
    return _fold(unaccented)


def _exact_key(s: pd.Series) -> pd.Series:
    """Lowercase with diacritics (NFC), spaces collapsed: the key of an exact match."""
    out = s.str.normalize("NFC").str.lower().str.replace(r"\s+", " ", regex=True).str.strip()
    return out.where(out.str.len() > 0, None)


def _nulls(s: pd.Series) -> pd.Series:
    s = s.astype("string").str.strip()
    return s.where(s.str.len() > 0, None).astype(object)


def prepare(raw: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """The frame both peers link: one row per CSV row, `unique_id` its position."""
    import pandas as pd

    raw = raw.reset_index(drop=True)

    def col(name: str | None) -> pd.Series:
        if name is None:
            return pd.Series([None] * len(raw), dtype=object)
        return _nulls(raw[name])

    out = pd.DataFrame({"unique_id": np.arange(len(raw), dtype=np.int64)})
    if spec.full_name is not None:
        exact = _exact_key(col(spec.full_name)).str.split(" ")
        folded = _fold(col(spec.full_name)).str.split(" ")
        for key, tokens in (("c", exact), ("f", folded)):
            n = tokens.str.len()
            out[f"family_{key}"] = tokens.str[0].where(n > 1, None)
            out[f"given_{key}"] = tokens.str[-1]
            middle = tokens.str[1:-1].str.join(" ")
            out[f"middle_{key}"] = middle.where(middle.str.len() > 0, None)
    else:
        out["family_c"] = _exact_key(col(spec.family_name))
        out["family_f"] = _fold(col(spec.family_name))
        out["given_c"] = _exact_key(col(spec.given_name))
        out["given_f"] = _fold(col(spec.given_name))
    name_parts = [out[c] for c in ("family_f", "middle_f", "given_f") if c in out]
    full = name_parts[0].fillna("")
    for part in name_parts[1:]:
        full = full + " " + part.fillna("")
    full = full.str.replace(r"\s+", " ", regex=True).str.strip()
    out["name_f"] = full.where(full.str.len() > 0, None)

    dob = col(spec.dob).fillna("")
    if spec.dob_format == "dmy":
        parts = dob.str.extract(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
        year_only = dob.str.extract(r"^(\d{4})$")[0]
        day, month, year = parts[0], parts[1], parts[2].fillna(year_only)
    else:
        parts = dob.str.extract(r"^(\d{4})(\d{2})(\d{2})$")
        year, month, day = parts[0], parts[1], parts[2]
    y = pd.to_numeric(year, errors="coerce")
    m = pd.to_numeric(month, errors="coerce")
    d = pd.to_numeric(day, errors="coerce")
    y = y.where((y >= 1850) & (y <= 2030))
    date = pd.to_datetime(pd.DataFrame({"year": y, "month": m, "day": d}), errors="coerce")
    swapped = pd.to_datetime(pd.DataFrame({"year": y, "month": d, "day": m}), errors="coerce")
    out["dob"] = date.dt.strftime("%Y-%m-%d").where(date.notna(), None)
    out["dob_swapped"] = swapped.dt.strftime("%Y-%m-%d").where(swapped.notna() & (m != d), None)
    out["birth_year"] = y.astype("Int64")

    if spec.sex:
        sexes = {"nam": "m", "m": "m", "male": "m", "nu": "f", "f": "f", "female": "f"}
        out["sex"] = _fold(col(spec.sex)).map(sexes).astype(object)
        out["sex"] = out["sex"].where(out["sex"].notna(), None)
    pin = col(spec.pin).fillna("").str.replace(r"\D", "", regex=True)
    out["pin"] = pin.where(pin.str.len() > 0, None)
    if spec.other_id:
        other = col(spec.other_id).fillna("").str.replace(r"\D", "", regex=True)
        out["other_id"] = other.where(other.str.len() > 0, None)
    if spec.birth_place:
        out["birth_place_f"] = _place_key(col(spec.birth_place))
    if spec.address:
        address = col(spec.address[0]).fillna("")
        for part in spec.address[1:]:
            address = address + " " + col(part).fillna("")
        out["address_f"] = _place_key(address)
    if spec.locality:
        out["locality_f"] = _fold(col(spec.locality))
    if spec.postcode:
        out["postcode"] = col(spec.postcode)
    if spec.state:
        out["state"] = _fold(col(spec.state))
    if spec.father_name:
        out["father_f"] = _fold(col(spec.father_name))
    if spec.mother_name:
        out["mother_f"] = _fold(col(spec.mother_name))
    return out


def _read_prepared(csv_path: Path, spec: Spec) -> tuple[pd.DataFrame, pd.Series]:
    import pandas as pd

    raw = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return prepare(raw, spec), raw[spec.source_key]


def _write_outputs(
    out: Path,
    keys: pd.Series,
    cluster_of: npt.NDArray[Any],
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
    probability: npt.NDArray[np.float64],
    info: dict[str, Any],
) -> None:
    import pandas as pd

    key_values = keys.to_numpy()
    pd.DataFrame({"source_key": key_values, "cluster": cluster_of}).to_csv(
        out / "clusters.csv", index=False
    )
    pd.DataFrame(
        {
            "source_key_l": key_values[left],
            "source_key_r": key_values[right],
            "match_probability": probability,
        }
    ).to_csv(out / "pairs.csv", index=False)
    (out / "info.json").write_text(json.dumps(info, indent=2, default=str))


# --- Splink ---------------------------------------------------------------------------------


def _splink_settings(frame: pd.DataFrame) -> tuple[Any, list[Any], list[Any], list[Any]]:
    """Settings, deterministic rules (for the prior), EM blocking rules, of a competent set-up."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    has = set(frame.columns)

    def name(column: str, exact_column: str | None, label: str) -> Any:
        levels: list[Any] = [cll.NullLevel(column)]
        if exact_column is not None:
            levels.append(
                cll.ExactMatchLevel(exact_column, term_frequency_adjustments=True).configure(
                    label_for_charts="exact, with diacritics"
                )
            )
        levels += [
            cll.ExactMatchLevel(column, term_frequency_adjustments=True).configure(
                label_for_charts="exact, folded"
            ),
            cll.JaroWinklerLevel(column, 0.92),
            cll.JaroWinklerLevel(column, 0.88),
            cll.ElseLevel(),
        ]
        return cl.CustomComparison(comparison_levels=levels, output_column_name=label)

    dob = cl.CustomComparison(
        output_column_name="dob",
        comparison_levels=[
            cll.NullLevel("birth_year"),
            cll.ExactMatchLevel("dob"),
            cll.LevenshteinLevel("dob", 1).configure(label_for_charts="one typo"),
            cll.CustomLevel("dob_swapped_l = dob_r", "day and month swapped"),
            cll.CustomLevel(
                "(dob_l IS NULL OR dob_r IS NULL) AND birth_year_l = birth_year_r",
                "same year, one side year only",
            ),
            cll.ExactMatchLevel("birth_year").configure(label_for_charts="same year"),
            cll.AbsoluteDifferenceLevel("birth_year", 1).configure(label_for_charts="year ±1"),
            cll.ElseLevel(),
        ],
    )
    pin = cl.CustomComparison(
        output_column_name="pin",
        comparison_levels=[
            cll.NullLevel("pin"),
            cll.ExactMatchLevel("pin"),
            cll.LevenshteinLevel("pin", 1).configure(label_for_charts="one typo"),
            cll.ElseLevel(),
        ],
    )

    def accented(exact: str, folded: str) -> str | None:
        """The exact-key column, when it says more than the folded one (diacritics)."""
        differs = frame[exact].notna() & (frame[exact] != frame[folded])
        return exact if bool(differs.any()) else None

    comparisons = [
        name("family_f", accented("family_c", "family_f"), "family_name"),
        name("given_f", accented("given_c", "given_f"), "given_name"),
    ]
    if "middle_f" in has:
        comparisons.append(cl.ExactMatch("middle_f").configure(term_frequency_adjustments=True))
    comparisons.append(dob)
    if "sex" in has:
        comparisons.append(cl.ExactMatch("sex"))
    comparisons.append(pin)
    if "other_id" in has:
        comparisons.append(cl.ExactMatch("other_id"))
    if "birth_place_f" in has:
        comparisons.append(
            cl.ExactMatch("birth_place_f").configure(term_frequency_adjustments=True)
        )
    # Jaro-Winkler, not Levenshtein: DuckDB's levenshtein on ~50-character addresses costs
    # 6.4 s per million pairs against 0.4 s (measured here), for the same levels.
    if "address_f" in has and "postcode" in has:
        # Street address, suburb, postcode and state say one thing (where the household lives):
        # as four comparisons they would count it four times over (Fellegi-Sunter assumes
        # independent comparisons), so they are levels of one.
        comparisons.append(
            cl.CustomComparison(
                output_column_name="address",
                comparison_levels=[
                    cll.And(cll.NullLevel("address_f"), cll.NullLevel("postcode")).configure(
                        is_null_level=True
                    ),
                    cll.And(cll.ExactMatchLevel("address_f"), cll.ExactMatchLevel("postcode")),
                    cll.ExactMatchLevel("address_f"),
                    cll.And(
                        cll.JaroWinklerLevel("address_f", 0.9), cll.ExactMatchLevel("postcode")
                    ),
                    cll.ExactMatchLevel("postcode", term_frequency_adjustments=True),
                    cll.ExactMatchLevel("locality_f", term_frequency_adjustments=True),
                    cll.ElseLevel(),
                ],
            )
        )
    elif "address_f" in has:
        comparisons.append(cl.JaroWinklerAtThresholds("address_f", [0.97, 0.9]))
    for parent in ("father_f", "mother_f"):
        if parent in has:
            comparisons.append(
                cl.JaroWinklerAtThresholds(parent, [0.95, 0.88]).configure(
                    term_frequency_adjustments=True
                )
            )

    blocking: list[Any] = [
        block_on("pin"),
        block_on("family_f", "given_f", "birth_year"),
        block_on("given_f", "dob"),
        block_on("family_f", "dob"),
    ]
    if "other_id" in has:
        blocking.append(block_on("other_id"))
    if "mother_f" in has:
        blocking.append(block_on("given_f", "mother_f"))
    if "postcode" in has:
        blocking.append(block_on("family_f", "postcode"))
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    deterministic = [block_on("pin"), block_on("family_f", "given_f", "dob")]
    em_rules = [block_on("pin"), block_on("dob"), block_on("family_f", "given_f", "birth_year")]
    return settings, blocking, deterministic, em_rules


def _splink_main(csv_path: Path, spec: Spec, out: Path) -> None:
    from splink import DuckDBAPI, Linker
    from splink.blocking_analysis import (
        cumulative_comparisons_to_be_scored_from_blocking_rules_data,
    )

    frame, keys = _read_prepared(csv_path, spec)
    settings, blocking, deterministic, em_rules = _splink_settings(frame)
    import duckdb

    # A user with a memory budget tells DuckDB (its default takes 80 % of the machine's RAM).
    config: dict[str, Any] = {"threads": os.cpu_count() or 1}
    budget_mb = int(os.environ.get(MEMORY_BUDGET_ENV) or 0)
    if budget_mb:
        config["memory_limit"] = f"{int(budget_mb * DUCKDB_SHARE)}MB"
        config["temp_directory"] = str(out / "duckdb_tmp")
    db_api = DuckDBAPI(connection=duckdb.connect(config=config))
    counts = cumulative_comparisons_to_be_scored_from_blocking_rules_data(
        table_or_tables=frame, blocking_rules=blocking, link_type="dedupe_only", db_api=db_api
    )
    print(counts.to_string(), flush=True)
    linker = Linker(frame, settings, db_api=db_api)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=SPLINK_U_MAX_PAIRS, seed=1)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    linker.misc.save_model_to_json(str(out / "model.json"), overwrite=True)
    predictions = linker.inference.predict(threshold_match_probability=SPLINK_PREDICT_THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=SPLINK_CLUSTER_THRESHOLD
    )
    c = linker.misc.query_sql(
        f"select unique_id, cluster_id from {clusters.physical_name} order by unique_id"
    )
    p = linker.misc.query_sql(
        f"select unique_id_l, unique_id_r, match_probability from {predictions.physical_name} "
        f"where match_probability >= {SPLINK_CLUSTER_THRESHOLD}"
    )
    cluster_of = np.empty(len(frame), dtype=object)
    cluster_of[c["unique_id"].to_numpy(dtype=np.int64)] = c["cluster_id"].astype(str).to_numpy()
    info = {
        "comparisons_per_blocking_rule": counts[["blocking_rule", "row_count"]].to_dict("records"),
        "pairs_above_predict_threshold": int(
            linker.misc.query_sql(f"select count(*) as n from {predictions.physical_name}")["n"][0]
        ),
        "predict_threshold": SPLINK_PREDICT_THRESHOLD,
        "cluster_threshold": SPLINK_CLUSTER_THRESHOLD,
    }
    _write_outputs(
        out,
        keys,
        cluster_of,
        p["unique_id_l"].to_numpy(dtype=np.int64),
        p["unique_id_r"].to_numpy(dtype=np.int64),
        p["match_probability"].to_numpy(dtype=np.float64),
        info,
    )


# --- recordlinkage --------------------------------------------------------------------------


#: Record pairs compared at a time: recordlinkage's Compare copies both records' columns for
#: every pair, so tens of millions of pairs at once do not fit in 8 GB.
RECORDLINKAGE_CHUNK = 2_000_000


def _recordlinkage_main(csv_path: Path, spec: Spec, out: Path) -> None:
    """recordlinkage as its docs show it (Index of blocks and a sorted neighbourhood, Compare
    with thresholded string similarity and exact features, ECMClassifier), run the way a
    user makes it fit in memory at a million records: each indexing algorithm's pairs joined
    as integer arrays (MultiIndex.union of tens of millions of pairs needs many GB), compared
    in chunks into uint8 features. ECM's fit works on the distinct feature patterns anyway."""
    import pandas as pd
    import recordlinkage as rl
    from recordlinkage.index import Block, SortedNeighbourhood
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    frame, keys = _read_prepared(csv_path, spec)
    frame = frame.set_index("unique_id")
    has = set(frame.columns)
    n = len(frame)

    algorithms: list[Any] = [
        Block("pin"),
        Block(["family_f", "given_f", "birth_year"]),
        Block(["given_f", "dob"]),
        Block(["family_f", "dob"]),
    ]
    if "other_id" in has:
        algorithms.append(Block("other_id"))
    if "postcode" in has:
        algorithms.append(Block(["family_f", "postcode"]))
    algorithms.append(SortedNeighbourhood("name_f", window=7, block_on=["birth_year"]))
    found: list[npt.NDArray[np.int64]] = []
    for algorithm in algorithms:
        pairs = algorithm.index(frame)
        a = pairs.get_level_values(0).to_numpy(dtype=np.int64)
        b = pairs.get_level_values(1).to_numpy(dtype=np.int64)
        del pairs
        found.append(np.minimum(a, b) * n + np.maximum(a, b))
    pair_keys = np.unique(np.concatenate(found))
    del found
    left_all, right_all = pair_keys // n, pair_keys % n
    del pair_keys
    total = int(left_all.size)
    print(f"candidate pairs: {total:,}", flush=True)

    compare = rl.Compare(n_jobs=os.cpu_count() or 1)
    compare.string("family_f", "family_f", method="jarowinkler", threshold=0.88, label="family")
    compare.string("given_f", "given_f", method="jarowinkler", threshold=0.88, label="given")
    if "middle_f" in has:
        compare.exact("middle_f", "middle_f", label="middle")
    compare.exact("dob", "dob", label="dob")
    compare.exact("birth_year", "birth_year", label="birth_year")
    if "sex" in has:
        compare.exact("sex", "sex", label="sex")
    compare.exact("pin", "pin", label="pin")
    if "other_id" in has:
        compare.exact("other_id", "other_id", label="other_id")
    if "birth_place_f" in has:
        compare.exact("birth_place_f", "birth_place_f", label="birth_place")
    if "address_f" in has:
        compare.string(
            "address_f", "address_f", method="levenshtein", threshold=0.85, label="address"
        )
    if "postcode" in has:  # suburb and state would repeat what postcode says (see Splink)
        compare.exact("postcode", "postcode", label="postcode")
    for parent in ("father_f", "mother_f"):
        if parent in has:
            compare.string(parent, parent, method="jarowinkler", threshold=0.9, label=parent)

    columns: list[str] = []
    features = np.zeros((0, 0), dtype=np.uint8)
    for start in range(0, total, RECORDLINKAGE_CHUNK):
        stop = min(total, start + RECORDLINKAGE_CHUNK)
        chunk = pd.MultiIndex.from_arrays([left_all[start:stop], right_all[start:stop]])
        computed = compare.compute(chunk, frame)
        if not columns:
            columns = [str(c) for c in computed.columns]
            features = np.empty((total, len(columns)), dtype=np.uint8)
        features[start:stop] = computed.fillna(0).to_numpy(dtype=np.uint8)
        print(f"compared {stop:,} / {total:,}", flush=True)
    vectors = pd.DataFrame(features, columns=columns, copy=False)

    ecm = rl.ECMClassifier(binarize=None)
    ecm.fit(vectors)  # works on the distinct feature patterns
    # prob() one-hot encodes its input densely (int64): by chunks, as compare.
    probability = np.concatenate(
        [
            ecm.prob(vectors.iloc[start : start + RECORDLINKAGE_CHUNK]).to_numpy(np.float64)
            for start in range(0, total, RECORDLINKAGE_CHUNK)
        ]
        or [np.zeros(0)]
    )
    matched = probability > 0.5
    left, right = left_all[matched], right_all[matched]
    graph = coo_matrix((np.ones(left.size, dtype=np.int8), (left, right)), shape=(n, n))
    _, components = connected_components(graph, directed=False)
    info = {
        "candidate_pairs": total,
        "matches": int(left.size),
        "ecm_p": float(ecm.p),
        "ecm_m": _jsonable(ecm.m_probs),
        "ecm_u": _jsonable(ecm.u_probs),
    }
    _write_outputs(out, keys, components, left, right, probability[matched], info)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return float(value)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 4 or args[0] not in ("splink", "recordlinkage"):
        sys.exit("usage: python -m tests.bench.peers splink|recordlinkage CSV SPEC.json OUTDIR")
    engine, csv_path, spec_path, out = args
    spec = Spec.from_json(Path(spec_path).read_text(encoding="utf-8"))
    run = _splink_main if engine == "splink" else _recordlinkage_main
    run(Path(csv_path), spec, Path(out))


if __name__ == "__main__":
    main()
