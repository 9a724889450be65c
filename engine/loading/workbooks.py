"""Refusing an Excel workbook too big to read, before it is read.

An ``.xlsx`` file is a zip archive of XML parts. A few hundred kilobytes can unpack to gigabytes
(a *zip bomb*), and a sheet can be small on disk yet huge once read: a row of ten million
``<c/>`` cells, or a cell at ``XFD1`` on every row (openpyxl's read-only mode fills every row up
to the widest column, so each row becomes 16,384 cells). :func:`check_workbook` looks at the
archive with the standard library only — it unpacks each part in 64 KiB steps and counts what
comes out, never trusting the sizes the archive states, and streams each worksheet's XML
counting its rows and cells — and refuses the file with a :class:`~engine.errors.ProfileError`
(in English and Chinese) at the first limit passed, so that a bomb is refused in well under a
second and in a few megabytes of memory. Only then is the workbook handed to openpyxl.

What is counted, per :class:`WorkbookLimits`:

- ``unpacked`` — the bytes of all the parts unpacked (as stated, and as actually unpacked);
- ``rows`` — the rows of one sheet, and the highest row number it reaches (or its stated
  ``<dimension>``);
- ``columns`` — the widest row of one sheet: the furthest column a cell reaches (``r="XFD12"``),
  or its count of cells;
- ``cells`` — the cells of all the sheets, the shared texts, and what one sheet becomes once
  read: its highest row × its widest column;
- ``parts`` — the parts of the archive, as its end record states them (before it is opened).

The two presets:

=================  ==========  =========  ===========  ========  ======
preset             unpacked    rows       cells        columns   parts
=================  ==========  =========  ===========  ========  ======
``PROFILE_LIMITS`` 16 MiB      2,000      100,000      1,000     10,000
``BATCH_LIMITS``   512 MiB     1,048,576  20,000,000   16,384    10,000
=================  ==========  =========  ===========  ========  ======

``PROFILE_LIMITS`` is for one enterprise's profile sheet uploaded on the Evaluate page (the
template with one enterprise unpacks to about 300 KB and spans 61 columns). ``BATCH_LIMITS``
is for a batch workbook (``policykb batch``, the Batch page): Excel's own maximum of rows
(1,048,576) and columns (16,384, column XFD); the template filled with 20,000 enterprises
unpacks to about 41 MB and spans 20,003 rows × 61 columns = 1.2 million cells.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from html import unescape
from itertools import repeat
from pathlib import Path

from engine.errors import ProfileError


@dataclass(frozen=True)
class WorkbookLimits:
    """How big a workbook may be (see the module docstring for what each figure counts)."""

    unpacked: int        # bytes of all the parts, unpacked
    rows: int            # rows of one sheet (and the highest row number)
    cells: int           # cells of all the sheets; one sheet's rows × widest column
    columns: int         # the widest row of one sheet
    parts: int = 10_000  # parts of the archive
    what: str = "workbook"                  # how a refusal names such a workbook, in English
    what_zh: str = "工作簿"                  # … and in Chinese
    advice: str = "split it into several files"
    advice_zh: str = "请拆分为几个文件"


#: A one-enterprise profile sheet uploaded on the Evaluate page.
PROFILE_LIMITS = WorkbookLimits(
    unpacked=16 << 20, rows=2_000, cells=100_000, columns=1_000,
    what="profile workbook", what_zh="企业信息工作簿",
    advice="a profile workbook holds one enterprise; screen many on the Batch page",
    advice_zh="企业信息工作簿只填一家企业；多家企业请用批量筛查")
#: A batch workbook: ``policykb batch`` and the Batch page.
BATCH_LIMITS = WorkbookLimits(
    unpacked=512 << 20, rows=1_048_576, cells=20_000_000, columns=16_384,
    what="batch workbook", what_zh="批量筛查的工作簿")

#: Bytes unpacked at a time.
CHUNK = 1 << 16
#: A tag longer than this (no ``<`` for 64 KiB) is read by its first 64 KiB only.
_LONGEST_TAG = 1 << 16
#: The small parts read whole to find the sheets and their names, at most this much each.
_SMALL_PART = 4 << 20

# A row, a cell, the stated dimension, or a shared text: the tag's name and its attributes
# (up to the next "<"), with or without a namespace prefix (<x:row ...>).
_PREFIX = rb"<(?:[A-Za-z_][\w.\-]*:)?"
_ROW = re.compile(_PREFIX + rb"row(?=[\s/>])([^<]*)")
_CELL = re.compile(_PREFIX + rb"c(?=[\s/>])(?:[^<>]*?\sr\s*=\s*[\"']\s*\$?([A-Za-z]*))?")
_DIMENSION = re.compile(_PREFIX + rb"dimension(?=[\s/>])([^<]*)")
_ANY_R = re.compile(rb"r[=\s]")   # what may start an r= attribute
_AFTER_NAME = (b" ", b">", b"/", b"\t", b"\n", b"\r")
_R = re.compile(rb"(?:^|\s)r\s*=\s*[\"']\s*\$?([A-Za-z]*)\$?(\d*)")
_REF = re.compile(rb"(?:^|\s)ref\s*=\s*[\"']([^\"']*)")
_ATTR = re.compile(rb"([\w:.\-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(Relationship|sheet)(?=[\s/>])([^>]*)")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"    # an old .xls, or an .xlsx with a password
_COLUMNS: dict[bytes, int] = {}


def check_workbook(source: bytes | Path, limits: WorkbookLimits, name: str | None = None) -> None:
    """Refuse the ``.xlsx`` workbook ``source`` (its bytes, or a path) if it is not a zip archive
    holding a workbook, is damaged, or passes one of ``limits``; return None when it may be read.

    ``name`` is the file as the refusal names it (by default the path).

    Raises
    ------
    ProfileError
        Saying (in English, and in Chinese as ``zh``) which limit was passed, the figure found
        and what would be valid; or why the file is no workbook.
    """
    if name is None and isinstance(source, (str, Path)):
        name = str(source)
    try:
        handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else open(source, "rb")
    except OSError as exc:
        raise ProfileError(f"cannot read the file: {exc.strerror}", zh=f"无法读取文件：{exc.strerror}",
                           file=name) from None
    with handle:
        _Check(handle, limits, name).run()


# --------------------------------------------------------------------------- refusals

def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            value = n / (1 << shift)
            return f"{value:.0f} {unit}" if value == int(value) or value >= 100 else f"{value:.1f} {unit}"
    return f"{n} bytes"


def column_letter(n: int) -> str:
    """The letters of column ``n`` (1 is A, 16,384 is XFD)."""
    letters = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters or "A"


def _column(letters: bytes) -> int:
    """The number of a column's letters; more than three letters is past any Excel column."""
    number = _COLUMNS.get(letters)
    if number is None:
        if len(letters) > 3:
            return 26 ** 3 + 26 ** 2 + 26 + 1   # past XXX, so past XFD
        number = 0
        for byte in letters.upper():
            number = number * 26 + byte - 64
        _COLUMNS[letters] = number
    return number


def _not_xlsx(name, en: str, zh: str) -> ProfileError:
    return ProfileError(f"not an .xlsx workbook: {en}", zh=f"不是 .xlsx 工作簿：{zh}", file=name)


def _damaged(name) -> ProfileError:
    return ProfileError("the workbook is damaged: a part of it does not unpack; save it again from Excel as .xlsx",
                        zh="工作簿已损坏：其中有部分无法解压；请在 Excel 中重新另存为 .xlsx", file=name)


class _Check:
    """One workbook being checked: the archive, the limits and what is counted so far."""

    def __init__(self, handle, limits: WorkbookLimits, name: str | None):
        self.handle, self.limits, self.name = handle, limits, name
        self.unpacked = 0
        self.cells = 0      # cells of every sheet
        self.texts = 0      # shared texts

    def refuse(self, en: str, zh: str, most: str, most_zh: str) -> ProfileError:
        lim = self.limits
        return ProfileError(f"{en}; a {lim.what} may {most} — {lim.advice}",
                            zh=f"{zh}；{lim.what_zh}{most_zh}——{lim.advice_zh}", file=self.name)

    def too_big(self, found: str, found_zh: str) -> ProfileError:
        most = _size(self.limits.unpacked)
        return self.refuse(f"the workbook unpacks to {found}", f"工作簿解压后{found_zh}",
                           f"unpack to at most {most}", f"解压后最多 {most}")

    # ----------------------------------------------------------------------- the archive

    def run(self) -> None:
        head = self.handle.read(8)
        self.handle.seek(0)
        if head.startswith(_OLE):
            raise _not_xlsx(self.name, "it is an old Excel 97–2003 (.xls) workbook or a password-protected one; "
                                       "save it from Excel as .xlsx (Excel Workbook) without a password",
                            "这是旧版 Excel 97–2003（.xls）工作簿或设有密码的工作簿；请在 Excel 中另存为 .xlsx（Excel 工作簿），不设密码")
        self.stated_parts()
        try:
            archive = zipfile.ZipFile(self.handle)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, struct.error):
            raise _not_xlsx(self.name, "the file is not a zip archive, which every .xlsx file is; "
                                       "save it from Excel as .xlsx (Excel Workbook)",
                            "文件不是 zip 压缩包（.xlsx 文件都是）；请在 Excel 中另存为 .xlsx（Excel 工作簿）") from None
        with archive:
            members = archive.infolist()
            if len(members) > self.limits.parts:
                self.parts(len(members))
            stated = sum(info.file_size for info in members)
            if stated > self.limits.unpacked:
                raise self.too_big(_size(stated), f"为 {_size(stated)}")
            sheets = self.sheets(archive, {info.filename for info in members})
            for info in members:
                self.unpack(archive, info, sheets.get(info.filename))

    def stated_parts(self) -> None:
        """Refuse an archive whose end record states more parts than allowed, before the
        archive's directory is read into memory."""
        handle = self.handle
        end = handle.seek(0, 2)
        start = max(0, end - (1 << 16) - 22)
        handle.seek(start)
        tail = handle.read()
        handle.seek(0)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) < at + 22:
            return   # not a zip: zipfile says so
        entries, directory = struct.unpack("<HI", tail[at + 10: at + 16])
        if (entries == 0xFFFF or directory == 0xFFFFFFFF) and at >= 20 and tail[at - 20: at - 16] == b"PK\x06\x07":
            offset, = struct.unpack("<Q", tail[at - 12: at - 4])
            handle.seek(offset)
            record = handle.read(56)
            handle.seek(0)
            if record[:4] == b"PK\x06\x06" and len(record) == 56:
                entries, directory = struct.unpack("<QQ", record[32:48])
        if entries > self.limits.parts or directory > self.limits.parts * 1024:
            self.parts(entries)

    def parts(self, count: int) -> None:
        most = f"{self.limits.parts:,}"
        raise self.refuse(f"the workbook's archive holds {count:,} parts", f"工作簿的压缩包含 {count:,} 个部件",
                          f"hold at most {most} parts", f"最多含 {most} 个部件")

    def small(self, archive, name: str) -> bytes:
        """A small part read whole (at most 4 MiB of it), or empty when it is missing or damaged."""
        try:
            with archive.open(name) as part:
                return part.read(_SMALL_PART)
        except (KeyError, zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError,
                ValueError):
            return b""

    def sheets(self, archive, names: set[str]) -> dict[str, str]:
        """The worksheet parts openpyxl would read, each with its sheet's name (for the
        refusal) and False, and the shared texts' part with True: found from the package's and the workbook's
        relationships, and any part under ``worksheets/`` besides."""
        if "[Content_Types].xml" not in names:
            raise _not_xlsx(self.name, "the archive holds no workbook; save it from Excel as .xlsx (Excel Workbook)",
                            "压缩包里没有工作簿；请在 Excel 中另存为 .xlsx（Excel 工作簿）")
        book = "xl/workbook.xml"
        for _, attrs in _elements(self.small(archive, "_rels/.rels")):
            if attrs.get("Type", "").endswith("/officeDocument") and attrs.get("Target"):
                book = _resolve("", attrs["Target"])
        if book not in names:
            raise _not_xlsx(self.name, "the archive holds no workbook; save it from Excel as .xlsx (Excel Workbook)",
                            "压缩包里没有工作簿；请在 Excel 中另存为 .xlsx（Excel 工作簿）")
        folder, leaf = posixpath.split(book)
        targets, found, texts = {}, {}, set()
        for _, attrs in _elements(self.small(archive, posixpath.join(folder, "_rels", leaf + ".rels"))):
            kind, target = attrs.get("Type", ""), attrs.get("Target")
            if target and kind.endswith("/worksheet"):
                targets[attrs.get("Id")] = _resolve(folder, target)
            elif target and kind.endswith("/sharedStrings"):
                texts.add(_resolve(folder, target))
        for tag, attrs in _elements(self.small(archive, book)):
            if tag == "sheet":
                ident = next((v for k, v in attrs.items() if k == "id" or k.endswith(":id")), None)
                if ident in targets:
                    found[targets.pop(ident)] = attrs.get("name") or ""
        for target in targets.values():
            found.setdefault(target, "")
        for part in names:
            if re.search(r"(^|/)worksheets/[^/]+\.xml$", part, re.I):
                found.setdefault(part, "")
            elif re.search(r"(^|/)sharedStrings\.xml$", part, re.I):
                texts.add(part)
        return {part: (label or part, part in texts) for part, label in found.items()} | {
            part: (part, True) for part in texts if part not in found}

    def unpack(self, archive, info: zipfile.ZipInfo, sheet: tuple | None) -> None:
        """Unpack one part 64 KiB at a time, counting the bytes (and scanning a worksheet or
        the shared texts: ``sheet`` is its name and whether it is the shared texts)."""
        scan = _Sheet(self, *sheet) if sheet is not None else None
        try:
            with archive.open(info) as part:
                while True:
                    chunk = part.read(CHUNK)
                    if not chunk:
                        break
                    self.unpacked += len(chunk)
                    if self.unpacked > self.limits.unpacked:
                        raise self.too_big(f"more than {_size(self.limits.unpacked)}",
                                           f"超过 {_size(self.limits.unpacked)}")
                    if scan is not None:
                        scan.feed(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error):
            raise _damaged(self.name) from None
        except (NotImplementedError, RuntimeError):   # a compression zipfile lacks; an encrypted part
            raise _not_xlsx(self.name, "a part of it is packed in a way Excel does not write (or has a password); "
                                       "save it from Excel as .xlsx (Excel Workbook)",
                            "其中有部分的压缩方式不是 Excel 所写（或设有密码）；请在 Excel 中另存为 .xlsx（Excel 工作簿）") from None
        if scan is not None:
            scan.close()


def _resolve(folder: str, target: str) -> str:
    path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
    return posixpath.normpath(path).lstrip("/")


def _elements(xml: bytes):
    """The ``Relationship`` and ``sheet`` elements of a small part: (name, attributes)."""
    for match in _ELEMENT.finditer(xml):
        attrs = {}
        for key, double, single in _ATTR.findall(match.group(2)):
            value = double if double or not single else single
            attrs[key.decode("utf-8", "replace")] = unescape(value.decode("utf-8", "replace"))
        yield match.group(1).decode(), attrs


class _Sheet:
    """The streamed count of one worksheet part (or of the shared texts).

    The usual sheet (``<row …>`` and ``<c r="…">`` tags without a namespace prefix) is counted
    with ``bytes.find`` and ``bytes.count`` from row to row, so that the Python work is per row,
    not per cell; any other piece (a prefix, ``<c/>``, a cell without ``r=``) is counted with
    regular expressions, the same figures more slowly."""

    def __init__(self, check: _Check, label: str, texts: bool = False):
        self.check, self.limits, self.label, self.texts = check, check.limits, label, texts
        self.tail = b""          # an unfinished tag from the last chunk
        self.skip = False        # inside an overlong tag: drop bytes up to the next "<"
        self.rows = 0            # rows counted
        self.row = 0             # the current row's number
        self.highest = 0         # the highest row number
        self.cells_in_row = 0
        self.column = 0          # the column of the current row's last cell (as openpyxl counts)
        self.widest = 0          # the furthest column, or the most cells, of a row
        self.stated = (0, 0)     # the <dimension>: highest row, widest column
        self.dimension_seen = False

    def feed(self, chunk: bytes) -> None:
        if self.skip:
            at = chunk.find(b"<")
            if at < 0:
                return
            chunk, self.skip = chunk[at:], False
        data = self.tail + chunk if self.tail else chunk
        cut = data.rfind(b"<")
        if cut < 0:
            self.tail, self.skip = b"", True   # text only: nothing to count until the next tag
            return
        self.scan(data, cut)
        self.tail = data[cut:]
        if len(self.tail) > _LONGEST_TAG:
            self.scan(self.tail, len(self.tail))
            self.tail, self.skip = b"", True

    def close(self) -> None:
        if self.tail:
            self.scan(self.tail, len(self.tail))
            self.tail = b""
        self.area()

    def scan(self, data: bytes, end: int) -> None:
        """Count the complete tags of ``data[:end]`` (``end`` is at a ``<`` or the end)."""
        if self.texts:
            self.shared_texts(data, end)
            return
        if not self.dimension_seen and not self.rows:
            found = _DIMENSION.search(data, 0, end)
            if found:
                self.dimension_seen = True
                self.dimension(found.group(1))
        if data.find(b":row", 0, end) >= 0 or data.find(b":c", 0, end) >= 0:
            self.scan_prefixed(data, end)
            return
        if self.in_order(data, end):
            return
        at = 0
        find = data.find
        while True:
            tag = find(b"<row", at, end)
            self.cells(data, at, end if tag < 0 else tag)
            if tag < 0:
                return
            if data[tag + 4: tag + 5] in _AFTER_NAME:
                close = find(b">", tag, end)
                close = end if close < 0 else close
                self.new_row(data[tag + 4: close])
                at = close
            else:
                at = tag + 4   # <rowBreaks>, not a row

    def in_order(self, data: bytes, end: int) -> bool:
        """Count in bulk a piece with no ``r=`` at all, whose rows and cells are numbered by
        their order (as a bomb of many rows or cells is written); False for any other."""
        if _ANY_R.search(data, 0, end):
            return False
        count = data.count
        pieces = data[:end].split(b"<row")
        per_row = list(map(bytes.count, pieces, repeat(b"<c")))
        rows, cells = len(pieces) - 1, sum(per_row)
        if (rows != sum(count(b"<row" + after, 0, end) for after in _AFTER_NAME[:3])
                or cells != sum(count(b"<c" + after, 0, end) for after in _AFTER_NAME[:3])):
            return False   # another tag (<rowBreaks>, <cols>) or a tag name and a line break: row by row
        if not rows:
            self.add(cells, self.column + cells)
            return True
        self.add(per_row[0], self.column + per_row[0])
        self.area()
        self.rows += rows
        self.row += rows
        self.highest = max(self.highest, self.row)
        if self.rows > self.limits.rows or self.highest > self.limits.rows:
            self.long()
        self.cells_in_row = self.column = 0
        most = max(per_row[1:])
        self.add(most, most)   # the fullest row first: the widest, and its refusal's figure
        self.check.cells += cells - per_row[0] - most
        self.cells_in_row = self.column = per_row[-1]
        if self.check.cells > self.limits.cells:
            self.many_cells()
        return True

    def scan_prefixed(self, data: bytes, end: int) -> None:
        at = 0
        for match in _ROW.finditer(data, 0, end):
            self.cells_slowly(data, at, match.start())
            self.new_row(match.group(1))
            at = match.end()
        self.cells_slowly(data, at, end)

    def new_row(self, attrs: bytes) -> None:
        self.area()
        self.rows += 1
        found = _R.search(attrs) if b"r" in attrs else None
        digits = found.group(2) if found and not found.group(1) else b""
        self.row = int(digits[:12]) if digits else self.row + 1
        self.highest = max(self.highest, self.row)
        self.cells_in_row = self.column = 0
        if self.rows > self.limits.rows or self.highest > self.limits.rows:
            self.long()

    def cells(self, data: bytes, start: int, end: int) -> None:
        """Count the cells of the current row in ``data[start:end]``: every one ``<c r=…``
        as Excel writes them, else :meth:`cells_slowly`."""
        if start >= end:
            return
        count = data.count(b"<c", start, end)
        if not count:
            return
        if data.count(b"<c ", start, end) != count:
            self.cells_slowly(data, start, end)
            return
        last = _CELL.match(data, data.rfind(b"<c ", start, end))
        if not last or not last.group(1):
            self.cells_slowly(data, start, end)
            return
        self.add(count, _column(last.group(1)))

    def cells_slowly(self, data: bytes, start: int, end: int) -> None:
        if start >= end:
            return
        found = _CELL.findall(data, start, end)
        if not found:
            return
        count = last = len(found)
        while last and not found[last - 1]:
            last -= 1
        # openpyxl's column: the last r= given, one more for each cell after it without one
        self.add(count, self.column + count if not last else _column(found[last - 1]) + count - last)

    def add(self, count: int, column: int) -> None:
        """``count`` more cells in the current row, the last of them in ``column``."""
        self.cells_in_row += count
        self.check.cells += count
        self.column = column
        widest = max(column, self.cells_in_row)
        if widest > self.widest:
            self.widest = widest
            self.wide()
        if self.check.cells > self.limits.cells:
            self.many_cells()

    def shared_texts(self, data: bytes, end: int) -> None:
        # every "<si" and ":si" is a shared text (text holds no "<"): never fewer than there are
        self.check.texts += data.count(b"<si", 0, end) + data.count(b":si", 0, end)
        if self.check.texts > self.limits.cells:
            most = f"{self.limits.cells:,}"
            raise self.check.refuse(f"the workbook holds more than {most} shared texts",
                                    f"工作簿的共享文本超过 {most} 条",
                                    f"hold at most {most} cells", f"最多 {most} 个单元格")

    def dimension(self, attrs: bytes) -> None:
        """The sheet's stated size (``<dimension ref="A1:BI20003"/>``): openpyxl fills every row
        it reads to its last column and gives empty rows up to its last row."""
        found = _REF.search(attrs)
        if not found:
            return
        corner = re.match(rb"\s*\$?([A-Za-z]*)\$?(\d*)\s*$", found.group(1).split(b":")[-1])
        if not corner:
            return
        rows = int(corner.group(2)[:12]) if corner.group(2) else 0
        columns = _column(corner.group(1)) if corner.group(1) else 0
        self.stated = (rows, columns)
        if rows > self.limits.rows:
            self.long(stated=rows)
        if columns > self.limits.columns:
            self.wide(stated=columns)
        self.area()

    # ----------------------------------------------------------------------- refusals

    def sheet(self) -> tuple[str, str]:
        return f"sheet '{self.label}'", f"工作表“{self.label}”"

    def long(self, stated: int | None = None) -> None:
        en, zh = self.sheet()
        most = f"{self.limits.rows:,}"
        if stated is not None:
            found, found_zh = f"states it reaches row {stated:,}", f"声明用到第 {stated:,} 行"
        elif self.rows > self.limits.rows:
            found, found_zh = f"has more than {most} rows", f"超过 {most} 行"
        else:
            found, found_zh = f"reaches row {self.highest:,}", f"用到第 {self.highest:,} 行"
        raise self.check.refuse(f"{en} {found}", f"{zh}{found_zh}",
                                f"have at most {most} rows in a sheet", f"每个工作表最多 {most} 行")

    def wide(self, stated: int | None = None) -> None:
        if max(self.widest, stated or 0) <= self.limits.columns:
            return
        en, zh = self.sheet()
        most = f"{self.limits.columns:,} columns (up to column {column_letter(self.limits.columns)})"
        most_zh = f"{self.limits.columns:,} 列（到 {column_letter(self.limits.columns)} 列）"
        if stated is not None:
            found, found_zh = (f"states it reaches column {column_letter(stated)} ({stated:,} columns)",
                               f"声明用到 {column_letter(stated)} 列（{stated:,} 列）")
        elif self.cells_in_row > self.limits.columns:
            found, found_zh = (f"has a row of more than {self.limits.columns:,} cells",
                               f"有一行超过 {self.limits.columns:,} 个单元格")
        else:
            found, found_zh = (f"reaches column {column_letter(self.column)} ({self.column:,} columns)",
                               f"用到 {column_letter(self.column)} 列（{self.column:,} 列）")
        raise self.check.refuse(f"{en} {found}", f"{zh}{found_zh}", f"have at most {most}", f"最多 {most_zh}")

    def many_cells(self) -> None:
        most = f"{self.limits.cells:,}"
        raise self.check.refuse(f"the workbook has more than {most} cells", f"工作簿超过 {most} 个单元格",
                                f"have at most {most} cells", f"最多 {most} 个单元格")

    def area(self) -> None:
        """Refuse a sheet that becomes more cells once read than allowed: its highest row ×
        its widest column (a stray cell far right or far down fills the whole rectangle)."""
        rows = max(self.highest, self.stated[0])
        columns = max(self.widest, self.stated[1])
        if rows * columns <= self.limits.cells:
            return
        en, zh = self.sheet()
        most = f"{self.limits.cells:,}"
        raise self.check.refuse(
            f"{en} spans {rows:,} rows × {columns:,} columns (to column {column_letter(columns)}), "
            f"{rows * columns:,} cells once read (a cell far to the right or far down counts as filling "
            f"the whole rectangle: delete stray cells)",
            f"{zh}占 {rows:,} 行 × {columns:,} 列（到 {column_letter(columns)} 列），读取时为 {rows * columns:,} 个单元格"
            f"（远在右边或下方的单元格会使整个矩形都算在内：请删除多余的单元格）",
            f"span at most {most} cells in a sheet", f"每个工作表最多 {most} 个单元格")
