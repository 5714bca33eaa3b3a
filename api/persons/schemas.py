"""Schemas of the admin person routes (never query the database)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.pagination import page_args
from api.reviews.schemas import GoldenSchema, SourceRecordSchema


class PinHistorySchema(Schema):
    personal_id_number = fields.String()
    reason = fields.String(allow_none=True)
    assigned_at = fields.DateTime()
    retired_at = fields.DateTime(allow_none=True)


class LifeEventSummarySchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    occurred_on = fields.Date(allow_none=True)
    record_reference = fields.String(allow_none=True)
    authority = fields.String(allow_none=True)
    created_at = fields.DateTime()


class HouseholdMemberSchema(Schema):
    person_id = fields.Integer()
    full_name = fields.String(allow_none=True)
    relation = fields.String(allow_none=True, metadata={"description": "slug, e.g. head, wife"})
    relation_label = fields.String(allow_none=True, metadata={"description": "e.g. Chủ hộ, Vợ"})
    valid_from = fields.String()


class HouseholdHeadSchema(Schema):
    person_id = fields.Integer()
    full_name = fields.String(allow_none=True)


class CurrentHouseholdSchema(Schema):
    household_id = fields.Integer()
    membership_id = fields.Integer()
    household_number = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    commune_code = fields.String(allow_none=True)
    relation = fields.String(allow_none=True)
    relation_label = fields.String(allow_none=True)
    valid_from = fields.String()
    head = fields.Nested(HouseholdHeadSchema, allow_none=True)
    members = fields.List(fields.Nested(HouseholdMemberSchema))


class PastMembershipSchema(Schema):
    membership_id = fields.Integer()
    household_id = fields.Integer()
    household_number = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    commune_code = fields.String(allow_none=True)
    relation = fields.String(allow_none=True)
    relation_label = fields.String(allow_none=True)
    valid_from = fields.String()
    valid_to = fields.String()
    end_reason = fields.String(allow_none=True)


class HouseholdSchema(Schema):
    current = fields.Nested(CurrentHouseholdSchema, allow_none=True,
                            metadata={"description": "the household now (or at ?as_of)"})
    past = fields.List(fields.Nested(PastMembershipSchema),
                       metadata={"description": "ended memberships, newest first"})


class EndHouseholdSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    valid_to = fields.Date(metadata={"description": "the day it ends (default today)"})


class EndHouseholdResultSchema(Schema):
    person_id = fields.Integer(required=True)
    membership_id = fields.Integer(required=True)
    household_id = fields.Integer(required=True)
    valid_to = fields.String(required=True)


class PersonSchema(GoldenSchema):
    as_of = fields.String(metadata={"description": "only with ?as_of: the day read"})
    life_event = fields.Nested(LifeEventSummarySchema, allow_none=True,
                               metadata={"description": "latest life event (with ?as_of)"})
    source_records = fields.List(fields.Nested(SourceRecordSchema))
    personal_id_numbers = fields.List(fields.Nested(PinHistorySchema))
    merged_person_ids = fields.List(
        fields.Integer(), metadata={"description": "retired persons that point here"}
    )
    household = fields.Nested(HouseholdSchema)


class HistoryArgsSchema(page_args(default=100, maximum=1000)):
    pass


class EventSchema(Schema):
    id = fields.Integer()
    kind = fields.String(
        metadata={
            "enum": [
                "created",
                "linked",
                "merged",
                "unmerged",
                "field_changed",
                "status_changed",
                "pin_assigned",
                "correction",
                "household",
            ]
        }
    )
    actor = fields.String()
    reason = fields.String(allow_none=True)
    data = fields.Dict()
    created_at = fields.DateTime()


class HistorySchema(Schema):
    items = fields.List(fields.Nested(EventSchema), required=True)
    next = fields.Integer(allow_none=True, required=True)


class UnmergeSchema(Schema):
    source_record_ids = fields.List(
        fields.Integer(), required=True, validate=validate.Length(min=1, max=10_000)
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class UnmergeResultSchema(Schema):
    from_person_id = fields.Integer(required=True)
    person_id = fields.Integer(required=True, metadata={"description": "where the records went"})
    revived = fields.Boolean(
        required=True, metadata={"description": "the former person came back, number and all"}
    )
    moved_record_ids = fields.List(fields.Integer(), required=True)
    personal_id_number = fields.String(allow_none=True)


class SearchArgsSchema(Schema):
    personal_id_number = fields.String(
        validate=validate.Length(min=1, max=32),
        metadata={"description": "a number the person holds or held (spaces allowed)"},
    )
    old_id_number = fields.String(
        validate=validate.Length(min=1, max=32),
        metadata={"description": "an old number (9-digit CMND, passport), as typed"},
    )
    name = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "full name; with birth_year. Case, tone placement and "
                  "missing accents do not matter; exact spellings come first"},
    )  # fmt: skip
    birth_year = fields.Integer(validate=validate.Range(min=1850, max=2400))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class SearchHitSchema(Schema):
    id = fields.Integer(required=True)
    personal_id_number = fields.String(allow_none=True)
    pin_state = fields.String()
    status = fields.String(metadata={"enum": ["active", "deceased", "missing", "retired"]})
    merged_into_id = fields.Integer(allow_none=True)
    full_name = fields.String(allow_none=True)
    dob = fields.String(allow_none=True)
    sex = fields.Integer(allow_none=True)
    permanent_commune_code = fields.String(allow_none=True)


class SearchSchema(Schema):
    kind = fields.String(
        required=True, metadata={"enum": ["personal_id_number", "old_id_number", "name"]}
    )
    items = fields.List(fields.Nested(SearchHitSchema), required=True)


class AsOfArgsSchema(Schema):
    as_of = fields.Date(metadata={"description": "read the person as it stood at the end of "
                                                 "this day (YYYY-MM-DD), rebuilt from events"})


class LifeEventSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["death", "missing", "restored"]))
    occurred_on = fields.Date(metadata={"description": "date of death or of disappearance; "
                                                       "required for a death"})
    record_reference = fields.String(validate=validate.Length(min=1, max=200), metadata={
        "description": "the civil-status record (death registration); required for a death"})
    authority = fields.String(validate=validate.Length(max=200))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class LifeEventResultSchema(Schema):
    id = fields.Integer(required=True)
    person_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    status_before = fields.String(required=True)
    status_after = fields.String(required=True)


class CorrectionSchema(Schema):
    field = fields.String(required=True, metadata={"description": "full_name, dob, "
                          "personal_id_number (four eyes) or another golden field"})
    value = fields.Raw(required=True, allow_none=True)
    evidence = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class CorrectionDecisionSchema(Schema):
    decision = fields.String(required=True,
                             validate=validate.OneOf(["approve", "reject", "revert"]))
    version = fields.Integer()
    reason = fields.String(validate=validate.Length(max=2000))


class CorrectionResultSchema(Schema):
    id = fields.Integer(required=True)
    person_id = fields.Integer(required=True)
    field = fields.String(required=True)
    status = fields.String(required=True)
    four_eyes = fields.Boolean(required=True)
    version = fields.Integer(required=True)
