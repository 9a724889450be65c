"""Screening many enterprises: ``policykb batch``, the run from file to file.

Rows are cut from CSV, JSON Lines or Excel one at a time (:mod:`.rows`) — CSV records and JSON
lines as raw bytes, made profiles where they are evaluated (:mod:`.parsing`) — then evaluated
and prepared for the writer in chunks (:mod:`.chunks`) — in this process or in worker
processes (:mod:`.local`, ``--workers``), or on Dask (:mod:`.dask_engine`): two ways of running
the same chunks — and written in input order as CSV, JSON Lines or Excel (:mod:`.writer`,
:mod:`.result_rows`), with the summary tallied per chunk (:mod:`.summary`). Memory does not grow
with the input and the process writing the output does little else. Text cells are kept from
running as spreadsheet formulas (:mod:`engine.rendering.spreadsheet`). Nothing is lost: a row
that cannot be read or evaluated is an output row with its error, and the batch goes on. Output
goes to ``OUTPUT.incomplete`` — made before the work starts, and saying in its first line that it
is incomplete — and becomes ``OUTPUT`` only when every row is written; an interrupted run leaves
the ``.incomplete`` file, ending with a row that says so, never a silently short ``OUTPUT``. An
output that cannot be written (a full disk) is one line of error, with nothing left behind.
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ProfileError, write_problem
from engine.model import KnowledgeBase
from engine.screening.chunks import Output
from engine.screening.local import evaluate_local
from engine.screening.rows import count_rows, format_of, read_rows
from engine.screening.summary import SUMMARY_WORDS, Summary
from engine.screening.writer import Writer

__all__ = ["run", "Outcome", "Progress", "SUMMARY_WORDS"]


class Progress:
    """Rows done, rows per second and time left, on one line of a terminal."""

    def __init__(self, stream, total: int | None, enabled: bool):
        self.stream, self.total, self.enabled = stream, total, enabled
        self.started = self.last = time.monotonic()
        self.done = 0

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if self.enabled and (now - self.last >= 0.2 or self.done == self.total):
            self.last = now
            self.stream.write("\r" + self.line(now))
            self.stream.flush()

    def line(self, now: float) -> str:
        rate = self.done / max(now - self.started, 1e-9)
        text = f"{self.done:,} rows  {rate:,.0f} rows/s"
        if self.total:
            left = (self.total - self.done) / rate if rate else 0
            text = f"{self.done:,}/{self.total:,} rows  {rate:,.0f} rows/s  {int(left) // 60}m{int(left) % 60:02d}s left"
        return text.ljust(60)

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()



@dataclass
class Outcome:
    path: Path
    summary: Summary
    complete: bool
    reason: str | None = None


def run(kb: KnowledgeBase, source: Path, out: Path, *, workers: int = 1, as_of=None, sheet=None,
        progress_stream=None, quiet: bool = False, engine: str = "local", scheduler: str | None = None,
        encoding: str | None = None, say=None, lang: str = "zh", reports: Path | None = None) -> Outcome:
    """Evaluate every row of ``source`` into ``out`` (see the module docstring). ``encoding``
    and ``say`` are those of :func:`read_rows`; ``lang`` is the language of the results
    workbook and the reports; ``reports`` a folder for each row's HTML report.

    Raises
    ------
    ProfileError
        For an input that cannot be read, an output of an unknown kind, or an output that is
        the input itself (the results would replace what they were read from).
    """
    kind = Output(format_of(out), lang, reports is not None)
    if out.exists() and source.exists() and os.path.samefile(out, source):
        raise ProfileError("--out names the input file: the results would replace it; write them to another file",
                           file=str(out))
    rows = read_rows(source, kb, sheet, encoding, say)
    stream = progress_stream if progress_stream is not None else sys.stderr
    shown = not quiet and stream.isatty()
    progress = Progress(stream, count_rows(source, sheet) if shown else None, enabled=shown)
    # The output is made (and so known to be writable) before any row is evaluated.
    title = SUMMARY_WORDS[lang]["title"] + ("：" if lang == "zh" else ": ") + source.name
    writer = Writer(out, kb, rows.columns, lang, reports, title)
    try:
        if engine == "dask":
            from engine.screening.dask_engine import evaluate_dask
            results = evaluate_dask(kb, rows, as_of, workers, scheduler, kind)
        else:
            results = evaluate_local(kb, rows, as_of, workers, kind)
    except BaseException:
        writer.fail()
        raise
    summary = Summary()
    problem = None
    try:
        for chunk in results:
            for item in chunk:
                writer.write(item)
            summary.merge(chunk.summary)
            progress.advance(len(chunk))
    except KeyboardInterrupt:
        progress.close()
        return Outcome(_abandoned(writer, "interrupted", summary), summary, False, "interrupted")
    except BrokenProcessPool:
        progress.close()
        return Outcome(_abandoned(writer, "a worker process died", summary), summary, False, "a worker process died")
    except OSError as exc:   # the output cannot be written (a full disk): one line, nothing left behind
        problem = write_problem(out, exc)
    except ProfileError as exc:     # e.g. a report of --reports that cannot be written
        problem = exc
    except BaseException as exc:
        progress.close()
        _abandoned(writer, f"stopped by an error: {exc}" if str(exc) else "stopped by an error", summary)
        raise
    progress.close()
    if problem is not None:   # out of the except block, so that what the error held can go
        results.close()
        writer.fail()
        raise problem
    return Outcome(writer.finish(summary), summary, True)


def _abandoned(writer: Writer, reason: str, summary: Summary) -> Path:
    """The partial output, marked as incomplete at its end too; where even that cannot be
    written, the output is given up (it says inside it is incomplete from its first line)."""
    try:
        return writer.abandon(reason, summary)
    except OSError as exc:
        writer.fail()
        raise write_problem(writer.path, exc) from None
