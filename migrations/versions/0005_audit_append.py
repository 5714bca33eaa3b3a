"""audit_append(): one statement appends an event to the audit chain

Revision ID: 0005
Revises: 0004

The chain's lock is held from the append until the commit. Taking it, reading the head,
drawing the id and inserting were four round trips, each a chance for the web worker to wait
for the CPU while every other identity call waited for the lock. The function does the four
in one. The hash is unchanged: SHA-256 of the same canonical JSON, which Python builds with
markers where the id, the time and the previous hash go and the function fills in.

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION audit_append(
            p_lock bigint, p_template text, p_id_marker text, p_at_marker text,
            p_prev_marker text, p_actor_id bigint, p_actor_name text, p_role text,
            p_action text, p_subject_type text, p_subject_id text, p_purpose text,
            p_legal_basis text, p_fields jsonb, p_request_id text, p_detail jsonb
        ) RETURNS TABLE (id bigint, occurred_at timestamptz, prev_hash text, hash text)
        LANGUAGE plpgsql AS $$
        DECLARE
            v_prev text;
            v_id bigint;
            v_at timestamptz;
            v_hash text;
        BEGIN
            PERFORM pg_advisory_xact_lock(p_lock);
            SELECT a.hash INTO v_prev FROM audit_event a ORDER BY a.id DESC LIMIT 1;
            v_prev := coalesce(v_prev, repeat('0', 64));
            v_id := nextval('audit_event_id_seq');
            v_at := date_trunc('microseconds', clock_timestamp());
            v_hash := encode(sha256(convert_to(
                replace(replace(replace(p_template,
                    p_id_marker, v_id::text),
                    p_at_marker,
                    to_char(v_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00'),
                    p_prev_marker, v_prev),
                'UTF8')), 'hex');
            INSERT INTO audit_event (id, occurred_at, actor_id, actor_name, role, action,
                                     subject_type, subject_id, purpose, legal_basis, fields,
                                     request_id, detail, prev_hash, hash)
            VALUES (v_id, v_at, p_actor_id, p_actor_name, p_role, p_action, p_subject_type,
                    p_subject_id, p_purpose, p_legal_basis, p_fields, p_request_id, p_detail,
                    v_prev, v_hash);
            RETURN QUERY SELECT v_id, v_at, v_prev, v_hash;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION audit_append(bigint, text, text, text, text, bigint, text, text, text, "
        "text, text, text, text, jsonb, text, jsonb)"
    )
