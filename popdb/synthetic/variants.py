"""How Vietnamese is typed: tone placement, dropped diacritics, NFD, dialect typos, stray
whitespace."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from popdb.synthetic.randomness import Weighted

_TONE_MARKS = ("\u0300", "\u0301", "\u0303", "\u0309", "\u0323")  # huyền sắc ngã hỏi nặng
_HOI, _NGA, _NANG, _SAC = "\u0309", "\u0303", "\u0323", "\u0301"
_CIRCUMFLEX, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"
_VOWELS = frozenset("aeiouy")


def _letters(word: str) -> list[list[str]]:
    """A word as [base letter, combining marks...] groups (NFD), for editing marks."""
    out: list[list[str]] = []
    for ch in unicodedata.normalize("NFD", word):
        if unicodedata.combining(ch) and out:
            out[-1].append(ch)
        else:
            out.append([ch])
    return out


def _unletters(letters: list[list[str]]) -> str:
    return unicodedata.normalize("NFC", "".join("".join(g) for g in letters))


@lru_cache(maxsize=100_000)
def _ascii(text: str) -> str:
    """Every diacritic dropped and đ -> d, case kept: what an ASCII keyboard types."""
    out = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return out.replace("đ", "d").replace("Đ", "D")


@lru_cache(maxsize=20_000)
def _new_style(word: str) -> str:
    """The "new" tone placement of an open oa/oe/uy syllable (Hòa -> Hoà, Thủy -> Thuỷ);
    other words unchanged (qu-onsets and closed syllables have one correct form)."""
    letters = _letters(word)
    if len(letters) < 2:
        return word
    a, b = letters[-2], letters[-1]
    pair = (a[0].lower(), b[0].lower())
    if pair not in (("o", "a"), ("o", "e"), ("u", "y")) or len(b) > 1:
        return word
    if len(letters) >= 3 and letters[-3][0].lower() in "qg" and pair[0] == "u":
        return word
    if len(letters) >= 3 and letters[-3][0].lower() in _VOWELS:
        return word
    tones = [m for m in a[1:] if m in _TONE_MARKS]
    if not tones or len(a) > 2:
        return word
    a.remove(tones[0])
    b.append(tones[0])
    return _unletters(letters)


def _restore_case(template: str, text: str) -> str:
    if template.isupper():
        return text.upper()
    if template[:1].isupper():
        return "'".join(p[:1].upper() + p[1:] for p in text.split("'"))
    return text


_ONSETS = (("ngh", ()), ("ng", ()), ("nh", ()), ("gi", ("d", "r")), ("tr", ("ch",)),
           ("ch", ("tr",)), ("d", ("gi", "r", "v")), ("r", ("d", "gi")), ("s", ("x",)),
           ("x", ("s",)), ("l", ("n",)), ("n", ("l",)), ("v", ("d",)))  # fmt: skip
_TYPO_KINDS = Weighted(
    (("hoi_nga", 3), ("tone_drop", 3), ("tone_dot", 2), ("vowel_mark", 3), ("d_stroke", 1.5),
     ("onset", 3), ("coda", 1.5), ("i_y", 1), ("drop", 1.5), ("double", 0.5), ("hand", 0.5))
)  # fmt: skip


def vn_typo(word: str, rng: random.Random) -> str:
    """One transcription error of domain.md 4.3 in a Vietnamese word, case kept: hỏi/ngã,
    tone or vowel mark dropped or changed, đ/d, dialect onsets (d/gi/r, s/x, ch/tr, l/n, v/d)
    and codas (n/ng, t/c), i/y, a letter dropped or doubled, handwriting u/n. The word is
    returned unchanged when none of a few tries applies."""
    low = word.lower()
    for _ in range(6):
        kind = _TYPO_KINDS.pick(rng.random)
        out = _typo_kind(kind, low, rng)
        if out and out != low:
            return _restore_case(word, out)
    return word


def _typo_kind(kind: str, low: str, rng: random.Random) -> str | None:
    """`low` with one transcription error of `kind` (domain.md 4.3), or None when the word
    offers no place for it."""
    letters = _letters(low)
    bases = "".join(g[0] for g in letters)
    return _TYPOS[kind](kind, letters, bases, rng)


Letters = list[list[str]]


def _tone_typo(kind: str, letters: Letters, bases: str, rng: random.Random) -> str | None:
    """hỏi for ngã and back, a tone dropped, or nặng for sắc and back (a dot added)."""
    tone_at = next((i for i, g in enumerate(letters) for m in g[1:] if m in _TONE_MARKS), None)
    if tone_at is None:
        if kind != "tone_dot":
            return None
        vowels = [i for i, b in enumerate(bases) if b in _VOWELS]
        if not vowels:
            return None
        letters[vowels[0]].append(_NANG)
        return _unletters(letters)
    group = letters[tone_at]
    tone = next(m for m in group[1:] if m in _TONE_MARKS)
    if kind == "hoi_nga":
        if tone not in (_HOI, _NGA):
            return None
        group[group.index(tone)] = _NGA if tone == _HOI else _HOI
    elif kind == "tone_drop":
        group.remove(tone)
    else:
        if tone not in (_NANG, _SAC):
            return None
        group[group.index(tone)] = _SAC if tone == _NANG else _NANG
    return _unletters(letters)


def _vowel_mark_typo(kind: str, letters: Letters, bases: str, rng: random.Random) -> str | None:
    """A vowel mark lost or swapped (ă/â, ô/ơ), or one added to a plain vowel."""
    marked = [i for i, g in enumerate(letters) if any(m in (_CIRCUMFLEX, _BREVE, _HORN) for m in g)]
    if marked:
        group = letters[rng.choice(marked)]
        mark = next(m for m in group[1:] if m in (_CIRCUMFLEX, _BREVE, _HORN))
        swap = {_CIRCUMFLEX: _BREVE, _BREVE: _CIRCUMFLEX} if group[0] == "a" else {}
        swap |= {_CIRCUMFLEX: _HORN, _HORN: _CIRCUMFLEX} if group[0] == "o" else {}
        if swap and rng.random() < 0.4:
            group[group.index(mark)] = swap[mark]
        else:
            group.remove(mark)
        return _unletters(letters)
    plain = [i for i, b in enumerate(bases) if b in "aeou"]
    if not plain:
        return None
    group = letters[rng.choice(plain)]
    group.insert(1, _HORN if group[0] == "u" else _CIRCUMFLEX)
    return _unletters(letters)


def _d_stroke_typo(kind: str, letters: Letters, bases: str, rng: random.Random) -> str | None:
    """đ written d, or d written đ."""
    if bases.startswith("đ"):
        letters[0][0] = "d"
    elif bases.startswith("d") and not bases.startswith("di"):
        letters[0][0] = "đ"
    else:
        return None
    return _unletters(letters)


def _onset_typo(kind: str, letters: Letters, bases: str, rng: random.Random) -> str | None:
    """A dialect's onset for another (gi/d/r, tr/ch, ...)."""
    for onset, replacements in _ONSETS:
        if bases.startswith(onset):
            rest = letters[len(onset) :]
            if not replacements or not rest or rest[0][0] not in _VOWELS:
                return None
            if any(len(g) > 1 for g in letters[: len(onset)]):
                return None  # a mark on the onset's i (gì): not an onset change
            return rng.choice(replacements) + _unletters(rest)
    return None


def _coda_typo(kind: str, letters: Letters, bases: str, rng: random.Random) -> str | None:
    """A southern coda: -ng/-n, -t/-c confused."""
    if bases.endswith("ng") and len(bases) > 3:
        return _unletters(letters[:-1])
    if bases.endswith("n") and not bases.endswith(("nh", "ng")) and len(bases) > 2:
        return _unletters(letters) + "g"
    if bases.endswith("t") and len(bases) > 2:
        return _unletters(letters[:-1]) + "c"
    if bases.endswith("c") and not bases.endswith("ch") and len(bases) > 2:
        return _unletters(letters[:-1]) + "t"
    return None


def _i_y_typo(kind: str, letters: Letters, bases: str, rng: random.Random) -> str | None:
    """A final i written y, or y written i."""
    if len(bases) >= 2 and bases[-2] not in _VOWELS and bases[-1] in "iy":
        letters[-1][0] = "y" if bases[-1] == "i" else "i"
        return _unletters(letters)
    return None


def _drop_typo(kind: str, letters: Letters, bases: str, rng: random.Random) -> str | None:
    """A letter left out (never the first)."""
    if len(letters) < 3:
        return None
    del letters[rng.randrange(1, len(letters))]
    return _unletters(letters)


def _double_typo(kind: str, letters: Letters, bases: str, rng: random.Random) -> str | None:
    """A letter typed twice."""
    i = rng.randrange(len(letters))
    letters.insert(i, [letters[i][0]])
    return _unletters(letters)


def _hand_typo(kind: str, letters: Letters, bases: str, rng: random.Random) -> str | None:
    """u read as n, or n as u, in handwriting."""
    spots = [i for i, g in enumerate(letters) if g[0] in "un" and len(g) == 1]
    if not spots:
        return None
    i = rng.choice(spots)
    letters[i][0] = "n" if letters[i][0] == "u" else "u"
    return _unletters(letters)


_TYPOS: dict[str, Callable[[str, Letters, str, random.Random], str | None]] = {
    "hoi_nga": _tone_typo,
    "tone_drop": _tone_typo,
    "tone_dot": _tone_typo,
    "vowel_mark": _vowel_mark_typo,
    "d_stroke": _d_stroke_typo,
    "onset": _onset_typo,
    "coda": _coda_typo,
    "i_y": _i_y_typo,
    "drop": _drop_typo,
    "double": _double_typo,
    "hand": _hand_typo,
}


def _whitespace(name: str, rng: random.Random) -> str:
    """The invisible differences of domain.md 4.2 item 6."""
    words = name.split(" ")
    kind = rng.randrange(5)
    if kind == 0 and len(words) > 1:
        i = rng.randrange(1, len(words))
        return " ".join(words[:i]) + "  " + " ".join(words[i:])
    if kind == 1 and len(words) > 1:
        i = rng.randrange(1, len(words))
        return " ".join(words[:i]) + "\u00a0" + " ".join(words[i:])
    if kind == 2:
        return name + " "
    if kind == 3:
        return " " + name
    word = words[-1]
    cut = rng.randrange(1, len(word)) if len(word) > 1 else 1
    words[-1] = word[:cut] + "\u200b" + word[cut:]
    return " ".join(words)
