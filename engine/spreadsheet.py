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
