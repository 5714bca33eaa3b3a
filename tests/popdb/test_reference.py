"""Reference data: every vintage loaded once, and codes read against the right vintage."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import reference
from popdb.core.models import AdminUnit, AdminUnitChange, AdminVintage


def test_every_vintage_is_loaded_with_its_provenance(session: Session) -> None:
    keys = set(session.scalars(sa.select(AdminVintage.key)))
    assert keys == {"2020-02", "2021-02", "2025-01", "2025-07"}
    provinces = dict(
        session.execute(
            sa.select(AdminUnit.vintage, sa.func.count())
            .where(AdminUnit.level == "province")
            .group_by(AdminUnit.vintage)
        ).all()
    )
    assert provinces == {"2020-02": 63, "2021-02": 63, "2025-01": 63, "2025-07": 34}
    assert session.scalar(sa.select(sa.func.count()).select_from(AdminUnitChange)) > 10_000


def test_loading_again_changes_nothing(session: Session) -> None:
    before = session.scalar(sa.select(sa.func.count()).select_from(AdminUnit))
    assert reference.load_reference_data(session) == {}
    assert session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)) == before


def test_a_code_names_the_unit_in_force_on_the_date(session: Session) -> None:
    old = reference.unit_on(session, "00004", dt.date(2024, 5, 1))
    new = reference.unit_on(session, "00004", dt.date(2026, 1, 1))
    assert old is not None and "Trúc Bạch" in old.name
    assert new is not None and "Ba Đình" in new.name


def test_districts_exist_only_before_the_2025_reform(session: Session) -> None:
    assert reference.unit_on(session, "001", dt.date(2024, 1, 1)) is not None
    assert reference.unit_on(session, "001", dt.date(2025, 8, 1)) is None


def test_malformed_codes_name_nothing(session: Session) -> None:
    assert reference.unit_on(session, "0000A", dt.date(2024, 1, 1)) is None
    assert reference.unit_on(session, "1234", dt.date(2024, 1, 1)) is None
