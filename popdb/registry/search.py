"""Administrators' person search: by personal ID number, by old ID number, or by name and
birth year.

The answer carries personal data (names, dates of birth, numbers), so every search that finds
someone is written to the audit chain, naming the persons shown, like `reads.read_person`.
The query itself is not kept verbatim in the audit detail: only which kind of search it was,
since the number or name typed is personal data of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import audit
from popdb.core.errors import InvalidInput
from popdb.core.pin import PinError, normalize_pin
from popdb.core.text import canonical, clean, fold
from popdb.registry.reviews import iso_dob

MAX_LIMIT = 200
#: The fields a search answer shows of each person (the audit says so).
SHOWN = ("personal_id_number", "full_name", "dob", "sex", "permanent_commune_code")


@dataclass(frozen=True)
class PersonQuery:
    """One kind of search: a number, an old number, or a name with a birth year."""

    personal_id_number: str | None = None
    old_id_number: str | None = None
    name: str | None = None
    birth_year: int | None = None

    def kind(self) -> str:
        """Which search this is; InvalidInput unless exactly one kind is asked."""
        kinds = [
            k for k, given in (
                ("personal_id_number", self.personal_id_number),
                ("old_id_number", self.old_id_number),
                ("name", self.name or self.birth_year is not None),
            ) if given
        ]  # fmt: skip
        if len(kinds) != 1:
            raise InvalidInput(
                "Search by one of: personal_id_number, old_id_number, or name with birth_year.",
                errors={"query": ["exactly one kind of search"]},
            )
        if kinds[0] == "name" and (not clean(self.name) or self.birth_year is None):
            raise InvalidInput(
                "A search by name needs the birth year too (and a name).",
                errors={"name": ["with birth_year"], "birth_year": ["with name"]},
            )
        return kinds[0]


def name_keys(name: str) -> tuple[str | None, str | None]:
    """The (name_key, name_fold) an imported record of this name would carry, word by word
    as importers/validate.py computes them, so a search meets the indexed columns."""
    words = (clean(name) or "").split()
    key = " ".join(canonical(w) or "" for w in words) or None
    folded = " ".join(f for f in (fold(w) for w in (key or "").split()) if f) or None
    return key, folded


def old_number_key(raw: str) -> str:
    """An old number (CMND, passport) as compared: its letters and digits, upper case."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def _matching_ids(session: Session, query: PersonQuery, kind: str, limit: int) -> list[int]:
    if kind == "personal_id_number":
        try:
            number = normalize_pin(query.personal_id_number or "")
        except PinError as exc:
            raise InvalidInput(str(exc), errors={"personal_id_number": ["digits"]}) from None
        sql = """
            SELECT id FROM person WHERE personal_id_number = :n
            UNION SELECT person_id FROM person_pin WHERE personal_id_number = :n
            UNION SELECT person_id FROM source_record
                  WHERE personal_id_number = :n AND person_id IS NOT NULL
            ORDER BY 1 LIMIT :limit"""
        params: dict[str, Any] = {"n": number}
    elif kind == "old_id_number":
        key = old_number_key(query.old_id_number or "")
        if not key:
            raise InvalidInput("An old ID number has letters or digits.",
                               errors={"old_id_number": ["empty"]})  # fmt: skip
        # Old numbers are kept as typed ("023 456 789"): compared on letters and digits.
        sql = """
            SELECT id FROM person
                  WHERE upper(regexp_replace(other_id_number, '[^[:alnum:]]', '', 'g')) = :k
            UNION SELECT person_id FROM source_record
                  WHERE upper(regexp_replace(other_id_number, '[^[:alnum:]]', '', 'g')) = :k
                    AND person_id IS NOT NULL
            ORDER BY 1 LIMIT :limit"""
        params = {"k": key}
    else:
        key, folded = name_keys(query.name or "")
        # The blocking index (name_fold, dob_year) finds the candidates; names equal after
        # normalisation (case, tone placement) come first, then those equal without accents.
        sql = """
            SELECT person_id FROM source_record
            WHERE name_fold = :f AND dob_year = :y AND person_id IS NOT NULL
            GROUP BY person_id
            ORDER BY bool_or(name_key = :k) DESC, person_id LIMIT :limit"""
        params = {"k": key, "f": folded, "y": query.birth_year}
    return list(session.scalars(sa.text(sql), {**params, "limit": limit}))


def search_persons(
    session: Session,
    query: PersonQuery,
    *,
    actor: audit.Actor,
    limit: int = 50,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Persons matching the query, each with its number, status, name, date of birth and
    commune: `{"kind", "items"}`, as many as `limit`. One audit event per person shown (the
    answer is personal data); an empty answer shows nothing and records nothing."""
    kind = query.kind()
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be 1 to {MAX_LIMIT}", errors={"limit": ["range"]})
    ids = _matching_ids(session, query, kind, limit)
    rows = {
        r.id: r
        for r in session.execute(
            sa.text("""
                SELECT id, personal_id_number, pin_state, status, merged_into_id, full_name,
                       dob_year, dob_month, dob_day, sex, permanent_commune_code
                FROM person WHERE id = ANY(:ids)"""),
            {"ids": ids},
        )
    }
    items = [
        {
            "id": r.id,
            "personal_id_number": r.personal_id_number,
            "pin_state": r.pin_state,
            "status": r.status,
            "merged_into_id": r.merged_into_id,
            "full_name": r.full_name,
            "dob": iso_dob(r.dob_year, r.dob_month, r.dob_day),
            "sex": r.sex,
            "permanent_commune_code": r.permanent_commune_code,
        }
        for r in (rows[i] for i in ids if i in rows)
    ]
    # One event per person shown, so each one's access log lists the search.
    audit.record_many(session, actor=actor, entries=[
        audit.Entry("person.search", subject_type="person", subject_id=item["id"],
                    fields=SHOWN, request_id=request_id,
                    detail={"kind": kind, "results": len(items)})
        for item in items
    ])  # fmt: skip
    return {"kind": kind, "items": items}
