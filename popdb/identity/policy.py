"""What a client may do: legal basis, operations, lookup fields, rates. JSON on `api_client`.

An agency's policy is least privilege by construction: with no `--fields` it may only
verify, a lookup returns only the fields named, and the sensitive fields (religion,
ethnicity; Decree 13/2023 art. 2) are never part of a group: each is granted by name. So is
`household`: it tells about other people too (the members' names and relations).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from popdb.core.errors import InvalidInput

#: Fields an agency lookup can return; sensitive ones are granted only by name.
LOOKUP_FIELDS = (
    "full_name", "family_name", "middle_name", "given_name", "dob", "sex", "status",
    "birth_registration_place", "hometown", "permanent_address", "current_address",
    "nationality", "marital_status", "blood_group", "father_name", "mother_name",
    "spouse_name", "ethnicity", "religion", "household",
)  # fmt: skip
SENSITIVE_FIELDS = frozenset({"ethnicity", "religion"})
#: Granted only by name, never by `basic`: the sensitive fields, and the household (address,
#: relation to the head, members' names and relations: `core.households.agency_view`).
BY_NAME_ONLY = SENSITIVE_FIELDS | {"household"}
#: `--fields basic` names every field but those granted by name only.
BASIC_FIELDS = tuple(f for f in LOOKUP_FIELDS if f not in BY_NAME_ONLY)

#: Decree 70/2024 art. 17: a state agencies, b investigating/prosecuting/judicial bodies,
#: c police, d the citizen (own data), đ anyone else with the citizen's consent.
LEGAL_BASES = ("a", "b", "c", "d", "đ")
CONSENT_BASIS = "đ"
OPERATIONS = ("verify", "verify_batch", "lookup", "predicates")
NAME_MATCHING = ("exact", "fold")


@dataclass(frozen=True)
class Policy:
    """A typed reading of the stored JSON; missing keys mean "not granted"."""

    legal_basis: str | None
    operations: frozenset[str]
    fields: tuple[str, ...]
    rate_per_second: int | None
    rate_per_day: int | None
    name_matching: str

    @classmethod
    def of(cls, stored: Mapping[str, Any] | None) -> Policy:
        stored = stored or {}
        return cls(
            legal_basis=stored.get("legal_basis"),
            operations=frozenset(stored.get("operations") or ()),
            fields=tuple(f for f in stored.get("fields") or () if f in LOOKUP_FIELDS),
            rate_per_second=stored.get("rate_per_second"),
            rate_per_day=stored.get("rate_per_day"),
            name_matching=stored.get("name_matching") or "exact",
        )

    @property
    def needs_consent(self) -> bool:
        return self.legal_basis == CONSENT_BASIS


def _positive(value: int | None, option: str) -> None:
    if value is not None and value <= 0:
        raise InvalidInput(f"{option} must be a positive number, got {value}")


def _split(text: str | Iterable[str] | None) -> list[str]:
    items = text.split(",") if isinstance(text, str) else list(text or ())
    return [i.strip() for i in items if i.strip()]


def build_policy(
    *,
    role: str,
    fields: str | None,
    rate: int | None,
    per_day: int | None = None,
    legal_basis: str | None = None,
    operations: str | None = None,
    name_matching: str | None = None,
) -> dict[str, Any]:
    """Agencies get verify only unless `fields` grants lookups; other roles need no policy.

    `operations` overrides the default set (verify, verify_batch, plus lookup when fields
    are granted); a lookup without fields, or fields without lookup, is refused as a mistake.
    """
    policy: dict[str, Any] = {}
    _positive(rate, "--rate (requests per second)")
    _positive(per_day, "--per-day (requests per day)")
    if rate is not None:
        policy["rate_per_second"] = rate
    if per_day is not None:
        policy["rate_per_day"] = per_day
    if role != "agency":
        extra = {"--fields": fields, "--legal-basis": legal_basis, "--operations": operations}
        given = [k for k, v in extra.items() if v]
        if name_matching:
            given.append("--names")
        if given:
            raise InvalidInput(f"{', '.join(given)} is for agency clients")
        return policy
    granted = _split(fields)
    if "basic" in granted:
        granted = [f for f in granted if f != "basic"]
        granted = list(BASIC_FIELDS) + [f for f in granted if f not in BASIC_FIELDS]
    unknown = sorted(set(granted) - set(LOOKUP_FIELDS))
    if unknown:
        raise InvalidInput(
            f"unknown field(s) {', '.join(unknown)}; grantable: basic, {', '.join(LOOKUP_FIELDS)}"
        )
    granted = list(dict.fromkeys(granted))
    basis = legal_basis or "a"
    if basis not in LEGAL_BASES:
        raise InvalidInput(f"--legal-basis must be one of {', '.join(LEGAL_BASES)}, got {basis!r}")
    if operations is None:
        ops = ["verify", "verify_batch"] + (["lookup"] if granted else [])
    else:
        ops = list(dict.fromkeys(_split(operations)))
        bad = sorted(set(ops) - set(OPERATIONS))
        if bad:
            raise InvalidInput(
                f"unknown operation(s) {', '.join(bad)}; known: {', '.join(OPERATIONS)}"
            )
        if "lookup" in ops and not granted:
            raise InvalidInput("the lookup operation needs --fields naming what it may return")
        if granted and "lookup" not in ops:
            raise InvalidInput("--fields only matter with the lookup operation")
    if name_matching is not None and name_matching not in NAME_MATCHING:
        raise InvalidInput(f"--names must be one of {', '.join(NAME_MATCHING)}")
    policy.update(legal_basis=basis, operations=ops, fields=granted)
    if name_matching == "fold":
        policy["name_matching"] = "fold"
    return policy
