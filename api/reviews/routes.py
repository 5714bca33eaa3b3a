"""GET /api/v1/reviews, POST /api/v1/reviews/claim, GET /api/v1/reviews/{id},
POST /api/v1/reviews/{id}/decision."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from flask import Response, current_app
from flask.typing import ResponseReturnValue

from api.auth import allow, as_client
from api.db import get_session
from api.openapi import BEARER, Blueprint
from api.reviews.schemas import (
    DecisionResultSchema,
    DecisionSchema,
    ReviewDetailSchema,
    ReviewExportArgsSchema,
    ReviewListArgsSchema,
    ReviewListSchema,
)
from popdb.core.settings import Settings
from popdb.registry import queue_export, reviews

blp = Blueprint(
    "reviews", __name__, url_prefix="/api/v1/reviews",
    description="The review queue: pairs the matcher was unsure of, settled by admins",
)  # fmt: skip


def claim_hold() -> dt.timedelta:
    settings: Settings = current_app.config["POPDB_SETTINGS"]
    return dt.timedelta(minutes=settings.review_claim_minutes)


@blp.route("", methods=["GET"])
@blp.arguments(ReviewListArgsSchema, location="query")
@blp.response(200, ReviewListSchema)
@blp.doc(security=BEARER)
@allow("admin")
def list_reviews(args: dict[str, Any]) -> ResponseReturnValue:
    """Review items, most probable first, without personal data; filter by status, commune
    and score band."""
    filters = reviews.QueueFilter(
        status=args.get("status"), commune=args.get("commune"),
        min_probability=args.get("min_probability"), max_probability=args.get("max_probability"),
    )  # fmt: skip
    return reviews.list_items(get_session(), filters, after=args.get("after"),
                              limit=args["limit"])  # fmt: skip


@blp.route("/export", methods=["GET"])
@blp.arguments(ReviewExportArgsSchema, location="query")
@blp.response(200, {"type": "string"}, content_type="text/csv")
@blp.doc(security=BEARER)
@allow("admin")
def export_reviews(args: dict[str, Any]) -> ResponseReturnValue:
    """The queue (same filters as the list) as CSV with both sides' names, dates of birth
    and numbers, most probable first, at most 100,000 items. Audited; cells a spreadsheet
    would run as formulas are neutralised."""
    lines = as_client(queue_export.export_lines, filters_of(args))
    return csv_response(lines, "review-queue.csv")


def filters_of(args: dict[str, Any]) -> reviews.QueueFilter:
    return reviews.QueueFilter(
        status=args.get("status"), commune=args.get("commune"),
        min_probability=args.get("min_probability"), max_probability=args.get("max_probability"),
    )  # fmt: skip


def csv_response(lines: Any, name: str) -> Response:
    """A CSV download Excel opens as UTF-8 (the BOM) and never caches."""
    return Response(
        ["\ufeff", *lines], mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"',
                 "Cache-Control": "no-store"},
    )  # fmt: skip


@blp.route("/claim", methods=["POST"])
@blp.response(200, ReviewDetailSchema)
@blp.alt_response(204, description="Nothing left to review")
@blp.doc(security=BEARER)
@allow("admin")
def claim() -> ResponseReturnValue:
    """Claim the next open item (yours if you already hold one), held for
    POPDB_REVIEW_CLAIM_MINUTES; two admins never get the same item."""
    item = as_client(reviews.claim_next, hold=claim_hold())
    if item is None:
        return "", 204
    return item


@blp.route("/<int:item_id>", methods=["GET"])
@blp.response(200, ReviewDetailSchema)
@blp.doc(security=BEARER)
@allow("admin")
def review_detail(item_id: int) -> ResponseReturnValue:
    """Both sides (source records and golden records), each field's level and match weight,
    the probability, the model version and the `version` to decide against. Audited."""
    return as_client(reviews.detail, item_id)


@blp.route("/<int:item_id>/decision", methods=["POST"])
@blp.arguments(DecisionSchema)
@blp.response(200, DecisionResultSchema)
@blp.alt_response(403, description="Four eyes: the same admin cannot approve their own merge")
@blp.alt_response(409, description="Stale version, already settled, or claimed by another admin")
@blp.doc(security=BEARER)
@allow("admin")
def decide(body: dict[str, Any], item_id: int) -> ResponseReturnValue:
    """Decide `merge`, `distinct` or `skip` against the item's `version`. A merge of two
    persons that both hold valid, different personal ID numbers waits for a second admin
    (`awaiting_approval: true`); the answer names the surviving `person_id` of a merge."""
    result = as_client(reviews.decide, item_id, decision=body["decision"],
                       version=body["version"], reason=body.get("reason"))  # fmt: skip
    return dataclasses.asdict(result)
