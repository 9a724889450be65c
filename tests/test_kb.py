"""Loading and validating the knowledge base (engine/loading/kb.py)."""

import re
import shutil
from pathlib import Path

import pytest

import engine
from engine.errors import KnowledgeBaseError
from engine.loading.reader import normalize as _normalize

from conftest import KB_DIR, REPO

VOCABULARY = REPO.parent / "shared" / "spec" / "vocabulary.md"


def _vocabulary_ids(section: str) -> list[str]:
    if not VOCABULARY.is_file():
        pytest.skip("../shared/spec/vocabulary.md is not beside the repository")
    text = VOCABULARY.read_text(encoding="utf-8")
    part = text.split(f"## {section}")[1].split("\n## ")[0]
    return re.findall(r"^\| `([a-z_0-9]+)`", part, flags=re.M)


def test_the_document_has_its_metadata_and_fourteen_articles(kb):
    doc = kb.document
    assert doc["doc_number"] == "西行规发〔2020〕1号"
    assert str(doc["issue_date"]) == "2020-12-30" and str(doc["print_date"]) == "2020-12-31"
    assert str(doc["effective_date"]) == "2021-03-01" and str(doc["expiry_date"]) == "2024-02-29"
    assert doc["validity_years"] == 3 and doc["interpreting_body"] == "西城区科学技术和信息化局"
    home = [ref for ref, a in kb.articles.items() if a.document == kb.home]
    assert kb.home == "digital_economy_measures" and home == [str(n) for n in range(1, 15)]
    assert [ref for ref, c in kb.clauses.items() if c.document == kb.home] == ["13(1)", "13(2)", "13(3)", "13(4)", "13(5)"]
    for article in kb.articles.values():
        assert article.title_en and article.gloss and article.text.startswith("第")


SHARED_SOURCES = {"digital_economy_measures": "000_dfa1932f9714629a.txt",
                  "implementation_rules_2021": "001_implementation_rules_2021.txt",
                  "industry_development_measures_2022": "002_industry_development_measures_2022.txt"}


@pytest.mark.parametrize("document, name", SHARED_SOURCES.items())
def test_article_texts_are_the_source_texts(kb, document, name):
    source = REPO.parent / "shared" / "source" / name
    if not source.is_file():
        pytest.skip("the source text is not beside the repository")
    original = _normalize(source.read_text(encoding="utf-8"))
    # The copy in the knowledge base is the shared text itself.
    assert (kb.documents[document].folder / "source.txt").read_bytes() == source.read_bytes() or document == kb.home
    for article in (a for a in kb.articles.values() if a.document == document):
        assert _normalize(article.text) in original, f"article {article.id} differs from the source"
        for clause in article.clauses:
            assert _normalize(clause.text) in original, f"clause {clause.id} differs from the source"


def test_every_sub_policy_the_text_names_is_there_with_the_clause_that_defers_to_it(kb):
    titles = {s.title: s.deferred_by for s in kb.subpolicies.values()}
    assert titles["关于支持北京金融科技与专业服务创新示范区（西城区域）建设的若干措施"] == ["13(1)"]
    assert titles["北京市西城区加快现代金融产业发展的若干意见"] == ["13(1)"]
    assert titles["西城区发展高精尖产业服务重点企业的若干措施"] == ["13(1)"]
    assert titles["北京市西城区鼓励和支持企业上市发展办法"] == ["13(1)"]
    assert titles["北京市西城区财政科技专项项目管理办法"] == ["13(3)"]
    assert titles["西城区支持低效楼宇改造升级的若干措施（试行）"] == ["13(4)"]
    assert titles["西城区高精尖产业政策"] == ["13"]
    assert titles["实施细则"] == ["14"]


def test_every_vocabulary_fact_is_encoded(kb):
    for name in _vocabulary_ids("Input facts"):
        assert name in kb.facts, name
        fact = kb.facts[name]
        assert fact.zh and fact.en and fact.source


def test_every_vocabulary_conclusion_and_benefit_is_derived_by_a_cited_rule(kb):
    conclusions = _vocabulary_ids("Conclusions") + [
        f"supported_{d}" for d in ("key_task", "innovative_enterprise", "new_generation_it", "fintech",
                                   "ecommerce", "consumption_scenario", "digital_culture",
                                   "scenario_application", "digital_transformation",
                                   "international_cooperation")]
    benefits = _vocabulary_ids("Benefits")
    assert len(benefits) == 12
    for cid in conclusions + benefits:
        assert cid in kb.conclusions, cid
        assert kb.rules_for(cid), f"no rule derives {cid}"
    for bid in benefits:
        assert kb.conclusions[bid].kind == "benefit"


def test_every_rule_cites_quotes_and_explains_in_both_languages(kb):
    for rule in kb.rules.values():
        assert _normalize(rule.quote) in _normalize(kb.text_of(rule.cites)), rule.id
        assert rule.explain["zh"] and rule.explain["en"], rule.id


def test_every_article_and_clause_is_cited_by_some_rule_or_says_why_not(kb):
    from engine.authoring.lint import cited_parts
    cited = cited_parts(kb)
    articles_cited = {ref.split("(")[0] for ref in cited if ref in kb.articles or ref in kb.clauses}
    assert {ref for ref in articles_cited if ":" not in ref} == {str(n) for n in range(1, 15)}
    for ref, article in kb.articles.items():
        assert ref in articles_cited or article.not_encoded, ref
    assert set(kb.clauses) <= cited


def test_conclusions_are_ordered_so_each_comes_after_what_it_needs(kb):
    position = {c: i for i, c in enumerate(kb.order)}
    for rule in kb.rules.values():
        for node in engine.model.conditions.walk(rule.when):
            if isinstance(node, engine.model.conditions.ConclusionRef):
                assert position[node.conclusion] < position[rule.then]


def test_the_order_is_the_graph_librarys_sorted_topological_order(kb):
    import networkx as nx
    from engine.inferring.evaluation import under_documents
    from engine.model import dependency_graph
    for chosen in (kb, under_documents(kb, [kb.home])):
        declared = list(chosen.conclusions)
        assert chosen.order == list(nx.lexicographical_topological_sort(dependency_graph(chosen), key=declared.index))


def test_the_version_is_a_content_hash(kb, tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(KB_DIR, copy)
    assert engine.load(copy).version == kb.version
    (copy / "documents" / "digital_economy_measures" / "rules" / "article_13_2_5.yaml").write_text(
        (copy / "documents" / "digital_economy_measures" / "rules" / "article_13_2_5.yaml").read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert engine.load(copy).version != kb.version


# ----------------------------------------------------------------------------- broken copies

def _broken(tmp_path, file, old, new, count=1):
    copy = tmp_path / "kb"
    shutil.copytree(KB_DIR, copy)
    path = copy / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found: {old}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as err:
        engine.load(copy)
    return err.value, path, text


def _line_of(text, needle):
    return text[: text.index(needle)].count("\n") + 1


def test_an_unknown_fact_in_a_rule_is_located_and_the_nearest_name_suggested(tmp_path):
    err, path, text = _broken(tmp_path, "documents/digital_economy_measures/rules/article_13_1_settling.yaml",
                              "{fact: paid_in_capital, at_least: 1亿元}", "{fact: paid_in_capitl, at_least: 1亿元}")
    assert err.file == str(path)
    assert err.line == _line_of(text, "{fact: paid_in_capital, at_least")
    assert err.suggestion == "paid_in_capital" and err.rule_id == "settlement_subsidy.capital_threshold"


def test_an_unknown_key_is_refused_with_the_nearest_known_key(tmp_path):
    err, path, text = _broken(tmp_path, "documents/digital_economy_measures/rules/article_13_1_settling.yaml", "    defers_to: [listing_measures]",
                              "    defer_to: [listing_measures]")
    assert "unknown key 'defer_to'" in err.message and err.suggestion == "defers_to"
    assert err.line == _line_of(text, "    defers_to: [listing_measures]")


def test_an_unknown_conclusion_and_sub_policy_are_refused(tmp_path):
    err, _, _ = _broken(tmp_path, "documents/digital_economy_measures/rules/article_13_1_settling.yaml",
                        "- conclusion: new_or_relocated_key_enterprise", "- conclusion: new_or_relocated_key_enterprize")
    assert err.suggestion == "new_or_relocated_key_enterprise"
    err, _, _ = _broken(tmp_path / "b", "documents/digital_economy_measures/rules/article_13_1_settling.yaml",
                        "defers_to: [listing_measures]", "defers_to: [listing_measure]")
    assert err.suggestion == "listing_measures"


def test_a_duplicate_rule_id_names_the_first_definition(tmp_path):
    err, _, _ = _broken(tmp_path, "documents/digital_economy_measures/rules/article_13_1_settling.yaml",
                        "id: rent_subsidy.rented_office", "id: office_purchase_subsidy.bought_office")
    assert "defined twice" in err.message and "article_13_1_settling.yaml" in err.message


def test_a_cycle_among_conclusions_names_every_member(tmp_path):
    err, _, _ = _broken(tmp_path, "documents/digital_economy_measures/rules/articles_01_02_definitions.yaml",
                        "      fact: digital_economy_business\n      is: true",
                        "      conclusion: new_or_relocated_key_enterprise")
    assert "cycle" in err.message
    for member in ("digital_economy_entity", "support_target", "key_digital_economy_enterprise",
                   "new_or_relocated_key_enterprise"):
        assert member in err.message


def test_a_quote_that_is_not_in_the_cited_text_is_refused(tmp_path):
    err, _, _ = _broken(tmp_path, "documents/digital_economy_measures/rules/article_13_1_settling.yaml",
                        "按实收资本规模给予500万到2000万元补助", "按实收资本规模给予600万到2000万元补助")
    assert "quote is not in the text of 13(1)" in err.message


def test_a_citation_of_a_clause_that_does_not_exist_is_refused(tmp_path):
    err, _, _ = _broken(tmp_path, "documents/digital_economy_measures/rules/article_13_2_5.yaml", "cites: 13(5)", "cites: 13(6)")
    assert "not an article or clause" in err.message


def test_a_benefit_rule_without_an_amount_is_refused(tmp_path):
    err, _, _ = _broken(tmp_path, "documents/digital_economy_measures/rules/article_13_2_5.yaml",
                        "    amount:\n      services:", "    services_list:\n      services:")
    assert "unknown key" in err.message or "needs an 'amount'" in err.message


def test_money_without_a_unit_in_the_knowledge_base_is_refused(tmp_path):
    err, _, _ = _broken(tmp_path, "documents/digital_economy_measures/rules/article_13_1_settling.yaml",
                        "range: {min: 500万元, max: 2000万元}", "range: {min: 5000000, max: 2000万元}")
    assert "with its unit" in err.message


def test_an_enum_value_that_does_not_exist_is_refused_with_the_allowed_ones(tmp_path):
    err, _, _ = _broken(tmp_path, "documents/digital_economy_measures/rules/articles_01_02_definitions.yaml",
                        "{fact: industry, is: ict}", "{fact: industry, is: itc}")
    assert err.suggestion == "ict" and "finance" in err.allowed


def test_an_operator_that_does_not_fit_the_facts_type_is_refused(tmp_path):
    err, _, _ = _broken(tmp_path, "documents/digital_economy_measures/rules/articles_01_02_definitions.yaml",
                        "{fact: industry, is: ict}", "{fact: industry, at_least: ict}")
    assert "does not apply to enum fact" in err.message


def test_a_missing_explanation_language_is_refused(tmp_path):
    err, _, _ = _broken(tmp_path, "documents/digital_economy_measures/rules/article_14_validity.yaml",
                        "      en: The application date lies within the validity window (2021-03-01 to 2024-02-29).\n", "")
    assert "has no 'en'" in err.message


def test_a_conclusion_no_rule_derives_is_refused(tmp_path):
    err, _, _ = _broken(tmp_path, "documents/digital_economy_measures/conclusions.yaml", "benefits:\n",
                        "benefits:\n  - {id: orphan_benefit, article: 13(1), zh: 孤儿, en: Orphan}\n")
    assert "no rule derives 'orphan_benefit'" in err.message


def test_a_yaml_tag_in_the_knowledge_base_is_refused_with_its_line(tmp_path):
    err, path, text = _broken(tmp_path, "facts.yaml", "  - id: name\n", "  - id: !!python/name:os.system name\n")
    assert "not allowed" in err.message and err.line == _line_of(text, "  - id: name\n")


def test_a_missing_knowledge_base_folder_is_a_clear_error(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="not found"):
        engine.load(tmp_path / "nowhere")


def test_every_text_a_person_reads_exists_in_both_languages(kb):
    for fact in kb.facts.values():
        assert fact.zh and fact.en, fact.id
        for value, labels in fact.values.items():
            assert labels["zh"] and labels["en"], (fact.id, value)
    for conclusion in kb.conclusions.values():
        assert conclusion.zh and conclusion.en, conclusion.id
    for rule in kb.rules.values():
        assert rule.explain["zh"] and rule.explain["en"], rule.id
        if rule.amount and rule.amount.terms:
            assert rule.amount.terms["zh"] and rule.amount.terms["en"], rule.id
    for precedence in kb.precedence:
        assert precedence.explain["zh"] and precedence.explain["en"]
    for article in kb.articles.values():
        assert article.title and article.title_en and article.gloss
    for sub in kb.subpolicies.values():
        assert sub.title and sub.title_en


DRAFT = '''
  - id: draft_2_1.grant_1
    draft: true
    cites: 2(1)
    quote: 对经认定的企业
    when: {all: [{fact: recognized, is: true}]}
    then: 'TODO: the benefit this sentence grants'
    amount: {range: {min: 100万元, max: 100万元}}
    review:
      - 'recognition: 经认定 → recognized is true'
'''


def _minimal_with(tmp_path, extra: str) -> Path:
    from conftest import FIXTURES
    copy = tmp_path / "kb"
    shutil.copytree(FIXTURES / "minimal", copy)
    rules = copy / "rules" / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").rstrip("\n") + "\n" + extra, encoding="utf-8")
    return copy


def test_a_draft_rule_is_kept_aside_and_never_evaluated(tmp_path):
    kb = engine.load(_minimal_with(tmp_path, DRAFT))
    assert "draft_2_1.grant_1" not in kb.rules
    (draft,) = kb.drafts
    assert draft.id == "draft_2_1.grant_1" and draft.cites == "2(1)" and draft.review == ["recognition: 经认定 → recognized is true"]
    assert draft.where.file.endswith("rules.yaml") and draft.where.line


@pytest.mark.parametrize("old, new, message", [
    ("    draft: true\n", "", "review notes belong to a draft rule"),
    ("    draft: true\n", "    draft: yes please\n", "'draft' is true"),
    ("    cites: 2(1)\n", "    cites: 2(9)\n", "'2(9)' is not an article or clause"),
])
def test_a_draft_marked_wrong_is_refused(tmp_path, old, new, message):
    with pytest.raises(KnowledgeBaseError) as caught:
        engine.load(_minimal_with(tmp_path, DRAFT.replace(old, new)))
    assert message in str(caught.value)
