"""Who may do what on a shared workbench (engine/web/access.py, routers/login.py, routers/users.py;
issue 23, item 6), through the HTTP API as a browser and a script make requests.

Each role against each route (a table built from the app's routes: a new route without a role
fails here); a logged-out request; the cookie's attributes, a tampered and an expired one; CSRF;
a disabled account; 1,000 wrong passwords; the decision's "who"; tokens revoked. On SQLite, and
the login and the role table on PostgreSQL too (``$POLICYKB_TEST_POSTGRES_URL``).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from accounts_helpers import PASSWORD
from engine.accounts import ROLES, Accounts, allows
from engine.accounts.store import ACCOUNT_LIMIT
from engine.register import open_register
from engine.register.schema import sessions
from engine.web.access import NEEDED, OPEN
from engine.web.app import create_app
from engine.web.settings import Settings
from test_register import where  # noqa: F401 — the register's location on each back end

BASE = "http://127.0.0.1"


@pytest.fixture
def served(where, tmp_path):
    """An app with accounts over a fresh register: one account per role, each with a token."""
    tokens = {}
    with open_register(where) as register:
        accounts = Accounts(register)
        for role in ROLES:
            accounts.add(f"{role}-1", role, PASSWORD)
            tokens[role] = accounts.issue_token(f"{role}-1")[1]
    app = create_app(Settings(data_dir=tmp_path / "serve", register=where, accounts=True, login_delay=0))
    with TestClient(app, raise_server_exceptions=False, base_url=BASE, follow_redirects=False) as client:
        yield {"client": client, "tokens": tokens, "where": where, "app": app}


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _routes(app) -> list[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if isinstance(route, APIRoute):
            found |= {(method, route.path) for method in route.methods if method != "HEAD"}
    return sorted(found)


def _url(path: str) -> str:
    return path.replace("{case_id}", "1").replace("{job}", "nojob").replace("{seq}", "1").replace("{name}", "nobody")


def _send(client, method: str, path: str, headers: dict):
    if path.startswith("/api/") and method in ("POST", "PUT"):
        return client.request(method, _url(path), json={}, headers=headers)
    return client.request(method, _url(path), headers=headers, data={} if method != "GET" else None)


def test_every_route_has_a_role(served):
    """A route missing from the table is refused to everyone; this keeps the table whole."""
    missing = [key for key in _routes(served["app"]) if key not in NEEDED and key not in OPEN]
    assert not missing, f"routes with no role in engine/web/access.py NEEDED: {missing}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_against_each_route(served, role):
    client, token = served["client"], served["tokens"][role]
    wrong = []
    for method, path in _routes(served["app"]):
        if (method, path) in OPEN or path in ("/logout",):
            continue
        needed = NEEDED[(method, path)]
        answer = _send(client, method, path, _bearer(token))
        if allows(role, needed):
            if answer.status_code in (401, 403):
                wrong.append(f"{method} {path}: {answer.status_code} for {role}, which may")
        elif answer.status_code != 403:
            wrong.append(f"{method} {path}: {answer.status_code} for {role}, which needs {needed}")
        elif path.startswith("/api/") and answer.json() != {"error": answer.json()["error"], "role": role,
                                                           "needed": needed}:
            wrong.append(f"{method} {path}: body {answer.json()}")
    assert not wrong, "; ".join(wrong)


def test_a_forbidden_page_says_so_in_the_readers_language(served):
    client, token = served["client"], served["tokens"]["viewer"]
    page = client.get("/batch?lang=zh", headers=_bearer(token))
    assert page.status_code == 403 and "您的角色（查看者（viewer））不能这样做：需要分析员（analyst）或以上" in page.text
    assert "can't" not in page.text and "Traceback" not in page.text


def test_logged_out_a_page_goes_to_the_login_page_and_the_api_answers_401(served):
    client = served["client"]
    page = client.get("/register?lang=en&search=x")
    assert page.status_code == 303 and page.headers["location"] == "/login?lang=en&next=%2Fregister%3Flang%3Den%26search%3Dx"
    for method, path in (("GET", "/api/kb"), ("POST", "/api/evaluate"), ("GET", "/api/cases"), ("POST", "/ui/result")):
        answer = client.request(method, path, json={} if method == "POST" else None)
        assert answer.status_code == 401, (method, path)
        assert answer.json() == {"error": answer.json()["error"], "login": "/login"}
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/healthz").status_code == 200 and client.get("/login").status_code == 200


def _log_in(client, name: str, password: str = PASSWORD, **headers):
    return client.post("/login?lang=en", data={"name": name, "password": password, "next": "/register?lang=en"},
                       headers=headers)


def _use(client, cookie: str) -> None:
    client.cookies.clear()
    client.cookies.set("policykb_session", cookie)


def _csrf(client) -> str:
    return re.search(r'data-csrf="([0-9a-f]+)"', client.get("/evaluate?lang=en").text).group(1)


def test_a_login_sets_a_signed_httponly_strict_cookie_that_expires(served):
    client = served["client"]
    answer = _log_in(client, "analyst-1")
    assert answer.status_code == 303 and answer.headers["location"] == "/register?lang=en"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie
    page = client.get("/evaluate?lang=en")
    assert page.status_code == 200 and 'id="account-name">analyst-1<' in page.text


def test_after_login_next_goes_only_to_this_server(served):
    client = served["client"]
    answer = client.post("/login", data={"name": "viewer-1", "password": PASSWORD, "next": "//evil.example/x"})
    assert answer.headers["location"] == "/evaluate?lang=zh"


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(served):
    client = served["client"]
    wrong, unknown = _log_in(client, "analyst-1", "not the password"), _log_in(client, "nobody-1", "not the password")
    assert wrong.status_code == unknown.status_code == 401

    def said(page):
        return re.search(r'id="login-error"[^>]*>([^<]*)<', page.text).group(1)
    assert said(wrong) == said(unknown) == "the name or the password is wrong"


def test_a_tampered_cookie_and_an_expired_session_are_refused(served):
    client = served["client"]
    _log_in(client, "viewer-1")
    cookie = client.cookies.get("policykb_session")
    session, _, mac = cookie.rpartition(".")
    _use(client, session + "." + ("0" if mac[0] != "0" else "1") + mac[1:])
    assert client.get("/evaluate").status_code == 303
    _use(client, session[:-1] + ("A" if session[-1] != "A" else "B") + "." + mac)
    assert client.get("/evaluate").status_code == 303
    _use(client, cookie)
    assert client.get("/evaluate").status_code == 200
    with open_register(served["where"]) as register, register.writing() as connection:
        connection.execute(sessions.update().values(expires_at=sessions.c.created_at))   # its end has come
    assert client.get("/evaluate").status_code == 303


def test_a_state_changing_request_without_the_csrf_token_is_refused(served):
    client = served["client"]
    _log_in(client, "analyst-1")
    token = _csrf(client)
    assert client.post("/ui/result?lang=en", data={}).status_code == 403
    assert client.post("/ui/result?lang=en", data={"csrf_token": "0" * 64}).status_code == 403
    assert client.post("/ui/result?lang=en", data={"csrf_token": token}).status_code == 200
    assert client.post("/ui/result?lang=en", data={}, headers={"X-CSRF-Token": token}).status_code == 200
    # the API with the cookie (a page's script) needs it too; with a token (a script) it does not
    assert client.post("/api/evaluate", json={"profile": {}}).status_code == 403
    assert client.post("/api/evaluate", json={"profile": {}}, headers={"X-CSRF-Token": token}).status_code == 200
    # a form another site posts: refused for its origin, whatever it carries
    forged = client.post("/ui/register/save", data={"profile": "{}", "csrf_token": token},
                         headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert client.get("/api/cases", headers={"Authorization": "Bearer " + served["tokens"]["viewer"]}).json() == []


def test_a_disabled_account_is_out_at_its_next_request(served):
    client = served["client"]
    _log_in(client, "analyst-1")
    assert client.get("/evaluate").status_code == 200
    headers = _bearer(served["tokens"]["analyst"])
    assert client.get("/api/cases", headers=headers).status_code == 200
    with open_register(served["where"]) as register:
        Accounts(register).disable("analyst-1")
    assert client.get("/evaluate").status_code == 303
    assert client.get("/api/cases", headers=headers).status_code == 401
    assert _log_in(client, "analyst-1").status_code == 401


def test_a_thousand_wrong_passwords_lock_the_name_but_not_other_accounts(served, where):
    attacker = TestClient(served["app"], base_url=BASE, client=("203.0.113.7", 40000), follow_redirects=False)
    statuses = [_log_in(attacker, "analyst-1", f"guess {n:04d} wrong").status_code for n in range(1000)]
    assert statuses[:ACCOUNT_LIMIT] == [401] * ACCOUNT_LIMIT
    assert set(statuses[ACCOUNT_LIMIT:]) == {429}
    locked = _log_in(attacker, "analyst-1")          # the right password, while locked: still refused
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    colleague = TestClient(served["app"], base_url=BASE, client=("198.51.100.4", 40000), follow_redirects=False)
    assert _log_in(colleague, "reviewer-1").status_code == 303
    assert _log_in(colleague, "analyst-1").status_code == 429   # the name stays locked for a while


def test_a_decision_is_recorded_as_the_logged_in_account(served):
    client, tokens = served["client"], served["tokens"]
    case = client.post("/api/cases", json={"profile": {"name": "甲公司"}, "by": "someone else"},
                       headers=_bearer(tokens["analyst"])).json()
    assert case["created_by"] == "analyst-1"
    record = client.post(f"/api/cases/{case['id']}/records", json={"by": "someone else"},
                         headers=_bearer(tokens["analyst"])).json()
    assert record["recorded_by"] == "analyst-1"
    assert client.post(f"/api/records/{record['seq']}/review", headers=_bearer(tokens["analyst"]),
                       json={}).status_code == 403
    reviewed = client.post(f"/api/records/{record['seq']}/review", headers=_bearer(tokens["reviewer"]), json={})
    assert reviewed.status_code == 200 and reviewed.json()["reviewed_by"] == "reviewer-1"


def test_a_revoked_token_no_longer_works(served):
    client = served["client"]
    with open_register(served["where"]) as register:
        accounts = Accounts(register)
        number, token = accounts.issue_token("viewer-1")
        assert client.get("/api/kb", headers=_bearer(token)).status_code == 200
        accounts.revoke_token("viewer-1", number)
    assert client.get("/api/kb", headers=_bearer(token)).status_code == 401
    assert client.get("/api/kb", headers=_bearer("pkb_" + "x" * 43)).status_code == 401


def test_an_admin_manages_accounts_over_the_api(served):
    client, headers = served["client"], _bearer(served["tokens"]["admin"])
    added = client.post("/api/users", json={"name": "新分析员", "role": "analyst", "password": PASSWORD}, headers=headers)
    assert added.status_code == 201 and added.json()["role"] == "analyst"
    assert client.post("/api/users", json={"name": "x2", "role": "boss", "password": PASSWORD},
                       headers=headers).json()["allowed"] == list(ROLES)
    assert client.put("/api/users/新分析员", json={"disabled": True}, headers=headers).json()["disabled"] is True
    assert client.put("/api/users/nobody", json={"disabled": True}, headers=headers).status_code == 404
    names = [a["name"] for a in client.get("/api/users", headers=headers).json()]
    assert "新分析员" in names and "password_hash" not in str(client.get("/api/users", headers=headers).json())


def test_logout_ends_the_session(served):
    client = served["client"]
    _log_in(client, "viewer-1")
    cookie = client.cookies.get("policykb_session")
    assert client.post("/logout", data={"csrf_token": _csrf(client)}).status_code == 303
    _use(client, cookie)   # the old cookie, kept by someone: no longer a session
    assert client.get("/evaluate").status_code == 303


def test_without_accounts_nothing_asks_who_you_are(tmp_path):
    app = create_app(Settings(data_dir=tmp_path / "serve"))
    with TestClient(app, raise_server_exceptions=False, base_url=BASE) as client:
        assert client.get("/evaluate").status_code == 200
        assert client.post("/ui/result", data={}).status_code == 200
        assert 'id="account"' not in client.get("/evaluate").text
        assert client.get("/api/users").status_code == 503
