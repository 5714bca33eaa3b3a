"""JSON bodies that cannot turn into a 500: too deeply nested, or holding lone surrogates.

`json.loads` accepts `"\\ud800"` (a half of a UTF-16 pair) and returns a string that no
UTF-8 encoder takes, so it fails later (in PostgreSQL's driver, in a log line) as a 500. A
body nested 100,000 deep makes the decoder raise RecursionError, which neither Flask nor
webargs treat as bad input. Both are the client's fault: a 400 in the one error shape.
"""

from __future__ import annotations

import json
import re
from typing import Any

import flask
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

#: a `\uD800`-`\uDFFF` escape: the only way a surrogate gets into decoded JSON text
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATES = re.compile("[\ud800-\udfff]")
#: stands for the body in an error (webargs takes an empty `doc` for "no body at all")
_DOC = "<body>"


def loads(text: str | bytes) -> Any:
    """Parse JSON; a json.JSONDecodeError (a ValueError) for anything a client got wrong."""
    if isinstance(text, bytes | bytearray):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"not UTF-8 ({exc.reason})", _DOC, 0) from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("the document is nested too deeply", _DOC, 0) from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise json.JSONDecodeError("a string holds a lone UTF-16 surrogate", _DOC, 0)
    return value


def _has_lone_surrogate(value: Any) -> bool:
    """Paired escapes decode to one code point; what is left in the surrogate range is lone."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATES.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class JSONProvider(DefaultJSONProvider):
    """`request.get_json()` with the same rules (Flask turns its ValueError into a 400)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)


class Parser(FlaskParser):
    """flask-smorest's argument parser with the same rules for JSON bodies."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return core.missing
        return loads(req.get_data(cache=True))
