"""Logging in and out of a shared workbench (issue 23; docs/web.md, "A team's workbench").

``GET /login`` (the page, zh/en), ``POST /login`` (a form: ``name``, ``password``, ``next``),
``POST /logout``, ``GET /api/me`` (who is asking, their role and the CSRF token for scripts
that use the cookie). A failed login is answered after ``Settings.login_delay`` seconds, with
one message whatever was wrong; a locked name or address gets 429 with ``Retry-After`` at once.
The session cookie is signed, ``HttpOnly``, ``SameSite=Strict``, ``Secure`` over HTTPS, and
ends after :data:`engine.accounts.store.SESSION_LIFETIME`.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from engine.accounts import LoginRefused
from engine.accounts.roles import role_label
from engine.accounts.store import SESSION_LIFETIME
from ..access import SESSION_COOKIE, _cookie, visitor
from ..deps import get_kb, get_lang
from ..errors import ApiError
from ..templating import render

router = APIRouter(include_in_schema=False)

#: Passwords checked at once in this worker: each check takes 64 MiB for a moment (Argon2), so a
#: crowd of logins waits its turn instead of taking the memory all together.
CHECKS_AT_ONCE = 4


def _checking(app) -> asyncio.Semaphore:
    """The app's semaphore, made in its own event loop at first use."""
    if getattr(app.state, "password_checks", None) is None:
        app.state.password_checks = asyncio.Semaphore(CHECKS_AT_ONCE)
    return app.state.password_checks

WORDS = {"zh": {"title": "登录", "name": "账户名", "password": "密码", "submit": "登录", "off": "本服务未启用账户，无需登录。"},
         "en": {"title": "Log in", "name": "Account name", "password": "Password", "submit": "Log in",
                "off": "This server keeps no accounts: there is nothing to log in to."}}


def _next(target: str | None, lang: str) -> str:
    """Where to go after logging in: a path of this server only (never another site's address)."""
    target = str(target or "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target or "\n" in target:
        return f"/evaluate?lang={lang}"
    return target


def _page(request: Request, kb, lang: str, error: str | None = None, status: int = 200, name: str = "",
          target: str = "", headers: dict | None = None):
    response = render("login.html", status_code=status, page="login", title=WORDS[lang]["title"], lang=lang, kb=kb,
                      L=WORDS[lang], error=error, name=name, next=_next(target, lang),
                      login_on=request.app.state.accounts is not None)
    response.headers.update(headers or {})
    return response


@router.get("/login")
def login_page(request: Request, next: str = "", kb=Depends(get_kb), lang: str = Depends(get_lang)):
    return _page(request, kb, lang, target=next)


@router.post("/login")
async def login(request: Request, kb=Depends(get_kb), lang: str = Depends(get_lang)):
    accounts = request.app.state.accounts
    if accounts is None:
        return RedirectResponse(f"/evaluate?lang={lang}", status_code=303)
    form = await request.form()
    name, password = str(form.get("name") or "")[:256], str(form.get("password") or "")[:1024]
    address = request.client.host if request.client else ""
    try:
        async with _checking(request.app):
            account, session = await run_in_threadpool(accounts.login, name, password, address)
    except LoginRefused as exc:
        if exc.retry_after:
            return _page(request, kb, lang, exc.text(lang), 429, name, form.get("next"),
                         {"Retry-After": str(exc.retry_after)})
        await asyncio.sleep(request.app.state.settings.login_delay)   # a guess costs time
        return _page(request, kb, lang, exc.text(lang), 401, name, form.get("next"))
    response = RedirectResponse(_next(form.get("next"), lang), status_code=303)
    response.set_cookie(SESSION_COOKIE, accounts.sign(session), max_age=int(SESSION_LIFETIME.total_seconds()),
                        httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")
    return response


@router.post("/logout")
async def logout(request: Request, lang: str = Depends(get_lang)):
    accounts = request.app.state.accounts
    response = RedirectResponse(f"/login?lang={lang}", status_code=303)
    if accounts is not None:
        session = accounts.unsigned(_cookie(request.headers.get("cookie", ""), SESSION_COOKIE) or "")
        if session:
            await run_in_threadpool(accounts.logout, session)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/api/me")
async def me(request: Request, lang: str = Depends(get_lang)) -> JSONResponse:
    seen = visitor()
    if seen.account is None:
        raise ApiError(404, "this server keeps no accounts")
    return JSONResponse(dict(seen.account.to_dict(), role_label=role_label(seen.account.role, lang),
                             csrf_token=seen.csrf or None))
