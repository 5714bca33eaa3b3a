"""`popdb serve --demo` prints a working admin key; a later start rotates it."""

from __future__ import annotations

from popdb.identity.clients import authenticate
from popdb.ops.demo import demo_admin_key


def test_the_demo_admin_key_signs_in_and_a_new_one_replaces_it(session):
    first = demo_admin_key(session)
    assert authenticate(session, first).role == "admin"
    second = demo_admin_key(session)
    assert authenticate(session, second) is not None and authenticate(session, first) is None
