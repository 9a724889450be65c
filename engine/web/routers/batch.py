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
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse

from engine.loading.values import ValueProblem, parse_date
from engine.model import KnowledgeBase
from .. import jobs
from ..deps import get_kb, get_lang, get_settings
from ..errors import ApiError
from ..settings import Settings
from ..templating import render

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
           "not_batch": "“{name}”不是 CSV、Excel（.xlsx）或 JSON Lines（.jsonl）文件"},
    "en": {"done": "“{name}” screened: {rows} rows, {ok} evaluated, {errors} with problems.",
           "done_clean": "“{name}” screened: {rows} rows, all evaluated.",
           "problems": "Rows with problems (not evaluated; correct them and upload again)", "row": "Row",
           "who": "ID / enterprise", "what": "Problems", "more": "{n} more rows with problems are not listed here: see the results file.",
           "labelled": "Download the results (CSV, headed in English)",
           "machine": "CSV for scripts (columns by id, statuses as granted, denied, …)",
           "download": "Download the results ({kind})", "unnamed": "(unnamed)",
           "labelled_note": "Row 1 of the CSV holds the column labels, row 2 their ids; it opens in Excel as it is.",
           "choose_file": "choose a file first",
           "not_batch": "'{name}' is not CSV, Excel (.xlsx) or JSON Lines (.jsonl)"},
}
_KINDS = {".csv": "CSV", ".xlsx": "Excel", ".jsonl": "JSON Lines"}


def _fragment(lang: str, kb: KnowledgeBase, job: str | None, status: dict):
    return render("_batch.html", lang=lang, kb=kb, job=job, status=status, W=WORDS[lang], kinds=_KINDS,
                  shown=jobs.SHOWN)

_MEDIA = {".csv": "text/csv; charset=utf-8", ".jsonl": "application/x-ndjson; charset=utf-8",
          ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.post("/ui/batch")
async def start_batch(request: Request, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
                      settings: Settings = Depends(get_settings)):
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
    job, folder, name = jobs.new_job(settings.data_dir, upload.filename, suffix, data)
    jobs.start(folder, settings.kb, name, output, as_of, lang)
    return _fragment(lang, kb, job, jobs.read_status(folder))


def _folder(settings: Settings, job: str) -> Path:
    folder = jobs.job_folder(settings.data_dir, job)
    if folder is None:
        raise ApiError(404, "no such batch job (it may have been removed when the server restarted)")
    return folder


@router.get("/ui/batch/{job}")
def batch_progress(job: str, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
                   settings: Settings = Depends(get_settings)):
    folder = _folder(settings, job)
    return _fragment(lang, kb, job, jobs.read_status(folder))


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
