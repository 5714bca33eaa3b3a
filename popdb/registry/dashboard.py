"""Figures for the admin pages: what each import batch became, and data quality per commune.

Set-based SQL, one query per table; no personal data leaves here.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


def batch_outcomes(session: Session, *, limit: int = 50) -> list[dict[str, Any]]:
    """Newest batches with their counts and what their accepted records became: linked
    automatically, waiting in review, or founding a new person."""
    rows = session.execute(
        sa.text("""
            WITH recent AS (
                SELECT * FROM import_batch ORDER BY id DESC LIMIT :limit),
            rec AS (
                SELECT sr.id, sr.batch_id, sr.person_id FROM source_record sr
                WHERE sr.batch_id IN (SELECT id FROM recent) AND sr.status = 'accepted'),
            founders AS (
                SELECT min(id) AS id FROM source_record
                WHERE person_id IN (SELECT person_id FROM rec) GROUP BY person_id),
            auto AS (
                SELECT DISTINCT rec.id FROM rec JOIN match_candidate mc
                  ON rec.id IN (mc.left_record_id, mc.right_record_id)
                WHERE mc.decision = 'auto_link'),
            review AS (
                SELECT DISTINCT rec.id FROM rec JOIN match_candidate mc
                  ON rec.id IN (mc.left_record_id, mc.right_record_id)
                WHERE mc.review_status IN ('pending', 'claimed', 'skipped'))
            SELECT b.id, b.commune_code, b.file_name, b.status, b.collected_on, b.rows,
                   b.accepted, b.rejected, b.warnings, b.created_at,
                   count(rec.id) FILTER (WHERE rec.id IN (SELECT id FROM founders))
                       AS new_persons,
                   count(rec.id) FILTER (WHERE rec.id IN (SELECT id FROM auto)
                       AND rec.id NOT IN (SELECT id FROM founders)) AS auto_linked,
                   count(rec.id) FILTER (WHERE rec.id IN (SELECT id FROM review)) AS in_review
            FROM recent b LEFT JOIN rec ON rec.batch_id = b.id
            GROUP BY b.id, b.commune_code, b.file_name, b.status, b.collected_on, b.rows,
                     b.accepted, b.rejected, b.warnings, b.created_at
            ORDER BY b.id DESC
        """),
        {"limit": limit},
    ).mappings()
    return [dict(r) for r in rows]


def commune_quality(session: Session) -> list[dict[str, Any]]:
    """Per commune: records, share with warnings, share that duplicate another record of the
    registry (their person holds more than one), and auto-links that people overturned."""
    rows = session.execute(
        sa.text("""
            WITH sizes AS (
                SELECT person_id, count(*) AS n FROM source_record
                WHERE person_id IS NOT NULL GROUP BY person_id),
            rec AS (
                SELECT b.commune_code, sr.id, jsonb_array_length(sr.warnings) > 0 AS warned,
                       coalesce(s.n, 1) > 1 AS duplicated
                FROM source_record sr JOIN import_batch b ON b.id = sr.batch_id
                LEFT JOIN sizes s ON s.person_id = sr.person_id
                WHERE sr.status = 'accepted'),
            links AS (
                SELECT b.commune_code, count(*) AS auto_links,
                       count(*) FILTER (WHERE mc.review_status = 'distinct') AS overturned
                FROM match_candidate mc JOIN source_record sr ON sr.id = mc.left_record_id
                JOIN import_batch b ON b.id = sr.batch_id
                WHERE mc.decision = 'auto_link' GROUP BY b.commune_code)
            SELECT rec.commune_code, count(*) AS records,
                   avg(rec.warned::int)::float AS warning_rate,
                   avg(rec.duplicated::int)::float AS duplicate_rate,
                   coalesce(max(links.auto_links), 0) AS auto_links,
                   coalesce(max(links.overturned), 0) AS overturned_auto_links
            FROM rec LEFT JOIN links USING (commune_code)
            GROUP BY rec.commune_code ORDER BY rec.commune_code
        """)
    ).mappings()
    return [dict(r) for r in rows]
