"""The analysts' pages (GET): each is a shell in the chosen language; the case itself travels in
the URL fragment (``#kb=…&case=…``), which browsers never send to a server, and ``static/app.js``
posts it to the fragment endpoints (:mod:`.fragments`) to fill the page.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse

from engine.model import KnowledgeBase
from ..deps import get_kb, get_lang, get_settings
from ..forms import groups
from ..middleware import limit_text
from ..policy_text import policy_view
from ..settings import Settings
from ..templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(lang: str = Depends(get_lang)):
    return RedirectResponse(f"/evaluate?lang={lang}", status_code=303)


@router.get("/evaluate")
def evaluate_page(kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang)):
    benefits = [(b, c.label(lang)) for b, c in kb.benefits.items()]
    return render("evaluate.html", page="evaluate", lang=lang, kb=kb, groups=groups(kb, lang), error=None,
                  benefits=benefits)


@router.get("/interview")
def interview_page(kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang)):
    return render("interview.html", page="interview", lang=lang, kb=kb)


@router.get("/why")
def why_page(id: str = "", kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang)):
    benefits = [(b, c.label(lang)) for b, c in kb.benefits.items()]
    conclusions = [(c, v.label(lang)) for c, v in kb.conclusions.items() if v.kind == "conclusion" and not v.internal]
    chosen = id if id in kb.conclusions else next(iter(kb.benefits))
    return render("why.html", page="why", lang=lang, kb=kb, benefits=benefits, conclusions=conclusions, chosen=chosen)


@router.get("/compare")
def compare_page(kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang)):
    return render("compare.html", page="compare", lang=lang, kb=kb)


@router.get("/policy")
def policy_page(kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang)):
    return render("policy.html", page="policy", lang=lang, kb=kb, policy=policy_view(kb, lang, None), marked=False)


@router.get("/graph")
def graph_page(kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang)):
    from ..graph_view import graph_view
    return render("graph.html", page="graph", lang=lang, kb=kb, graph=graph_view(kb, lang))


@router.get("/batch")
def batch_page(kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang),
               settings: Settings = Depends(get_settings)):
    from .batch import WORDS
    return render("batch.html", page="batch", lang=lang, kb=kb, limit=limit_text(settings.upload_limit),
                  register=bool(settings.register), W=WORDS[lang])


@router.get("/template.xlsx")
def template_workbook(kb: KnowledgeBase = Depends(get_kb), lang: str = Depends(get_lang)):
    """The spreadsheet template of ``policykb template`` in the page's language, to fill in and
    upload on the Batch page (made once per knowledge base and language)."""
    from fastapi.responses import Response
    cache = kb.__dict__.setdefault("_web_templates", {})
    if lang not in cache:
        import tempfile
        from pathlib import Path
        from engine.rendering.template import write_template
        with tempfile.TemporaryDirectory() as folder:
            cache[lang] = write_template(kb, Path(folder) / "template.xlsx", lang).read_bytes()
    name = "policykb-模板.xlsx" if lang == "zh" else "policykb-template.xlsx"
    return Response(cache[lang], media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
