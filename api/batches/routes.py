"""GET /api/v1/batches/held, GET /api/v1/batches/{id}/preview, POST /api/v1/batches/{id}/release;
GET /api/v1/communes/settings, GET and PUT /api/v1/communes/{code}/settings.

Who sees what: administrators see every held batch, the preview with examples (an audited
read of personal data) and release it. The commune's own police client sees its held batches
and the preview's counts only: examples name persons of the whole registry, other communes'
among them. Police of another commune and agencies are refused.
"""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from api.auth import allow, as_client, current_client
from api.batches.schemas import (
    CommuneSettingChangeSchema,
    CommuneSettingListSchema,
    CommuneSettingSchema,
    HeldListSchema,
    OutcomeSchema,
    PreviewArgsSchema,
    ReleaseSchema,
)
from api.db import get_session
from api.openapi import BEARER, Blueprint
from importers.batches import get_batch
from popdb.core.errors import Forbidden, InvalidInput
from popdb.registry import preview

blp = Blueprint(
    "batches", __name__, url_prefix="/api/v1/batches",
    description="Match preview: batches held at `loaded`, what matching would make of them, "
    "release",
)  # fmt: skip
communes = Blueprint(
    "communes", __name__, url_prefix="/api/v1/communes",
    description="Per-commune settings: hold the commune's uploads for a match preview",
)  # fmt: skip


def _own_commune(batch_commune: str) -> None:
    client = current_client()
    if client.role == "police" and batch_commune != client.commune_code:
        raise Forbidden(
            f"This police client reads the batches of commune {client.commune_code} only."
        )


@blp.route("/held", methods=["GET"])
@blp.response(200, HeldListSchema)
@blp.doc(security=BEARER)
@allow("police", "admin")
def held() -> ResponseReturnValue:
    """Batches waiting for a match preview, oldest first; a police client sees its own
    commune's only."""
    client = current_client()
    commune = client.commune_code if client.role == "police" else None
    return {"items": preview.held_batches(get_session(), commune_code=commune), "next": None}


@blp.route("/<int:batch_id>/preview", methods=["GET"])
@blp.arguments(PreviewArgsSchema, location="query")
@blp.response(200, OutcomeSchema)
@blp.alt_response(404, description="No such batch")
@blp.alt_response(409, description="The batch is not held, or has not finished loading")
@blp.doc(security=BEARER)
@allow("police", "admin")
def batch_preview(args: dict[str, Any], batch_id: int) -> ResponseReturnValue:
    """What matching would make of a held batch: how many records would join existing
    persons, found new ones, or wait for review, with examples (administrators). A dry run:
    the match runs and is rolled back; the read is in the audit chain."""
    session = get_session()
    _own_commune(get_batch(session, batch_id).commune_code)
    client = current_client()
    examples = args["examples"] if client.role == "admin" else 0
    return as_client(preview.preview, batch_id, examples=examples).as_dict()


@blp.route("/<int:batch_id>/release", methods=["POST"])
@blp.arguments(ReleaseSchema)
@blp.response(200, OutcomeSchema)
@blp.alt_response(404, description="No such batch")
@blp.alt_response(409, description="The batch is not held (already released), or still loading")
@blp.doc(security=BEARER)
@allow("admin")
def release(body: dict[str, Any], batch_id: int) -> ResponseReturnValue:
    """Release a held batch: its records are matched into persons now, in this request (a
    failure leaves it held), and the batch becomes `matched`. Who and why are kept."""
    outcome = as_client(preview.release, batch_id, reason=body["reason"])
    return outcome.as_dict()


def _code(commune_code: str) -> str:
    if not (len(commune_code) == 5 and commune_code.isdigit()):
        raise InvalidInput(f"A commune code has 5 digits (e.g. 00004); got {commune_code!r}.",
                           errors={"commune_code": ["must be 5 digits"]})  # fmt: skip
    return commune_code


@communes.route("/settings", methods=["GET"])
@communes.response(200, CommuneSettingListSchema)
@communes.doc(security=BEARER)
@allow("admin")
def settings_list() -> ResponseReturnValue:
    """Every commune with a setting (communes without one are not held)."""
    return {"items": preview.commune_settings(get_session()), "next": None}


@communes.route("/<string:commune_code>/settings", methods=["GET"])
@communes.response(200, CommuneSettingSchema)
@communes.doc(security=BEARER)
@allow("admin")
def setting(commune_code: str) -> ResponseReturnValue:
    """One commune's setting."""
    return preview.commune_setting(get_session(), _code(commune_code))


@communes.route("/<string:commune_code>/settings", methods=["PUT"])
@communes.arguments(CommuneSettingChangeSchema)
@communes.response(200, CommuneSettingSchema)
@communes.doc(security=BEARER)
@allow("admin")
def change_setting(body: dict[str, Any], commune_code: str) -> ResponseReturnValue:
    """Hold (or stop holding) the commune's future uploads for a match preview; batches
    already uploaded keep what they had. The change is an audit event with its reason."""
    return as_client(preview.set_commune_preview, _code(commune_code), body["match_preview"],
                     reason=body["reason"])  # fmt: skip
