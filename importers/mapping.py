"""Mapping profiles: which column of an uploaded file holds which canonical citizen field.

A profile is written once per source system (JSON, design.md "Mapping profile") and bound to
each file's heading row. Binding is tolerant of the ways clerks retype headers (case, spacing,
diacritics) but never guesses between two candidates: an ambiguous header is an error, because
a silently swapped column would put fathers' names into citizens' records.

Without a profile, `importers.recognise.resolve_profile` understands the DC01 form's
Vietnamese headers and files whose columns are already named after the canonical fields.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Literal, get_args

from importers.fields import DateFormat, FieldValue, MappedRow
from popdb.core.dates import FormatError, check_format
from popdb.core.models.citizen import CANONICAL_FIELDS
from popdb.core.text import canonical, fold

__all__ = [
    "DATE_FIELDS",
    "NAME_FIELDS",
    "BoundProfile",
    "CellPlan",
    "FieldCells",
    "FieldSpec",
    "MappingError",
    "MappingProfile",
    "NameOrder",
    "load_profile",
    "parse_profile",
]

NameOrder = Literal["family_first", "given_first"]
NAME_ORDERS: tuple[str, ...] = get_args(NameOrder)
#: Fields of which at least one must be mapped: a row that names nobody cannot be matched.
NAME_FIELDS: tuple[str, ...] = ("full_name", "family_name", "given_name")
#: Fields a date format hint may be given for.
DATE_FIELDS: tuple[str, ...] = ("dob",)
#: Keys a profile's JSON object may have at the top level.
TOP_LEVEL_KEYS: tuple[str, ...] = ("fields", "household_id", "name_order", "source_key")
#: Column names taken as the source key of a file named after the canonical fields.
SOURCE_KEY_COLUMNS: tuple[str, ...] = ("source_key", "rec_id")
#: Joins the parts of a composite source key.
SOURCE_KEY_SEP = "|"

_COLUMN_KEYS = ("column", "format")
_CONCAT_KEYS = ("concat", "sep")
#: Names people write for canonical fields; only used to suggest the right one in an error.
_SYNONYMS = {
    "surname": "family_name",
    "last_name": "family_name",
    "first_name": "given_name",
    "forename": "given_name",
    "name": "full_name",
    "date_of_birth": "dob",
    "birth_date": "dob",
    "birthdate": "dob",
    "gender": "sex",
    "address": "permanent_address",
    "telephone": "phone",
    "mobile": "phone",
    "religion_code": "religion",
    "ethnicity_code": "ethnicity",
}


class MappingError(ValueError):
    """A mapping profile is malformed or does not fit the file; the message is one sentence
    for the person who wrote the profile or uploaded the file, naming the culprit."""


@dataclass(frozen=True)
class FieldSpec:
    """Where one canonical field comes from: one column, or several joined by `sep`.

    `format` is a date format ("%Y%m%d"), or several tried in order, passed on to validation
    in `FieldValue.format`.
    """

    columns: tuple[str, ...]
    sep: str = " "
    format: DateFormat | None = None


@dataclass(frozen=True)
class MappingProfile:
    """Canonical field -> `FieldSpec`, plus the column(s) that identify a row in the source
    system and the order in which that system writes full names.

    Checked on construction, so a profile built in code obeys the same rules as one read from
    JSON.
    """

    fields: dict[str, FieldSpec]
    source_key: tuple[str, ...] | None = None
    name: str = "custom"
    name_order: NameOrder = "family_first"

    def __post_init__(self) -> None:
        if not self.fields:
            raise MappingError(f'The mapping profile "{self.name}" maps no fields.')
        for field, spec in self.fields.items():
            _check_field_name(field)
            if not spec.columns:
                raise MappingError(f'Field "{field}" of the mapping profile names no column.')
            for column in spec.columns:
                _check_column_name(column, f'field "{field}"')
            if spec.format is not None:
                _check_format(field, spec.format)
        if self.source_key is not None:
            if not self.source_key:
                raise MappingError('The mapping profile\'s "source_key" names no column.')
            for column in self.source_key:
                _check_column_name(column, '"source_key"')
        if self.name_order not in NAME_ORDERS:
            raise MappingError(
                f'"name_order" must be one of {quoted_names(NAME_ORDERS)}, '
                f"not {_show(self.name_order)}."
            )

    def bind(self, header: list[str]) -> BoundProfile:
        """Find every column the profile names in this file's heading row.

        Exact header text first; then case-, spacing- and tone-placement-insensitively
        (`canonical`); then without diacritics (`fold`). A loose match that fits several
        columns is an error rather than a guess.
        """
        exact = set(header)
        indexes: list[tuple[Callable[[str | None], str | None], dict[str, list[str]]]] = []
        for key in (canonical, fold):
            index: dict[str, list[str]] = {}
            for h in header:
                k = key(h)
                if k is not None:
                    index.setdefault(k, []).append(h)
            indexes.append((key, index))

        def find(column: str, wanted_by: str) -> str:
            if column in exact:
                return column
            for key, index in indexes:
                k = key(column)
                found = index.get(k, []) if k is not None else []
                if len(found) == 1:
                    return found[0]
                if len(found) > 1:
                    raise MappingError(
                        f'Column "{column}" wanted by {wanted_by} matches several columns of '
                        f"the file ({quoted_names(found)}) when capitals, spacing and accents are "
                        "ignored; write the exact header text in the mapping profile."
                    )
            raise MappingError(
                f'Column "{column}" wanted by {wanted_by} is not in the file; the file\'s '
                f"columns are: {quoted_names(header)}."
            )

        field_columns = {
            field: tuple(find(c, f'field "{field}"') for c in spec.columns)
            for field, spec in self.fields.items()
        }
        source_key = tuple(find(c, "the source key") for c in self.source_key or ())
        return BoundProfile(self, header, field_columns, source_key)


_field_value = FieldValue._make  # tuple.__new__ in C: one per field per row


class BoundProfile:
    """A profile whose column names are resolved against one file's heading row."""

    def __init__(
        self,
        profile: MappingProfile,
        header: list[str],
        field_columns: dict[str, tuple[str, ...]],
        source_key_columns: tuple[str, ...],
    ) -> None:
        self.profile = profile
        self.header = list(header)
        #: canonical field -> the file's header text of each column it is read from
        self.field_columns = field_columns
        #: the file's header text of each source-key column (empty: rows have no key)
        self.source_key_columns = source_key_columns
        self._plan = [
            (f, cols, profile.fields[f].sep, profile.fields[f].format)
            for f, cols in field_columns.items()
        ]

    def map_row(self, raw: dict[str, str | None]) -> MappedRow:
        """Every profile field that has text, as a `FieldValue` of stripped text; fields whose
        cells are all empty are left out. Concatenated fields join their non-empty parts, so
        a missing street number does not leave a stray separator. Hot path: once per row."""
        mapped: MappedRow = {}
        for field, columns, sep, fmt in self._plan:
            if len(columns) == 1:
                value = raw.get(columns[0])
                if value is None:
                    continue
                value = value.strip()
                if not value:
                    continue
            else:
                parts = [v for v in (_stripped(raw.get(c)) for c in columns) if v is not None]
                if not parts:
                    continue
                value = sep.join(parts)
            mapped[field] = _field_value((value, columns, fmt))
        return mapped

    def source_key(self, raw: dict[str, str | None]) -> str | None:
        """The row's identifier in the source system; composite keys joined with "|".

        None when every key cell is empty; an empty part of a composite key stays an empty
        string so that "a|" and "|a" remain different keys.
        """
        if not self.source_key_columns:
            return None
        parts = [_stripped(raw.get(c)) for c in self.source_key_columns]
        if all(p is None for p in parts):
            return None
        return SOURCE_KEY_SEP.join(p or "" for p in parts)

    @property
    def unmapped_columns(self) -> list[str]:
        """Header columns neither a field nor the source key reads, in file order. They stay
        in the raw row; the importer reports them so a forgotten mapping is noticed."""
        used = {c for cols in self.field_columns.values() for c in cols}
        used.update(self.source_key_columns)
        return [h for h in self.header if h not in used]

    @property
    def name_order(self) -> NameOrder:
        """How the source writes full names (for splitting them)."""
        return self.profile.name_order


@dataclass(frozen=True)
class FieldCells:
    """Where one field is in rows given as lists of cells in heading order (the bulk path).

    `values` gives, per row, a memo key for the field's text: the raw cell of a one-column
    field (its check strips it), or the joined text of a concatenated one; `field_value`
    turns such a key into the `FieldValue` that `BoundProfile.map_row` would have made.
    """

    field: str
    indexes: tuple[int, ...]
    columns: tuple[str, ...]
    sep: str
    format: DateFormat | None

    def values(self, rows: list[list[str | None]]) -> list[str | None]:
        if len(self.indexes) == 1:
            return list(map(itemgetter(self.indexes[0]), rows))
        indexes, sep = self.indexes, self.sep
        joined = [sep.join([p for p in (_stripped(r[i]) for i in indexes) if p]) for r in rows]
        return [v or None for v in joined]

    def field_value(self, value: str | None) -> FieldValue | None:
        if not value:
            return None
        if len(self.indexes) == 1:
            value = value.strip()
            if not value:
                return None
        return _field_value((value, self.columns, self.format))


class CellPlan:
    """A bound profile located by column index: `map_row` and `source_key` for whole chunks
    of rows given as lists of cells in heading order (cheaper than a dict per row)."""

    def __init__(self, bound: BoundProfile) -> None:
        index = {h: i for i, h in enumerate(bound.header)}
        self.fields = {
            f: FieldCells(f, tuple(index[c] for c in cols), cols, sep, fmt)
            for f, cols, sep, fmt in bound._plan
        }
        self.key_indexes = tuple(index[c] for c in bound.source_key_columns)

    def source_keys(self, rows: list[list[str | None]]) -> list[str | None]:
        """`BoundProfile.source_key` of each row."""
        if not self.key_indexes:
            return [None] * len(rows)
        if len(self.key_indexes) == 1:
            i = self.key_indexes[0]
            return [(c.strip() or None) if c else None for c in (r[i] for r in rows)]
        keys: list[str | None] = []
        for r in rows:
            parts = [_stripped(r[i]) for i in self.key_indexes]
            keys.append(
                None
                if all(p is None for p in parts)
                else SOURCE_KEY_SEP.join(p or "" for p in parts)
            )
        return keys


def parse_profile(data: object, *, name: str = "custom") -> MappingProfile:
    """A profile from decoded JSON, every mistake reported as a `MappingError`."""
    if not isinstance(data, dict):
        raise MappingError(f"A mapping profile must be a JSON object, not {_json_type(data)}.")
    unknown = [k for k in data if k not in TOP_LEVEL_KEYS]
    if unknown:
        raise MappingError(
            f"Unknown key {_show(unknown[0])} at the top of the mapping profile"
            f"{_suggest(unknown[0], TOP_LEVEL_KEYS)}; the allowed keys are "
            f"{quoted_names(TOP_LEVEL_KEYS)}."
        )
    if "fields" not in data:
        raise MappingError('The mapping profile has no "fields" object.')
    raw_fields = data["fields"]
    if not isinstance(raw_fields, dict):
        raise MappingError(
            f'"fields" in the mapping profile must be an object, not {_json_type(raw_fields)}.'
        )
    if not raw_fields:
        raise MappingError('"fields" in the mapping profile is empty; map at least a name.')
    fields: dict[str, FieldSpec] = {}
    for field, spec in raw_fields.items():
        _check_field_name(field)
        fields[field] = _parse_spec(field, spec)

    source_key = _parse_source_key(data.get("source_key"))
    if "household_id" in data:  # the household number's column, read by the registry
        _check_column_name(data["household_id"], '"household_id"')
    name_order = data.get("name_order", "family_first")
    if name_order not in NAME_ORDERS:
        raise MappingError(
            f'"name_order" must be one of {quoted_names(NAME_ORDERS)}, not {_show(name_order)}.'
        )
    return MappingProfile(fields=fields, source_key=source_key, name=name, name_order=name_order)


def load_profile(path: str | Path) -> MappingProfile:
    """Read a profile from a JSON file (UTF-8, a BOM tolerated); named after the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MappingError(f"The mapping profile {path} does not exist.") from None
    except UnicodeDecodeError:
        raise MappingError(f"The mapping profile {path} is not UTF-8 text.") from None
    except OSError as exc:
        raise MappingError(f"The mapping profile {path} cannot be read: {exc}.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MappingError(
            f"The mapping profile {path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}."
        ) from None
    return parse_profile(data, name=path.stem)


# --- helpers ---------------------------------------------------------------------------------


def identifier(header: str) -> str:
    """ "Full Name", "full-name" and "FULL_NAME" all -> "full_name"."""
    return re.sub(r"[\s'-]+", "_", fold(header) or "")


def _parse_spec(field: str, spec: object) -> FieldSpec:
    where = f'field "{field}"'
    if isinstance(spec, str):
        _check_column_name(spec, where)
        return FieldSpec((spec,))
    if not isinstance(spec, dict):
        raise MappingError(
            f'Field "{field}" of the mapping profile must be a column name, '
            '{"column": ..., "format": ...} or {"concat": [...], "sep": ...}, not '
            f"{_json_type(spec)}."
        )
    if "column" in spec and "concat" in spec:
        raise MappingError(
            f'Field "{field}" of the mapping profile has both "column" and "concat"; use one.'
        )
    if "column" not in spec and "concat" not in spec:
        raise MappingError(
            f'Field "{field}" of the mapping profile needs "column" or "concat" '
            f"(it has {quoted_names(list(spec)) or 'no keys'})."
        )
    allowed = _COLUMN_KEYS if "column" in spec else _CONCAT_KEYS
    unknown = [k for k in spec if k not in allowed]
    if unknown:
        raise MappingError(
            f'Unknown key {_show(unknown[0])} in field "{field}" of the mapping profile'
            f"{_suggest(unknown[0], allowed)}; its allowed keys are {quoted_names(allowed)}."
        )
    if "column" in spec:
        column = spec["column"]
        _check_column_name(column, where)
        fmt = spec.get("format")
        if isinstance(fmt, list) and fmt and all(isinstance(f, str) for f in fmt):
            fmt = tuple(fmt)
        elif fmt is not None and not isinstance(fmt, str):
            raise MappingError(
                f'"format" of field "{field}" must be a string such as "%d/%m/%Y", or a '
                f"non-empty list of them tried in order, not {_json_type(fmt)}."
            )
        if fmt is not None:
            _check_format(field, fmt)
        return FieldSpec((column,), format=fmt)
    columns = spec["concat"]
    if not isinstance(columns, list):
        raise MappingError(
            f'"concat" of field "{field}" must be a list of column names, not '
            f"{_json_type(columns)}."
        )
    if not columns:
        raise MappingError(f'"concat" of field "{field}" is empty; list the columns to join.')
    for column in columns:
        _check_column_name(column, where)
    sep = spec.get("sep", " ")
    if not isinstance(sep, str):
        raise MappingError(f'"sep" of field "{field}" must be a string, not {_json_type(sep)}.')
    return FieldSpec(tuple(columns), sep=sep)


def _parse_source_key(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        _check_column_name(value, '"source_key"')
        return (value,)
    if isinstance(value, list):
        if not value:
            raise MappingError('"source_key" is an empty list; name at least one column.')
        for column in value:
            _check_column_name(column, '"source_key"')
        return tuple(value)
    raise MappingError(
        f'"source_key" must be a column name or a list of column names, not {_json_type(value)}.'
    )


def _check_field_name(field: str) -> None:
    if field in CANONICAL_FIELDS:
        return
    raise MappingError(
        f"Unknown field {_show(field)} in the mapping profile{_suggest(field, CANONICAL_FIELDS)}; "
        f"the fields are {', '.join(CANONICAL_FIELDS)}."
    )


def _check_column_name(column: object, wanted_by: str) -> None:
    if not isinstance(column, str):
        raise MappingError(
            f"A column name of {wanted_by} in the mapping profile must be a string, not "
            f"{_json_type(column)}."
        )
    if not column.strip():
        raise MappingError(f"A column name of {wanted_by} in the mapping profile is empty.")


def _check_format(field: str, fmt: DateFormat) -> None:
    """A date field's format(s), each one `popdb.core.dates.parse_date` can use: the importer
    parses partial dates itself and needs to know where day, month and year are."""
    if field not in DATE_FIELDS:
        raise MappingError(
            f'Field "{field}" has a "format", but only date fields ({quoted_names(DATE_FIELDS)}) '
            "take one."
        )
    for one in (fmt,) if isinstance(fmt, str) else fmt:
        try:
            check_format(one)
        except FormatError as exc:
            raise MappingError(
                f'The date format "{one}" of field "{field}" {exc.reason}.'
            ) from None


def _stripped(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


def _suggest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean "dob"?)' or nothing."""
    choices = list(choices)
    key = identifier(word) if isinstance(word, str) else ""
    if _SYNONYMS.get(key) in choices:
        return f' (did you mean "{_SYNONYMS[key]}"?)'
    close = difflib.get_close_matches(key or str(word), choices, n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def quoted_names(names: Iterable[str], limit: int = 40) -> str:
    """'"a", "b", "c"' with the tail cut short on very wide files."""
    names = list(names)
    shown = ", ".join(f'"{n}"' for n in names[:limit])
    if len(names) > limit:
        shown += f" and {len(names) - limit} more"
    return shown


def _show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({_show(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
