"""Import batches: one per uploaded file and commune, found again by the file's SHA-256.

Functions take the caller's Session and never commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from importers.mapping import MappingError, parse_profile
from popdb.core import admin_units
from popdb.core.errors import InvalidInput, NotFound
from popdb.core.models import AdminUnit, CommuneSetting, ImportBatch
from popdb.core.settings import DEFAULT_EPOCH

#: Batches in these states hold their rows for good: the same file again is a duplicate.
DONE = ("loaded", "matched")


@dataclass(frozen=True)
class BatchRequest:
    """An upload to register: the file, where it is from, and how to read it."""

    path: Path
    commune_code: str
    file_name: str | None = None
    mapping: dict[str, Any] | None = None
    collected_on: dt.date | None = None
    options: dict[str, Any] = field(default_factory=dict)  # encoding, delimiter, sheet
    client_id: int | None = None
    stored_path: str | None = None
    #: hold the batch at `loaded` for a match preview (the upload's `preview` field, or
    #: POPDB_MATCH_PREVIEW); its commune's setting may hold it too (`register`)
    preview: bool = False


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_commune(session: Session, commune_code: str, on: dt.date) -> None:
    """The batch's commune must exist in the official list in force on the collection date."""
    code = (commune_code or "").strip()
    if not (len(code) == 5 and code.isascii() and code.isdigit()):
        raise InvalidInput(
            f"A commune code has 5 digits (e.g. 00004); got {commune_code!r}.",
            errors={"commune_code": ["must be 5 digits"]},
        )
    vintage = admin_units.vintage_in_force(on)
    if session.get(AdminUnit, (vintage.key, "commune", code)) is None:
        raise InvalidInput(
            f"Commune {code} is not in the official list in force on {on.isoformat()} "
            f"(list {vintage.key}).",
            errors={"commune_code": [f"unknown in list {vintage.key}"]},
        )


def check_collected_on(
    on: dt.date, *, epoch: dt.date = DEFAULT_EPOCH, today: dt.date | None = None
) -> None:
    """A collection date lies between the registry's epoch and today (both allowed).

    Survivorship ranks evidence by this date, so a future date (2099-12-31) would make a
    batch win every field of every person it links to, and one before the epoch is as forged.
    """
    today = today or dt.date.today()
    if on > today:
        raise InvalidInput(
            f"The collection date {on.isoformat()} is in the future (today is "
            f"{today.isoformat()}); give the day the records were collected.",
            errors={"collected_on": [f"must not be after {today.isoformat()}"]},
        )
    if on < epoch:
        raise InvalidInput(
            f"The collection date {on.isoformat()} is before the registry's epoch "
            f"{epoch.isoformat()} (POPDB_EPOCH).",
            errors={"collected_on": [f"must not be before {epoch.isoformat()}"]},
        )


def register(
    session: Session, request: BatchRequest, *, epoch: dt.date = DEFAULT_EPOCH
) -> tuple[ImportBatch, bool]:
    """Find or create the batch for this file and commune; True when it is a duplicate.

    A file already loaded for this commune is a duplicate and nothing more is written. A
    batch that never finished (failed, or interrupted while validating) is reused, so a retry
    completes it instead of being refused as a duplicate.
    """
    collected_on = request.collected_on or dt.date.today()
    check_collected_on(collected_on, epoch=epoch)
    check_commune(session, request.commune_code, collected_on)
    if request.mapping is not None:
        try:
            parse_profile(request.mapping)
        except MappingError as exc:
            raise InvalidInput(
                f"Bad mapping profile: {exc}", errors={"mapping": [str(exc)]}
            ) from None
    delimiter = request.options.get("delimiter")
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise InvalidInput(
            f"The delimiter must be one character (such as , ; or a tab), not {delimiter!r}.",
            errors={"delimiter": ["one character"]},
        )
    sha = file_sha256(request.path)
    values = {
        "client_id": request.client_id,
        "commune_code": request.commune_code,
        "file_name": request.file_name or request.path.name,
        "sha256": sha,
        "size_bytes": request.path.stat().st_size,
        "mapping": request.mapping,
        "options": request.options,
        "stored_path": request.stored_path,
        "collected_on": collected_on,
        "match_hold": request.preview or commune_holds(session, request.commune_code),
    }
    inserted = session.execute(
        insert(ImportBatch)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["commune_code", "sha256"])
        .returning(ImportBatch.id)
    ).scalar_one_or_none()
    if inserted is not None:
        return session.get_one(ImportBatch, inserted), False
    batch = session.execute(
        sa.select(ImportBatch)
        .where(ImportBatch.commune_code == request.commune_code, ImportBatch.sha256 == sha)
        .with_for_update()
    ).scalar_one()
    if batch.status in DONE:
        return batch, True
    for key, value in values.items():
        setattr(batch, key, value)
    batch.status = "received"
    batch.failure_reason = None
    session.flush()
    return batch, False


def commune_holds(session: Session, commune_code: str) -> bool:
    """Whether the commune's setting holds its new batches for a match preview. Read when the
    batch is registered: the setting in force at upload decides, so no matching run can take
    the records between their load and a later look at the setting."""
    return bool(session.scalar(
        sa.select(CommuneSetting.match_preview).where(CommuneSetting.commune_code == commune_code)
    ))  # fmt: skip


def get_batch(session: Session, batch_id: int) -> ImportBatch:
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        raise NotFound(f"No import batch {batch_id}.")
    return batch


def ignored_on_duplicate(batch: ImportBatch, request: BatchRequest) -> list[str]:
    """Notes for an upload of a file already loaded that asked for it to be read otherwise
    (a corrected mapping profile, another collection date): nothing of it was applied, and
    the clerk must not believe it was."""
    changed = []
    if request.mapping != batch.mapping:
        changed.append("another mapping profile" if request.mapping else "no mapping profile")
    if request.collected_on is not None and request.collected_on != batch.collected_on:
        changed.append(f"the collection date {request.collected_on.isoformat()}")
    if request.preview and not batch.match_hold:
        changed.append("a hold for a match preview")
    if not changed:
        return []
    return [
        f"This file was already loaded for commune {batch.commune_code} as batch {batch.id}; "
        f"this upload gave {' and '.join(changed)}, which was not applied: nothing was "
        "imported again, and the batch keeps the rows as first read."
    ]


def summary(
    batch: ImportBatch, *, duplicate: bool = False, notes: list[str] | None = None
) -> dict[str, Any]:
    """The design's import summary: what the CLI prints and the API returns; `notes` are
    added to the batch's own."""
    return {
        "batch_id": batch.id,
        "status": batch.status,
        "commune_code": batch.commune_code,
        "file_name": batch.file_name,
        "collected_on": batch.collected_on.isoformat(),
        "rows": batch.rows,
        "accepted": batch.accepted,
        "rejected": batch.rejected,
        "warnings": batch.warnings,
        "duplicate_batch": duplicate,
        "held_for_preview": bool(batch.match_hold),
        "failure_reason": batch.failure_reason,
        "created_at": batch.created_at.isoformat() if batch.created_at else None,
        "started_at": batch.started_at.isoformat() if batch.started_at else None,
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
        "unmapped_columns": batch.options.get("unmapped_columns", []),
        "notes": [*batch.options.get("notes", []), *(notes or [])],
    }
