"""Speed changes to the match keys keep the keys: the token-wise fold of a name key is the
fold of the whole key (dedup.features.name_fold)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.features import name_fold, name_key
from popdb.core.text import fold

_LETTERS = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯ"
    "àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵøłñ"
)
_ODD = " \u00a0\u200b-'’.,\u0301\u0323\u0309ŉ1"

TRICKY = [
    "Nguyễn Văn Hoà",
    "NGUYỄN  THỊ   THỦY",
    "Hoà-Bình",
    "O'Neil Mc.Kay",
    "ŉ Ø Łukasz",
    "Lê\u00a0Thị\u200bThu",
    "khuỷu ngoẹo",
    "Thủy ́",
    "Trần ‐ Văn",
    "a\u0301\u0323",
    "123 abc",
]


@given(st.text(alphabet=_LETTERS + _ODD, max_size=30))
@settings(max_examples=400, deadline=None)
def test_token_wise_fold_is_whole_fold(text: str) -> None:
    key = name_key(text)
    assert name_fold(key) == (fold(key) if key else None)


def test_token_wise_fold_on_tricky_names() -> None:
    for text in TRICKY:
        key = name_key(text)
        assert name_fold(key) == (fold(key) if key else None), text
