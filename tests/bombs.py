"""Hostile ``.xlsx`` workbooks, built in a second or less, for the tests and for a benchmark.

Each builder returns the bytes of a file that openpyxl would try to read as a workbook (its
parts are those openpyxl needs) and that is small on disk but huge once read:

- :func:`wide_row_bomb` — one row of ten million ``<c/>`` cells and no ``<dimension>``: openpyxl
  builds every cell of a row before it hands the row on (gigabytes);
- :func:`many_rows_bomb` — more rows than Excel allows;
- :func:`far_cell_bomb` — a cell at A and one at XFD on every row: openpyxl's read-only mode
  fills each row to column XFD, 16,384 cells;
- :func:`dimension_bomb` — one cell, and a ``<dimension>`` stating A1:XFD1048576: openpyxl gives
  every stated row, each as wide as stated;
- :func:`zip_bomb` — a part of repeated bytes that unpacks to ``unpacked_bytes``;
- :func:`lying_zip` — a part whose stated size is small but whose stream inflates far more;
- :func:`not_a_zip`, :func:`old_xls`, :func:`zip_without_workbook` — files that are no
  ``.xlsx`` at all.

The XML of repeated cells or bytes is deflated once per mebibyte block and the block repeated
(each block ends with a full flush, so the compressed block is the same every time): a
600 MiB part is built in well under a second.
"""

from __future__ import annotations

import struct
import zlib

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '{shared}</Types>')
_SHARED_TYPE = ('<Override PartName="/xl/sharedStrings.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
_RELS = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_PACKAGE}">'
         f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
             '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_PACKAGE}">'
                  f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
                  '{shared}</Relationships>')
_SHARED_REL = f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
_SHEET_HEAD = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_MAIN}">'
_BLOCK = 1 << 20


class _Part:
    """One deflated part: its compressed bytes, CRC-32 and unpacked size."""

    def __init__(self, pieces: list[tuple[bytes, int]]):
        """``pieces``: (bytes, how many times) in order; a piece repeated is deflated once."""
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        out, crc, size = [], 0, 0
        for piece, times in pieces:
            if times <= 0 or not piece:
                continue
            if times == 1 or len(piece) * times < 2 * _BLOCK:
                data = piece * times
                out.append(deflate.compress(data) + deflate.flush(zlib.Z_FULL_FLUSH))
                crc, size = zlib.crc32(data, crc), size + len(data)
                continue
            per = max(1, _BLOCK // len(piece))        # pieces per block
            block = piece * per
            whole, rest = divmod(times, per)
            packed = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
            out.append(packed * whole)
            for _ in range(whole):
                crc = zlib.crc32(block, crc)
            size += len(block) * whole
            if rest:
                data = piece * rest
                out.append(deflate.compress(data) + deflate.flush(zlib.Z_FULL_FLUSH))
                crc, size = zlib.crc32(data, crc), size + len(data)
        out.append(deflate.flush(zlib.Z_FINISH))
        self.data, self.crc, self.size = b"".join(out), crc, size


def _zip(members: list[tuple[str, _Part]], stated: dict[str, int] | None = None) -> bytes:
    """A zip archive of deflated parts; ``stated`` gives a part a false unpacked size."""
    stated = stated or {}
    body, directory = [], []
    offset = 0
    for name, part in members:
        raw = name.encode()
        size = stated.get(name, part.size)
        fields = (20, 0, 8, 0, 0x21, part.crc, len(part.data), size, len(raw))
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + raw
        directory.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, 0, offset) + raw)
        body += [local, part.data]
        offset += len(local) + len(part.data)
    central = b"".join(directory)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), offset, 0)
    return b"".join(body) + central + end


def workbook(sheet: list[tuple[bytes, int]], shared: list[tuple[bytes, int]] | None = None,
             stated: dict[str, int] | None = None, name: str = "Sheet1") -> bytes:
    """An ``.xlsx`` of one sheet whose XML is ``sheet`` (pieces and how often each repeats,
    wrapped in ``<worksheet>``), optionally with a shared-strings part, as openpyxl reads one."""
    has_shared = shared is not None
    members = [
        ("[Content_Types].xml", _Part([(_CONTENT_TYPES.format(shared=_SHARED_TYPE if has_shared else "").encode(), 1)])),
        ("_rels/.rels", _Part([(_RELS.encode(), 1)])),
        ("xl/workbook.xml", _Part([(_WORKBOOK.format(name=name).encode(), 1)])),
        ("xl/_rels/workbook.xml.rels",
         _Part([(_WORKBOOK_RELS.format(shared=_SHARED_REL if has_shared else "").encode(), 1)])),
        ("xl/worksheets/sheet1.xml", _Part([(_SHEET_HEAD.encode(), 1)] + sheet + [(b"</worksheet>", 1)])),
    ]
    if has_shared:
        members.append(("xl/sharedStrings.xml", _Part(shared)))
    return _zip(members, stated)


def wide_row_bomb(cells: int = 10_000_000, cell: bytes = b"<c/>") -> bytes:
    """One row of ``cells`` cells (``<c/>``, no ``r=``) and no ``<dimension>`` (about 40 KB)."""
    return workbook([(b"<sheetData><row>", 1), (cell, cells), (b"</row></sheetData>", 1)])


def many_rows_bomb(rows: int = 1_100_000) -> bytes:
    """``rows`` rows of one number each, without ``r=`` (more than Excel's 1,048,576 by default)."""
    return workbook([(b"<sheetData>", 1), (b'<row><c t="n"><v>1</v></c></row>', rows), (b"</sheetData>", 1)])


def far_cell_bomb(rows: int = 5_000, far: str = "XFD") -> bytes:
    """``rows`` rows each with a cell in column A and one in column ``far`` (XFD, the last)."""
    body = "".join(f'<row r="{n}"><c r="A{n}" t="n"><v>1</v></c><c r="{far}{n}" t="n"><v>1</v></c></row>'
                   for n in range(1, rows + 1))
    return workbook([(b"<sheetData>", 1), (body.encode(), 1), (b"</sheetData>", 1)])


def dimension_bomb(ref: str = "A1:XFD1048576") -> bytes:
    """One cell, and a ``<dimension>`` stating the sheet spans ``ref``."""
    return workbook([(f'<dimension ref="{ref}"/><sheetData><row r="1"><c r="A1" t="n"><v>1</v></c></row>'
                      '</sheetData>'.encode(), 1)])


def zip_bomb(unpacked_bytes: int = 600 << 20, part: str = "sharedStrings") -> bytes:
    """A part of repeated bytes unpacking to about ``unpacked_bytes``: the shared strings (one
    huge text), or with ``part="sheet"`` the sheet (a huge run of blanks inside a cell)."""
    filler = unpacked_bytes // _BLOCK
    if part == "sheet":
        return workbook([(b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>', 1), (b"a" * _BLOCK, filler),
                         (b"</t></is></c></row></sheetData>", 1)])
    return workbook([(b'<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData>', 1)],
                    shared=[(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}" count="1" uniqueCount="1">'
                             '<si><t>'.encode(), 1), (b"a" * _BLOCK, filler), (b"</t></si></sst>", 1)])


def many_texts_bomb(texts: int = 25_000_000) -> bytes:
    """Shared strings of ``texts`` short texts (more than a batch workbook's cells)."""
    return workbook([(b'<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData>', 1)],
                    shared=[(f'<sst xmlns="{_MAIN}">'.encode(), 1), (b"<si><t>a</t></si>", texts), (b"</sst>", 1)])


def lying_zip(unpacked_bytes: int = 100 << 20, stated: int = 1024) -> bytes:
    """A sheet whose archive states it unpacks to ``stated`` bytes while its stream inflates
    to ``unpacked_bytes``."""
    filler = unpacked_bytes // _BLOCK
    return workbook([(b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>', 1), (b"a" * _BLOCK, filler),
                     (b"</t></is></c></row></sheetData>", 1)], stated={"xl/worksheets/sheet1.xml": stated})


def not_a_zip() -> bytes:
    """A CSV file named .xlsx."""
    return "id,name\n1,某某科技有限公司\n".encode()


def old_xls() -> bytes:
    """The start of an Excel 97–2003 file (an OLE compound document), as a .xls renamed .xlsx is."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504


def zip_without_workbook() -> bytes:
    """A zip archive of one text file."""
    return _zip([("readme.txt", _Part([(b"not a workbook", 1)]))])


#: Every bomb, by name, built with its defaults.
BOMBS = {"wide_row": wide_row_bomb, "many_rows": many_rows_bomb, "far_cell": far_cell_bomb,
         "dimension": dimension_bomb, "zip": zip_bomb, "zip_sheet": lambda: zip_bomb(part="sheet"),
         "many_texts": many_texts_bomb, "lying_zip": lying_zip}
