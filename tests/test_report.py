"""Reports an analyst can hand on (engine/report.py)."""

import re
from html.parser import HTMLParser

import pytest

import engine
from engine.profile import read_profile
from engine.report import report_html, report_markdown

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
    for heading in ("## Article 13 benefits", "## Conclusions that hold", "## Missing facts",
                    "## Enterprise facts", "## Why and why not"):
        assert heading in text
    assert re.search(r"\| Settlement subsidy \(`settlement_subsidy`\) \| Art\. 13\(1\) \| granted \| CNY 5 million – CNY 20 million \|", text)
    assert "It would be granted with" in text   # a why-not section with alternatives


def test_the_report_escapes_what_the_profile_says(kb):
    assessment = engine.assess({"name": "<script>alert(1)</script>", "application_date": "2022-01-01"}, kb=kb)
    page = report_html(assessment, "en")
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_the_html_report_opens_in_a_headless_browser_with_no_network(assessment, tmp_path):
    import os
    import shutil
    import subprocess
    chromium = shutil.which("chromium")
    if not chromium:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed, and .ci/run should have installed it")
        pytest.skip("chromium is not installed here")
    path = tmp_path / "report.html"
    path.write_text(report_html(assessment, "zh"), encoding="utf-8")
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert "金融街智链数据科技股份有限公司" in done.stdout and 'id="row-settlement_subsidy"' in done.stdout
    assert done.stdout.count("<section id=") == 12
