"""The results workbook an analyst reads (engine/rendering/results_sheet.py, `policykb batch --out results.xlsx`)."""

import csv
import datetime as dt
import json
import shutil
import subprocess
import time

import openpyxl
import pytest
import yaml

from engine.screening import batch
from engine.cli import main

from conftest import KB_DIR

BASE = yaml.safe_load((KB_DIR / "examples" / "new_ict_key_enterprise.yaml").read_text(encoding="utf-8"))


def _input(tmp_path):
    """Four enterprises as a sheet headed by labels: one granted the settlement subsidy, one
    denied it (capital too low), one undetermined (its establishment unknown), one unreadable."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["编号", "企业名称", "申请日期", "行业", "新设立 / 新迁入 / 存量", "实收资本", "驻区企业",
                  "以数据为关键生产要素…的经济形态", "经认定符合数字经济发展导向", "符合首都功能核心区定位",
                  "依法合规运营", "按照产业类别经认定为重点企业", "购买 / 租用办公用房"])
    common = ["是", "是", "是", "是", "是", "是", "租用办公用房"]
    sheet.append(["E1", "=HYPERLINK(\"http://evil\",\"x\")", dt.datetime(2021, 9, 15), "信息传输、软件和信息技术服务业",
                  "新设立", 120_000_000, *common])
    sheet.append(["E2", "乙公司", dt.datetime(2021, 9, 15), "信息传输、软件和信息技术服务业", "新设立", "8000万", *common])
    sheet.append(["E3", "丙公司", dt.datetime(2021, 9, 15), "信息传输、软件和信息技术服务业", None, "1.2亿元", *common])
    sheet.append(["E4", "丁公司", dt.datetime(2021, 9, 15), "金融科技", "新设立", "一点五亿", *common])
    sheet["B2"].data_type = "s"   # text that looks like a formula, as a person may type it
    path = tmp_path / "in.xlsx"
    book.save(path)
    return path


@pytest.fixture
def results(kb, tmp_path):
    outcome = batch.run(kb, _input(tmp_path), tmp_path / "out" / "results.xlsx", quiet=True,
                        reports=tmp_path / "out" / "reports")
    return outcome


def _rows(sheet):
    return list(sheet.iter_rows(values_only=True))


def test_the_input_comes_first_as_given_then_each_benefit_with_status_amounts_and_a_note(results, kb):
    book = openpyxl.load_workbook(results.path)
    assert book.sheetnames == ["结果", "汇总", "data"]
    sheet = book["结果"]
    rows = _rows(sheet)
    ids, labels = rows[2], rows[1]
    assert ids[:4] == ("row", "id", "name", "application_date") and labels[:3] == ("行", "编号", "企业名称")
    data = rows[3:]
    assert [r[1] for r in data] == ["E1", "E2", "E3", "E4"]
    assert data[0][ids.index("industry")] == "信息传输、软件和信息技术服务业"   # as given, not the id
    assert data[1][ids.index("paid_in_capital")] == "8000万"
    capital = sheet.cell(row=4, column=ids.index("paid_in_capital") + 1)
    assert capital.value == 120_000_000 and capital.number_format == '#,##0"元"'
    assert sheet.cell(row=4, column=ids.index("application_date") + 1).value == dt.datetime(2021, 9, 15)
    assert sheet.cell(row=4, column=ids.index("application_date") + 1).number_format == "yyyy-mm-dd"
    # The benefits: grouped under their document's short name, labelled with id and clause.
    start = ids.index("结论")
    assert rows[0][start] == "《若干措施》" and rows[1][start] == "入驻补助 (settlement_subsidy) 第十三条第（一）项"
    assert ids[start:start + 4] == ("结论", "最低金额", "最高金额", "说明（金额 / 下一步应询问 / 未获原因）")
    later = rows[1].index("开办费补助 (startup_cost_subsidy) 《产业高质量发展若干措施》第二条第（一）项")
    assert rows[0][later] == "《产业高质量发展若干措施》"
    granted, denied, undetermined, error = (r[start:start + 4] for r in data)
    assert granted == ("给予", 5_000_000, 20_000_000, "500万元 – 2,000万元")
    assert sheet.cell(row=4, column=start + 3).number_format == '#,##0"元"'
    assert denied[:3] == ("不给予", None, None) and "实收资本 不低于 1亿元" in denied[3] and "8,000万元" in denied[3]
    assert undetermined[0] == "待定" and undetermined[3] == "下一步应询问：新设立 / 新迁入 / 存量 (establishment)"
    assert error[0] is None and "一点五亿" in data[3][ids.index("problems") if "problems" in ids else ids.index("message")]
    # A benefit the text gives no amount for: blank amounts (never 0), the terms in the note.
    rent = rows[1].index("租金补贴 (rent_subsidy) 第十三条第（一）项")
    assert data[0][rent:rent + 4] == ("给予", None, None, data[0][rent + 3]) and "金额未定" in data[0][rent + 3]


def test_statuses_are_coloured_and_the_header_frozen_and_filtered(results, kb):
    sheet = openpyxl.load_workbook(results.path)["结果"]
    assert sheet.freeze_panes == "D4"   # the header rows; the row number, id and name
    assert sheet.auto_filter.ref.startswith("A3:")
    rules = {rule.formula[0]: rule for cf in sheet.conditional_formatting for rule in cf.rules}
    assert set(rules) == {'"给予"', '"不给予"', '"待定"', '"由其他政策支持"'}
    ranges = [str(cf.sqref) for cf in sheet.conditional_formatting]
    assert all(len(r.split()) == len(kb.benefits) for r in ranges)   # every benefit's status column
    assert rules['"给予"'].dxf.fill.fgColor.rgb.endswith("C6EFCE")


def test_the_summary_counts_and_sums_only_fixed_ceilings_with_a_chart(results, kb):
    book = openpyxl.load_workbook(results.path)
    sheet = book["汇总"]
    rows = _rows(sheet)
    assert rows[1][0] == "4 行：3 行已评估，1 行有误"
    table = {r[1]: r for r in rows[4:] if r and r[1]}
    settlement = table["入驻补助 (settlement_subsidy)"]
    assert settlement[3:8] == (1, 1, 1, 0, 20_000_000)
    rent = table["租金补贴 (rent_subsidy)"]
    assert rent[3:5] == (2, 1) and rent[7] == "—" and rent[8] == 2 and "不合计" in rent[9]   # not "0元"
    assert sheet.cell(row=5, column=8).number_format == '#,##0"元"'
    assert len(sheet._charts) == 1


def test_each_enterprise_has_a_report_linked_from_its_row(results, tmp_path):
    sheet = openpyxl.load_workbook(results.path)["结果"]
    ids = [c.value for c in sheet[3]]
    column = ids.index("report") + 1
    links = [sheet.cell(row=r, column=column).hyperlink for r in range(4, 8)]
    assert [link.target if link else None for link in links[:3]] == [
        "reports/00001-E1.html", "reports/00002-E2.html", "reports/00003-E3.html"]
    assert links[3] is None   # the row with errors has no report
    page = (tmp_path / "out" / "reports" / "00001-E1.html").read_text(encoding="utf-8")
    assert "入驻补助" in page and "&quot;http://evil&quot;" in page and "<script" not in page


def test_no_cell_is_a_formula_and_hostile_text_stays_text(results):
    book = openpyxl.load_workbook(results.path)
    cells = [c for s in book.worksheets for row in s.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    name = book["结果"].cell(row=4, column=3)
    assert name.value.startswith("=HYPERLINK") and name.data_type == "s"


def test_the_workbook_is_the_same_bytes_for_any_workers_and_any_time(kb, tmp_path):
    source = _input(tmp_path)
    one = batch.run(kb, source, tmp_path / "one.xlsx", quiet=True, workers=1).path.read_bytes()
    time.sleep(2.1)   # zip entries keep the time to two seconds
    two = batch.run(kb, source, tmp_path / "two.xlsx", quiet=True, workers=2).path.read_bytes()
    assert one == two


def test_english_words_with_lang_en(kb, tmp_path, capsys):
    out = tmp_path / "en.xlsx"
    assert main(["batch", str(_input(tmp_path)), "--out", str(out), "--lang", "en", "--workers", "1",
                 "--kb", str(KB_DIR)]) == 0
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Results", "Summary", "data"]
    rows = _rows(book["Results"])
    start = rows[2].index("Status")
    assert rows[1][start] == "Settlement subsidy (settlement_subsidy) Art. 13(1)"
    assert rows[3][start:start + 3] == ("granted", 5_000_000, 20_000_000)
    assert rows[5][start + 3] == "ask next: Newly established, newly relocated or existing (establishment)"
    assert book["Results"].cell(row=4, column=start + 2).number_format == '"CNY "#,##0'
    # The terminal summary never says 0 for amounts the text does not fix.
    err = capsys.readouterr().err
    rent = next(line for line in err.splitlines() if "(rent_subsidy)" in line)
    assert "—" in rent and "CNY 0" not in rent


def test_csv_and_jsonl_inputs_keep_their_columns(kb, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,industry,paid_in_capital\nA,ict,1亿\n", encoding="utf-8")
    rows = _rows(openpyxl.load_workbook(batch.run(kb, path, tmp_path / "a.xlsx", quiet=True).path)["结果"])
    assert rows[2][:4] == ("row", "id", "industry", "paid_in_capital") and rows[3][:4] == (1, "A", "ict", "1亿")
    lines = tmp_path / "in.jsonl"
    lines.write_text(json.dumps({"id": "B", "industry": "ict", "tech_domains": [], "registered_in_xicheng": True}) + "\n",
                     encoding="utf-8")
    sheet = openpyxl.load_workbook(batch.run(kb, lines, tmp_path / "b.xlsx", quiet=True).path)["结果"]
    rows = _rows(sheet)
    assert rows[3][rows[2].index("tech_domains")] == "无" and rows[3][rows[2].index("registered_in_xicheng")] == "是"


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")),
                    reason="LibreOffice is not installed (apt-get install libreoffice-calc)")
def test_libreoffice_opens_the_results_workbook(results, tmp_path):
    office = shutil.which("soffice") or shutil.which("libreoffice")
    folder = tmp_path / "converted"
    profile = tmp_path / "lo-profile"
    for target in ("pdf", "csv:Text - txt - csv (StarCalc):44,34,76"):   # 76: UTF-8
        subprocess.run([office, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", target,
                        "--outdir", str(folder), str(results.path)], check=True, capture_output=True, timeout=180)
    assert (folder / "results.pdf").read_bytes().startswith(b"%PDF")
    with (folder / "results.csv").open(encoding="utf-8", errors="replace", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[2][:3] == ["row", "id", "name"]
    assert rows[3][1] == "E1" and "给予" in rows[3] and "500万元 – 2,000万元" in rows[3]


def test_benefits_not_stacked_across_documents_say_so_in_the_note_and_the_summary(kb, tmp_path):
    # A new key enterprise in 2023 gets both the measures' settlement subsidy and the 2022
    # start-up cost subsidy: Article 14 says it takes one, and the sheet must say so.
    profile = yaml.safe_load((KB_DIR / "examples" / "new_ict_key_enterprise.yaml").read_text(encoding="utf-8"))
    profile.update(application_date="2023-01-05", registration_date="2022-08-01", major_industry_influence=True,
                   startup_subsidy_recognized=True)
    (tmp_path / "in.jsonl").write_text(json.dumps(profile, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    outcome = batch.run(kb, tmp_path / "in.jsonl", tmp_path / "out.xlsx", quiet=True)
    book = openpyxl.load_workbook(outcome.path)
    rows = _rows(book["结果"])
    start = rows[1].index("入驻补助 (settlement_subsidy) 第十三条第（一）项")
    settlement = rows[3][start:start + 4]
    assert settlement[0] == "给予" and "500万元 – 2,000万元" in settlement[3]
    assert "⚠" in settlement[3] and "不重复享受" in settlement[3] and "开办费补助" in settlement[3]
    summary = {r[1]: r for r in _rows(book["汇总"]) if r and r[1]}
    assert "与开办费补助 (startup_cost_subsidy)不重复享受" in summary["入驻补助 (settlement_subsidy)"][9]
