"""Admin pages for life events, corrections and the end of a household membership: forms on
the person page, the same services as the JSON routes (`api.persons.routes`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from flask import abort, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue

from api.admin.routes import _actor, bp
from api.auth import allow
from api.db import get_session
from popdb.core.errors import PopdbError
from popdb.registry import corrections, households, life_events

T = TypeVar("T")


@bp.route("/persons/<int:person_id>/life-events", methods=["POST"])
@allow("admin")
def life_event(person_id: int) -> ResponseReturnValue:
    s = get_session()
    form = request.form
    try:
        day = dt.date.fromisoformat(form["occurred_on"]) if form.get("occurred_on") else None
    except ValueError:
        abort(400, "the date must be YYYY-MM-DD")
    _settle(
        lambda: life_events.record(
            s, person_id, kind=form.get("kind", ""), reason=form.get("reason", ""),
            occurred_on=day, record_reference=form.get("record_reference") or None,
            actor=_actor(), request_id=g.request_id,
        ),
        lambda r: f"Recorded: {r.kind}; the person is now {r.status_after}.",
    )  # fmt: skip
    return redirect(url_for("admin.person", person_id=person_id) + "#life")


@bp.route("/persons/<int:person_id>/corrections", methods=["POST"])
@allow("admin")
def correct(person_id: int) -> ResponseReturnValue:
    s = get_session()
    form = request.form
    value: object = form.get("value", "")
    if form.get("field") in ("sex", "marital_status"):
        try:
            value = int(str(value))
        except ValueError:
            abort(400, "that field is a code (a whole number)")
    _settle(
        lambda: corrections.request(
            s, person_id, field=form.get("field", ""), value=value,
            evidence=form.get("evidence", ""), reason=form.get("reason", ""), actor=_actor(),
            request_id=g.request_id,
        ),
        lambda r: f"Correction {r.id}: {r.status}"
        + (" (a second administrator must approve it)." if r.status == "pending" else "."),
    )  # fmt: skip
    return redirect(url_for("admin.person", person_id=person_id) + "#corrections")


@bp.route("/corrections/<int:correction_id>/decision", methods=["POST"])
@allow("admin")
def correction_decision(correction_id: int) -> ResponseReturnValue:
    s = get_session()
    form = request.form
    decision = form.get("decision", "")
    try:
        version = int(form.get("version", ""))
        person_id = int(form.get("person_id", ""))
    except ValueError:
        abort(400, "version and person_id must be whole numbers")
    reason = form.get("reason", "")
    decide: dict[str, Callable[[], object]] = {
        "approve": lambda: corrections.approve(
            s, correction_id, actor=_actor(), version=version, request_id=g.request_id),
        "reject": lambda: corrections.reject(
            s, correction_id, actor=_actor(), version=version, reason=reason,
            request_id=g.request_id),
        "revert": lambda: corrections.revert(
            s, correction_id, actor=_actor(), reason=reason, request_id=g.request_id),
    }  # fmt: skip
    if decision not in decide:
        abort(400, "decision must be approve, reject or revert")
    _settle(decide[decision], lambda _: f"Correction {correction_id}: {decision} done.")
    return redirect(url_for("admin.person", person_id=person_id) + "#corrections")


@bp.route("/persons/<int:person_id>/household/end", methods=["POST"])
@allow("admin")
def end_household(person_id: int) -> ResponseReturnValue:
    s = get_session()
    form = request.form
    try:
        day = dt.date.fromisoformat(form["valid_to"]) if form.get("valid_to") else None
    except ValueError:
        abort(400, "the date must be YYYY-MM-DD")
    _settle(
        lambda: households.end_membership(s, person_id, actor=_actor(), valid_to=day,
                                          reason=form.get("reason", ""), request_id=g.request_id),
        lambda r: f"Household membership ended on {r['valid_to']}.",
    )  # fmt: skip
    return redirect(url_for("admin.person", person_id=person_id) + "#household")


def _settle(work: Callable[[], T], done: Callable[[T], str]) -> None:
    """Run one form's service call in the request's transaction: committed and said done, or
    rolled back with the domain error's sentence shown to the administrator."""
    s = get_session()
    try:
        result = work()
        s.commit()
    except PopdbError as exc:
        s.rollback()
        flash(exc.message, "error")
    else:
        flash(done(result), "ok")
