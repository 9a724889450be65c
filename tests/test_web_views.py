"""The graph and batch pages in a real browser: Playwright driving the system Chromium against a
``policykb serve`` subprocess on a loopback port (as tests/test_web_pages.py does: every request
stays on 127.0.0.1, no console error).

- the dependency graph fits the window when the page opens, at 1280×800 and 1920×1080, in
  Chinese and English: every node inside the viewport, every label whole inside its box, rule
  nodes named by their clause in the page's language (never by their id), and the colours of
  the node kinds never those of a status;
- the batch page lists every row with problems — its number, id and name, each problem in the
  page's language — and a CSV job's download reads in the page's language with the ids in a
  second header row; the summary is titled by the uploaded file.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from engine.web.testing import running_server

from browser import browser  # noqa: F401 (a fixture)

REPO = Path(__file__).resolve().parent.parent
SIZES = [(1280, 800), (1920, 1080)]


@pytest.fixture(scope="module")
def server():
    with running_server(workers=1, kb=str(REPO / "kb")) as (base, _):
        yield base


@pytest.fixture
def open_page(browser, server):
    """A function giving a fresh page of the given size that records every request and console
    error; both are checked at the end."""
    contexts, outside, problems = [], [], []

    def route(request_route):
        host = urlparse(request_route.request.url).hostname
        if request_route.request.url.startswith("data:") or host == "127.0.0.1":
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    def make(width: int = 1400, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True,
                                      base_url=server, locale="zh-CN")
        context.route("**/*", route)
        context.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        context.on("weberror", lambda e: problems.append(f"page error: {e.error}"))
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        return page

    yield make
    for context in contexts:
        context.close()
    assert outside == [], f"requests left localhost: {outside}"
    assert problems == [], f"console errors: {problems}"


def wait_until(page, expression: str, timeout: float = 20.0) -> None:
    """Poll ``expression`` in the page (Playwright's wait_for_function needs eval, which the
    pages' Content-Security-Policy forbids)."""
    import time
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(100)


# --------------------------------------------------------------------------- the graph

_BOXES = """() => Array.from(document.querySelectorAll('#graph .node')).map(g => {
  const on = g.getBoundingClientRect(), rect = g.querySelector('rect').getBBox(), text = g.querySelector('text').getBBox();
  return {key: g.dataset.key, kind: g.dataset.kind, label: g.dataset.label, cites: g.dataset.cites,
          shown: Array.from(g.querySelectorAll('tspan')).map(t => t.textContent),
          narrowed: g.querySelectorAll('tspan[textLength]').length,
          screen: [on.left, on.top, on.right, on.bottom], rect: [rect.x, rect.y, rect.width, rect.height],
          text: [text.x, text.y, text.width, text.height]};
})"""


def _graph(open_page, lang: str, width: int, height: int):
    page = open_page(width, height)
    page.goto(f"/graph?lang={lang}")
    wait_until(page, "document.body.dataset.graphReady === 'true'")
    return page


@pytest.mark.parametrize("width,height", SIZES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_whole_graph_is_in_the_window_when_the_page_opens(open_page, lang, width, height):
    page = _graph(open_page, lang, width, height)
    canvas = page.evaluate("(() => { const r = document.getElementById('canvas').getBoundingClientRect();"
                           " return [r.left, r.top, r.right, r.bottom]; })()")
    assert canvas[2] <= width and canvas[3] <= height, f"the canvas runs out of the window: {canvas}"
    boxes = page.evaluate(_BOXES)
    assert len(boxes) > 100
    outside = [b["key"] for b in boxes
               if b["screen"][0] < max(canvas[0], 0) - 0.5 or b["screen"][1] < max(canvas[1], 0) - 0.5
               or b["screen"][2] > min(canvas[2], width) + 0.5 or b["screen"][3] > min(canvas[3], height) + 0.5]
    assert outside == [], f"{len(outside)} nodes outside the window at {width}×{height}: {outside[:8]}"
    # Readable enough to find one's way at first sight: a line of text at least 7 px high.
    scale = page.evaluate("document.getElementById('graph').getScreenCTM().a")
    assert 13 * scale >= (6 if width < 1600 else 9), scale   # a knowledge base with more documents draws smaller


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_label_is_whole_inside_its_box_and_rules_are_named_by_their_clause(open_page, lang):
    page = _graph(open_page, lang, *SIZES[0])
    boxes = page.evaluate(_BOXES)
    for box in boxes:
        shown = "".join(box["shown"]) if lang == "zh" else " ".join(box["shown"])
        if box["kind"] == "rule":
            # A rule reads as the clause it encodes; its label adds what it derives.
            assert shown.replace(" ", "") == box["cites"].replace(" ", ""), box
            assert box["label"].startswith(box["cites"]) and "→" in box["label"] or box["key"] == "rule:highest_not_cumulative"
            assert not re.search(r"[a-z]+_[a-z_]+|\w\.\w+_", shown), box
        else:
            assert shown.replace(" ", "") == box["label"].replace(" ", ""), box   # nothing cut, no "…" added
        x, y, w, h = box["rect"]
        tx, ty, tw, th = box["text"]
        assert x <= tx and tx + tw <= x + w + 0.5 and y - 0.5 <= ty and ty + th <= y + h + 0.5, box
        assert box["narrowed"] == 0, box   # the boxes are measured for this font: nothing squeezed
    if lang == "zh":
        shown = " ".join("".join(b["shown"]) for b in boxes)
        assert "第十三条第（一）项" in shown and "settlement_subsidy" not in shown
        assert page.locator(".node.rule title").first.text_content().endswith(")")   # the id after the label, as a tip


def _rgb(css: str) -> tuple[float, float, float]:
    css = css.strip()
    if css.startswith("#"):
        return tuple(int(css[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return tuple(float(v) / 255 for v in re.findall(r"[\d.]+", css)[:3])


def _chroma(rgb) -> float:
    """CIELAB chroma: 0 for a grey, larger the more coloured."""
    def linear(c):
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = map(linear, rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116
    a, bb = 500 * (f(x) - f(y)), 200 * (f(y) - f(z))
    return (a * a + bb * bb) ** 0.5


def test_the_colours_of_the_kinds_are_not_the_colours_of_a_status(open_page):
    page = _graph(open_page, "zh", *SIZES[0])
    statuses = page.evaluate("""() => { const s = getComputedStyle(document.documentElement);
      return ['--granted', '--granted-bg', '--denied', '--denied-bg', '--undetermined', '--undetermined-bg',
              '--superseded', '--superseded-bg'].map(v => s.getPropertyValue(v)); }""")
    assert all(_chroma(_rgb(c)) >= 6 for c in statuses), statuses
    kinds = page.evaluate("""() => ['fact', 'rule', 'conclusion', 'benefit'].flatMap(kind => {
      const node = getComputedStyle(document.querySelector('#graph .node.' + kind + ' rect'));
      const key = getComputedStyle(document.querySelector('#graph-legend .k-' + kind));
      return [[kind, node.fill, node.stroke, key.fill, key.stroke]]; })""")
    for kind, *colours in kinds:
        for colour in colours:
            assert _chroma(_rgb(colour)) <= 3, (kind, colour)   # a grey: a kind is told by shape and shade
        assert colours[:2] == colours[2:], kind                   # the legend shows the node as drawn
    # With a case, what holds is drawn in the status colour, as the legend says.
    hit = page.evaluate("getComputedStyle(document.querySelector('#graph-legend .k-hit')).stroke")
    granted = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--granted')")
    assert _rgb(hit) == pytest.approx(_rgb(granted), abs=0.01)


def test_a_node_picked_from_the_policy_text_is_shown_readable_with_its_panel(open_page):
    page = open_page(1280, 800)
    page.goto("/graph?lang=zh&focus=rule:settlement_subsidy.capital_threshold")
    wait_until(page, "document.body.dataset.graphReady === 'true'")
    panel = page.locator("#graph-panel")
    assert panel.is_visible() and "入驻补助" in panel.inner_text() and "settlement_subsidy.capital_threshold" in panel.inner_text()
    node = page.locator("#n-rule\\:settlement_subsidy\\.capital_threshold")
    box = node.bounding_box()
    assert 0 <= box["x"] and box["x"] + box["width"] <= 1280 and 0 <= box["y"] and box["y"] + box["height"] <= 800
    assert page.evaluate("document.getElementById('graph').getScreenCTM().a") >= 0.99   # zoomed to read
    page.click("#zoom-fit")
    assert page.evaluate("document.getElementById('graph').getScreenCTM().a") < 0.9
    page.click("#graph-panel .close")
    assert panel.is_hidden()


# --------------------------------------------------------------------------- batch

ROWS = [
    ["id", "name", "application_date", "registered_in_xicheng", "fits_core_area_function", "lawful_operation",
     "digital_economy_business", "digital_economy_recognized", "industry", "key_enterprise_recognized",
     "establishment", "paid_in_capital", "other_district_support"],
    ["1", "甲公司", "2021-09-15", "true", "true", "true", "true", "true", "ict", "true", "new", "1.2亿元", ""],
    ["2", "乙公司", "2021-09-15", "true", "true", "true", "true", "true", "fintech", "true", "new", "一点五亿", ""],
    ["3", "丙公司", "2021-13-01", "true", "true", "true", "true", "true", "ict", "true", "relocated", "9000万", "{not json"],
    ["4", "丁公司", "2021-09-15", "true"],
]


def _upload(page, tmp_path, lang: str, output: str = ""):
    text = io.StringIO()
    csv.writer(text).writerows(ROWS)
    upload = tmp_path / "企业名单.csv"
    upload.write_bytes(text.getvalue().encode("gbk"))
    page.goto(f"/batch?lang={lang}")
    page.set_input_files("input[type=file]", str(upload))
    if output:
        page.select_option("select[name=output]", output)
    page.click("#batch-form button[type=submit]")
    page.wait_for_selector("#batch-job[data-state=done]", timeout=60_000)


def _problems(page) -> dict[int, tuple[str, list[str]]]:
    return {int(row.get_attribute("data-row")): (row.locator("td.who").inner_text(),
                                                 row.locator("ul.messages li").all_inner_texts())
            for row in page.locator("#batch-problems tbody tr").all()}


def test_the_batch_page_shows_every_row_with_problems_in_chinese(open_page, tmp_path):
    page = open_page()
    _upload(page, tmp_path, "zh")
    assert page.locator("#batch-counts").inner_text() == "“企业名单.csv”筛查完成：共 4 行，1 行已评估，3 行有误。"
    problems = _problems(page)
    assert sorted(problems) == [2, 3, 4]
    who, messages = problems[2]
    assert who == "2 · 乙公司"
    assert messages[0].startswith("行业（industry）：'fintech' 不是可选的值") and "金融" in messages[0] and "(finance)" in messages[0]
    assert messages[1].startswith("实收资本（paid_in_capital）：") and "中文数字" in messages[1]
    who, messages = problems[3]
    assert who == "3 · 丙公司" and messages[0].startswith("其他区级支持政策（other_district_support）：")
    assert any(m.startswith("申请日期（application_date）：") and "不是真实存在的日期" in m for m in messages)
    assert problems[4] == ("4 · 丁公司", ["第5行：有 4 个单元格，表头有 13 列"])
    # What the engine words in English only is shown as it is, marked as English.
    json_problem = page.locator("#batch-problems tr[data-row='3'] li[data-fact=other_district_support] .body")
    assert json_problem.get_attribute("lang") == ("en" if json_problem.inner_text().isascii() else None)


def test_a_csv_downloaded_from_the_page_reads_in_its_language_with_the_ids_below(open_page, tmp_path):
    for lang, words in (("zh", ("行号", "企业名称", "有误", "给予", "入驻补助：结论")),
                        ("en", ("Row", "Enterprise", "error", "granted", "Settlement subsidy: status"))):
        page = open_page()
        _upload(page, tmp_path, lang)
        with page.expect_download() as download:
            page.click("#batch-download-labelled")
        assert download.value.suggested_filename == "企业名单-results-labelled.csv"
        saved = tmp_path / f"labelled-{lang}.csv"
        download.value.save_as(saved)
        assert saved.read_bytes().startswith(b"\xef\xbb\xbf")   # a BOM: Excel reads it as UTF-8
        labels, ids, *rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
        assert labels[:3] == [words[0], "编号" if lang == "zh" else "ID", words[1]] and words[4] in labels
        assert ids[:5] == ["row", "id", "name", "result", "message"] and "settlement_subsidy" in ids
        table = [dict(zip(ids, row)) for row in rows]
        assert [r["name"] for r in table] == ["甲公司", "乙公司", "丙公司", "丁公司"]
        assert table[0]["settlement_subsidy"] == words[3] and table[0]["settlement_subsidy_max"] == "20000000"
        assert table[1]["result"] == words[2]
        if lang == "zh":
            assert table[1]["message"].startswith("行业（industry）：'fintech' 不是可选的值")
            assert "支持对象" in table[0]["conclusions"]
        else:
            assert table[1]["message"].startswith("Industry (industry): 'fintech' is not one of its values")
        # The machine CSV of `policykb batch` is there too, as it is.
        with page.expect_download() as download:
            page.click("#batch-download")
        machine = tmp_path / f"machine-{lang}.csv"
        download.value.save_as(machine)
        first = next(csv.DictReader(io.StringIO(machine.read_text(encoding="utf-8"))))
        assert first["settlement_subsidy"] == "granted" and first["id"] == "1"


def test_the_summary_and_the_workbook_are_titled_by_the_uploaded_file(open_page, tmp_path):
    page = open_page()
    _upload(page, tmp_path, "en", "xlsx")
    assert page.locator("#batch-download-labelled").count() == 0
    assert sorted(_problems(page)) == [2, 3, 4]   # read from the workbook's data sheet
    with page.expect_download() as download:
        page.click("#batch-download")
    assert download.value.suggested_filename == "企业名单-results.xlsx"
    saved = tmp_path / "results.xlsx"
    download.value.save_as(saved)
    import openpyxl
    book = openpyxl.load_workbook(saved, read_only=True)
    assert book.sheetnames[0] == "Results"   # the workbook in the page's language
    book.close()
    with page.expect_popup() as popup:
        page.click("#batch-summary")
    summary = popup.value
    summary.wait_for_load_state()
    assert summary.title() == "policykb batch: 企业名单.csv" and "input" not in summary.title()
    summary.close()

