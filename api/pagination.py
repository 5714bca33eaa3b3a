"""The query arguments of every list route: `after` (the `next` of the previous page) and
`limit`, with each list's own default and maximum."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


def page_args(
    *, default: int, maximum: int, cursor: type[fields.Field] = fields.Integer
) -> type[Schema]:
    """A base schema with `after` and `limit`; a list's argument schema subclasses it."""
    return Schema.from_dict(
        {
            "after": cursor(metadata={"description": "cursor: the `next` of the previous page"}),
            "limit": fields.Integer(
                load_default=default, validate=validate.Range(min=1, max=maximum)
            ),
        },
        name="PageArgs",
    )
