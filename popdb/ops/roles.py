"""The service's database role (issue 22 item 5): what it may do, granted by the owner.

The schema's owner runs the migrations; the service (web workers, the import worker, the
CLI's data commands) connects as a role that owns nothing. It may read and write the
registry's tables, but on `audit_event` only INSERT and SELECT: no UPDATE, DELETE or
TRUNCATE, and, not being the owner, no ALTER TABLE (so no DISABLE TRIGGER). It may use the
sequences (nextval, not setval) and run the schema's functions; `alembic_version` it may
only read.

`grant_service` runs after every migrate (`popdb.ops.bootstrap.prepare_database`) and is
idempotent. It also sets the owner's default privileges, so a table a later migration
creates is the service's to use even when that migration was run by hand (`alembic
upgrade`) and no grant step followed; the append-only and read-only exceptions are
re-applied by the next grant step. The role name comes from the service's URL (external
server) or POPDB_SERVICE_ROLE (embedded). docs/operations.md has the same SQL for an
operator.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

#: Tables the service may only append to and read.
APPEND_ONLY = ("audit_event",)
#: Tables the service may only read: the migration's mark, and the record of what was
#: archived, which `popdb audit verify` trusts for the cut (migration 0014).
READ_ONLY = ("alembic_version", "archived_partition")


def _check(role: str) -> str:
    if not role or not all(c.isascii() and (c.isalnum() or c == "_") for c in role):
        raise ValueError(f"not a plain role name: {role!r}")
    return role


def grant_statements(
    role: str, owner: str, *, maintain: bool = True, append_only: Sequence[str] = APPEND_ONLY
) -> list[str]:
    """The SQL, in order (also what docs/operations.md shows). `maintain`: PostgreSQL 17+'s
    MAINTAIN privilege, so the service's ANALYZE of the tables it has just filled runs.
    `append_only`: audit_event and its yearly partitions (migration 0014), which a role may
    name directly."""
    role, owner = _check(role), _check(owner)
    dml = "SELECT, INSERT, UPDATE, DELETE" + (", MAINTAIN" if maintain else "")
    out = [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT {dml} ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT {dml} ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT EXECUTE ON FUNCTIONS TO {role}",
    ]
    revoke_more = ", MAINTAIN" if maintain else ""
    out += [f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER{revoke_more} "
            f"ON {t} FROM {role}" for t in append_only]  # fmt: skip
    out += [f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER{revoke_more} "
            f"ON {t} FROM {role}" for t in READ_ONLY]  # fmt: skip
    return out


def grant_service(connection: sa.Connection, role: str) -> None:
    """Grant `role` what the service needs, as the schema's owner (the connection's user)."""
    owner = connection.scalar(sa.text("SELECT current_user"))
    if owner == role:
        return
    maintain = int(connection.scalar(sa.text("SHOW server_version_num")) or 0) >= 170000
    present = set(
        connection.scalars(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        )
    )
    partitions = connection.scalars(
        sa.text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass('audit_event') ORDER BY 1"
        )
    )
    append_only = [*APPEND_ONLY, *partitions]
    for statement in grant_statements(role, owner, maintain=maintain, append_only=append_only):
        table = statement.rsplit(" ON ", 1)[-1].split(" FROM ")[0]
        if statement.startswith("REVOKE") and table not in present:
            continue
        connection.exec_driver_sql(statement)


def service_role_of(url: str) -> str:
    """The role a service URL connects as."""
    name = sa.make_url(url).username
    if not name:
        raise ValueError("the service's database URL names no user")
    return name
