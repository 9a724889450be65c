"""Several documents in one knowledge base (engine/loading/kb.py, engine/inferring/evaluation.py): documents and
their validity, citations of available parts only, Article 14 across documents, subsets."""

import datetime as dt
import re
import json

import pytest
import yaml

import engine
from engine.cli import main
from engine.errors import KnowledgeBaseError
from engine.explaining.why_not import answer

from conftest import KB_DIR, REPO, edited_kb

NEW_2022 = KB_DIR / "examples" / "new_enterprise_2022.yaml"
RULES_2022 = "documents/industry_development_measures_2022/rules/article_02_growth.yaml"


def _profile(**changes):
    data = yaml.safe_load(NEW_2022.read_text(encoding="utf-8"))
    data.update(changes)
    return data


def _entry(result, bid):
    return next((b for b in result["benefits"] if b["id"] == bid), None)


#: The documents these tests are about, in the order knowledge_base.yaml lists them (others may follow).
DOCUMENTS = ("digital_economy_measures", "implementation_rules_2021", "industry_development_measures_2022")


def test_the_documents_are_loaded_home_first_with_what_is_available(kb):
    assert next(iter(kb.documents)) == kb.home == DOCUMENTS[0]
    assert tuple(d for d in kb.documents if d in DOCUMENTS) == DOCUMENTS
    rules_2021 = kb.documents["implementation_rules_2021"]
    assert rules_2021.implements == "digital_economy_measures" and rules_2021.data["missing"]
    assert kb.articles["implementation_rules_2021:3"].partial
    assert kb.clauses["industry_development_measures_2022:2(2)"].partial
    assert kb.label("implementation_rules_2021:2(1)") == "《实施细则》第二条第（一）项"
    assert kb.label("13(1)", "en") == "Art. 13(1)"
    assert kb.citation("industry_development_measures_2022:2(1)") == {
        "document": "industry_development_measures_2022", "article": 2, "clause": "2(1)",
        "citation": "《产业高质量发展若干措施》第二条第（一）项"}


@pytest.mark.parametrize("day, expected", [
    (None, (None, None, None)),
    ("2021-11-30", (True, False, False)),
    ("2021-12-01", (True, True, False)),
    ("2022-06-28", (True, True, False)),
    ("2022-06-29", (True, True, True)),
    ("2024-02-29", (True, True, True)),
    ("2024-03-01", (False, False, True)),   # the 2022 measures: no end in the available text
])
def test_each_document_applies_from_its_date(day, expected):
    profile = _profile()
    if day is None:
        del profile["application_date"]
    else:
        profile["application_date"] = day
    documents = {d["id"]: d for d in engine.evaluate(profile)["documents"]}
    assert tuple(documents[d]["in_force"] for d in DOCUMENTS) == expected
    assert documents[DOCUMENTS[2]]["expiry_date"] is None and documents[DOCUMENTS[1]]["expiry_date"] == "2024-02-29"


@pytest.mark.parametrize("old, new, words", [
    ("    cites: 2(1)\n", "    cites: 2(3)\n", "'2(3)' is not in the available text of industry_development_measures_2022"),
    ("    cites: 2(1)\n", "    cites: implementation_rules_2021:4\n", "not in the available text of implementation_rules_2021"),
    ("    cites: 2(1)\n", "    cites: implementaton_rules_2021:2\n", "did you mean 'implementation_rules_2021'"),
])
def test_a_citation_of_a_part_that_is_not_available_is_refused(tmp_path, old, new, words):
    copy = edited_kb(tmp_path, RULES_2022, old, new)
    with pytest.raises(KnowledgeBaseError) as caught:
        engine.load(copy)
    assert words in str(caught.value) and RULES_2022.split("/")[-1] in str(caught.value)


def test_a_quote_that_is_not_in_the_documents_text_is_refused(tmp_path):
    copy = edited_kb(tmp_path, RULES_2022, "    quote: 针对新引进本区的符合核心区功能定位", "    quote: 针对新设立本区的符合核心区功能定位")
    with pytest.raises(KnowledgeBaseError, match="the quote is not in the text of industry_development_measures_2022:2"):
        engine.load(copy)


def test_both_overlapping_benefits_are_granted_with_the_overlap_open():
    result = engine.evaluate(_profile())
    settlement, startup = _entry(result, "settlement_subsidy"), _entry(result, "startup_cost_subsidy")
    assert settlement["document"] == "digital_economy_measures" and settlement["clause"] == "13(1)"
    assert startup["document"] == "industry_development_measures_2022" and startup["clause"] == "2(1)"
    assert startup["amount"] == {"min": None, "max": 50_000_000, "currency": "CNY"}
    assert settlement["not_stacked_with"] == {"document": "industry_development_measures_2022",
                                              "benefit": "startup_cost_subsidy", "open": True,
                                              "amount": {"min": None, "max": 50_000_000, "currency": "CNY"}}
    assert startup["not_stacked_with"]["benefit"] == "settlement_subsidy" and startup["not_stacked_with"]["open"]
    assert result["superseded"] == []


def test_where_the_amounts_compare_the_higher_document_applies_and_the_other_is_superseded(tmp_path):
    copy = edited_kb(tmp_path, RULES_2022, "      up_to: 5000万元", "      range: {min: 2500万元, max: 5000万元}")
    result = engine.evaluate(_profile(), kb=engine.load(copy))
    assert "settlement_subsidy" not in [b["id"] for b in result["benefits"]]
    assert result["superseded"] == [{
        "id": "settlement_subsidy", "document": "digital_economy_measures", "clause": "13(1)",
        "amount": {"min": 5_000_000, "max": 20_000_000, "currency": "CNY"},
        "by": {"document": "industry_development_measures_2022", "benefit": "startup_cost_subsidy",
               "amount": {"min": 25_000_000, "max": 50_000_000, "currency": "CNY"}}}]
    assert result["status"]["settlement_subsidy"] == "denied"
    kept = _entry(result, "startup_cost_subsidy")["not_stacked_with"]
    assert kept["benefit"] == "settlement_subsidy" and "open" not in kept


def test_newer_prevails_only_for_a_declared_conflict_and_only_from_the_newer_date(tmp_path):
    copy = edited_kb(tmp_path, "knowledge_base.yaml", "    conflicts: []", "    conflicts: [[startup_cost_subsidy, settlement_subsidy]]")
    kb = engine.load(copy)
    result = engine.evaluate(_profile(), kb=kb)
    by = result["superseded"][0]["by"]
    assert result["superseded"][0]["id"] == "settlement_subsidy" and by["reason"] == "newer_prevails"
    before = engine.evaluate(_profile(application_date="2022-06-28", registration_date="2022-03-15"), kb=kb)
    assert before["superseded"] == [] and before["status"]["settlement_subsidy"] == "granted"


def test_an_offer_of_another_district_policy_still_works_beside_the_documents():
    profile = _profile(other_district_support=[{"benefit": "settlement_subsidy", "policy": "甲政策", "amount": "500万"}])
    settlement = _entry(engine.evaluate(profile), "settlement_subsidy")
    assert settlement["not_stacked_with"]["benefit"] == "startup_cost_subsidy"
    assert settlement["not_stacked_with_offer"] == {"policy": "甲政策", "amount": 5_000_000}


def test_why_not_outside_xicheng_names_the_recognition_condition_that_fails(kb):
    assessment = engine.assess(_profile(registered_in_xicheng=False), kb=kb)
    text = json.dumps(answer(assessment, "settlement_subsidy"), ensure_ascii=False)
    assert "recognition_registered_entity" in text and "西城区内登记注册纳税" in text


def test_a_subset_of_documents_evaluates_under_those_only():
    profile = _profile(no_accidents_3y=False, application_date="2023-01-10")
    everything = engine.evaluate(profile)
    assert everything["status"]["settlement_subsidy"] == "denied"
    measures = engine.evaluate(profile, documents=["digital_economy_measures"])
    assert [d["id"] for d in measures["documents"]] == ["digital_economy_measures"]
    assert measures["status"]["settlement_subsidy"] == "granted" and "startup_cost_subsidy" not in measures["status"]
    with pytest.raises(KnowledgeBaseError, match="did you mean 'implementation_rules_2021'"):
        engine.evaluate(profile, documents=["implementation_rule_2021"])


def test_a_subset_that_leaves_out_what_a_rule_needs_is_refused(tmp_path):
    copy = edited_kb(tmp_path, RULES_2022, "        - conclusion: industry_measures_2022_in_force\n        - {fact: registered_in_xicheng, is: true}\n        - {fact: establishment, in: [new, relocated]}\n        - {fact: fits_core_area_function",
                     "        - conclusion: industry_measures_2022_in_force\n        - conclusion: support_target\n        - {fact: registered_in_xicheng, is: true}\n        - {fact: establishment, in: [new, relocated]}\n        - {fact: fits_core_area_function")
    with pytest.raises(KnowledgeBaseError, match="needs 'support_target' of digital_economy_measures"):
        engine.evaluate(_profile(), kb=engine.load(copy), documents=["industry_development_measures_2022"])


def test_eval_shows_both_benefits_with_their_overlap_and_why_quotes_both_documents(capsys):
    assert main(["eval", str(NEW_2022)]) == 0
    out = capsys.readouterr().out
    assert "入驻补助 (settlement_subsidy)" in out and "开办费补助 (startup_cost_subsidy)" in out
    assert "为同一类支持，不重复享受" in out and "适用文件" in out
    assert main(["why", str(NEW_2022), "settlement_subsidy"]) == 0
    out = capsys.readouterr().out
    assert "按实收资本规模给予500万到2000万元补助" in out            # the measures, 13(1)
    assert "给予一次性最高5000万元（含）的开业设立补助" in out        # the 2022 measures, 第二条（一）
    assert "《产业高质量发展若干措施》第二条第（一）项" in out


def test_the_documents_option_on_the_command_line(capsys):
    assert main(["eval", str(NEW_2022), "--format", "json", "--documents", "industry_development_measures_2022"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [b["id"] for b in result["benefits"]] == ["startup_cost_subsidy"]
    assert main(["why-not", str(NEW_2022), "settlement_subsidy", "--documents", "nope"]) == 2
    assert "'nope' is not a document" in capsys.readouterr().err


def test_a_single_document_folder_still_loads_as_one_document():
    from conftest import FIXTURES
    kb = engine.load(FIXTURES / "minimal")
    assert len(kb.documents) == 1 and kb.home == next(iter(kb.documents))


@pytest.mark.parametrize("workers", ["1", "2"])
def test_batch_evaluates_under_the_documents_chosen(tmp_path, workers):
    rows = tmp_path / "in.jsonl"
    rows.write_text(json.dumps(_profile(), ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["batch", str(rows), "--out", str(out), "--workers", workers, "--quiet",
                 "--documents", "industry_development_measures_2022"]) == 0
    record = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert [b["id"] for b in record["evaluation"]["benefits"]] == ["startup_cost_subsidy"]


def test_a_branch_whose_text_is_missing_leaves_the_benefit_undetermined_with_nothing_to_ask(kb, capsys):
    result = engine.evaluate(_profile(office_tenure="rented"))
    assert result["status"]["office_purchase_rent_subsidy"] == "undetermined"
    assert result["next_fact"]["office_purchase_rent_subsidy"] is None
    assert "office_subsidy_2022_recognized" not in result["missing_by_document"]["industry_development_measures_2022"]
    assert kb.rules["office_purchase_rent_subsidy.rented_office"].text_missing
    # A renter's case is denied only where the text says so: an existing enterprise.
    assert engine.evaluate(_profile(office_tenure="rented", establishment="existing"))["status"][
        "office_purchase_rent_subsidy"] == "denied"
    assert main(["eval", str(NEW_2022)]) == 0
    assert "无可询问的事实：决定它的文本在现有文本中缺失" in capsys.readouterr().out


def _copy_with_unknown_dates(tmp_path):
    """The minimal fixture knowledge base whose document gives neither its issue date, its
    start nor its issuer (a partial copy of a text)."""
    import shutil
    kb = tmp_path / "kb"
    shutil.copytree(REPO / "tests" / "fixtures" / "minimal", kb)
    path = kb / "document.yaml"
    text = path.read_text(encoding="utf-8")
    for key in ("issue_date", "effective_date", "issuer"):
        text = re.sub(rf"^  {key}: .*$", f"  {key}: null", text, count=1, flags=re.M)
    path.write_text(text, encoding="utf-8")
    return kb


def test_a_document_whose_dates_are_unknown_loads_and_is_neither_in_force_nor_out_before_its_end(tmp_path):
    kb = engine.load(_copy_with_unknown_dates(tmp_path))
    document = next(iter(kb.documents.values()))
    assert document.effective_date is None and document.data["issue_date"] is None
    end = document.expiry_date
    assert document.in_force(end) is None and document.in_force(end + dt.timedelta(days=1)) is False
    result = engine.evaluate({"application_date": end}, kb=kb)
    assert result["documents"][0]["in_force"] is None and result["documents"][0]["effective_date"] is None


def test_unknown_dates_read_as_unknown_on_the_graph_and_the_policy_text_page(tmp_path):
    from fastapi.testclient import TestClient

    from engine.rendering.graph import build
    from engine.web.app import create_app
    from engine.web.settings import Settings
    folder = _copy_with_unknown_dates(tmp_path)
    kb = engine.load(folder)
    node = build(kb).nodes[f"document:{kb.home}"]
    assert "施行日期未知" in node["label"] and "start unknown" in node["label_en"]
    with TestClient(create_app(Settings(kb=str(folder), data_dir=tmp_path / "serve")), base_url="http://127.0.0.1") as client:
        for lang, word in (("zh", "施行日期未知"), ("en", "start unknown")):
            page = client.get(f"/policy?lang={lang}")
            assert page.status_code == 200 and word in page.text and "None" not in page.text
