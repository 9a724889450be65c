"""The case register over HTTP (issue 22; docs/api.md, "The register"), when ``policykb serve
--register PATH|URL`` names one.

``GET /api/cases`` (``search``, ``benefit``, ``status``), ``POST /api/cases`` (a new case),
``GET /api/cases/{id}`` (the case, its edits and its decision records), ``PUT /api/cases/{id}``
(new facts, with the ``version`` read: 409 when someone changed it since), ``POST
/api/cases/{id}/records`` (evaluate now — in the engine process — and record the decision),
``GET /api/register/verify`` (the chain recomputed). The database is reached in a thread, never
on the event loop. Errors are the API's documented bodies; 503 when the server has no register.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from ..access import actor
from ..deps import read_model
from ..errors import ApiError, from_remote
from ..worker import RemoteError

router = APIRouter(tags=["register"])


class NewCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profile: dict[str, Any]
    name: str | None = None
    notes: str = ""
    by: str | None = None


class CaseEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profile: dict[str, Any]
    version: int
    note: str = ""
    by: str | None = None


class RecordRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = ""
    as_of: str | None = None
    by: str | None = None


def _register(request: Request):
    register = getattr(request.app.state, "register", None)
    if register is None:
        raise ApiError(503, "this server keeps no register: start it with policykb serve --register PATH")
    return register


async def _call(function, *args, **kwargs):
    """A register call in a thread, its errors as the API's bodies."""
    from engine.register import CaseNotFound, ConflictError, RegisterError
    try:
        return await run_in_threadpool(function, *args, **kwargs)
    except CaseNotFound as exc:
        raise ApiError(404, exc.message, suggestion=exc.suggestion) from None
    except ConflictError as exc:
        raise ApiError(409, exc.message) from None
    except RegisterError as exc:
        raise ApiError(400, exc.message) from None


def _created(data: dict) -> JSONResponse:
    return JSONResponse(data, status_code=201)


@router.get("/api/cases", summary="the saved cases (search by name, filter by a benefit's status)")
async def list_cases(request: Request, search: str | None = None, benefit: str | None = None,
                     status: str | None = None) -> list[dict]:
    register = _register(request)
    found = await _call(register.cases, search=search, benefit=benefit, status=status)
    return [c.to_dict() for c in found]


@router.post("/api/cases", summary="save a profile as a new case", status_code=201)
async def add_case(request: Request) -> JSONResponse:
    register, kb = _register(request), request.app.state.kb
    body = await read_model(request, NewCase)
    await _checked(request, body.profile)
    case = await _call(register.add_case, body.name or body.profile.get("name"), body.profile, notes=body.notes,
                       by=actor(request, body.by))
    return _created(case.to_dict())


@router.get("/api/cases/{case_id}", summary="a case: its facts, its edits and its decision records")
async def show_case(request: Request, case_id: int) -> dict:
    register = _register(request)
    case = await _call(register.case, case_id)
    edits, records = await _call(register.edits, case_id), await _call(register.records, case_id)
    return {"case": case.to_dict(), "edits": [e.to_dict() for e in edits], "records": [r.to_dict() for r in records]}


@router.put("/api/cases/{case_id}", summary="change a case's facts (409 when someone changed it since)")
async def edit_case(request: Request, case_id: int) -> dict:
    register = _register(request)
    body = await read_model(request, CaseEdit)
    await _checked(request, body.profile)
    case = await _call(register.edit_case, case_id, body.profile, body.version, by=actor(request, body.by),
                       note=body.note)
    return case.to_dict()


@router.post("/api/cases/{case_id}/records", summary="evaluate a case now and record the decision", status_code=201)
async def record_decision(request: Request, case_id: int) -> JSONResponse:
    body = await read_model(request, RecordRequest)
    record = await record_case(request, case_id, note=body.note, as_of=body.as_of, by=body.by)
    return _created(record.to_dict())


async def record_case(request: Request, case_id: int, note: str = "", as_of: str | None = None,
                      by: str | None = None):
    """Evaluate the case's current profile now, in the engine process, and append the decision
    to the register's chain (in a thread); the :class:`~engine.register.Record` written. Shared
    by the API and the register's pages; its errors are :class:`ApiError`."""
    import json
    register, kb, engine = _register(request), request.app.state.kb, request.app.state.engine
    case = await _call(register.case, case_id)
    if case.erased:
        raise ApiError(400, f"case {case_id} was erased: there is nothing to evaluate")
    try:
        result = json.loads(await engine.call("evaluate", profile=case.profile, as_of=as_of))
    except RemoteError as exc:
        raise from_remote(exc, kb) from None
    return await _call(register.record, case_id, result, kb_hash=kb.version, kb_version=", ".join(kb.documents),
                       as_of=as_of or result.get("as_of"), by=actor(request, by), note=note, profile=case.profile)


@router.post("/api/records/{seq}/review", summary="mark a decision record reviewed (a reviewer)")
async def review_record(request: Request, seq: int) -> dict:
    register = _register(request)
    record = await _call(register.mark_reviewed, seq, actor(request, None))
    return record.to_dict()


@router.get("/api/register/verify", summary="recompute the chain of decision records")
async def verify(request: Request) -> dict:
    register = _register(request)
    result = await _call(register.verify)
    return result.to_dict() if hasattr(result, "to_dict") else dict(vars(result))


async def _checked(request: Request, profile: dict) -> None:
    """A profile the engine cannot read is refused (400) before it is saved."""
    kb, engine = request.app.state.kb, request.app.state.engine
    try:
        await engine.call("parse_only", profile=profile)
    except RemoteError as exc:
        raise from_remote(exc, kb) from None
