"""The JSON API of ``shared/spec/api.md``: ``/healthz``, ``/api/kb``, ``/api/schema/profile``,
``/api/evaluate``, ``/api/why``, ``/api/why-not``.

``/api/evaluate`` answers with the very object ``policykb eval --format json`` prints, computed by
the same function in the engine process; ``why`` and ``why-not`` likewise.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from engine.model import KnowledgeBase
from engine.loading.schemas import profile_schema
from engine.explaining.wording import unknown_target
from ..deps import get_kb, read_model
from ..errors import ApiError, from_remote
from ..models import EvaluateRequest, ExplainRequest
from ..worker import EngineProcess, RemoteError

router = APIRouter()

_ERRORS = {
    400: {"description": "a bad profile or request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}},
    413: {"description": "the body is over the size limit", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SimpleError"}}}},
    422: {"description": "the request does not have the documented fields", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}},
    500: {"description": "an internal error, naming the rule", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SimpleError"}}}},
}
_NOT_FOUND = {404: {"description": "an unknown conclusion or benefit id",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NotFoundError"}}}}}


def _body(name: str) -> dict:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}}


def _json(text: str) -> Response:
    return Response(content=text.encode("utf-8"), media_type="application/json")


async def _run(engine: EngineProcess, kb: KnowledgeBase, op: str, **kwargs) -> Response:
    try:
        return _json(await engine.call(op, **kwargs))
    except RemoteError as exc:
        raise from_remote(exc, kb) from None


@router.get("/healthz", summary="the server is up", tags=["api"])
async def healthz(kb: KnowledgeBase = Depends(get_kb)) -> dict:
    return {"status": "ok", "kb_version": kb.version}


@router.get("/api/kb", summary="the knowledge base: documents, facts, conclusions, benefits", tags=["api"])
async def knowledge_base(kb: KnowledgeBase = Depends(get_kb)) -> dict:
    return describe(kb)


@router.get("/api/schema/profile", summary="the JSON Schema of a profile (as `policykb schema`)", tags=["api"])
async def schema(kb: KnowledgeBase = Depends(get_kb)) -> dict:
    return profile_schema(kb)


@router.post("/api/evaluate", summary="evaluate a profile (as `policykb eval --format json`)", tags=["api"],
             responses=_ERRORS, openapi_extra=_body("EvaluateRequest"))
async def evaluate(request: Request) -> Response:
    # The knowledge base and engine come from the app's state here rather than through Depends:
    # on this hottest path FastAPI's dependency solving cost a fifth of a millisecond a request.
    kb, engine = request.app.state.kb, request.app.state.engine
    body = await read_model(request, EvaluateRequest)
    return await _run(engine, kb, "evaluate", profile=body.profile, as_of=body.as_of)


def _checked_id(kb: KnowledgeBase, ident: str) -> None:
    if ident not in kb.conclusions:
        error = unknown_target(kb, ident)
        raise ApiError(404, error.message, suggestion=error.suggestion)


@router.post("/api/why", summary="why a conclusion or benefit holds (as `policykb why --format json`)",
             tags=["api"], responses={**_ERRORS, **_NOT_FOUND}, openapi_extra=_body("ExplainRequest"))
async def why(request: Request) -> Response:
    return await _explain(request, "why")


@router.post("/api/why-not", summary="why not, and what would change it (as `policykb why-not --format json`)",
             tags=["api"], responses={**_ERRORS, **_NOT_FOUND}, openapi_extra=_body("ExplainRequest"))
async def why_not(request: Request) -> Response:
    return await _explain(request, "why_not")


async def _explain(request: Request, op: str) -> Response:
    """``why`` or ``why_not`` of the request's profile and id, as the command line prints it."""
    kb, engine = request.app.state.kb, request.app.state.engine
    body = await read_model(request, ExplainRequest)
    _checked_id(kb, body.id)
    return await _run(engine, kb, op, profile=body.profile, id=body.id, as_of=body.as_of, lang=body.lang)


def describe(kb: KnowledgeBase) -> dict:
    """The knowledge base for programs: its documents, facts, conclusions and benefits."""
    def iso(day):
        return day.isoformat() if day else None

    return {
        "kb_version": kb.version,
        "documents": [{"id": d.id, "title": d.title, "title_en": d.title_en, "short": dict(d.short),
                       "effective_date": iso(d.effective_date), "expiry_date": iso(d.expiry_date)}
                      for d in kb.documents.values()],
        "facts": [{"id": f.id, "type": f.type, "unit": f.unit, "zh": f.zh, "en": f.en,
                   "article": f.source, "citation": {"zh": kb.label(f.source, "zh"), "en": kb.label(f.source, "en")},
                   "values": ([{"id": v, "zh": labels["zh"], "en": labels["en"]} for v, labels in f.values.items()]
                              if f.type in ("enum", "list") else None),
                   "fields": dict(f.fields) or None, "administrative": f.administrative,
                   "display_only": f.display_only, "description": f.description}
                  for f in kb.facts.values()],
        "conclusions": [_conclusion(kb, c) for c in kb.conclusions.values() if c.kind == "conclusion" and not c.internal],
        "benefits": [_conclusion(kb, c) for c in kb.benefits.values()],
    }


def _conclusion(kb: KnowledgeBase, c) -> dict:
    return {"id": c.id, "zh": c.zh, "en": c.en, "article": c.article, "document": c.document,
            "citation": {"zh": kb.label(c.article, "zh"), "en": kb.label(c.article, "en")}}
