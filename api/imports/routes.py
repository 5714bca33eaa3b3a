"""POST /api/v1/imports, GET /api/v1/imports[/{id}[/errors]]."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, g, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from api import safe_json
from api.auth import allow, current_client
from api.db import get_session
from api.error_responses import error_response
from api.imports.schemas import (
    ImportListArgsSchema,
    ImportListSchema,
    ImportSummarySchema,
    UploadSchema,
)
from api.openapi import BEARER, Blueprint
from importers.batches import (
    BatchRequest,
    get_batch,
    ignored_on_duplicate,
    register,
    summary,
)
from importers.error_report import report_lines
from importers.worker import notify
from popdb.core import audit
from popdb.core.errors import Forbidden, InvalidInput
from popdb.core.models import ApiClient, ImportBatch
from popdb.core.pages import fetch_size, page_of
from popdb.core.settings import Settings
from popdb.identity import usage

blp = Blueprint(
    "imports",
    __name__,
    url_prefix="/api/v1/imports",
    description="Police uploads of citizen records",
)


def _settings() -> Settings:
    return current_app.config["POPDB_SETTINGS"]


def _check_commune(client: ApiClient, commune_code: str) -> None:
    if client.role == "police" and commune_code != client.commune_code:
        raise Forbidden(
            f"This police client uploads and reads for commune {client.commune_code} only."
        )


def _with_report_url(batch: ImportBatch, out: dict[str, Any]) -> dict[str, Any]:
    has_issues = batch.status in ("loaded", "matched") and (batch.warnings or batch.rejected)
    out["error_report"] = (
        url_for("imports.import_errors", batch_id=batch.id) if has_issues else None
    )
    return out


@blp.route("", methods=["POST"])
@blp.arguments(UploadSchema, location="multipart")
@blp.response(202, ImportSummarySchema)
@blp.alt_response(200, schema=ImportSummarySchema, description="The same file was already loaded")
@blp.alt_response(413, description="The file is larger than POPDB_MAX_UPLOAD_BYTES")
@blp.alt_response(429, description="More uploads this hour than POPDB_POLICE_UPLOADS_PER_HOUR")
@blp.doc(security=BEARER)
@allow("police")
def upload(form: dict[str, Any]) -> ResponseReturnValue:
    """Upload a CSV or XLSX batch; it is validated and loaded in the background.

    Answers 202 with the batch to poll at `GET /api/v1/imports/{id}`, or 200 with
    `duplicate_batch: true` when this commune already uploaded the very same file.
    """
    client = current_client()
    limited = _upload_rate(client)
    if limited is not None:
        return limited
    commune_code = form.get("commune_code") or client.commune_code
    if commune_code is None:
        raise InvalidInput(
            "Say which commune the records are from (commune_code).",
            errors={"commune_code": ["required"]},
        )
    _check_commune(client, commune_code)
    mapping = None
    if form.get("mapping"):
        try:
            mapping = safe_json.loads(form["mapping"])
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"The mapping profile is not valid JSON: {exc.msg} at line {exc.lineno}, "
                f"column {exc.colno}.",
                errors={"mapping": ["not valid JSON"]},
            ) from None
    upload = form["file"]
    uploads = _settings().uploads
    uploads.mkdir(parents=True, exist_ok=True)
    stored = uploads / f"{dt.date.today():%Y%m%d}-{uuid.uuid4().hex}{_suffix(upload.filename)}"
    upload.save(stored)
    options = {k: form[k] for k in ("encoding", "delimiter", "sheet") if form.get(k)}
    session = get_session()
    wanted = BatchRequest(
        path=stored,
        commune_code=commune_code,
        file_name=Path(upload.filename or "upload").name,
        mapping=mapping,
        collected_on=form.get("collected_on"),
        options=options,
        client_id=client.id,
        stored_path=str(stored),
        preview=bool(form.get("preview")) or _settings().match_preview,
    )
    try:
        batch, duplicate = register(session, wanted, epoch=_settings().epoch)
        if duplicate:
            stored.unlink(missing_ok=True)
        else:
            notify(session)
        session.commit()
    except BaseException:
        stored.unlink(missing_ok=True)
        raise
    notes = ignored_on_duplicate(batch, wanted) if duplicate else []
    out = _with_report_url(batch, summary(batch, duplicate=duplicate, notes=notes))
    location = {"Location": url_for("imports.import_status", batch_id=batch.id)}
    return out, (200 if duplicate else 202), location


@blp.route("", methods=["GET"])
@blp.arguments(ImportListArgsSchema, location="query")
@blp.response(200, ImportListSchema)
@blp.doc(security=BEARER)
@allow("police", "admin")
def list_imports(args: dict[str, Any]) -> ResponseReturnValue:
    """Import batches, newest first; a police client sees its own commune's only."""
    client = current_client()
    query = sa.select(ImportBatch).order_by(ImportBatch.id.desc()).limit(fetch_size(args["limit"]))
    if client.role == "police":
        query = query.where(ImportBatch.commune_code == client.commune_code)
    if args.get("status"):
        query = query.where(ImportBatch.status == args["status"])
    if args.get("after"):
        query = query.where(ImportBatch.id < args["after"])
    page = page_of(list(get_session().scalars(query)), args["limit"], lambda b: b.id)
    return {"items": [_with_report_url(b, summary(b)) for b in page.items], "next": page.next}


@blp.route("/<int:batch_id>", methods=["GET"])
@blp.response(200, ImportSummarySchema)
@blp.doc(security=BEARER)
@allow("police", "admin")
def import_status(batch_id: int) -> ResponseReturnValue:
    """A batch's status (received → validating → loaded → matched, or failed) and counts."""
    batch = get_batch(get_session(), batch_id)
    _check_commune(current_client(), batch.commune_code)
    return _with_report_url(batch, summary(batch))


@blp.route("/<int:batch_id>/errors", methods=["GET"])
@blp.response(200, {"type": "string"}, content_type="text/csv")
@blp.doc(security=BEARER)
@allow("police", "admin")
def import_errors(batch_id: int) -> ResponseReturnValue:
    """The batch's error report as CSV: row number, source key, column, value, problem,
    severity. Cells that a spreadsheet would run as formulas are neutralised."""
    session = get_session()
    batch = get_batch(session, batch_id)
    client = current_client()
    _check_commune(client, batch.commune_code)
    audit_report_read(session, audit.Actor.of(client), batch, request_id=g.request_id)
    session.commit()
    name = f"import-{batch.id}-errors.csv"
    body = stream_with_context(with_bom(report_lines(session, batch.id)))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def audit_report_read(
    session: Session, actor: audit.Actor, batch: ImportBatch, *, request_id: str | None
) -> None:
    """An error report quotes the rows it found fault with, dates of birth included: reading
    one is a read of personal data, so it is on the audit chain like a person's page."""
    audit.record(
        session, actor=actor, action="import.error_report_read", subject_type="import_batch",
        subject_id=batch.id, request_id=request_id,
        detail={"commune_code": batch.commune_code, "rejected": batch.rejected,
                "warnings": batch.warnings},
    )  # fmt: skip


#: The usage counter kind of police uploads (client_usage.kind, at most 8 characters).
UPLOAD_KIND = "upload"


def _upload_rate(client: ApiClient) -> ResponseReturnValue | None:
    """OWASP API4: each upload costs a worker minutes of validation and matching, so a
    police client may send at most POPDB_POLICE_UPLOADS_PER_HOUR per hour. Counted in
    PostgreSQL with the identity rate counters (shared by every worker), committed at once so
    that a refused or failed upload still counts."""
    per_hour = _settings().police_uploads_per_hour
    if per_hour <= 0:
        return None
    session = get_session()
    hits, left = usage.bump(session, client.id, UPLOAD_KIND, 3600)
    session.commit()
    if hits <= per_hour:
        return None
    response, status = error_response(
        429, "rate_limited", f"More than {per_hour} uploads in an hour; try again later.",
        {"limit": "per_hour"},
    )  # fmt: skip
    response.headers["Retry-After"] = str(left)
    return response, status


def with_bom(lines: Any) -> Any:
    """The report's lines after a UTF-8 byte order mark."""
    yield "\ufeff"  # Excel reads a UTF-8 CSV as Vietnamese only with the BOM
    yield from lines


def _suffix(filename: str | None) -> str:
    suffix = Path(filename or "").suffix.lower()
    return suffix if suffix in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm") else ""
