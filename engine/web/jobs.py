"""Batch jobs of the server: an uploaded file screened by :func:`engine.screening.batch.run` in a process
of its own, its progress and results kept on disk.

On disk rather than in memory because the server has several worker processes and the page
polling a job's progress may reach any of them. A job's folder holds the input (under
``upload/``, by the uploaded file's name made safe), ``status.json`` (rows done, total, state,
message) and, when done, the results, the summary page and — what the page shows — the rows
with problems, each with its messages in the page's language. A CSV job also writes the
labelled CSV a person reads (:func:`engine.screening.writer.write_labelled_csv`) beside the
machine CSV of ``policykb batch``. Job ids are random and checked against a strict pattern: no
request ever names a path.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import threading
import time
import unicodedata
from pathlib import Path

INPUTS = {".csv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl"}
OUTPUTS = {"csv": ".csv", "xlsx": ".xlsx", "jsonl": ".jsonl"}
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_PROGRESS = re.compile(r"([\d,]+)(?:/([\d,]+))? rows")
#: Rows with problems shown on the page (all of them are in the files).
SHOWN = 100
#: The labelled CSV of a CSV job.
LABELLED = "results-labelled.csv"


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


def safe_name(filename: str, suffix: str) -> str:
    """The uploaded file's name as a file name of the job's folder: its last part only, no
    control character, no path separator, not hidden, at most 100 characters, ending in
    ``suffix``; ``input<suffix>`` when nothing is left."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in ':*?"<>|')
    stem = name[: -len(suffix)] if name.lower().endswith(suffix) else Path(name).stem
    stem = stem.strip().lstrip(".").strip()[:100]
    return f"{stem or 'input'}{suffix}"


def new_job(data_dir: Path, filename: str, suffix: str, data: bytes) -> tuple[str, Path, str]:
    """A new job's id, folder and the input's name there (the uploaded name, made safe)."""
    job = secrets.token_urlsafe(18)
    folder = jobs_dir(data_dir) / job
    (folder / "upload").mkdir(parents=True)
    name = safe_name(filename, suffix)
    (folder / "upload" / name).write_bytes(data)
    write_status(folder, {"state": "starting", "done": 0, "total": None, "name": name, "created": time.time()})
    return job, folder, name


def write_status(folder: Path, status: dict) -> None:
    tmp = folder / "status.json.tmp"
    tmp.write_text(json.dumps(status, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / "status.json")


def read_status(folder: Path) -> dict:
    try:
        return json.loads((folder / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"state": "queued", "done": 0, "total": None}


def start(folder: Path, settings, input_name: str, output_kind: str, as_of: str | None, lang: str,
          save_cases: bool = False) -> None:
    """Run the job in its own process (the server's engine processes stay free for pages), with
    the limits of ``settings`` (:mod:`.job_control`). The process is a daemon of this worker:
    when the worker stops, the job is cancelled rather than orphaned; a thread reaps it when it
    ends, so no finished job lingers as a zombie."""
    process = multiprocessing.get_context("spawn").Process(
        target=_run, name="policykb-batch", daemon=True,
        args=(str(folder), str(settings.data_dir), settings.kb, input_name, output_kind, as_of, lang,
              settings.max_jobs, settings.job_memory, settings.job_seconds,
              settings.register if save_cases else None))
    process.start()
    threading.Thread(target=process.join, name="policykb-batch-reaper", daemon=True).start()


class _ProgressStream:
    """Receives :class:`engine.screening.batch.Progress`'s terminal line and keeps the counts in status.json."""

    def __init__(self, folder: Path, base: dict):
        self.folder, self.base = folder, base

    def isatty(self) -> bool:  # the progress line is written only to a terminal
        return True

    def write(self, text: str) -> None:
        found = _PROGRESS.search(text)
        if found:
            done = int(found.group(1).replace(",", ""))
            total = int(found.group(2).replace(",", "")) if found.group(2) else None
            write_status(self.folder, dict(self.base, state="running", done=done, total=total))

    def flush(self) -> None:
        pass


def _run(folder: str, data_dir: str, kb_path: str | None, input_name: str, output_kind: str, as_of: str | None,
         lang: str, max_jobs: int, memory: int, seconds: float, register: str | None = None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from . import job_control
    here = Path(folder)
    job_control.on_sigterm()
    job_control.hold_alive(here)
    created = read_status(here).get("created", time.time())
    base = {"name": input_name, "created": created, "pid": os.getpid()}
    try:
        write_status(here, dict(base, state="queued", done=0, total=None, place=1))
        job_control.wait_for_slot(Path(data_dir), here, max_jobs,
                                  lambda place: write_status(here, dict(base, state="queued", done=0, total=None,
                                                                        place=place)))
        job_control.limit(memory, seconds)
        _screen(here, kb_path, input_name, output_kind, as_of, lang, base, register)
    except job_control.Cancelled:
        by_user = (here / job_control.CANCEL).exists()
        write_status(here, dict(base, state="cancelled", done=read_status(here).get("done", 0), total=None,
                                reason="user" if by_user else "server"))
    except job_control.TooLong:
        write_status(here, dict(base, state="failed", done=0, total=None, reason="time",
                                limit=int(seconds)))
    except MemoryError:
        write_status(here, dict(base, state="failed", done=0, total=None, reason="memory",
                                limit=memory))
    except OSError as exc:   # the data folder is full or cannot be written
        try:
            write_status(here, dict(base, state="failed", done=0, total=None, reason="disk",
                                    message=exc.strerror or "the data folder cannot be written"))
        except OSError:
            pass
    except Exception as exc:  # noqa: BLE001 — the page says what stopped it, never a traceback
        write_status(here, dict(base, state="failed", done=0, total=None, reason="internal", message=str(exc)))
    finally:
        # The enterprises' data goes when the job ends; the results stay for download until the
        # server stops.
        shutil.rmtree(here / "upload", ignore_errors=True)


def _screen(here: Path, kb_path: str | None, input_name: str, output_kind: str, as_of: str | None, lang: str,
            base: dict, register: str | None = None) -> None:
    from engine.errors import PolicyKBError
    from engine.inferring.evaluation import knowledge_base
    from engine.loading.values import parse_date
    from engine.screening.batch import SUMMARY_WORDS, run
    source = here / "upload" / input_name
    out = here / f"results{OUTPUTS[output_kind]}"
    write_status(here, dict(base, state="running", done=0, total=None))
    started = time.monotonic()
    try:
        kb = knowledge_base(kb_path)
        day = parse_date(as_of) if as_of else None
        outcome = run(kb, source, out, workers=1, as_of=day, progress_stream=_ProgressStream(here, base),
                      lang=lang)
        summary = outcome.summary
        title = SUMMARY_WORDS[lang]["title"] + ("：" if lang == "zh" else ": ") + input_name
        (here / "summary.html").write_text(summary.html(kb, title, lang), encoding="utf-8")
        (here / "summary.txt").write_text(summary.text(kb, lang), encoding="utf-8")
        status = dict(base, state="done" if outcome.complete else "failed", done=summary.rows, total=summary.rows,
                      errors=summary.errors, rows=summary.rows, output=outcome.path.name, message=outcome.reason)
        if outcome.complete:
            errors = error_rows(outcome.path)
            messages = row_messages(kb, source, set(errors), lang) if errors else {}
            if errors:   # the id and the name as given, each in its own cell
                for number, ident, name in _names(kb, source):
                    if number in errors:
                        errors[number].update(ident=ident, name=name)
            problems = [dict(errors[n], row=n, messages=messages.get(n) or split_message(kb, errors[n]["message"], lang))
                        for n in sorted(errors)]
            status["problems"] = problems[:SHOWN]
            if output_kind == "csv":
                labelled_csv(kb, source, outcome.path, here / LABELLED, problems, lang)
                status["labelled"] = LABELLED
        if outcome.complete and register:
            status["saved"] = save_cases(kb, source, register)
        status["seconds"] = round(time.monotonic() - started, 2)
        write_status(here, status)
    except PolicyKBError as exc:
        write_status(here, dict(base, state="failed", done=0, total=None,
                                message=exc.text(lang).replace(str(source.parent) + os.sep, "")))


def save_cases(kb, source: Path, where: str) -> int:
    """Every row of ``source`` that reads as a profile, saved as a case of the register at
    ``where`` (the rows with problems are not: they are listed on the page); how many."""
    from engine.errors import PolicyKBError
    from engine.loading.profile import parse_profile
    from engine.loading.yamlio import plain
    from engine.register import open_register
    from engine.screening.parsing import parse_row
    from engine.screening.rows import read_rows
    ready = []
    for row in read_rows(source, kb):
        parsed = parse_row(kb, row)
        if parsed.error is not None or parsed.data is None:
            continue
        try:
            parse_profile(parsed.data, kb)
        except PolicyKBError:
            continue
        data = plain(parsed.data)
        ready.append((data.get("name"), data))
    with open_register(where) as register:
        return len(register.add_cases(ready, by="workbench (batch)"))   # every row saved, or none


# --------------------------------------------------------------------------- rows with problems

def error_rows(path: Path) -> dict[int, dict]:
    """The rows of a finished output that could not be read or evaluated: row number → its id
    or name and its message, as ``policykb batch`` wrote them."""
    found: dict[int, dict] = {}

    def add(row, ident, result, message) -> None:
        if result == "error":
            found[int(row)] = {"id": _plain(ident), "message": _plain(message) or ""}

    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            for cells in reader:
                if len(cells) >= 4:
                    add(*cells[:4])
    elif path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if "row" in record:
                    add(record["row"], record.get("id"), record.get("result"), record.get("message"))
    else:
        import openpyxl
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            rows = book["data"].iter_rows(values_only=True)
            next(rows, None)
            for cells in rows:
                add(*(list(cells[:4]) + [None] * 4)[:4])
        finally:
            book.close()
    return found


def _plain(text):
    """A cell as written, without the ``'`` that keeps risky text from running as a formula."""
    if text is None or text == "":
        return None
    text = str(text)
    from engine.rendering.spreadsheet import risky
    return text[1:] if text.startswith("'") and risky(text[1:]) else text


def row_messages(kb, source: Path, numbers: set[int], lang: str) -> dict[int, list[dict]]:
    """The problems of the rows ``numbers`` of ``source``, read again as the batch read them
    (:mod:`engine.screening.parsing`), one by one in ``lang``: each ``{"fact", "head", "body",
    "text", "english"}`` (:func:`_message`). What the engine words in English only is shown in
    English. In English they are the message of the file, problem by problem (tested)."""
    from engine.errors import ProfileError
    from engine.loading.profile import parse_profile
    from engine.screening.parsing import parse_row, problems
    from engine.screening.rows import read_rows
    found: dict[int, list[dict]] = {}
    if not numbers:
        return found
    last = max(numbers)
    for row in read_rows(source, kb):
        if row.number > last:
            break
        if row.number not in numbers:
            continue
        parsed = parse_row(kb, row)
        messages: list[dict] = []
        if parsed.error is not None:
            worded = parsed.error_zh if lang == "zh" and parsed.error_zh else parsed.error
            messages += split_message(kb, worded, lang)
        if parsed.data is not None and (parsed.error is not None or not parsed.checked):
            for name, value in parsed.data.items():
                said = problems(kb, {name: value}, lang)
                if said:
                    messages.append(_message(kb, said[0], lang, name))
            if parsed.error is None and not messages:   # the facts read one by one but not together
                try:
                    parse_profile(parsed.data, kb)
                except ProfileError as exc:
                    messages.append(_message(kb, exc.text(lang), lang, exc.fact))
        if messages:
            found[row.number] = messages
    return found


def split_message(kb, message: str, lang: str) -> list[dict]:
    """A row's message as the engine words it, cut into its problems (each begins with a fact —
    ``industry:`` or ``行业（industry）：`` — or a line, ``line N:`` or ``第N行：``)."""
    if not message:
        return []
    facts = "|".join(re.escape(f) for f in sorted(kb.facts, key=len, reverse=True))
    labels = "|".join(re.escape(f.zh) for f in sorted(kb.facts.values(), key=lambda f: len(f.zh), reverse=True))
    pieces = re.split(rf"; (?=(?:{facts}|line \d+|internal error|rule [\w.]+): )"
                      rf"|；(?=(?:(?:{labels})（[a-z0-9_]+）|第\d+行|规则 [\w.]+)：)", message)
    return [_message(kb, piece, lang) for piece in pieces if piece]


_CJK = re.compile(r"[\u3400-\u9fff]")


def _message(kb, text: str, lang: str, fact: str | None = None) -> dict:
    """A problem: the fact it is about, its words (``text``), cut into the fact's name (``head``)
    and what is wrong (``body``; ``english`` when a Chinese page can only show it in English). A
    message that begins with the fact's id begins with its label instead (label first, id after)."""
    plain = re.match(r"([a-z][a-z0-9_]*): ", text)
    if fact is None and plain and plain.group(1) in kb.facts:
        fact = plain.group(1)
    if fact in kb.facts and plain and plain.group(1) == fact:
        label = kb.facts[fact].label(lang)
        head, body = (f"{label} ({fact}): ", text[plain.end():]) if lang == "en" else (f"{label}（{fact}）：", text[plain.end():])
    else:
        worded = re.match(r"[^：]*（([a-z][a-z0-9_]*)）：", text)   # 行业（industry）：…, as the engine words it
        head, body = (worded.group(0), text[worded.end():]) if worded else ("", text)
        if fact is None and worded and worded.group(1) in kb.facts:
            fact = worded.group(1)
    return {"fact": fact, "head": head, "body": body, "text": head + body,
            "english": lang == "zh" and _english(body)}


def _english(body: str) -> bool:
    """Whether a problem's words are English (what it quotes from the cell and the values it
    lists aside): a Chinese page marks them so."""
    words = re.split(r"；可填|; allowed|（是否想写| \(did you mean", body)[0]
    return not _CJK.search(re.sub(r"'[^']*'|“[^”]*”|\"[^\"]*\"", "", words))


# --------------------------------------------------------------------------- the labelled CSV

def _names(kb, source: Path):
    """Each input row's number, id cell and name cell as given, in order, read cheaply (the
    cells of the id and name columns only)."""
    from engine.rendering.template import ID_COLUMNS
    from engine.screening.rows import read_rows

    def text(value):
        return None if value is None or str(value).strip() == "" else str(value).strip()

    for row in read_rows(source, kb):
        cells: dict = {}
        if row.cells is not None:
            cells = row.cells
        elif row.raw is not None and row.layout.kind == "csv":
            try:
                cells = dict(zip(row.layout.header, next(csv.reader([row.raw.decode(row.layout.encoding)]), [])))
            except (UnicodeDecodeError, csv.Error):
                cells = {}
        elif row.raw is not None:
            try:
                data = json.loads(row.raw.decode("utf-8"))
                cells = data if isinstance(data, dict) else {}
            except ValueError:
                cells = {}
        ident = next((text(cells.get(c)) for c in ID_COLUMNS if text(cells.get(c))), None)
        yield row.number, ident, text(cells.get("name"))


def labelled_csv(kb, source: Path, machine: Path, out: Path, problems: list[dict], lang: str) -> Path:
    """The labelled CSV of a CSV job: the machine CSV's rows in ``lang``, the input's id and the
    enterprise's name beside each row number, and each error row's problems in ``lang``."""
    from engine.screening.result_rows import labelled_row
    from engine.screening.writer import write_labelled_csv
    join = "；" if lang == "zh" else "; "
    texts = {p["row"]: join.join(m["text"] for m in p["messages"]) for p in problems}

    def rows():
        names = _names(kb, source)
        with machine.open(encoding="utf-8", newline="") as handle:
            for cells in csv.DictReader(handle):
                number, ident, name = next(names, (None, None, None))
                row = int(cells["row"])
                yield labelled_row(kb, cells, ident if number == row else None, name if number == row else None,
                                   texts.get(row), lang)

    return write_labelled_csv(out, kb, lang, rows())
