"""Every statement the hot paths send to a person-owned table is Citus-compatible under the
layout of docs/operations.md ("The distributed engine"): it filters, joins or inserts on the
distribution column (`person.id` = `person_id`), or it is one of the documented exceptions
below, each with why it still works on Citus and what it costs.

Debian's packages carry no Citus (for PostgreSQL 15, Debian's own, nor for 18, the embedded
server's), so this is checked on the SQL text, captured with SQLAlchemy's
`before_cursor_execute` listener while the real paths run on real PostgreSQL: verify,
verify batch, lookup, the import load, the incremental dedup read and write, and a merge.
What it does not prove: COPY (the import load's bulk path) goes through psycopg2's
`copy_expert` and is not seen by the listener; it writes only `source_record`/`match_key`/
`import_issue` (record-owned, distributed by record id; Citus routes COPY rows by their
distribution column). Nor does a textual check replace running on a Citus cluster.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dedup.run import RunOptions
from importers.batches import BatchRequest, register
from importers.pipeline import run_batch
from popdb.core import audit
from popdb.registry.matching import match
from popdb.registry.merges import merge_persons
from tests.distributed.capture import captured
from tests.support import registry
from tests.support.dc01 import fake_rows, write_csv

#: Distributed by person_id, co-located (docs/operations.md).
PERSON_OWNED = ("person", "person_pin", "person_event")
_TOUCHES = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+(person|person_pin|person_event)\b", re.I)
#: A predicate, join condition or inserted column on the distribution column.
_KEYED = re.compile(
    r"(?:\b(?:\w+\.)?(?:person_id|id)\s*(?:=|IN\b|= ANY)"  # WHERE/ON id = …, person_id IN …
    r"|\bINSERT INTO (?:person|person_pin|person_event)\s*\((?:[^)]*\b)?(?:person_id|id)\b)",
    re.I,
)

#: Statements that do not name the distribution column, matched by a pattern of their text,
#: with why they still run on Citus. Keep in step with docs/operations.md.
EXCEPTIONS: dict[str, tuple[str, str]] = {
    "by-number": (
        r"FROM person WHERE person\.personal_id_number = ",
        "verify/lookup resolve a number: a unique-index probe by a non-distribution column, "
        "sent to every shard (no join). On Citus it goes to the number directory "
        "`person_number(personal_id_number, person_id)` distributed by number, then to one "
        "shard by person_id.",
    ),
    "by-number-batch": (
        r"FROM person WHERE person\.personal_id_number IN ",
        "verify batch: the same probe for up to 1,000 numbers (one multi-shard query).",
    ),
    "pins-by-number": (
        r"FROM person_pin WHERE person_pin\.personal_id_number IN ",
        "a number the person once held: the same directory, for former numbers.",
    ),
    "mark-retired-pointers": (
        r"UPDATE person SET merged_into_id = \S+ version = version \+ 1 "
        r"WHERE merged_into_id = ",
        "a merge re-points persons retired into the retired one (rare, multi-shard UPDATE "
        "without a join: allowed by Citus).",
    ),
}


def _normal(sql: str) -> str:
    return " ".join(sql.split())


def classify(statements: list[str]) -> tuple[dict[str, int], list[str], int]:
    """(exception name → hits, unclassified statements, keyed statements)."""
    hits = {name: 0 for name in EXCEPTIONS}
    bad: list[str] = []
    keyed = 0
    for sql in map(_normal, statements):
        if not _TOUCHES.search(sql):
            continue
        if _KEYED.search(sql):
            keyed += 1
            continue
        for name, (pattern, _why) in EXCEPTIONS.items():
            if re.search(pattern, sql, re.I):
                hits[name] += 1
                break
        else:
            bad.append(sql)
    return hits, bad, keyed


def _run(engine: Any, action: Callable[[], Any]) -> list[str]:
    with captured(engine) as statements:
        action()
    return statements


def test_the_classifier_tells_a_keyed_statement_from_a_scan() -> None:
    _, bad, keyed = classify([
        "SELECT * FROM person WHERE id = ANY(%(ids)s)",
        "INSERT INTO person_event (person_id, kind) VALUES (1, 'x')",
        "SELECT * FROM person p JOIN person_pin pp ON pp.person_id = p.id",
        "SELECT count(*) FROM person WHERE status = 'active'",
    ])  # fmt: skip
    assert keyed == 3 and bad == ["SELECT count(*) FROM person WHERE status = 'active'"]


def test_every_hot_path_statement_on_person_owned_tables_is_citus_compatible(
    session, scope, tmp_path: Path, engine, client, make_client
) -> None:
    ids = registry.build_in(session, scope, tmp_path)  # a registry to work on
    _, agency = make_client("agency", legal_basis="a", fields=["full_name"],
                            operations=["verify", "verify_batch", "lookup"],
                            rate_per_second=1000)  # fmt: skip
    number = "001315000222"  # a person with a number (tests/support/registry.py)
    purpose = "mở tài khoản ngân hàng"
    answers: list[int] = []

    def agency_calls() -> None:
        for body in ({"personal_id_number": number, "full_name": "Trần Minh Anh"},
                     {"personal_id_number": "001190999999", "full_name": "Không Có"}):  # fmt: skip
            answers.append(client.post("/api/v1/identity/verify", headers=agency,
                                       json={**body, "purpose": purpose}).status_code)  # fmt: skip
        answers.append(client.post("/api/v1/identity/verify/batch", headers=agency, json={
            "purpose": purpose, "items": [{"personal_id_number": number, "full_name": "X"}],
        }).status_code)  # fmt: skip
        answers.append(client.get(f"/api/v1/identity/persons/{number}?purpose={purpose}",
                                  headers=agency).status_code)  # fmt: skip

    paths: dict[str, list[str]] = {"agency": _run(engine, agency_calls)}
    assert answers == [200, 200, 200, 200]

    a = registry.person_of(session, ids["n1a"])
    b = registry.person_of(session, ids["n1b"])
    assert a != b
    paths["merge"] = _run(engine, lambda: (
        merge_persons(session, a, b, actor=audit.Actor.operator("test"), reason="test"),
        session.flush()))  # fmt: skip

    more = write_csv(tmp_path / "more.csv", fake_rows(40, seed=99))

    def incremental() -> None:
        batch, _ = register(session, BatchRequest(path=more, commune_code="00004"))
        run_batch(scope, batch.id, more)
        match(session.connection(), RunOptions())

    paths["import load and incremental dedup"] = _run(engine, incremental)

    found = {name: 0 for name in EXCEPTIONS}
    for name, statements in paths.items():
        hits, bad, keyed = classify(statements)
        assert not bad, f"{name}: statements on person-owned tables off the distribution " \
            "column:\n" + "\n".join(bad)  # fmt: skip
        assert keyed > 0, f"{name}: no statement on a person-owned table was captured"
        for k, v in hits.items():
            found[k] += v
    # Every documented exception is still real: a stale entry would hide nothing, but would
    # mislead the operator reading docs/operations.md.
    assert all(found.values()), {k: v for k, v in found.items() if not v}
