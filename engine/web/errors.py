"""Errors as the HTTP contract states them (``shared/spec/api.md``).

Under ``/api/`` (and ``/healthz``, ``/openapi.json``) every error is JSON: 400/422
``{"error", "field", "suggestion", "allowed"}``, 404 ``{"error", "suggestion"}``, 413 and 500
``{"error"}`` — never a stack trace or an HTML page. The analysts' pages get a short HTML page
saying the same thing.
"""

from __future__ import annotations

import errno
import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from ..errors import nearest
from engine.model import KnowledgeBase
from .worker import RemoteError, WorkerDied, WorkerTimeout

log = logging.getLogger("policykb.serve")


class ApiError(Exception):
    """An error with its status and the documented body."""

    def __init__(self, status: int, error: str, *, field: str | None = None, suggestion: str | None = None,
                 allowed: list | None = None, role: str | None = None, needed: str | None = None):
        super().__init__(error)
        self.status, self.error = status, error
        self.field, self.suggestion, self.allowed = field, suggestion, allowed
        self.role, self.needed = role, needed

    def body(self) -> dict:
        if self.status in (400, 422):
            return {"error": self.error, "field": self.field, "suggestion": self.suggestion, "allowed": self.allowed}
        if self.status == 404:
            return {"error": self.error, "suggestion": self.suggestion}
        if self.status == 403 and (self.role or self.needed):   # docs/api.md, "401 and 403"
            return {"error": self.error, "role": self.role, "needed": self.needed}
        return {"error": self.error}


def from_remote(exc: RemoteError, kb: KnowledgeBase) -> ApiError:
    """A knowledge-base error raised while evaluating, as the API answers it."""
    if exc.kind == "EvaluationError":
        return ApiError(500, f"internal error: {exc.text}")
    message = exc.text
    if message.startswith("--as-of: "):
        message = "as_of: " + message[len("--as-of: "):]
    return ApiError(400, message, field=_field_of(exc.fields.get("message") or "", kb),
                    suggestion=exc.fields.get("suggestion"), allowed=exc.fields.get("allowed"))


def _field_of(message: str, kb: KnowledgeBase) -> str | None:
    """The fact an engine message is about: ``unknown fact 'x'`` or ``<fact>: …``."""
    found = re.match(r"unknown fact '(.*)'", message)
    if found:
        return found.group(1)
    if message.startswith("--as-of:"):
        return "as_of"
    head = message.split(":", 1)[0]
    return head if head in kb.facts else None


def from_worker_failure(exc: Exception) -> ApiError:
    return ApiError(500, str(exc))


def validation_error(errors: list[dict], fields: list[str]) -> ApiError:
    """The first problem pydantic found in a request body, as one sentence (422)."""
    # An unknown key first: a misspelt "profile" is better named than reported missing.
    ordered = sorted(errors, key=lambda e: e.get("type") != "extra_forbidden")
    first = ordered[0] if ordered else {"loc": (), "msg": "invalid request", "type": ""}
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    where = ".".join(loc)
    kind = first.get("type", "")
    if kind == "extra_forbidden":
        return ApiError(422, f"unknown field '{where}' in the request; it takes {', '.join(fields)}",
                        field=where, suggestion=nearest(where, fields), allowed=fields)
    if kind == "missing":
        return ApiError(422, f"'{where}' is required", field=where, allowed=fields)
    if kind == "model_type" or not where:
        return ApiError(422, "the body must be a JSON object such as {\"profile\": {\"industry\": \"ict\"}}",
                        allowed=fields)
    return ApiError(422, f"{where}: {first.get('msg', 'invalid value')}", field=loc[0] if loc else None)


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in ("/api", "/healthz", "/openapi.json")


def _page(status: int, message: str) -> HTMLResponse:
    import html
    text = html.escape(message)
    return HTMLResponse(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{status}</title>'
        f'<link rel="stylesheet" href="/static/app.css"></head><body><main class="error-page">'
        f'<h1>{status}</h1><p>{text}</p><p><a href="/evaluate">policykb</a></p></main></body></html>',
        status_code=status)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the documented body."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        if _is_api(request):
            return JSONResponse(exc.body(), status_code=exc.status)
        return _page(exc.status, exc.error)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        words = {404: "no such page or endpoint", 405: "method not allowed here"}
        message = words.get(exc.status_code, str(exc.detail))
        if exc.status_code == 404 and _is_api(request):
            return JSONResponse({"error": f"{message}: {request.url.path}", "suggestion": None}, status_code=404)
        if _is_api(request):
            return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)
        return _page(exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        error = validation_error(list(exc.errors()), [])
        if _is_api(request):
            return JSONResponse(error.body(), status_code=422)
        return _page(400, error.error)

    @app.exception_handler(WorkerDied)
    @app.exception_handler(WorkerTimeout)
    async def _worker(request: Request, exc: Exception):
        log.error("policykb serve: %s", exc)
        if _is_api(request):
            return JSONResponse({"error": str(exc)}, status_code=500)
        return _page(500, str(exc))

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect):
        # The client went away while sending its request: nobody reads the answer; nothing to log.
        return Response(status_code=400)

    @app.exception_handler(OSError)
    async def _storage(request: Request, exc: OSError):
        status, message = storage_error(exc)
        log.error("policykb serve: %s (%s)", message, request.url.path)
        if _is_api(request):
            return JSONResponse({"error": message}, status_code=status)
        return _page(status, message)

    @app.exception_handler(UnicodeError)
    async def _not_text(request: Request, exc: UnicodeError):
        # What reached the server as text but is not (a lone surrogate past the checks at entry).
        message = "the request holds text that is not valid Unicode (a lone surrogate); send UTF-8 text"
        if _is_api(request):
            return JSONResponse(ApiError(400, message).body(), status_code=400)
        return _page(400, message)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):
        log.exception("policykb serve: internal error on %s", request.url.path)
        message = f"internal error: {exc}" if str(exc) else "internal error"
        if _is_api(request):
            return JSONResponse({"error": message}, status_code=500)
        return _page(500, message)


#: Full (507) and cannot be written (503): the errors of a data folder, by errno.
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_UNWRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}


def storage_error(exc: OSError) -> tuple[int, str]:
    """The status and message of a file error met while serving a request (docs/api.md)."""
    if exc.errno in _FULL:
        return 507, f"the server's data folder is full ({exc.strerror}); nothing was saved — try again later"
    if exc.errno in _UNWRITABLE:
        return 503, f"the server cannot write its data folder ({exc.strerror}); nothing was saved"
    return 500, f"internal error: {exc.strerror or exc}"
