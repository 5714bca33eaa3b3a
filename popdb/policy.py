"""What a client may do: operations, lookup fields, rate. Stored as JSON on `api_client`."""

from __future__ import annotations

from typing import Any

from popdb.errors import InvalidInput

#: Fields an agency lookup can return; sensitive ones are granted only by name.
LOOKUP_FIELDS = (
    "full_name", "family_name", "middle_name", "given_name", "dob", "sex", "status",
    "birth_registration_place", "hometown", "permanent_address", "current_address",
    "nationality", "marital_status", "blood_group", "father_name", "mother_name",
    "spouse_name", "ethnicity", "religion",
)  # fmt: skip
SENSITIVE_FIELDS = frozenset({"ethnicity", "religion"})


def build_policy(*, role: str, fields: str | None, rate: int | None) -> dict[str, Any]:
    """Agencies get verify only unless `fields` grants lookups; other roles need no policy."""
    policy: dict[str, Any] = {}
    if rate is not None:
        if rate <= 0:
            raise InvalidInput("--rate must be a positive number of requests per second")
        policy["rate_per_second"] = rate
    if role != "agency":
        if fields:
            raise InvalidInput("--fields is for agency clients")
        return policy
    granted = [f.strip() for f in (fields or "").split(",") if f.strip()]
    unknown = sorted(set(granted) - set(LOOKUP_FIELDS))
    if unknown:
        raise InvalidInput(
            f"unknown field(s) {', '.join(unknown)}; grantable: {', '.join(LOOKUP_FIELDS)}"
        )
    policy["operations"] = ["verify", "verify_batch"] + (["lookup"] if granted else [])
    policy["fields"] = granted
    return policy
