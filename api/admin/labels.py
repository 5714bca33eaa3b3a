"""What the admin pages show for a stored value: Vietnamese field labels, codes by name,
differences that are differences, and history as sentences.

Pure functions (no Flask, no database), registered as template filters in `routes.py`.
"""

from __future__ import annotations

from typing import Any

from popdb.core.codes import code_name
from popdb.core.text import canonical

#: The label of each field on the pages: Vietnamese first (the words of the CCCD form and
#: of DC01), the English name after it for administrators who read both.
FIELD_LABELS: dict[str, str] = {
    "full_name": "Họ, chữ đệm và tên",
    "family_name": "Họ",
    "middle_name": "Chữ đệm",
    "given_name": "Tên",
    "other_names": "Tên gọi khác",
    "dob": "Ngày, tháng, năm sinh",
    "sex": "Giới tính",
    "personal_id_number": "Số định danh cá nhân",
    "other_id_number": "Số CMND / giấy tờ khác",
    "birth_registration_place": "Nơi đăng ký khai sinh",
    "birth_registration_code": "Mã nơi đăng ký khai sinh",
    "hometown": "Quê quán",
    "hometown_code": "Mã quê quán",
    "permanent_address": "Nơi thường trú",
    "permanent_commune_code": "Mã xã thường trú",
    "current_address": "Nơi ở hiện tại",
    "current_commune_code": "Mã xã nơi ở hiện tại",
    "ethnicity_code": "Dân tộc",
    "ethnicity": "Dân tộc",
    "religion_code": "Tôn giáo",
    "religion": "Tôn giáo",
    "nationality": "Quốc tịch",
    "marital_status": "Tình trạng hôn nhân",
    "blood_group": "Nhóm máu",
    "father_name": "Họ tên cha",
    "father_id_number": "Số định danh của cha",
    "mother_name": "Họ tên mẹ",
    "mother_id_number": "Số định danh của mẹ",
    "spouse_name": "Họ tên vợ/chồng",
    "spouse_id_number": "Số định danh của vợ/chồng",
    "household_head_relation": "Quan hệ với chủ hộ",
    "phone": "Số điện thoại",
    "email": "Thư điện tử",
}


def field_label(field: str) -> str:
    """`Giới tính (sex)`: the Vietnamese label with the field's name."""
    english = field.removesuffix("_code") if field in ("ethnicity_code", "religion_code") else field
    label = FIELD_LABELS.get(field)
    return f"{label} ({english.replace('_', ' ')})" if label else field.replace("_", " ")


def shown(value: Any, field: str) -> Any:
    """A stored value as a person reads it: a code by its name and the code after it
    ("Mường (04)"), a missing value as a dash."""
    if value is None or value == "":
        return "—"
    name = code_name(field, value)
    return f"{name} ({value})" if name is not None else value


def differs(a: Any, b: Any) -> bool:
    """Whether two values differ for a reader: texts are compared after normalisation
    (`core.text.canonical`: case, Unicode form, tone placement), so "Hoà" and "HÒA" are the
    same; a value against a missing one is a difference."""
    if a is None or b is None:
        return (a is None) != (b is None)
    if isinstance(a, str) and isinstance(b, str):
        return canonical(a) != canonical(b)
    return a != b


def _ids(values: Any) -> str:
    ids = list(values or [])
    if not ids:
        return "no records"
    shown_ids = ", ".join(f"#{i}" for i in ids[:10])
    more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
    return f"record{'s' if len(ids) > 1 else ''} {shown_ids}{more}"


def _person(value: Any) -> str:
    return f"person {value}" if value is not None else "another person"


def event_sentence(kind: str, data: dict[str, Any] | None) -> str:
    """One event of a person's history as a sentence (the page never shows raw JSON)."""
    d = data or {}
    if kind == "created":
        origin = f", split out of {_person(d['from_person_id'])}" if d.get("from_person_id") else ""
        return f"Created from {_ids(d.get('source_record_ids'))}{origin}."
    if kind == "linked":
        frm = d.get("from_person_id")
        where = f" (it was in {_person(frm)})" if frm else ""
        return f"Record #{d.get('source_record_id')} was linked to this person{where}."
    if kind == "merged":
        if d.get("into_person_id") is not None:
            return (f"Merged into {_person(d['into_person_id'])}"
                    + (f", taking {_ids(d.get('source_record_ids'))}" if d.get("source_record_ids")
                       else "") + "; this person is retired.")  # fmt: skip
        return f"{_person(d.get('from_person_id')).capitalize()} was merged in, bringing " \
            f"{_ids(d.get('source_record_ids'))}."
    if kind == "unmerged":
        if d.get("to_person_id") is not None:
            return f"{_ids(d.get('source_record_ids')).capitalize()} split out to " \
                f"{_person(d['to_person_id'])}."
        revived = " (restored with its former number)" if d.get("revived") else ""
        return f"Received {_ids(d.get('source_record_ids'))} split out of " \
            f"{_person(d.get('from_person_id'))}{revived}."
    if kind == "pin_assigned":
        return f"Personal ID number {d.get('personal_id_number', '—')} assigned."
    if kind == "field_changed":
        field = d.get("field", "a field")
        return (f"{field_label(field)} changed from {shown(d.get('old'), field)} "
                f"to {shown(d.get('new'), field)}.")  # fmt: skip
    if kind == "status_changed":
        return f"Status changed from {d.get('old', '—')} to {d.get('new', '—')}."
    if kind == "household":
        return _household_sentence(d)
    details = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in d.items())
    return f"{kind.replace('_', ' ').capitalize()}" + (f": {details}." if details else ".")


def _household_sentence(d: dict[str, Any]) -> str:
    from popdb.core.households import label

    relation = f" as {label(d['relation'])}" if d.get("relation") else ""
    if d.get("restored"):
        return f"Membership of household {d.get('household_id')} restored."
    if d.get("membership_id") is None:  # an end only (a merge, an administrator)
        return f"Left household {d.get('from_household_id')}."
    left = f", leaving household {d['from_household_id']}" if d.get("from_household_id") else ""
    since = f" from {d['valid_from']}" if d.get("valid_from") else ""
    return f"In household {d.get('household_id')}{relation}{since}{left}."
