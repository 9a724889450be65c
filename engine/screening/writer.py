"""Writing a batch's results: ``OUTPUT.incomplete`` first, renamed to ``OUTPUT`` when every row
is written; CSV and JSON Lines lines as prepared where the rows were evaluated, or the analyst's
workbook (:mod:`engine.rendering.results_sheet`); each row's HTML report with ``--reports``."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from engine.errors import ProfileError
from engine.model import KnowledgeBase
from engine.rendering.spreadsheet import csv_cell
from engine.screening.result_rows import columns
from engine.screening.rows import format_of
from engine.screening.summary import Summary


class Writer:
    """Writes rows to ``OUTPUT.incomplete`` and renames it to ``OUTPUT`` when finished.

    CSV and JSON Lines get the machine columns (:func:`columns`) or records; ``.xlsx`` gets the
    analyst's workbook (:mod:`engine.rendering.results_sheet`), headed by ``inputs`` (the input's column
    ids) in ``lang``. With ``reports`` (a folder), each evaluated row's HTML report is written
    there and, in ``.xlsx``, linked from its row.
    """

    def __init__(self, path: Path, kb: KnowledgeBase, inputs: list[str] | None = None, lang: str = "zh",
                 reports: Path | None = None, title: str = "policykb batch"):
        self.path, self.kb, self.kind = path, kb, format_of(path)
        self.partial = path.with_name(path.name + ".incomplete")
        self.columns = columns(kb)
        self.rows = 0
        self.reports = reports
        if reports is not None:
            try:
                reports.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ProfileError(f"--reports: cannot make the folder: {exc.strerror}", file=str(reports)) from None
        if self.kind == "xlsx":
            from engine.rendering.results_sheet import ResultsBook
            from engine.rendering.template import columns as template_columns
            self.book = ResultsBook(path, kb, inputs if inputs is not None else template_columns(kb), lang,
                                    self.columns, reports, title)
        else:
            self.handle = self.partial.open("w", encoding="utf-8", newline="")
            if self.kind == "csv":
                self.csv = csv.writer(self.handle, lineterminator="\n")
                self.csv.writerow([csv_cell(c) for c in self.columns])

    def write(self, item: dict) -> None:
        """Write a row prepared by :func:`evaluate_rows` for this file's kind."""
        self.rows += 1
        link = None
        if self.reports is not None and item.get("report") is not None:
            from engine.rendering.results_sheet import relative_link, report_name
            target = self.reports / report_name(item["row"], item.get("id"))
            try:
                target.write_text(item["report"], encoding="utf-8")
            except OSError as exc:
                raise ProfileError(f"--reports: cannot write: {exc.strerror}", file=str(target)) from None
            link = relative_link(target, self.path)
        if self.kind == "xlsx":
            self.book.write(item, link)
        else:
            self.handle.write(item["line"])   # a CSV or JSON line, prepared where it was evaluated

    def finish(self, summary: "Summary | None" = None) -> Path:
        self._close(summary)
        os.replace(self.partial, self.path)
        return self.path

    def abandon(self, reason: str, summary: "Summary | None" = None) -> Path:
        """Mark the partial output as incomplete, with a last row that says so."""
        note = f"incomplete: {reason}; {self.rows} rows written"
        if self.kind == "jsonl":
            self.handle.write(json.dumps({"incomplete": True, "message": note}, ensure_ascii=False) + "\n")
        elif self.kind == "csv":
            self.csv.writerow(["", "", "incomplete", csv_cell(note)] + [""] * (len(self.columns) - 4))
        else:
            self.book.incomplete(note)
        self._close(summary)
        return self.partial

    def _close(self, summary: "Summary | None" = None) -> None:
        if self.kind == "xlsx":
            self.book.save(self.partial, summary if summary is not None else Summary())
        else:
            self.handle.close()


def write_labelled_csv(path: Path, kb: KnowledgeBase, lang: str, rows) -> Path:
    """The labelled CSV a person reads (:func:`engine.screening.result_rows.labelled_row`): two
    header rows, the columns' labels in ``lang`` then their ids; UTF-8 with a byte-order mark, so
    that Excel opens it in the right encoding; every cell neutralised as a formula. Written to
    ``PATH.incomplete`` and renamed when every row is in. ``rows``: lists of cells, in order."""
    from engine.screening.result_rows import labelled_header
    partial = path.with_name(path.name + ".incomplete")
    with partial.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle, lineterminator="\r\n")
        for header in labelled_header(kb, lang):
            out.writerow([csv_cell(c) for c in header])
        for row in rows:
            out.writerow([csv_cell(c) for c in row])
    os.replace(partial, path)
    return path
