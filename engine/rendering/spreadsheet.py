"""Text that a spreadsheet must show as text: the defence against formula injection.

A cell written to CSV or Excel that begins with ``=``, ``+``, ``-`` or ``@`` is taken by Excel
and LibreOffice as a formula (``=HYPERLINK("http://evil","click")``), and one beginning with a
tab or a carriage return can hide such a start. Every writer of spreadsheets in policykb passes
its text cells through :func:`csv_cell` or :func:`xlsx_cell`, which keep the text as text:

- in CSV, such a cell gets a leading ``'``, which both programs read as "this is text" (the
  OWASP advice); the text after it is unchanged;
- in ``.xlsx``, such a cell is written as a string cell, so it is never evaluated and its text
  is exactly the input's.

Numbers, dates and empty cells are written as they are: only text can carry a formula.

:func:`save_workbook` saves every workbook policykb writes with fixed timestamps, so that the
same input gives the same bytes.
"""

from __future__ import annotations

#: The first characters that make a spreadsheet read a text cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def risky(value) -> bool:
    """Whether ``value`` is text that a spreadsheet would take as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value):
    """A cell for a CSV file: risky text prefixed with ``'``, anything else unchanged."""
    return "'" + value if risky(value) else value


def xlsx_cell(sheet, value):
    """A cell for an openpyxl worksheet (write-only or not): risky text as a string cell,
    anything else unchanged (openpyxl writes it by its type)."""
    if not risky(value):
        return value
    from openpyxl.cell import WriteOnlyCell
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"   # openpyxl makes any text starting with '=' a formula unless told
    return cell


def text_cell(cell, value):
    """Put ``value`` into a cell of an ordinary (not write-only) openpyxl worksheet, risky text
    as a string cell, and return the cell."""
    cell.value = value
    if risky(value):
        cell.data_type = "s"
    return cell


# --------------------------------------------------------------------------- the same bytes every time
#
# openpyxl stamps a workbook with the time it is saved twice over: docProps/core.xml holds
# created/modified, and every zip entry carries the time it was written. A workbook policykb
# writes gets a fixed time in both, so that the same input gives the same bytes.

#: The time written into every workbook policykb saves (the zip format cannot go before 1980).
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def save_workbook(book, path) -> None:
    """Save an openpyxl workbook (write-only or not) to ``path`` with fixed timestamps."""
    import datetime as _dt
    import os
    import re
    import zipfile
    from pathlib import Path
    stamp = _dt.datetime(*FIXED_TIME)
    book.properties.created = stamp
    book.properties.modified = stamp
    book.properties.creator = "policykb"
    book.properties.lastModifiedBy = None
    path = Path(path)
    raw = path.with_name(path.name + ".raw")
    try:
        book.save(raw)
        with zipfile.ZipFile(raw) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
            for entry in source.infolist():
                info = zipfile.ZipInfo(entry.filename, date_time=FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                if entry.filename == "docProps/core.xml":   # openpyxl sets "modified" as it saves
                    text = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                  rb"\g<1>" + stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>",
                                  source.read(entry))
                    target.writestr(info, text)
                    continue
                with source.open(entry) as data, target.open(info, "w") as out:
                    while block := data.read(1 << 20):
                        out.write(block)
    finally:
        if raw.exists():
            os.remove(raw)
