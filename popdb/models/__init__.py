"""SQLAlchemy models, one module per aggregate; importing this registers them all."""

from popdb.models.admin_unit import AdminUnit, AdminUnitChange, AdminVintage
from popdb.models.audit import AuditEvent
from popdb.models.base import Base
from popdb.models.client import ApiClient
from popdb.models.import_batch import ImportBatch, ImportIssue
from popdb.models.match import MatchCandidate, MatchKey, MatchModel
from popdb.models.person import Person, PersonEvent, PersonPin
from popdb.models.source_record import SourceRecord
from popdb.models.usage import ClientUsage

__all__ = [
    "AdminUnit", "AdminUnitChange", "AdminVintage", "ApiClient", "AuditEvent", "Base",
    "ClientUsage", "ImportBatch", "ImportIssue", "MatchCandidate", "MatchKey", "MatchModel",
    "Person", "PersonEvent", "PersonPin", "SourceRecord",
]  # fmt: skip
