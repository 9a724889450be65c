"""Batch screening in the browser: upload, progress, results and summary (:mod:`engine.web.jobs`).

``POST /ui/batch`` (multipart: ``file``, ``output`` csv|xlsx|jsonl, ``as_of``) starts a job and
answers with its progress fragment; ``GET /ui/batch/{job}`` is the fragment the page polls;
``GET /batch/{job}/results`` and ``GET /batch/{job}/summary`` download the results and open the
summary page. The upload limit is stated on the page and enforced (413).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse

from engine.model import KnowledgeBase
from .. import jobs
from ..deps import get_kb, get_lang, get_settings
from ..errors import ApiError
from ..settings import Settings
from ..templating import render

router = APIRouter(include_in_schema=False)

_MEDIA = {".csv": "text/csv; charset=utf-8", ".jsonl": "application/x-ndjson; charset=utf-8",
          ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.post("/ui/batch")
async def start_batch(request: Request, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
                      settings: Settings = Depends(get_settings)):
    form = await request.form()
    upload = form.get("file")
    if upload is None or not hasattr(upload, "read") or not upload.filename:
        return render("_batch.html", lang=lang, kb=kb, job=None, status={"state": "failed",
                      "message": "choose a file first" if lang == "en" else "请先选择文件"})
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in jobs.INPUTS:
        message = (f"'{upload.filename}' is not CSV, Excel (.xlsx) or JSON Lines (.jsonl)" if lang == "en"
                   else f"“{upload.filename}”不是 CSV、Excel（.xlsx）或 JSON Lines（.jsonl）文件")
        return render("_batch.html", lang=lang, kb=kb, job=None, status={"state": "failed", "message": message})
    data = await upload.read()
    output = str(form.get("output") or "")
    output = output if output in jobs.OUTPUTS else jobs.INPUTS[suffix]
    as_of = str(form.get("as_of") or "").strip() or None
    job, folder = jobs.new_job(settings.data_dir, suffix, data)
    jobs.start(folder, settings.kb, f"input{suffix}", output, as_of, lang)
    return render("_batch.html", lang=lang, kb=kb, job=job, status=jobs.read_status(folder))


def _folder(settings: Settings, job: str) -> Path:
    folder = jobs.job_folder(settings.data_dir, job)
    if folder is None:
        raise ApiError(404, "no such batch job (it may have been removed when the server restarted)")
    return folder


@router.get("/ui/batch/{job}")
def batch_progress(job: str, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
                   settings: Settings = Depends(get_settings)):
    folder = _folder(settings, job)
    return render("_batch.html", lang=lang, kb=kb, job=job, status=jobs.read_status(folder))


@router.get("/batch/{job}/results")
def batch_results(job: str, settings: Settings = Depends(get_settings)):
    folder = _folder(settings, job)
    status = jobs.read_status(folder)
    if status.get("state") != "done":
        raise ApiError(404, "the results are not ready")
    path = folder / status["output"]
    return FileResponse(path, media_type=_MEDIA.get(path.suffix, "application/octet-stream"),
                        filename=f"policykb-results{path.suffix}")


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
