"""Address keys for record linkage: canonical address text, its parts, and its official units."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from popdb.core.admin_units import VINTAGES, UnitRow, Vintage, read_old_to_new, read_units
from popdb.core.text import canonical, fold

__all__ = [
    "SEPARATOR",
    "AddressParts",
    "ResolvedUnits",
    "address_components",
    "address_fold",
    "address_key",
    "address_keys",
    "address_parts",
    "address_tokens",
    "resolve_units",
]

#: Between the components of a key ("12 ngõ 5 phố huế, phường ba đình, hà nội").
SEPARATOR = ", "

# --- vocabulary -----------------------------------------------------------------------------

PROVINCE_TYPES = frozenset({"tỉnh", "thành phố"})
DISTRICT_TYPES = frozenset({"quận", "huyện", "thị xã", "thành phố"})
COMMUNE_TYPES = frozenset({"phường", "xã", "thị trấn", "đặc khu"})
ADMIN_TYPES = PROVINCE_TYPES | DISTRICT_TYPES | COMMUNE_TYPES
#: Below the commune: residential groups, hamlets, estates, streets and lanes, house numbers.
PLACE_TYPES = frozenset(
    {
        "tổ dân phố", "tổ", "khu phố", "khu đô thị", "khu dân cư", "khu công nghiệp",
        "khu tập thể", "khu", "ấp", "thôn", "xóm", "bản", "buôn", "làng", "khóm", "đội",
        "cụm", "ngõ", "ngách", "hẻm", "kiệt", "đường", "phố", "lô", "chung cư", "tòa nhà",
        "tòa", "số", "số nhà", "nhà số",
    }
)  # fmt: skip
#: Admin unit types typed without diacritics. They are also ordinary syllables ("Phuong Mai"
#: is Phường Phương Mai), so they count as a type only before a number or a 2+ word name.
_ASCII_ADMIN = {fold(t) or t: t for t in ADMIN_TYPES}
#: Multi-word type phrases, longest first, as word tuples; ASCII forms are kept as typed.
_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        {tuple(p.split(" ")) for p in (*ADMIN_TYPES, *PLACE_TYPES, *_ASCII_ADMIN) if " " in p}
        | {("to", "dan", "pho"), ("khu", "pho"), ("khu", "do", "thi"), ("so", "nha")},
        key=len,
        reverse=True,
    )
)
#: First word -> the phrases it starts, longest first.
_PHRASES_BY_FIRST: dict[str, tuple[tuple[str, ...], ...]] = {
    first: tuple(p for p in _PHRASES if p[0] == first) for first in {p[0] for p in _PHRASES}
}
_PHRASE_WORDS = frozenset(w for p in _PHRASES for w in p)
_ASCII_PLACE = frozenset({"to dan pho", "khu pho", "khu do thi", "so nha"})
#: Every word of a type phrase ("thành", "phố", "xã", ...).
_TYPE_WORDS = frozenset(w for t in ADMIN_TYPES | PLACE_TYPES for w in t.split(" "))
#: Everything after which a bare number names a unit rather than a house: leading zeros go.
_NUMBERED = ADMIN_TYPES | PLACE_TYPES | set(_ASCII_ADMIN) | _ASCII_PLACE | {"to", "ap", "thon"}

#: Abbreviations expanded wherever they stand as a word (a dot after them is eaten).
_ALWAYS = {
    "tp": "thành phố", "tx": "thị xã", "tt": "thị trấn", "kp": "khu phố",
    "kđt": "khu đô thị", "kdt": "khu đô thị", "tdp": "tổ dân phố", "tđp": "tổ dân phố",
    "kdc": "khu dân cư", "kcn": "khu công nghiệp", "ktt": "khu tập thể",
}  # fmt: skip
#: Words that name a numbered unit only before a number: "ward 15", "phuong 015", "F15".
_BEFORE_NUMBER = {
    "f": "phường", "phuong": "phường", "ward": "phường",
    "quan": "quận", "district": "quận", "dist": "quận",
}  # fmt: skip
#: Filler before a house number: "Số 12", "số nhà 12", "SN 12".
_HOUSE_NUMBER_WORDS = frozenset({"số", "số nhà", "nhà số", "sn", "so", "so nha"})
_HOUSE_NUMBER_STARTS = frozenset(w.split(" ")[0] for w in _HOUSE_NUMBER_WORDS)
#: Letters glued to a number that are unit abbreviations: P15, F15, Q11, KP3.
_GLUED = re.compile(r"(p|f|q|kp|tdp|tđp|phường|quận|phuong|quan|tổ|ấp)(\d+)")
#: Whether a piece may hold a token for `_split_tokens`: a dash, or letters glued to digits.
_MAY_SPLIT = re.compile(r"-|[^\W\d_]\d")
_ABBREVIATIONS = (
    frozenset(_ALWAYS) | frozenset(_BEFORE_NUMBER) | {"p", "q", "h", "x", "đ", "d", "t"}
)
#: Tokens `_expand` must look at; every other word is copied as it is.
_SPECIAL = _ABBREVIATIONS | _PHRASE_WORDS | ADMIN_TYPES | {",", ";", "-", "."}
_TOKEN = re.compile(r"\d+(?:\.\d+)+|[^\W_]+(?:['/\-][^\W_]+)*|[.,;\-]")
_TP_DOTTED = re.compile(r"(?<!\w)t\s*\.\s*p(?!\w)")
_BREAKS = frozenset({",", ";", "-"})
#: Before these a single letter is a room, block or plot name, never a unit abbreviation.
_ROOM_WORDS = frozenset({"phòng", "tầng", "lô", "căn", "căn hộ", "tòa", "tòa nhà", "block",
                         "nhà", "khu", "dãy", "ô", "ki-ốt", "kiốt", "kios"})  # fmt: skip
#: Words that, glued after a dash, start the next component: "Phường 15-Quận Tân Bình".
_DASH_STARTS = frozenset({"phường", "quận", "huyện", "xã", "tỉnh", "thành", "thị", "tp", "tx",
                          "tt", "p", "q", "h", "x", "f"})  # fmt: skip
_PUNCTUATION = _BREAKS | {"."}
_COUNTRY = frozenset(
    {"việt nam", "viet nam", "vietnam", "vn", "cộng hòa xã hội chủ nghĩa việt nam"}
)

#: Province aliases -> the key form of the province (its name without "tỉnh"/"thành phố").
_PROVINCE_ALIASES = {
    "hcm": "hồ chí minh", "tphcm": "hồ chí minh", "hcmc": "hồ chí minh",
    "sài gòn": "hồ chí minh", "saigon": "hồ chí minh", "sg": "hồ chí minh",
    "hn": "hà nội", "hanoi": "hà nội",
    "thừa thiên huế": "huế", "thừa thiên-huế": "huế", "tth": "huế",
    "bà rịa vũng tàu": "bà rịa-vũng tàu", "brvt": "bà rịa-vũng tàu", "br-vt": "bà rịa-vũng tàu",
    "đăk lăk": "đắk lắk", "đắk lăk": "đắk lắk", "đăk lắk": "đắk lắk", "đắc lắc": "đắk lắk",
    "đắc lắk": "đắk lắk", "đăk nông": "đắk nông", "đắc nông": "đắk nông",
}  # fmt: skip
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7",
          "viii": "8", "ix": "9", "x": "10"}  # fmt: skip


def _is_number(token: str) -> bool:
    return token.isascii() and token.isdigit()


# --- gazetteer: what address_key needs from the official lists -------------------------------


@dataclass(frozen=True)
class _Gazetteer:
    forms: dict[str, str]  # canonical province name or alias -> key form
    provinces: frozenset[str]  # the key forms
    folds: dict[str, str]  # ASCII fold without spaces/dashes -> key form (unique folds only)
    central: frozenset[str]  # key forms of centrally-run cities ("thành phố" is the province)
    dashed: re.Pattern[str]  # official names written with a dash: "Bà Rịa - Vũng Tàu"


def _strip_type(name: str, types: Iterable[str]) -> tuple[str | None, str]:
    for t in sorted(types, key=len, reverse=True):
        if name.startswith(t + " "):
            return t, name[len(t) + 1 :]
    return None, name


def _undash(text: str) -> str:
    return re.sub(r"\s*-\s*", "-", text)


@cache
def _gazetteer() -> _Gazetteer:
    """Province names and dashed names of every shipped vintage, loaded once: the key must know
    "Hà Nội" is a province and that "Văn Miếu - Quốc Tử Giám" is one name, not two parts."""
    forms: dict[str, str] = {}
    central: set[str] = set()
    dashed: set[tuple[str, str]] = {("thừa thiên", "huế")}
    for vintage in VINTAGES:
        for row in read_units(vintage):
            if row.level != "province" and "-" not in row.name:
                continue
            name = canonical(row.name) or ""
            if row.level == "province":
                kind, bare = _strip_type(name, PROVINCE_TYPES)
                form = _undash(bare)
                forms[bare] = forms[form] = form
                if kind == "thành phố":
                    central.add(form)
            if "-" in name:
                _, bare = _strip_type(name, ADMIN_TYPES)
                left, _, right = bare.partition("-")
                dashed.add((left.strip(), right.strip()))
    for alias, form in _PROVINCE_ALIASES.items():
        forms[alias] = form
    central.add("huế")  # a centrally-run city since 2025; "Thành phố Huế" is that province
    folds: dict[str, str] = {}
    clash: set[str] = set()
    for name, form in forms.items():
        f = (fold(name) or "").replace(" ", "").replace("-", "")
        if folds.get(f, form) != form:
            clash.add(f)
        folds[f] = form
    for f in clash:
        del folds[f]
    alternatives = sorted(
        {
            rf"{re.escape(a)}\s*-\s*{re.escape(b)}"
            for left, right in dashed
            for a, b in ((left, right), (fold(left) or left, fold(right) or right))
        },
        key=len,
        reverse=True,
    )
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")
    return _Gazetteer(forms, frozenset(forms.values()), folds, frozenset(central), pattern)


# --- address_key ----------------------------------------------------------------------------


#: Canonical forms of words seen so far (bounded; house numbers never enter it).
_WORDS: dict[str, str] = {}
_WORDS_MAX = 1 << 17


def _word(word: str) -> str:
    """`canonical` of one word, memoised: words repeat across addresses far more than whole
    pieces do. Printable ASCII other than ` (which `clean` turns into an apostrophe) only
    needs lower-casing, so house numbers skip both `canonical` and the memo."""
    got = _WORDS.get(word)
    if got is not None:
        return got
    if word.isascii() and word.isprintable() and "`" not in word:
        return word.lower()
    if len(_WORDS) >= _WORDS_MAX:
        _WORDS.clear()
    got = _WORDS[word] = canonical(word) or ""
    return got


def _canonical_text(text: str) -> str:
    """`popdb.core.text.canonical`, word by word (the same result: canonical never joins or splits
    words), so that the per-word memo makes the unique part of an address cheap."""
    return " ".join(w for w in map(_word, text.split()) if w)


def _phrase_at(tokens: Sequence[str], i: int) -> tuple[str, int]:
    """The type phrase starting at tokens[i] ("thị xã", "tổ dân phố") and its length in
    tokens, else the token itself and 1."""
    for phrase in _PHRASES_BY_FIRST.get(tokens[i], ()):
        if tuple(tokens[i : i + len(phrase)]) == phrase:
            return " ".join(phrase), len(phrase)
    return tokens[i], 1


@lru_cache(maxsize=1 << 14)
def _split_types(component: str) -> tuple[str, ...]:
    """Split an address written without any separator before each full admin-type word:
    "Phường 15 Quận Tân Bình" -> "phường 15", "quận tân bình". Not "tỉnh lộ"/"huyện lộ"
    (roads), not "hợp tác xã", not right after a type word that starts its part ("Thôn Xã
    Đoài" is a hamlet named Xã Đoài; "Huyện Tam Đường Tỉnh Lai Châu" does split)."""
    units = _units(component.split(" "))
    comps: list[list[str]] = [[]]
    for i, unit in enumerate(units):
        following = units[i + 1] if i + 1 < len(units) else None
        current = comps[-1]
        prev = current[-1] if current else None
        if (
            unit in ADMIN_TYPES
            and prev is not None
            and following is not None
            and following not in ("lộ", "lo")
            and prev not in ("tác", "tac")
            and prev not in ADMIN_TYPES
            and not (len(current) == 1 and prev in PLACE_TYPES)
        ):
            comps.append([])
        comps[-1].append(unit)
    return tuple(" ".join(c) for c in comps)


def _abbreviation(tokens: Sequence[str], i: int, units: list[str]) -> tuple[str, int] | None:
    """The expansion of the abbreviation at tokens[i] and the index after it (and after its
    dot), or None when that token is not an abbreviation where it stands."""
    t = tokens[i]
    if len(t) == 1 and units and units[-1] in _ROOM_WORDS:
        return None  # "Phòng F15", "Lô P 3": a room or a plot, not a ward
    n = len(tokens)
    j = i + 1
    while j < n and tokens[j] == ".":
        j += 1  # "P.", "P..", "P. ." all end the abbreviation
    dot = j > i + 1
    after = tokens[j] if j < n else None
    after_number = after is not None and _is_number(after)
    after_word = after is not None and not after_number and after not in _PUNCTUATION
    expansion: str | None = None
    if t in _ALWAYS:
        expansion = _ALWAYS[t]
    elif t in ("p", "q"):
        if dot or after_number or (not units and after_word):
            expansion = "phường" if t == "p" else "quận"
    elif t in ("h", "x"):
        # Never before a number: "H. 12" is not a district ("Hẻm 12" must stay a lane).
        if (dot or not units) and after_word:
            expansion = "huyện" if t == "h" else "xã"
    elif t in ("đ", "d"):
        if dot and after_word:
            expansion = "đường"
    elif t == "t":
        if dot and not units and after_word:  # "T. Nghệ An"; "Nguyễn T. Minh Khai" stays
            expansion = "tỉnh"
    elif t in _BEFORE_NUMBER and after_number:
        expansion = _BEFORE_NUMBER[t]
    return None if expansion is None else (expansion, j)


def _drop_house_number_words(tokens: list[str]) -> list[str]:
    """Drop "số", "số nhà", "SN" ... right before a house number ("Số nhà 05" is house 5),
    before anything else looks at the tokens, so that "F. Số 12" keys like "F12"."""
    out: list[str] = []
    n = len(tokens)
    i = 0
    while i < n:
        if tokens[i] not in _HOUSE_NUMBER_STARTS:
            out.append(tokens[i])
            i += 1
            continue
        j = i
        while j < n:
            if j + 1 < n and f"{tokens[j]} {tokens[j + 1]}" in _HOUSE_NUMBER_WORDS:
                j += 2
            elif tokens[j] in _HOUSE_NUMBER_WORDS:
                j += 1
            else:
                break
        if j > i and j < n and tokens[j][:1].isdigit():
            number = tokens[j]
            out.append((number.lstrip("0") or "0") if _is_number(number) else number)
            i = j + 1
        else:
            out.append(tokens[i])
            i += 1
    return out


def _expand(tokens: list[str]) -> list[list[str]]:
    """Tokens of one comma-separated piece -> components of units (words and type phrases),
    with abbreviations expanded and numbers after type words unpadded. Breaks: ; and a
    spaced dash, a dot after a word, an abbreviated admin type ("...Lợi P.Bến Nghé")."""
    comps: list[list[str]] = [[]]
    units = comps[0]
    n = len(tokens)
    i = 0
    while i < n:
        t = tokens[i]
        if t not in _SPECIAL:
            # An ordinary word or number: most tokens. A number after a type word names a
            # unit ("phường 015", "tổ 03"): its zeros go.
            if t[0].isdigit() and units and units[-1] in _NUMBERED and _is_number(t):
                t = t.lstrip("0") or "0"
            units.append(t)
            i += 1
            continue
        if t in _BREAKS:
            units = []
            comps.append(units)
            i += 1
            continue
        if t == ".":
            # A dot after an initial ("Nguyễn T. Minh Khai") is part of it; after a word or a
            # number it ends a component ("Số 12 ngõ 5. Phường ...").
            if units and not (len(units[-1]) == 1 and units[-1].isalpha()):
                units = []
                comps.append(units)
            i += 1
            continue
        abbreviation = _abbreviation(tokens, i, units) if t in _ABBREVIATIONS else None
        if abbreviation is not None:
            expansion, i = abbreviation
            if units and expansion in ADMIN_TYPES:
                units = []  # "12 Lê Lợi P.Bến Nghé Q.1": an abbreviation starts a part
                comps.append(units)
            units.append(expansion)
            continue
        phrase, width = _phrase_at(tokens, i)
        units.append(phrase)
        i += width
    return comps


def _piece(piece: str) -> tuple[str, ...]:
    """One comma-separated piece of raw text -> its key components (usually one)."""
    text = _canonical_text(piece)
    if not text:
        return ()
    if "-" in text:
        text = _gazetteer().dashed.sub(lambda m: _undash(m.group(0)), text)
    if "t" in text and "." in text:
        text = _TP_DOTTED.sub("tp", text)
    tokens: list[str] = _TOKEN.findall(text)
    if _MAY_SPLIT.search(text):
        tokens = _split_tokens(tokens)
    if not _HOUSE_NUMBER_WORDS.isdisjoint(tokens):
        tokens = _drop_house_number_words(tokens)
    return tuple(" ".join(units) for units in _expand(tokens) if units)


def _split_tokens(found: list[str]) -> list[str]:
    """Split "15-quận" at the dash and "p15" after its letters."""
    tokens: list[str] = []
    for token in found:
        parts = [token]
        if "-" in token:
            split = token.split("-")
            if any(p in _DASH_STARTS or _GLUED.fullmatch(p) for p in split[1:]):
                parts = [q for k, p in enumerate(split) for q in (("-", p) if k else (p,))]
        for part in parts:
            # P15, F15, Q11, KP3: letters then digits.
            glued = _GLUED.fullmatch(part) if part[-1].isdigit() and part[0].isalpha() else None
            tokens.extend(glued.groups() if glued else (part,))
    return tokens


@lru_cache(maxsize=1 << 12)
def _province_form(component: str) -> str:
    """The key form of a province ("hà nội", "hồ chí minh", "huế") when `component` names one,
    else `component` unchanged. "Thành phố X" counts only for centrally-run cities: "Thành phố
    Thanh Hóa" is the provincial capital, a district, not the province."""
    g = _gazetteer()
    words = component.split(" ")
    if len(words) > 1 and words[-1] in ("city", "province"):
        words = words[:-1]
    kind = None
    for prefix in (("thành", "phố"), ("tỉnh",), ("thanh", "pho"), ("tinh",)):
        if len(words) > len(prefix) and tuple(words[: len(prefix)]) == prefix:
            kind, words = " ".join(prefix), words[len(prefix) :]
            break
    rest = " ".join(words)
    form = g.forms.get(rest)
    if form is None and rest.isascii():
        form = g.folds.get(rest.replace(" ", "").replace("-", ""))
    if form is None or (kind in ("thành phố", "thanh pho") and form not in g.central):
        return component
    return form


#: Pieces already keyed. A plain dict, not lru_cache: this lookup runs for every piece of
#: every address. Cleared when full (street pieces are mostly unique; the unit pieces that
#: repeat come straight back).
_PIECES: dict[str, tuple[str, ...]] = {}
_PIECES_MAX = 1 << 18


def _cached_piece(piece: str) -> tuple[str, ...]:
    got = _PIECES.get(piece)
    if got is None:
        if len(_PIECES) >= _PIECES_MAX:
            _PIECES.clear()
        got = _PIECES[piece] = _piece(piece)
    return got


def _finish(comps: list[str]) -> str | None:
    """Drop a trailing country; split a lone component at its type words (the address had no
    separators at all); put the province in its key form; join."""
    while len(comps) > 1 and comps[-1] in _COUNTRY:
        comps.pop()
    if not comps:
        return None
    if len(comps) == 1:
        comps = list(_split_types(comps[0]))
    comps[-1] = _province_form(comps[-1])
    return SEPARATOR.join(comps)


def _full_key(text: str) -> str | None:
    return _finish([c for piece in text.split(",") for c in _cached_piece(piece.strip())])


#: Keyed tails (everything after the first comma: "P. Ba Đình, TP. Hà Nội"), which repeat
#: across a whole commune while the house and street in front of them do not. "" when the
#: tail keys to nothing but a country.
_TAILS: dict[str, str] = {}


def _tail(tail: str) -> str:
    comps = [c for piece in tail.split(",") for c in _cached_piece(piece.strip())]
    while comps and comps[-1] in _COUNTRY:
        comps.pop()
    if not comps:
        return ""
    comps[-1] = _province_form(comps[-1])
    return SEPARATOR.join(comps)


def _key(text: str) -> str | None:
    """`_full_key`, faster: the head and the tail are keyed (and cached) apart. The same result
    whenever both are non-empty (then there are 2+ components and nothing to split)."""
    head, comma, tail = text.partition(",")
    if comma:
        finished = _TAILS.get(tail)
        if finished is None:
            if len(_TAILS) >= _PIECES_MAX:
                _TAILS.clear()
            finished = _TAILS[tail] = _tail(tail)
        first = _cached_piece(head.strip())
        if finished and first:
            return SEPARATOR.join((*first, finished))
    return _full_key(text)


@lru_cache(maxsize=1 << 16)
def _key_cached(text: str) -> str | None:
    return _key(text)


def address_key(text: str | None) -> str | None:
    """The comparison key of a free-text address, so that the ways people write one place
    compare equal: `popdb.core.text.canonical` (NFC, case, tone placement, spaces), unit-type
    abbreviations expanded (P./F/Q./H./X./TX./TT./TP./KP/Đ./KĐT), numbered units unpadded
    ("P.015", "ward 15" -> "phường 15"), the province in one form ("TP.HCM", "Sài Gòn" ->
    "hồ chí minh"; "Thừa Thiên Huế" -> "huế"; "Tỉnh Vĩnh Phúc" -> "vĩnh phúc"), "Số"/"SN"
    before house numbers dropped, and components separated by `SEPARATOR`. Diacritics stay:
    compare `address_fold` keys for diacritic-less input. None when nothing is left.

    Idempotent: the key of a key is the key.
    """
    if text is None:
        return None
    return _key_cached(text)


def address_keys(values: Sequence[str | None]) -> list[str | None]:
    """`address_key` of many values, each distinct value computed once (households and
    communes repeat the same strings)."""
    memo: dict[str | None, str | None] = {None: None}
    out: list[str | None] = []
    append = out.append
    for value in values:
        try:
            append(memo[value])
        except KeyError:
            key = memo[value] = _key(value) if value is not None else None
            append(key)
    return out


# --- working with keys ----------------------------------------------------------------------


def address_components(key: str | None) -> tuple[str, ...]:
    """The components of a key, most specific first (house and street ... province)."""
    return tuple(key.split(SEPARATOR)) if key else ()


@lru_cache(maxsize=1 << 16)
def address_fold(key: str | None) -> str | None:
    """ASCII fold of a key, component by component (`popdb.core.text.fold`), for diacritic-less
    input ("Xa Ngu Hiep, H. Thanh Tri, Ha Noi"). Collides by design (Tân Thành/Tân Thạnh):
    for blocking and weak evidence, never an exact match by itself."""
    if not key:
        return None
    parts = (fold(c) for c in key.split(SEPARATOR))
    return SEPARATOR.join(p for p in parts if p) or None


def _units(words: Sequence[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        phrase, width = _phrase_at(words, i)
        out.append(phrase)
        i += width
    return out


@lru_cache(maxsize=1 << 16)
def address_tokens(key: str | None) -> frozenset[str]:
    """Tokens of a key for a token-set comparison. Type words are dropped ("phường", "đường":
    they say nothing about *which* place) except before a number, where the number is bound
    to its type ("phường 15", "ngõ 5"), so "Phường 1, Quận 15" and "Phường 15, Quận 1" share
    no numbered token. Dashed names are split ("phan rang-tháp chàm"); house numbers stay."""
    tokens: set[str] = set()
    for comp in address_components(key):
        units = _units(comp.split(" "))
        for i, unit in enumerate(units):
            typed = unit in _NUMBERED
            if typed:
                if i + 1 < len(units) and _is_number(units[i + 1]):
                    tokens.add(f"{unit} {units[i + 1]}")
                continue
            if _is_number(unit) and i > 0 and units[i - 1] in _NUMBERED:
                continue  # bound to its type above
            if "-" in unit and not unit[:1].isdigit():
                tokens.update(p for p in unit.split("-") if p)
            else:
                tokens.add(unit)
    return frozenset(tokens)


# --- parts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddressParts:
    """A key split into street (everything below the commune), commune, district and province
    components; None where the key does not say. A heuristic over component types and
    positions, not a lookup: see `resolve_units` for official units."""

    street: str | None
    commune: str | None
    district: str | None
    province: str | None


def _leading_type(
    words: Sequence[str], *, strict: bool = True
) -> tuple[str | None, list[str], bool]:
    """(admin type, name words, typed-without-diacritics) of a component. An ASCII type word
    counts, when `strict`, only before a number or a name of two or more words: "Quan Hoa"
    is Phường Quan Hoa, not a district "Hoa"."""
    units = _units(words[:3])
    if not units:
        return None, list(words), False
    head = units[0]
    width = len(head.split(" "))
    rest = list(words[width:])
    if head in ADMIN_TYPES and rest:
        return head, rest, False
    ascii_ok = rest and (not strict or len(rest) >= 2 or _is_number(rest[0]))
    if head in _ASCII_ADMIN and ascii_ok:
        return _ASCII_ADMIN[head], rest, True
    return None, list(words), False


def _kind(component: str) -> str:
    """ "province", "district", "commune", "street" or "name" (untyped)."""
    if component in _gazetteer().provinces:
        return "province"
    words = component.split(" ")
    kind, _, _ = _leading_type(words)
    if kind in COMMUNE_TYPES:
        return "commune"
    if kind in DISTRICT_TYPES:
        return "district"
    if kind == "tỉnh":
        return "province"
    if words[0][:1].isdigit() or _units(words[:3])[0] in PLACE_TYPES:
        return "street"
    return "name"


@lru_cache(maxsize=1 << 16)
def address_parts(key: str | None) -> AddressParts:
    """Split a key into street, commune, district and province, reading from the end.

    Typed components ("phường ...", "quận ...") go where their type says. An untyped one is a
    district when it sits between a province and an untyped or commune component ("Phúc Xá,
    Ba Đình, Hà Nội"; "Phường Yên Hòa, Cầu Giấy"), else a commune when a province or district
    follows it; components that fit nowhere stay in the street part.
    """
    comps = list(address_components(key))
    kinds = [_kind(c) for c in comps]
    province = district = commune = None
    end = len(comps)
    if comps and kinds[-1] == "province":
        province = comps[-1]
        end -= 1
    i = end - 1
    while i >= 0:
        kind, left = kinds[i], kinds[i - 1] if i > 0 else None
        if kind == "district" and district is None and commune is None:
            district = comps[i]
        elif kind == "commune":
            commune = comps[i]
            i -= 1
            break
        elif (
            kind == "name"
            and district is None
            and commune is None
            and (left == "commune" or (province is not None and left == "name"))
        ):
            district = comps[i]
        elif kind == "name" and (province is not None or district is not None):
            commune = comps[i]
            i -= 1
            break
        else:
            break
        i -= 1
    street = SEPARATOR.join(comps[: i + 1]) or None
    return AddressParts(street, commune, district, province)


# --- resolution against the official lists -----------------------------------------------------


@dataclass(frozen=True)
class ResolvedUnits:
    """Official units an address names, in one vintage. `approximate` is True when some level
    matched only without diacritics, by initials ("Q.TB"), by the s/x spelling variant
    ("Sà Phìn"/"Xà Phìn") or under another unit type (a huyện since made a thị xã).

    `via` is the list the names were matched in when it is not `vintage`: a pre-2025 address
    on a 2025-07 record is matched in 2025-01 and carried over by the official conversion
    table, only where that old unit went whole into one new unit."""

    vintage: str
    province: UnitRow
    district: UnitRow | None
    commune: UnitRow | None
    approximate: bool
    via: str | None = None


@dataclass(frozen=True)
class _Named:
    row: UnitRow
    kind: str  # unit type: "phường", "huyện", ...
    name: str  # name key: canonical, numbers unpadded, lone Roman numeral as a number
    folded: str  # ASCII fold of the name, no spaces
    variant: str  # the name with word-initial s -> x ("sà phìn" -> "xà phìn")
    variant_folded: str  # the same, folded
    initials: str


@dataclass(frozen=True)
class _Index:
    vintage: Vintage
    provinces: dict[str, UnitRow]  # key form -> province
    province_by_code: dict[str, UnitRow]
    districts: dict[str, list[_Named]]  # province code -> its districts
    all_districts: list[_Named]
    communes: dict[str, list[_Named]]  # district code (or province code) -> its communes
    province_communes: dict[str, list[_Named]]  # province code -> all its communes
    commune_by_code: dict[str, UnitRow]


def _name_key(words: Sequence[str]) -> str:
    name = " ".join(words)
    return _ROMAN.get(name, name)


def _variant(folded: str) -> str:
    return re.sub(r"(?:^|(?<= ))s", "x", folded)


def _named(row: UnitRow, types: frozenset[str]) -> _Named:
    comp = " ".join(_cached_piece(row.name))
    kind, name = _strip_type(comp, types)
    key = _name_key(name.split(" "))
    folded = fold(key) or key
    initials = "".join(w[0] for w in folded.split(" ") if w and not w[0].isdigit())
    return _Named(
        row, kind or "", key, folded.replace(" ", ""), _variant(key), _variant(folded), initials
    )


@cache
def _index(vintage_key: str) -> _Index:
    """The official units of one vintage, keyed the way `address_key` writes them."""
    vintage = next((v for v in VINTAGES if v.key == vintage_key), None)
    if vintage is None:
        raise ValueError(f"unknown vintage {vintage_key!r}; known: {[v.key for v in VINTAGES]}")
    provinces: dict[str, UnitRow] = {}
    by_code: dict[str, UnitRow] = {}
    districts: dict[str, list[_Named]] = {}
    all_districts: list[_Named] = []
    communes: dict[str, list[_Named]] = {}
    province_communes: dict[str, list[_Named]] = {}
    commune_by_code: dict[str, UnitRow] = {}
    for row in read_units(vintage):
        if row.level == "province":
            provinces[_province_form(" ".join(_cached_piece(row.name)))] = row
            by_code[row.code] = row
        elif row.level == "district":
            named = _named(row, DISTRICT_TYPES)
            districts.setdefault(row.province_code, []).append(named)
            all_districts.append(named)
        else:
            named = _named(row, COMMUNE_TYPES)
            commune_by_code[row.code] = row
            communes.setdefault(row.parent_code or "", []).append(named)
            province_communes.setdefault(row.province_code, []).append(named)
    return _Index(vintage, provinces, by_code, districts, all_districts, communes,
                  province_communes, commune_by_code)  # fmt: skip


def _unique(found: Iterable[_Named]) -> _Named | None:
    rows = {n.row.code: n for n in found}
    return next(iter(rows.values())) if len(rows) == 1 else None


def _match(
    component: str, pool: Sequence[_Named], *, initials: bool = False, literal: bool = False
) -> tuple[_Named | None, bool]:
    """The one unit of `pool` that `component` names, and whether the match is approximate.

    Levels, in order; the first that finds anything decides, and more than one candidate
    there is no match at all:
    1. the exact name (written with diacritics), same unit type first, then any type of the
       level (units get upgraded: huyện -> thị xã, xã -> phường);
    2. the ASCII fold, for names written without diacritics ("Xa Ngu Hiep"). An ASCII type
       word may also be part of the name ("Phuong Mai"): both readings are tried together;
    3. the s/x spelling variant at the start of a word ("Sà Phìn" for Xà Phìn);
    4. for districts within a known province, initials ("Q.TB" for Quận Tân Bình).

    `literal`: the address is written with diacritics, so a name without any is meant as
    written ("Xã Ia Bang", not "Xã Ia Băng") and is tried at level 1 too.
    """
    words = component.split(" ")
    kind, rest, ascii_type = _leading_type(words, strict=False)
    readings = [(kind, _name_key(rest))]
    if kind is None or ascii_type:
        readings.append((None, _name_key(words)))
    exact = [
        (k, n)
        for k, name in readings
        if literal or not name.isascii()
        for n in pool
        if n.name == name
    ]
    if exact:
        same = [n for k, n in exact if k is None or n.kind == k]
        if same:
            return _unique(same), False
        return _unique(n for _, n in exact), True
    folded = [(k, n) for k, name in readings if name.isascii()
              for n in pool if n.folded == name.replace(" ", "")]  # fmt: skip
    if folded:
        same = [n for k, n in folded if k is None or n.kind == k]
        return _unique(same or [n for _, n in folded]), True
    # Word-initial s/x (southern speech merges them); other letters and marks as written.
    variant = [
        n
        for _, name in readings
        for n in pool
        if (n.variant_folded if name.isascii() else n.variant) == _variant(name)
    ]
    if variant:
        return _unique(variant), True
    name = _name_key(rest)
    if initials and re.fullmatch(r"[a-z]{2,4}", name):
        return _unique(n for n in pool if n.initials == name), True
    return None, False


@lru_cache(maxsize=1 << 16)
def _resolve(key: str, vintage_key: str) -> ResolvedUnits | None:
    idx = _index(vintage_key)
    parts = address_parts(key)
    # Written with diacritics if any name word (not a type word, not the province, whose
    # form the key restores) has them.
    named = [w for c in address_components(key) if c != parts.province for w in c.split(" ")]
    literal = any(not w.isascii() for w in named if w not in _TYPE_WORDS)
    approximate = d_approx = False
    province: UnitRow | None = None
    district: UnitRow | None = None
    commune: UnitRow | None = None
    if not idx.vintage.has_districts and (
        parts.district is not None
        or (parts.province is not None and parts.province not in idx.provinces)
    ):
        # A pre-2025 address (a district, or a province merged away) on a two-tier record.
        return _carried_over(_resolve(key, _LEGACY), vintage_key)
    if parts.province is not None:
        province = idx.provinces.get(parts.province)
        if province is None:
            return None  # a province this vintage does not have
    if parts.district is not None:
        pool = idx.districts.get(province.code, []) if province else idx.all_districts
        found, approx = _match(parts.district, pool, initials=province is not None, literal=literal)
        if found is None:
            return ResolvedUnits(vintage_key, province, None, None, False) if province else None
        district, approximate = found.row, approx
        province = idx.province_by_code[district.province_code]
    if province is None:
        return None  # a commune name alone is ambiguous ("Xã Tân Thành")
    if parts.commune is not None:
        parent = district.code if district else province.code
        pool = (
            idx.communes.get(parent, [])
            if district or not idx.vintage.has_districts
            else idx.province_communes.get(province.code, [])
        )
        found, approx = _match(parts.commune, pool, literal=literal)
        as_district: _Named | None = None
        if district is None and idx.vintage.has_districts and _kind(parts.commune) == "name":
            # "12 Lê Lợi, Ba Đình, Hà Nội": an untyped name may be the district.
            as_district, d_approx = _match(
                parts.commune, idx.districts.get(province.code, []), literal=literal
            )
        if found is not None and as_district is None:
            commune, approximate = found.row, approximate or approx
        elif as_district is not None and found is None:
            district, approximate = as_district.row, approximate or d_approx
    return ResolvedUnits(vintage_key, province, district, commune, approximate)


#: The last list with districts: what a pre-2025 address on a 2025-07 record is matched in.
_LEGACY = next(v.key for v in reversed(VINTAGES) if v.has_districts)


def _unit_code(cell: str | None) -> str | None:
    """ "Tỉnh Bình Phước (70)" -> "70"."""
    found = re.search(r"\((\d+)\)\s*$", cell or "")
    return found.group(1) if found else None


@cache
def _conversion() -> tuple[dict[str, str], dict[str, str]]:
    """Old commune code -> new commune code and old province code -> new province code, from
    the 1 July 2025 conversion table, for the old units that went whole into one new unit
    (a commune split between several, or merged only in part, has no entry; nor has Tiền
    Giang, which the table splits between two provinces)."""
    communes: dict[str, set[str]] = {}
    provinces: dict[str, set[str]] = {}
    for change in read_old_to_new():
        if change.old_code:
            # "Nhập một phần": only part of it went there, even when no other part is listed.
            partial = "một phần" in (change.note or "")
            communes.setdefault(change.old_code, set()).add("" if partial else change.new_code)
        old, new = _unit_code(change.old_province), _unit_code(change.new_province)
        if old and new:
            provinces.setdefault(old, set()).add(new)
    return (
        {old: next(iter(new)) for old, new in communes.items() if len(new) == 1 and "" not in new},
        {old: next(iter(new)) for old, new in provinces.items() if len(new) == 1},
    )


def _carried_over(old: ResolvedUnits | None, vintage_key: str) -> ResolvedUnits | None:
    """Units resolved in the last pre-2025 list, carried over to `vintage_key` (2025-07)."""
    if old is None:
        return None
    idx = _index(vintage_key)
    communes, provinces = _conversion()
    commune = idx.commune_by_code.get(communes.get(old.commune.code, "")) if old.commune else None
    if commune is not None:
        province: UnitRow | None = idx.province_by_code[commune.province_code]
    else:
        province = idx.province_by_code.get(provinces.get(old.province.code, ""))
    if province is None:
        return None
    return ResolvedUnits(vintage_key, province, None, commune, old.approximate, via=old.vintage)


def resolve_units(text: str | None, vintage: str | Vintage) -> ResolvedUnits | None:
    """The official province, district and commune an address names in `vintage` (a commune
    code means nothing without one), matched by name against the shipped lists; None when
    not even the province is certain. Conservative on purpose: a level is filled only when
    exactly one official unit fits, and a commune is never guessed without its province or
    district (there are dozens of "Xã Tân Thành"). A pre-2025 address on a 2025-07 record
    is carried over by the conversion table (see `ResolvedUnits.via`). Accepts raw text or a
    key."""
    key = address_key(text)
    if key is None:
        return None
    return _resolve(key, vintage.key if isinstance(vintage, Vintage) else vintage)
