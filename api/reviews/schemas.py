"""Schemas of the review routes (never query the database)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.pagination import page_args
from popdb.registry.reviews import AWAITING_APPROVAL, DECISIONS, OPEN_FILTER, STATUSES


class ReviewExportArgsSchema(Schema):
    """The queue's filters (the export takes these; the list adds its page)."""

    status = fields.String(
        validate=validate.OneOf([*STATUSES, AWAITING_APPROVAL, OPEN_FILTER]),
        metadata={"description": "only items in this status (`open`: pending, claimed or "
                  "skipped; `awaiting_approval`: open items a first admin asked to merge, "
                  "waiting for a second)"},
    )  # fmt: skip
    commune = fields.String(
        validate=validate.Regexp(r"^[0-9]{5}$", error="A commune code has 5 digits."),
        metadata={"description": "items with a record uploaded for this commune"},
    )
    min_probability = fields.Float(
        validate=validate.Range(min=0, max=1), metadata={"description": "score band: from"}
    )
    max_probability = fields.Float(
        validate=validate.Range(min=0, max=1),
        metadata={"description": "score band: below (exclusive; 1 includes 1)"},
    )


class ReviewListArgsSchema(
    ReviewExportArgsSchema, page_args(default=50, maximum=500, cursor=fields.String)
):
    """The queue's filters and a page of it."""


class ReviewSummarySchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    awaiting_approval = fields.Boolean(required=True)
    probability = fields.Float(required=True)
    match_weight = fields.Float(required=True)
    decision = fields.String(required=True, metadata={"description": "the engine's decision"})
    review_reason = fields.String(
        allow_none=True,
        metadata={
            "description": "why the pair waits for review: held by a rule (given_name_differs, "
            "given_name_similar, family_name_differs, middle_name_differs, dob_differs, "
            "sex_differs, pin_differs, other_id_differs), uncertain (between the thresholds), "
            "or a link refused (two_persons, different_pin, different_sex, "
            "different_birth_year, distinct_inside); dedup.clustering.REASONS words each"
        },
    )
    blocking_rule = fields.String(allow_none=True)
    model_version = fields.Integer(required=True)
    left_record_id = fields.Integer(required=True)
    right_record_id = fields.Integer(required=True)
    left_person_id = fields.Integer(allow_none=True)
    right_person_id = fields.Integer(allow_none=True)
    communes = fields.List(fields.String())
    claimed_by = fields.Integer(allow_none=True)
    claimed_until = fields.DateTime(allow_none=True)
    decided_by = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    merge_requested_by = fields.Integer(allow_none=True)
    version = fields.Integer(
        required=True, metadata={"description": "send it back with the decision"}
    )


class ReviewListSchema(Schema):
    items = fields.List(fields.Nested(ReviewSummarySchema), required=True)
    next = fields.String(allow_none=True, required=True)


class BatchRefSchema(Schema):
    id = fields.Integer()
    commune_code = fields.String()
    file_name = fields.String()
    collected_on = fields.String()
    row_number = fields.Integer()


class SourceRecordSchema(Schema):
    id = fields.Integer()
    person_id = fields.Integer(allow_none=True)
    source_key = fields.String(allow_none=True)
    status = fields.String()
    batch = fields.Nested(BatchRefSchema)
    warnings = fields.List(fields.Raw())
    fields_ = fields.Dict(
        data_key="fields",
        attribute="fields",
        metadata={"description": "parsed fields; dob as 1950, 1950-05 or 1950-05-12"},
    )


class GoldenSchema(Schema):
    id = fields.Integer()
    personal_id_number = fields.String(allow_none=True)
    pin_state = fields.String()
    status = fields.String(metadata={"enum": ["active", "deceased", "missing", "retired"]})
    merged_into_id = fields.Integer(allow_none=True)
    version = fields.Integer()
    fields_ = fields.Dict(data_key="fields", attribute="fields")


class ComparisonSchema(Schema):
    comparison = fields.String()
    left = fields.Raw(allow_none=True, metadata={"description": "the match key compared"})
    right = fields.Raw(allow_none=True)
    level = fields.String(allow_none=True, metadata={"description": "null: missing, weight 0"})
    m = fields.Float(allow_none=True)
    u = fields.Float(allow_none=True)
    bayes_factor_weight = fields.Float()
    term_frequency_weight = fields.Float()
    weight = fields.Float(metadata={"description": "log2 contribution to the match weight"})


class ReviewDetailSchema(ReviewSummarySchema):
    prior_weight = fields.Float()
    explained_weight = fields.Float(metadata={"description": "prior + Σ weights, now"})
    explained_probability = fields.Float()
    comparisons = fields.List(fields.Nested(ComparisonSchema))
    left = fields.Nested(SourceRecordSchema)
    right = fields.Nested(SourceRecordSchema)
    left_person = fields.Nested(GoldenSchema, allow_none=True)
    right_person = fields.Nested(GoldenSchema, allow_none=True)
    differences = fields.List(fields.String())
    four_eyes = fields.Boolean(
        metadata={"description": "a merge needs a second admin: both persons hold valid, "
                  "different personal ID numbers"}
    )  # fmt: skip


class DecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    version = fields.Integer(required=True, metadata={"description": "the item's version"})
    reason = fields.String(validate=validate.Length(max=2000))


class DecisionResultSchema(Schema):
    item_id = fields.Integer(required=True)
    status = fields.String(required=True)
    decision = fields.String(required=True)
    person_id = fields.Integer(
        allow_none=True, metadata={"description": "the surviving person of a merge"}
    )
    retired_person_id = fields.Integer(allow_none=True)
    awaiting_approval = fields.Boolean(
        required=True, metadata={"description": "four eyes: a second admin must merge too"}
    )
    version = fields.Integer(required=True)
