"""A team's workbench in a real browser (issue 23, item 6): Playwright driving the system Chromium
against ``policykb serve --register`` with an account of each role.

The login page in Chinese and English, a wrong password said in the reader's language; each role
sees what it may do and not the rest (the batch link, the record form, "Mark reviewed", the
accounts); a reviewer marks a decision reviewed and the page names them; logging out ends it. As in
the other page tests, every request stays on 127.0.0.1 and nothing is logged as an error on the
console. ``POLICYKB_SCREENSHOTS=1`` also writes docs/screenshots/login-zh.png and
docs/screenshots/register-case-reviewer-en.png.
"""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import pytest

from accounts_helpers import PASSWORD, log_in
from browser import browser  # noqa: F401 (a fixture)
from engine.accounts import ROLES, Accounts
from engine.register import open_register
from engine.web.testing import running_server
from test_web_register_pages import KEY_ENTERPRISE, checked, new_page

REPO = Path(__file__).resolve().parent.parent
NAMES = {"viewer": "李查看", "analyst": "王分析", "reviewer": "张审核", "admin": "赵管理"}


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """A server with a register holding one case, recorded once, and an account of each role."""
    where = str(tmp_path_factory.mktemp("register") / "r.sqlite3")
    with open_register(where) as register:
        accounts = Accounts(register)
        for role in ROLES:
            accounts.add(NAMES[role], role, PASSWORD)
        case = register.add_case("数智云图", KEY_ENTERPRISE, by=NAMES["analyst"]).id
        register.record_evaluation(case, by=NAMES["analyst"], note="首次评估")
    with running_server(workers=1, kb=str(REPO / "kb"), extra_args=["--register", where]) as (base, _):
        yield {"base": base, "case": case}


@pytest.fixture
def allowed_console() -> list[str]:
    """Console errors a test provokes on purpose (a page answered 403): parts of their text."""
    return []


@pytest.fixture
def fresh(browser, team, allowed_console):
    """A page that is not logged in."""
    context, page, seen = new_page(browser, team["base"])
    yield page
    checked(context, seen, allowed_console)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_login_page_and_a_wrong_password_in_the_readers_language(fresh, team, lang, allowed_console):
    allowed_console.append("401")   # a wrong password is answered 401, with the login page
    fresh.goto(f"/register?lang={lang}")
    assert "/login?" in fresh.url                       # sent to log in, and back afterwards
    assert fresh.locator("h1").inner_text() == ("登录" if lang == "zh" else "Log in")
    assert fresh.locator("nav").count() == 0             # nothing to go to before logging in
    fresh.fill("#login-name", NAMES["analyst"])
    fresh.fill("#login-password", "not the password")
    fresh.click("#login-submit")
    fresh.wait_for_selector("#login-error")
    said = fresh.locator("#login-error").inner_text()
    assert said == ("账户名或密码不正确" if lang == "zh" else "the name or the password is wrong")
    assert fresh.locator("#login-name").input_value() == NAMES["analyst"]
    fresh.fill("#login-password", PASSWORD)
    with fresh.expect_navigation():
        fresh.click("#login-submit")
    assert fresh.url.endswith(f"/register?lang={lang}")
    assert fresh.locator("#account-name").inner_text() == NAMES["analyst"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_what_it_may_do(fresh, team, role, allowed_console):
    allowed_console.append("403")
    log_in(fresh, team["base"], NAMES[role])
    fresh.goto("/evaluate?lang=en")
    assert fresh.locator("#account-role").inner_text().rstrip(")").endswith(role)
    nav = [a.get_attribute("href").split("?")[0] for a in fresh.locator("nav a").all()]
    assert ("/batch" in nav) == (role != "viewer")
    assert ("/users" in nav) == (role == "admin")
    fresh.goto(f"/register/{team['case']}?lang=en")
    assert fresh.locator("#record-form").count() == (0 if role == "viewer" else 1)
    assert fresh.locator(".review-form").count() == (1 if role in ("reviewer", "admin") else 0)
    answer = fresh.goto("/batch?lang=en")
    assert answer.status == (403 if role == "viewer" else 200)


def test_a_reviewer_marks_a_decision_reviewed_and_the_page_names_them(fresh, team):
    log_in(fresh, team["base"], NAMES["reviewer"])
    fresh.goto(f"/register/{team['case']}?lang=en")
    row = fresh.locator("#case-records tbody tr").first
    assert row.locator("td.reviewed button").inner_text() == "Mark reviewed"
    if os.environ.get("POLICYKB_SCREENSHOTS") == "1":
        fresh.screenshot(path=str(REPO / "docs" / "screenshots" / "register-case-reviewer-en.png"), full_page=True)
    with fresh.expect_navigation():
        row.locator("td.reviewed button").click()
    assert fresh.locator("#case-records tbody tr").first.locator("td.reviewed").inner_text() == NAMES["reviewer"]


def test_an_analyst_records_a_decision_as_themselves(fresh, team):
    log_in(fresh, team["base"], NAMES["analyst"])
    fresh.goto(f"/register/{team['case']}?lang=zh")
    fresh.fill("#record-form textarea[name=note]", "复核")
    with fresh.expect_navigation():
        fresh.click("#record-form button[type=submit]")
    fresh.wait_for_selector("#case-recorded")
    newest = fresh.locator("#case-records tbody tr").first
    assert NAMES["analyst"] in newest.inner_text() and "复核" in newest.inner_text()


def test_an_admin_sees_the_accounts(fresh, team):
    log_in(fresh, team["base"], NAMES["admin"])
    fresh.click("#nav-users")
    fresh.wait_for_selector("#users")
    shown = fresh.locator("#users tbody").inner_text()
    assert all(name in shown for name in NAMES.values()) and "administrator (admin)" in shown


def test_logging_out_ends_the_session(fresh, team):
    log_in(fresh, team["base"], NAMES["viewer"])
    fresh.goto("/evaluate?lang=en")
    with fresh.expect_navigation():
        fresh.click("#logout")
    assert "/login" in fresh.url
    fresh.goto("/register?lang=en")
    assert "/login" in fresh.url


def test_the_pages_allow_no_inline_script(team):
    with urllib.request.urlopen(team["base"] + "/login?lang=zh", timeout=30) as answer:
        policy, page = answer.headers["content-security-policy"], answer.read().decode()
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "<script>" not in page and "onclick=" not in page


def test_screenshot_of_the_login_page(fresh, team):
    fresh.goto("/login?lang=zh")
    fresh.fill("#login-name", NAMES["analyst"])
    png = fresh.screenshot(full_page=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("POLICYKB_SCREENSHOTS") == "1":
        (REPO / "docs" / "screenshots" / "login-zh.png").write_bytes(png)
