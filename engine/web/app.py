"""The FastAPI application of ``policykb serve``.

:func:`create_app` builds one app: the knowledge base (loaded once, fixed for the server's life),
this worker's engine process (:mod:`engine.web.worker`), the routers, the error handlers, the
body limits and the Content-Security-Policy. uvicorn calls it once in every worker process
(``factory=True``), with the settings ``policykb serve`` put in the environment.

No CDN: the scripts and styles are in ``static/`` (htmx 2 vendored as one file), and the
interactive API docs page (Swagger UI, which loads from a CDN) is left out; ``/openapi.json``
describes every endpoint, with the profile schema in it.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from engine.inferring.evaluation import knowledge_base
from engine.loading.schemas import profile_schema
from . import errors
from .access import Authentication, check_access
from .middleware import BodyLimit, RequestGuard, SecurityHeaders
from .models import ErrorBody, EvaluateRequest, ExplainRequest
from .settings import UPLOAD_MEMORY, UPLOAD_SECONDS, Settings
from .worker import EngineProcess

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app for one worker process (``settings`` default: from the environment)."""
    settings = settings or Settings.from_environ()
    kb = knowledge_base(settings.kb)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        watch_master()
        engine = EngineProcess(settings.kb, settings.call_timeout, settings.test_faults)
        engine.start()
        # Uploads are read in a process of their own, started on first use, memory capped.
        uploads = EngineProcess(settings.kb, UPLOAD_SECONDS, memory=UPLOAD_MEMORY, warm=False,
                                name="policykb-uploads")
        app.state.engine, app.state.uploads = engine, uploads
        app.state.register = app.state.accounts = None
        if settings.register:
            from engine.register import open_register
            app.state.register = open_register(settings.register)
            if settings.accounts:
                from engine.accounts import Accounts
                app.state.accounts = Accounts(app.state.register)
        try:
            yield
        finally:
            engine.stop()
            uploads.stop()
            if app.state.register is not None:
                app.state.register.close()

    if settings.accounts and not settings.register:
        raise ValueError("accounts are kept in a register: give Settings.register")
    app = FastAPI(title="policykb", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  dependencies=[Depends(check_access)],   # every route: its role, and CSRF (engine.web.access)
                  description="西行规发〔2020〕1号 and the documents around it, as a knowledge base: evaluate an "
                              "enterprise profile, explain why and why not. See shared/spec/api.md.")
    app.state.kb = kb
    app.state.settings = settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    from .routers import api, batch, fragments, login, pages, register, register_pages, register_replay, users
    app.include_router(login.router)
    app.include_router(users.router)
    app.include_router(api.router)
    app.include_router(register.router)
    app.include_router(register_replay.router)   # before /register/{id}
    app.include_router(register_pages.router)
    app.include_router(pages.router)
    app.include_router(fragments.router)
    app.include_router(batch.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(app)
    app.add_middleware(Authentication)
    app.add_middleware(BodyLimit, limit=settings.body_limit, upload_limit=settings.upload_limit)
    app.add_middleware(RequestGuard, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(register_pages.RegisterFlag)   # the templates' has_register()
    app.openapi = lambda: _openapi(app, kb)
    return app


def _openapi(app: FastAPI, kb) -> dict:
    """OpenAPI 3 with the request bodies and the profile schema in it (bodies are read by the
    handlers themselves, to answer malformed JSON with the documented error body)."""
    if app.openapi_schema:
        return app.openapi_schema
    # The pages and fragments are left out of the schema (include_in_schema=False).
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    profile = {k: v for k, v in profile_schema(kb).items() if k not in ("$schema", "$id")}
    components["Profile"] = profile
    for model in (EvaluateRequest, ExplainRequest):
        body = model.model_json_schema(ref_template="#/components/schemas/{model}")
        body["properties"]["profile"] = {"$ref": "#/components/schemas/Profile"}
        components[model.__name__] = body
    components["ErrorBody"] = ErrorBody.model_json_schema()
    components["SimpleError"] = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
    components["NotFoundError"] = {"type": "object", "required": ["error"],
                                   "properties": {"error": {"type": "string"},
                                                  "suggestion": {"type": ["string", "null"]}}}
    app.openapi_schema = schema
    return schema


def watch_master(interval: float = 1.0) -> None:
    """In a uvicorn worker of ``policykb serve --workers N``: stop when the master is gone (killed
    with -9, its workers would otherwise go on holding the port). The worker is sent SIGTERM, so
    that it stops as it would at Ctrl-C; if that has not ended it in 10 s, it exits."""
    import os
    import signal
    import threading
    import time
    master = os.environ.get("POLICYKB_SERVE_MASTER_PID")
    if not master or int(master) == os.getpid():
        return   # not a worker (one worker: uvicorn serves in the master itself)

    def watch() -> None:   # the master may be gone already, before this worker finished starting
        while os.getppid() == int(master):
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)
        os._exit(1)

    threading.Thread(target=watch, name="policykb-watch-master", daemon=True).start()
