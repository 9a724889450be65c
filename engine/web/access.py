"""Who may do what on a shared workbench (issue 23; docs/web.md, "A team's workbench";
docs/api.md, "401 and 403").

When the server keeps accounts (``policykb serve --register``, :attr:`Settings.accounts`):

- :class:`Authentication` (plain ASGI, in front of every request) finds who is asking — an API
  token (``Authorization: Bearer pkb_…``) or a signed session cookie — asking the register each
  time, so that a disabled account is out at its next request. A request from no one gets 401
  (JSON under ``/api/``, the batch downloads and fragments) or, for a page, a redirect to the
  login page. ``/login``, ``/healthz`` and ``/static/`` are open to all.
- :func:`check_access`, a dependency of every route, compares the account's role with
  :data:`NEEDED`, the role each route needs (a route missing from it is refused to everyone: a
  test keeps every route in the table), and checks the CSRF token of a state-changing request
  made with the cookie (the ``X-CSRF-Token`` header htmx and the pages' scripts send, or a form's
  ``csrf_token`` field). A request with a token needs none: no browser sends it by itself.

Without accounts (no register: one person on 127.0.0.1) nothing here refuses anything.
"""

from __future__ import annotations

import hmac
import json
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from engine.accounts import Account, allows
from engine.accounts.roles import role_label
from .errors import ApiError

SESSION_COOKIE = "policykb_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"

#: The role each route needs, by method and path (HEAD as GET).
NEEDED: dict[tuple[str, str], str] = {}
for _path in ("/", "/evaluate", "/interview", "/why", "/compare", "/policy", "/graph", "/template.xlsx",
              "/api/kb", "/api/schema/profile", "/openapi.json", "/api/cases", "/api/cases/{case_id}",
              "/api/register/verify", "/register", "/register/{case_id}", "/register/replay",
              "/register/replay.xlsx", "/api/me"):
    NEEDED[("GET", _path)] = "viewer"
for _path in ("/api/evaluate", "/api/why", "/api/why-not", "/ui/result", "/ui/form", "/ui/import", "/ui/interview",
              "/ui/why", "/ui/compare", "/ui/policy", "/ui/marks", "/print", "/logout"):
    NEEDED[("POST", _path)] = "viewer"
for _key in (("GET", "/batch"), ("POST", "/ui/batch"), ("GET", "/ui/batch/{job}"), ("POST", "/ui/batch/{job}/cancel"),
             ("GET", "/batch/{job}/results"), ("GET", "/batch/{job}/results-labelled"), ("GET", "/batch/{job}/summary"),
             ("POST", "/api/cases"), ("PUT", "/api/cases/{case_id}"), ("POST", "/api/cases/{case_id}/records"),
             ("POST", "/ui/register/{case_id}/record"), ("POST", "/ui/register/save")):
    NEEDED[_key] = "analyst"
for _key in (("POST", "/api/records/{seq}/review"), ("POST", "/ui/register/records/{seq}/review")):
    NEEDED[_key] = "reviewer"
for _key in (("GET", "/api/users"), ("POST", "/api/users"), ("PUT", "/api/users/{name}"), ("GET", "/users")):
    NEEDED[_key] = "admin"
#: Open to all, logged in or not.
OPEN = {("GET", "/login"), ("POST", "/login"), ("GET", "/healthz")}
_OPEN_PATHS = ("/login", "/healthz", "/static/")


@dataclass(frozen=True)
class Visitor:
    """Who is asking: the account (None without accounts), how (``cookie`` or ``token``), and the
    CSRF token the pages put in their forms."""
    account: Account | None = None
    by: str = ""
    csrf: str = ""


VISITOR: ContextVar[Visitor] = ContextVar("policykb_visitor", default=Visitor())
#: Whether the app serving this request keeps accounts.
ACCOUNTS_ON: ContextVar[bool] = ContextVar("policykb_accounts_on", default=False)


def visitor() -> Visitor:
    return VISITOR.get()


def can(role: str) -> bool:
    """Whether the one asking may do what needs ``role`` (always, without accounts)."""
    if not ACCOUNTS_ON.get():
        return True
    account = VISITOR.get().account
    return account is not None and allows(account.role, role)


def actor(request: Request, given: str | None) -> str:
    """Who a change is recorded as: the logged-in account; without accounts, what the request
    said (default ``workbench``)."""
    account = VISITOR.get().account
    return account.name if account is not None else (given or "workbench")


def _json_paths(path: str) -> bool:
    return path.startswith(("/api/", "/ui/", "/batch/", "/print")) or path in ("/openapi.json", "/logout")


class Authentication:
    """Finds who is asking (see the module docstring); the app's ``state.accounts`` is the
    :class:`engine.accounts.Accounts` of its register, or None without accounts."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        accounts = getattr(scope["app"].state, "accounts", None)
        ACCOUNTS_ON.set(accounts is not None)
        if accounts is None:
            VISITOR.set(Visitor())
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        found = await run_in_threadpool(_who, accounts, headers)
        VISITOR.set(found or Visitor())
        if found is None and not scope["path"].startswith(_OPEN_PATHS):
            return await _logged_out(scope, send)
        await self.app(scope, receive, send)


def _who(accounts, headers: dict) -> Visitor | None:
    bearer = headers.get(b"authorization", b"").decode("latin-1")
    if bearer:
        kind, _, token = bearer.partition(" ")
        account = accounts.by_token(token.strip()) if kind.lower() == "bearer" else None
        return None if account is None else Visitor(account=account, by="token")
    session = accounts.unsigned(_cookie(headers.get(b"cookie", b"").decode("latin-1"), SESSION_COOKIE) or "")
    if session is None:
        return None
    account = accounts.session(session)
    return None if account is None else Visitor(account=account, by="cookie", csrf=accounts.csrf_token(session))


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


async def _logged_out(scope, send) -> None:
    path = scope["path"]
    lang = "en" if b"lang=en" in scope.get("query_string", b"") else "zh"
    if _json_paths(path) or scope["method"] not in ("GET", "HEAD"):
        body = json.dumps({"error": "log in first: at /login in a browser, or send Authorization: Bearer TOKEN "
                                    "(policykb users token NAME)", "login": "/login"}).encode()
        headers = [(b"content-type", b"application/json"), (b"www-authenticate", b'Bearer realm="policykb"'),
                   (b"hx-redirect", f"/login?lang={lang}".encode())]
        status = 401
    else:
        target = path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
        headers = [(b"location", f"/login?lang={lang}&next={quote(target, safe='')}".encode())]
        body, status = b"", 303
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


async def check_access(request: Request) -> None:
    """The role and CSRF checks of every route (a dependency of the app; see the module docstring).

    Raises
    ------
    ApiError
        403 with the documented body: a role that may not, a route no role may use, a missing or
        wrong CSRF token.
    """
    if getattr(request.app.state, "accounts", None) is None:
        return
    method = "GET" if request.method == "HEAD" else request.method
    route = request.scope.get("route")
    key = (method, getattr(route, "path", request.url.path))
    if key in OPEN:
        return
    seen = VISITOR.get()
    needed = NEEDED.get(key)
    role = seen.account.role if seen.account else None
    if needed is None or not allows(role, needed):
        raise forbidden(request, role, needed)
    if method not in ("GET", "HEAD", "OPTIONS") and seen.by == "cookie":
        await _check_csrf(request, seen)


def forbidden(request: Request, role: str | None, needed: str | None) -> ApiError:
    lang = "en" if request.query_params.get("lang") == "en" else "zh"
    if needed is None:
        message = "no role may do this here"
        zh = "任何角色都不能在这里这样做"
    else:
        message = (f"your role ({role_label(role or '', 'en')}) cannot do this: it needs "
                   f"{role_label(needed, 'en')} or above")
        zh = f"您的角色（{role_label(role or '', 'zh')}）不能这样做：需要{role_label(needed, 'zh')}或以上"
    error = ApiError(403, zh if lang == "zh" and not request.url.path.startswith("/api/") else message,
                     role=role, needed=needed)
    return error


async def _check_csrf(request: Request, seen: Visitor) -> None:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        given = (await request.form()).get(CSRF_FIELD)
    if not isinstance(given, str) or not hmac.compare_digest(given, seen.csrf):
        zh = request.query_params.get("lang") != "en" and not request.url.path.startswith("/api/")
        raise ApiError(403, "此请求没有页面的防跨站令牌（CSRF）：请重新载入页面后再试（从其他网站提交的表单会被拒绝）" if zh else
                       "this request does not carry the page's CSRF token: reload the page and try again "
                       "(a form posted from another site is refused)", role=seen.account.role, needed=None)
