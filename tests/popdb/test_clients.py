"""API clients: keys shown once, stored hashed, revocable; roles checked."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core.errors import InvalidInput
from popdb.core.models import ApiClient
from popdb.identity import clients
from popdb.identity.policy import build_policy


def test_only_a_hash_of_the_key_is_stored(session: Session) -> None:
    issued = clients.create_client(session, name="Tax office", role="agency")
    stored = session.get(ApiClient, issued.client_id)
    assert stored is not None
    assert issued.api_key not in (stored.key_hash, stored.name)
    assert stored.key_hash == clients.hash_key(issued.api_key)
    assert len(issued.api_key) >= 40  # 256 bits, url-safe


def test_a_key_authenticates_its_client_until_revoked(session: Session) -> None:
    issued = clients.create_client(session, name="Admin", role="admin")
    assert clients.authenticate(session, issued.api_key).id == issued.client_id
    assert clients.authenticate(session, issued.api_key + "x") is None
    clients.revoke_client(session, issued.client_id)
    assert clients.authenticate(session, issued.api_key) is None


def test_rotating_a_key_retires_the_old_one(session: Session) -> None:
    first = clients.create_client(session, name="Bank", role="agency")
    second = clients.rotate_key(session, first.client_id)
    assert clients.authenticate(session, first.api_key) is None
    assert clients.authenticate(session, second.api_key).id == first.client_id


def test_police_clients_must_name_a_valid_commune(session: Session) -> None:
    with pytest.raises(InvalidInput, match="commune"):
        clients.create_client(session, name="Police", role="police")
    with pytest.raises(InvalidInput, match="commune"):
        clients.create_client(session, name="Police", role="police", commune_code="12")
    issued = clients.create_client(session, name="Police", role="police", commune_code="00004")
    assert session.get(ApiClient, issued.client_id).commune_code == "00004"


def test_the_database_refuses_a_police_client_without_commune(session: Session) -> None:
    session.add(ApiClient(name="x", role="police", key_hash="0" * 64))
    with pytest.raises(sa.exc.IntegrityError, match="police_has_commune"):
        session.flush()


def test_unknown_roles_are_refused(session: Session) -> None:
    with pytest.raises(InvalidInput, match="role"):
        clients.create_client(session, name="x", role="superuser")


def test_an_agency_without_fields_may_only_verify() -> None:
    assert build_policy(role="agency", fields=None, rate=None) == {
        "legal_basis": "a",
        "operations": ["verify", "verify_batch"],
        "fields": [],
    }
    granted = build_policy(role="agency", fields="full_name,dob", rate=50)
    assert granted["operations"][-1] == "lookup" and granted["rate_per_second"] == 50


def test_unknown_policy_fields_are_named_in_the_error() -> None:
    with pytest.raises(InvalidInput, match="shoe_size"):
        build_policy(role="agency", fields="full_name,shoe_size", rate=None)
