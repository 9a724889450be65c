"""Batch jobs of the server: an uploaded file screened by :func:`engine.screening.batch.run` in a process
of its own, its progress and results kept on disk.

On disk rather than in memory because the server has several worker processes and the page
polling a job's progress may reach any of them. A job's folder holds the input, ``status.json``
(rows done, total, state, message) and, when done, the results and the summary page. Job ids
are random and checked against a strict pattern: no request ever names a path.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import secrets
import signal
import time
from pathlib import Path

INPUTS = {".csv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl"}
OUTPUTS = {"csv": ".csv", "xlsx": ".xlsx", "jsonl": ".jsonl"}
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_PROGRESS = re.compile(r"([\d,]+)(?:/([\d,]+))? rows")


def jobs_dir(data_dir: Path) -> Path:
    folder = data_dir / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def job_folder(data_dir: Path, job: str) -> Path | None:
    """The folder of an existing job, or None for an id that is malformed or unknown."""
    if not JOB_ID.match(job):
        return None
    folder = jobs_dir(data_dir) / job
    return folder if (folder / "status.json").is_file() else None


def new_job(data_dir: Path, suffix: str, data: bytes) -> tuple[str, Path]:
    job = secrets.token_urlsafe(18)
    folder = jobs_dir(data_dir) / job
    folder.mkdir()
    (folder / f"input{suffix}").write_bytes(data)
    write_status(folder, {"state": "queued", "done": 0, "total": None})
    return job, folder


def write_status(folder: Path, status: dict) -> None:
    tmp = folder / "status.json.tmp"
    tmp.write_text(json.dumps(status, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / "status.json")


def read_status(folder: Path) -> dict:
    try:
        return json.loads((folder / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"state": "queued", "done": 0, "total": None}


def start(folder: Path, kb_path: str | None, input_name: str, output_kind: str, as_of: str | None, lang: str) -> None:
    """Run the job in its own process (the server's engine processes stay free for pages)."""
    multiprocessing.active_children()  # reap finished jobs
    process = multiprocessing.get_context("spawn").Process(
        target=_run, args=(str(folder), kb_path, input_name, output_kind, as_of, lang), daemon=False,
        name="policykb-batch")
    process.start()


class _ProgressStream:
    """Receives :class:`engine.screening.batch.Progress`'s terminal line and keeps the counts in status.json."""

    def __init__(self, folder: Path):
        self.folder, self.last = folder, 0.0

    def isatty(self) -> bool:  # the progress line is written only to a terminal
        return True

    def write(self, text: str) -> None:
        found = _PROGRESS.search(text)
        if found:
            done = int(found.group(1).replace(",", ""))
            total = int(found.group(2).replace(",", "")) if found.group(2) else None
            write_status(self.folder, {"state": "running", "done": done, "total": total})

    def flush(self) -> None:
        pass


def _run(folder: str, kb_path: str | None, input_name: str, output_kind: str, as_of: str | None, lang: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from engine.screening.batch import SUMMARY_WORDS, run
    from ..errors import PolicyKBError
    from engine.inferring.evaluation import knowledge_base
    from engine.loading.values import parse_date
    here = Path(folder)
    out = here / f"results{OUTPUTS[output_kind]}"
    write_status(here, {"state": "running", "done": 0, "total": None})
    started = time.monotonic()
    try:
        kb = knowledge_base(kb_path)
        day = parse_date(as_of) if as_of else None
        outcome = run(kb, here / input_name, out, workers=1, as_of=day, progress_stream=_ProgressStream(here))
        summary = outcome.summary
        (here / "summary.html").write_text(summary.html(kb, SUMMARY_WORDS[lang]["title"], lang), encoding="utf-8")
        (here / "summary.txt").write_text(summary.text(kb, lang), encoding="utf-8")
        state = "done" if outcome.complete else "failed"
        write_status(here, {"state": state, "done": summary.rows, "total": summary.rows, "errors": summary.errors,
                            "rows": summary.rows, "output": outcome.path.name, "message": outcome.reason,
                            "seconds": round(time.monotonic() - started, 2)})
    except PolicyKBError as exc:
        write_status(here, {"state": "failed", "done": 0, "total": None, "message": str(exc).replace(str(here) + "/", "")})
    except Exception as exc:  # noqa: BLE001 — the page shows the message, never a traceback
        write_status(here, {"state": "failed", "done": 0, "total": None, "message": f"{type(exc).__name__}: {exc}"})
