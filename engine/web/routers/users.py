"""The accounts over HTTP, for an admin (issue 23): ``GET /api/users``, ``POST /api/users``
(``name``, ``role``, ``password``), ``PUT /api/users/{name}`` (``role``, ``disabled``,
``password``: any of them), and the page ``GET /users``. The role check is
:func:`engine.web.access.check_access`'s, as for every route; 503 without accounts.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from engine.accounts import AccountError
from engine.accounts.roles import ROLES, role_label
from ..deps import get_kb, get_lang, read_model
from ..errors import ApiError
from ..templating import render

router = APIRouter(tags=["accounts"])


class NewAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    role: str
    password: str


class AccountChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str | None = None
    disabled: bool | None = None
    password: str | None = None


def _accounts(request: Request):
    accounts = getattr(request.app.state, "accounts", None)
    if accounts is None:
        raise ApiError(503, "this server keeps no accounts: start it with policykb serve --register PATH")
    return accounts


async def _call(function, *args):
    try:
        return await run_in_threadpool(function, *args)
    except AccountError as exc:
        status = 404 if exc.message.startswith("no account") else 400
        raise ApiError(status, exc.message, suggestion=exc.suggestion, allowed=exc.allowed) from None


@router.get("/api/users", summary="every account and its role (admin)")
async def list_users(request: Request) -> list[dict]:
    return [a.to_dict() for a in await _call(_accounts(request).list)]


@router.post("/api/users", summary="create an account (admin)", status_code=201)
async def add_user(request: Request) -> JSONResponse:
    accounts, body = _accounts(request), await read_model(request, NewAccount)
    account = await _call(accounts.add, body.name, body.role, body.password)
    return JSONResponse(account.to_dict(), status_code=201)


@router.put("/api/users/{name}", summary="change an account's role, password, or disable it (admin)")
async def change_user(request: Request, name: str) -> dict:
    accounts, body = _accounts(request), await read_model(request, AccountChange)
    await _call(accounts.get, name)
    if body.role is not None:
        await _call(accounts.set_role, name, body.role)
    if body.password is not None:
        await _call(accounts.reset_password, name, body.password)
    if body.disabled is not None:
        await _call(accounts.disable, name, body.disabled)
    return (await _call(accounts.get, name)).to_dict()


@router.get("/users", include_in_schema=False)
async def users_page(request: Request, kb=Depends(get_kb), lang: str = Depends(get_lang)):
    found = await _call(_accounts(request).list)
    rows = [(a, role_label(a.role, lang)) for a in found]
    return render("users.html", page="users", title="账户" if lang == "zh" else "Accounts", lang=lang, kb=kb,
                  rows=rows, roles=ROLES)
