"""The case register's pages (issue 22, item 5), when ``policykb serve --register PATH|URL``
names one: ``GET /register`` (the cases: search by name, filter by a benefit's status in the
latest decision — a plain GET form), ``GET /register/{id}`` (a case: its facts, edits and
decision records, a form to record a decision, and with ``?a=SEQ&b=SEQ`` what differs between
two records), ``POST /ui/register/{id}/record`` (evaluate and record, then back to the case
page) and ``POST /ui/register/save`` (the Evaluate page's "Save as a case", then the new
case's page). Without a register the pages say how to start one.

The database is reached in a thread (:func:`.register._call`), never on the event loop; a
decision is recorded by the same path as ``POST /api/cases/{id}/records``
(:func:`.register.record_case`). Every text a user typed is shown escaped (Jinja2 autoescape).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from engine.model import KnowledgeBase
from ..access import actor
from ..deps import get_engine, get_kb, get_lang, parse_json
from ..errors import ApiError
from ..templating import REGISTER_ON, TEXTS, render
from ..worker import EngineProcess, RemoteError
from .register import _call, record_case
from .register_words import WORDS, edit_note

router = APIRouter(include_in_schema=False)

STATUSES = ("granted", "undetermined", "superseded", "denied")


class RegisterFlag:
    """A plain ASGI middleware: tells the templates (:data:`REGISTER_ON`) whether this app keeps
    a register, for the nav's link and the Evaluate page's "Save as a case"."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            app = scope.get("app")
            REGISTER_ON.set(getattr(getattr(app, "state", None), "register", None) is not None)
        await self.app(scope, receive, send)


def _register_of(request: Request):
    return getattr(request.app.state, "register", None)


# --------------------------------------------------------------------------- reading a result

def statuses(kb: KnowledgeBase, result: dict | None) -> dict[str, str]:
    """Every benefit's and conclusion's status in a stored result, a benefit Article 14 hands to
    another policy as ``superseded``."""
    if not isinstance(result, dict):
        return {}
    found = {k: v for k, v in (result.get("status") or {}).items() if isinstance(v, str)}
    for entry in result.get("superseded") or []:
        key = entry.get("id") if isinstance(entry, dict) else entry
        if isinstance(key, str):
            found[key] = "superseded"
    return found


def amounts(kb: KnowledgeBase, result: dict | None, lang: str) -> dict[str, str]:
    """Each granted benefit's amount in words (a record made under another knowledge base, whose
    rule this one lacks, shows its amount as stored)."""
    from engine.rendering.report import amount_text
    out = {}
    for entry in (result or {}).get("benefits") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        try:
            out[entry["id"]] = amount_text(kb, entry, lang)
        except Exception:   # noqa: BLE001 — a foreign rule or amount: show what is stored
            out[entry["id"]] = json.dumps(entry.get("amount"), ensure_ascii=False) if entry.get("amount") else ""
    return out


def label_of(kb: KnowledgeBase, cid: str, lang: str) -> str:
    item = kb.conclusions.get(cid)
    return item.label(lang) if item is not None else cid


def short(kb: KnowledgeBase, result: dict | None, lang: str) -> dict:
    """A decision in short: how many benefits have each status, and the granted ones' labels."""
    found = statuses(kb, result)
    counts = {s: 0 for s in STATUSES}
    granted = []
    for bid in kb.benefits:
        status = found.get(bid)
        if status in counts:
            counts[status] += 1
        if status == "granted":
            granted.append(label_of(kb, bid, lang))
    return {"counts": counts, "granted": granted}


def benefit_rows(kb: KnowledgeBase, result: dict | None, lang: str) -> list[dict]:
    found, money = statuses(kb, result), amounts(kb, result, lang)
    return [{"id": bid, "label": label_of(kb, bid, lang), "status": found.get(bid), "amount": money.get(bid, "")}
            for bid in kb.benefits if bid in found]


def differences(kb: KnowledgeBase, a: dict | None, b: dict | None, lang: str) -> list[dict]:
    """The benefits and conclusions whose status or amount differ between two stored results,
    benefits first, in the knowledge base's order (then any id only one result knows)."""
    sa, sb = statuses(kb, a), statuses(kb, b)
    ma, mb = amounts(kb, a, lang), amounts(kb, b, lang)
    order = list(kb.benefits) + [c for c, v in kb.conclusions.items() if v.kind != "benefit" and not v.internal]
    order += sorted((set(sa) | set(sb)) - set(kb.conclusions))
    rows = []
    for cid in order:
        if (sa.get(cid), ma.get(cid, "")) == (sb.get(cid), mb.get(cid, "")):
            continue
        item = kb.conclusions.get(cid)
        rows.append({"id": cid, "label": label_of(kb, cid, lang),
                     "benefit": item is None or item.kind == "benefit",
                     "a": {"status": sa.get(cid), "amount": ma.get(cid, "")},
                     "b": {"status": sb.get(cid), "amount": mb.get(cid, "")}})
    return rows


def fact_rows(kb: KnowledgeBase, profile: dict | None, lang: str) -> list[dict]:
    """The case's facts: label in the page's language, id, the value as a person reads it (as
    stored when the knowledge base cannot read it)."""
    from engine.explaining.wording import display
    from engine.loading.profile import parse_profile
    rows = []
    for fid, raw in (profile or {}).items():
        try:
            value = display(kb, fid, parse_profile({fid: raw}, kb).get(fid, raw), lang)
        except Exception:   # noqa: BLE001 — a value this knowledge base cannot read: as stored
            value = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
        fact = kb.facts.get(fid)
        rows.append({"id": fid, "label": fact.label(lang) if fact is not None else fid, "value": value})
    order = {fid: i for i, fid in enumerate(kb.facts)}
    return sorted(rows, key=lambda r: order.get(r["id"], len(order)))


def when(moment: dt.datetime | None) -> str:
    """A register time (UTC) to the minute."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M") if moment else ""


def evaluate_link(kb: KnowledgeBase, profile: dict | None, lang: str, page: str = "evaluate") -> str:
    """The Evaluate page (or ``page``: the interview) with the case in its fragment
    (``#kb=…&case=…``, never sent to a server)."""
    encoded = base64.urlsafe_b64encode(json.dumps(profile or {}, ensure_ascii=False).encode()).decode().rstrip("=")
    return f"/{page}?lang={lang}#" + urlencode({"kb": kb.version, "case": encoded})


def other_kb(kb: KnowledgeBase, cases: list, records: list) -> dict | None:
    """The decision records (of cases not erased) made under another knowledge base than the
    one served: how many, of how many cases, for how many cases the latest decision, and under
    which versions (the most used first); None when every record was made under this one."""
    listed = {c.id for c in cases}
    latest: dict[int, Any] = {}
    for record in records:
        latest[record.case_id] = record
    other = [r for r in records if r.case_id in listed and r.kb_hash != kb.version]
    if not other:
        return None
    versions: dict[str, int] = {}
    for record in other:
        versions[record.kb_hash] = versions.get(record.kb_hash, 0) + 1
    return {"records": len(other), "cases": len({r.case_id for r in other}),
            "latest": sum(1 for cid, r in latest.items() if cid in listed and r.kb_hash != kb.version),
            "versions": sorted(versions.items(), key=lambda kv: (-kv[1], kv[0]))}


# --------------------------------------------------------------------------- the pages

@router.get("/register")
async def register_page(request: Request, search: str = "", benefit: str = "", status: str = "",
                        kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang)):
    register = _register_of(request)
    if register is None:
        return render("register_none.html", page="register", lang=lang, kb=kb)
    benefit = benefit if benefit in kb.benefits else ""
    status = status if status in STATUSES else ""
    search = search.strip()[:200]
    every = await _call(register.cases)
    total = len(every)
    found = await _call(register.cases, search=search or None, benefit=benefit or None, status=status or None)
    records = await _call(register.records)
    latest: dict[int, Any] = {}
    for record in records:   # in chain order: the last one per case stays
        latest[record.case_id] = record
    rows = [{"case": c, "changed": when(c.updated_at),
             "latest": short(kb, latest[c.id].result, lang) if c.id in latest else None,
             "latest_at": when(latest[c.id].recorded_at) if c.id in latest else ""} for c in found]
    return render("register.html", page="register", lang=lang, kb=kb, rows=rows, total=total, search=search,
                  benefit=benefit, status=status, statuses=STATUSES, W=WORDS[lang], other=other_kb(kb, every, records),
                  benefits=[(b, c.label(lang)) for b, c in kb.benefits.items()])


@router.get("/register/{case_id}")
async def case_page(request: Request, case_id: str, a: str = "", b: str = "", recorded: str = "", saved: str = "",
                    kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang)):
    return await _case_page(request, case_id, kb, lang, a=a, b=b, recorded=recorded, saved=saved == "1")


async def _case_page(request: Request, case_id: str, kb: KnowledgeBase, lang: str, *, a: str = "", b: str = "",
                     recorded: str = "", saved: bool = False, error: str | None = None, note: str = "", by: str = "", status_code: int = 200):
    from engine.register import CaseNotFound
    register = _register_of(request)
    if register is None:
        return render("register_none.html", page="register", lang=lang, kb=kb, status_code=404)
    words = TEXTS[lang]
    if not case_id.isdigit() or len(case_id) > 18:
        return render("register_missing.html", page="register", lang=lang, kb=kb, case_id=case_id, status_code=404)
    try:
        case = await _call(register.case, int(case_id))
    except (ApiError, CaseNotFound):
        return render("register_missing.html", page="register", lang=lang, kb=kb, case_id=case_id, status_code=404)
    edits, records = await _call(register.edits, case.id), await _call(register.records, case.id)
    shown = [{"record": r, "at": when(r.recorded_at), "rows": benefit_rows(kb, r.result, lang),
              "short": short(kb, r.result, lang)} for r in reversed(records)]
    by_seq = {r.seq: r for r in records}
    diff = None
    if a or b:
        diff = {"a": a, "b": b, "rows": [], "error": None}
        bad = next((s for s in (a, b) if not s.isdigit() or int(s) not in by_seq), None)
        if bad is not None:
            diff["error"] = words["reg_diff_bad"].format(seq=bad)
        else:
            diff["rows"] = differences(kb, by_seq[int(a)].result, by_seq[int(b)].result, lang)
    seqs = [r.seq for r in records]
    pick_a = a if a.isdigit() and int(a) in by_seq else (str(seqs[-2]) if len(seqs) > 1 else "")
    pick_b = b if b.isdigit() and int(b) in by_seq else (str(seqs[-1]) if seqs else "")
    return render("register_case.html", page="register", lang=lang, kb=kb, case=case,
                  created=when(case.created_at), updated=when(case.updated_at),
                  facts=fact_rows(kb, case.profile, lang),
                  edits=[{"edit": e, "at": when(e.edited_at), "note": edit_note(e.note, e.version, lang)} for e in edits],
                  records=shown, seqs=seqs, statuses=STATUSES, pick_a=pick_a, pick_b=pick_b, diff=diff,
                  recorded=recorded if recorded.isdigit() and int(recorded) in by_seq else "",
                  saved=saved, error=error, note=note, by=by, evaluate=evaluate_link(kb, case.profile, lang) if case.profile else "",
                  status_code=status_code)


@router.post("/ui/register/{case_id}/record")
async def record_page(request: Request, case_id: str, kb: KnowledgeBase = Depends(get_kb),
                      lang: str = Depends(get_lang)):
    """Evaluate the case now and record the decision (as ``POST /api/cases/{id}/records``), then
    show the case page (303, so a reload does not record again)."""
    form = await request.form()
    note, by = str(form.get("note") or "")[:2000], str(form.get("by") or "")[:200].strip()
    if _register_of(request) is None or not case_id.isdigit() or len(case_id) > 18:
        return await _case_page(request, case_id, kb, lang)
    words = TEXTS[lang]
    try:
        record = await record_case(request, int(case_id), note=note, by=by or None)
    except ApiError as exc:
        if exc.status == 404:
            return await _case_page(request, case_id, kb, lang)
        return await _case_page(request, case_id, kb, lang, error=words["reg_record_failed"] + exc.error,
                                note=note, by=by, status_code=exc.status if exc.status < 500 else 500)
    return RedirectResponse(f"/register/{record.case_id}?lang={lang}&recorded={record.seq}#record-{record.seq}",
                            status_code=303)


@router.post("/ui/register/records/{seq}/review")
async def review_page(request: Request, seq: int, lang: str = Depends(get_lang)):
    """A reviewer's "Mark reviewed" on a case page: the mark, then the case page again (303)."""
    register = _register_of(request)
    if register is None:
        raise ApiError(503, TEXTS[lang]["reg_none"])
    record = await _call(register.mark_reviewed, seq, actor(request, None))
    return RedirectResponse(f"/register/{record.case_id}?lang={lang}#record-{record.seq}", status_code=303)


@router.post("/ui/register/save")
async def save_case(request: Request, kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
                    engine: EngineProcess = Depends(get_engine)):
    """The Evaluate and Interview pages' "Save as a case": the profile of the result shown, or
    the facts the interview has been answered so far (a hidden field of JSON), saved with a name,
    answered with the new case's page (303; it says it was saved). ``from=interview`` makes the
    way back, when it cannot be saved, the interview.

    A plain form post that leaves the page, not a fragment swapped into the result: clicking the
    button blurs the field last typed in, whose change re-renders the result — and would wipe
    an answer swapped into it. A profile that cannot be saved is said on a page of its own,
    with a link back to the Evaluate page holding the same case."""
    words = TEXTS[lang]
    form = await request.form()
    name = str(form.get("name") or "").strip()[:500]
    origin = "interview" if form.get("from") == "interview" else "evaluate"
    profile: Any = {}
    try:
        profile = parse_json(str(form.get("profile") or "{}").encode("utf-8"))
        if not isinstance(profile, dict):
            profile = {}
            raise ApiError(400, "profile: expected a JSON object")
        if _register_of(request) is None:
            raise ApiError(503, words["reg_none"])
        await engine.call("parse_only", profile=profile)
        fallback = profile.get("name")
        case = await _call(_register_of(request).add_case, name or (str(fallback) if fallback else None), profile,
                           by=actor(request, None))
    except (RemoteError, ApiError) as exc:
        said = exc.words(lang) if isinstance(exc, RemoteError) else exc.error
        status = 400 if isinstance(exc, RemoteError) else exc.status
        return render("register_save_failed.html", page="register", lang=lang, kb=kb, status_code=status,
                      error=words["reg_save_failed"] + said, W=WORDS[lang], origin=origin,
                      back=evaluate_link(kb, profile if isinstance(profile, dict) else {}, lang, origin))
    return RedirectResponse(f"/register/{case.id}?lang={lang}&saved=1", status_code=303)
