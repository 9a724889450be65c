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
from pathlib import Path
from urllib.parse import urlparse

import pytest

from engine.web.testing import running_server

from browser import browser  # noqa: F401 (a fixture)

REPO = Path(__file__).resolve().parent.parent

KEY_ENTERPRISE = {
    "name": "北京数智云图科技有限公司", "application_date": "2021-09-15", "registered_in_xicheng": True,
    "fits_core_area_function": True, "lawful_operation": True, "digital_economy_business": True,
    "digital_economy_recognized": True, "industry": "ict", "key_enterprise_recognized": True,
    "establishment": "new", "paid_in_capital": "1.2亿元", "office_tenure": "rented", "listing": "none",
}
HOSTILE = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\">"


@pytest.fixture(scope="module")
def server():
    with running_server(workers=2, kb=str(REPO / "kb")) as (base, _):
        yield base


@pytest.fixture
def allowed_console() -> list[str]:
    """Console errors a test provokes on purpose (a request it makes fail): parts of their text."""
    return []


@pytest.fixture
def page(browser, server, tmp_path, allowed_console):
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
    problems = [p for p in problems if not any(part in p for part in allowed_console)]
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


def test_a_bad_value_is_one_clear_message_at_its_field(page):
    page.goto("/evaluate?lang=en")
    page.fill("input[name='f.paid_in_capital']", "一点五亿")
    message = page.wait_for_selector("#msg-paid_in_capital.error")
    assert "Chinese numerals" in message.inner_text() and "Left out of the evaluation" in message.inner_text()
    assert page.locator("#left-out").inner_text().count("Paid-in capital") == 1


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
    elif field.locator("input[data-kind=date]").count():
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


# --------------------------------------------------------------------------- values as people type them

def _field_message(page, fact: str, kind: str = "error") -> str:
    return page.wait_for_selector(f"#msg-{fact}.{kind}:not([hidden])").inner_text()


def _engine_detail(profile: dict, lang: str) -> str:
    """The engine's own message for a one-fact profile, without the fact's name in front."""
    import engine
    from engine.errors import PolicyKBError
    from engine.loading.profile import parse_profile
    kb = engine.load(REPO / "kb")
    with pytest.raises(PolicyKBError) as caught:
        parse_profile(profile, kb)
    text = caught.value.text(lang)
    fact = next(iter(profile))
    for head in (f"{kb.facts[fact].zh}（{fact}）：", f"{fact}: ", f"{fact}："):
        text = text.removeprefix(head)
    return text


@pytest.mark.parametrize("locale", ["zh-CN", "en-US", "de-DE"])
def test_a_typed_date_is_read_in_the_engines_forms_whatever_the_browsers_locale(browser, server, locale):
    """Typing 2023/5/8 into a browser's date field once stored year 358: the field is text the
    server reads, so the locale plays no part."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=server, locale=locale)
    problems = []
    context.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page = context.new_page()
    try:
        page.goto("/evaluate?lang=zh")
        page.wait_for_selector("#case")
        date = page.locator("input[name='f.application_date']")
        assert date.get_attribute("type") == "text" and date.get_attribute("placeholder") == "2021-03-01"
        date.click()
        page.keyboard.type("2023/5/8")
        wait_until(page, "document.querySelector('.case-head .meta') && "
                         "document.querySelector('.case-head .meta').textContent.includes('2023年5月8日')")
        assert "读作 2023年5月8日" in _field_message(page, "application_date", "note")
        assert page.locator("#msg-application_date.error").count() == 0
        assert problems == []
    finally:
        context.close()


def test_a_month_alone_typed_on_the_page_is_read_as_some_day_of_it(page):
    """2015年6月, as a prose description gives it: every day of the month is evaluated."""
    page.goto("/evaluate?lang=zh")
    page.wait_for_selector("#case")
    page.locator("input[name='f.registration_date']").click()
    page.keyboard.type("2015年6月")
    wait_until(page, "document.querySelector('#msg-registration_date') && "
                     "document.querySelector('#msg-registration_date').textContent.includes('2015年6月的某一天')")
    assert page.locator("#msg-registration_date.error").count() == 0


def test_an_impossible_date_is_refused_at_its_field_in_the_pages_language(page):
    for lang, frame in (("zh", "评估时已略去此项"), ("en", "Left out of the evaluation")):
        page.goto(f"/evaluate?lang={lang}")
        page.wait_for_selector("#case")
        page.locator("input[name='f.application_date']").click()
        page.keyboard.type("2023/13/45")
        message = _field_message(page, "application_date")
        assert frame in message and _engine_detail({"application_date": "2023/13/45"}, lang) in message
        assert page.locator(".field[data-fact=application_date]").get_attribute("class").count("invalid") == 1
        # The rest of the case is evaluated: the date is unknown, not a year 31345.
        assert page.locator("table.benefits tbody tr").count() >= 10
        assert "31345" not in page.locator(".case-head .meta").inner_text()
    # A year outside 1949–2099 is refused too.
    page.fill("input[name='f.application_date']", "1900-01-01")
    wait_until(page, "document.querySelector('#msg-application_date').textContent.includes('1949')")


def test_the_calendar_beside_a_date_writes_an_iso_date_into_it(page):
    page.goto("/evaluate?lang=en")
    page.wait_for_selector("#case")
    page.fill(".field[data-fact=application_date] input.date-picker", "2022-07-01")
    assert page.input_value("input[name='f.application_date']") == "2022-07-01"
    wait_until(page, "document.querySelector('.case-head .meta').textContent.includes('2022-07-01')")


def test_a_five_thousand_digit_number_is_a_message_at_its_field(page):
    """It gave a 500 on the page; now it is refused by name, with a short excerpt, at its field,
    and the rest of the case is evaluated."""
    page.goto(case_link("/evaluate?lang=en", KEY_ENTERPRISE))
    page.wait_for_selector("#benefit-rent_subsidy[data-status=granted]")
    page.fill("input[name='f.paid_in_capital']", "9" * 5000)
    message = _field_message(page, "paid_in_capital")
    assert len(message) < 400 and "5,000" in message
    assert page.locator("#benefit-rent_subsidy[data-status=granted]").count() == 1   # the rest stays
    assert page.locator("#benefit-settlement_subsidy[data-status=undetermined]").count() == 1
    # The interview, opened with such a profile, asks the fact again with the message.
    page.goto(case_link("/interview?lang=en", dict(KEY_ENTERPRISE, paid_in_capital="9" * 5000)))
    page.wait_for_selector("#question[data-fact=paid_in_capital]")
    assert "5,000" in page.locator("#question #msg-paid_in_capital").inner_text()


def test_on_a_chinese_page_errors_are_chinese_at_their_fields_and_the_rest_of_the_result_stays(page):
    import engine
    bad = {"paid_in_capital": "-5000万", "cultivation_investment": "十万八千里"}
    profile = dict(KEY_ENTERPRISE, **bad)
    page.goto(case_link("/evaluate?lang=zh", profile))
    page.wait_for_selector("#left-out")
    for fact, value in bad.items():
        message = _field_message(page, fact)
        assert _engine_detail({fact: value}, "zh") in message and "评估时已略去此项" in message
    left_out = page.locator("#left-out").inner_text()
    assert "以下事实无法读取" in left_out and "实收资本" in left_out and "paid_in_capital" in left_out
    assert page.locator("#case h2").first.inner_text() != "无法评估"
    # Every other fact is evaluated: the statuses are those of the profile without the bad ones.
    expected = engine.evaluate({k: v for k, v in profile.items() if k not in bad}, kb=REPO / "kb")["status"]
    shown = {row.get_attribute("id")[len("benefit-"):]: row.get_attribute("data-status")
             for row in page.locator("table.benefits tbody tr").all()}
    assert shown and all(expected[b] == s or s == "superseded" for b, s in shown.items())
    # Clicking a name in the list goes to its field.
    page.locator("#left-out button.to-field[data-fact=paid_in_capital]").click()
    assert page.evaluate("document.activeElement.name") == "f.paid_in_capital"


def test_chinese_numerals_are_read_and_said_how(page):
    page.goto("/evaluate?lang=zh")
    page.wait_for_selector("#case")
    page.fill("input[name='f.paid_in_capital']", "壹亿伍仟万元")
    assert "1.5亿元" in _field_message(page, "paid_in_capital", "note")


# --------------------------------------------------------------------------- a failed request

def test_a_failed_request_marks_the_result_stale_at_once_in_the_pages_language(page, allowed_console):
    allowed_console += ["500", "Internal Server Error", "net::ERR_FAILED", "htmx", "ERR_"]
    page.goto(case_link("/evaluate?lang=zh", dict(KEY_ENTERPRISE, paid_in_capital="-1")))
    page.wait_for_selector("#msg-paid_in_capital.error")
    page.route("**/ui/result*", lambda r: r.fulfill(status=500, body="boom"))
    page.fill("input[name='f.paid_in_capital']", "2亿元")
    page.wait_for_selector("#result.stale .request-error")
    assert "结果未能更新" in page.locator("#result .request-error").inner_text()
    assert "500" in page.locator("#result .request-error").inner_text()
    assert page.locator("#msg-paid_in_capital").is_hidden()      # the old message went with the old result
    page.unroute("**/ui/result*")
    page.route("**/ui/result*", lambda r: r.abort())
    page.fill("input[name='f.paid_in_capital']", "3亿元")
    wait_until(page, "document.querySelector('#result .request-error').textContent.includes('无法连接服务器')")
    assert page.locator("#result.stale").count() == 1
    page.unroute("**/ui/result*")
    page.fill("input[name='f.paid_in_capital']", "1.2亿元")
    page.wait_for_selector("#result:not(.stale) #benefit-settlement_subsidy[data-status=granted]")
    assert page.locator("#result .request-error").count() == 0


def test_a_failed_request_is_said_in_english_on_an_english_page(page, allowed_console):
    allowed_console += ["503", "Service Unavailable", "htmx"]
    page.goto("/evaluate?lang=en")
    page.wait_for_selector("#case")
    page.route("**/ui/result*", lambda r: r.fulfill(status=503, body="busy"))
    page.fill("input[name='f.name']", "X")
    page.wait_for_selector("#result.stale .request-error")
    assert "could not be updated" in page.locator("#result .request-error").inner_text()


# --------------------------------------------------------------------------- copy the link

def test_copy_link_without_the_clipboard_api_shows_the_link_selected_and_claims_nothing(page):
    page.add_init_script("Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined, configurable: true});")
    page.goto(case_link("/evaluate?lang=zh", KEY_ENTERPRISE))
    page.wait_for_selector("#benefit-settlement_subsidy[data-status=granted]")
    assert page.evaluate("navigator.clipboard === undefined")
    button = page.locator("button.copy-link")
    button.click()
    field = page.wait_for_selector(".copy-fallback input")
    assert button.inner_text() == "复制链接"                      # never 已复制
    assert field.input_value() == page.url
    assert page.evaluate("document.activeElement === document.querySelector('.copy-fallback input') && "
                         "document.activeElement.selectionStart === 0 && "
                         "document.activeElement.selectionEnd === document.activeElement.value.length")
    assert "Ctrl+C" in page.locator(".copy-fallback").inner_text()


def test_copy_link_when_the_browser_refuses_says_so_too(page):
    page.add_init_script("navigator.clipboard.writeText = () => Promise.reject(new Error('denied'));")
    page.goto(case_link("/evaluate?lang=en", KEY_ENTERPRISE))
    page.wait_for_selector("#case")
    page.locator("button.copy-link").click()
    page.wait_for_selector(".copy-fallback input")
    assert page.locator("button.copy-link").inner_text() == "Copy link"


def test_copy_link_with_the_clipboard_says_copied(page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(case_link("/evaluate?lang=en", KEY_ENTERPRISE))
    page.wait_for_selector("#case")
    page.locator("button.copy-link").click()
    wait_until(page, "document.querySelector('button.copy-link').textContent === 'copied'")
    assert page.evaluate("navigator.clipboard.readText()") == page.url
    assert page.locator(".copy-fallback").count() == 0


# --------------------------------------------------------------------------- the interview

BUILDING_ONLY = ("renovation_for_digital_economy", "renovation_investment", "renovated_area_m2",
                 "introduced_contribution_increment")


def _interview_asks(page, skip: set, limit: int = 60) -> list[str]:
    """Answer no (or skip a non-yes/no question) until the end; skip the facts in ``skip``."""
    asked = []
    for _ in range(limit):
        page.wait_for_selector("#question, #interview-done")
        if page.locator("#interview-done").count():
            return asked
        fact = page.locator("#question").get_attribute("data-fact")
        asked.append(fact)
        if fact not in skip and page.locator(f"#question input[name='f.{fact}'][value=false]").count():
            page.check(f"#question input[name='f.{fact}'][value=false]")
            page.click("#answer")
        else:
            page.click("#skip")
        _next_question(page, fact)
    raise AssertionError(f"the interview did not end: {asked}")


def test_after_a_skipped_question_the_questions_that_matter_only_under_it_are_not_asked(page):
    start = {"name": "楼宇公司", "application_date": "2022-05-01", "registered_in_xicheng": False}
    page.goto(case_link("/interview?lang=zh", start))
    asked = _interview_asks(page, skip={"building_operator"})
    assert "building_operator" in asked
    after = asked[asked.index("building_operator") + 1:]
    assert not set(after) & set(BUILDING_ONLY), after
    blocked = page.locator("#blocked").inner_text()
    assert "building_renovation_support" in blocked and "building_operator_reward" in blocked
    # Answered, the building questions come.
    page.goto("about:blank")
    page.goto(case_link("/interview?lang=zh", dict(start, building_operator=True)))
    first = page.wait_for_selector("#question").get_attribute("data-fact")
    assert first in BUILDING_ONLY + ("industrial_base_recognized", "qualified_talent")


def test_the_interview_asks_the_name_first_and_it_is_optional(page):
    page.goto("/interview?lang=zh")
    page.wait_for_selector("#question[data-fact=name]")
    assert "可选" in page.locator("#question h2").inner_text()
    assert "不决定任何支持事项" in page.locator(".why-asking").inner_text()
    page.fill("#question input[name='f.name']", "问答公司")
    page.click("#answer")
    page.wait_for_selector("#question:not([data-fact=name])")
    assert page.locator(".interview-result h3").inner_text() == "问答公司"
    # Skipped, it is not asked again, nor counted among the skipped questions to revisit.
    page.goto("/interview?lang=en")
    page.wait_for_selector("#question[data-fact=name]")
    page.click("#skip")
    page.wait_for_selector("#question:not([data-fact=name])")
    assert "name" not in page.locator("#interview-step").get_attribute("data-profile")


def test_why_are_you_asking_says_what_the_fact_means_and_quotes_its_clause(page):
    import engine
    kb = engine.load(REPO / "kb")
    for lang in ("zh", "en"):
        page.goto(case_link(f"/interview?lang={lang}", {"name": "X"}))
        fact = page.wait_for_selector("#question").get_attribute("data-fact")
        why = page.locator(".why-asking")
        assert kb.label(kb.facts[fact].source, lang) in why.inner_text()
        assert kb.text_of(kb.facts[fact].source)[:40] in why.locator("blockquote").inner_text()
        assert "--" not in page.locator("#question").inner_text()          # no command-line words
    page.goto(case_link("/interview?lang=zh", {"name": "X"}))
    page.wait_for_selector("#question[data-fact=application_date]")
    assert "判断本案例所依据的日期" in page.locator(".why-asking .meaning").inner_text()


# --------------------------------------------------------------------------- the form: grouped, worded, short path

def test_facts_read_together_sit_together(page):
    page.goto("/evaluate?lang=zh")
    page.wait_for_selector("#case")
    box = {f: page.locator(f".field[data-fact={f}]").bounding_box() for f in ("registered_in_xicheng", "pays_tax_in_xicheng")}
    assert abs(box["pays_tax_in_xicheng"]["y"] - box["registered_in_xicheng"]["y"]) < 150
    assert page.locator("#group-registration .field[data-fact=pays_tax_in_xicheng]").count() == 1
    # Each field still says the clause it comes from.
    assert "《实施细则》第二条第（一）项" in page.locator(".field[data-fact=pays_tax_in_xicheng] .cite").inner_text()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_label_is_cut_or_asks_a_double_negative(page, lang):
    page.goto(f"/evaluate?lang={lang}")
    page.wait_for_selector("#case")
    labels = page.locator("#profile-form .field > .label").all_inner_texts()
    assert len(labels) > 40
    assert not [t for t in labels if "…" in t or "..." in t]
    negative = ("近三年未", "近三年无", "No ") if lang == "zh" else ("No ", "Not ")
    bools = page.locator("#profile-form .field.bool > .label").all_inner_texts()
    assert not [t for t in bools if t.startswith(negative)]
    date = page.locator(".field[data-fact=registration_date] > .label").inner_text()
    assert ("迁入" in date and "设立登记" in date) if lang == "zh" else ("relocated" in date and "before" in date)


def test_a_fact_asked_positively_is_stored_as_the_fact_says(page):
    page.goto("/evaluate?lang=zh")
    page.wait_for_selector("#case")
    label = page.locator(".field[data-fact=no_accidents_3y] > .label").inner_text()
    assert label.startswith("近三年发生过安全、质量、环境污染事故")
    page.check("input[name='f.no_accidents_3y'][value=true]")          # an accident happened
    wait_until(page, "JSON.parse(document.querySelector('#case').dataset.profile).no_accidents_3y === false")
    page.check("input[name='f.no_accidents_3y'][value=false]")
    wait_until(page, "JSON.parse(document.querySelector('#case').dataset.profile).no_accidents_3y === true")
    # Reopened from its link, the answer shows as it was given.
    page.reload()
    page.wait_for_selector("#case")
    wait_until(page, "document.querySelector(\"input[name='f.no_accidents_3y'][value=false]\").checked")


def test_check_one_benefit_shows_only_the_facts_that_decide_it(page):
    from engine.web.forms import deciding_facts
    import engine
    deciding = deciding_facts(engine.load(REPO / "kb"))
    page.goto(case_link("/evaluate?lang=zh", KEY_ENTERPRISE))
    page.wait_for_selector("#benefit-settlement_subsidy[data-status=granted]")
    all_fields = page.locator("#profile-form .field[data-fact]").count()
    page.select_option("#focus-benefit", "rent_subsidy")
    shown = [f.get_attribute("data-fact") for f in page.locator("#profile-form .field[data-fact]").all() if f.is_visible()]
    assert set(shown) == set(deciding["rent_subsidy"]) | {"name", "application_date"}
    assert len(shown) < all_fields / 2
    assert "building_operator" not in shown and "paid_in_capital" not in shown
    assert page.locator("#group-buildings").is_hidden()
    note = page.locator("#focus-note").inner_text()
    assert "租金补贴" in note and str(len(deciding["rent_subsidy"])) in note
    assert "focus" in page.locator("#benefit-rent_subsidy").get_attribute("class")
    # The hidden facts keep their values: the result is the same case.
    assert page.locator("#benefit-settlement_subsidy[data-status=granted]").count() == 1
    page.click("#focus-all")
    assert page.locator("#profile-form .field[data-fact]:visible").count() == all_fields


def test_why_and_compare_leave_out_a_fact_they_cannot_read_and_say_so(page):
    profile = dict(KEY_ENTERPRISE, cultivation_investment="-1")
    page.goto(case_link("/why?lang=zh", profile, id="settlement_subsidy"))
    page.wait_for_selector("#why-result details.node")                 # the derivation, not an error
    assert "对新涵养企业实收资本投资或出资金额" in page.locator("#why-result .left-out").inner_text()
    page.goto(case_link("/compare?lang=en", profile))
    page.wait_for_selector("tr[data-benefit=settlement_subsidy]")
    assert "cultivation_investment" in page.locator("tr.left-out-row").inner_text()
