"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 08:59:16.994179
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ENUMS = (
    "client_role", "pin_state", "person_status", "unit_level", "batch_status",
    "person_event_kind", "issue_severity", "record_status", "match_decision", "review_status",
)  # fmt: skip

REFUSE_CHANGE = """
CREATE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.create_table(
        "admin_unit_change",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("old_code", sa.String(length=5), nullable=True),
        sa.Column("old_name", sa.Text(), nullable=True),
        sa.Column("old_district", sa.Text(), nullable=True),
        sa.Column("old_province", sa.Text(), nullable=True),
        sa.Column("new_code", sa.String(length=5), nullable=False),
        sa.Column("new_name", sa.Text(), nullable=False),
        sa.Column("new_province", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_unit_change")),
    )
    op.create_index(
        op.f("ix_admin_unit_change_new_code"), "admin_unit_change", ["new_code"], unique=False
    )
    op.create_index(
        op.f("ix_admin_unit_change_old_code"), "admin_unit_change", ["old_code"], unique=False
    )
    op.create_table(
        "admin_vintage",
        sa.Column("key", sa.String(length=7), nullable=False),
        sa.Column("in_force_from", sa.Date(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("sha256", sa.CHAR(length=64), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_admin_vintage")),
        sa.UniqueConstraint("in_force_from", name=op.f("uq_admin_vintage_in_force_from")),
    )
    op.create_table(
        "api_client",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Enum("police", "agency", "admin", name="client_role"), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=True),
        sa.Column(
            "policy",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("key_hash", sa.CHAR(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(role = 'police') = (commune_code IS NOT NULL)",
            name=op.f("ck_api_client_police_has_commune"),
        ),
        sa.CheckConstraint(
            "commune_code ~ '^[0-9]{5}$'", name=op.f("ck_api_client_commune_code_format")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_client")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_client_key_hash")),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("subject_type", sa.Text(), nullable=True),
        sa.Column("subject_id", sa.Text(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column(
            "fields",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("prev_hash", sa.CHAR(length=64), nullable=False),
        sa.Column("hash", sa.CHAR(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_event_hash")),
    )
    op.create_index(
        "ix_audit_event_subject", "audit_event", ["subject_type", "subject_id"], unique=False
    )
    op.create_table(
        "match_model",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_model")),
        sa.UniqueConstraint("version", name=op.f("uq_match_model_version")),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "pin_state",
            sa.Enum("kept", "generated", "pending", name="pin_state"),
            server_default="pending",
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("active", "deceased", "missing", "retired", name="person_status"),
            server_default="active",
            nullable=False,
        ),
        sa.Column("merged_into_id", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("full_name", sa.Text(), nullable=True),
        sa.Column("family_name", sa.Text(), nullable=True),
        sa.Column("middle_name", sa.Text(), nullable=True),
        sa.Column("given_name", sa.Text(), nullable=True),
        sa.Column("name_key", sa.Text(), nullable=True),
        sa.Column("name_fold", sa.Text(), nullable=True),
        sa.Column("other_names", sa.Text(), nullable=True),
        sa.Column("dob_year", sa.SmallInteger(), nullable=True),
        sa.Column("dob_month", sa.SmallInteger(), nullable=True),
        sa.Column("dob_day", sa.SmallInteger(), nullable=True),
        sa.Column("sex", sa.SmallInteger(), nullable=True),
        sa.Column("personal_id_number", sa.CHAR(length=12), nullable=True),
        sa.Column("other_id_number", sa.Text(), nullable=True),
        sa.Column("birth_registration_place", sa.Text(), nullable=True),
        sa.Column("birth_registration_code", sa.String(length=5), nullable=True),
        sa.Column("hometown", sa.Text(), nullable=True),
        sa.Column("hometown_code", sa.String(length=5), nullable=True),
        sa.Column("permanent_address", sa.Text(), nullable=True),
        sa.Column("permanent_commune_code", sa.String(length=5), nullable=True),
        sa.Column("current_address", sa.Text(), nullable=True),
        sa.Column("current_commune_code", sa.String(length=5), nullable=True),
        sa.Column("ethnicity_code", sa.CHAR(length=2), nullable=True),
        sa.Column("religion_code", sa.CHAR(length=2), nullable=True),
        sa.Column("nationality", sa.CHAR(length=2), nullable=True),
        sa.Column("marital_status", sa.SmallInteger(), nullable=True),
        sa.Column("blood_group", sa.CHAR(length=2), nullable=True),
        sa.Column("father_name", sa.Text(), nullable=True),
        sa.Column("father_id_number", sa.Text(), nullable=True),
        sa.Column("mother_name", sa.Text(), nullable=True),
        sa.Column("mother_id_number", sa.Text(), nullable=True),
        sa.Column("spouse_name", sa.Text(), nullable=True),
        sa.Column("spouse_id_number", sa.Text(), nullable=True),
        sa.Column("household_head_relation", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(status = 'retired') = (merged_into_id IS NOT NULL)",
            name=op.f("ck_person_retired_points_to_survivor"),
        ),
        sa.CheckConstraint(
            "blood_group IN ('00', '01', '02', '03', '04')", name=op.f("ck_person_blood_group_code")
        ),
        sa.CheckConstraint(
            "ethnicity_code ~ '^[0-9]{2}$'", name=op.f("ck_person_ethnicity_code_format")
        ),
        sa.CheckConstraint("nationality ~ '^[A-Z]{2}$'", name=op.f("ck_person_nationality_format")),
        sa.CheckConstraint(
            "permanent_commune_code ~ '^[0-9]{5}$' AND current_commune_code ~ '^[0-9]{5}$'",
            name=op.f("ck_person_commune_code_format"),
        ),
        sa.CheckConstraint("personal_id_number ~ '^[0-9]{12}$'", name=op.f("ck_person_pin_format")),
        sa.CheckConstraint(
            "religion_code ~ '^[0-9]{2}$'", name=op.f("ck_person_religion_code_format")
        ),
        sa.CheckConstraint(
            "dob_day IS NULL OR (dob_month IS NOT NULL AND dob_day BETWEEN 1 AND 31)",
            name=op.f("ck_person_dob_day_needs_month"),
        ),
        sa.CheckConstraint("dob_month BETWEEN 1 AND 12", name=op.f("ck_person_dob_month_range")),
        sa.CheckConstraint(
            "dob_month IS NULL OR dob_year IS NOT NULL", name=op.f("ck_person_dob_month_needs_year")
        ),
        sa.CheckConstraint("dob_year BETWEEN 1850 AND 2400", name=op.f("ck_person_dob_year_range")),
        sa.CheckConstraint(
            "marital_status BETWEEN 0 AND 3", name=op.f("ck_person_marital_status_code")
        ),
        sa.CheckConstraint("sex IN (0, 1, 2)", name=op.f("ck_person_sex_code")),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["person.id"], name=op.f("fk_person_merged_into_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("personal_id_number", name=op.f("uq_person_personal_id_number")),
    )
    op.create_table(
        "admin_unit",
        sa.Column("vintage", sa.String(length=7), nullable=False),
        sa.Column(
            "level", sa.Enum("province", "district", "commune", name="unit_level"), nullable=False
        ),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("division_type", sa.Text(), nullable=True),
        sa.Column("parent_code", sa.String(length=5), nullable=True),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.CheckConstraint(
            "(level = 'province' AND code ~ '^[0-9]{2}$') OR (level = 'district' AND code ~ '^[0-9]{3}$') OR (level = 'commune' AND code ~ '^[0-9]{5}$')",
            name=op.f("ck_admin_unit_code_format"),
        ),
        sa.ForeignKeyConstraint(
            ["vintage"],
            ["admin_vintage.key"],
            name=op.f("fk_admin_unit_vintage_admin_vintage"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("vintage", "level", "code", name=op.f("pk_admin_unit")),
    )
    op.create_table(
        "import_batch",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=True),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.CHAR(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("mapping", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "options",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("stored_path", sa.Text(), nullable=True),
        sa.Column("collected_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("received", "validating", "loaded", "matched", "failed", name="batch_status"),
            server_default="received",
            nullable=False,
        ),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("accepted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("warnings", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "commune_code ~ '^[0-9]{5}$'", name=op.f("ck_import_batch_commune_code_format")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_client.id"], name=op.f("fk_import_batch_client_id_api_client")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
        sa.UniqueConstraint(
            "commune_code", "sha256", name=op.f("uq_import_batch_commune_code_sha256")
        ),
    )
    op.create_index(
        op.f("ix_import_batch_commune_code"), "import_batch", ["commune_code"], unique=False
    )
    op.create_table(
        "person_event",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "created",
                "linked",
                "merged",
                "unmerged",
                "field_changed",
                "status_changed",
                "pin_assigned",
                name="person_event_kind",
            ),
            nullable=False,
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_event_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_event")),
    )
    op.create_index(op.f("ix_person_event_person_id"), "person_event", ["person_id"], unique=False)
    op.create_table(
        "person_pin",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("personal_id_number", sa.CHAR(length=12), nullable=False),
        sa.Column(
            "assigned_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_pin_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_pin")),
        sa.UniqueConstraint("personal_id_number", name=op.f("uq_person_pin_personal_id_number")),
    )
    op.create_index(op.f("ix_person_pin_person_id"), "person_pin", ["person_id"], unique=False)
    op.create_table(
        "import_issue",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=True),
        sa.Column("source_key", sa.Text(), nullable=True),
        sa.Column("column_name", sa.Text(), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("severity", sa.Enum("warning", "error", name="issue_severity"), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batch.id"],
            name=op.f("fk_import_issue_batch_id_import_batch"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_issue")),
    )
    op.create_index(op.f("ix_import_issue_batch_id"), "import_issue", ["batch_id"], unique=False)
    op.create_table(
        "source_record",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "status",
            sa.Enum("accepted", "rejected", name="record_status"),
            server_default="accepted",
            nullable=False,
        ),
        sa.Column(
            "warnings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("matched", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("full_name", sa.Text(), nullable=True),
        sa.Column("family_name", sa.Text(), nullable=True),
        sa.Column("middle_name", sa.Text(), nullable=True),
        sa.Column("given_name", sa.Text(), nullable=True),
        sa.Column("name_key", sa.Text(), nullable=True),
        sa.Column("name_fold", sa.Text(), nullable=True),
        sa.Column("other_names", sa.Text(), nullable=True),
        sa.Column("dob_year", sa.SmallInteger(), nullable=True),
        sa.Column("dob_month", sa.SmallInteger(), nullable=True),
        sa.Column("dob_day", sa.SmallInteger(), nullable=True),
        sa.Column("sex", sa.SmallInteger(), nullable=True),
        sa.Column("personal_id_number", sa.CHAR(length=12), nullable=True),
        sa.Column("other_id_number", sa.Text(), nullable=True),
        sa.Column("birth_registration_place", sa.Text(), nullable=True),
        sa.Column("birth_registration_code", sa.String(length=5), nullable=True),
        sa.Column("hometown", sa.Text(), nullable=True),
        sa.Column("hometown_code", sa.String(length=5), nullable=True),
        sa.Column("permanent_address", sa.Text(), nullable=True),
        sa.Column("permanent_commune_code", sa.String(length=5), nullable=True),
        sa.Column("current_address", sa.Text(), nullable=True),
        sa.Column("current_commune_code", sa.String(length=5), nullable=True),
        sa.Column("ethnicity_code", sa.CHAR(length=2), nullable=True),
        sa.Column("religion_code", sa.CHAR(length=2), nullable=True),
        sa.Column("nationality", sa.CHAR(length=2), nullable=True),
        sa.Column("marital_status", sa.SmallInteger(), nullable=True),
        sa.Column("blood_group", sa.CHAR(length=2), nullable=True),
        sa.Column("father_name", sa.Text(), nullable=True),
        sa.Column("father_id_number", sa.Text(), nullable=True),
        sa.Column("mother_name", sa.Text(), nullable=True),
        sa.Column("mother_id_number", sa.Text(), nullable=True),
        sa.Column("spouse_name", sa.Text(), nullable=True),
        sa.Column("spouse_id_number", sa.Text(), nullable=True),
        sa.Column("household_head_relation", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "blood_group IN ('00', '01', '02', '03', '04')",
            name=op.f("ck_source_record_blood_group_code"),
        ),
        sa.CheckConstraint(
            "ethnicity_code ~ '^[0-9]{2}$'", name=op.f("ck_source_record_ethnicity_code_format")
        ),
        sa.CheckConstraint(
            "nationality ~ '^[A-Z]{2}$'", name=op.f("ck_source_record_nationality_format")
        ),
        sa.CheckConstraint(
            "permanent_commune_code ~ '^[0-9]{5}$' AND current_commune_code ~ '^[0-9]{5}$'",
            name=op.f("ck_source_record_commune_code_format"),
        ),
        sa.CheckConstraint(
            "personal_id_number ~ '^[0-9]{12}$'", name=op.f("ck_source_record_pin_format")
        ),
        sa.CheckConstraint(
            "religion_code ~ '^[0-9]{2}$'", name=op.f("ck_source_record_religion_code_format")
        ),
        sa.CheckConstraint(
            "dob_day IS NULL OR (dob_month IS NOT NULL AND dob_day BETWEEN 1 AND 31)",
            name=op.f("ck_source_record_dob_day_needs_month"),
        ),
        sa.CheckConstraint(
            "dob_month BETWEEN 1 AND 12", name=op.f("ck_source_record_dob_month_range")
        ),
        sa.CheckConstraint(
            "dob_month IS NULL OR dob_year IS NOT NULL",
            name=op.f("ck_source_record_dob_month_needs_year"),
        ),
        sa.CheckConstraint(
            "dob_year BETWEEN 1850 AND 2400", name=op.f("ck_source_record_dob_year_range")
        ),
        sa.CheckConstraint(
            "marital_status BETWEEN 0 AND 3", name=op.f("ck_source_record_marital_status_code")
        ),
        sa.CheckConstraint("sex IN (0, 1, 2)", name=op.f("ck_source_record_sex_code")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.id"], name=op.f("fk_source_record_batch_id_import_batch")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_source_record_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_record")),
        sa.UniqueConstraint(
            "batch_id", "row_number", name=op.f("uq_source_record_batch_id_row_number")
        ),
    )
    op.create_index(
        "ix_source_record_blocking_fold_year",
        "source_record",
        ["name_fold", "dob_year"],
        unique=False,
    )
    op.create_index(
        op.f("ix_source_record_person_id"), "source_record", ["person_id"], unique=False
    )
    op.create_index(
        "ix_source_record_personal_id_number",
        "source_record",
        ["personal_id_number"],
        unique=False,
        postgresql_where=sa.text("personal_id_number IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_source_record_source_key"), "source_record", ["source_key"], unique=False
    )
    op.create_index(
        "ix_source_record_unmatched",
        "source_record",
        ["id"],
        unique=False,
        postgresql_where=sa.text("NOT matched"),
    )
    op.create_table(
        "match_candidate",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("left_record_id", sa.BigInteger(), nullable=False),
        sa.Column("right_record_id", sa.BigInteger(), nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.Column("blocking_rule", sa.Text(), nullable=True),
        sa.Column("gammas", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("match_weight", sa.Double(), nullable=False),
        sa.Column("probability", sa.Double(), nullable=False),
        sa.Column(
            "decision",
            sa.Enum("auto_link", "review", "distinct", name="match_decision"),
            nullable=False,
        ),
        sa.Column(
            "review_status",
            sa.Enum(
                "pending",
                "claimed",
                "merged",
                "distinct",
                "skipped",
                "superseded",
                name="review_status",
            ),
            nullable=True,
        ),
        sa.Column("claimed_by", sa.BigInteger(), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "left_record_id < right_record_id", name=op.f("ck_match_candidate_ordered_pair")
        ),
        sa.CheckConstraint(
            "probability BETWEEN 0 AND 1", name=op.f("ck_match_candidate_probability_range")
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by"], ["api_client.id"], name=op.f("fk_match_candidate_claimed_by_api_client")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["api_client.id"], name=op.f("fk_match_candidate_decided_by_api_client")
        ),
        sa.ForeignKeyConstraint(
            ["left_record_id"],
            ["source_record.id"],
            name=op.f("fk_match_candidate_left_record_id_source_record"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["match_model.id"], name=op.f("fk_match_candidate_model_id_match_model")
        ),
        sa.ForeignKeyConstraint(
            ["right_record_id"],
            ["source_record.id"],
            name=op.f("fk_match_candidate_right_record_id_source_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_candidate")),
        sa.UniqueConstraint(
            "left_record_id",
            "right_record_id",
            name=op.f("uq_match_candidate_left_record_id_right_record_id"),
        ),
    )
    op.create_index(
        "ix_match_candidate_review_queue",
        "match_candidate",
        ["review_status", "probability"],
        unique=False,
        postgresql_where=sa.text("review_status IN ('pending', 'claimed')"),
    )
    op.create_index(
        op.f("ix_match_candidate_right_record_id"),
        "match_candidate",
        ["right_record_id"],
        unique=False,
    )
    op.execute(REFUSE_CHANGE)
    op.execute(
        "CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change()"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_match_candidate_right_record_id"), table_name="match_candidate")
    op.drop_index(
        "ix_match_candidate_review_queue",
        table_name="match_candidate",
        postgresql_where=sa.text("review_status IN ('pending', 'claimed')"),
    )
    op.drop_table("match_candidate")
    op.drop_index(
        "ix_source_record_unmatched",
        table_name="source_record",
        postgresql_where=sa.text("NOT matched"),
    )
    op.drop_index(op.f("ix_source_record_source_key"), table_name="source_record")
    op.drop_index(
        "ix_source_record_personal_id_number",
        table_name="source_record",
        postgresql_where=sa.text("personal_id_number IS NOT NULL"),
    )
    op.drop_index(op.f("ix_source_record_person_id"), table_name="source_record")
    op.drop_index("ix_source_record_blocking_fold_year", table_name="source_record")
    op.drop_table("source_record")
    op.drop_index(op.f("ix_import_issue_batch_id"), table_name="import_issue")
    op.drop_table("import_issue")
    op.drop_index(op.f("ix_person_pin_person_id"), table_name="person_pin")
    op.drop_table("person_pin")
    op.drop_index(op.f("ix_person_event_person_id"), table_name="person_event")
    op.drop_table("person_event")
    op.drop_index(op.f("ix_import_batch_commune_code"), table_name="import_batch")
    op.drop_table("import_batch")
    op.drop_table("admin_unit")
    op.drop_table("person")
    op.drop_table("match_model")
    op.drop_index("ix_audit_event_subject", table_name="audit_event")
    op.drop_table("audit_event")
    op.drop_table("api_client")
    op.drop_table("admin_vintage")
    op.drop_index(op.f("ix_admin_unit_change_old_code"), table_name="admin_unit_change")
    op.drop_index(op.f("ix_admin_unit_change_new_code"), table_name="admin_unit_change")
    op.drop_table("admin_unit_change")
    op.execute("DROP FUNCTION audit_event_refuse_change()")
    for name in ENUMS:
        op.execute(f"DROP TYPE {name}")
