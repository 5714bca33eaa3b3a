"""schemathesis against /openapi.json: every operation, no server error, no answer outside its
documented schema. A small count per operation here; `POPDB_FUZZ_EXAMPLES=500` on demand."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from api import create_app
from popdb.core.settings import Settings
from tests.support.persons import add_person

EXAMPLES = int(os.environ.get("POPDB_FUZZ_EXAMPLES", "15"))
UNLIMITED = 10**9


@pytest.fixture
def fuzz_keys(app, session, make_client) -> dict[str, dict[str, str]]:
    """Seeded data and keys for every audience; limits lifted so the fuzzer measures the API,
    not the rate limiter (which has tests of its own)."""
    app.config["POPDB_SETTINGS"] = dataclasses.replace(
        app.config["POPDB_SETTINGS"],
        enumeration_flag_misses=UNLIMITED,
        enumeration_block_misses=UNLIMITED,
    )
    add_person(session, personal_id_number="001190000001")
    return {
        "agency": make_client(
            "agency",
            legal_basis="a",
            fields=["full_name", "dob", "sex", "religion"],
            operations=["verify", "verify_batch", "lookup", "predicates"],
            rate_per_second=UNLIMITED,
            rate_per_day=UNLIMITED,
        )[1],  # fmt: skip
        "police": make_client("police", commune_code="00004")[1],
        "admin": make_client("admin")[1],
    }


def _document() -> dict:
    """The OpenAPI document, read from an app that needs no database to describe itself."""
    offline = Settings(database_url="postgresql://unused", home=Path("/nonexistent"))
    app = create_app(offline, session_factory=lambda: None)  # type: ignore[arg-type,return-value]
    return app.test_client().get("/openapi.json").get_json()


# (schemathesis.pytest.from_fixture does not run under pytest 9; the requests go to the
# test's own app, on the test's rolled-back transaction, through `app=`.)
schema = schemathesis.openapi.from_dict(_document())


def _who(path: str) -> str:
    if path.startswith("/api/v1/identity"):
        return "agency"
    if path.startswith("/api/v1/imports"):
        return "police"
    return "admin"


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error_or_off_schema(case, app, fuzz_keys) -> None:  # noqa: ANN001
    case.call_and_validate(
        app=app,
        headers=fuzz_keys[_who(case.operation.path)],
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
        ],
    )
