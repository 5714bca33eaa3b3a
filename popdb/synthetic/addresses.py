"""How clerks write Vietnamese addresses: abbreviations, hamlets, street lines."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from popdb.synthetic.tables import ABBREVIATIONS, HAMLET_WORDS, HANOI_NAMES, HCM_NAMES, REGION

_NUMBERED_WARD = re.compile(r"Phường (\d+)")


def _abbreviate(address: str, rng: random.Random) -> str:
    """Clerk shorthand of domain.md 4.4: TP./Q./H./P./X., TP.HCM, numbered wards P.15/F15."""
    out = address
    if "Thành phố Hồ Chí Minh" in out and rng.random() < 0.8:
        out = out.replace("Thành phố Hồ Chí Minh", rng.choice(HCM_NAMES))
    if "Thành phố Hà Nội" in out and rng.random() < 0.6:
        out = out.replace("Thành phố Hà Nội", rng.choice(HANOI_NAMES))
    if "Phường " in out and rng.random() < 0.8:  # "Phường 15" -> P.15 / P15 / F15 / phường 015
        form = rng.choice(("P.{}", "P{}", "F{}", "phường 0{}"))
        out = _NUMBERED_WARD.sub(lambda m: form.format(m.group(1)), out)
    for full, shorts in ABBREVIATIONS:
        if full in out and rng.random() < 0.7:
            out = out.replace(full, rng.choice(shorts))
    return out


def hamlet(province_code: str, rng: random.Random) -> str:
    """A rural address line: Thôn/Xóm in the North, Bản in the mountains, Ấp in the South."""
    north = int(province_code) < 38
    mountain = REGION.get(province_code) in ("north_mountain", "ede", "jarai")
    if mountain:
        prefix = rng.choice(("Bản", "Thôn", "Buôn" if province_code in ("66", "52") else "Bản"))
    elif north:
        prefix = rng.choice(("Thôn", "Thôn", "Xóm"))
    elif int(province_code) >= 72:
        prefix = "Ấp"
    else:
        prefix = rng.choice(("Thôn", "Tổ dân phố"))
    if rng.random() < 0.45:
        return f"{prefix} {rng.randint(1, 15)}"
    first, second = rng.sample(HAMLET_WORDS, 2)
    return f"{prefix} {first} {second}"


def street_line(province_code: str, streets: Sequence[str], rng: random.Random) -> str:
    """An urban address line: ngõ/ngách/phố in the North, hẻm and slashed numbers in the South."""
    street = rng.choice(streets)
    n = rng.randint(1, 350)
    if int(province_code) < 38:
        kind = rng.randrange(3)
        if kind == 0:
            return f"Số {n} phố {street}"
        if kind == 1:
            return f"Số {n} ngõ {rng.randint(2, 200)} {street}"
        return f"Số {rng.randint(1, 40)} ngách {rng.randint(2, 90)}/{rng.randint(2, 200)} {street}"
    kind = rng.randrange(3)
    if kind == 0:
        return f"{n} đường {street}"
    if kind == 1:
        return f"{n}/{rng.randint(1, 99)} {street}"
    return f"Số {rng.randint(1, 60)} hẻm {n} {street}"
