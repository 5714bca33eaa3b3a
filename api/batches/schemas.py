"""Schemas of the match-preview routes (never query the database)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

CLASSES = ("link", "new", "review")


class PreviewArgsSchema(Schema):
    examples = fields.Integer(
        load_default=5,
        validate=validate.Range(min=0, max=50),
        metadata={"description": "records shown per class (0: counts only); a police "
                  "client always gets counts only"},
    )  # fmt: skip


class ExampleSchema(Schema):
    record_id = fields.Integer(required=True)
    row_number = fields.Integer(required=True)
    source_key = fields.String(allow_none=True)
    full_name = fields.String(allow_none=True)
    dob = fields.String(allow_none=True, metadata={"description": "ISO, partial when unknown"})
    person_id = fields.Integer(
        allow_none=True,
        metadata={"description": "the existing person the record joins (null: a new one)"},
    )
    candidate_record_id = fields.Integer(
        allow_none=True, metadata={"description": "the other record of its best pair"}
    )
    candidate_person_id = fields.Integer(
        allow_none=True, metadata={"description": "that record's existing person, if any"}
    )
    probability = fields.Float(allow_none=True)
    match_weight = fields.Float(allow_none=True)
    decision = fields.String(allow_none=True, metadata={"enum": ["auto_link", "review",
                                                                 "distinct", None]})  # fmt: skip
    review_status = fields.String(allow_none=True)
    reasons = fields.List(fields.String(), required=True,
                          metadata={"description": "why a link was refused, then each "
                                    "comparison's level"})  # fmt: skip


class CountsSchema(Schema):
    link = fields.Integer(required=True, metadata={"description": "records joining a person "
                                                   "who exists already"})  # fmt: skip
    new = fields.Integer(required=True, metadata={"description": "records founding a person"})
    review = fields.Integer(required=True, metadata={"description": "records with a pair "
                                                     "waiting in the review queue"})  # fmt: skip


class ExamplesSchema(Schema):
    link = fields.List(fields.Nested(ExampleSchema), required=True)
    new = fields.List(fields.Nested(ExampleSchema), required=True)
    review = fields.List(fields.Nested(ExampleSchema), required=True)


class OutcomeSchema(Schema):
    batch_id = fields.Integer(required=True)
    records = fields.Integer(required=True, metadata={"description": "accepted records"})
    counts = fields.Nested(CountsSchema, required=True)
    new_persons = fields.Integer(required=True)
    review_items = fields.Integer(required=True)
    examples = fields.Nested(ExamplesSchema, metadata={"description": "administrators only"})
    match = fields.Dict(metadata={"description": "the matching run's own figures"})


class ReleaseSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class HeldBatchSchema(Schema):
    batch_id = fields.Integer(required=True)
    commune_code = fields.String(required=True)
    file_name = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["received", "validating",
                                                             "loaded"]})  # fmt: skip
    collected_on = fields.String(required=True)
    rows = fields.Integer(required=True)
    accepted = fields.Integer(required=True)
    created_at = fields.String(required=True)


class HeldListSchema(Schema):
    items = fields.List(fields.Nested(HeldBatchSchema), required=True)
    next = fields.Integer(allow_none=True, required=True)


class CommuneSettingSchema(Schema):
    commune_code = fields.String(required=True)
    match_preview = fields.Boolean(required=True)
    set_by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    set_at = fields.String(allow_none=True)


class CommuneSettingListSchema(Schema):
    items = fields.List(fields.Nested(CommuneSettingSchema), required=True)
    next = fields.Integer(allow_none=True, required=True)


class CommuneSettingChangeSchema(Schema):
    match_preview = fields.Boolean(
        required=True,
        metadata={"description": "hold this commune's future uploads for a match preview"},
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
