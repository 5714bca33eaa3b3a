"""The lean verify path (issue 21, api/identity/lean.py): the same answers, counts and audit
as the flask-smorest route; leased rate quota never exceeded by racing processes; group-
committed audit rows, each answer only after its own row, a 503 when the write fails."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from api.identity.lean import LeanVerify, parse
from api.identity.schemas import VerifySchema
from api.openapi import VALIDATION_CODE
from popdb.core import audit
from popdb.core.audit_writer import AuditUnavailable, GroupWriter
from popdb.core.models import ApiClient, AuditEvent
from popdb.identity import hot
from popdb.identity.clients import revoke_client, suspend_client
from popdb.identity.usage import Limited
from popdb.ops import migrate
from tests.conftest import _drop_database, _fresh_database
from tests.support.persons import add_person

HOA = "001190000001"
VERIFY = "/api/v1/identity/verify"
PURPOSE = "mở tài khoản ngân hàng"


def lean(app: Any) -> LeanVerify:
    assert isinstance(app.wsgi_app, LeanVerify)
    return app.wsgi_app


@pytest.fixture
def hoa(session):
    return add_person(session, personal_id_number=HOA, dob=(1990, 5, 12))


def verify(client, headers, **body):
    body.setdefault("purpose", PURPOSE)
    return client.post(VERIFY, json=body, headers=headers)


def verify_events(session) -> list[AuditEvent]:
    return list(session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "identity.verify").order_by(AuditEvent.id)))  # fmt: skip


# --- same answers as the route -----------------------------------------------------------------


def test_the_lean_path_answers_like_the_route(app, client, hoa, make_client, session) -> None:
    _, agency = make_client("agency", legal_basis="a", operations=["verify"], fields=["status"])
    headers = {**agency, "X-Officer-Id": "officer.7", "X-Request-Id": "req-lean-1"}
    answers = []
    for lean_on in (True, False):
        if not lean_on:  # the route itself: what the lean layer hands over to
            app.wsgi_app = lean(app).app
        for claims in ({"full_name": "NGUYỄN THỊ HOÀ", "dob": "1990-05-12", "sex": "Nữ"},
                       {"full_name": "Nguyễn Văn An"}, {"sex": 2, "dob": "1990-05-12"}):
            r = verify(client, headers, personal_id_number=HOA, **claims)
            answers.append((r.status_code, r.get_json(),
                            {k: v for k, v in r.headers.items() if k != "Content-Length"}))
    lean_half, route_half = answers[:3], answers[3:]
    assert lean_half == route_half
    assert [a[1]["match"] for a in lean_half] == [True, False, True]
    assert lean_half[0][1] == {"match": True, "status": "active", "request_id": "req-lean-1"}
    # the audit rows: identical but for ids, times and hashes
    shown = ("actor_id", "actor_name", "role", "action", "subject_type", "subject_id",
             "purpose", "legal_basis", "fields", "request_id", "detail")  # fmt: skip
    rows = [{k: getattr(e, k) for k in shown} for e in verify_events(session)]
    assert rows[:3] == rows[3:] and len(rows) == 6
    assert rows[0]["detail"] == {"personal_id_number": HOA, "match": True,
                                 "officer_id": "officer.7"}  # fmt: skip


def test_the_ordinary_verify_never_reaches_flask(app, client, hoa, make_client) -> None:
    _, agency = make_client("agency", legal_basis="a", operations=["verify"])
    for _ in range(3):
        assert verify(client, agency, personal_id_number=HOA, full_name="Nguyễn Thị Hòa"
                      ).get_json()["match"] is True  # fmt: skip
    assert (lean(app).answered, lean(app).delegated) == (3, 0)


@pytest.mark.parametrize(
    "body",
    [
        {"personal_id_number": HOA, "full_name": "Hòa"},  # no purpose
        {"personal_id_number": HOA, "purpose": "x", "full_name": "Hòa"},
        {"personal_id_number": HOA, "purpose": PURPOSE},  # nothing to compare
        {"personal_id_number": HOA, "purpose": PURPOSE, "full_name": None},
        {"personal_id_number": HOA, "purpose": PURPOSE, "full_name": "Hòa", "nickname": "H"},
        {"personal_id_number": HOA, "purpose": PURPOSE, "sex": "Nứ"},
        {"personal_id_number": HOA, "purpose": PURPOSE, "dob": "12/05/1990"},
        {"personal_id_number": HOA, "purpose": PURPOSE, "full_name": "Hòa\x00"},
        [HOA],
    ],
)
def test_bodies_the_lean_parser_is_unsure_of_get_the_routes_400(
    app, client, hoa, make_client, body
) -> None:
    _, agency = make_client("agency", legal_basis="a", operations=["verify"])
    r = client.post(VERIFY, data=json.dumps(body), headers={
        **agency, "Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["code"] == VALIDATION_CODE
    assert (lean(app).answered, lean(app).delegated) == (0, 1)


def test_a_number_the_schemas_regexp_lets_through_is_left_to_the_route(
    app, client, hoa, make_client
) -> None:
    """`^[0-9]{12}$` matches before a final newline; the lean parser does not guess."""
    _, agency = make_client("agency", legal_basis="a", operations=["verify"])
    r = verify(client, agency, personal_id_number=HOA + "\n", sex=2)
    assert r.status_code in (200, 400)
    assert (lean(app).answered, lean(app).delegated) == (0, 1)


@pytest.mark.parametrize(
    "body",
    [
        {"personal_id_number": HOA, "purpose": PURPOSE, "full_name": "Hòa"},
        {"personal_id_number": HOA, "purpose": PURPOSE, "sex": "nu", "dob": "1990"},
        {"personal_id_number": HOA, "purpose": PURPOSE, "sex": 1, "nationality": "VN",
         "consent_ref": "C-1", "father_name": "Nguyễn Văn Ba"},
        {"personal_id_number": HOA, "purpose": "abc", "sex": "female"},
        {"personal_id_number": HOA, "purpose": PURPOSE, "full_name": "x" * 201},
        {"personal_id_number": HOA, "purpose": PURPOSE, "nationality": "vn"},
        {"personal_id_number": HOA, "purpose": PURPOSE, "sex": True},
        {"personal_id_number": 1190000001, "purpose": PURPOSE, "sex": 1},
    ],
)
def test_the_lean_parser_takes_only_what_the_schema_takes_and_loads_it_alike(body) -> None:
    mine = parse(json.dumps(body).encode())
    try:
        theirs = VerifySchema().load(body)
    except ValidationError:
        assert mine is None
    else:
        assert mine is None or mine == theirs


# --- refusals take effect at once --------------------------------------------------------------


def test_suspension_revocation_and_expiry_stop_the_next_verify(
    app, client, hoa, make_client, session
) -> None:
    """The key row is read by every call: a leased quota slice never outlives a refusal."""
    for stop in ("suspend", "revoke", "expire"):
        client_id, agency = make_client("agency", legal_basis="a", operations=["verify"],
                                        rate_per_second=10_000)  # a slice of many units
        assert verify(client, agency, personal_id_number=HOA, sex=2).status_code == 200
        row = session.get(ApiClient, client_id)
        if stop == "suspend":
            suspend_client(session, row, "test")
        elif stop == "revoke":
            revoke_client(session, client_id)
        else:
            row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.flush()
        r = verify(client, agency, personal_id_number=HOA, sex=2)
        want = {"suspend": (403, "client_suspended"), "revoke": (401, "unauthorized"),
                "expire": (401, "client_expired")}[stop]  # fmt: skip
        assert (r.status_code, r.get_json()["code"]) == want


def test_a_policy_without_verify_or_legal_basis_is_refused_by_the_route(
    app, client, hoa, make_client
) -> None:
    _, lookup_only = make_client("agency", legal_basis="a", operations=["lookup"],
                                 fields=["full_name"])  # fmt: skip
    _, no_basis = make_client("agency", operations=["verify"])
    for headers in (lookup_only, no_basis):
        assert verify(client, headers, personal_id_number=HOA, sex=2).status_code == 403
    assert lean(app).answered == 0


def test_the_daily_quota_holds_on_the_lean_path(app, client, hoa, make_client) -> None:
    _, agency = make_client("agency", legal_basis="a", operations=["verify"], rate_per_day=3)
    codes = [verify(client, agency, personal_id_number=HOA, sex=2).status_code
             for _ in range(5)]  # fmt: skip
    assert codes == [200, 200, 200, 429, 429]
    r = verify(client, agency, personal_id_number=HOA, sex=2)
    assert r.get_json()["errors"] == {"limit": "per_day"} and int(r.headers["Retry-After"]) >= 1


def test_a_failed_audit_write_is_a_503_and_nothing_is_answered(
    app, client, hoa, make_client, session, monkeypatch
) -> None:
    _, agency = make_client("agency", legal_basis="a", operations=["verify"])

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT INTO audit_event", {}, Exception("disk gone"))

    monkeypatch.setattr(audit, "append_many", broken)
    r = verify(client, agency, personal_id_number=HOA, full_name="Nguyễn Thị Hòa")
    assert r.status_code == 503, r.get_json()
    body = r.get_json()
    assert body["code"] == "database_unavailable" and "match" not in body
    assert r.headers["Retry-After"] == "5"
    assert verify_events(session) == []


# --- across processes: a fresh database with real commits --------------------------------------


@pytest.fixture(scope="module")
def committed_url(server_url: str, worker_id: str, testrun_uid: str) -> Iterator[str]:
    name = f"popdb_lean_{testrun_uid[:8]}_{worker_id}"
    url = _fresh_database(server_url, name)
    engine = sa.create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    _drop_database(server_url, name)


def _claimer(conn: Any) -> hot.Claimer:
    def claim(client_id: int, wanted: list[tuple[str, int, int]]) -> list[tuple[str, int, float]]:
        with conn.cursor() as cur:
            cur.execute(
                hot.CLAIM[2].replace("$1", "%s").replace("$2", "%s::text[]")
                .replace("$3", "%s::int[]").replace("$4", "%s::int[]"),
                [client_id, [k for k, _, _ in wanted], [w for _, w, _ in wanted],
                 [n for _, _, n in wanted]],
            )  # fmt: skip
            return [(k, int(h), float(e)) for k, h, e in cur.fetchall()]

    return claim


def test_racing_processes_never_exceed_the_quota(committed_url: str) -> None:
    """8 "processes" (each its own leases and connection, as gunicorn workers have) take
    units of a daily quota of 500 until refused: at most 500 are granted in all, and at
    least 500 less what the slices may hold back."""
    engine = sa.create_engine(committed_url)
    with engine.begin() as conn:
        client_id = conn.execute(sa.insert(ApiClient).values(
            name="racer", role="agency", policy={}, key_hash="r" * 64).returning(ApiClient.id)
        ).scalar_one()  # fmt: skip
    limit, processes = 500, 8
    granted = [0] * processes
    start = threading.Barrier(processes)

    def process(i: int) -> None:
        raw = engine.raw_connection()
        raw.dbapi_connection.autocommit = True  # type: ignore[union-attr]
        leases = hot.QuotaLeases(processes=processes)
        claim = _claimer(raw)
        start.wait()
        try:
            while True:
                refused = leases.take(client_id, None, limit, claim)
                if refused is not None:
                    assert isinstance(refused, Limited) and refused.limit == "per_day"
                    return
                granted[i] += 1
        finally:
            raw.close()

    threads = [threading.Thread(target=process, args=(i,)) for i in range(processes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    held_back = processes * (hot.slice_size(limit, processes) - 1)
    assert limit - held_back <= sum(granted) <= limit, granted
    engine.dispose()


def test_group_commit_gives_each_entry_its_own_row_and_the_chain_verifies(
    committed_url: str,
) -> None:
    """Two writers (two processes) and twelve threads append at once: every entry is in the
    chain exactly once, each thread got its own row back, and the chain verifies."""
    writers = [GroupWriter(sa.create_engine(committed_url), max_wait_s=0.002) for _ in range(2)]
    got: list[audit.Appended] = []
    lock = threading.Lock()

    def thread(i: int) -> None:
        writer = writers[i % 2]
        for n in range(15):
            writer.announce()
            row = writer.append(audit.Actor(None, f"t{i}", "operator"),
                                audit.Entry("test.group", request_id=f"{i}-{n}"),
                                announced=True)  # fmt: skip
            with lock:
                got.append(row)

    threads = [threading.Thread(target=thread, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine = sa.create_engine(committed_url)
    with engine.connect() as conn:
        stored = dict(conn.execute(sa.select(AuditEvent.id, AuditEvent.request_id).where(
            AuditEvent.action == "test.group")).tuples().all())  # fmt: skip
        assert audit.verify(conn).ok
    assert len(stored) == 180 == len({a.id for a in got})
    assert set(stored.values()) == {f"{i}-{n}" for i in range(12) for n in range(15)}
    assert {a.id for a in got} == set(stored)
    assert sum(w.entries for w in writers) == 180 and sum(w.groups for w in writers) <= 180
    engine.dispose()


_FLUSHED_PAST = sa.text("SELECT pg_current_wal_flush_lsn() >= CAST(:l AS pg_lsn)")


class _Probing(GroupWriter):
    """Looks at the server from another connection between the group commit's two steps."""

    def __init__(self, engine: sa.Engine, probe: sa.Engine) -> None:
        super().__init__(engine)
        self.probe = probe
        self.seen: list[tuple[bool, str]] = []

    def between_steps(self, appended: Sequence[audit.Appended]) -> None:
        with self.probe.begin() as conn:
            free = conn.scalar(sa.text("SELECT pg_try_advisory_xact_lock(:k)"),
                               {"k": audit.CHAIN_LOCK})  # fmt: skip
            lsn = conn.scalar(sa.text("SELECT pg_current_wal_insert_lsn()::text"))
        self.seen.append((bool(free), lsn))


def test_the_chain_lock_is_free_before_the_flush_and_the_answer_waits_for_the_flush(
    committed_url: str,
) -> None:
    """Step 1 releases the chain lock at its (asynchronous) commit: another session can take
    it before the group is durable. The entry is only returned once the WAL is flushed past
    everything step 1 wrote (insert position seen between the steps ≤ flush position after)."""
    probe = sa.create_engine(committed_url)
    writer = _Probing(sa.create_engine(committed_url), probe)
    for n in range(5):
        writer.append(audit.Actor(None, "probe", "operator"), audit.Entry("test.flush"))
        with probe.connect() as conn:
            flushed = conn.scalar(_FLUSHED_PAST, {"l": writer.seen[-1][1]})
        assert writer.seen[-1][0], "the chain lock was still held between the steps"
        assert flushed, f"append {n} returned before its group was flushed to the WAL"
    with probe.connect() as conn:
        assert audit.verify(conn).ok
    probe.dispose()
    writer.engine.dispose()


def test_a_writer_whose_database_is_gone_raises_for_every_waiting_entry() -> None:
    writer = GroupWriter(sa.create_engine("postgresql://nobody@127.0.0.1:1/none"))
    with pytest.raises(AuditUnavailable):
        writer.append(audit.Actor(None, "x", "operator"), audit.Entry("test.gone"))


def test_past_the_questions_limit_the_statement_does_not_read_the_person(
    session, hoa, make_client
) -> None:
    """The questions-per-number count comes first: over it, the person is not read at all."""
    from api.identity.lean import _named
    from popdb.identity.clients import hash_key
    from popdb.identity.usage import Question, question_keys

    _, headers = make_client("agency", legal_basis="a", operations=["verify"])
    key = headers["Authorization"].removeprefix("Bearer ")
    marks, counters = question_keys([Question("verify", HOA, {"sex": 2})])

    def run(limit: int) -> Any:
        params = [hash_key(key), HOA, marks, counters, 600, False, True, limit]
        row = session.connection().exec_driver_sql(
            _named(hot.CHECK_AND_RESOLVE[2]), {f"p{i}": v for i, v in enumerate(params, 1)}
        ).one()
        return hot.split_row(row)

    _, counted, person = run(10)
    assert counted and counted[0][1] == 1 and person is not None and person.id == hoa.id
    _, counted, person = run(0)  # the same question: counted once, now over a limit of 0
    assert counted and counted[0][1] == 1 and person is None


def _check_and_resolve(conn: Any, key: str, number: str, claims: dict[str, Any],
                       limit: int) -> tuple[Any, Any, Any]:  # fmt: skip
    """`hot.CHECK_AND_RESOLVE` as the lean path runs it, on a connection or session."""
    from api.identity.lean import _named
    from popdb.identity.clients import hash_key
    from popdb.identity.usage import Question, question_keys

    marks, counters = question_keys([Question("verify", number, claims)])
    params = [hash_key(key), number, marks, counters, 600, False, True, limit]
    row = conn.exec_driver_sql(
        _named(hot.CHECK_AND_RESOLVE[2]), {f"p{i}": v for i, v in enumerate(params, 1)}
    ).one()
    return hot.split_row(row)


def test_slices_are_small_for_small_limits_and_die_with_their_window(monkeypatch) -> None:
    """A 20/s client on 2 workers claims one unit at a time (exactly the old count); a
    slice is never used past the end of the window it was claimed in."""
    assert hot.slice_size(20, 2) == 1 and hot.slice_size(10**9, 2) == hot.MAX_SLICE
    assert hot.slice_size(1000, 2) == 1000 // (hot.SLICE_SHARE * 2)
    counter = {"second": 0}
    claims: list[list[tuple[str, int, int]]] = []
    clock = [100.0]
    monkeypatch.setattr(hot.time, "monotonic", lambda: clock[0])

    def claim(client_id: int, wanted: list[tuple[str, int, int]]) -> list[tuple[str, int, float]]:
        claims.append(wanted)
        out = []
        for kind, _, n in wanted:
            counter[kind] += n
            out.append((kind, counter[kind], 0.75))  # 0.25 s left in this second
        return out

    leases = hot.QuotaLeases(processes=1)
    assert all(leases.take(7, 1000, None, claim) is None for _ in range(10))
    assert len(claims) == 1  # ten calls, one claim of 125 units
    clock[0] += 0.3  # the window has ended: its units are gone
    assert leases.take(7, 1000, None, claim) is None and len(claims) == 2
    counter["second"] = 10_000  # others took the whole second: refused, with Retry-After
    clock[0] += 0.3
    refused = leases.take(7, 1000, None, claim)
    assert refused is not None and refused.limit == "per_second" and refused.retry_after == 1


def test_racing_questions_about_one_number_never_answer_more_than_the_limit(
    committed_url: str,
) -> None:
    """8 connections (as 8 gunicorn threads or workers) ask 24 different questions about one
    number, each asked by two connections at once, and repeat them: at most `limit`
    different questions are ever answered (the person read), whatever the interleaving of
    the read-only repeats and the counting writes."""
    from sqlalchemy.orm import Session

    from popdb.identity.clients import create_client

    engine = sa.create_engine(committed_url)
    number = "001190000099"
    with Session(engine) as s:
        add_person(s, personal_id_number=number)
        key = create_client(s, name="racing questions", role="agency",
                            policy={"legal_basis": "a", "operations": ["verify"]}).api_key
        s.commit()  # fmt: skip
    limit, connections = 5, 8
    questions = [{"dob": f"1990-01-{day:02d}"} for day in range(1, 25)]
    answered: set[int] = set()
    lock = threading.Lock()
    start = threading.Barrier(connections)

    def ask(i: int) -> None:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            start.wait()
            for _round in range(3):  # each question twice at once, then repeated
                for q in range(i % 2, len(questions), 2):
                    _, counted, person = _check_and_resolve(conn, key, number, questions[q],
                                                            limit)  # fmt: skip
                    assert counted is not None
                    if person is not None:
                        with lock:
                            answered.add(q)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= len(answered) <= limit, answered
    engine.dispose()
