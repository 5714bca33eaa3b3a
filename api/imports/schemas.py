"""Schemas of the import routes (never query the database)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.pagination import page_args


class UploadFormSchema(Schema):
    commune_code = fields.String(
        validate=validate.Regexp(r"^[0-9]{5}$", error="A commune code has 5 digits."),
        metadata={"description": "5-digit commune code; a police client's own by default"},
    )
    mapping = fields.String(
        metadata={"description": "mapping profile as JSON text, for files not in DC01 layout"}
    )
    collected_on = fields.Date(
        metadata={"description": "collection date (picks the commune list); default today"}
    )
    encoding = fields.String(metadata={"description": "CSV text encoding; detected if absent"})
    delimiter = fields.String(
        validate=validate.Length(equal=1), metadata={"description": "CSV delimiter"}
    )
    sheet = fields.String(metadata={"description": "worksheet of an .xlsx file"})
    preview = fields.Boolean(
        load_default=False,
        metadata={"description": "hold the batch at `loaded` for a match preview: its records "
                  "are matched into persons only when an administrator releases it"},
    )  # fmt: skip


class UploadSchema(UploadFormSchema):
    """The whole multipart/form-data body: the file and the form fields, one schema, so the
    OpenAPI document has them all in one requestBody (Swagger UI sends every field)."""

    file = fields.Raw(
        required=True,
        metadata={"type": "string", "format": "binary", "description": "CSV or XLSX file"},
    )


class ImportSummarySchema(Schema):
    batch_id = fields.Integer(required=True)
    status = fields.String(
        required=True,
        metadata={"enum": ["received", "validating", "loaded", "matched", "failed"]},
    )
    commune_code = fields.String(required=True)
    file_name = fields.String(required=True)
    collected_on = fields.String(required=True)
    rows = fields.Integer(required=True)
    accepted = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    warnings = fields.Integer(required=True)
    duplicate_batch = fields.Boolean(required=True)
    held_for_preview = fields.Boolean(
        metadata={"description": "the batch waits at `loaded` for a match preview; "
                  "`POST /api/v1/batches/{id}/release` lets matching take it"},
    )  # fmt: skip
    failure_reason = fields.String(allow_none=True)
    error_report = fields.String(allow_none=True, metadata={"description": "URL of the CSV"})
    created_at = fields.String(allow_none=True)
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)
    unmapped_columns = fields.List(fields.String())
    notes = fields.List(fields.String())


class ImportListArgsSchema(page_args(default=50, maximum=500)):
    status = fields.String(
        validate=validate.OneOf(["received", "validating", "loaded", "matched", "failed"])
    )


class ImportListSchema(Schema):
    items = fields.List(fields.Nested(ImportSummarySchema), required=True)
    next = fields.Integer(allow_none=True, required=True)
