"""Bring a database to a usable state: reachable, migrated, granted, reference data loaded."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from popdb.core import audit, db, reference
from popdb.core.settings import Settings
from popdb.ops import migrate, roles

log = logging.getLogger(__name__)


def prepare_database(settings: Settings) -> sa.Engine:
    """Start (if embedded), migrate to head as the owner, grant the service role its
    privileges, load reference data and seal the audit chain; idempotent. Returns the
    service's engine: what the caller then does runs as the service role."""
    # the embedded set-up makes its own key, 0600 beside the data (never logged)
    embedded = not settings.database_url and settings.audit_key is None
    if (embedded and audit.ensure_key_file(settings.audit_key_path)
            and audit.keyring().active is None):  # fmt: skip
        audit.use_keyring(audit.Keyring.from_settings(settings))
    owner = db.get_owner_engine(settings)
    migrate.upgrade(owner)
    service_url = db.database_url(settings)
    if db.runs_as_owner(settings):
        log.warning("the service connects as the schema's owner: set POPDB_OWNER_DATABASE_URL "
                    "and give DATABASE_URL a role of its own (docs/operations.md)")  # fmt: skip
    else:
        with owner.begin() as conn:
            roles.grant_service(conn, roles.service_role_of(service_url))
    with db.session_scope(owner) as session:
        reference.load_reference_data(session)
        audit.seal(session)
    return db.get_engine(settings)
