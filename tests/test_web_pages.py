"""The analysts' pages in a real browser: Playwright driving the system Chromium against a
``policykb serve`` subprocess on a loopback port.

Every test records the requests the browser makes and the console: none may leave
127.0.0.1, and none may log an error. ``playwright install`` downloads browsers, which is not
possible here: the installed Chromium is used (``/usr/bin/chromium``, installed by .ci/run). A
machine without it skips these tests with a message, except in CI (``CI`` set), where that fails.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from engine.web.testing import running_server

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

KEY_ENTERPRISE = {
    "name": "北京数智云图科技有限公司", "application_date": "2021-09-15", "registered_in_xicheng": True,
    "fits_core_area_function": True, "lawful_operation": True, "digital_economy_business": True,
    "digital_economy_recognized": True, "industry": "ict", "key_enterprise_recognized": True,
    "establishment": "new", "paid_in_capital": "1.2亿元", "office_tenure": "rented", "listing": "none",
}
HOSTILE = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\">"


def _unavailable(why: str):
    if os.environ.get("CI"):
        pytest.fail(f"browser tests need {why} (CI installs Chromium with apt-get)")
    pytest.skip(f"browser tests skipped: {why}")


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package (pip install '.[test]')")
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server():
    with running_server(workers=2, kb=str(REPO / "kb")) as (base, _):
        yield base


@pytest.fixture
def page(browser, server, tmp_path):
    """A fresh page that records every request and console error, and checks them at the end."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True,
                                  base_url=server, locale="zh-CN")
    outside, problems = [], []

    def route(request_route):
        host = urlparse(request_route.request.url).hostname
        if request_route.request.url.startswith("data:") or host == "127.0.0.1":
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    context.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    context.on("weberror", lambda e: problems.append(f"page error: {e.error}"))
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()
    assert outside == [], f"requests left localhost: {outside}"
    assert problems == [], f"console errors: {problems}"


def case_link(path: str, profile: dict, kb: str = "", **extra) -> str:
    encoded = base64.urlsafe_b64encode(json.dumps(profile, ensure_ascii=False).encode()).decode().rstrip("=")
    fragment = f"kb={kb}&case={encoded}" + "".join(f"&{k}={v}" for k, v in extra.items())
    return f"{path}#{fragment}"


def wait_until(page, expression: str, timeout: float = 20.0) -> None:
    """Poll ``expression`` in the page until it is true. (Playwright's wait_for_function compiles
    its predicate with eval, which the pages' Content-Security-Policy forbids, rightly.)"""
    import time
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(100)


# --------------------------------------------------------------------------- Evaluate

def test_fill_the_form_and_see_a_benefit_appear(page):
    page.goto("/evaluate?lang=en")
    page.wait_for_selector("#benefit-settlement_subsidy[data-status=undetermined]")
    page.fill("input[name='f.name']", "Test Co")
    page.fill("input[name='f.application_date']", "2021-09-15")
    for fact in ("registered_in_xicheng", "fits_core_area_function", "lawful_operation", "digital_economy_business",
                 "digital_economy_recognized", "key_enterprise_recognized"):
        page.check(f"input[name='f.{fact}'][value=true]")
    page.select_option("select[name='f.industry']", "ict")
    page.select_option("select[name='f.establishment']", "new")
    page.fill("input[name='f.paid_in_capital']", "1.2亿元")
    granted = page.wait_for_selector("#benefit-settlement_subsidy[data-status=granted]")
    assert "CNY 5 million" in granted.inner_text()
    assert page.locator("#enterprise-name").inner_text() == "Test Co"
    # One yuan under the threshold: denied, with the condition that fails.
    page.fill("input[name='f.paid_in_capital']", "99999999")
    row = page.wait_for_selector("#benefit-settlement_subsidy[data-status=denied]")
    assert "actual" in row.inner_text()


def test_unknown_is_the_default_and_not_false(page):
    page.goto("/evaluate?lang=en")
    page.wait_for_selector("#case")
    for radio in page.locator("input[type=radio][value='']").all()[:5]:
        assert radio.is_checked()
    assert page.locator("input[type=radio][value=false]:checked").count() == 0
    # Unknown facts are listed as missing, grouped by the benefit they decide.
    assert page.locator("ul.missing li").count() > 3


def test_paste_a_profile(page):
    page.goto("/evaluate?lang=en")
    page.click("details.import summary")
    page.fill("textarea[name=text]", "name: 粘贴公司\nindustry: ict\npaid_in_capital: 1.2亿元\n")
    page.click("#import-form button[type=submit]")
    wait_until(page, "document.querySelector('#enterprise-name') && "
                           "document.querySelector('#enterprise-name').textContent === '粘贴公司'")
    assert page.input_value("input[name='f.paid_in_capital']") == "1.2亿元"
    assert page.input_value("select[name='f.industry']") == "ict"


def test_a_bad_value_is_one_clear_message(page):
    page.goto("/evaluate?lang=en")
    page.fill("input[name='f.paid_in_capital']", "一点五亿")
    message = page.wait_for_selector("#case .error")
    assert message.inner_text().startswith("paid_in_capital:")


# --------------------------------------------------------------------------- permalinks, languages

def test_a_permalink_round_trip(page, browser):
    page.goto(case_link("/evaluate?lang=en", KEY_ENTERPRISE, "whatever"))
    page.wait_for_selector("#benefit-settlement_subsidy[data-status=granted]")
    # A link made under another knowledge-base version says so.
    assert "version whatever" in page.locator("#notice").inner_text()
    page.fill("input[name='f.name']", "Round Trip Co")
    wait_until(page, "document.querySelector('#enterprise-name').textContent === 'Round Trip Co'")
    link = page.url
    assert "Round" not in link and "#kb=" in link   # the profile travels encoded in the fragment only
    other = page.context.new_page()
    other.goto(link)
    other.wait_for_selector("#benefit-settlement_subsidy[data-status=granted]")
    assert other.input_value("input[name='f.name']") == "Round Trip Co"
    assert other.input_value("input[name='f.paid_in_capital']") == "1.2亿元"
    assert other.locator("#notice").is_hidden()   # made under this very version
    other.close()


def test_switch_between_chinese_and_english_keeps_the_case(page):
    page.goto(case_link("/evaluate?lang=zh", KEY_ENTERPRISE))
    page.wait_for_selector("#benefit-settlement_subsidy[data-status=granted]")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "入驻补助" in page.locator("#benefit-settlement_subsidy").inner_text()
    page.click("#switch-lang")
    page.wait_for_url("**/evaluate?lang=en#*")
    page.wait_for_selector("#benefit-settlement_subsidy[data-status=granted]")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Settlement" in page.locator("#benefit-settlement_subsidy").inner_text() or \
        "settlement_subsidy" in page.locator("#benefit-settlement_subsidy").inner_text()
    assert page.locator("nav a.current").inner_text() == "Evaluate"
    assert page.input_value("input[name='f.name']") == KEY_ENTERPRISE["name"]


# --------------------------------------------------------------------------- interview

def _answer(page, fact: str) -> None:
    """Answer the question on screen: yes, the first value, 1.2亿元, a date, the first item."""
    field = page.locator(f"#question [data-fact={fact}]")
    if field.locator("input[type=radio]").count():
        page.check(f"#question input[name='f.{fact}'][value=true]")
    elif field.locator("select").count():
        value = field.locator("option").nth(1).get_attribute("value")
        page.select_option(f"#question select[name='f.{fact}']", value)
    elif field.locator("input[type=checkbox]").count():
        field.locator("input[type=checkbox]").first.check()
    elif field.locator("input[type=date]").count():
        page.fill(f"#question input[name='f.{fact}']", "2021-09-15")
    elif field.locator("input[inputmode=decimal]").count():
        page.fill(f"#question input[name='f.{fact}']", "1000")
    elif field.locator("input[type=text]").count():
        page.fill(f"#question input[name='f.{fact}']", "1.2亿元")
    page.click("#answer")


def _next_question(page, before: str) -> None:
    wait_until(page, f"document.querySelector('#interview-done') !== null || "
                     f"(document.querySelector('#question') && document.querySelector('#question').dataset.fact !== '{before}')")


def test_an_interview_ends_in_a_decision_and_back_keeps_the_answer(page):
    start = {k: v for k, v in KEY_ENTERPRISE.items() if k not in ("paid_in_capital", "establishment", "office_tenure")}
    page.goto(case_link("/interview?lang=en", start))
    first = page.wait_for_selector("#question").get_attribute("data-fact")
    assert page.locator(".why-asking li").count() >= 1       # why are you asking this: the benefits waiting
    _answer(page, first)
    _next_question(page, first)
    page.click("#back")
    page.wait_for_selector(f"#question[data-fact={first}]")
    kept = page.locator(f"#question [data-fact={first}]")
    assert kept.locator("input:checked, option:checked").count() >= 1 or kept.locator("input[type=text]").input_value()
    page.click("#answer")                                     # the kept answer, as it is
    _next_question(page, first)
    skipped = False
    for _ in range(80):
        if page.locator("#interview-done").count():
            break
        current = page.locator("#question").get_attribute("data-fact")
        if not skipped:                                       # skip keeps a fact unknown
            page.click("#skip")
            skipped = True
        else:
            _answer(page, current)
        _next_question(page, current)
    assert page.locator("#interview-done").count() == 1
    statuses = {r.get_attribute("data-benefit"): r.get_attribute("data-status")
                for r in page.locator(".interview-result tr").all()}
    assert "granted" in statuses.values()
    # The answers travel with the link to the Evaluate page.
    page.click("#open-evaluate")
    page.wait_for_selector("#case")
    assert page.locator("#benefit-settlement_subsidy").count() == 1


# --------------------------------------------------------------------------- why, why not, compare

def test_why_shows_the_derivation_as_a_tree(page):
    page.goto(case_link("/why?lang=en", KEY_ENTERPRISE, id="settlement_subsidy"))
    tree = page.wait_for_selector("#why-result details.node")
    text = tree.inner_text()
    assert "1亿元人民币（含1亿元人民币）" in text              # the clause quoted
    assert "paid_in_capital" in text and "CNY 120 million" in text
    assert page.locator("#why-result details details").count() >= 2   # nested steps


def test_why_not_applies_a_change_to_a_copy_and_compares(page):
    profile = dict(KEY_ENTERPRISE, paid_in_capital="8000万元")
    page.goto(case_link("/why?lang=en", profile, id="settlement_subsidy"))
    page.wait_for_selector("#why-result .alternatives")
    assert page.locator("#why-result .cond.not-met").count() >= 1
    page.locator("button.apply-copy").first.click()
    page.wait_for_url("**/compare?lang=en#*")
    row = page.wait_for_selector("tr[data-benefit=settlement_subsidy]")
    cells = page.locator("tr[data-benefit=settlement_subsidy] td")
    assert cells.count() == 2
    assert "denied" in cells.nth(0).inner_text()
    assert "granted" in cells.nth(1).inner_text() and "differs" in (cells.nth(1).get_attribute("class") or "")
    assert row is not None
    # A third case, pasted.
    page.click("details.add-case summary")
    page.fill("#add-case-form textarea", "name: Third\nindustry: other\n")
    page.click("#add-case-form button")
    wait_until(page, "document.querySelectorAll('tr[data-benefit=settlement_subsidy] td').length === 3")


# --------------------------------------------------------------------------- policy text, graph, print

def test_policy_text_marks_what_the_case_decided(page):
    page.goto(case_link("/policy?lang=en", KEY_ENTERPRISE))
    page.wait_for_selector("#policy-text.marked")
    assert page.locator("a.rule.fired").count() > 3
    assert page.locator(".subpolicies li").count() >= 1
    assert "本措施所指数字经济" in page.locator("#policy-text").inner_text()


def test_graph_search_and_the_case_highlighted(page):
    page.goto(case_link("/graph?lang=en", KEY_ENTERPRISE))
    page.wait_for_selector("body[data-graph-case=ready]")
    assert page.locator(".node.benefit.hit").count() >= 1
    page.fill("#graph-search", "settlement")
    wait_until(page, "document.querySelectorAll('.node.match').length > 0")
    page.locator(".node.match").first.click()
    assert "settlement" in page.locator("#graph-panel").inner_text().lower()


def test_print_opens_the_report(page):
    page.goto(case_link("/evaluate?lang=en", KEY_ENTERPRISE))
    page.wait_for_selector("#benefit-settlement_subsidy[data-status=granted]")
    with page.expect_popup() as popup:
        page.click(".print-form button")
    report = popup.value
    report.wait_for_load_state()
    assert KEY_ENTERPRISE["name"] in report.locator("h1").inner_text()
    assert report.locator("#print-now").count() == 1
    report.close()


# --------------------------------------------------------------------------- batch

def test_upload_a_gbk_csv_and_download_the_results(page, tmp_path):
    rows = [
        ["id", "name", "application_date", "registered_in_xicheng", "fits_core_area_function", "lawful_operation",
         "digital_economy_business", "digital_economy_recognized", "industry", "key_enterprise_recognized",
         "establishment", "paid_in_capital"],
        ["1", "甲公司", "2021-09-15", "true", "true", "true", "true", "true", "ict", "true", "new", "1.2亿元"],
        ["2", "乙公司", "2021-09-15", "true", "true", "true", "true", "true", "fintech", "true", "new", "1亿"],
        ["3", "丙公司", "2021-09-15", "true", "true", "true", "true", "true", "ict", "true", "relocated", "9000万"],
    ]
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    upload = tmp_path / "企业名单.csv"
    upload.write_bytes(text.getvalue().encode("gbk"))
    page.goto("/batch?lang=en")
    assert "Size limit" in page.locator("main").inner_text()
    page.set_input_files("input[type=file]", str(upload))
    page.click("#batch-form button[type=submit]")
    page.wait_for_selector("#batch-job[data-state=done]", timeout=60_000)
    with page.expect_download() as download:
        page.click("#batch-download")
    saved = tmp_path / "results.csv"
    download.value.save_as(saved)
    result = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert [r["id"] for r in result] == ["1", "2", "3"]          # nothing lost, in order
    assert result[0]["result"] == "ok" and result[0]["settlement_subsidy"] == "granted"
    assert result[1]["result"] == "error" and "fintech" in result[1]["message"]
    with page.expect_popup() as popup:
        page.click("#batch-summary")
    popup.value.wait_for_load_state()
    assert "3 rows" in popup.value.content()
    popup.value.close()


# --------------------------------------------------------------------------- user text is text

@pytest.mark.parametrize("path", ["/evaluate", "/interview", "/why", "/compare", "/policy", "/graph"])
def test_user_text_is_shown_as_text_on_every_page(page, path):
    profile = dict(KEY_ENTERPRISE, name=HOSTILE, listing="star_market",
                   other_district_support=[{"benefit": "listing_grant", "policy": HOSTILE, "amount": "800万元"}])
    page.goto(case_link(f"{path}?lang=en", profile, id="listing_grant"))
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss === undefined")
    if path in ("/evaluate", "/interview", "/why", "/compare", "/policy"):
        assert "<script>window.__xss=1</script>" in page.locator("main").inner_text()
    assert page.locator("main script").count() == 0


def test_user_text_is_text_in_the_printed_report(page):
    page.goto(case_link("/evaluate?lang=en", dict(KEY_ENTERPRISE, name=HOSTILE)))
    page.wait_for_selector("#case")
    with page.expect_popup() as popup:
        page.click(".print-form button")
    report = popup.value
    report.wait_for_load_state()
    assert report.evaluate("window.__xss === undefined")
    assert "<script>window.__xss=1</script>" in report.locator("h1").inner_text()
    report.close()
