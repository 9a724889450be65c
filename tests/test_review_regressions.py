"""Regressions from a code review: each was reproduced before it was fixed."""

import json
import shutil

import pytest

import engine
from engine.screening import batch
from engine.cli import main
from engine.errors import KnowledgeBaseError, ProfileError

from conftest import FIXTURES, KB_DIR, edited_kb


def test_a_non_utf8_row_deep_in_a_csv_is_one_error_row_and_no_row_is_lost(kb, tmp_path):
    source = tmp_path / "mixed.csv"
    with source.open("wb") as handle:
        handle.write(b"id,name\n")
        for n in range(2000):
            handle.write(f"{n},x\n".encode())
        handle.write("9999,北京公司\n".encode("gbk"))
        for n in range(10):
            handle.write(f"{3000 + n},y\n".encode())
    # A file that is not UTF-8 throughout is now read as GB18030 (Excel on Chinese Windows), so
    # the lone bad row is kept as an error row only when UTF-8 is asked for.
    outcome = batch.run(kb, source, tmp_path / "out.jsonl", quiet=True, encoding="utf-8")
    records = [json.loads(line) for line in outcome.path.read_text(encoding="utf-8").splitlines()]
    assert outcome.complete and len(records) == 2011
    assert records[2000]["result"] == "error" and "line 2002: not UTF-8" in records[2000]["message"]
    assert [r["result"] for r in records[2001:]] == ["ok"] * 10


def test_a_tiny_area_is_refused_rather_than_reaching_the_engine_as_zero(kb):
    profile = {"application_date": "2022-01-01", "building_operator": True, "renovation_for_digital_economy": True,
               "renovation_investment": "100万", "renovated_area_m2": "1e-400"}
    with pytest.raises(ProfileError, match="more than 6 decimal places"):
        engine.evaluate(profile, kb=kb)
    profile["renovated_area_m2"] = "0.000001"
    result = engine.evaluate(profile, kb=kb)
    assert result["status"]["building_renovation_support"] == "granted"


def test_json_with_an_enormous_integer_is_an_input_error(capsys, tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"paid_in_capital": ' + "9" * 5000 + "}", encoding="utf-8")
    assert main(["eval", str(path), "--kb", str(KB_DIR), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "paid_in_capital" in err and "(5,000 characters)' is more than 10^15 yuan" in err and len(err) < 300


def test_a_list_as_a_benefit_name_is_an_input_error(kb):
    with pytest.raises(ProfileError, match="is not a benefit"):
        engine.evaluate({"other_district_support": [{"benefit": ["listing_grant"], "policy": "x", "amount": 1}]}, kb=kb)


def test_an_amount_computed_from_a_fact_the_rule_does_not_test_is_refused_at_load(tmp_path):
    copy = edited_kb(tmp_path, "documents/digital_economy_measures/rules/article_13_2_5.yaml", "        - {fact: renovated_area_m2, more_than: 0}\n", "")
    with pytest.raises(KnowledgeBaseError, match="computed from 'renovated_area_m2'"):
        engine.load(copy)


def test_record_fields_must_have_a_known_type(tmp_path):
    copy = edited_kb(tmp_path, "facts.yaml", "      benefit: {type: benefit}", "      benefit: benefit")
    with pytest.raises(KnowledgeBaseError, match="needs a type"):
        engine.load(copy)


def test_the_graph_of_a_knowledge_base_without_article_14_is_drawn(capsys):
    assert main(["graph", "--kb", str(FIXTURES / "minimal"), "--view", "rules", "--format", "mermaid"]) == 0
    assert "flowchart LR" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["graph", "--format", "dot", "--out", "/nonexistent/x.dot"],
    ["why", str(KB_DIR / "examples" / "new_ict_key_enterprise.yaml"), "settlement_subsidy", "--format", "dot",
     "--out", "/nonexistent/x.dot"],
    ["report", str(KB_DIR / "examples" / "new_ict_key_enterprise.yaml"), "--out", "/nonexistent/r.html"],
])
def test_an_output_path_that_cannot_be_written_is_an_input_error(capsys, argv):
    assert main(argv + ["--kb", str(KB_DIR)]) == 2
    err = capsys.readouterr().err
    assert ("cannot write" in err or "无法写入" in err) and "Traceback" not in err


def test_a_bad_header_leaves_no_partial_output(kb, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,paid_in_captial\nE1,1亿\n", encoding="utf-8")
    with pytest.raises(ProfileError):
        batch.run(kb, source, tmp_path / "out.csv", quiet=True)
    assert list(tmp_path.iterdir()) == [source]


def test_duplicate_columns_are_refused(kb, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,industry,industry\nE1,ict,finance\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="appears twice"):
        batch.run(kb, source, tmp_path / "out.csv", quiet=True)


def test_a_knowledge_base_folder_is_loaded_once_per_content(tmp_path, base_profile):
    from engine.inferring.evaluation import knowledge_base
    copy = tmp_path / "kb"
    shutil.copytree(KB_DIR, copy)
    first = knowledge_base(str(copy))
    assert knowledge_base(copy) is first
    rules = copy / "documents" / "digital_economy_measures" / "rules" / "article_13_2_5.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert knowledge_base(copy) is not first
