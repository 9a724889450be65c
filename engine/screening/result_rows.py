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


# --------------------------------------------------------------------------- the labelled CSV

#: The words of the labelled CSV's columns, by language (the status words are the results
#: workbook's: :data:`engine.rendering.results_sheet.WORDS`).
LABELLED_WORDS = {
    "zh": {"row": "行号", "id": "编号", "name": "企业名称", "result": "结果", "message": "问题", "as_of": "评估日期",
           "conclusions": "成立的结论", "superseded": "由其他政策支持的事项", "status": "{benefit}：结论",
           "min": "{benefit}：最低金额（元）", "max": "{benefit}：最高金额（元）", "join": "；"},
    "en": {"row": "Row", "id": "ID", "name": "Enterprise", "result": "Result", "message": "Problems", "as_of": "As of",
           "conclusions": "Conclusions that hold", "superseded": "Superseded by another policy",
           "status": "{benefit}: status", "min": "{benefit}: min (CNY)", "max": "{benefit}: max (CNY)", "join": "; "},
}
#: The columns the labelled CSV has before its benefits (its second header row names them so).
LABELLED_LEAD = ("row", "id", "name", "result", "message", "as_of", "conclusions", "superseded")


def labelled_header(kb: KnowledgeBase, lang: str) -> tuple[list[str], list[str]]:
    """The labelled CSV's two header rows: each column's label in ``lang``, then its id (the
    machine CSV's column, ``name`` added), for a script to find the columns by."""
    words = LABELLED_WORDS[lang]
    labels, ids = [words[c] for c in LABELLED_LEAD], list(LABELLED_LEAD)
    for benefit in kb.benefits:
        name = kb.conclusions[benefit].label(lang)
        labels += [words["status"].format(benefit=name), words["min"].format(benefit=name),
                   words["max"].format(benefit=name)]
        ids += [benefit, f"{benefit}_min", f"{benefit}_max"]
    return labels, ids


def labelled_row(kb: KnowledgeBase, machine: dict, ident: str | None, name: str | None, message: str | None,
                 lang: str) -> list:
    """One row of the labelled CSV from a row of the machine CSV (``machine``: its cells by
    column, as read back): the input's id and the enterprise's name beside the row number,
    words for the result and every status, labels for the conclusions, ``message`` (the row's
    problems in ``lang``) for an error row. Amounts stay whole yuan."""
    from engine.rendering.results_sheet import WORDS
    words, sheet = LABELLED_WORDS[lang], WORDS[lang]
    join = words["join"]

    def labels(cell: str) -> str:
        return join.join(kb.conclusions[c].label(lang) if c in kb.conclusions else c for c in cell.split(";") if c)

    result = machine.get("result", "")
    values = [machine.get("row", ""), ident or "", name or "", sheet.get(result, result),
              message if message is not None else machine.get("message", ""), machine.get("as_of", ""),
              labels(machine.get("conclusions", "")), labels(machine.get("superseded", ""))]
    for benefit in kb.benefits:
        status = machine.get(benefit, "")
        values += [sheet["status"].get(status, status), machine.get(f"{benefit}_min", ""),
                   machine.get(f"{benefit}_max", "")]
    return values
