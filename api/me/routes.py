"""GET /api/v1/me."""

from __future__ import annotations

from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

from api.auth import allow, current_client
from api.openapi import BEARER, Blueprint

blp = Blueprint("me", __name__, url_prefix="/api/v1", description="The calling client")


class MeSchema(Schema):
    client_id = fields.Integer(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    commune_code = fields.String(allow_none=True)
    policy = fields.Dict(required=True)


@blp.route("/me")
@blp.response(200, MeSchema)
@blp.doc(security=BEARER)
@allow("police", "agency", "admin")
def me() -> ResponseReturnValue:
    """The calling client: its role, commune and policy (never its key)."""
    c = current_client()
    return {
        "client_id": c.id, "name": c.name, "role": c.role,
        "commune_code": c.commune_code, "policy": c.policy,
    }  # fmt: skip
