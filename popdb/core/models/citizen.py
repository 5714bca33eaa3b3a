"""The citizen fields shared by a source record and a person's golden record.

Follows article 9 of the Law on Identity with QCVN 109 codes: sex 0/1/2, marital status
0–3, blood group 00–04, two-digit ethnicity and religion codes, ISO alpha-2 nationality.
Dates of birth are partial: year, optional month, optional day.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

#: Canonical field names a mapping profile may target (the import surface).
CANONICAL_FIELDS: tuple[str, ...] = (
    "full_name", "family_name", "middle_name", "given_name", "other_names",
    "dob", "sex", "personal_id_number", "other_id_number",
    "birth_registration_place", "birth_registration_code", "hometown", "hometown_code",
    "permanent_address", "permanent_commune_code", "current_address", "current_commune_code",
    "ethnicity", "religion", "nationality", "marital_status", "blood_group",
    "father_name", "father_id_number", "mother_name", "mother_id_number",
    "spouse_name", "spouse_id_number", "household_head_relation",
    "phone", "email",
)  # fmt: skip


def citizen_checks(prefix: str = "") -> tuple[sa.CheckConstraint, ...]:
    """Check constraints on codes and partial dates; named per table by the convention."""
    return (
        sa.CheckConstraint("sex IN (0, 1, 2)", name="sex_code"),
        sa.CheckConstraint("marital_status BETWEEN 0 AND 3", name="marital_status_code"),
        sa.CheckConstraint(
            "blood_group IN ('00', '01', '02', '03', '04')", name="blood_group_code"
        ),
        sa.CheckConstraint("ethnicity_code ~ '^[0-9]{2}$'", name="ethnicity_code_format"),
        sa.CheckConstraint("religion_code ~ '^[0-9]{2}$'", name="religion_code_format"),
        sa.CheckConstraint("nationality ~ '^[A-Z]{2}$'", name="nationality_format"),
        sa.CheckConstraint("personal_id_number ~ '^[0-9]{12}$'", name="pin_format"),
        sa.CheckConstraint("dob_year BETWEEN 1850 AND 2400", name="dob_year_range"),
        sa.CheckConstraint("dob_month BETWEEN 1 AND 12", name="dob_month_range"),
        sa.CheckConstraint(
            "dob_day IS NULL OR (dob_month IS NOT NULL AND dob_day BETWEEN 1 AND 31)",
            name="dob_day_needs_month",
        ),
        sa.CheckConstraint(
            "dob_month IS NULL OR dob_year IS NOT NULL", name="dob_month_needs_year"
        ),
        sa.CheckConstraint(
            "permanent_commune_code ~ '^[0-9]{5}$' AND current_commune_code ~ '^[0-9]{5}$'",
            name="commune_code_format",
        ),
    )


class CitizenFields:
    """Parsed, typed columns plus the normalized match keys."""

    full_name: Mapped[str | None] = mapped_column(sa.Text)
    family_name: Mapped[str | None] = mapped_column(sa.Text)
    middle_name: Mapped[str | None] = mapped_column(sa.Text)
    given_name: Mapped[str | None] = mapped_column(sa.Text)
    name_key: Mapped[str | None] = mapped_column(sa.Text)  # canonical: decides exact matches
    name_fold: Mapped[str | None] = mapped_column(sa.Text)  # ASCII fold: blocking only
    other_names: Mapped[str | None] = mapped_column(sa.Text)

    dob_year: Mapped[int | None] = mapped_column(sa.SmallInteger)
    dob_month: Mapped[int | None] = mapped_column(sa.SmallInteger)
    dob_day: Mapped[int | None] = mapped_column(sa.SmallInteger)
    sex: Mapped[int | None] = mapped_column(sa.SmallInteger)

    personal_id_number: Mapped[str | None] = mapped_column(sa.CHAR(12))
    other_id_number: Mapped[str | None] = mapped_column(sa.Text)

    birth_registration_place: Mapped[str | None] = mapped_column(sa.Text)
    birth_registration_code: Mapped[str | None] = mapped_column(sa.String(5))
    hometown: Mapped[str | None] = mapped_column(sa.Text)
    hometown_code: Mapped[str | None] = mapped_column(sa.String(5))
    permanent_address: Mapped[str | None] = mapped_column(sa.Text)
    permanent_commune_code: Mapped[str | None] = mapped_column(sa.String(5))
    current_address: Mapped[str | None] = mapped_column(sa.Text)
    current_commune_code: Mapped[str | None] = mapped_column(sa.String(5))

    ethnicity_code: Mapped[str | None] = mapped_column(sa.CHAR(2))
    religion_code: Mapped[str | None] = mapped_column(sa.CHAR(2))
    nationality: Mapped[str | None] = mapped_column(sa.CHAR(2))
    marital_status: Mapped[int | None] = mapped_column(sa.SmallInteger)
    blood_group: Mapped[str | None] = mapped_column(sa.CHAR(2))

    father_name: Mapped[str | None] = mapped_column(sa.Text)
    father_id_number: Mapped[str | None] = mapped_column(sa.Text)
    mother_name: Mapped[str | None] = mapped_column(sa.Text)
    mother_id_number: Mapped[str | None] = mapped_column(sa.Text)
    spouse_name: Mapped[str | None] = mapped_column(sa.Text)
    spouse_id_number: Mapped[str | None] = mapped_column(sa.Text)
    household_head_relation: Mapped[str | None] = mapped_column(sa.Text)
    phone: Mapped[str | None] = mapped_column(sa.Text)
    email: Mapped[str | None] = mapped_column(sa.Text)
