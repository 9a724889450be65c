"""The register's replay page (issue 22): ``GET /register/replay`` shows what the knowledge base
this server serves decides for saved cases, against their latest recorded decision —
:func:`engine.register.replay.replay` with the served knowledge base as ``new_kb`` — and
``GET /register/replay.xlsx`` the same replay as a workbook (:meth:`ReplayReport.write_xlsx`).

``scope=other`` (the default, the register page's notice links here) replays the cases whose
latest decision was made under another knowledge base; ``scope=all`` every case with a recorded
decision. A page replays at most :data:`MOST` cases (``limit`` lowers it), the lowest numbers
first, and says so when there are more: ``policykb cases replay`` replays a whole register.

A replay reads the whole chain and evaluates each case, so it runs in a thread
(:func:`.register._call`: ``run_in_threadpool``, the register's errors said), never on the event loop, one at a time in each worker process (:data:`_ONE_AT_A_TIME`: two analysts asking at
once wait for each other instead of sharing the cores). The report's page
(:meth:`ReplayReport.html`, every text escaped by it) is shown inside the workbench's layout: the
part between its ``<body>`` tags, less its own title; its inline style is left out (the
Content-Security-Policy forbids it) for ``app.css``'s.
"""

from __future__ import annotations

import re
import tempfile
import threading
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup

from engine.model import KnowledgeBase
from ..deps import get_kb, get_lang
from ..templating import render
from .register import _call
from .register_words import WORDS

router = APIRouter(include_in_schema=False)

#: The most cases one page (or one download) replays.
MOST = 200
SCOPES = ("other", "all")
_ONE_AT_A_TIME = threading.Lock()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _register_of(request: Request):
    return getattr(request.app.state, "register", None)


def _limit(raw: str) -> int:
    return min(MOST, max(1, int(raw))) if raw.isdigit() and len(raw) < 6 else MOST


async def _chosen(register, kb: KnowledgeBase, scope: str) -> dict:
    """The cases in each scope (numbers, ascending): those not erased whose latest decision was
    made under another knowledge base, and every one with a recorded decision."""
    listed = {c.id for c in await _call(register.cases)}
    latest = {}
    for record in await _call(register.records):   # in chain order: the last one per case stays
        latest[record.case_id] = record
    recorded = sorted(cid for cid in latest if cid in listed)
    other = [cid for cid in recorded if latest[cid].kb_hash != kb.version]
    return {"other": other, "all": recorded, "chosen": other if scope == "other" else recorded}


def _replay(register, kb: KnowledgeBase, cases: list[int]):
    from engine.register.replay import replay
    with _ONE_AT_A_TIME:
        return replay(register, kb, cases=cases)


def _report_body(page: str) -> Markup:
    """What is between the report page's ``<body>`` tags, less its ``<h1>`` (the page has its
    own). The report escaped every text it holds."""
    body = page.split("<body>", 1)[-1].rsplit("</body>", 1)[0]
    return Markup(re.sub(r"<h1>.*?</h1>", "", body, count=1, flags=re.S))


async def _scope(request: Request, kb: KnowledgeBase, scope: str, limit: str):
    register = _register_of(request)
    if register is None:
        return None, None
    scope = scope if scope in SCOPES else "other"
    found = await _chosen(register, kb, scope)
    return register, dict(found, scope=scope, limit=_limit(limit))


@router.get("/register/replay")
async def replay_page(request: Request, scope: str = "other", limit: str = "",
                      kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang)):
    register, found = await _scope(request, kb, scope, limit)
    if register is None:
        return render("register_none.html", page="register", lang=lang, kb=kb, status_code=404)
    replayed = found["chosen"][:found["limit"]]
    report = await _call(_replay, register, kb, replayed) if replayed else None
    return render("register_replay.html", page="register", lang=lang, kb=kb, W=WORDS[lang], found=found,
                  scope=found["scope"], limit=found["limit"], replayed=replayed, report=report,
                  body=_report_body(report.html(lang)) if report is not None else None,
                  title=WORDS[lang]["title_replay"], most=MOST)


@router.get("/register/replay.xlsx")
async def replay_workbook(request: Request, scope: str = "other", limit: str = "",
                          kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang)):
    """The same replay as the page's, as a workbook in the page's language."""
    register, found = await _scope(request, kb, scope, limit)
    if register is None:
        return render("register_none.html", page="register", lang=lang, kb=kb, status_code=404)
    replayed = found["chosen"][:found["limit"]]

    def made() -> bytes:
        report = _replay(register, kb, replayed)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "replay.xlsx"
            report.write_xlsx(path, lang)
            return path.read_bytes()

    data = await _call(made)
    name = "policykb-重放.xlsx" if lang == "zh" else "policykb-replay.xlsx"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
