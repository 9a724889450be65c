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
    assert '<h3>入驻补助 <span class="id">settlement_<wbr>subsidy</span>' in section   # the id in small print
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
    # Labels first; each id after its label, in small print.
    def small(ident):
        return f'<span class="id">{ident.replace("_", "_<wbr>")}</span>'
    assert f"下一步应询问: 新涵养重点数字经济企业 {small('cultivated_new_key_enterprise')}" in page
    assert (f"<li><strong>涵养补助 {small('cultivation_subsidy')}</strong>: 新涵养重点数字经济企业 "
            f"{small('cultivated_new_key_enterprise')}、对新涵养企业实收资本投资或出资金额 {small('cultivation_investment')}</li>") in page


def test_the_report_escapes_what_other_policies_are_called(kb):
    hostile = dict(LONG, other_district_support=[
        {"benefit": "settlement_subsidy", "policy": "<img src=x onerror=alert(1)>", "amount": "1500万元"}])
    page = report_html(engine.assess(hostile, kb=kb), "en")
    parser = _Collector()
    parser.feed(page)
    assert "img" not in parser.tags and "&lt;img src=x onerror=alert(1)&gt;" in page


# --------------------------------------------------------------------------- the first page

def _cover(page: str) -> str:
    return page[page.index('<section class="cover"'):page.index('<section class="details"')]


class _Outside(HTMLParser):
    """The text a reader reads in full size: everything but the small print (``span.id``) and the
    page's head."""

    def __init__(self):
        super().__init__()
        self.depth, self.small, self.text = 0, [], []
        self.head = False

    def handle_starttag(self, tag, attrs):
        if tag in ("head", "style", "title"):
            self.head = True
        if tag == "span":
            self.small.append(("class", "id") in attrs)

    def handle_endtag(self, tag):
        if tag in ("head", "style", "title"):
            self.head = False
        if tag == "span" and self.small:
            self.small.pop()

    def handle_data(self, data):
        if not self.head and not any(self.small):
            self.text.append(data)


def test_the_first_page_says_who_when_which_documents_and_what_was_decided(kb):
    import datetime
    profile = read_profile(KB_DIR / "examples" / "new_ict_key_enterprise.yaml", kb)
    assessment = engine.assess(profile, kb=kb)
    cover = _cover(report_html(assessment, "zh"))
    assert "<h1>北京数智云图科技有限公司</h1>" in cover and "2021年9月15日" in cover
    assert cover.count('<span class="blank"></span>') == 2 and "（签名）" in cover   # to fill in by hand
    # Every document, each with whether it applies on the case's date (and why not).
    for document in kb.documents.values():
        assert f"《{document.label('zh')}》" in cover
    result = assessment.result
    as_of = assessment.facts["application_date"]
    assert cover.count('class="applies"') == sum(d["in_force"] is True for d in result["documents"])
    assert cover.count("不适用（案例日期早于施行日期）") == sum(
        1 for d in kb.documents.values() if d.effective_date and as_of < d.effective_date)
    superseded = {s["id"] for s in result["superseded"]}
    counts = {word: sum(1 for b in kb.benefits if result["status"][b] == word and b not in superseded)
              for word in ("undetermined", "denied")}
    assert f"给予（{len(result['benefits'])} 项）" in cover and "500万元 – 2,000万元" in cover
    assert f"待定（{counts['undetermined']} 项）及原因" in cover and "下一步应询问：经认定（创新能力提升支持）" in cover
    assert f"不给予（{counts['denied']} 项）" in cover and "涵养补助" in cover
    # The knowledge base's version: once, in the small footer, nowhere else.
    page = report_html(assessment, "zh")
    assert page.count(assessment.result["kb_version"]) == 1 and \
        f'<footer class="kb">由 policykb 按知识库版本 {assessment.result["kb_version"]}' in cover
    named = _cover(report_html(assessment, "en", preparer="<b>Li Hua</b>", prepared=datetime.date(2024, 5, 6)))
    assert "&lt;b&gt;Li Hua&lt;/b&gt;" in named and "2024-05-06" in named and '<span class="blank">' not in named
    assert "Open (1), and why" in named and "ask next: Recognized for innovation-capacity support" in named


def test_what_is_open_on_the_first_page_includes_an_overlap_waiting_on_an_amount(kb):
    cover = _cover(report_html(engine.assess(LONG, kb=kb), "zh"))
    open_part = cover[cover.index("及原因"):cover.index("不给予（")]
    assert "入驻补助" in open_part and "金额孰高待定" in open_part


@pytest.mark.parametrize("example", ["new_ict_key_enterprise.yaml", "relocated_fintech_listed.yaml"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_ids_are_only_in_small_print(kb, example, lang):
    assessment = engine.assess(read_profile(KB_DIR / "examples" / example, kb), kb=kb)
    parser = _Outside()
    parser.feed(report_html(assessment, lang))
    text = "".join(parser.text)
    snake = {i for i in [*kb.facts, *kb.conclusions, *kb.documents] if "_" in i}
    shown = sorted(i for i in snake if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text))
    assert shown == [], f"ids in full-size text: {shown}"
    if lang == "zh":   # a value's id (ict, purchased) too
        assert not re.search(r"\((?:ict|purchased|rented|none|new)\)", text)


def test_a_step_derived_once_is_linked_not_derived_again(kb):
    page = report_html(engine.assess(read_profile(KB_DIR / "examples" / "new_ict_key_enterprise.yaml", kb), kb=kb), "zh")
    # The settlement subsidy and the rent subsidy both rest on 新设立或新迁入的重点数字经济企业.
    assert page.count('id="d-new_or_relocated_key_enterprise"') == 1
    assert '<a href="#d-new_or_relocated_key_enterprise">推导见上文</a>' in page


def _playwright_chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed")
    return sync_playwright, _chromium()


A4_CONTENT_HEIGHT = (297 - 14 - 16) / 25.4 * 96   # the page's height less the @page margins, in CSS px


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_printed_the_first_page_is_one_page_and_the_report_is_short(kb, tmp_path, lang):
    sync_playwright, chromium = _playwright_chromium()
    cases = {"ict": read_profile(KB_DIR / "examples" / "new_ict_key_enterprise.yaml", kb),
             "nothing_known": {"name": "空白测试公司", "application_date": "2022-07-01"}, "long": LONG}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
            pages = {}
            for name, profile in cases.items():
                path = tmp_path / f"{name}-{lang}.html"
                path.write_text(report_html(engine.assess(profile, kb=kb), lang), encoding="utf-8")
                page.goto(path.as_uri())
                page.emulate_media(media="print")
                page.set_viewport_size({"width": round((210 - 28) / 25.4 * 96), "height": 1000})
                height = page.evaluate("document.getElementById('summary').getBoundingClientRect().height")
                assert height <= A4_CONTENT_HEIGHT, f"{name}: the first page runs over ({height:.0f}px)"
                pdf = page.pdf(format="A4", print_background=True)
                pages[name] = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
        finally:
            browser.close()
    # The enterprise of the README took 13 pages (14 in English) before the first page was a summary.
    assert pages["ict"] <= 9, pages
    # At most 12 A4 pages for the 14 benefits the bundled knowledge base had (13-21 before); one more
    # page allowed for each benefit a newer knowledge base adds.
    assert max(pages.values()) <= 12 + max(0, len(kb.benefits) - 14), pages


def test_the_command_line_prints_the_preparer_and_the_date_prepared(tmp_path, capsys):
    from engine.cli import main
    from conftest import KB_DIR
    out = tmp_path / "r.html"
    assert main(["report", str(KB_DIR / "examples" / "new_ict_key_enterprise.yaml"), "--out", str(out),
                 "--preparer", "张三", "--prepared", "2026/12/2"]) == 0
    page = out.read_text(encoding="utf-8")
    assert "张三" in page and "2026年12月2日" in page
    assert main(["report", str(KB_DIR / "examples" / "new_ict_key_enterprise.yaml"), "--out", str(out),
                 "--prepared", "2026/13/2"]) == 2
    assert "--prepared：“2026/13/2”不是真实存在的日期" in capsys.readouterr().err
