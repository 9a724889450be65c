"""The case register's pages (issue 22, item 5) in a real browser: Playwright driving the system
Chromium against ``policykb serve --register <tmp>/r.sqlite3``.

A case is saved from the Evaluate page, listed on /register, opened, recorded twice with notes,
and the two records compared; the list is searched and filtered by a GET form; the pages speak
Chinese and English; a case named ``<script>…`` is shown as text. As in tests/test_web_pages.py,
every request the browser makes must stay on 127.0.0.1 and nothing may be logged as an error on
the console. On SQLite and PostgreSQL (``$POLICYKB_TEST_POSTGRES_URL``): the interview saves the
facts answered so far as a case; decisions recorded under another knowledge base (a copy of the
served one, one comment changed) are said on /register, and /register/replay shows the replay
(bounded, with its workbook). ``POLICYKB_SCREENSHOTS=1`` also writes docs/screenshots/register*.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from engine.web.testing import running_server

from accounts_helpers import TOKENS, log_in, prepare
from browser import browser  # noqa: F401 (a fixture)

REPO = Path(__file__).resolve().parent.parent

KEY_ENTERPRISE = {
    "name": "北京数智云图科技有限公司", "application_date": "2021-09-15", "registered_in_xicheng": True,
    "fits_core_area_function": True, "lawful_operation": True, "digital_economy_business": True,
    "digital_economy_recognized": True, "industry": "ict", "key_enterprise_recognized": True,
    "establishment": "new", "paid_in_capital": "1.2亿元", "office_tenure": "rented", "listing": "none",
}
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    register = tmp_path_factory.mktemp("register") / "r.sqlite3"
    token = prepare(str(register))
    with running_server(workers=1, kb=str(REPO / "kb"), extra_args=["--register", str(register)]) as (base, _):
        TOKENS[base] = token
        yield base


@pytest.fixture(scope="module")
def bare_server():
    """A server without a register."""
    with running_server(workers=1, kb=str(REPO / "kb")) as (base, _):
        yield base


def new_page(browser, base):
    """A fresh page that records every request leaving localhost, console errors and dialogs."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=base, locale="zh-CN")
    seen = {"outside": [], "problems": [], "dialogs": []}

    def route(request_route):
        host = urlparse(request_route.request.url).hostname
        if request_route.request.url.startswith("data:") or host == "127.0.0.1":
            request_route.continue_()
        else:
            seen["outside"].append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    context.on("console", lambda m: seen["problems"].append(f"{m.type}: {m.text}") if m.type == "error" else None)
    context.on("weberror", lambda e: seen["problems"].append(f"page error: {e.error}"))
    page = context.new_page()
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.set_default_timeout(20_000)
    if base in TOKENS:   # a server with a register has accounts: log in as a person does
        log_in(page, base)
    return context, page, seen


def checked(context, seen, allowed: list[str]) -> None:
    context.close()
    assert seen["outside"] == [], f"requests left localhost: {seen['outside']}"
    problems = [p for p in seen["problems"] if not any(part in p for part in allowed)]
    assert problems == [], f"console errors: {problems}"
    assert seen["dialogs"] == [], f"dialogs opened: {seen['dialogs']}"


@pytest.fixture
def allowed_console() -> list[str]:
    """Console errors a test provokes on purpose (a page answered 404): parts of their text."""
    return []


@pytest.fixture
def page(browser, server, allowed_console):
    context, page, seen = new_page(browser, server)
    yield page
    checked(context, seen, allowed_console)


@pytest.fixture
def bare_page(browser, bare_server, allowed_console):
    context, page, seen = new_page(browser, bare_server)
    yield page
    checked(context, seen, allowed_console)


def api(base: str, method: str, path: str, body: dict | None = None) -> dict:
    """A call to the register's JSON API, as a script on this machine makes it."""
    request = urllib.request.Request(base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Origin": base,
                                              **({"Authorization": f"Bearer {TOKENS[base]}"} if base in TOKENS else {})})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def saved_case(base: str, name: str, profile: dict, records: int = 0) -> int:
    case = api(base, "POST", "/api/cases", {"profile": profile, "name": name})
    for n in range(records):
        api(base, "POST", f"/api/cases/{case['id']}/records", {"note": f"record {n + 1}"})
    return case["id"]


def listed(page) -> set[int]:
    """The case numbers the register page lists."""
    return {int(row.get_attribute("data-case")) for row in page.locator("#register-cases tbody tr").all()}


def save_from_evaluate(page, profile: dict, name: str, lang: str = "en") -> int:
    """Import a profile on the Evaluate page and save its result as a case: the browser lands on
    the new case's page, which says it was saved; the case's number."""
    page.goto(f"/evaluate?lang={lang}")
    page.wait_for_selector("#case")
    page.click("details.import summary")
    page.fill("#import-form textarea[name=text]", json.dumps(profile, ensure_ascii=False))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#benefit-settlement_subsidy[data-status=granted]")
    page.fill("#save-case-form input[name=name]", name)
    page.click("#save-case-form button[type=submit]")
    page.wait_for_url(re.compile(r"/register/\d+\?lang=" + lang + "&saved=1$"))
    number = int(urlparse(page.url).path.rsplit("/", 1)[1])
    assert page.locator("#case-saved").inner_text() == (f"已保存为案例 {number}。" if lang == "zh" else f"Saved as case {number}.")
    return number


# --------------------------------------------------------------------------- the whole path

def test_save_open_record_twice_and_compare(page, server):
    page.goto("/evaluate?lang=en")
    assert page.locator("#nav-register").inner_text() == "Register"
    number = save_from_evaluate(page, KEY_ENTERPRISE, "数智云图 — 首访")
    assert page.locator("#case-name").inner_text() == "数智云图 — 首访"
    # On the list, with its latest decision not yet recorded.
    page.goto("/register?lang=en")
    row = page.locator(f"#register-cases tr[data-case='{number}']")
    assert "数智云图 — 首访" in row.inner_text()
    assert "no decision recorded" in row.inner_text()
    assert page.locator("#nav-register").get_attribute("aria-current") == "page"
    # The list links to the case.
    row.locator("a.case-name").click()
    page.wait_for_url(f"**/register/{number}?lang=en")
    assert page.locator("#case-name").inner_text() == "数智云图 — 首访"
    facts = page.locator("#case-facts")
    assert "Enterprise name" in facts.locator("tr[data-fact=name]").inner_text()
    assert "name" in facts.locator("tr[data-fact=name] code.id").inner_text()
    assert "CNY 120 million" in facts.locator("tr[data-fact=paid_in_capital]").inner_text()
    assert page.locator("#case-edits tr[data-version='1']").count() == 1
    assert page.locator("#no-records").is_visible()

    # Record a decision with a note: the page comes back with it, and it is open.
    page.fill("#record-form textarea[name=note]", "首次评估 <b>not bold</b>")
    assert page.locator("#record-form input[name=by]").count() == 0   # who: the logged-in account
    page.click("#record-form button[type=submit]")
    page.wait_for_selector("#case-recorded")
    first = page.locator("#case-records tbody tr").first
    seq_1 = int(first.get_attribute("data-seq"))
    assert "首次评估 <b>not bold</b>" in first.inner_text()
    assert "测试员" in first.inner_text()
    assert page.locator("#case-records code.id").first.get_attribute("title") == page.locator("body").get_attribute("data-kb")
    detail = page.locator(f"#record-{seq_1}")
    assert detail.get_attribute("open") is not None
    assert detail.locator("tr[data-benefit=settlement_subsidy]").get_attribute("data-status") == "granted"
    assert "CNY 5 million" in detail.locator("tr[data-benefit=settlement_subsidy]").inner_text()
    # Reloading the page after recording records nothing more.
    page.reload()
    assert page.locator("#case-records tbody tr").count() == 1

    # Someone changes the facts (through the API); a second record, then the two compared.
    case = api(server, "GET", f"/api/cases/{number}")["case"]
    api(server, "PUT", f"/api/cases/{number}",
        {"profile": dict(KEY_ENTERPRISE, paid_in_capital="5000万元"), "version": case["version"], "note": "capital corrected"})
    page.fill("#record-form textarea[name=note]", "after the correction")
    page.click("#record-form button[type=submit]")
    page.wait_for_selector("#case-recorded")
    assert page.locator("#case-records tbody tr").count() == 2
    assert page.locator("#case-edits tr[data-version='2']").inner_text().endswith("capital corrected")
    seq_2 = int(page.locator("#case-records tbody tr").first.get_attribute("data-seq"))
    assert seq_2 > seq_1
    # The compare form preselects the two latest records.
    assert page.locator("#diff-form select[name=a]").input_value() == str(seq_1)
    assert page.locator("#diff-form select[name=b]").input_value() == str(seq_2)
    page.click("#diff-form button[type=submit]")
    page.wait_for_selector("#diff-table")
    assert f"a={seq_1}" in page.url and f"b={seq_2}" in page.url
    changed = page.locator("#diff-table tr[data-id=settlement_subsidy]")
    cells = changed.locator("td")
    assert "granted" in cells.nth(0).inner_text() and "CNY 5 million" in cells.nth(0).inner_text()
    assert "denied" in cells.nth(1).inner_text()
    # Only what differs is listed: the rent subsidy is granted by both.
    assert page.locator("#diff-table tr[data-id=rent_subsidy]").count() == 0
    # A record compared with itself: nothing differs; a record of another case: said.
    page.goto(f"/register/{number}?lang=en&a={seq_2}&b={seq_2}")
    assert page.locator("#diff-none").is_visible()
    page.goto(f"/register/{number}?lang=en&a={seq_1}&b=999999")
    assert "999999" in page.locator("#diff-error").inner_text()
    # On the list, the latest decision in short.
    page.goto("/register?lang=en")
    latest = page.locator(f"#register-cases tr[data-case='{number}'] td.latest").inner_text()
    assert "granted" in latest and "Rent subsidy" in latest and "Settlement subsidy" not in latest


def test_open_in_evaluate_reopens_the_case(page, server):
    number = saved_case(server, "Reopen Co", dict(KEY_ENTERPRISE, name="Reopen Co"))
    page.goto(f"/register/{number}?lang=en")
    page.click("#case-evaluate")
    page.wait_for_selector("#benefit-settlement_subsidy[data-status=granted]")
    assert page.locator("#enterprise-name").inner_text() == "Reopen Co"


# --------------------------------------------------------------------------- search and filter

def test_search_and_filter_by_a_benefits_status(page, server):
    rich = saved_case(server, "筛选 甲 Alpha", KEY_ENTERPRISE, records=1)
    poor = saved_case(server, "筛选 乙 Beta", dict(KEY_ENTERPRISE, paid_in_capital="5000万元"), records=1)
    never = saved_case(server, "筛选 丙 Gamma", KEY_ENTERPRISE)
    page.goto("/register?lang=zh")
    page.fill("#register-filter input[name=search]", "筛选")
    page.click("#register-filter button[type=submit]")
    page.wait_for_url("**search=*")
    shown = listed(page)
    assert shown == {rich, poor, never}
    assert "符合条件" in page.locator("#register-count").inner_text()
    # Case-insensitive, by name.
    page.fill("#register-filter input[name=search]", "alpha")
    page.click("#register-filter button[type=submit]")
    page.wait_for_selector(f"#register-cases tr[data-case='{rich}']")
    assert page.locator("#register-cases tbody tr").count() == 1
    # The benefit and the status, from the latest decision.
    page.fill("#register-filter input[name=search]", "筛选")
    page.select_option("#register-filter select[name=benefit]", "settlement_subsidy")
    page.select_option("#register-filter select[name=status]", "granted")
    page.click("#register-filter button[type=submit]")
    page.wait_for_url("**status=granted*")
    shown = listed(page)
    assert shown == {rich}
    # The form keeps what was chosen.
    assert page.locator("#register-filter select[name=benefit]").input_value() == "settlement_subsidy"
    assert page.locator("#register-filter input[name=search]").input_value() == "筛选"
    page.select_option("#register-filter select[name=status]", "denied")
    page.click("#register-filter button[type=submit]")
    page.wait_for_url("**status=denied*")
    shown = listed(page)
    assert shown == {poor}
    page.fill("#register-filter input[name=search]", "no such name at all")
    page.click("#register-filter button[type=submit]")
    page.wait_for_selector("#register-no-match")
    page.click("#register-clear")
    page.wait_for_selector(f"#register-cases tr[data-case='{never}']")


# --------------------------------------------------------------------------- languages

def test_chinese_and_english(page, server):
    number = saved_case(server, "Bilingual Co", dict(KEY_ENTERPRISE, name="Bilingual Co"), records=1)
    page.goto(f"/register/{number}?lang=zh")
    assert page.locator("#nav-register").inner_text() == "案例库"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "企业名称" in page.locator("#case-facts tr[data-fact=name]").inner_text()
    assert "1.2亿元" in page.locator("#case-facts tr[data-fact=paid_in_capital]").inner_text()
    assert page.locator("h2", has_text="决定记录").count() == 1
    assert page.locator("#record-form button[type=submit]").inner_text() == "评估并记录"
    assert "给予" in page.locator("details.record tr[data-benefit=settlement_subsidy]").inner_text()
    assert "入驻补助" in page.locator("details.record tr[data-benefit=settlement_subsidy]").inner_text()
    # The switch keeps the page.
    page.click("#switch-lang")
    page.wait_for_url(f"**/register/{number}?lang=en")
    assert page.locator("#nav-register").inner_text() == "Register"
    assert "Enterprise name" in page.locator("#case-facts tr[data-fact=name]").inner_text()
    assert page.locator("h2", has_text="Decision records").count() == 1
    assert page.locator("#record-form button[type=submit]").inner_text() == "Evaluate and record"
    assert "granted" in page.locator("details.record tr[data-benefit=settlement_subsidy]").inner_text()
    page.goto("/register?lang=zh")
    assert page.locator("#register-filter button[type=submit]").inner_text() == "筛选"
    assert page.locator("#register-cases thead").inner_text().split()[:2] == ["编号", "名称"]
    page.goto("/register?lang=en")
    assert page.locator("#register-cases thead th").first.inner_text() == "No."
    # Saved from the Chinese Evaluate page: the page's words are Chinese.
    number = save_from_evaluate(page, KEY_ENTERPRISE, "中文保存", lang="zh")
    assert page.locator("#case-name").inner_text() == "中文保存"


def test_an_unknown_case_is_said(page, allowed_console):
    allowed_console.append("status of 404 (Not Found)")   # the page is answered 404, as it should be
    answer = page.goto("/register/987654?lang=en")
    assert answer.status == 404
    assert "987654" in page.locator("#case-missing").inner_text()
    page.goto("/register/987654?lang=zh")
    assert "没有编号为 987654 的案例" in page.locator("#case-missing").inner_text()


def test_a_profile_the_engine_cannot_read_is_not_saved(page, server, allowed_console):
    allowed_console.append("status of 400 (Bad Request)")   # the page that says so is answered 400
    page.goto("/evaluate?lang=en")
    page.wait_for_selector("#case")
    page.fill("input[name='f.name']", "Bad Date Co")
    page.fill("input[name='f.application_date']", "2023/13/45")
    page.wait_for_selector("#left-out")
    before = len(api(server, "GET", "/api/cases"))
    page.click("#save-case-form button[type=submit]")
    error = page.wait_for_selector("#save-case-error")
    assert error.inner_text().startswith("Cannot save: ") and "application_date" in error.inner_text()
    assert len(api(server, "GET", "/api/cases")) == before
    # Back to the Evaluate page with the same case.
    page.click("#back-to-evaluate")
    page.wait_for_selector("#left-out")
    assert page.locator("input[name='f.name']").input_value() == "Bad Date Co"


# --------------------------------------------------------------------------- hostile text

def test_a_case_named_script_is_shown_as_text(page, server):
    number = save_from_evaluate(page, dict(KEY_ENTERPRISE, name=HOSTILE), HOSTILE)
    assert page.locator("#case-name").inner_text() == HOSTILE
    page.goto("/register?lang=en&search=" + urllib.request.quote("<script>"))
    assert page.locator(f"#register-cases tr[data-case='{number}'] a.case-name").inner_text() == HOSTILE
    assert page.locator("#register-filter input[name=search]").input_value() == "<script>"
    page.goto(f"/register/{number}?lang=en")
    assert page.locator("#case-name").inner_text() == HOSTILE
    assert HOSTILE in page.locator("#case-facts tr[data-fact=name]").inner_text()
    page.fill("#record-form textarea[name=note]", HOSTILE + "<img src=x onerror=alert(2)>")
    page.click("#record-form button[type=submit]")
    page.wait_for_selector("#case-recorded")
    assert HOSTILE in page.locator("#case-records td.record-note").first.inner_text()
    # Nothing of it became an element.
    assert page.locator("main script, main img").count() == 0


# --------------------------------------------------------------------------- without a register

def test_without_a_register_the_page_says_how_to_start_one(bare_page, allowed_console):
    page = bare_page
    allowed_console.append("status of 404 (Not Found)")   # the replay page, answered 404
    page.goto("/register?lang=en")
    said = page.locator("#register-none").inner_text()
    assert "keeps no case register" in said and "policykb serve --register PATH" in said
    assert page.locator("#nav-register").count() == 0
    page.goto("/register?lang=zh")
    assert "没有启用案例库" in page.locator("#register-none").inner_text()
    page.goto("/evaluate?lang=en")
    page.wait_for_selector("#case")
    assert page.locator("#nav-register").count() == 0
    assert page.locator("#save-case-form").count() == 0
    answer = page.goto("/register/replay?lang=en")
    assert answer.status == 404 and "keeps no case register" in page.locator("#register-none").inner_text()
    page.goto("/interview?lang=en")
    page.wait_for_selector("#question")
    assert page.locator("#interview-save-form").count() == 0


# --------------------------------------------------------------------------- screenshots

def test_screenshots(page, server, tmp_path):
    """The register page and a case page with two records compared; with POLICYKB_SCREENSHOTS=1
    they are written to docs/screenshots/ as well."""
    names = ["北京数智云图科技有限公司", "北京星河数据服务有限公司", "西城金融科技示范企业（申报中）"]
    number = saved_case(server, names[0], KEY_ENTERPRISE, records=1)
    saved_case(server, names[1], dict(KEY_ENTERPRISE, name=names[1], paid_in_capital="5000万元"), records=1)
    saved_case(server, names[2], dict(KEY_ENTERPRISE, name=names[2], industry="finance"))
    case = api(server, "GET", f"/api/cases/{number}")["case"]
    api(server, "PUT", f"/api/cases/{number}", {"profile": dict(KEY_ENTERPRISE, office_tenure="purchased"),
                                                  "version": case["version"], "note": "核实：办公用房为购置", "by": "王分析师"})
    api(server, "POST", f"/api/cases/{number}/records", {"note": "核实办公用房后复核", "by": "王分析师"})
    seqs = [r["seq"] for r in api(server, "GET", f"/api/cases/{number}")["records"]]
    shots = {}
    page.goto("/register?lang=zh")
    shots["register-zh.png"] = page.screenshot(full_page=True)
    page.goto(f"/register/{number}?lang=zh&a={seqs[-2]}&b={seqs[-1]}")
    page.wait_for_selector("#diff-table")
    shots["register-case-zh.png"] = page.screenshot(full_page=True)
    for name, png in shots.items():
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
        (tmp_path / name).write_bytes(png)
        if os.environ.get("POLICYKB_SCREENSHOTS"):
            shutil.copy(tmp_path / name, REPO / "docs" / "screenshots" / name)


# --------------------------------------------------------------------------- on both back ends

@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def where_served(request, tmp_path_factory):
    """A server over a fresh register on each back end: its base URL and the register's location."""
    if request.param == "sqlite":
        place = tmp_path_factory.mktemp("register") / "r.sqlite3"
        locations = iter([str(place)])
    else:
        from test_register import _postgres_database
        locations = _postgres_database()
    where = next(locations)
    token = prepare(where)
    with running_server(workers=1, kb=str(REPO / "kb"), extra_args=["--register", where]) as (base, _):
        TOKENS[base] = token
        yield base, where, request.param
    next(locations, None)   # PostgreSQL: the database dropped


@pytest.fixture
def served_page(browser, where_served, allowed_console):
    context, page, seen = new_page(browser, where_served[0])
    yield page
    checked(context, seen, allowed_console)


@pytest.fixture(scope="module")
def served_kb():
    import engine
    return engine.load(REPO / "kb")


def _answer(page, fact: str, name: str) -> None:
    """Answer the question on screen — the enterprise's name with ``name``; otherwise yes, the
    first choice, the first item, a date or a number — and wait for the next one."""
    field = page.locator(f"#question [data-fact={fact}]")
    if fact == "name":
        page.fill("#question input[name='f.name']", name)
    elif field.locator("input[type=radio]").count():
        page.check(f"#question input[name='f.{fact}'][value=true]")
    elif field.locator("select").count():
        page.select_option(f"#question select[name='f.{fact}']", field.locator("option").nth(1).get_attribute("value"))
    elif field.locator("input[type=checkbox]").count():
        field.locator("input[type=checkbox]").first.check()
    elif field.locator("input[data-kind=date]").count():
        page.fill(f"#question input[name='f.{fact}']", "2021-09-15")
    else:
        page.fill(f"#question input[name='f.{fact}']", "1000")
    page.click("#answer")
    _next(page, fact)


def _next(page, before: str) -> None:
    page.wait_for_function("(before) => document.querySelector('#interview-done') !== null || "
                           "(document.querySelector('#question') && document.querySelector('#question').dataset.fact !== before)",
                           arg=before)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_interview_saves_the_facts_answered_so_far_as_a_case(served_page, where_served, served_kb, lang):
    page, base = served_page, where_served[0]
    name = f"访谈企业 {lang} {where_served[2]}"
    page.goto(f"/interview?lang={lang}")
    answered, skipped = [], None
    for _ in range(4):   # four questions: one skipped, three answered
        fact = page.wait_for_selector("#question").get_attribute("data-fact")
        if skipped is None and fact != "name":
            page.click("#skip")
            _next(page, fact)
            skipped = fact
        else:
            _answer(page, fact, name)
            answered.append(fact)
        if page.locator("#interview-done").count():
            break
    assert answered and skipped, "the interview asked too little to test saving"
    form = page.locator("#interview-save-form")
    assert form.locator("button[type=submit]").inner_text() == ("保存为案例" if lang == "zh" else "Save as a case")
    said = form.locator(".save-note").inner_text()
    assert said == ("把目前已回答的事实保存为案例库中的一个案例（跳过的事实不保存）。" if lang == "zh"
                    else "Saves the facts answered so far as a case in the register (skipped facts are not saved).")
    held = json.loads(form.locator("input[name=profile]").input_value())
    assert set(held) == set(answered)
    if "name" in answered:   # the name answered is the case's name, to change
        assert form.locator("input[name=name]").input_value() == name
    form.locator("input[name=name]").fill(name + " — 访谈")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/register/\d+\?lang=" + lang + "&saved=1$"))
    number = int(urlparse(page.url).path.rsplit("/", 1)[1])
    assert page.locator("#case-saved").inner_text() == (f"已保存为案例 {number}。" if lang == "zh" else f"Saved as case {number}.")
    assert page.locator("#case-name").inner_text() == name + " — 访谈"
    # Every answered fact, labelled in the page's language, and not the skipped one.
    for fact in answered:
        row = page.locator(f"#case-facts tr[data-fact={fact}]")
        assert served_kb.facts[fact].label(lang) in row.inner_text()
    assert page.locator(f"#case-facts tr[data-fact={skipped}]").count() == 0
    assert api(base, "GET", f"/api/cases/{number}")["case"]["profile"] == held
    # The first edit's note, which the register stores as "added", in the page's language.
    assert page.locator("#case-edits tr[data-version='1'] td.edit-note").inner_text() == ("新增" if lang == "zh" else "added")
    # And on the register's list.
    page.goto(f"/register?lang={lang}&search=" + urllib.request.quote(name))
    assert listed(page) == {number}
    assert page.locator(f"#register-cases tr[data-case='{number}'] a.case-name").inner_text() == name + " — 访谈"


def test_a_profile_the_interview_cannot_save_leads_back_to_the_interview(where_served):
    """A value the engine cannot read (a date that does not exist) is not saved; the page says so
    and leads back to the interview with the same case."""
    base = where_served[0]
    data = urllib.parse.urlencode({"profile": json.dumps({"application_date": "2023/13/45"}), "from": "interview",
                                   "name": "never saved"}).encode()
    request = urllib.request.Request(base + "/ui/register/save?lang=en", data=data, method="POST",
                                     headers={"Origin": base, "Content-Type": "application/x-www-form-urlencoded",
                                              "Authorization": f"Bearer {TOKENS[base]}"})
    with pytest.raises(urllib.error.HTTPError) as failed:
        urllib.request.urlopen(request, timeout=30)
    assert failed.value.code == 400
    page = failed.value.read().decode()
    assert 'id="back-to-interview"' in page and 'href="/interview?lang=en#kb=' in page
    assert "Back to the interview (the same case)" in page and "application_date" in page
    assert not any(c["name"] == "never saved" for c in api(base, "GET", "/api/cases"))


# --------------------------------------------------------------------------- another knowledge base, and the replay

@pytest.fixture(scope="module")
def other_kb(tmp_path_factory, served_kb):
    """A knowledge base the server does not serve: a copy of it with one file's comment changed
    (another content hash, the same rules)."""
    import engine
    copy = tmp_path_factory.mktemp("other-kb") / "kb"
    shutil.copytree(REPO / "kb", copy)
    first = sorted(copy.rglob("*.yaml"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n# an earlier edition of this file\n", encoding="utf-8")
    other = engine.load(copy)
    assert other.version != served_kb.version
    return other


@pytest.fixture(scope="module")
def granted_profile(served_kb):
    """An example profile of the knowledge base that is granted something."""
    import engine
    import yaml
    for path in sorted((REPO / "kb" / "examples").glob("*.yaml")):
        profile = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "granted" in engine.evaluate(profile, kb=served_kb)["status"].values():
            return profile
    pytest.fail("no example profile is granted anything: the replay test would prove nothing")


NAMES = {"same": "决定于旧版 · 未改", "edited": "决定于旧版 · 事实已改", "moved_on": "已按新版重新决定",
         "never": "尚未决定"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def replay_served(request, tmp_path_factory, served_kb, other_kb, granted_profile):
    """A server over a fresh register on each back end, with cases decided under ``other_kb``
    and under the served one:

    - ``same``: recorded under the other one, facts unchanged (its replay changes nothing);
    - ``edited``: recorded under the other one, then its facts cut to its name alone;
    - ``moved_on``: recorded under the other one, then again under the served one;
    - ``never``: never recorded.
    """
    from engine.register import open_register
    if request.param == "sqlite":
        locations = iter([str(tmp_path_factory.mktemp("register") / "r.sqlite3")])
    else:
        from test_register import _postgres_database
        locations = _postgres_database()
    where = next(locations)
    ids = {}
    with open_register(where) as register:
        for key, name in NAMES.items():
            ids[key] = register.add_case(name, dict(granted_profile, name=name)).id
        for key in ("same", "edited", "moved_on"):
            register.record_evaluation(ids[key], other_kb, by="王分析师", note="首次评估")
        register.edit_case(ids["edited"], {"name": NAMES["edited"]}, 1, by="王分析师", note="核实后删去未证实的事实")
        register.record_evaluation(ids["moved_on"], served_kb, by="王分析师", note="按新版复核")
    token = prepare(where)
    with running_server(workers=1, kb=str(REPO / "kb"), extra_args=["--register", where]) as (base, _):
        TOKENS[base] = token
        yield {"base": base, "backend": request.param, "ids": ids}
    next(locations, None)


@pytest.fixture
def replay_page(browser, replay_served, allowed_console):
    context, page, seen = new_page(browser, replay_served["base"])
    yield page
    checked(context, seen, allowed_console)


def _report_rows(page, case_id: int) -> list[list[str]]:
    """The rows (cells' text) of a case's section of the replay report."""
    return [[cell.inner_text().strip() for cell in row.locator("td").all()]
            for row in page.locator(f"#replay-report #case-{case_id} tr").all() if row.locator("td").count()]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_decisions_under_another_knowledge_base_are_said_and_replayed(replay_page, replay_served, served_kb, other_kb,
                                                                      granted_profile, lang, tmp_path):
    import engine
    from openpyxl import load_workbook
    from engine.register.replay_report import WORDS as REPORT
    page, ids, words = replay_page, replay_served["ids"], REPORT[lang]
    page.goto(f"/register?lang={lang}")
    notice = page.locator("#register-other-kb")
    assert (notice.get_attribute("data-records"), notice.get_attribute("data-cases"), notice.get_attribute("data-latest")) == ("3", "3", "2")
    text = notice.locator(".kb-other-text").inner_text()
    assert text == ("有 3 条决定记录（涉及 3 个案例）是在另一版知识库下作出的，与本服务器当前的知识库不同；其中 2 个案例的最近一次决定如此。"
                    if lang == "zh" else "3 decision records, of 3 cases, were made under another knowledge base than the one "
                                         "this server serves; for 2 of these cases it is the latest decision.")
    versions = notice.locator(".kb-other-versions").inner_text()
    assert versions.startswith("记录时的知识库版本：" if lang == "zh" else "Knowledge bases recorded: ")   # labels first
    assert other_kb.version + ("（3 条记录）" if lang == "zh" else " (3 records)") in versions
    assert versions.endswith(("本服务器的知识库：" if lang == "zh" else "This server's knowledge base: ") + served_kb.version)

    # The link replays the cases whose latest decision was made under another knowledge base.
    page.click("#register-replay-link")
    page.wait_for_url(f"**/register/replay?lang={lang}")
    assert page.locator("#replay-title").inner_text() == ("按本服务器的知识库重放" if lang == "zh"
                                                          else "Replay under this server's knowledge base")
    assert page.title().startswith(page.locator("#replay-title").inner_text())
    assert page.locator("#nav-register").get_attribute("aria-current") == "page"
    count = page.locator("#replay-count")
    assert (count.get_attribute("data-replayed"), count.get_attribute("data-total"), count.get_attribute("data-changed")) == ("2", "2", "1")
    assert count.inner_text() == ("重放了 2 个案例。" if lang == "zh" else "2 cases replayed.")
    assert [int(a.get_attribute("data-case")) for a in page.locator("#replay-changed a").all()] == [ids["edited"]]
    # The edited case: each benefit its facts no longer give, from granted to what the served
    # knowledge base now says, put to the facts edited after the record.
    edited = dict(granted_profile, name=NAMES["edited"])
    before = engine.evaluate(edited, kb=served_kb)
    after = engine.evaluate({"name": NAMES["edited"]}, kb=served_kb, as_of=before["as_of"])
    lost = [b for b in served_kb.benefits if before["status"].get(b) == "granted" and after["status"].get(b) != "granted"]
    assert lost
    rows = _report_rows(page, ids["edited"])
    for bid in lost:
        label = served_kb.conclusions[bid].label(lang)
        what = f"{label}（{bid}）" if lang == "zh" else f"{label} ({bid})"
        row = next(r for r in rows if r[0] == what)
        assert row[1].startswith(words["granted"]) and row[2].startswith(words[after["status"][bid]])
        assert row[3] == words["generic"]["profile"]
    assert page.locator(f"#replay-report #case-{ids['same']}").count() == 0   # unchanged: not listed
    assert words["unchanged"] in page.locator("#replay-report table.meta").inner_text()
    # The workbook of the same replay, in the page's language.
    with page.expect_download() as download:
        page.click("#replay-xlsx")
    path = tmp_path / "replay.xlsx"
    download.value.save_as(path)
    book = load_workbook(path)
    assert book.sheetnames[0] == words["title"][:31]
    cells = {str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None}
    assert NAMES["edited"] in cells and NAMES["same"] not in cells

    # Every recorded case: the one decided again under the served knowledge base is unchanged.
    page.check("#replay-scope input[value=all]")
    page.click("#replay-scope button[type=submit]")
    page.wait_for_url("**scope=all*")
    count = page.locator("#replay-count")
    assert (count.get_attribute("data-replayed"), count.get_attribute("data-changed")) == ("3", "1")
    # Bounded: at most `limit` cases (the lowest numbers), said, with the command for the whole register.
    page.goto(f"/register/replay?lang={lang}&scope=all&limit=1")
    count = page.locator("#replay-count")
    assert (count.get_attribute("data-replayed"), count.get_attribute("data-total")) == ("1", "3")
    assert count.inner_text() == ("本页最多重放 1 个案例：符合条件的共 3 个，这里只重放了编号最小的 1 个。" if lang == "zh"
                                  else "This page replays at most 1 cases: 3 match, and the 1 with the lowest numbers were replayed.")
    assert "policykb cases replay" in page.locator("#replay-whole").inner_text()
    assert page.locator("#replay-scope input[name=limit]").input_value() == "1"   # kept when the scope changes
    assert page.locator("#replay-xlsx").get_attribute("href").endswith("&limit=1")

    # Nothing was written: the same records, and the chain verifies.
    verified = api(replay_served["base"], "GET", "/api/register/verify")
    assert verified["ok"] is True and verified["checked"] == 4

    if lang == "zh" and replay_served["backend"] == "sqlite":
        shots = {}
        page.goto("/register?lang=zh")
        shots["register-other-kb-zh.png"] = page.screenshot(full_page=True)
        page.goto("/register/replay?lang=zh")
        page.wait_for_selector("#replay-report")
        shots["register-replay-zh.png"] = page.screenshot(full_page=True)
        for name, png in shots.items():
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
            if os.environ.get("POLICYKB_SCREENSHOTS"):
                (REPO / "docs" / "screenshots" / name).write_bytes(png)


def test_without_decisions_under_another_knowledge_base_there_is_no_notice(page, server):
    """The module's first server: every decision recorded by it, under the knowledge base it serves."""
    saved_case(server, "只按本版决定", KEY_ENTERPRISE, records=1)
    page.goto("/register?lang=zh")
    page.wait_for_selector("#register-cases")
    assert page.locator("#register-other-kb").count() == 0
    page.goto("/register/replay?lang=zh")
    assert page.locator("#replay-none").inner_text() == "没有要重放的案例。"
    assert page.locator("#replay-scope input[value=other]").is_checked()
