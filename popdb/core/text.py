"""Vietnamese text normalisation: the keys that decide whether two names are "the same".

Pure functions, no I/O (domain.md 4.2, 4.6). Three levels, each built on the previous one:

- `clean`: for storage and display. NFC, look-alikes folded (Ð/ð/Ɖ -> Đ/đ), apostrophe and
  dash variants unified, unicode spaces -> " ", invisible characters removed, whitespace
  collapsed. Case is kept.
- `canonical`: the **canonical key**, which decides exact matches. `clean` + casefold + one
  tone-mark placement style (the traditional "hòa, thủy, khỏe"). Diacritics are kept, so
  Hòa != Hoa, Đặng != Dặng, Vũ != Vủ.
- `fold`: the **folded key** (ASCII, no diacritics, đ -> d) for blocking and for ASCII-only
  input. Many distinct names collide on it (Hòa/Hoa/Hóa), so it must never decide a match.

Deliberately *not* folded anywhere: y/i (Lý/Lí, Vy/Vi are distinct or only weakly equal),
regional doublets (Hoàng/Huỳnh, Vũ/Võ), and legacy 8-bit mojibake ("NguyÔn" is TCVN3 for
Nguyễn): `looks_like_legacy_encoding` flags it so ingest can warn; it is never matched.

Also: `split_name` / `join_name` for family / middle / given names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "COMPOUND_SURNAMES",
    "NameParts",
    "canonical",
    "clean",
    "fold",
    "join_name",
    "looks_like_legacy_encoding",
    "split_name",
]

# --- clean ------------------------------------------------------------------------------------

_APOSTROPHES = (
    "\u2019"  # ’ right single quotation mark (what word processors produce)
    "\u2018"  # ‘ left single quotation mark
    "\u201b"  # ‛ single high-reversed-9 quotation mark
    "\u02bc"  # ʼ modifier letter apostrophe
    "\u02bb"  # ʻ modifier letter turned comma
    "\u02bd"  # ʽ modifier letter reversed comma
    "\u02b9"  # ʹ modifier letter prime
    "\u0060"  # ` grave accent (typed instead of an apostrophe)
    "\u00b4"  # ´ acute accent
    "\u2032"  # ′ prime
    "\u2035"  # ‵ reversed prime
    "\ua78b"  # Ꞌ latin capital letter saltillo
    "\ua78c"  # ꞌ latin small letter saltillo
    "\uff07"  # ＇ fullwidth apostrophe
)
_DASHES = (
    "\u2010"  # ‐ hyphen
    "\u2011"  # ‑ non-breaking hyphen
    "\u2012"  # ‒ figure dash
    "\u2013"  # – en dash ("Bà Rịa – Vũng Tàu" in official lists)
    "\u2014"  # — em dash
    "\u2015"  # ― horizontal bar
    "\u2212"  # − minus sign
    "\ufe58"  # ﹘ small em dash
    "\ufe63"  # ﹣ small hyphen-minus
    "\uff0d"  # － fullwidth hyphen-minus
)
#: Letters that look like Đ/đ: Icelandic eth (what Windows-1258 Đ/đ become when read as
#: Latin-1) and African D (U+0189/U+0256).
_LOOKALIKES = {"\u00d0": "\u0110", "\u00f0": "\u0111", "\u0189": "\u0110", "\u0256": "\u0111"}

_CLEAN_TABLE: dict[int, str] = {
    **{ord(c): "'" for c in _APOSTROPHES},
    **{ord(c): "-" for c in _DASHES},
    **{ord(c): v for c, v in _LOOKALIKES.items()},
}


def _visible(ch: str) -> bool:
    """False for characters nobody can see: format characters (Cf: zero-width space/joiners,
    U+FEFF, U+2060, soft hyphen, bidi controls) and control characters that are not
    whitespace. They come from copy-paste and make equal-looking names differ."""
    cat = unicodedata.category(ch)
    if cat == "Cf":
        return False
    return not (cat == "Cc" and not ch.isspace())


#: Text that `clean` leaves as it is: words of letters and digits other than the ones it
#: folds (look-alikes of Đ/đ, letter-like apostrophes) and plain punctuation, with single
#: spaces between them. Checked with one regular expression, in C, before any real work.
_PLAIN_CHARS = "[^\\W" + "".join(f"\\u{ord(c):04x}" for c in map(chr, _CLEAN_TABLE)) + "]"
_PLAIN_WORD = rf"(?:{_PLAIN_CHARS}|[,./()#:;&+'@\-])+"  # "@": e-mail addresses
_PLAIN = re.compile(rf"{_PLAIN_WORD}(?: {_PLAIN_WORD})*")


def clean(s: str | None) -> str | None:
    """The form to store and display: NFC, look-alikes, apostrophes, dashes and spaces unified,
    invisible characters removed, whitespace collapsed and trimmed, case kept. None when
    nothing is left, so an all-blank field reads as missing rather than as "".

    NFC runs before the character mapping too, because some code points normalise *to* a
    variant we fold (U+1FEF GREEK VARIA -> U+0060), and after it, because removing a
    zero-width character can let a base letter and its mark compose.
    """
    if s is None:
        return None
    if _PLAIN.fullmatch(s) and unicodedata.is_normalized("NFC", s):
        return s  # the common case, checked in C: nothing to change
    s = unicodedata.normalize("NFC", s).translate(_CLEAN_TABLE)
    s = "".join(ch for ch in s if _visible(ch))
    # str.split() splits on every unicode space (NBSP, U+2000-U+200A, U+3000, ...).
    s = " ".join(unicodedata.normalize("NFC", s).split())
    return s or None


# --- canonical: tone-mark placement ------------------------------------------------------------

#: The five tone marks (dấu thanh) as combining characters: huyền, sắc, ngã, hỏi, nặng.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
#: Vowel-quality marks each vowel may carry: circumflex (â ê ô), breve (ă), horn (ơ ư).
#: They belong to the letter and never move; only the tone mark does.
_QUALITY = {
    "a": frozenset({"\u0302", "\u0306"}),
    "e": frozenset({"\u0302"}),
    "o": frozenset({"\u0302", "\u031b"}),
    "u": frozenset({"\u031b"}),
    "i": frozenset(),
    "y": frozenset(),
}
_VOWELS = frozenset(_QUALITY)


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LM"


def _tone_target(bases: list[str], qualities: list[str]) -> int | None:
    """Index of the letter that carries the tone mark in a casefolded syllable, or None when
    the letters are not one Vietnamese syllable (then nothing is moved).

    Onset = leading consonants; `qu` and `gi` (before another vowel) are onsets, so their
    u/i never carries the tone (quý, giữa). Nucleus = the following vowels; coda = the
    remaining consonants. The tone goes on:
    1. the last vowel with a quality mark (thuyết, người, tuổi, cửa);
    2. else, with a final consonant, the last vowel (hoàng, hoạch, huỳnh);
    3. else, three vowels: the middle one (ngoài, khuỷu, ngoẹo);
    4. else the first vowel: the traditional style for open oa/oe/uy (hòa, khỏe, thủy, úy),
       and the only style for the other diphthongs (mái, múa, kéo).
    """
    n = len(bases)
    i = 0
    while i < n and bases[i] not in _VOWELS:
        i += 1
    if i == n:
        return None
    has_next_vowel = i + 1 < n and bases[i + 1] in _VOWELS
    if has_next_vowel and (
        (i >= 1 and bases[i - 1] == "q" and bases[i] == "u" and not qualities[i])
        or (i == 1 and bases[0] == "g" and bases[i] == "i")
    ):
        i += 1
    start = i
    while i < n and bases[i] in _VOWELS:
        i += 1
    end = i
    if end - start > 3 or any(b in _VOWELS for b in bases[end:]):
        return None  # not one syllable: e.g. "ênuôl" (Ê Đê), foreign words
    marked = [k for k in range(start, end) if qualities[k]]
    if marked:
        return marked[-1]
    if end < n:
        return end - 1
    if end - start == 3:
        return start + 1
    return start


def _retone(word: str) -> str:
    """One NFD, casefolded run of letters and marks -> NFC with its tone mark re-placed.

    Marks are collected per letter whatever their order (so `e` + U+0323 + U+0302 and
    `e` + U+0302 + U+0323 both give ệ), the tone mark is lifted off and put back on the
    letter `_tone_target` picks. Anything that is not a plausible syllable (two tone marks,
    a tone on a consonant as in ñ, marks Vietnamese does not use, several syllables run
    together) is only NFC-normalised: better to move nothing than to move wrongly.
    """
    bases: list[str] = []
    qualities: list[str] = []
    tone: str | None = None
    for ch in word:
        if not _is_mark(ch):
            bases.append(ch)
            qualities.append("")
        elif not bases:
            return unicodedata.normalize("NFC", word)
        elif ch in _TONES:
            if tone is not None or bases[-1] not in _VOWELS:
                return unicodedata.normalize("NFC", word)
            tone = ch
        elif qualities[-1] or ch not in _QUALITY.get(bases[-1], ()):
            return unicodedata.normalize("NFC", word)
        else:
            qualities[-1] = ch
    if tone is None:
        return unicodedata.normalize("NFC", word)
    target = _tone_target(bases, qualities)
    if target is None:
        return unicodedata.normalize("NFC", word)
    letters = [
        b + q + (tone if k == target else "")
        for k, (b, q) in enumerate(zip(bases, qualities, strict=True))
    ]
    return unicodedata.normalize("NFC", "".join(letters))


def canonical(s: str | None) -> str | None:
    """The canonical key that decides exact matches: `clean`, casefold, and every syllable's
    tone mark on the vowel that the traditional style puts it on (hòa, hóa, thủy, úy, khỏe;
    quý, quỳnh; hoàng, thuyết). Official data mixes both placement styles, and tone
    placement never distinguishes two Vietnamese words, so "Hoà" and "HÒA" share one key.
    Diacritics are kept: the tone and vowel marks *are* the name.
    """
    s = clean(s)
    if s is None:
        return None
    # Canonical caseless form (Unicode 3.13 D145): NFD before and after casefolding. Clean
    # again: casefolding can produce a variant we fold (ŉ -> U+02BC + n).
    s = clean(unicodedata.normalize("NFD", s).casefold()) or ""
    s = unicodedata.normalize("NFD", s)
    out: list[str] = []
    run: list[str] = []
    for ch in s:
        if _is_word_char(ch):
            run.append(ch)
            continue
        if run:
            out.append(_retone("".join(run)))
            run = []
        out.append(ch)
    if run:
        out.append(_retone("".join(run)))
    return unicodedata.normalize("NFC", "".join(out)) or None


# --- fold ---------------------------------------------------------------------------------------

_FOLD_KEEP = frozenset("abcdefghijklmnopqrstuvwxyz0123456789'- ")


def fold(s: str | None) -> str | None:
    """The folded key for blocking and ASCII-only input ("NGUYEN VAN HOA"): the canonical key
    without any combining mark, đ -> d (stripping marks leaves the stroke of đ), and only
    `[a-z0-9' -]`. Letters with no ASCII base (ø, ł) are dropped; other characters become a
    space so that token boundaries survive. Collides on purpose: never a match by itself.
    """
    c = canonical(s)
    if c is None:
        return None
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", c):
        if _is_mark(ch):
            continue
        if ch == "\u0111":
            ch = "d"
        if ch in _FOLD_KEEP:
            out.append(ch)
        elif not unicodedata.category(ch).startswith("L"):
            out.append(" ")
    return " ".join("".join(out).split()) or None


# --- legacy encodings -------------------------------------------------------------------------

#: Characters that TCVN3 (ABC) bytes become when read as Latin-1/cp1252, but that are *not*
#: letters of the Vietnamese alphabet: symbols (¨ = ă, © = â, ª = ê, « = ô, ¬ = ơ, soft hyphen
#: = ư, ® = đ, § = Đ, ¸ = á, ¹ = ạ, µ = à, ...) and Latin-1 letters foreign to Vietnamese
#: (Æ = ặ, Ç = ầ, Ö = ệ, Þ = ị, ä = ọ, å = ồ, ï = ù, ñ = ủ, ø = ứ, ...). Bytes that decode to a
#: genuine Vietnamese letter (Ô = ễ, ã = ó, ê = ờ, ...) cannot be told apart by themselves.
_TCVN3_NOT_VIETNAMESE = frozenset(
    "¡¢£¤¥¦§¨©ª«¬\u00ad®µ¶·¸¹»¼½¾"  # 0xA1-0xBE: Ă Â Ê Ô Ơ Ư Đ ă â ê ô ơ ư đ à ả ã á ạ ằ ẳ ẵ ắ
    "ÆÇËÎÏÑÖ×ØÜÞß"  # 0xC6-0xDF: ặ ầ ậ ẻ ẽ ẹ ệ ì ỉ ĩ ị ò
    "äåæçëîïñö÷øûüþ"  # 0xE4-0xFE: ọ ồ ổ ỗ ố(ë=ở) ợ ù ủ ử ữ ứ ỷ ỹ ỵ
)


def looks_like_legacy_encoding(s: str) -> bool:
    """True when `s` looks like TCVN3/ABC text decoded as Latin-1 ("NguyÔn", "TrÇn V¨n
    Hïng", "§Æng"), so ingest can warn or route the record to a converter. Such text must
    never be matched: its keys differ from the real name's on purpose.

    Call it on the *raw* input: `clean` removes the soft hyphen that TCVN3 uses for ư.

    Heuristic, per whitespace-separated word of the NFC text. A word is suspicious when it
    holds only code points up to U+00FF (real Vietnamese uses ơ ư đ ễ ..., beyond Latin-1),
    at least one ASCII letter, and either
    - a character from `_TCVN3_NOT_VIETNAMESE`, or
    - a non-ASCII capital right after a lowercase letter ("NguyÔn": TCVN3 has no case, so
      its letters land in the capital half of Latin-1 inside lowercase words).

    Limits: false negatives when every mojibake character happens to be a Vietnamese letter
    in a plausible position ("Tó" for Tú, all-capitals "NGUYÔN"); VNI mojibake ("Nguyeãn")
    is out of scope except where it uses the same symbols; false positives on foreign
    names written with Latin-1 letters (Müller, Muñoz, François). It is a warning signal,
    not a decoder.
    """
    for word in unicodedata.normalize("NFC", s).split():
        if any(ord(ch) > 0xFF for ch in word):
            continue
        if not any(ch.isascii() and ch.isalpha() for ch in word):
            continue
        if any(ch in _TCVN3_NOT_VIETNAMESE for ch in word):
            return True
        for prev, ch in zip(word, word[1:], strict=False):
            if not ch.isascii() and ch.isupper() and prev.islower():
                return True
    return False


# --- names -------------------------------------------------------------------------------------

#: Multi-token family names (domain.md 4.1). Compared on the canonical key, so "TÔN THẤT"
#: and "Tôn Thất" both match. Father+mother combinations ("Nguyễn Lê") are not listed:
#: there the second token is indistinguishable from a middle name.
COMPOUND_SURNAMES = ("Công Tằng Tôn Nữ", "Tôn Thất", "Tôn Nữ", "Âu Dương", "Nguyễn Phước")


def _surname_keys() -> tuple[tuple[str, ...], ...]:
    keys = {tuple((canonical(name) or "").split(" ")) for name in COMPOUND_SURNAMES}
    return tuple(sorted(keys, key=len, reverse=True))  # longest first: Công Tằng Tôn Nữ


_SURNAME_KEYS = _surname_keys()


@dataclass(frozen=True)
class NameParts:
    """A full name split into its parts, in the cleaned original case; None when absent."""

    family: str | None
    middle: str | None
    given: str | None


def _family_length(keys: list[str], *, at_end: bool) -> int:
    """How many tokens (canonical keys) at the start, or at the end, form the family name: a
    listed compound surname if one matches and still leaves a given name, else 1."""
    for surname in _SURNAME_KEYS:
        if len(surname) >= len(keys):
            continue
        edge = keys[-len(surname) :] if at_end else keys[: len(surname)]
        if tuple(edge) == surname:
            return len(surname)
    return 1


def split_name(
    full: str | None, *, order: Literal["family_first", "given_first"] = "family_first"
) -> NameParts:
    """Split a full name into family / middle / given (domain.md 4.6 rule 5).

    family_first (Vietnamese order, "Nguyễn Văn An"): the first token is the family name,
    or the first tokens when they form a compound surname (Tôn Thất, Âu Dương, ...); the last
    token is the given name; the rest is the middle name. given_first (Western order,
    "An Nguyen"): mirror image. A compound surname is only taken when a given name remains.
    A single token is a given name only: it is what people are called and sorted by.
    """
    if order not in ("family_first", "given_first"):
        raise ValueError(f"unknown name order: {order!r}")
    cleaned = clean(full)
    if cleaned is None:
        return NameParts(None, None, None)
    tokens = cleaned.split(" ")
    if len(tokens) == 1:
        return NameParts(None, None, tokens[0])
    keys = [canonical(t) or "" for t in tokens]
    if order == "family_first":
        k = _family_length(keys, at_end=False)
        family, middle, given = tokens[:k], tokens[k:-1], tokens[-1]
    else:
        k = _family_length(keys, at_end=True)
        given, middle, family = tokens[0], tokens[1:-k], tokens[-k:]
    return NameParts(" ".join(family), " ".join(middle) or None, given)


def join_name(family: str | None, middle: str | None, given: str | None) -> str | None:
    """Family, middle and given name in Vietnamese order, single-spaced; None when all are
    empty. The inverse of `split_name` for display and for exact-match keys."""
    parts = [" ".join(p.split()) for p in (family, middle, given) if p]
    return " ".join(p for p in parts if p) or None
