"""Issue 22 item 6 (OWASP API4): a small XLSX whose shared strings unpack to a huge table.

openpyxl reads xl/sharedStrings.xml whole into a list before the first row, even in
read-only mode. The archive-wide ratio check is diluted by a stored (uncompressed) padding
part, so each part's declared size and ratio is checked, and the shared strings are capped.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from importers.limits import Limits
from importers.readers import open_table
from importers.rejections import FileRejected

_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
    'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName='
    '"/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.sharedStrings+xml"/></Types>'
)
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
    f'{_R}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
    f'org/spreadsheetml/2006/main" xmlns:r="{_R}"><sheets><sheet name="DS" sheetId="1" '
    'r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
    f'{_R}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="'
    f'{_R}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
_SHEET = (
    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.'
    'org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c>'
    '<c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" '
    't="s"><v>3</v></c></row></sheetData></worksheet>'
)


def padded_bomb(path: Path, *, strings: int, padding: int) -> Path:
    """A valid workbook (two rows) whose shared strings add `strings` filler texts, deflated
    far over 200-fold, and a stored part of `padding` random bytes that keeps the archive's
    overall ratio low."""
    texts = ["so", "ho_ten", "001190012345", "Nguyễn Thị Hòa"]
    shared = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main" count="{len(texts) + strings}" '
        f'uniqueCount="{len(texts) + strings}">'
        + "".join(f"<si><t>{t}</t></si>" for t in texts)
        + "<si><t>x</t></si>" * strings
        + "</sst>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("[Content_Types].xml", _TYPES)
        out.writestr("_rels/.rels", _RELS)
        out.writestr("xl/workbook.xml", _WORKBOOK)
        out.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        out.writestr("xl/worksheets/sheet1.xml", _SHEET)
        out.writestr("xl/sharedStrings.xml", shared.encode("utf-8"))
        out.writestr(zipfile.ZipInfo("xl/media/padding.bin"), os.urandom(padding))
    return path


def test_stored_padding_no_longer_hides_a_shared_strings_bomb(tmp_path: Path) -> None:
    # 250,000 texts: 4.3 MB of XML deflated to ~10 KB; 60 KB of padding brings the whole
    # archive to ~60-fold, under the 200-fold limit that alone let it through.
    path = padded_bomb(tmp_path / "bomb.xlsx", strings=250_000, padding=60_000)
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    whole = sum(i.file_size for i in infos) / sum(i.compress_size for i in infos)
    assert whole < Limits().max_xlsx_compression_ratio  # the old check passes it
    with pytest.raises(FileRejected) as caught:
        open_table(path)
    assert caught.value.code == "xlsx_bomb"
    assert "sharedStrings.xml" in caught.value.message


def test_shared_strings_over_their_own_cap_are_rejected(tmp_path: Path) -> None:
    path = padded_bomb(tmp_path / "big.xlsx", strings=30_000, padding=0)  # ~520 KB of XML
    with pytest.raises(FileRejected) as caught:
        open_table(path, limits=Limits(max_xlsx_shared_strings_bytes=100_000))
    assert caught.value.code == "xlsx_bomb"
    assert "shared texts" in caught.value.message


def test_an_ordinary_workbook_still_opens(tmp_path: Path) -> None:
    path = padded_bomb(tmp_path / "fine.xlsx", strings=10, padding=1_000)
    with open_table(path) as table:
        rows = [row for _, row in table.rows]
    assert rows[0]["ho_ten"] == "Nguyễn Thị Hòa"
