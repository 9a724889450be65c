"""Reports an analyst can hand on (engine/rendering/report.py)."""

import re
from html.parser import HTMLParser

import pytest

import engine
from engine.loading.profile import read_profile
from engine.rendering.report import report_html, report_markdown

from conftest import KB_DIR


@pytest.fixture
def assessment(kb):
    profile = read_profile(KB_DIR / "examples" / "relocated_fintech_listed.yaml", kb)
    return engine.assess(profile, kb=kb)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.external, self.ids, self.text = [], [], set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)
            if name == "id":
                self.ids.add(value)

    def handle_data(self, data):
        self.text.append(data)


def test_the_html_report_is_self_contained_and_covers_every_benefit(kb, assessment):
    page = report_html(assessment, "zh")
    parser = _Collector()
    parser.feed(page)
    assert parser.external == [] and "script" not in parser.tags and "link" not in parser.tags
    text = "".join(parser.text)
    for benefit in kb.benefits:
        assert benefit in parser.ids and f"row-{benefit}" in parser.ids
    assert "金融街智链数据科技股份有限公司" in text and "2022年6月30日" in text
    assert "第十三条第（一）项" in text and "按实收资本规模给予500万到2000万元补助" in text
    assert "由其他政策支持（就高）" in text and "800万元" in text   # the superseded listing grant
    assert "@media print" in page


def test_the_markdown_report_has_the_same_sections(assessment):
    text = report_markdown(assessment, "en")
    for heading in ("## Benefits", "## Conclusions that hold", "## Missing facts",
                    "## Enterprise facts", "## Why and why not"):
        assert heading in text
    assert re.search(r"\| Settlement subsidy \(`settlement_subsidy`\) \| Art\. 13\(1\) \| granted \| CNY 5 million – CNY 20 million \|", text)
    assert "It would be granted with" in text   # a why-not section with alternatives
    assert re.search(r"\| Cultivation subsidy \(`cultivation_subsidy`\) \| Art\. 13\(1\) \| denied \| — \| "
                     r"Newly cultivated a key digital-economy enterprise \(actual: no\) \|", text)


def test_the_report_escapes_what_the_profile_says(kb):
    assessment = engine.assess({"name": "<script>alert(1)</script>", "application_date": "2022-01-01"}, kb=kb)
    page = report_html(assessment, "en")
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def _chromium():
    import os
    import shutil
    chromium = shutil.which("chromium")
    if not chromium:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed, and .ci/run should have installed it")
        pytest.skip("chromium is not installed here")
    return chromium


def _dump_dom(path, tmp_path, width=1200):
    import subprocess
    done = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--window-size={width},1000", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                           path.as_uri()], capture_output=True, text=True, timeout=120)
    return done.stdout


def test_the_html_report_opens_in_a_headless_browser_with_no_network(assessment, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(report_html(assessment, "zh"), encoding="utf-8")
    dom = _dump_dom(path, tmp_path)
    assert "金融街智链数据科技股份有限公司" in dom and 'id="row-settlement_subsidy"' in dom
    assert dom.count("<section id=") == len(assessment.kb.benefits)
    assert dom.count("<details open") > 12 and "<pre" not in dom


#: A profile whose facts are long: other policies with long titles, every technology domain.
LONG = {"name": "北京某某超长名称数字经济科技发展股份有限公司", "application_date": "2022-01-01",
        "registered_in_xicheng": True, "fits_core_area_function": True, "lawful_operation": True,
        "digital_economy_business": True, "digital_economy_recognized": True, "industry": "ict",
        "key_enterprise_recognized": True, "establishment": "new", "paid_in_capital": "1亿元", "office_tenure": "rented",
        "tech_domains": ["big_data", "ai", "blockchain", "network_security", "iot", "fintech", "ecommerce"],
        "other_district_support": [
            {"benefit": "settlement_subsidy", "amount": "1500万元",
             "policy": "北京市西城区关于进一步支持金融科技与专业服务创新示范区高质量发展的若干配套实施细则（试行）"},
            {"benefit": "rent_subsidy", "amount": "300万元",
             "policy": "北京市西城区关于促进高精尖产业发展进一步优化营商环境的若干措施实施办法"}]}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_fits_a_narrow_page_in_a_browser(kb, tmp_path, lang):
    # The page has no script; the test adds one that records, once laid out, how wide the
    # page is against the window, and reads it back from the DOM Chromium dumps.
    probe = ("<script>document.addEventListener('DOMContentLoaded', () => document.body.setAttribute("
             "'data-width', document.documentElement.scrollWidth + '/' + window.innerWidth));</script>")
    path = tmp_path / "report.html"
    path.write_text(report_html(engine.assess(LONG, kb=kb), lang).replace("</body>", probe + "</body>"),
                    encoding="utf-8")
    found = re.search(r'data-width="(\d+)/(\d+)"', _dump_dom(path, tmp_path, width=800))
    assert found, "the probe did not run"
    page, window = map(int, found.groups())
    assert page <= window


def test_the_why_sections_are_trees_with_labels_quotes_and_amounts(kb):
    page = report_html(engine.assess(LONG, kb=kb), "zh")
    section = page[page.index('<section id="settlement_subsidy">'):page.index('<section id="cultivation_subsidy">')]
    assert "<pre" not in page and section.count("<details open") >= 5
    assert "<strong>入驻补助</strong> <code>settlement_subsidy</code>" in section
    assert "实收资本 = <b>1亿元</b>" in section and "实收资本 不低于 1亿元" in section
    assert "“对新设立或者新迁入的重点数字经济企业，实收资本1亿元人民币" in section
    assert "金额: 500万元 – 2,000万元" in section
    # Rule ids are not what a reader reads: at most a tooltip.
    assert ">settlement_subsidy.capital_threshold" not in section and 'title="settlement_subsidy.capital_threshold"' in section


def test_the_report_shows_article_14_as_eval_does(kb):
    page = report_html(engine.assess(LONG, kb=kb), "zh")
    row = page[page.index('id="row-settlement_subsidy"'):page.index('id="row-cultivation_subsidy"')]
    assert "给予（重叠待定）" in row and "介于本措施 500万元–2,000万元 之间：孰高待本措施金额确定后由分析人员判定" in row
    rent = page[page.index('id="row-rent_subsidy"'):page.index('id="row-key_enterprise_reward"')]
    assert "本措施金额未定：孰高待本措施金额确定后由分析人员判定" in rent
    english = report_html(engine.assess(LONG, kb=kb), "en")
    assert "which is higher is for the analyst to settle" in english and "granted (open overlap)" in english


def test_the_report_names_missing_and_next_facts_by_label(kb):
    page = report_html(engine.assess({"application_date": "2022-01-01", "registered_in_xicheng": True}, kb=kb), "zh")
    assert "下一步应询问: 新涵养重点数字经济企业 (cultivated_<wbr>new_<wbr>key_<wbr>enterprise)" in page
    assert ("<li><strong>涵养补助 (cultivation_subsidy)</strong>: 新涵养重点数字经济企业 (cultivated_new_key_enterprise)、"
            "对新涵养企业实收资本投资或出资金额 (cultivation_investment)</li>") in page


def test_the_report_escapes_what_other_policies_are_called(kb):
    hostile = dict(LONG, other_district_support=[
        {"benefit": "settlement_subsidy", "policy": "<img src=x onerror=alert(1)>", "amount": "1500万元"}])
    page = report_html(engine.assess(hostile, kb=kb), "en")
    parser = _Collector()
    parser.feed(page)
    assert "img" not in parser.tags and "&lt;img src=x onerror=alert(1)&gt;" in page
