"""The machine columns of a batch result row (CSV and JSON Lines), and a row as a line of CSV."""

from __future__ import annotations

import csv
import io

from engine.model import KnowledgeBase
from engine.rendering.spreadsheet import csv_cell


#: The columns of a result row that hold text (:func:`columns`); the others, one status and two
#: amounts per benefit, hold only status words and whole numbers.
TEXT_COLUMNS = 7


def columns(kb: KnowledgeBase) -> list[str]:
    cols = ["row", "id", "result", "message", "as_of", "conclusions", "superseded"]
    for benefit in kb.benefits:
        cols += [benefit, f"{benefit}_min", f"{benefit}_max"]
    return cols


def flat(kb: KnowledgeBase, item: dict, result: dict | None) -> list:
    """One output row: the columns of :func:`columns`."""
    if result is None:
        return [item["row"], item["id"], item["result"], item["message"]] + [None] * (3 + 3 * len(kb.benefits))
    amounts = {b["id"]: b["amount"] for b in result["benefits"]}
    superseded = [s["id"] for s in result["superseded"]]
    values = [item["row"], item["id"], "ok", None, result["as_of"], ";".join(result["conclusions"]), ";".join(superseded)]
    for benefit in kb.benefits:
        amount = amounts.get(benefit)
        status = "superseded" if benefit in superseded else result["status"][benefit]
        values += [status, amount["min"] if amount else None, amount["max"] if amount else None]
    return values




class CsvText:
    """One output row as a line of CSV text, written where the row is evaluated."""

    def __init__(self):
        self.buffer = io.StringIO()
        # The csv module quotes a field holding a character of the line terminator; with "\n"
        # alone a bare "\r" would go out unquoted and end the row early in a reader, so rows
        # are written with "\r\n" and end in "\n" like the header.
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")

    def line(self, values: list) -> str:
        """``values`` as in :func:`flat`: its text columns neutralised as formulas; the columns
        after them hold only status words and whole numbers."""
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow([csv_cell(v) for v in values[:TEXT_COLUMNS]])
        # Words and whole numbers need no quoting: joined as the csv module would write them.
        rest = ",".join("" if v is None else str(v) for v in values[TEXT_COLUMNS:])
        return self.buffer.getvalue()[:-2] + ("," + rest if len(values) > TEXT_COLUMNS else "") + "\n"
