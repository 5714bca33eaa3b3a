"""Schemas of the identity routes (never query the database)."""

from __future__ import annotations

import unicodedata
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from popdb.core.codes import sex_claim
from popdb.core.dates import PartialDate
from popdb.identity.policy import LOOKUP_FIELDS

MAX_BATCH = 1000


def _printable(value: str) -> None:
    """Control characters (NUL above all, which PostgreSQL text refuses) are never text."""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValidationError("Control characters are not allowed.")


class Sex(fields.Field):
    """Sex as a code (0, 1, 2) or a word (`Nam`, `Nữ`, `nam`, `nu`, `male`, `female`), read by
    `popdb.core.codes.sex_claim`; always loaded as the code."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        try:
            return sex_claim(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def _pin() -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{12}$", error="A personal ID number has 12 digits."),
        metadata={"description": "12-digit personal identification number"},
    )


def _name(description: str) -> fields.String:
    return fields.String(
        validate=[validate.Length(min=1, max=200), _printable],
        metadata={"description": description},
    )


def _purpose() -> fields.String:
    return fields.String(
        required=True,
        validate=[validate.Length(min=3, max=500), _printable],
        metadata={"description": "why the data is needed; recorded in the audit chain"},
    )


def _consent() -> fields.String:
    return fields.String(
        validate=[validate.Length(min=1, max=200), _printable],
        metadata={"description": "the citizen's consent reference; required under legal basis đ"},
    )


class ClaimsSchema(Schema):
    """What an agency believes about a citizen; compared with the registry, never revealed."""

    personal_id_number = _pin()
    full_name = _name("compared after normalization (NFC, case, tone placement)")
    family_name = _name("family name")
    middle_name = _name("middle name")
    given_name = _name("given name")
    father_name = _name("father's full name")
    mother_name = _name("mother's full name")
    spouse_name = _name("spouse's full name")
    dob = fields.String(metadata={"description": "date of birth: yyyy, yyyy-mm or yyyy-mm-dd"})
    sex = Sex(
        metadata={
            "description": "0 unknown, 1 Nam (male), 2 Nữ (female); or the word: Nam, Nữ "
            "(any case, `nu` without accents), male, female",
            "oneOf": [
                {"type": "integer", "enum": [0, 1, 2]},
                {"type": "string", "example": "Nữ"},
            ],
        }
    )
    nationality = fields.String(
        validate=validate.Regexp(r"^[A-Z]{2}$", error="ISO 3166 alpha-2, e.g. VN."),
    )

    @validates("dob")
    def _dob(self, value: str, **_: Any) -> None:
        try:
            PartialDate.from_iso(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class VerifySchema(ClaimsSchema):
    purpose = _purpose()
    consent_ref = _consent()


class VerifyBatchSchema(Schema):
    purpose = _purpose()
    consent_ref = _consent()
    items = fields.List(
        fields.Nested(ClaimsSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_BATCH),
        metadata={"description": f"1 to {MAX_BATCH} items, answered in the same order"},
    )


class MatchSchema(Schema):
    match = fields.Boolean(required=True)
    status = fields.String(metadata={
        "description": "active, deceased or missing: only on a match, where the policy grants "
                       "`status`"})
    request_id = fields.String(required=True)


class BatchItemSchema(Schema):
    match = fields.Boolean(required=True)


class BatchResultSchema(Schema):
    items = fields.List(fields.Nested(BatchItemSchema), required=True)
    request_id = fields.String(required=True)


class LookupArgsSchema(Schema):
    purpose = _purpose()
    consent_ref = _consent()
    as_of = fields.Date(metadata={"description": "answer as the registry stood at the end of "
                                                 "this day (YYYY-MM-DD)"})


class LookupBodySchema(LookupArgsSchema):
    """POST /lookup: the number in the body, out of URLs that proxies and servers log."""

    personal_id_number = fields.String(
        required=True, metadata={"description": "the 12-digit personal ID number"}
    )


class AgencyHouseholdMemberSchema(Schema):
    full_name = fields.String(allow_none=True)
    relation = fields.String(allow_none=True, metadata={
        "description": "relation to the household head (popdb's slug, e.g. head, wife, child)"})
    relation_label = fields.String(allow_none=True, metadata={
        "description": "the relation as the household book writes it, e.g. Chủ hộ, Vợ, Con"})


class AgencyHouseholdSchema(AgencyHouseholdMemberSchema):
    """Minimal disclosure: the household's address, the person's relation, the members'
    names and relations; no number, no member's ID number or date of birth."""

    address = fields.String(allow_none=True)
    commune_code = fields.String(allow_none=True)
    members = fields.List(fields.Nested(AgencyHouseholdMemberSchema))


def _lookup_field(name: str) -> fields.Field:
    if name in ("sex", "marital_status"):
        return fields.Integer(allow_none=True)
    if name == "household":
        return fields.Nested(AgencyHouseholdSchema, allow_none=True, metadata={
            "description": "only where the policy grants `household`; null when none is known"})
    return fields.String(allow_none=True)


#: A flat person: the number, the request id, and of the rest only what the policy grants.
LookupSchema = Schema.from_dict(
    {
        "personal_id_number": fields.String(required=True),
        "request_id": fields.String(required=True),
        "as_of": fields.String(),
        **{name: _lookup_field(name) for name in LOOKUP_FIELDS},
    },
    name="Lookup",
)


class PredicatesSchema(Schema):
    alive = fields.Boolean(
        validate=validate.Equal(True, error="send `alive: true` to ask"),
        metadata={"description": "is the person recorded as active (not deceased or missing)"},
    )
    age_at_least = fields.Integer(
        validate=validate.Range(min=0, max=150),
        metadata={"description": "is the person at least this many years old today, for sure"},
    )
    resides_in = fields.String(
        validate=validate.Regexp(r"^[0-9]{2}$", error="A province code has 2 digits."),
        metadata={"description": "does the person live in this province (2-digit code)"},
    )


class CheckSchema(Schema):
    personal_id_number = _pin()
    purpose = _purpose()
    consent_ref = _consent()
    predicates = fields.Nested(PredicatesSchema, required=True)

    @validates_schema
    def _some(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("predicates"):
            raise ValidationError("ask at least one predicate", "predicates")


class AnswersSchema(Schema):
    alive = fields.Boolean()
    age_at_least = fields.Boolean()
    resides_in = fields.Boolean()


class CheckResultSchema(Schema):
    answers = fields.Nested(AnswersSchema, required=True)
    request_id = fields.String(required=True)
