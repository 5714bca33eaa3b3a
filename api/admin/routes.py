"""The admin pages: sign-in, the review queue, the compare page, persons, import batches.

They call the same services as the JSON routes. Signing in turns an admin API key into a
session cookie valid for /admin only; every form carries a CSRF token bound to the session.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue

from api.admin import labels
from api.admin.waterfall import waterfall
from api.auth import (
    ADMIN_SESSION_FINGERPRINT,
    ADMIN_SESSION_ID,
    ADMIN_SESSION_KEY,
    ADMIN_SESSION_SUBJECT,
    allow,
    current_client,
    public,
    session_subject,
)
from api.db import get_session
from api.imports.routes import audit_report_read, with_bom
from api.reviews.routes import claim_hold, csv_response
from dedup.clustering import REASONS
from importers.batches import get_batch
from importers.error_report import report_lines
from popdb.core import audit
from popdb.core.errors import PopdbError
from popdb.identity.clients import authenticate, refusal
from popdb.registry import (
    corrections,
    dashboard,
    life_events,
    merges,
    queue_export,
    reviews,
    search,
)
from popdb.registry import reads as person_reads

bp = Blueprint("admin", __name__, url_prefix="/admin")
_CSRF = "csrf_token"


def csrf_token() -> str:
    if _CSRF not in session:
        session[_CSRF] = secrets.token_urlsafe(32)
    return session[_CSRF]


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "signed_in": g.get("client")}


bp.add_app_template_filter(labels.shown, "shown")
bp.add_app_template_filter(labels.field_label, "label")
bp.add_app_template_filter(labels.event_sentence, "sentence")
bp.add_app_template_test(labels.differs, "differs")


@bp.before_request
def _check_csrf() -> None:
    if request.method == "POST":
        sent = request.form.get(_CSRF, "")
        expected = session.get(_CSRF, "")
        if not expected or not hmac.compare_digest(sent, expected):
            abort(400, "The form is stale or was not sent by this site; reload and try again.")


def _actor() -> audit.Actor:
    return audit.Actor.of(current_client())


def _safe_next(target: str | None) -> str:
    """Only a path under /admin on this site: never an open redirect."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin"):
        return url_for("admin.queue")
    return target or url_for("admin.queue")


def _checked_next() -> str | None:
    """`next` as sent; control characters (CR/LF: a header injection) are a 400, not a 500."""
    target = request.args.get("next")
    if target is not None and any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        abort(400, "next must be a path on this site without control characters.")
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> ResponseReturnValue:
    """Sign in with an admin API key; the key itself is never kept in the cookie.

    The same refusal rules as the API's Bearer check (api/auth.py): a revoked or rotated key
    is not found, an expired or suspended one is refused. The session gets a new id and a
    new CSRF token (nothing known before sign-in is worth anything after), and its sign-in
    is an audit event that sign-out closes.
    """
    error = None
    target = _checked_next()
    if request.method == "POST":
        client = authenticate(get_session(), request.form.get("api_key", "").strip())
        refused = refusal(client) if client is not None else None
        if client is None or client.role != "admin":
            error = "That is not an active admin key."
        elif refused is not None:
            error = refused[1]
        else:
            session_id = secrets.token_urlsafe(32)
            session.clear()  # a fresh session at sign-in: no fixation
            session.permanent = True
            session[ADMIN_SESSION_KEY] = client.id
            session[ADMIN_SESSION_FINGERPRINT] = client.key_hash[:16]
            session[ADMIN_SESSION_ID] = session_id
            session[_CSRF] = secrets.token_urlsafe(32)
            audit.record(get_session(), actor=audit.Actor.of(client), action="admin.sign_in",
                         subject_type=ADMIN_SESSION_SUBJECT,
                         subject_id=session_subject(session_id),
                         request_id=g.request_id)  # fmt: skip
            get_session().commit()
            return redirect(_safe_next(target))
    return render_template("admin/sign_in.html", error=error), (401 if error else 200)


@bp.route("/sign-out", methods=["POST"])
@allow("admin")
def sign_out() -> ResponseReturnValue:
    """End the session on the server too: a copy of the cookie is refused from now on."""
    session_id = session.get(ADMIN_SESSION_ID)
    if isinstance(session_id, str):
        audit.record(get_session(), actor=_actor(), action="admin.sign_out",
                     subject_type=ADMIN_SESSION_SUBJECT, subject_id=session_subject(session_id),
                     request_id=g.request_id)  # fmt: skip
        get_session().commit()
    session.clear()
    return redirect(url_for("admin.sign_in"))


@bp.route("/", methods=["GET"])
@allow("admin")
def home() -> ResponseReturnValue:
    return redirect(url_for("admin.queue"))


def _float(name: str) -> float | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        abort(400, f"{name} must be a number between 0 and 1")
    if not 0 <= value <= 1:
        abort(400, f"{name} must be between 0 and 1")
    return value


@bp.route("/reviews", methods=["GET"])
@allow("admin")
def queue() -> ResponseReturnValue:
    status = request.args.get("status") or reviews.OPEN_FILTER
    commune = request.args.get("commune", "").strip() or None
    filters = reviews.QueueFilter(status=status, commune=commune,
                                  min_probability=_float("min_probability"),
                                  max_probability=_float("max_probability"))  # fmt: skip
    s = get_session()
    try:
        page = reviews.list_items(s, filters, after=request.args.get("after"), limit=50)
    except PopdbError as exc:
        abort(400, exc.message)
    return render_template(
        "admin/queue.html", page=page, counts=reviews.counts(s, commune=commune),
        export_url=url_for("admin.export_queue",
                           **{k: v for k, v in request.args.items() if k != "after" and v}),
        status=status, commune=commune or "", args=request.args,
        statuses=[reviews.OPEN_FILTER, *reviews.STATUSES, reviews.AWAITING_APPROVAL],
    )  # fmt: skip


@bp.route("/reviews/export.csv", methods=["GET"])
@allow("admin")
def export_queue() -> ResponseReturnValue:
    """The filtered queue as CSV (names, dates of birth, numbers): audited."""
    filters = reviews.QueueFilter(
        status=request.args.get("status") or reviews.OPEN_FILTER,
        commune=request.args.get("commune", "").strip() or None,
        min_probability=_float("min_probability"), max_probability=_float("max_probability"),
    )  # fmt: skip
    s = get_session()
    try:
        lines = queue_export.export_lines(s, filters, actor=_actor(), request_id=g.request_id)
    except PopdbError as exc:
        abort(400, exc.message)
    s.commit()
    return csv_response(lines, "review-queue.csv")


@bp.route("/persons", methods=["GET"])
@allow("admin")
def find_persons() -> ResponseReturnValue:
    """Search persons by number, old number, or name and birth year (audited per person)."""
    form = {k: request.args.get(k, "").strip() for k in
            ("personal_id_number", "old_id_number", "name", "birth_year")}  # fmt: skip
    found = None
    error = None
    if any(form.values()):
        try:
            year = int(form["birth_year"]) if form["birth_year"] else None
        except ValueError:
            year = None
            error = "The birth year is a number, e.g. 1985."
        if error is None:
            query = search.PersonQuery(
                personal_id_number=form["personal_id_number"] or None,
                old_id_number=form["old_id_number"] or None,
                name=form["name"] or None, birth_year=year,
            )  # fmt: skip
            s = get_session()
            try:
                found = search.search_persons(s, query, actor=_actor(), request_id=g.request_id)
                s.commit()
            except PopdbError as exc:
                s.rollback()
                error = exc.message
    status = 400 if error else 200
    return render_template("admin/search.html", form=form, found=found, error=error), status


@bp.route("/reviews/claim", methods=["POST"])
@allow("admin")
def claim() -> ResponseReturnValue:
    s = get_session()
    item = reviews.claim_next(s, actor=_actor(), hold=claim_hold(), request_id=g.request_id)
    s.commit()
    if item is None:
        flash("Nothing left to review.", "info")
        return redirect(url_for("admin.queue"))
    return redirect(url_for("admin.compare", item_id=item["id"]))


@bp.route("/reviews/<int:item_id>", methods=["GET"])
@allow("admin")
def compare(item_id: int) -> ResponseReturnValue:
    s = get_session()
    try:
        item = reviews.detail(s, item_id, actor=_actor(), request_id=g.request_id)
    except PopdbError as exc:
        abort(404, exc.message)
    s.commit()
    following = reviews.list_items(
        s, reviews.QueueFilter(status="pending"),
        after=reviews.encode_cursor(item["probability"], item_id), limit=1,
    )["items"]  # fmt: skip
    pairs = [(f, item["left"]["fields"].get(f), item["right"]["fields"].get(f))
             for f in ("dob", *reviews.SHOWN_FIELDS)]  # fmt: skip
    rows = [(f, a, b, labels.differs(a, b)) for f, a, b in pairs
            if a is not None or b is not None]  # fmt: skip
    return render_template(
        "admin/compare.html", item=item, rows=rows, bars=waterfall(item),
        held_because=REASONS.get(item["review_reason"] or ""),
        next_url=url_for("admin.compare", item_id=following[0]["id"]) if following else None,
        mine=item["claimed_by"] == current_client().id,
    )  # fmt: skip


@bp.route("/reviews/<int:item_id>/decision", methods=["POST"])
@allow("admin")
def decide(item_id: int) -> ResponseReturnValue:
    s = get_session()
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        abort(400, "version must be a whole number")
    try:
        result = reviews.decide(
            s, item_id, decision=request.form.get("decision", ""), version=version,
            reason=request.form.get("reason") or None, actor=_actor(), request_id=g.request_id,
        )  # fmt: skip
        s.commit()
    except PopdbError as exc:
        s.rollback()
        flash(exc.message, "error")
        return redirect(url_for("admin.compare", item_id=item_id))
    if result.awaiting_approval:
        flash(f"Item {item_id}: merge requested; a second administrator must approve it.", "info")
    else:
        flash(
            f"Item {item_id}: {result.status}"
            + (f" into person {result.person_id}." if result.person_id else "."),
            "ok",
        )
    item = reviews.claim_next(s, actor=_actor(), hold=claim_hold(), request_id=g.request_id)
    s.commit()
    if item is None:
        return redirect(url_for("admin.queue"))
    return redirect(url_for("admin.compare", item_id=item["id"]))


@bp.route("/persons/<int:person_id>", methods=["GET"])
@allow("admin")
def person(person_id: int) -> ResponseReturnValue:
    s = get_session()
    try:
        found = person_reads.read_person(s, person_id, actor=_actor(), request_id=g.request_id)
        events = person_reads.person_history(s, person_id, actor=_actor(), limit=500,
                                             request_id=g.request_id)  # fmt: skip
    except PopdbError as exc:
        abort(404, exc.message)
    life = life_events.list_for(s, person_id)
    fixes = corrections.list_for(s, person_id)
    s.commit()
    return render_template("admin/person.html", person=found, events=events["items"],
                           fields=("dob", *reviews.SHOWN_FIELDS), life_events=life,
                           corrections=fixes, correctable=corrections.FIELDS)  # fmt: skip


@bp.route("/persons/<int:person_id>/unmerge", methods=["POST"])
@allow("admin")
def unmerge(person_id: int) -> ResponseReturnValue:
    s = get_session()
    try:
        ids = [int(v) for v in request.form.getlist("source_record_ids")]
        result = merges.unmerge(s, person_id, ids, reason=request.form.get("reason", ""),
                                actor=_actor(), request_id=g.request_id)  # fmt: skip
        s.commit()
    except ValueError:
        abort(400, "source_record_ids must be record ids")
    except PopdbError as exc:
        s.rollback()
        flash(exc.message, "error")
        return redirect(url_for("admin.person", person_id=person_id))
    flash(f"{len(result.moved_record_ids)} record(s) moved to person {result.person_id}"
          + (" (restored with its former number)." if result.revived else "."), "ok")  # fmt: skip
    return redirect(url_for("admin.person", person_id=result.person_id))


@bp.route("/imports", methods=["GET"])
@allow("admin")
def imports() -> ResponseReturnValue:
    s = get_session()
    batches = dashboard.batch_outcomes(s)
    return render_template("admin/imports.html", batches=batches,
                           communes=dashboard.commune_quality(s))  # fmt: skip


@bp.route("/imports/<int:batch_id>/errors", methods=["GET"])
@allow("admin")
def import_errors(batch_id: int) -> ResponseReturnValue:
    """A batch's error report (CSV, as the API's): the read is an audit event."""
    s = get_session()
    try:
        batch = get_batch(s, batch_id)
    except PopdbError as exc:
        abort(404, exc.message)
    audit_report_read(s, _actor(), batch, request_id=g.request_id)
    s.commit()
    return Response(
        stream_with_context(with_bom(report_lines(s, batch.id))),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{batch.id}-errors.csv"'},
    )
