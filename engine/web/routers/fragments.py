"""The page fragments (POST ``/ui/…``) that htmx and ``app.js`` swap into the pages, and the
printable report (``POST /print``).

The case arrives in the request body (a form field holding the profile as JSON, or the form's
own fields), never in a URL, so no profile is ever written to a server log. Problems are shown
in the fragment itself (status 200, so that htmx swaps it in) as one message.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from engine.model import KnowledgeBase
from engine.explaining.wording import unknown_target
from ..deps import get_engine, get_kb, get_lang, get_upload_process, parse_json
from ..errors import ApiError
from ..forms import groups, profile_from_form, read_upload
from ..policy_text import policy_view
from ..templating import TEXTS, render
from ..worker import EngineProcess, RemoteError, WorkerDied, WorkerOutOfMemory, WorkerTimeout
from .register_words import WORDS as REGISTER_WORDS

router = APIRouter(prefix="", include_in_schema=False)


def _json_field(form, name: str, default: Any, kind: type) -> Any:
    """A form field holding JSON (the profile, the interview's state), checked for its type."""
    raw = form.get(name)
    if raw is None or raw == "":
        return default
    data = parse_json(str(raw).encode("utf-8"))
    if not isinstance(data, kind):
        raise ApiError(400, f"{name}: expected a JSON {'object' if kind is dict else 'list'}")
    return data


async def _case(engine, kb, profile: dict, lang: str) -> tuple[dict | None, str | None]:
    try:
        view = await engine.call("case", profile=profile, lang=lang)
    except RemoteError as exc:
        return None, exc.words(lang)
    if view.get("error"):
        return None, view["error"]
    return view, None


def field_messages(problems: list[dict], read: dict[str, str], lang: str) -> dict[str, dict]:
    """What each field says under it: why its value was left out, or how it was read."""
    words = TEXTS[lang]
    out = {fact: {"kind": "note", "text": words["read_as"].format(value=value)} for fact, value in read.items()}
    for problem in problems:
        if problem["fact"]:
            out[problem["fact"]] = {"kind": "error", "text": sentence(problem["detail"], lang) + words["left_out_here"]}
    return out


def sentence(text: str, lang: str) -> str:
    """A message ended as a sentence, ready for the next one to follow."""
    text = text.rstrip()
    if lang == "zh":
        return text if text.endswith(("。", "！", "？")) else text.rstrip("；;，,") + "。"
    return (text if text.endswith((".", "!", "?")) else text.rstrip(";,") + ".") + " "


# --------------------------------------------------------------------------- Evaluate

@router.post("/ui/result")
async def result(request: Request, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
                 engine: EngineProcess = Depends(get_engine)):
    """The result of the Evaluate form as it stands: a fact the engine cannot read is left out,
    and its message shown at its field (``data-fields``), the rest evaluated."""
    profile = profile_from_form(kb, await request.form())
    view, error = await _case(engine, kb, profile, lang)
    messages = field_messages(view["left_out"], view["read_as"], lang) if view else {}
    return render("_result.html", lang=lang, kb=kb, view=view, error=error, profile=profile, messages=messages)


@router.post("/ui/form")
async def form_from_profile(request: Request, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang)):
    """The Evaluate form filled from a profile (a permalink being opened)."""
    form = await request.form()
    try:
        profile = _json_field(form, "profile", {}, dict)
        error = None
    except ApiError as exc:
        profile, error = {}, exc.error
    return render("_form.html", lang=lang, kb=kb, groups=groups(kb, lang, profile), error=error)


@router.post("/ui/import")
async def import_profile(request: Request, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
                         uploads: EngineProcess = Depends(get_upload_process)):
    """The Evaluate form filled from a pasted or uploaded profile (YAML, JSON or Excel).

    The file is read in the upload process (memory capped, a time limit), never here: a
    workbook built to blow up when unpacked costs this worker nothing."""
    form = await request.form()
    upload = form.get("file")
    data = filename = None
    if upload is not None and hasattr(upload, "read"):
        data, filename = await upload.read(), upload.filename
    text = form.get("text")
    try:
        answer = await uploads.call("read_upload", text=text if isinstance(text, str) else None,
                                    filename=filename, data=data or None, lang=lang)
        profile, error = answer["profile"], answer["error"]
    except (WorkerDied, WorkerTimeout, WorkerOutOfMemory):
        profile, error = {}, TEXTS[lang]["import_too_big"]
    if error:
        error = f"{TEXTS[lang]['import_failed']}{error}"
    return render("_form.html", lang=lang, kb=kb, groups=groups(kb, lang, profile), error=error)


# --------------------------------------------------------------------------- Interview

@router.post("/ui/interview")
async def interview(request: Request, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
                    engine: EngineProcess = Depends(get_engine)):
    """One step of the interview: answer, skip or go back, then the next question.

    The state (answers, skipped facts, the questions asked in order) travels in the fragment's
    hidden fields; Back re-asks the last question with its answer kept.
    """
    form = await request.form()
    try:
        profile = _json_field(form, "profile", {}, dict)
        skipped = [f for f in _json_field(form, "skipped", [], list) if f in kb.facts]
        history = [f for f in _json_field(form, "history", [], list) if f in kb.facts]
    except ApiError as exc:
        profile, skipped, history, error = {}, [], [], exc.error
    else:
        error = None
    action, fact = form.get("action", ""), form.get("fact", "")
    ask = None
    if action == "restart":
        profile, skipped, history = {}, [], []
    elif fact in kb.facts and action == "answer":
        given = profile_from_form(kb, form).get(fact)
        if given is None:           # "unknown" chosen: the same as skipping
            profile.pop(fact, None)
            skipped.append(fact)
        else:
            profile[fact] = given
            skipped = [f for f in skipped if f != fact]
        history.append(fact)
    elif fact in kb.facts and action == "skip":
        profile.pop(fact, None)
        skipped.append(fact)
        history.append(fact)
    elif action == "back" and history:
        ask = history.pop()
        skipped = [f for f in skipped if f != ask]
    elif action == "revisit":      # the skipped questions, asked again (the name is optional: not again)
        skipped = [f for f in skipped if kb.facts[f].display_only]
    try:
        step = await engine.call("interview", profile=profile, skipped=skipped, lang=lang, ask=ask)
    except RemoteError as exc:      # an internal error: the page keeps the last step and says so
        raise ApiError(500, exc.words(lang)) from None
    problem = None
    if not step["done"]:
        problem = next((p for p in step["problems"] if p["fact"] == step["fact"]), None)
        if problem:
            problem = dict(problem, sentence=sentence(problem["detail"], lang))
        if problem and history and history[-1] == step["fact"] and action == "answer":
            history = history[:-1]   # the answer could not be read: the same question, with the message
    question = None
    if not step["done"]:
        fact_id = step["fact"]
        item = next(f for g in groups(kb, lang, profile) for f in g.fields if f.id == fact_id)
        question = {"field": item, "citation": kb.label(kb.facts[fact_id].source, lang),
                    "description": item.description, "problem": problem}
    others = [p for p in step["problems"] if not problem or p["fact"] != problem["fact"]]
    return render("_interview.html", lang=lang, kb=kb, step=step, question=question, error=error,
                  profile=profile, skipped=skipped, history=history, others=others,
                  skipped_count=len([f for f in skipped if not kb.facts[f].display_only]),
                  answered=len([f for f in history if f in profile]), W=REGISTER_WORDS[lang])


# --------------------------------------------------------------------------- Why / why not

@router.post("/ui/why")
async def why(request: Request, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
              engine: EngineProcess = Depends(get_engine)):
    form = await request.form()
    ident = str(form.get("id") or "")
    try:
        profile = _json_field(form, "profile", {}, dict)
    except ApiError as exc:
        return render("_why.html", lang=lang, kb=kb, error=exc.error, data=None, profile={}, ident=ident)
    if ident not in kb.conclusions:
        problem = unknown_target(kb, ident)
        return render("_why.html", lang=lang, kb=kb, error=problem.text(lang), data=None, profile=profile, ident=ident)
    try:
        data, error = await engine.call("explain", profile=profile, id=ident, lang=lang), None
    except RemoteError as exc:
        data, error = None, exc.words(lang)
    return render("_why.html", lang=lang, kb=kb, error=error, data=data, profile=profile, ident=ident)


# --------------------------------------------------------------------------- Compare

@router.post("/ui/compare")
async def compare(request: Request, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
                  engine: EngineProcess = Depends(get_engine)):
    from ...errors import PolicyKBError
    form = await request.form()
    error = None
    try:
        cases = [c for c in _json_field(form, "cases", [], list) if isinstance(c, dict)]
    except ApiError as exc:
        cases, error = [], exc.error
    if form.get("text"):
        try:
            added = read_upload(kb, str(form.get("text")), None, None)
            cases.append({"name": added.get("name") or f"{TEXTS[lang]['case']} {len(cases) + 1}", "profile": added})
        except PolicyKBError as exc:
            error = f"{TEXTS[lang]['import_failed']}{exc.text(lang)}"
    cases = [{"name": str(c.get("name") or ""), "profile": c.get("profile") if isinstance(c.get("profile"), dict) else {}}
             for c in cases][:8]
    views = await engine.call("compare", cases=cases, lang=lang) if cases else []
    return render("_compare.html", lang=lang, kb=kb, table=compare_table(kb, views, lang), cases=cases, error=error)


def compare_table(kb: KnowledgeBase, views: list[dict], lang: str) -> dict:
    """Rows of benefits, conclusions and facts, one column per case, each cell marked when it
    differs from the first case's."""
    columns = [{"name": v["name"], "error": v["error"], "view": v["view"], "left_out": v.get("left_out") or []}
               for v in views]
    ok = [c["view"] for c in columns if c["view"]]

    def mark(cells):
        first = cells[0]["key"] if cells else None
        for cell in cells:
            cell["differs"] = cell["key"] != first
        return cells

    benefits = []
    for bid, benefit in kb.benefits.items():
        cells = []
        for c in columns:
            row = next((b for b in (c["view"] or {}).get("benefits", []) if b["id"] == bid), None)
            cells.append({"status": row["status"] if row else None, "amount": row["amount"] if row else "",
                          "open": row["open"] if row else False,
                          "key": (row["status"], row["amount"]) if row else None})
        benefits.append({"id": bid, "label": benefit.label(lang), "cells": mark(cells)})
    held = [c for c, v in kb.conclusions.items() if v.kind == "conclusion" and not v.internal
            and any(c in {x["id"] for x in view["conclusions"]} for view in ok)]
    conclusions = []
    for cid in held:
        cells = [{"holds": bool(c["view"]) and cid in {x["id"] for x in c["view"]["conclusions"]}} for c in columns]
        for cell in cells:
            cell["key"] = cell["holds"]
        conclusions.append({"id": cid, "label": kb.conclusions[cid].label(lang), "cells": mark(cells)})
    named_facts = [f for f in kb.facts if any(f in {x["id"] for x in view["facts"]} for view in ok)]
    facts = []
    for fid in named_facts:
        cells = []
        for c in columns:
            shown = next((x["display"] for x in (c["view"] or {}).get("facts", []) if x["id"] == fid), None)
            cells.append({"display": shown, "key": shown})
        facts.append({"id": fid, "label": kb.facts[fid].label(lang), "cells": mark(cells)})
    return {"columns": columns, "benefits": benefits, "conclusions": conclusions, "facts": facts}


# --------------------------------------------------------------------------- policy text, graph marks

@router.post("/ui/policy")
async def policy(request: Request, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
                 engine: EngineProcess = Depends(get_engine)):
    form = await request.form()
    marks, error = None, None
    try:
        profile = _json_field(form, "profile", {}, dict)
        if profile:
            marks = await engine.call("marks", profile=profile, lang=lang)
    except ApiError as exc:
        error = exc.error
    except RemoteError as exc:
        error = exc.words(lang)
    if marks and marks.get("left_out"):
        sep = "；" if lang == "zh" else "; "
        error = TEXTS[lang]["left_out_title"] + sep.join(p["text"] for p in marks["left_out"])
    return render("_policy.html", lang=lang, kb=kb, policy=policy_view(kb, lang, marks), marked=marks is not None,
                  error=error, enterprise=(marks or {}).get("enterprise"))


def status_word(kb: KnowledgeBase, cid: str, status: str, lang: str) -> str:
    """A status in words: a benefit is granted (给予) or not; a conclusion holds (成立) or not."""
    words = TEXTS[lang]
    if kb.conclusions[cid].kind != "benefit" and status in ("granted", "denied"):
        return words["holds" if status == "granted" else "not_holds"]
    return words[status]


@router.post("/ui/marks")
async def case_marks(request: Request, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
                     engine: EngineProcess = Depends(get_engine)):
    """What a case decided, for the graph page's highlighting (JSON)."""
    form = await request.form()
    try:
        profile = _json_field(form, "profile", {}, dict)
        marks = await engine.call("marks", profile=profile, lang=lang)
        marks["status_text"] = {cid: status_word(kb, cid, status, lang) for cid, status in marks["status"].items()}
        return JSONResponse(marks)
    except ApiError as exc:
        return JSONResponse({"error": exc.error}, status_code=400)
    except RemoteError as exc:
        return JSONResponse({"error": exc.words(lang)}, status_code=400)


# --------------------------------------------------------------------------- print

@router.post("/print")
async def print_report(request: Request, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
                       engine: EngineProcess = Depends(get_engine)):
    """The report of ``policykb report`` for the case, with a Print button. Its own inline style
    is allowed by its hash, nothing else inline."""
    form = await request.form()
    profile = _json_field(form, "profile", {}, dict)
    try:
        made = await engine.call("report", profile=profile, lang=lang)
    except RemoteError as exc:
        raise ApiError(400, exc.words(lang)) from None
    if made["page"] is None:
        sep = "；" if lang == "zh" else "; "
        raise ApiError(400, TEXTS[lang]["cannot_print"] + sep.join(p["text"] for p in made["left_out"]))
    page = made["page"]
    toolbar = (f'<div class="policykb-toolbar"><button type="button" id="print-now">{TEXTS[lang]["report_print"]}</button> '
               f'<a href="/evaluate?lang={lang}">policykb</a></div>')
    page = page.replace("<body>", "<body>\n" + toolbar, 1)
    page = page.replace("</head>", '<link rel="stylesheet" href="/static/print.css">\n'
                                   '<script src="/static/print.js" defer></script>\n</head>', 1)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                      for s in re.findall(r"<style>(.*?)</style>", page, flags=re.S))
    csp = (f"default-src 'self'; script-src 'self'; style-src 'self' {hashes}; img-src 'self' data:; "
           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    return HTMLResponse(page, headers={"content-security-policy": csp})
