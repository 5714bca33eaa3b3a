"""Agency policies: legal basis, operations, fields (sensitive by name), rates, expiry; every
client change in the audit chain; the CLI options."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import audit
from popdb.core.errors import InvalidInput
from popdb.core.models import ApiClient, AuditEvent
from popdb.identity import clients
from popdb.identity.policy import BASIC_FIELDS, SENSITIVE_FIELDS, Policy, build_policy
from tests.popdb.test_cli import _env, popdb


def test_basic_fields_never_include_the_sensitive_ones() -> None:
    policy = build_policy(role="agency", fields="basic", rate=None)
    assert set(policy["fields"]) == set(BASIC_FIELDS)
    assert not SENSITIVE_FIELDS & set(policy["fields"])
    named = build_policy(role="agency", fields="basic,religion", rate=None)
    assert "religion" in named["fields"] and "ethnicity" not in named["fields"]


def test_a_policy_names_legal_basis_operations_rates_and_name_matching() -> None:
    policy = build_policy(
        role="agency", fields=None, rate=5, per_day=1000, legal_basis="đ",
        operations="verify,predicates", name_matching="fold",
    )  # fmt: skip
    read = Policy.of(policy)
    assert read.legal_basis == "đ" and read.needs_consent
    assert read.operations == {"verify", "predicates"} and read.fields == ()
    assert (read.rate_per_second, read.rate_per_day) == (5, 1000)
    assert read.name_matching == "fold"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"legal_basis": "e"}, "legal-basis"),
        ({"operations": "verify,delete"}, "delete"),
        ({"operations": "lookup"}, "needs --fields"),
        ({"operations": "verify", "fields": "dob"}, "only matter with the lookup"),
        ({"per_day": 0}, "per-day"),
        ({"rate": -1}, "rate"),
        ({"name_matching": "soundex"}, "--names"),
    ],
)
def test_bad_policies_are_refused_with_the_reason(kwargs, message) -> None:
    args = {"role": "agency", "fields": None, "rate": None, **kwargs}
    with pytest.raises(InvalidInput, match=message):
        build_policy(**args)


def test_policy_options_are_for_agencies_only() -> None:
    with pytest.raises(InvalidInput, match="--legal-basis"):
        build_policy(role="police", fields=None, rate=None, legal_basis="c")


def test_every_client_change_is_an_audit_event(session: Session) -> None:
    issued = clients.create_client(session, name="Bank", role="agency", policy={"fields": []})
    clients.rotate_key(session, issued.client_id)
    client = session.get(ApiClient, issued.client_id)
    clients.suspend_client(session, client, "test")
    clients.unblock_client(session, issued.client_id)
    clients.revoke_client(session, issued.client_id)
    rows = session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.subject_type == "api_client",
               AuditEvent.subject_id == str(issued.client_id))
        .order_by(AuditEvent.id)
    ).all()  # fmt: skip
    assert [r.action for r in rows] == [
        "client.created", "client.rotated", "client.suspended", "client.unblocked",
        "client.revoked",
    ]  # fmt: skip
    assert rows[0].role == "operator" and rows[2].role == "agency"
    assert issued.api_key not in json.dumps([r.detail for r in rows])
    assert audit.verify(session.connection()).ok


def test_an_expiry_needs_a_time_zone(session: Session) -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        clients.create_client(session, name="x", role="agency", expires_at=dt.datetime(2030, 1, 1))


def test_refusal_names_expiry_and_suspension() -> None:
    now = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    client = ApiClient(name="x", role="agency", expires_at=now - dt.timedelta(seconds=1))
    assert clients.refusal(client, now)[0] == "client_expired"
    client = ApiClient(name="x", role="agency", suspended_at=now, suspended_reason="burst")
    code, message = clients.refusal(client, now)
    assert code == "client_suspended" and "burst" in message
    assert clients.refusal(ApiClient(name="x", role="agency"), now) is None


def test_cli_creates_an_agency_with_its_policy_and_audits_it(scratch_database_url: str) -> None:
    env = _env(DATABASE_URL=scratch_database_url)
    done = popdb(
        "clients", "create", "--name", "Ngân hàng X", "--role", "agency",
        "--fields", "full_name,dob", "--rate", "10", "--per-day", "5000",
        "--legal-basis", "đ", "--operations", "verify,lookup,predicates",
        "--names", "fold", "--expires", "2030-01-01", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    client_id = json.loads(done.stdout)["client_id"]
    listed = [json.loads(line) for line in popdb("clients", "list", env=env).stdout.splitlines()]
    (mine,) = [c for c in listed if c["client_id"] == client_id]
    assert mine["policy"] == {
        "rate_per_second": 10, "rate_per_day": 5000, "legal_basis": "đ",
        "operations": ["verify", "lookup", "predicates"], "fields": ["full_name", "dob"],
        "name_matching": "fold",
    }  # fmt: skip
    assert mine["expires_at"].startswith("2030-01-01")
    unblocked = popdb("clients", "unblock", str(client_id), env=env)
    assert unblocked.returncode == 0, unblocked.stderr
    bad = popdb("clients", "create", "--name", "x", "--role", "agency", "--expires", "soon",
                env=env)  # fmt: skip
    assert bad.returncode == 2 and "--expires" in bad.stderr
    engine = sa.create_engine(scratch_database_url)
    with engine.connect() as conn:
        actions = conn.scalars(sa.text("SELECT action FROM audit_event ORDER BY id")).all()
    engine.dispose()
    assert actions == ["client.created", "client.unblocked"]
    assert popdb("audit", "verify", env=env).returncode == 0
