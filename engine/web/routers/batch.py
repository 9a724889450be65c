"""Batch screening in the browser: upload, progress, results and summary (:mod:`engine.web.jobs`).

``POST /ui/batch`` (multipart: ``file``, ``output`` csv|xlsx|jsonl, ``as_of``) starts a job and
answers with its progress fragment; ``GET /ui/batch/{job}`` is the fragment the page polls —
when done, with every row that has problems (its number, id or name, each problem in the page's
language); ``GET /batch/{job}/results`` downloads what ``policykb batch`` writes,
``GET /batch/{job}/results-labelled`` a CSV job's labelled CSV (in the page's language), and
``GET /batch/{job}/summary`` opens the summary page. The upload limit is stated on the page and
enforced (413). The words of these fragments are :data:`WORDS`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse
from starlette.concurrency import run_in_threadpool

from engine.loading.values import ValueProblem, parse_date
from engine.model import KnowledgeBase
from .. import job_control, jobs
from ..deps import get_kb, get_lang, get_settings, get_upload_process
from ..errors import ApiError, storage_error
from ..middleware import limit_text
from ..settings import Settings
from ..templating import render
from ..worker import EngineProcess, WorkerDied, WorkerOutOfMemory, WorkerTimeout

router = APIRouter(include_in_schema=False)

#: The batch fragments' words, by language.
WORDS = {
    "zh": {"done": "“{name}”筛查完成：共 {rows} 行，{ok} 行已评估，{errors} 行有误。",
           "done_clean": "“{name}”筛查完成：共 {rows} 行，全部已评估。",
           "problems": "有误的行（这些行未评估；改正后重新上传即可）", "row": "行", "who": "编号 / 企业名称",
           "what": "问题", "more": "另有 {n} 行有误，未在此列出：见下载的结果文件。",
           "labelled": "下载结果（CSV，中文表头）", "machine": "供程序使用的 CSV（列名为 id，状态为 granted 等英文词）",
           "download": "下载结果（{kind}）", "unnamed": "（未命名）",
           "labelled_note": "CSV 第 1 行为中文列名，第 2 行为列的 id；用 Excel 打开即可。",
           "choose_file": "请先选择文件",
           "not_batch": "“{name}”不是 CSV、Excel（.xlsx）或 JSON Lines（.jsonl）文件",
           "queued": "排队等候：第 {place} 位（同时最多运行 {slots} 个任务）", "starting": "正在启动…",
           "cancel": "取消任务", "cancelled_user": "已取消，未写出结果。",
           "cancelled_server": "服务器停止，任务已取消；请重新上传文件。",
           "failed_time": "任务运行超过了时间上限（{limit}），已停止；请把文件拆成几份再上传。",
           "failed_memory": "任务超过了内存上限（{limit}），已停止；请把文件拆成几份再上传。",
           "failed_died": "处理任务的进程意外停止（可能内存不足或被终止）；请重新上传文件。",
           "failed_disk": "服务器的数据目录无法写入（{message}）；请联系管理员。",
           "failed_internal": "内部错误使任务停止：{message}",
           "gone": "找不到这个任务：服务器重启后任务会被清除。请重新上传文件。",
           "too_many": "等候中的任务已满（{n} 个）；请等其他任务完成后再上传。",
           "no_space": "服务器的数据目录已满或无法写入，文件未能保存；请联系管理员。",
           "too_big": "检查这个工作簿超出了时间或内存上限；请把它拆成几个文件。",
           "save_cases": "把每一行存为案例库中的案例", "saved_cases": "已将 {n} 行存为案例库中的案例。"},
    "en": {"done": "“{name}” screened: {rows} rows, {ok} evaluated, {errors} with problems.",
           "done_clean": "“{name}” screened: {rows} rows, all evaluated.",
           "problems": "Rows with problems (not evaluated; correct them and upload again)", "row": "Row",
           "who": "ID / enterprise", "what": "Problems", "more": "{n} more rows with problems are not listed here: see the results file.",
           "labelled": "Download the results (CSV, headed in English)",
           "machine": "CSV for scripts (columns by id, statuses as granted, denied, …)",
           "download": "Download the results ({kind})", "unnamed": "(unnamed)",
           "labelled_note": "Row 1 of the CSV holds the column labels, row 2 their ids; it opens in Excel as it is.",
           "choose_file": "choose a file first",
           "not_batch": "'{name}' is not CSV, Excel (.xlsx) or JSON Lines (.jsonl)",
           "queued": "Waiting in the queue: place {place} ({slots} jobs run at a time)", "starting": "Starting…",
           "cancel": "Cancel the job", "cancelled_user": "Cancelled; no results were written.",
           "cancelled_server": "Cancelled: the server stopped. Upload the file again.",
           "failed_time": "The job ran past its time limit ({limit}) and was stopped; split the file and upload the parts.",
           "failed_memory": "The job passed its memory limit ({limit}) and was stopped; split the file and upload the parts.",
           "failed_died": "The job's process stopped unexpectedly (out of memory, or killed); upload the file again.",
           "failed_disk": "The server cannot write its data folder ({message}); tell its administrator.",
           "failed_internal": "An internal error stopped the job: {message}",
           "gone": "There is no such job: jobs are removed when the server restarts. Upload the file again.",
           "too_many": "The queue of waiting jobs is full ({n}); upload again when one has finished.",
           "no_space": "The server's data folder is full or cannot be written, so the file was not saved; tell its administrator.",
           "too_big": "Checking this workbook went past the time or memory limit; split it into several files.",
           "save_cases": "Save every row as a case in the register", "saved_cases": "{n} rows saved as cases in the register."},
}
_KINDS = {".csv": "CSV", ".xlsx": "Excel", ".jsonl": "JSON Lines"}


def _fragment(lang: str, kb: KnowledgeBase, job: str | None, status: dict, slots: int = 1, status_code: int = 200):
    return render("_batch.html", status_code, lang=lang, kb=kb, job=job, status=_worded(status, lang), W=WORDS[lang],
                  kinds=_KINDS, shown=jobs.SHOWN, slots=slots)


def _worded(status: dict, lang: str) -> dict:
    """A stopped job's message in the page's language, from the reason its process recorded."""
    words, reason = WORDS[lang], status.get("reason")
    if status.get("state") == "cancelled":
        return dict(status, message=words["cancelled_user" if reason == "user" else "cancelled_server"])
    if status.get("state") != "failed" or reason is None:
        return status
    if reason in ("time", "memory"):
        figure = status.get("limit") or 0
        shown = (f"{figure // 60:,} 分钟" if lang == "zh" else f"{figure // 60:,} minutes") if reason == "time" \
            else limit_text(figure)
        return dict(status, message=words[f"failed_{reason}"].format(limit=shown))
    return dict(status, message=words[f"failed_{reason}"].format(message=status.get("message") or ""))

_MEDIA = {".csv": "text/csv; charset=utf-8", ".jsonl": "application/x-ndjson; charset=utf-8",
          ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.post("/ui/batch")
async def start_batch(request: Request, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
                      settings: Settings = Depends(get_settings),
                      uploads: EngineProcess = Depends(get_upload_process)):
    form = await request.form()
    upload = form.get("file")
    words = WORDS[lang]
    if upload is None or not hasattr(upload, "read") or not upload.filename:
        return _fragment(lang, kb, None, {"state": "failed", "message": words["choose_file"]})
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in jobs.INPUTS:
        return _fragment(lang, kb, None, {"state": "failed", "message": words["not_batch"].format(name=upload.filename)})
    data = await upload.read()
    output = str(form.get("output") or "")
    output = output if output in jobs.OUTPUTS else jobs.INPUTS[suffix]
    as_of = str(form.get("as_of") or "").strip() or None
    if as_of is not None:
        # Typed text read by the engine (2023/5/8, 2023年5月8日), not a browser's date field read
        # by its locale; a date that cannot be read is said here, in the page's language.
        try:
            as_of = parse_date(as_of).isoformat()
        except ValueProblem as exc:
            return _fragment(lang, kb, None, {"state": "failed", "message": exc.zh if lang == "zh" and exc.zh else str(exc)})
    waiting = await run_in_threadpool(job_control.waiting_jobs, settings.data_dir)
    if waiting >= settings.max_queued:
        return _fragment(lang, kb, None, {"state": "failed", "message": words["too_many"].format(n=waiting)},
                         status_code=503)
    try:
        job, folder, name = await run_in_threadpool(jobs.new_job, settings.data_dir, upload.filename, suffix, data)
    except OSError as exc:   # 507 (full) or 503 (cannot be written), the page's fragment as its body
        return _fragment(lang, kb, None, {"state": "failed", "message": words["no_space"]},
                         status_code=storage_error(exc)[0])
    if suffix == ".xlsx":   # a workbook too big to read is refused before a job is started for it
        try:
            refused = await uploads.call("check_batch_workbook", path=str(folder / "upload" / name),
                                         name=upload.filename, lang=lang)
        except (WorkerDied, WorkerTimeout, WorkerOutOfMemory):
            refused = words["too_big"]
        if refused:
            await run_in_threadpool(shutil.rmtree, folder, True)
            return _fragment(lang, kb, None, {"state": "failed", "name": name, "message": refused})
    save = bool(settings.register) and str(form.get("save_cases") or "") == "1"
    jobs.start(folder, settings, name, output, as_of, lang, save_cases=save)
    return _fragment(lang, kb, job, jobs.read_status(folder), settings.max_jobs)


def _folder(settings: Settings, job: str) -> Path:
    folder = jobs.job_folder(settings.data_dir, job)
    if folder is None:
        raise ApiError(404, "no such batch job (it may have been removed when the server restarted)")
    return folder


@router.get("/ui/batch/{job}")
def batch_progress(job: str, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
                   settings: Settings = Depends(get_settings)):
    """The fragment the page polls. A job that is gone (the server restarted) or whose process
    died is said so, and the polling stops (a 4xx would leave the page waiting)."""
    folder = jobs.job_folder(settings.data_dir, job)
    if folder is None:
        return _fragment(lang, kb, None, {"state": "failed", "message": WORDS[lang]["gone"]})
    status = job_control.settled(folder, jobs.read_status(folder), jobs.write_status)
    return _fragment(lang, kb, job, status, settings.max_jobs)


@router.post("/ui/batch/{job}/cancel")
def batch_cancel(job: str, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
                 settings: Settings = Depends(get_settings)):
    """Stop a job that waits or runs; the fragment shows it cancelled once its process says so."""
    folder = jobs.job_folder(settings.data_dir, job)
    if folder is None:
        return _fragment(lang, kb, None, {"state": "failed", "message": WORDS[lang]["gone"]})
    job_control.cancel(folder)
    status = job_control.settled(folder, jobs.read_status(folder), jobs.write_status)
    return _fragment(lang, kb, job, status, settings.max_jobs)


@router.get("/batch/{job}/results")
def batch_results(job: str, settings: Settings = Depends(get_settings)):
    folder = _folder(settings, job)
    status = jobs.read_status(folder)
    if status.get("state") != "done":
        raise ApiError(404, "the results are not ready")
    path = folder / status["output"]
    return FileResponse(path, media_type=_MEDIA.get(path.suffix, "application/octet-stream"),
                        filename=_download_name(status, "", path.suffix))


@router.get("/batch/{job}/results-labelled")
def batch_results_labelled(job: str, settings: Settings = Depends(get_settings)):
    folder = _folder(settings, job)
    status = jobs.read_status(folder)
    if status.get("state") != "done" or not status.get("labelled"):
        raise ApiError(404, "a labelled CSV is made for a CSV job only, once it is done")
    return FileResponse(folder / jobs.LABELLED, media_type=_MEDIA[".csv"],
                        filename=_download_name(status, "-labelled", ".csv"))


def _download_name(status: dict, tail: str, suffix: str) -> str:
    """``<uploaded name>-results<tail><suffix>``: the download says which upload it answers."""
    stem = Path(status.get("name") or "policykb").stem
    return f"{stem}-results{tail}{suffix}"


@router.get("/batch/{job}/summary")
def batch_summary(job: str, settings: Settings = Depends(get_settings)):
    folder = _folder(settings, job)
    page = folder / "summary.html"
    if not page.is_file():
        raise ApiError(404, "the summary is not ready")
    text = page.read_text(encoding="utf-8")
    # The summary page is self-contained with its own inline style: allow exactly that style.
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                      for s in re.findall(r"<style>(.*?)</style>", text, flags=re.S))
    return HTMLResponse(text, headers={"content-security-policy":
                                       f"default-src 'none'; style-src {hashes or chr(39) + 'none' + chr(39)}; img-src 'self'"})
