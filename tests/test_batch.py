"""Screening many enterprises (engine/screening/batch.py, engine/screening/dask_engine.py)."""

import csv
import io
import json
import os

import openpyxl
import pytest
import yaml

from engine.screening import batch, chunks, local, parsing, result_rows
from engine.screening import rows as batch_rows
from engine.cli import main
from engine.errors import ProfileError

from conftest import KB_DIR

BASE = yaml.safe_load((KB_DIR / "examples" / "new_ict_key_enterprise.yaml").read_text(encoding="utf-8"))
COLUMNS = ["id", "name", "application_date", "fits_core_area_function", "lawful_operation", "digital_economy_business",
           "digital_economy_recognized", "industry", "key_enterprise_recognized", "establishment", "paid_in_capital",
           "office_tenure", "tech_domains", "other_district_support", "registered_in_xicheng"]


def _row(n, capital="1.2亿元", industry="ict", offers=""):
    return [f"E{n}", f"企业{n}", "2021-09-15", "true", "true", "true", "true", industry, "true", "new", capital,
            "rented", "ai;big_data", offers, "true"]


def _csv(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


@pytest.fixture
def sample(tmp_path):
    return _csv(tmp_path / "in.csv", [
        _row(1), _row(2, capital="8000万"), _row(3, industry="fintech"), _row(4, capital="一点五亿"),
        _row(5, offers=json.dumps([{"benefit": "settlement_subsidy", "policy": "甲", "amount": "3000万"}], ensure_ascii=False)),
        _row(6, offers="{not json"), ["E7", "short row"], _row(8)])


def _read_csv(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_row_comes_out_in_order_with_bad_rows_as_errors(kb, sample, tmp_path):
    outcome = batch.run(kb, sample, tmp_path / "out.csv", quiet=True)
    rows = _read_csv(outcome.path)
    assert outcome.complete and [r["row"] for r in rows] == [str(n) for n in range(1, 9)]
    assert [r["result"] for r in rows] == ["ok", "ok", "error", "error", "ok", "error", "error", "ok"]
    assert rows[0]["settlement_subsidy"] == "granted" and rows[0]["settlement_subsidy_max"] == "20000000"
    assert rows[1]["settlement_subsidy"] == "denied" and rows[1]["rent_subsidy"] == "granted"
    assert "'fintech' is not one of its values" in rows[2]["message"]
    assert "Chinese numerals" in rows[3]["message"]
    assert rows[4]["settlement_subsidy"] == "superseded" and rows[4]["superseded"] == "settlement_subsidy"
    assert "not valid JSON" in rows[5]["message"] and "2 cells for 15 columns" in rows[6]["message"]
    assert rows[0]["id"] == "E1" and "support_target" in rows[0]["conclusions"].split(";")
    assert outcome.summary.rows == 8 and outcome.summary.errors == 4
    assert outcome.summary.benefits["settlement_subsidy"]["granted"] == 2
    assert outcome.summary.benefits["settlement_subsidy"]["ceiling_sum"] == 40_000_000


def test_the_output_is_the_same_for_any_number_of_workers(kb, sample, tmp_path):
    one = batch.run(kb, sample, tmp_path / "one.csv", quiet=True, workers=1).path.read_bytes()
    two = batch.run(kb, sample, tmp_path / "two.csv", quiet=True, workers=2).path.read_bytes()
    assert one == two


def test_jsonl_in_and_out(kb, tmp_path):
    source = tmp_path / "in.jsonl"
    good = {k: v for k, v in BASE.items()}
    good["application_date"] = "2021-09-15"
    lines = [json.dumps(dict(good, id="A"), ensure_ascii=False), "{broken", "[1, 2]", "",
             json.dumps(dict(good, paid_in_capital="8000万"), ensure_ascii=False)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome = batch.run(kb, source, tmp_path / "out.jsonl", quiet=True)
    records = [json.loads(line) for line in outcome.path.read_text(encoding="utf-8").splitlines()]
    assert [r["result"] for r in records] == ["ok", "error", "error", "ok"]
    assert records[0]["id"] == "A" and records[3]["id"] == BASE["name"]
    assert "line 2: not JSON" in records[1]["message"] and "JSON object" in records[2]["message"]
    assert records[0]["evaluation"]["status"]["settlement_subsidy"] == "granted"


def test_xlsx_in_and_out(kb, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "企业"
    sheet.append(COLUMNS)
    sheet.append(_row(1))
    row = _row(2)
    row[2] = __import__("datetime").datetime(2021, 9, 15)   # Excel dates arrive as datetimes
    row[10] = 120_000_000
    sheet.append(row)
    book.save(tmp_path / "in.xlsx")
    outcome = batch.run(kb, tmp_path / "in.xlsx", tmp_path / "out.xlsx", quiet=True, sheet="企业")
    # The machine columns of the CSV output are on the workbook's "data" sheet.
    values = list(openpyxl.load_workbook(outcome.path)["data"].iter_rows(values_only=True))
    header = values[0]
    assert header[:3] == ("row", "id", "result") and len(values) == 3
    assert [v[header.index("settlement_subsidy")] for v in values[1:]] == ["granted", "granted"]
    assert values[2][header.index("settlement_subsidy_max")] == 20_000_000
    with pytest.raises(ProfileError) as err:
        list(batch_rows.read_rows(tmp_path / "in.xlsx", kb, sheet="企"))
    assert err.value.suggestion == "企业"


def test_a_bad_header_stops_the_batch_with_the_nearest_fact(kb, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,paid_in_captial\nE1,1亿\n", encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        batch.run(kb, path, tmp_path / "out.csv", quiet=True)
    assert err.value.suggestion == "paid_in_capital" and err.value.line == 1
    assert not (tmp_path / "out.csv").exists()


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_shown_on_a_terminal_and_not_otherwise(kb, sample, tmp_path):
    terminal = _Terminal()
    batch.run(kb, sample, tmp_path / "a.csv", progress_stream=terminal)
    assert "8/8 rows" in terminal.getvalue() and "rows/s" in terminal.getvalue() and "left" in terminal.getvalue()
    quiet = _Terminal()
    batch.run(kb, sample, tmp_path / "b.csv", progress_stream=quiet, quiet=True)
    plain = io.StringIO()
    batch.run(kb, sample, tmp_path / "c.csv", progress_stream=plain)
    assert quiet.getvalue() == "" and plain.getvalue() == ""


def test_an_interrupted_run_leaves_a_file_that_says_it_is_incomplete(kb, sample, tmp_path, monkeypatch):
    real = batch.evaluate_local

    def interrupted(kb, rows, as_of, workers, kind):
        results = real(kb, rows, as_of, workers, kind)
        yield next(results)
        raise KeyboardInterrupt

    monkeypatch.setattr(chunks, "CHUNK", 3)
    monkeypatch.setattr(batch, "evaluate_local", interrupted)
    outcome = batch.run(kb, sample, tmp_path / "out.csv", quiet=True)
    assert not outcome.complete and outcome.reason == "interrupted"
    assert not (tmp_path / "out.csv").exists() and outcome.path.name == "out.csv.incomplete"
    marker, rest = outcome.path.read_text(encoding="utf-8").split("\n", 1)
    assert marker.startswith("未完成")   # it says so from its first line, whatever stops the run
    rows = list(csv.DictReader(io.StringIO(rest)))
    assert [r["row"] for r in rows[:-1]] == ["1", "2", "3"]
    assert rows[-1]["result"] == "incomplete" and "3 rows written" in rows[-1]["message"]


def dies_on_row_4(rows, as_of, kind):
    """A worker that is killed while evaluating row 4 (module level, so it can be pickled)."""
    if any(row.number == 4 for row in rows):
        os._exit(9)
    return chunks.evaluate_rows(local._worker_kb["kb"], rows, as_of, kind)


def test_a_killed_worker_leaves_an_incomplete_file_not_a_short_one(kb, sample, tmp_path, monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK", 2)
    monkeypatch.setattr(local, "_work", dies_on_row_4)
    outcome = batch.run(kb, sample, tmp_path / "out.jsonl", quiet=True, workers=2)
    assert not outcome.complete and outcome.reason == "a worker process died"
    assert not (tmp_path / "out.jsonl").exists()
    last = json.loads(outcome.path.read_text(encoding="utf-8").splitlines()[-1])
    assert last["incomplete"] is True


def test_the_command_writes_the_summary_page_and_exits_0(sample, tmp_path, capsys):
    code = main(["batch", str(sample), "--out", str(tmp_path / "out.csv"), "--summary", str(tmp_path / "s.html"),
                 "--kb", str(KB_DIR), "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 0 and "共 8 行，已评估 4 行，错误 4 行" in err
    page = (tmp_path / "s.html").read_text(encoding="utf-8")
    assert "<svg" in page and "<rect" in page and "入驻补助" in page and "http" not in page.replace("http://www.w3.org", "")


def test_streaming_accounts_for_every_row_of_a_large_file(kb, tmp_path):
    rows = [_row(n, capital=f"{n}") for n in range(1, 3001)]
    source = _csv(tmp_path / "big.csv", rows)
    outcome = batch.run(kb, source, tmp_path / "big.jsonl", quiet=True, workers=2)
    lines = outcome.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3000 and [json.loads(line)["row"] for line in lines] == list(range(1, 3001))


def test_dask_gives_byte_identical_output(kb, sample, tmp_path):
    pytest.importorskip("dask.distributed")
    local = batch.run(kb, sample, tmp_path / "local.csv", quiet=True, workers=1).path.read_bytes()
    remote = batch.run(kb, sample, tmp_path / "dask.csv", quiet=True, workers=2, engine="dask").path.read_bytes()
    assert remote == local


def _chinese_csv(path, encoding, bom=b""):
    """A CSV such as Excel saves on a Chinese Windows machine: Chinese names and a Chinese
    industry column value that must be read exactly (a wrong decoding makes it an error)."""
    rows = [_row(1), _row(2, industry="finance")]
    rows[0][1], rows[1][1] = "北京数智云图科技有限公司", "西城金融科技公司"
    text = io.StringIO()
    csv.writer(text).writerows([COLUMNS] + rows)
    path.write_bytes(bom + text.getvalue().encode(encoding))
    return path


def _cli(capsys, *argv):
    code = main(["batch", *map(str, argv), "--kb", str(KB_DIR), "--workers", "1"])
    return code, capsys.readouterr().err


def test_a_gbk_csv_from_excel_is_read_as_gb18030_and_says_so(tmp_path, capsys):
    source = _chinese_csv(tmp_path / "gbk.csv", "gbk")
    code, err = _cli(capsys, source, "--out", tmp_path / "out.jsonl")
    assert code == 0 and "reading gbk.csv as GB18030 (detected: the file is not UTF-8)" in err
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["result"] for r in records] == ["ok", "ok"]
    assert records[0]["evaluation"]["enterprise"] == "北京数智云图科技有限公司"
    assert records[1]["evaluation"]["enterprise"] == "西城金融科技公司"


def test_a_utf8_csv_with_a_bom_is_read_as_utf8(tmp_path, capsys):
    source = _chinese_csv(tmp_path / "bom.csv", "utf-8", bom=b"\xef\xbb\xbf")
    code, err = _cli(capsys, source, "--out", tmp_path / "out.csv")
    assert code == 0 and "reading bom.csv as UTF-8 with BOM (detected)" in err
    rows = _read_csv(tmp_path / "out.csv")
    assert [r["result"] for r in rows] == ["ok", "ok"] and rows[0]["settlement_subsidy"] == "granted"


def test_encoding_forces_the_reading(tmp_path, capsys):
    source = _chinese_csv(tmp_path / "gbk.csv", "gbk")
    code, err = _cli(capsys, source, "--out", tmp_path / "gbk.jsonl", "--encoding", "gbk")
    assert code == 0 and "reading gbk.csv as gbk (--encoding)" in err
    assert '"enterprise": "北京数智云图科技有限公司"' in (tmp_path / "gbk.jsonl").read_text(encoding="utf-8")
    # Forced to UTF-8, the same file's Chinese rows are errors, one per row, and none is lost.
    code, err = _cli(capsys, source, "--out", tmp_path / "utf8.csv", "--encoding", "utf-8")
    rows = _read_csv(tmp_path / "utf8.csv")
    assert code == 0 and [r["result"] for r in rows] == ["error", "error"]
    assert "line 2: not UTF-8 text" in rows[0]["message"]
    code, err = _cli(capsys, source, "--out", tmp_path / "x.csv", "--encoding", "gbkk")
    assert code == 2 and "'gbkk' is not a text encoding (did you mean 'gbk'?)" in err and "Traceback" not in err


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf"])
def test_an_empty_csv_is_an_error_not_zero_rows(tmp_path, capsys, content):
    source = tmp_path / "empty.csv"
    source.write_bytes(content)
    code, err = _cli(capsys, source, "--out", tmp_path / "out.csv")
    assert code == 2 and "empty.csv:1: the file is empty" in err and "Traceback" not in err
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.csv.incomplete").exists()


def test_a_row_with_several_problems_reports_every_one(kb, tmp_path):
    bad_json = _row(1, capital="一点五亿", industry="fintech", offers="{not json")
    source = _csv(tmp_path / "in.csv", [_row(2, capital="一点五亿", industry="fintech"), bad_json])
    rows = _read_csv(batch.run(kb, source, tmp_path / "out.csv", quiet=True).path)
    first = rows[0]["message"].split("; ")
    assert [p.split(":")[0] for p in first if p.split(":")[0] in ("industry", "paid_in_capital")] == \
        ["industry", "paid_in_capital"]
    assert "'fintech' is not one of its values" in rows[0]["message"] and "Chinese numerals" in rows[0]["message"]
    assert rows[1]["message"].startswith("other_district_support: not valid JSON")
    assert "'fintech'" in rows[1]["message"] and "Chinese numerals" in rows[1]["message"]


def test_the_summary_shows_labels_in_the_chosen_language_with_ids(sample, tmp_path, capsys):
    code, err = _cli(capsys, sample, "--out", tmp_path / "zh.csv", "--summary", tmp_path / "zh.html")
    assert code == 0 and "入驻补助 (settlement_subsidy)" in err and "给予企业数" in err and "enterprises" not in err
    zh_page = (tmp_path / "zh.html").read_text(encoding="utf-8")
    assert "入驻补助 (settlement_subsidy)" in zh_page and "<th>上限合计</th>" in zh_page and "rows" not in zh_page
    code, err = _cli(capsys, sample, "--out", tmp_path / "en.csv", "--summary", tmp_path / "en.html", "--lang", "en")
    assert code == 0 and "Settlement subsidy (settlement_subsidy)" in err and "入驻补助" not in err
    assert "8 rows, 4 evaluated, 4 errors" in err
    page = (tmp_path / "en.html").read_text(encoding="utf-8")
    assert "Settlement subsidy <code>settlement_subsidy</code>" in page and 'lang="en"' in page


def test_a_quoted_cell_spanning_lines_is_one_row_in_any_number_of_workers(kb, tmp_path):
    row = _row(1)
    row[1] = "第一行\n第二行"
    source = _csv(tmp_path / "in.csv", [row, _row(2), ["E3", "short row"]])
    one = batch.run(kb, source, tmp_path / "one.csv", quiet=True, workers=1).path
    two = batch.run(kb, source, tmp_path / "two.csv", quiet=True, workers=2).path
    rows = _read_csv(one)
    assert one.read_bytes() == two.read_bytes()
    assert [r["result"] for r in rows] == ["ok", "ok", "error"] and "line 5: 2 cells" in rows[2]["message"]


def _cell_text(kb, name, value):
    """A profile value as a person would type it in a CSV cell."""
    if value is None:
        return ""
    if kb.facts[name].type == "records":
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_a_screened_csv_row_holds_what_the_full_evaluation_gives_for_every_scenario(kb, tmp_path):
    from engine.authoring.scenarios import load_scenarios
    cases = [c for c in load_scenarios(kb) if c.as_of is None and not c.documents]
    names = list(kb.facts)
    with (tmp_path / "in.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id"] + names)
        for n, case in enumerate(cases):
            writer.writerow([f"S{n}"] + [_cell_text(kb, name, case.profile.get(name)) for name in names])
    # CSV rows are screened; JSON Lines records carry the full evaluation, derivations and all.
    screened = _read_csv(batch.run(kb, tmp_path / "in.csv", tmp_path / "out.csv", quiet=True, workers=2).path)
    full = [json.loads(line) for line in (batch.run(kb, tmp_path / "in.csv", tmp_path / "out.jsonl", quiet=True)
                                          .path.read_text(encoding="utf-8").splitlines())]
    assert len(screened) == len(full) == len(cases) > 200
    assert sum(r["result"] == "ok" for r in screened) > 200
    for row, record in zip(screened, full):
        expected = result_rows.flat(kb, record, record.get("evaluation"))
        assert list(row.values()) == ["" if v is None else str(v) for v in expected], record["id"]


def test_cells_read_once_are_remembered_and_a_bad_one_still_reports_every_problem(kb, tmp_path, monkeypatch):
    monkeypatch.setattr(parsing, "CELLS_REMEMBERED", 2)   # past it, cells are read every time
    rows = [_row(n, capital=capital) for n, capital in enumerate(["1.2亿元", "8000万", "1.2亿元", "9000万", "1.2亿元"])]
    rows.append(_row(6, capital="一点五亿", industry="fintech"))
    rows.append(_row(7, capital="8000万"))
    out = _read_csv(batch.run(kb, _csv(tmp_path / "in.csv", rows), tmp_path / "out.csv", quiet=True).path)
    assert [r["settlement_subsidy"] for r in out] == ["granted", "denied", "granted", "denied", "granted", "", "denied"]
    assert "Chinese numerals" in out[5]["message"] and "'fintech' is not one of its values" in out[5]["message"]
    assert out[6]["rent_subsidy"] == "granted"


def test_the_summary_adds_up_the_same_in_chunks_and_workers(kb, sample, tmp_path, monkeypatch):
    whole = batch.run(kb, sample, tmp_path / "one.csv", quiet=True).summary
    monkeypatch.setattr(chunks, "CHUNK", 2)
    parts = batch.run(kb, sample, tmp_path / "two.csv", quiet=True, workers=2).summary
    assert parts == whole and parts.rows == 8 and parts.errors == 4
    assert whole.benefits["settlement_subsidy"]["granted"] == 2 and whole.benefits["settlement_subsidy"]["superseded"] == 1


def test_the_input_is_never_overwritten_by_the_output(sample, tmp_path, capsys):
    before = sample.read_bytes()
    code = main(["batch", str(sample), "--out", str(sample), "--kb", str(KB_DIR)])
    assert code == 2 and "--out names the input file" in capsys.readouterr().err
    assert sample.read_bytes() == before


def test_a_spreadsheet_date_as_a_name_names_its_row_in_every_output(kb, tmp_path):
    import datetime as dt
    book = openpyxl.Workbook()
    book.active.append(["name", "paid_in_capital"])
    book.active.append([dt.datetime(2021, 1, 1), "一点五亿"])   # an error row, named by a date cell
    book.active.append([dt.time(10, 30), "500万"])
    book.save(tmp_path / "in.xlsx")
    records = [json.loads(line) for line in batch.run(kb, tmp_path / "in.xlsx", tmp_path / "out.jsonl", quiet=True)
               .path.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["result"]) for r in records] == [("2021-01-01", "error"), ("10:30:00", "ok")]
    rows = _read_csv(batch.run(kb, tmp_path / "in.xlsx", tmp_path / "out.csv", quiet=True).path)
    assert [r["id"] for r in rows] == ["2021-01-01", "10:30:00"]


def test_documents_that_grant_no_benefit_still_get_a_summary(tmp_path, capsys):
    (tmp_path / "in.csv").write_text("id,registered_in_xicheng\na,true\n", encoding="utf-8")
    code = main(["batch", str(tmp_path / "in.csv"), "--out", str(tmp_path / "out.csv"), "--kb", str(KB_DIR),
                 "--documents", "implementation_rules_2021", "--summary", str(tmp_path / "s.html")])
    assert code == 0 and "共 1 行，已评估 1 行，错误 0 行" in capsys.readouterr().err
    assert (tmp_path / "s.html").is_file()


def test_an_absurd_exponent_in_a_cell_is_an_error_row_not_a_stop(kb, tmp_path):
    (tmp_path / "in.csv").write_text("id,paid_in_capital,renovated_area_m2\na,-1e1000000,1\nb,1亿,1e1000000\nc,1亿,1\n",
                                     encoding="utf-8")
    rows = _read_csv(batch.run(kb, tmp_path / "in.csv", tmp_path / "out.csv", quiet=True).path)
    assert [r["result"] for r in rows] == ["error", "error", "ok"]
    assert "more than 10^15 yuan" in rows[0]["message"] and "more than 10^9" in rows[1]["message"]


def test_a_row_that_does_not_read_says_why_in_chinese_too(kb, tmp_path):
    source = _csv(tmp_path / "in.csv", [_row(1, capital="-5000万", industry="fintech")])
    outcome = batch.run(kb, source, tmp_path / "out.jsonl", quiet=True)
    (record,) = [json.loads(line) for line in outcome.path.read_text(encoding="utf-8").splitlines()]
    assert record["result"] == "error" and "is negative" in record["message"]
    assert "实收资本（paid_in_capital）：“-5000万”是负数" in record["message_zh"]
    assert "行业（industry）：'fintech' 不是可选的值" in record["message_zh"]


# --------------------------------------------------------------------------- the labelled CSV, the page's rows

def test_the_labelled_csv_reads_in_the_chosen_language_with_the_ids_below(kb, sample, tmp_path):
    from engine.web import jobs
    machine = batch.run(kb, sample, tmp_path / "out.csv", quiet=True).path
    machine_bytes = machine.read_bytes()
    for lang, granted, error in (("zh", "给予", "有误"), ("en", "granted", "error")):
        errors = jobs.error_rows(machine)
        messages = jobs.row_messages(kb, sample, set(errors), lang)
        problems = [dict(errors[n], row=n, messages=messages.get(n) or jobs.split_message(kb, errors[n]["message"], lang))
                    for n in sorted(errors)]
        out = jobs.labelled_csv(kb, sample, machine, tmp_path / f"labelled-{lang}.csv", problems, lang)
        labels, ids, *rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
        assert ids == list(result_rows.LABELLED_LEAD) + result_rows.columns(kb)[7:]
        assert labels == result_rows.labelled_header(kb, lang)[0] and labels[2] == ("企业名称" if lang == "zh" else "Enterprise")
        table = [dict(zip(ids, row)) for row in rows]
        assert [r["row"] for r in table] == [str(n) for n in range(1, 9)]          # every row, in order
        assert [r["id"] for r in table] == [f"E{n}" for n in range(1, 9)]
        assert table[0]["name"] == "企业1" and table[6]["name"] == "short row"     # a short row keeps its name
        assert table[0]["settlement_subsidy"] == granted and table[0]["settlement_subsidy_max"] == "20000000"
        assert [r["result"] for r in table].count(error) == 4
        assert table[4]["superseded"] == kb.conclusions["settlement_subsidy"].label(lang)
    assert machine.read_bytes() == machine_bytes   # the machine CSV stays as policykb batch wrote it
    zh = list(csv.reader(io.StringIO((tmp_path / "labelled-zh.csv").read_text(encoding="utf-8-sig"))))
    third = dict(zip(zh[1], zh[4]))
    assert third["message"].startswith("行业（industry）：'fintech' 不是可选的值")


def test_the_rows_read_again_give_the_problems_of_the_file_one_by_one(kb, sample, tmp_path):
    """In English, the page's problems of a row are the message the file holds, cut into its
    problems; in Chinese, each fact's problem in Chinese where the engine words it so."""
    from engine.web import jobs
    bad = _row(9, capital="一点五亿", industry="fintech", offers="{not json")
    source = _csv(tmp_path / "in.csv", [_row(1), _row(3, industry="fintech"), _row(4, capital="一点五亿"),
                                          _row(6, offers="{not json"), ["E7", "short row"], bad])
    machine = batch.run(kb, source, tmp_path / "out.csv", quiet=True).path
    errors = jobs.error_rows(machine)
    assert sorted(errors) == [2, 3, 4, 5, 6]
    english = jobs.row_messages(kb, source, set(errors), "en")
    for number, found in errors.items():
        assert english[number] == jobs.split_message(kb, found["message"], "en"), number
    assert [m["fact"] for m in english[6]] == ["other_district_support", "industry", "paid_in_capital"]
    assert english[6][1]["text"].startswith("Industry (industry): 'fintech' is not one of its values")
    chinese = jobs.row_messages(kb, source, set(errors), "zh")
    assert chinese[2][0]["text"].startswith("行业（industry）：'fintech' 不是可选的值")
    assert chinese[3][0]["text"].startswith("实收资本（paid_in_capital）：“一点五亿”用中文数字写了小数")
    assert [m["text"] for m in chinese[5]] == ["第6行：有 2 个单元格，表头有 15 列"]
    assert not chinese[5][0]["english"]
    # A problem is headed by the fact's label; what the engine words in English only is marked so.
    assert chinese[4][0]["head"] == "其他区级支持政策（other_district_support）："
    assert chinese[4][0]["english"] == chinese[4][0]["body"].isascii()


@pytest.mark.parametrize("name,expected", [("企业名单.csv", "企业名单.csv"), ("../../etc/passwd.csv", "passwd.csv"),
                                           ("C:\\Users\\a\\名单.CSV", "名单.csv"), (".hidden.csv", "hidden.csv"),
                                           ("a\x00b<c>.csv", "abc.csv"), (".csv", "input.csv"), ("", "input.csv")])
def test_an_uploaded_name_is_kept_as_a_safe_file_name(name, expected):
    from engine.web.jobs import safe_name
    assert safe_name(name, ".csv") == expected
