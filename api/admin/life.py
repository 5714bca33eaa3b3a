"""Admin pages for life events and corrections: forms on the person page, the same services
as the JSON routes (`api.persons.routes`)."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue

from api.admin.routes import _actor, bp
from api.auth import allow
from api.db import get_session
from popdb.core.errors import PopdbError
from popdb.registry import corrections, life_events


@bp.route("/persons/<int:person_id>/life-events", methods=["POST"])
@allow("admin")
def life_event(person_id: int) -> ResponseReturnValue:
    s = get_session()
    form = request.form
    try:
        day = dt.date.fromisoformat(form["occurred_on"]) if form.get("occurred_on") else None
    except ValueError:
        abort(400, "the date must be YYYY-MM-DD")
    try:
        result = life_events.record(
            s, person_id, kind=form.get("kind", ""), reason=form.get("reason", ""),
            occurred_on=day, record_reference=form.get("record_reference") or None,
            actor=_actor(), request_id=g.request_id,
        )  # fmt: skip
        s.commit()
    except PopdbError as exc:
        s.rollback()
        flash(exc.message, "error")
    else:
        flash(f"Recorded: {result.kind}; the person is now {result.status_after}.", "ok")
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
    try:
        result = corrections.request(
            s, person_id, field=form.get("field", ""), value=value,
            evidence=form.get("evidence", ""), reason=form.get("reason", ""), actor=_actor(),
            request_id=g.request_id,
        )  # fmt: skip
        s.commit()
    except PopdbError as exc:
        s.rollback()
        flash(exc.message, "error")
    else:
        flash(f"Correction {result.id}: {result.status}"
              + (" (a second administrator must approve it)." if result.status == "pending"
                 else "."), "ok")  # fmt: skip
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
    try:
        if decision == "approve":
            corrections.approve(s, correction_id, actor=_actor(), version=version,
                                request_id=g.request_id)  # fmt: skip
        elif decision == "reject":
            corrections.reject(s, correction_id, actor=_actor(), version=version,
                               reason=form.get("reason", ""), request_id=g.request_id)
        elif decision == "revert":
            corrections.revert(s, correction_id, actor=_actor(), reason=form.get("reason", ""),
                               request_id=g.request_id)  # fmt: skip
        else:
            abort(400, "decision must be approve, reject or revert")
        s.commit()
    except PopdbError as exc:
        s.rollback()
        flash(exc.message, "error")
    else:
        flash(f"Correction {correction_id}: {decision} done.", "ok")
    return redirect(url_for("admin.person", person_id=person_id) + "#corrections")
