"""Which profile a file is read with: the clerk's own, else the DC01 form's headers, else
columns already named after the canonical fields.

Above both `mapping` (profiles) and `dc01` (the form), so neither needs the other.
"""

from __future__ import annotations

from importers.dc01 import dc01_profile
from importers.mapping import (
    NAME_FIELDS,
    SOURCE_KEY_COLUMNS,
    BoundProfile,
    FieldSpec,
    MappingError,
    MappingProfile,
    identifier,
    quoted_names,
)
from popdb.core.models.citizen import CANONICAL_FIELDS

__all__ = ["resolve_profile"]


def resolve_profile(header: list[str], profile: MappingProfile | None) -> BoundProfile:
    """Bind `profile` to the file, or, without one, recognise the DC01 form's Vietnamese
    headers or columns named after the canonical fields. The result always maps a name."""
    if profile is None:
        profile = dc01_profile(header) or _canonical_profile(header)
    if not any(f in profile.fields for f in NAME_FIELDS):
        raise MappingError(
            f'The mapping profile "{profile.name}" maps no name column: map full_name, or '
            "family_name and given_name, so that each row names someone."
        )
    return profile.bind(header)


def _canonical_profile(header: list[str]) -> MappingProfile:
    """Columns named after canonical fields ("full_name", "Full Name", "DOB"), mapped 1:1;
    the first of two columns naming the same field wins."""
    fields: dict[str, FieldSpec] = {}
    source_key: tuple[str, ...] | None = None
    for h in header:
        key = identifier(h)
        if key in CANONICAL_FIELDS and key not in fields:
            fields[key] = FieldSpec((h,))
        elif key in SOURCE_KEY_COLUMNS and source_key is None:
            source_key = (h,)
    if not fields:
        raise MappingError(
            f"The columns of this file were not recognised (it starts with "
            f"{quoted_names(header, limit=8)}): they are neither the DC01 form's headers nor "
            "canonical field names, so pass a mapping profile (--mapping PROFILE.json) saying "
            "which column holds which field."
        )
    if not any(f in fields for f in NAME_FIELDS):
        raise MappingError(
            f"The file has no name column: of its columns only {quoted_names(list(fields))} were "
            "recognised, so add a full_name column or pass a mapping profile (--mapping)."
        )
    return MappingProfile(fields=fields, source_key=source_key, name="canonical")
