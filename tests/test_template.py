"""The template an analyst fills in (engine/rendering/template.py, `policykb template`) and reading it back."""

import datetime as dt
import json

import openpyxl
import pytest

from engine.screening import batch, parsing
from engine.screening import rows as batch_rows
from engine.cli import main
from engine.errors import ProfileError
from engine.inferring.evaluation import evaluate
from engine.loading.profile import read_profile
from engine.rendering.template import columns, write_template

from conftest import KB_DIR

EXAMPLES = sorted(p for p in (KB_DIR / "examples").iterdir() if p.suffix in (".yaml", ".json"))


def _lists(book):
    """Each data validation's list, by column letter, resolved as Excel does: a range on the
    hidden sheet."""
    sheet = book.worksheets[0]
    found = {}
    for check in sheet.data_validations.dataValidation:
        if check.type != "list":
            continue
        target, area = check.formula1.split("!")
        first, last = area.replace("$", "").split(":")
        cells = book[target.strip("'")][f"{first}:{last}"]
        items = [row[0].value for row in cells]
        for ref in str(check.sqref).split():
            found[ref.split(":")[0].rstrip("0123456789")] = items
    return found


def _fill_as_an_analyst(book, kb, profiles, lang):
    """Type each profile into the first sheet: choices and yes/no picked from the drop-downs
    (by position, as a person picks the label), dates as dates, money as numbers, lists as
    labels with ；, records as JSON."""
    from openpyxl.utils import get_column_letter
    sheet = book.worksheets[0]
    ids = [cell.value for cell in sheet[3]]
    lists = _lists(book)
    for n, (ident, profile) in enumerate(profiles):
        row = 4 + n
        for column, fact in enumerate(ids, 1):
            letter = get_column_letter(column)
            if fact == "id":
                sheet.cell(row=row, column=column, value=ident)
                continue
            value = profile.get(fact)
            if value is None:
                continue
            spec = kb.facts[fact]
            if spec.type == "bool":
                choice = lists[letter][0 if value else 1]
            elif spec.type == "enum":
                choice = lists[letter][list(spec.values).index(value)]
            elif spec.type == "list" and not value:   # known to be none: the drop-down's last item
                choice = lists[letter][-1]
            elif spec.type == "list":
                choice = ("；" if lang == "zh" else "; ").join(lists[letter][list(spec.values).index(v)] for v in value)
            elif spec.type == "records":
                choice = json.dumps([dict(r) for r in value], ensure_ascii=False)
            elif spec.type == "date":
                choice = dt.datetime.combine(value, dt.time())
            elif spec.type == "number":
                choice = float(value)
            else:
                choice = value
            sheet.cell(row=row, column=column, value=choice)


def _key(result):
    return {"status": result["status"],
            "benefits": {b["id"]: b["amount"] for b in result["benefits"]},
            "superseded": sorted(s["id"] for s in result["superseded"])}


@pytest.mark.parametrize("lang,drop", [("zh", None), ("en", 3), ("zh", 2)])
def test_a_template_filled_in_from_the_drop_downs_gives_the_results_of_the_yaml_profiles(kb, tmp_path, lang, drop):
    template = write_template(kb, tmp_path / "enterprises.xlsx", lang)
    book = openpyxl.load_workbook(template)
    profiles = [(p.stem, read_profile(p, kb)) for p in EXAMPLES]
    _fill_as_an_analyst(book, kb, profiles, lang)
    if drop:   # either header row alone reads: the labels (id row deleted) or the ids
        book.worksheets[0].delete_rows(drop)
    book.save(tmp_path / "filled.xlsx")
    outcome = batch.run(kb, tmp_path / "filled.xlsx", tmp_path / "out.jsonl", quiet=True)
    records = [json.loads(line) for line in outcome.path.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == [p.stem for p in EXAMPLES]
    assert all(r["result"] == "ok" for r in records), [r["message"] for r in records if r["result"] != "ok"]
    for path, record in zip(EXAMPLES, records):
        expected = evaluate(read_profile(path, kb), kb=kb)
        assert _key(record["evaluation"]) == _key(expected), path.name
        assert record["evaluation"]["missing"] == expected["missing"], path.name


def test_the_template_has_drop_downs_validation_formats_groups_and_explanations(kb, tmp_path):
    book = openpyxl.load_workbook(write_template(kb, tmp_path / "t.xlsx", "zh"))
    assert book.sheetnames == ["企业", "说明", "示例", "lists"] and book["lists"].sheet_state == "hidden"
    sheet = book["企业"]
    ids = [c.value for c in sheet[3]]
    labels = [c.value for c in sheet[2]]
    assert ids == columns(kb) and ids[:3] == ["id", "name", "application_date"]
    assert labels[ids.index("paid_in_capital")] == "实收资本" and labels[0] == "编号"
    assert sheet.freeze_panes == "C4"
    # The band row names the document and article of each group; the comment the clause and id.
    band = {c.column: c.value for c in sheet[1] if c.value}
    capital = ids.index("paid_in_capital") + 1
    assert band[max(k for k in band if k <= capital)] == "《若干措施》第十三条"
    assert sheet.cell(row=2, column=capital).comment.text.startswith("第十三条第（一）项 · paid_in_capital")
    rules = ids.index("pays_tax_in_xicheng") + 1
    assert band[max(k for k in band if k <= rules)] == "《实施细则》第二条"
    assert sheet.cell(row=2, column=capital).fill.start_color.rgb != sheet.cell(row=2, column=rules).fill.start_color.rgb
    lists = _lists(book)
    from openpyxl.utils import get_column_letter as letter
    assert lists[letter(ids.index("industry") + 1)] == [v["zh"] for v in kb.facts["industry"].values.values()]
    assert lists[letter(ids.index("registered_in_xicheng") + 1)] == ["是", "否"]
    kinds = {str(v.sqref).split(":")[0].rstrip("0123456789"): v for v in sheet.data_validations.dataValidation}
    assert kinds[letter(ids.index("application_date") + 1)].type == "date"
    assert kinds[letter(ids.index("renovated_area_m2") + 1)].type == "decimal"
    assert "1.2亿元" in kinds[letter(ids.index("paid_in_capital") + 1)].prompt
    assert all(v.allow_blank for v in kinds.values())          # blank is unknown
    assert sheet.column_dimensions[letter(capital)].number_format == '#,##0"元"'
    assert sheet.column_dimensions[letter(ids.index("application_date") + 1)].number_format == "yyyy-mm-dd"
    # Every column explained, in order; lists and records say how to write them.
    explained = list(book["说明"].iter_rows(min_row=2, values_only=True))
    assert [r[2] for r in explained] == ids
    tech = next(r for r in explained if r[2] == "tech_domains")
    assert "；" in tech[8] and "大数据 (big_data)" in tech[7]
    assert "JSON" in next(r for r in explained if r[2] == "other_district_support")[8]
    assert next(r for r in explained if r[2] == "pays_tax_in_xicheng")[4] == "《实施细则》第二条第（一）项"
    # The examples are filled in, in the analyst's words.
    examples = list(book["示例"].iter_rows(min_row=4, values_only=True))
    assert [r[0] for r in examples] == [p.stem for p in EXAMPLES]
    assert examples[0][ids.index("industry")] == "商务" and examples[0][ids.index("registered_in_xicheng")] == "是"


def test_the_examples_sheet_screens_like_the_example_files(kb, tmp_path):
    template = write_template(kb, tmp_path / "t.xlsx", "en")
    outcome = batch.run(kb, template, tmp_path / "out.jsonl", quiet=True, sheet="Examples")
    records = [json.loads(line) for line in outcome.path.read_text(encoding="utf-8").splitlines()]
    for path, record in zip(EXAMPLES, records):
        assert _key(record["evaluation"]) == _key(evaluate(read_profile(path, kb), kb=kb)), path.name


def test_the_same_template_twice_is_the_same_bytes(kb, tmp_path):
    import time
    first = write_template(kb, tmp_path / "a.xlsx").read_bytes()
    time.sleep(2.1)   # zip entries keep the time to two seconds
    assert write_template(kb, tmp_path / "b.xlsx").read_bytes() == first


def test_labels_read_in_a_csv_header_and_cells_and_an_unknown_label_gets_the_nearest(kb, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("编号,行业,Paid-in capital,技术领域,驻区企业\nE1,金融,1.2亿元,大数据；Artificial intelligence,是\n",
                    encoding="utf-8")
    row = parsing.parse_row(kb, next(iter(batch_rows.read_rows(path, kb))))
    assert row.ident == "E1" and row.error is None
    # Read and checked where the row is evaluated: the facts in their types.
    assert row.checked and row.data == {"industry": "finance", "paid_in_capital": 120_000_000,
                                        "tech_domains": ("big_data", "ai"), "registered_in_xicheng": True}
    path.write_text("编号,实收资夲\nE1,1亿\n", encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        batch_rows.read_rows(path, kb)
    assert err.value.suggestion == "实收资本" and err.value.line == 1
    path.write_text("id,industry,行业\nE1,ict,ict\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="'industry' appears twice"):
        batch_rows.read_rows(path, kb)


def test_a_label_that_is_not_a_value_is_an_error_row_naming_the_allowed_values(kb, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,行业\nE1,金融业务\n", encoding="utf-8")
    outcome = batch.run(kb, path, tmp_path / "out.jsonl", quiet=True)
    record = json.loads(outcome.path.read_text(encoding="utf-8"))
    assert record["result"] == "error" and "'金融业务' is not one of its values" in record["message"]


def test_the_template_command(tmp_path, capsys):
    assert main(["template", "--out", str(tmp_path / "t.xlsx"), "--lang", "en", "--kb", str(KB_DIR)]) == 0
    assert openpyxl.load_workbook(tmp_path / "t.xlsx").sheetnames[0] == "Enterprises"
    assert main(["template", "--out", str(tmp_path / "t.csv"), "--kb", str(KB_DIR)]) == 2
    assert "must end in .xlsx" in capsys.readouterr().err
    assert main(["template", "--out", str(tmp_path / "t.xlsx"), "--documents", "implementation_rule_2021",
                 "--kb", str(KB_DIR)]) == 2
    assert "implementation_rules_2021" in capsys.readouterr().err


def test_documents_keep_the_facts_their_rules_use(kb, tmp_path):
    ids = columns(kb, ["industry_development_measures_2022", "digital_economy_measures"])
    assert "registration_date" in ids and "pays_tax_in_xicheng" not in ids and ids[:2] == ["id", "name"]
    book = openpyxl.load_workbook(write_template(kb, tmp_path / "t.xlsx", "zh",
                                                 ["industry_development_measures_2022", "digital_economy_measures"]))
    assert [c.value for c in book.worksheets[0][3]] == ids
