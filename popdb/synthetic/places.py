"""The official administrative units as the generator's places: 2025-07 communes and their
pre-2025 predecessors."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from popdb.core import admin_units
from popdb.core.pin import PIN_PLACES


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune of the 2025-07 list and its pre-2025 predecessors (2025-01 codes)."""

    code: str
    name: str
    urban: bool
    province_code: str
    province_name: str
    predecessors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OldCommune:
    """A commune of the 2025-01 list: what pre-2025 records and birth registrations name."""

    code: str
    name: str
    urban: bool
    district: str
    province_code: str
    province_name: str
    in_2020: bool  # also in the 2020-02 list, so a 2020 campaign record can carry its code
    text: str  # "Xã …, Huyện …, Tỉnh …": the four-level address of the unit
    district_text: str  # "Huyện …, Tỉnh …": birth places often stop at the district


@dataclass(frozen=True)
class _Geo:
    communes: dict[str, Commune]
    old: dict[str, OldCommune]
    old_codes: tuple[str, ...]
    old_by_province: dict[str, tuple[str, ...]]
    streets: tuple[str, ...]


@cache
def _geo() -> _Geo:
    """The 2025-07, 2025-01 and 2020-02 lists and the old-to-new table, read once."""
    by_key = {v.key: v for v in admin_units.VINTAGES}
    in_2020 = {u.code for u in admin_units.read_units(by_key["2020-02"]) if u.level == "commune"}
    names_01: dict[tuple[str, str], str] = {}
    old: dict[str, OldCommune] = {}
    for u in admin_units.read_units(by_key["2025-01"]):
        names_01[u.level, u.code] = u.name
        if u.level != "commune" or u.province_code not in _PROVINCES_63:
            continue
        district = names_01["district", u.parent_code or ""]
        province = names_01["province", u.province_code]
        old[u.code] = OldCommune(
            code=u.code,
            name=u.name,
            urban=(u.division_type or "").lower() in ("phường", "thị trấn"),
            district=district,
            province_code=u.province_code,
            province_name=province,
            in_2020=u.code in in_2020,
            text=f"{u.name}, {district}, {province}",
            district_text=f"{district}, {province}",
        )
    predecessors: dict[str, list[str]] = {}
    for change in admin_units.read_old_to_new():
        if change.old_code in old and change.old_code not in predecessors.get(change.new_code, []):
            predecessors.setdefault(change.new_code, []).append(change.old_code)
    provinces: dict[str, str] = {}
    communes: dict[str, Commune] = {}
    for u in admin_units.read_units(by_key["2025-07"]):
        if u.level == "province":
            provinces[u.code] = u.name
            continue
        preds = tuple(predecessors.get(u.code, ()))
        if not preds:
            continue  # island districts that became "đặc khu" whole: no 2025-01 commune
        communes[u.code] = Commune(
            code=u.code,
            name=u.name,
            urban=(u.division_type or "") == "phường",
            province_code=u.province_code,
            province_name=provinces[u.province_code],
            predecessors=preds,
        )
    old_by_province: dict[str, list[str]] = {}
    for code, unit in old.items():
        old_by_province.setdefault(unit.province_code, []).append(code)
    from faker.providers.address.vi_VN import Provider as ViAddress

    return _Geo(
        communes=communes,
        old=old,
        old_codes=tuple(sorted(old)),
        old_by_province={k: tuple(sorted(v)) for k, v in old_by_province.items()},
        streets=tuple(ViAddress.streets),
    )


#: Pre-2025 province codes (PIN positions 2-3).
_PROVINCES_63 = frozenset(code[1:] for code in PIN_PLACES)
