"""One database session per request, closed at teardown; views commit once."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

SessionFactory = Callable[[], Session]


def init_app(app: Flask, session_factory: SessionFactory) -> None:
    app.extensions["popdb.session_factory"] = session_factory
    app.teardown_appcontext(_close)


def get_session() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["popdb.session_factory"]()
    return g.db


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()
