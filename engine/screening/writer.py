"""Writing a batch's results: ``OUTPUT.incomplete`` first, made ``OUTPUT`` when every row is
written; CSV and JSON Lines lines as prepared where the rows were evaluated, or the analyst's
workbook (:mod:`engine.rendering.results_sheet`); each row's HTML report with ``--reports``.

``OUTPUT.incomplete`` says inside that it is incomplete from the moment it is made, whatever
stops the run (even ``kill -9``): CSV and JSON Lines open with a marker line, left out when the
finished file becomes ``OUTPUT`` (byte for byte the format without it); a workbook is kept in
memory until the end, and its ``.incomplete`` file holds the marker text until then. Making it
is also the check, before any row is evaluated, that the output's folder can be written.
"""

from __future__ import annotations

import csv
import errno
import gc
import json
import os
import shutil
import sys
from pathlib import Path

from engine.errors import write_problem
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
                raise write_problem(reports, exc, "--reports") from None
        self.marker = marker_line(self.kind, lang).encode("utf-8")
        try:
            # Made, marked and flushed to the disk before any row is evaluated: an output that
            # cannot be written is refused now, not after the work.
            with self.partial.open("wb") as probe:
                probe.write(self.marker)
                probe.flush()
                os.fsync(probe.fileno())
        except OSError as exc:
            self._discard()
            raise write_problem(path, exc) from None
        if self.kind == "xlsx":
            from engine.rendering.results_sheet import ResultsBook
            from engine.rendering.template import columns as template_columns
            self.book = ResultsBook(path, kb, inputs if inputs is not None else template_columns(kb), lang,
                                    self.columns, reports, title)
        else:
            self.handle = self.partial.open("a", encoding="utf-8", newline="")
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
                raise write_problem(target, exc, "--reports") from None
            link = relative_link(target, self.path)
        if self.kind == "xlsx":
            self.book.write(item, link)
        else:
            self.handle.write(item["line"])   # a CSV or JSON line, prepared where it was evaluated

    def finish(self, summary: "Summary | None" = None) -> Path:
        """Close the output and make it ``OUTPUT``, without its marker line.

        Raises
        ------
        ProfileError
            When it cannot be written (a full disk, a file too large); nothing is left behind.
        """
        problem = None
        try:
            self._close(summary)
            if self.kind == "xlsx":   # the workbook replaced the marker when it was saved
                os.replace(self.partial, self.path)
            else:
                _copy_after(self.partial, len(self.marker), self.path)
                self.partial.unlink()
        except OSError as exc:
            problem = write_problem(self.path, exc)
        if problem is not None:   # out of the except block: what the error held can go
            self.fail()
            raise problem
        return self.path

    def fail(self) -> None:
        """Give up after the output could not be written: nothing is left behind, for a full disk
        needs its space back (the file and the command's message say so)."""
        handle = getattr(self, "handle", None)
        if handle is not None:
            try:
                handle.close()
            except OSError:
                pass
        if getattr(self, "book", None) is not None:
            # A write-only workbook's sheets are generators writing temporary files, which
            # complain as they are collected once a write failed: they go quietly now.
            hook, sys.unraisablehook = sys.unraisablehook, lambda unraisable: None
            try:
                self.book = None
                gc.collect()
            finally:
                sys.unraisablehook = hook
        self._discard()

    def _discard(self) -> None:
        for leftover in (self.partial, self.path.with_name(f".{self.path.name}.finishing")):
            try:
                leftover.unlink()
            except OSError:
                pass

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


#: The first line of ``OUTPUT.incomplete`` (CSV, JSON Lines; a workbook's file until it is saved).
MARKERS = {
    "en": "INCOMPLETE: policykb batch is writing this file, or was stopped before it finished; it is "
          "not the results. The finished file is OUTPUT, without this line (docs/batch.md: rerun).",
    "zh": "未完成：policykb batch 正在写这个文件，或在完成前被中断；它不是筛查结果。"
          "完成后的文件不带 .incomplete，也没有这一行（见 docs/batch.md：重新运行）。",
}


def marker_line(kind: str, lang: str) -> str:
    """The marker line of an ``OUTPUT.incomplete`` of ``kind`` (``csv``, ``jsonl``, ``xlsx``)."""
    text = MARKERS["zh" if lang == "zh" else "en"]
    if kind == "jsonl":
        return json.dumps({"incomplete": True, "message": text}, ensure_ascii=False) + "\n"
    return text + "\n"   # CSV and a workbook's placeholder: one plain line (a cell in a spreadsheet)


def _copy_after(source: Path, skip: int, target: Path) -> None:
    """``source`` from byte ``skip`` on as ``target`` (through a hidden file renamed at the end)."""
    finishing = target.with_name(f".{target.name}.finishing")
    with source.open("rb") as src, finishing.open("wb") as dst:
        left = os.fstat(src.fileno()).st_size - skip
        offset = skip
        try:
            while left > 0:   # in the kernel, where it can (no copy through this process)
                done = os.copy_file_range(src.fileno(), dst.fileno(), left, offset)
                if done == 0:
                    break
                offset, left = offset + done, left - done
        except (AttributeError, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL,
                                                              errno.EOPNOTSUPP, errno.EPERM):
                raise
            src.seek(offset)
            dst.seek(offset - skip)
            shutil.copyfileobj(src, dst, 1024 * 1024)
        dst.flush()
    os.replace(finishing, target)


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
