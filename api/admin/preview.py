"""Admin pages of the match preview: the held batches and the communes whose uploads are
held, a batch's preview (counts and examples, an audited read) and its release form. The
same services as the JSON routes (`api.batches.routes`)."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from api.admin.life import _settle
from api.admin.routes import _actor, bp
from api.auth import allow
from api.db import get_session
from popdb.core.errors import Conflict, NotFound
from popdb.registry import preview


@bp.route("/batches/held", methods=["GET"])
@allow("admin")
def held_batches() -> ResponseReturnValue:
    s = get_session()
    return render_template("admin/held.html", batches=preview.held_batches(s),
                           settings=preview.commune_settings(s))  # fmt: skip


@bp.route("/batches/<int:batch_id>/preview", methods=["GET"])
@allow("admin")
def batch_preview(batch_id: int) -> ResponseReturnValue:
    """The dry run with examples; the read is an audit event, committed with nothing else."""
    s = get_session()
    try:
        outcome = preview.preview(s, batch_id, actor=_actor(), request_id=g.request_id)
    except NotFound as exc:
        abort(404, exc.message)
    except Conflict as exc:
        abort(409, exc.message)
    s.commit()
    return render_template("admin/preview.html", outcome=outcome, classes=preview.CLASSES)


@bp.route("/batches/<int:batch_id>/release", methods=["POST"])
@allow("admin")
def release_batch(batch_id: int) -> ResponseReturnValue:
    s = get_session()
    reason = request.form.get("reason", "")
    _settle(
        lambda: preview.release(s, batch_id, actor=_actor(), reason=reason,
                                request_id=g.request_id),
        lambda o: f"Batch {batch_id} released and matched: {o.counts['link']} linked, "
        f"{o.counts['new']} new, {o.counts['review']} in review.",
    )  # fmt: skip
    return redirect(url_for("admin.held_batches"))


@bp.route("/communes/settings", methods=["POST"])
@allow("admin")
def commune_setting() -> ResponseReturnValue:
    s = get_session()
    form = request.form
    on = form.get("match_preview") == "on"
    _settle(
        lambda: preview.set_commune_preview(
            s, form.get("commune_code", ""), on, actor=_actor(), reason=form.get("reason", ""),
            request_id=g.request_id),
        lambda r: f"Commune {r['commune_code']}: uploads "
        + ("held for a match preview." if r["match_preview"] else "matched as they load."),
    )  # fmt: skip
    return redirect(url_for("admin.held_batches"))
