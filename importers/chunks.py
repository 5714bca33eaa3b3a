"""The work on one block of records: parse, map, validate and format it as COPY text.

A `ChunkWork` is built once per batch, in the importing process, and called once per
`RecordBlock`, in that process or in a worker forked from it (`importers.parallel`). It holds
everything that depends on the file alone (heading, mapping, validator and its memos); what
needs the whole file in order (repeated source keys, counts) is left to `loader.load`.
"""

from __future__ import annotations

from typing import Any

from importers.blocks import BlockParser
from importers.loader import ChunkResult, RawJson, format_chunk, raw_json
from importers.mapping import BoundProfile, CellPlan
from importers.table import RecordBlock
from importers.validate import BulkValidator, RowValidator


class ChunkWork:
    """Turns one `RecordBlock` into a `ChunkResult`; raises what reading its rows raises."""

    def __init__(
        self, batch_id: int, parser: BlockParser, bound: BoundProfile, validator: RowValidator
    ) -> None:
        self.batch_id = batch_id
        self.parser = parser
        self.plan = CellPlan(bound)
        self.bulk = BulkValidator(validator, self.plan)
        self.raw_json = RawJson()
        #: The typed columns of the COPY lines, in their order.
        self.typed_columns = self.bulk.columns

    def __call__(self, block: RecordBlock) -> ChunkResult:
        records, error = self.parser.records(block)
        numbers = [number for number, _ in records]
        rows: list[Any] = [fields for _, fields in records]
        if self.parser.plain(block, rows):  # the usual case: no row needs a second look
            raws = self.raw_json.rows(rows)
        else:
            raws = []
            row, fast_json = self.parser.row, self.raw_json.escaped
            for i, (number, fields) in enumerate(records):
                cells, raw = row(number, fields)
                rows[i] = cells
                raws.append(fast_json(cells) if raw is None else raw_json(raw))
        if error is not None:
            raise error
        return format_chunk(
            self.batch_id, numbers, self.plan.source_keys(rows), raws, self.bulk.validate(rows)
        )
