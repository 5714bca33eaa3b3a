"""The review queue as CSV, for administrators who work it in a spreadsheet or hand it over.

One query (the queue's filters, most probable first), both sides' names, dates of birth and
numbers: it is personal data, so the export is written to the audit chain with its filters and
row count before the first line is produced. Every cell goes through
`importers.error_report.neutralise`, so a name such as `=HYPERLINK(...)` stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from importers.error_report import neutralise
from popdb.core import audit
from popdb.registry.reviews import QueueFilter, _where, iso_dob

MAX_ROWS = 100_000

HEADER = (
    "item_id", "status", "awaiting_approval", "probability", "match_weight", "review_reason",
    "communes", "left_record_id", "left_person_id", "left_full_name", "left_dob",
    "left_personal_id_number", "right_record_id", "right_person_id", "right_full_name",
    "right_dob", "right_personal_id_number",
)  # fmt: skip

_SQL = """
    SELECT mc.id, mc.review_status::text AS status,
           mc.merge_requested_by IS NOT NULL
               AND mc.review_status IN ('pending', 'claimed', 'skipped') AS awaiting,
           mc.probability, mc.match_weight, mc.review_reason,
           lb.commune_code AS left_commune, rb.commune_code AS right_commune,
           l.id AS l_id, l.person_id AS l_person, l.full_name AS l_name, l.dob_year AS l_y,
           l.dob_month AS l_m, l.dob_day AS l_d, l.personal_id_number AS l_pin,
           r.id AS r_id, r.person_id AS r_person, r.full_name AS r_name, r.dob_year AS r_y,
           r.dob_month AS r_m, r.dob_day AS r_d, r.personal_id_number AS r_pin
    FROM match_candidate mc
    JOIN source_record l ON l.id = mc.left_record_id
    JOIN source_record r ON r.id = mc.right_record_id
    JOIN import_batch lb ON lb.id = l.batch_id
    JOIN import_batch rb ON rb.id = r.batch_id
"""


def _cells(row: Any) -> list[str]:
    communes = " ".join(sorted({row.left_commune, row.right_commune}))
    values = (
        row.id, row.status, "yes" if row.awaiting else "no", f"{row.probability:.4f}",
        f"{row.match_weight:.2f}", row.review_reason, communes,
        row.l_id, row.l_person, row.l_name, iso_dob(row.l_y, row.l_m, row.l_d), row.l_pin,
        row.r_id, row.r_person, row.r_name, iso_dob(row.r_y, row.r_m, row.r_d), row.r_pin,
    )  # fmt: skip
    return [neutralise(v) for v in values]


def export_lines(
    session: Session,
    filters: QueueFilter,
    *,
    actor: audit.Actor,
    request_id: str | None = None,
    max_rows: int = MAX_ROWS,
) -> Iterator[str]:
    """The filtered queue as CSV lines (header first), at most `max_rows` items. The audit
    event is recorded (in the caller's transaction) before this returns; the caller commits,
    then streams the lines."""
    where, params = _where(filters)
    rows = session.execute(
        sa.text(f"{_SQL} WHERE {' AND '.join(where)} "
                "ORDER BY mc.probability DESC, mc.id DESC LIMIT :limit"),
        {**params, "limit": max_rows},
    ).all()  # fmt: skip
    audit.record(
        session, actor=actor, action="review.export", subject_type="review_queue",
        request_id=request_id,
        fields=["full_name", "dob", "personal_id_number"],
        detail={"rows": len(rows), "status": filters.status, "commune": filters.commune,
                "min_probability": filters.min_probability,
                "max_probability": filters.max_probability},
    )  # fmt: skip
    return _lines(rows)


def _lines(rows: list[Any]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(_cells(row))
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
