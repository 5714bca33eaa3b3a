"""SQLAlchemy models, one module per aggregate; importing this registers them all."""

from popdb.core.models.admin_unit import AdminUnit, AdminUnitChange, AdminVintage
from popdb.core.models.audit import ArchivedPartition, AuditEvent
from popdb.core.models.base import Base
from popdb.core.models.client import ApiClient
from popdb.core.models.household import Household, HouseholdBatch, HouseholdMembership
from popdb.core.models.import_batch import CommuneSetting, ImportBatch, ImportIssue
from popdb.core.models.life import (
    CorrectionRequest,
    LifeEvent,
)
from popdb.core.models.match import MatchCandidate, MatchKey, MatchModel
from popdb.core.models.person import Person, PersonEvent, PersonPin
from popdb.core.models.source_record import SourceRecord
from popdb.core.models.usage import ClientUsage

__all__ = [
    "AdminUnit", "AdminUnitChange", "AdminVintage", "ApiClient", "ArchivedPartition",
    "AuditEvent", "Base", "ClientUsage", "CommuneSetting", "CorrectionRequest", "Household",
    "HouseholdBatch", "HouseholdMembership", "ImportBatch",
    "ImportIssue", "LifeEvent", "MatchCandidate", "MatchKey", "MatchModel",
    "Person", "PersonEvent", "PersonPin", "SourceRecord",
]  # fmt: skip
