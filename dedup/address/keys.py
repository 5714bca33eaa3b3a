"""Free address text to its canonical key: tokens, abbreviations expanded, components split
and ordered, memoised per distinct text."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from dedup.address.gazetteer import gazetteer_index, undash
from dedup.address.vocabulary import (
    ABBREVIATIONS,
    ADMIN_TYPES,
    ALWAYS,
    BEFORE_NUMBER,
    BREAKS,
    COUNTRY,
    DASH_STARTS,
    GLUED,
    HOUSE_NUMBER_STARTS,
    HOUSE_NUMBER_WORDS,
    MAY_SPLIT,
    NUMBERED,
    PHRASES_BY_FIRST,
    PLACE_TYPES,
    PUNCTUATION,
    ROOM_WORDS,
    SEPARATOR,
    SPECIAL,
    TOKEN,
    TP_DOTTED,
    is_number,
)
from popdb.core.text import canonical

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


def phrase_at(tokens: Sequence[str], i: int) -> tuple[str, int]:
    """The type phrase starting at tokens[i] ("thị xã", "tổ dân phố") and its length in
    tokens, else the token itself and 1."""
    for phrase in PHRASES_BY_FIRST.get(tokens[i], ()):
        if tuple(tokens[i : i + len(phrase)]) == phrase:
            return " ".join(phrase), len(phrase)
    return tokens[i], 1


@lru_cache(maxsize=1 << 14)
def _split_types(component: str) -> tuple[str, ...]:
    """Split an address written without any separator before each full admin-type word:
    "Phường 15 Quận Tân Bình" -> "phường 15", "quận tân bình". Not "tỉnh lộ"/"huyện lộ"
    (roads), not "hợp tác xã", not right after a type word that starts its part ("Thôn Xã
    Đoài" is a hamlet named Xã Đoài; "Huyện Tam Đường Tỉnh Lai Châu" does split)."""
    units = unit_words(component.split(" "))
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
    if len(t) == 1 and units and units[-1] in ROOM_WORDS:
        return None  # "Phòng F15", "Lô P 3": a room or a plot, not a ward
    n = len(tokens)
    j = i + 1
    while j < n and tokens[j] == ".":
        j += 1  # "P.", "P..", "P. ." all end the abbreviation
    dot = j > i + 1
    after = tokens[j] if j < n else None
    after_number = after is not None and is_number(after)
    after_word = after is not None and not after_number and after not in PUNCTUATION
    expansion: str | None = None
    if t in ALWAYS:
        expansion = ALWAYS[t]
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
    elif t in BEFORE_NUMBER and after_number:
        expansion = BEFORE_NUMBER[t]
    return None if expansion is None else (expansion, j)


def _drop_house_number_words(tokens: list[str]) -> list[str]:
    """Drop "số", "số nhà", "SN" ... right before a house number ("Số nhà 05" is house 5),
    before anything else looks at the tokens, so that "F. Số 12" keys like "F12"."""
    out: list[str] = []
    n = len(tokens)
    i = 0
    while i < n:
        if tokens[i] not in HOUSE_NUMBER_STARTS:
            out.append(tokens[i])
            i += 1
            continue
        j = i
        while j < n:
            if j + 1 < n and f"{tokens[j]} {tokens[j + 1]}" in HOUSE_NUMBER_WORDS:
                j += 2
            elif tokens[j] in HOUSE_NUMBER_WORDS:
                j += 1
            else:
                break
        if j > i and j < n and tokens[j][:1].isdigit():
            number = tokens[j]
            out.append((number.lstrip("0") or "0") if is_number(number) else number)
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
        if t not in SPECIAL:
            # An ordinary word or number: most tokens. A number after a type word names a
            # unit ("phường 015", "tổ 03"): its zeros go.
            if t[0].isdigit() and units and units[-1] in NUMBERED and is_number(t):
                t = t.lstrip("0") or "0"
            units.append(t)
            i += 1
            continue
        if t in BREAKS:
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
        abbreviation = _abbreviation(tokens, i, units) if t in ABBREVIATIONS else None
        if abbreviation is not None:
            expansion, i = abbreviation
            if units and expansion in ADMIN_TYPES:
                units = []  # "12 Lê Lợi P.Bến Nghé Q.1": an abbreviation starts a part
                comps.append(units)
            units.append(expansion)
            continue
        phrase, width = phrase_at(tokens, i)
        units.append(phrase)
        i += width
    return comps


def _piece(piece: str) -> tuple[str, ...]:
    """One comma-separated piece of raw text -> its key components (usually one)."""
    text = _canonical_text(piece)
    if not text:
        return ()
    if "-" in text:
        text = gazetteer_index().dashed.sub(lambda m: undash(m.group(0)), text)
    if "t" in text and "." in text:
        text = TP_DOTTED.sub("tp", text)
    tokens: list[str] = TOKEN.findall(text)
    if MAY_SPLIT.search(text):
        tokens = _split_tokens(tokens)
    if not HOUSE_NUMBER_WORDS.isdisjoint(tokens):
        tokens = _drop_house_number_words(tokens)
    return tuple(" ".join(units) for units in _expand(tokens) if units)


def _split_tokens(found: list[str]) -> list[str]:
    """Split "15-quận" at the dash and "p15" after its letters."""
    tokens: list[str] = []
    for token in found:
        parts = [token]
        if "-" in token:
            split = token.split("-")
            if any(p in DASH_STARTS or GLUED.fullmatch(p) for p in split[1:]):
                parts = [q for k, p in enumerate(split) for q in (("-", p) if k else (p,))]
        for part in parts:
            # P15, F15, Q11, KP3: letters then digits.
            glued = GLUED.fullmatch(part) if part[-1].isdigit() and part[0].isalpha() else None
            tokens.extend(glued.groups() if glued else (part,))
    return tokens


@lru_cache(maxsize=1 << 12)
def province_form(component: str) -> str:
    """The key form of a province ("hà nội", "hồ chí minh", "huế") when `component` names one,
    else `component` unchanged. "Thành phố X" counts only for centrally-run cities: "Thành phố
    Thanh Hóa" is the provincial capital, a district, not the province."""
    g = gazetteer_index()
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


def cached_piece(piece: str) -> tuple[str, ...]:
    got = _PIECES.get(piece)
    if got is None:
        if len(_PIECES) >= _PIECES_MAX:
            _PIECES.clear()
        got = _PIECES[piece] = _piece(piece)
    return got


def _finish(comps: list[str]) -> str | None:
    """Drop a trailing country; split a lone component at its type words (the address had no
    separators at all); put the province in its key form; join."""
    while len(comps) > 1 and comps[-1] in COUNTRY:
        comps.pop()
    if not comps:
        return None
    if len(comps) == 1:
        comps = list(_split_types(comps[0]))
    comps[-1] = province_form(comps[-1])
    return SEPARATOR.join(comps)


def _full_key(text: str) -> str | None:
    return _finish([c for piece in text.split(",") for c in cached_piece(piece.strip())])


#: Keyed tails (everything after the first comma: "P. Ba Đình, TP. Hà Nội"), which repeat
#: across a whole commune while the house and street in front of them do not. "" when the
#: tail keys to nothing but a country.
_TAILS: dict[str, str] = {}


def _tail(tail: str) -> str:
    comps = [c for piece in tail.split(",") for c in cached_piece(piece.strip())]
    while comps and comps[-1] in COUNTRY:
        comps.pop()
    if not comps:
        return ""
    comps[-1] = province_form(comps[-1])
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
        first = cached_piece(head.strip())
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


def unit_words(words: Sequence[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        phrase, width = phrase_at(words, i)
        out.append(phrase)
        i += width
    return out
