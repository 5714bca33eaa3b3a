"""Match models (versioned parameters) and scored candidate pairs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from popdb.core.models.base import Base, bigint_pk, created_at, pg_enum

DECISION = pg_enum("match_decision", "auto_link", "review", "distinct")
REVIEW_STATUS = pg_enum(
    "review_status", "pending", "claimed", "merged", "distinct", "skipped", "superseded"
)


class MatchModel(Base):
    """m, u, thresholds and term frequencies, saved so every decision names its model."""

    __tablename__ = "match_model"

    id: Mapped[bigint_pk]
    version: Mapped[int] = mapped_column(unique=True)
    params: Mapped[dict[str, Any]]
    active: Mapped[bool] = mapped_column(server_default=sa.false())
    notes: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[created_at]


class MatchCandidate(Base):
    """A scored pair of source records, ordered left < right."""

    __tablename__ = "match_candidate"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", "batch_id"),
        # a record is in one batch, so (left, right) alone is unique too
        sa.UniqueConstraint("left_record_id", "right_record_id", "batch_id",
                            name="uq_match_candidate_left_record_id_right_record_id"),
        sa.CheckConstraint("left_record_id < right_record_id", name="ordered_pair"),
        sa.CheckConstraint("probability BETWEEN 0 AND 1", name="probability_range"),
        # LIST partitions by the right record's batch, like source_record (migration 0014)
        {"postgresql_partition_by": "LIST (batch_id)"},
    )
    __mapper_args__ = {"primary_key": ["id"]}

    id: Mapped[int] = mapped_column(sa.BigInteger, autoincrement=True)
    # No foreign keys to source_record.id: it is partitioned by batch (its key is (id,
    # batch_id)) and an archived batch is detached; the load path keeps the ids valid.
    left_record_id: Mapped[int] = mapped_column(sa.BigInteger)
    right_record_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    #: The batch of the right (newer) record: the batch whose matching found the pair.
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("import_batch.id"))
    model_id: Mapped[int] = mapped_column(sa.ForeignKey("match_model.id"))
    blocking_rule: Mapped[str | None] = mapped_column(sa.Text)
    gammas: Mapped[dict[str, Any]]
    match_weight: Mapped[float] = mapped_column(sa.Double)
    probability: Mapped[float] = mapped_column(sa.Double)
    decision: Mapped[str] = mapped_column(DECISION)
    review_status: Mapped[str | None] = mapped_column(REVIEW_STATUS)
    #: Why a pair the score would link waits for review (`dedup.clustering.REFUSALS`).
    review_reason: Mapped[str | None] = mapped_column(sa.Text)
    claimed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("api_client.id"))
    claimed_until: Mapped[dt.datetime | None]
    decided_by: Mapped[int | None] = mapped_column(sa.ForeignKey("api_client.id"))
    decided_at: Mapped[dt.datetime | None]
    #: Four eyes: the first admin who asked to merge two persons holding different valid
    #: personal ID numbers; a second, different admin approves by deciding merge too.
    merge_requested_by: Mapped[int | None] = mapped_column(sa.ForeignKey("api_client.id"))
    merge_requested_at: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(server_default="1")
    created_at: Mapped[created_at]


sa.Index(
    "ix_match_candidate_review_queue",
    MatchCandidate.review_status,
    MatchCandidate.probability,
    postgresql_where=MatchCandidate.review_status.in_(["pending", "claimed"]),
)


class MatchKey(Base):
    """A source record's match keys (dedup.features), computed once when the record is first
    matched: blocking joins on these columns, and re-clustering reads them back instead of
    normalising every name again. Derived data: rebuildable from source_record at any time."""

    __tablename__ = "match_key"

    #: A source record's id; no foreign key since source_record is partitioned (0014).
    record_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    family: Mapped[str | None] = mapped_column(sa.Text)
    middle: Mapped[str | None] = mapped_column(sa.Text)
    given: Mapped[str | None] = mapped_column(sa.Text)
    family_fold: Mapped[str | None] = mapped_column(sa.Text)
    middle_fold: Mapped[str | None] = mapped_column(sa.Text)
    given_fold: Mapped[str | None] = mapped_column(sa.Text)
    name_fold: Mapped[str | None] = mapped_column(sa.Text)
    name_sorted: Mapped[str | None] = mapped_column(sa.Text)
    initials: Mapped[str | None] = mapped_column(sa.Text)
    pin: Mapped[str | None] = mapped_column(sa.Text)
    other_id: Mapped[str | None] = mapped_column(sa.Text)
    birth_place: Mapped[str | None] = mapped_column(sa.Text)
    address: Mapped[str | None] = mapped_column(sa.Text)
    commune: Mapped[str | None] = mapped_column(sa.Text)
    father: Mapped[str | None] = mapped_column(sa.Text)
    mother: Mapped[str | None] = mapped_column(sa.Text)
    father_fold: Mapped[str | None] = mapped_column(sa.Text)
    mother_fold: Mapped[str | None] = mapped_column(sa.Text)
    other_id_head: Mapped[str | None] = mapped_column(sa.Text)
    other_id_tail: Mapped[str | None] = mapped_column(sa.Text)
    other_id_outer: Mapped[str | None] = mapped_column(sa.Text)
    dob_year: Mapped[int] = mapped_column(sa.SmallInteger)
    dob_month: Mapped[int] = mapped_column(sa.SmallInteger)
    dob_day: Mapped[int] = mapped_column(sa.SmallInteger)
    sex: Mapped[int] = mapped_column(sa.SmallInteger)
