"""Partition source_record and match_candidate by batch, audit_event by year

Revision ID: 0014
Revises: 0013

- `source_record`: LIST (batch_id), one partition per batch (`source_record_b<id>`), and no
  default partition (attaching a batch beside one locks it against every reader). The importer loads a batch
  into a table of its own and ATTACHes it (importers/loader.py, popdb/core/partitions.py).
  Primary key (id, batch_id); ids stay globally unique, drawn from the one sequence.
- `match_candidate`: gains `batch_id`, the batch of the pair's right (newer) record, the
  batch whose matching found it; LIST (batch_id) like source_record, so a batch's records and
  its candidates are detached together. Primary key (id, batch_id); the pair is unique per
  batch, and a record belongs to one batch, so (left, right) stays unique.
- `audit_event`: RANGE (occurred_at), one partition per calendar year (UTC) from the first
  event's year to next year, plus `audit_event_default`. Primary key (id, occurred_at),
  unique (hash, occurred_at). The append-only triggers are on the parent and every partition.
- source_record.person_id loses its foreign key to person: attaching a batch checks the
  parent's foreign keys, which locks the referenced table against writers until the import
  commits, and person is written by long transactions (matching, merges). Persons are never
  deleted; the registry's linking is the only writer of person_id.
- The foreign keys *to* source_record.id (match_candidate left/right, match_key.record_id)
  are dropped: PostgreSQL would need (id, batch_id) in the referencing tables, and they would
  forbid detaching an archived batch. Records are never deleted (the only way out is a detach,
  recorded in `archived_partition`), so the load path keeps them valid.
- `archived_partition`: what was detached for archiving, with the audit chain's hashes at
  the cut, so `popdb audit verify` still proves the chain after a year is archived.

- `batch_partition(action, table, batch)`: the one way the service role (which owns nothing,
  migration 0011) makes, attaches and drops a batch's partition while loading it. SECURITY
  DEFINER, so the tables are the owner's; it only knows `<table>_b<batch>` of the two
  tables, attaches nothing archived, and drops only an empty table.

Indexes, triggers and grants of the three tables are carried over generically (whatever the
migrations before this one made of them), both ways. The downgrade rebuilds plain tables with
every row; it refuses while a partition is archived (detached), since its rows are elsewhere.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "_before_0014"
#: The foreign keys to source_record.id that partitioning drops, as 0001/0002 made them.
RECORD_FKS = (
    ("match_candidate", "fk_match_candidate_left_record_id_source_record",
     "FOREIGN KEY (left_record_id) REFERENCES source_record(id)"),
    ("match_candidate", "fk_match_candidate_right_record_id_source_record",
     "FOREIGN KEY (right_record_id) REFERENCES source_record(id)"),
    ("match_key", "fk_match_key_record_id_source_record",
     "FOREIGN KEY (record_id) REFERENCES source_record(id) ON DELETE CASCADE"),
)  # fmt: skip
TABLES = ("source_record", "match_candidate", "audit_event")
#: Dropped too: source_record.person_id's key to person (see upgrade).
PERSON_FK = ("fk_source_record_person_id_person", "FOREIGN KEY (person_id) REFERENCES person(id)")


def _run(sql: str, **params: object) -> Any:
    return op.get_bind().execute(sa.text(sql), params)


def _refuse_unknown_references(table: str, known: set[str]) -> None:
    """A foreign key to `table` this migration does not know would be lost: stop instead."""
    names = set(
        _run(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' AND confrelid = "
            "CAST(:t AS regclass)",
            t=table,
        ).scalars()
    )
    unknown = names - known
    if unknown:
        raise RuntimeError(f"0014 does not know the foreign keys {sorted(unknown)} to {table}")


def _carried(table: str) -> dict[str, list[str]]:
    """What of `table` survives a rebuild and is not a column: secondary indexes (not backing
    a constraint), its own foreign keys, user triggers, grants — as statements to re-run."""
    indexes = [
        d.replace(" ON ONLY ", " ON ")
        for d in _run(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = "
            "CAST(:t AS regclass) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = i.indexrelid) ORDER BY i.indexrelid",
            t=table,
        ).scalars()
    ]
    fks = [
        f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
        for name, definition in _run(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = CAST(:t AS regclass) AND conparentid = 0 ORDER BY conname",
            t=table,
        )
    ]
    triggers = list(
        _run(
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) "
            "AND NOT tgisinternal AND tgparentid = 0 ORDER BY tgname",
            t=table,
        ).scalars()
    )
    grants = [
        f"GRANT {privilege} ON {table} TO {grantee}"
        for privilege, grantee in _run(
            "SELECT a.privilege_type, CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
            "ELSE quote_ident(pg_get_userbyid(a.grantee)) END FROM pg_class c, "
            "aclexplode(c.relacl) a WHERE c.oid = CAST(:t AS regclass) "
            "AND a.grantee <> c.relowner ORDER BY 2, 1",
            t=table,
        )
    ]
    return {"indexes": indexes, "fks": fks, "triggers": triggers, "grants": grants}


def _set_aside(table: str) -> None:
    """Rename `table` and its indexes out of the way (index names are per schema), and keep
    its id sequence when it is dropped."""
    _run(f"ALTER TABLE {table} RENAME TO {table}{OLD}")
    for (index,) in _run(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = CAST(:t AS regclass)",
        t=f"{table}{OLD}",
    ).all():
        _run(f'ALTER INDEX "{index}" RENAME TO "{index[:50]}{OLD}"')
    _run(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")


def _like(table: str, *more: str) -> str:
    return (
        f"(LIKE {table}{OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED "
        f"INCLUDING STORAGE INCLUDING COMMENTS{''.join(', ' + m for m in more)})"
    )


def _finish(table: str, carried: dict[str, list[str]], partitions: Sequence[str] = ()) -> None:
    """Re-create what `_carried` took, own the sequence again, drop the old table."""
    for statement in [*carried["indexes"], *carried["fks"], *carried["triggers"],
                      *carried["grants"]]:  # fmt: skip
        _run(statement)
    for trigger in carried["triggers"]:
        if "TRUNCATE" in trigger:  # statement triggers do not reach partitions by themselves
            for partition in partitions:
                _run(trigger.replace(f" ON public.{table} ", f" ON public.{partition} ", 1))
    _run(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    _run(f"DROP TABLE {table}{OLD}")
    _run(f"ANALYZE {table}")


def upgrade() -> None:
    _refuse_unknown_references("source_record", {name for _, name, _ in RECORD_FKS})
    for table in ("match_candidate", "audit_event"):
        _refuse_unknown_references(table, set())
    for table, name, _ in RECORD_FKS:
        _run(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    op.create_table(
        "archived_partition",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("parent", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=True),
        sa.Column("range_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("range_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=True),
        sa.Column("last_id", sa.BigInteger(), nullable=True),
        sa.Column("first_prev_hash", sa.CHAR(64), nullable=True),
        sa.Column("last_hash", sa.CHAR(64), nullable=True),
        sa.Column(
            "detached_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("name", name=op.f("pk_archived_partition")),
    )

    # source_record: LIST by batch
    carried = _carried("source_record")
    # attaching a batch would check this key, locking person against every writer (matching,
    # merges) until the import commits; persons are never deleted, the linking sets it
    carried["fks"] = [f for f in carried["fks"] if PERSON_FK[0] not in f]
    _set_aside("source_record")
    _run(f"CREATE TABLE source_record {_like('source_record')} PARTITION BY LIST (batch_id)")
    _run("ALTER TABLE source_record ADD CONSTRAINT pk_source_record PRIMARY KEY (id, batch_id)")
    _run("ALTER TABLE source_record ADD CONSTRAINT uq_source_record_batch_id_row_number "
         "UNIQUE (batch_id, row_number)")  # fmt: skip
    batches = list(_run(
        f"SELECT batch_id FROM source_record{OLD} UNION SELECT id FROM import_batch "
        "WHERE status IN ('loaded', 'matched') ORDER BY 1").scalars())  # fmt: skip
    # no default partition: attaching beside one would lock it against every reader
    _batch_partitions("source_record", batches)
    _finish_data("source_record")
    _finish("source_record", carried)

    # match_candidate: LIST by the right record's batch
    carried = _carried("match_candidate")
    carried["fks"] = [f for f in carried["fks"] if "REFERENCES source_record" not in f]
    _set_aside("match_candidate")
    _run(f"CREATE TABLE match_candidate {_like('match_candidate', 'batch_id bigint NOT NULL')} "
         "PARTITION BY LIST (batch_id)")  # fmt: skip
    _run("ALTER TABLE match_candidate ADD CONSTRAINT pk_match_candidate "
         "PRIMARY KEY (id, batch_id)")  # fmt: skip
    _run("ALTER TABLE match_candidate ADD CONSTRAINT "
         "uq_match_candidate_left_record_id_right_record_id "
         "UNIQUE (left_record_id, right_record_id, batch_id)")  # fmt: skip
    _run("ALTER TABLE match_candidate ADD CONSTRAINT fk_match_candidate_batch_id_import_batch "
         "FOREIGN KEY (batch_id) REFERENCES import_batch(id)")  # fmt: skip
    _batch_partitions("match_candidate", batches)
    columns = ", ".join(
        _run("SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
             "WHERE attrelid = 'match_candidate_before_0014'::regclass AND attnum > 0 "
             "AND NOT attisdropped").scalars()  # fmt: skip
    )
    _run(f"INSERT INTO match_candidate ({columns}, batch_id) SELECT "
         f"{', '.join('m.' + c.strip() for c in columns.split(','))}, r.batch_id "
         f"FROM match_candidate{OLD} m JOIN source_record r ON r.id = m.right_record_id "
         "ORDER BY m.id")  # fmt: skip
    lost = _run(f"SELECT (SELECT count(*) FROM match_candidate{OLD}) - "
                "(SELECT count(*) FROM match_candidate)").scalar_one()  # fmt: skip
    if lost:
        raise RuntimeError(f"{lost} match candidates name a right record that does not exist")
    _finish("match_candidate", carried)

    # audit_event: RANGE by year
    carried = _carried("audit_event")
    _set_aside("audit_event")
    _run(f"CREATE TABLE audit_event {_like('audit_event')} PARTITION BY RANGE (occurred_at)")
    _run("ALTER TABLE audit_event ADD CONSTRAINT pk_audit_event PRIMARY KEY (id, occurred_at)")
    _run("ALTER TABLE audit_event ADD CONSTRAINT uq_audit_event_hash "
         "UNIQUE (hash, occurred_at)")  # fmt: skip
    first, last = _run(
        "SELECT extract(year FROM min(occurred_at) AT TIME ZONE 'UTC')::int, "
        "greatest(extract(year FROM max(occurred_at) AT TIME ZONE 'UTC')::int, "
        f"extract(year FROM now() AT TIME ZONE 'UTC')::int) FROM audit_event{OLD}"
    ).one()
    last = last or _run("SELECT extract(year FROM now() AT TIME ZONE 'UTC')::int").scalar_one()
    years = range(first or last, last + 2)
    partitions = [f"audit_event_y{y}" for y in years] + ["audit_event_default"]
    for year in years:
        _run(f"CREATE TABLE audit_event_y{year} PARTITION OF audit_event FOR VALUES FROM "
             f"('{year}-01-01 00:00:00+00') TO ('{year + 1}-01-01 00:00:00+00')")  # fmt: skip
    _run("CREATE TABLE audit_event_default PARTITION OF audit_event DEFAULT")
    _finish_data("audit_event")
    _finish("audit_event", carried, partitions)
    op.execute(BATCH_PARTITION_FUNCTION)


BATCH_PARTITION_FUNCTION = """
CREATE FUNCTION batch_partition(p_action text, p_table text, p_batch bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    part text := p_table || '_b' || p_batch;
    filled boolean;
BEGIN
    IF p_table NOT IN ('source_record', 'match_candidate') OR p_batch IS NULL
            OR p_batch < 1 THEN
        RAISE EXCEPTION 'not a batch partition: % of batch %', p_table, p_batch;
    END IF;
    IF p_action = 'create' THEN
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
                       'INCLUDING GENERATED INCLUDING STORAGE, CONSTRAINT %I '
                       'CHECK (batch_id = %s))', part, p_table, part || '_batch', p_batch);
    ELSIF p_action = 'attach' THEN
        IF EXISTS (SELECT 1 FROM archived_partition WHERE name = part) THEN
            RAISE EXCEPTION '% is archived: `popdb db reattach` attaches it back', part;
        END IF;
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES IN (%s)',
                       p_table, part, p_batch);
    ELSIF p_action = 'drop' THEN
        IF EXISTS (SELECT 1 FROM archived_partition WHERE name = part) THEN
            RAISE EXCEPTION '% is archived, not a load table', part;
        END IF;
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', part) INTO filled;
        IF filled THEN
            RAISE EXCEPTION '% holds rows', part;
        END IF;
        EXECUTE format('DROP TABLE %I', part);
    ELSE
        RAISE EXCEPTION 'unknown action %', p_action;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION batch_partition(text, text, bigint) FROM PUBLIC;
"""


def _batch_partitions(table: str, batches: Sequence[int]) -> None:
    """One partition per batch, with a CHECK matching its bound (as the importer makes them,
    popdb.core.partitions), so a detached one attaches back without a scan."""
    for batch in batches:
        _run(f"CREATE TABLE {table}_b{batch} PARTITION OF {table} FOR VALUES IN ({batch})")
        _run(f"ALTER TABLE {table}_b{batch} ADD CONSTRAINT {table}_b{batch}_batch "
             f"CHECK (batch_id = {batch})")  # fmt: skip


def _finish_data(table: str) -> None:
    _run(f"INSERT INTO {table} SELECT * FROM {table}{OLD} ORDER BY id")
    lost = _run(f"SELECT (SELECT count(*) FROM {table}{OLD}) - "
                f"(SELECT count(*) FROM {table})").scalar_one()  # fmt: skip
    assert lost == 0, f"{table}: {lost} rows did not move"


def downgrade() -> None:
    archived = list(_run("SELECT name FROM archived_partition ORDER BY name").scalars())
    if archived:
        raise RuntimeError(
            "partitions are archived (detached): reattach them first (`popdb db reattach`, "
            f"`popdb audit reattach`), their rows would be missing: {', '.join(archived)}"
        )
    op.execute("DROP FUNCTION batch_partition(text, text, bigint)")
    for table in TABLES:
        _refuse_unknown_references(table, set())
        carried = _carried(table)
        if table == "match_candidate":
            carried["fks"] = [f for f in carried["fks"] if "(batch_id)" not in f]
        _set_aside(table)
        _run(f"CREATE TABLE {table} {_like(table)}")
        if table == "match_candidate":
            _run("ALTER TABLE match_candidate DROP COLUMN batch_id")
        columns = _run(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
            "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped",
            t=table,
        ).scalar_one()
        _run(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table}{OLD} ORDER BY id")
        _run(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id)")
        if table == "source_record":
            _run("ALTER TABLE source_record ADD CONSTRAINT uq_source_record_batch_id_row_number "
                 "UNIQUE (batch_id, row_number)")  # fmt: skip
        elif table == "match_candidate":
            _run("ALTER TABLE match_candidate ADD CONSTRAINT "
                 "uq_match_candidate_left_record_id_right_record_id "
                 "UNIQUE (left_record_id, right_record_id)")  # fmt: skip
        else:
            _run("ALTER TABLE audit_event ADD CONSTRAINT uq_audit_event_hash UNIQUE (hash)")
        # DROP TABLE of the partitioned table drops its partitions; no row trigger fires
        _finish(table, carried)
    for table, name, definition in (*RECORD_FKS, ("source_record", *PERSON_FK)):
        _run(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    op.drop_table("archived_partition")
