"""Issue 10: real inputs that were refused or misread, beyond the value and YAML readers.

A negative contribution increment through the knowledge base's ``signed`` property, the rule
engine and the three-valued check; ``--kb ""``; English lists joined in English.
"""

import pytest
import yaml

import engine
from engine.cli import main
from engine.errors import KnowledgeBaseError
from engine.inferring.evaluation import knowledge_base, reasoner
from engine.loading.profile import parse_profile
from engine.explaining.wording import display

from conftest import KB_DIR, edited_kb


def _operator(increment):
    profile = yaml.safe_load((KB_DIR / "examples" / "building_operator.yaml").read_text(encoding="utf-8"))
    profile["introduced_contribution_increment"] = increment
    return profile


@pytest.mark.parametrize("increment, holds", [(-9990, False), ("-1.5万", False), (0, False), (1, True)])
def test_the_engine_and_the_three_valued_check_agree_on_a_negative_increment(kb, increment, holds):
    facts = parse_profile(_operator(increment), kb)
    inference = reasoner(kb).derive(facts)   # raises if the engine and the check disagree
    assert inference.holds("building_operator_reward") is holds
    assert inference.status["building_operator_reward"] is holds   # denied (False), never unknown


def test_a_negative_increment_is_denied_not_an_error_and_shown_with_its_sign(kb):
    result = engine.evaluate(_operator("-9990元"), kb=kb)
    assert result["status"]["building_operator_reward"] == "denied"
    assert "building_operator_reward" not in [b["id"] for b in result["benefits"]]
    assert display(kb, "introduced_contribution_increment", -99_900_000, "zh") == "-9,990万元"


def test_the_signed_property_is_declared_on_the_increment_only(kb):
    assert [fid for fid, fact in kb.facts.items() if fact.signed] == ["introduced_contribution_increment"]


@pytest.mark.parametrize("old, new", [
    ("  - id: building_operator\n    type: bool\n", "  - id: building_operator\n    type: bool\n    signed: true\n"),
    ("    signed: true\n", "    signed: yes please\n"),
])
def test_signed_on_a_non_money_fact_or_not_a_boolean_is_a_knowledge_base_error(tmp_path, old, new):
    copy = edited_kb(tmp_path, "facts.yaml", old, new)
    with pytest.raises(KnowledgeBaseError, match="'signed' of fact '[a-z_]+' is true or false, and true only "
                                                 "on a money fact") as err:
        engine.load(copy)
    assert err.value.file == str(copy / "facts.yaml") and err.value.line


@pytest.mark.parametrize("name", ["", " ", "\t"])
def test_an_empty_kb_name_is_an_error_naming_the_option(name):
    with pytest.raises(KnowledgeBaseError, match="--kb '.*' is empty: name a knowledge base folder"):
        knowledge_base(name)
    with pytest.raises(KnowledgeBaseError, match="--kb '.*' is empty"):
        engine.load(name)


@pytest.mark.parametrize("argv", [["check", "--kb", ""], ["check", "--kb", "  "],
                                  ["diff", "--old", "", "--new", str(KB_DIR), str(KB_DIR / "examples")]])
def test_an_empty_kb_name_fails_on_the_command_line(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and "is empty: name a knowledge base folder" in out + err and "Traceback" not in out + err


def test_an_english_list_of_values_is_joined_in_english(kb):
    assert display(kb, "tech_domains", ("digital_culture", "ai"), "en") == "Digital culture, Artificial intelligence"
    assert display(kb, "tech_domains", ("digital_culture", "ai"), "zh") == "数字文化、人工智能"


def test_english_arithmetic_names_the_deciding_policies_without_a_chinese_comma(kb):
    profile = yaml.safe_load((KB_DIR / "examples" / "new_ict_key_enterprise.yaml").read_text(encoding="utf-8"))
    amount = engine.explain(profile, "rent_subsidy", kb=kb, lang="en")["amount"]
    line = amount["arithmetic"][-1]
    assert line.startswith("not fixed (") and "、" not in line
    assert "(Xicheng area); Opinions of Xicheng District" in line
    chinese = engine.explain(profile, "rent_subsidy", kb=kb, lang="zh")["amount"]["arithmetic"][-1]
    assert "》、《" in chinese
