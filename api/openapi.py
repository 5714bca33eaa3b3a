"""What every API blueprint shares for its OpenAPI document and its argument parsing.

- Bad input is a 400 `invalid_input` everywhere (webargs' default 422 is not used), with the
  envelope of `api.error_responses`.
- A `multipart` location reads form fields and files with one schema, so an upload is one
  `requestBody` of `multipart/form-data` (flask-smorest documents one body per operation:
  two `@arguments`, `form` and `files`, put the form fields into `in: formData` parameters,
  which OpenAPI 3 does not have and Swagger UI drops).
- `DocPlugin` adds, in one place, the responses every operation can give (401, 403, 429; 413
  where there is a body) and the example of every operation (`api/examples.py`).
"""

from __future__ import annotations

from typing import Any

import flask_smorest
from apispec import BasePlugin
from werkzeug.datastructures import MultiDict

from api import safe_json
from popdb.core.errors import InvalidInput

#: The one `code` of a 400 for bad input, whichever layer refused it (webargs, a schema, a
#: route or a service raising `InvalidInput`).
VALIDATION_CODE = InvalidInput.code
VALIDATION_MESSAGE = "The request is not valid: see `errors` for each field."

#: The OpenAPI security of every operation that takes an API key (`@blp.doc(security=BEARER)`).
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


class Parser(safe_json.Parser):
    """webargs parser: JSON bodies by the rules of api/safe_json.py, a 400 for bad input, and
    the `multipart` location."""

    DEFAULT_VALIDATION_STATUS = 400

    def load_multipart(self, req: Any, schema: Any) -> Any:
        """Form fields and files of a multipart/form-data body, as one mapping."""
        merged = MultiDict(req.form)
        for name, value in req.files.items(multi=True):
            merged.add(name, value)
        return self._makeproxy(merged, schema)


Parser.__location_map__ = {**safe_json.Parser.__location_map__, "multipart": "load_multipart"}


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the shared parser and the multipart location."""

    ARGUMENTS_PARSER = Parser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


_ERROR = {"$ref": "#/components/schemas/Error"}


def _error_example(status: int, code: str, message: str, errors: dict | None = None) -> dict:
    return {
        "code": code,
        "status": status,
        "message": message,
        "errors": errors or {},
        "request_id": "3f2c9a0e5b7d4e21a8c6f0d9b1e4a7c2",
    }


#: The responses an operation can give before its view runs (api/auth.py, Flask's body limit).
COMMON_RESPONSES: dict[str, dict[str, Any]] = {
    "400": {
        "description": "Bad input: `code` is `invalid_input`, `errors` names each field",
        "content": {"application/json": {"schema": _ERROR, "example": _error_example(
            400, VALIDATION_CODE, VALIDATION_MESSAGE,
            {"json": {"purpose": ["Missing data for required field."]}},
        )}},  # fmt: skip
    },
    "401": {
        "description": "No `Authorization: Bearer` key, or a key that is unknown, revoked or "
        "expired (`WWW-Authenticate` says so)",
        "content": {"application/json": {"schema": _ERROR, "example": _error_example(
            401, "unauthorized", "Send `Authorization: Bearer <api key>`.")}},  # fmt: skip
    },
    "403": {
        "description": "The client's role may not call this operation, or its policy refuses "
        "it (an operation or field not granted, a suspended client)",
        "content": {"application/json": {"schema": _ERROR, "example": _error_example(
            403, "forbidden", "A police client may not call this route.")}},  # fmt: skip
    },
    "413": {
        "description": "The body is larger than allowed (POPDB_MAX_UPLOAD_BYTES for uploads, "
        "POPDB_IDENTITY_MAX_BODY_BYTES for identity calls)",
        "content": {"application/json": {"schema": _ERROR, "example": _error_example(
            413, "request_entity_too_large",
            "The data value transmitted exceeds the capacity limit.")}},  # fmt: skip
    },
    "429": {
        "description": "The client's rate limit is used up; `Retry-After` says when to retry",
        "headers": {"Retry-After": {"schema": {"type": "integer"},
                                    "description": "seconds to wait"}},  # fmt: skip
        "content": {"application/json": {"schema": _ERROR, "example": _error_example(
            429, "rate_limited", "Too many requests: at most 50 a second.", {"limit": "50/s"})}},
    },  # fmt: skip
}


class DocPlugin(BasePlugin):
    """Finishes every operation: the shared error responses and the operation's examples."""

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        from api.examples import EXAMPLES

        for method, operation in (operations or {}).items():
            if method == "parameters" or not isinstance(operation, dict):
                continue
            # flask-smorest keys some responses by int: one key per status, as a string
            responses = {str(k): v for k, v in operation.get("responses", {}).items()}
            operation["responses"] = responses
            responses.pop("422", None)
            wanted = ["401", "403", "429"]
            if "requestBody" in operation or any(
                p.get("in") == "query" for p in operation.get("parameters", [])
            ):
                wanted.insert(0, "400")
            if "requestBody" in operation:
                wanted.append("413")
            for status in wanted:
                responses.setdefault(status, COMMON_RESPONSES[status])
            bad = responses.get("400")
            if bad is not None and not (isinstance(bad, dict) and "content" in bad):
                responses["400"] = COMMON_RESPONSES["400"]  # flask-smorest's, no example
            example = EXAMPLES.get((method.upper(), path or ""))
            if example is None:
                continue
            if "request" in example and "requestBody" in operation:
                for media in operation["requestBody"]["content"].values():
                    media["example"] = example["request"]
            for status, body in example.get("responses", {}).items():
                response = responses.get(status)
                if response is None or "$ref" in response:
                    continue
                for media in response.get("content", {}).values():
                    media["example"] = body
