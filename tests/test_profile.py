"""Reading and checking enterprise profiles (engine/loading/profile.py)."""

import datetime as dt
from fractions import Fraction

import pytest

from engine.errors import ProfileError
from engine.loading.profile import parse_profile, read_profile


def test_values_are_converted_to_their_facts_types(kb):
    facts = parse_profile({"paid_in_capital": "1.2亿元", "application_date": "2021年3月1日",
                           "renovated_area_m2": "1234.5", "tech_domains": ["ai", "5g", "ai"],
                           "registered_in_xicheng": True, "industry": "ict"}, kb)
    assert facts["paid_in_capital"] == 120_000_000
    assert facts["application_date"] == dt.date(2021, 3, 1)
    assert facts["renovated_area_m2"] == Fraction(2469, 2)
    assert facts["tech_domains"] == ("ai", "5g")


def test_a_null_value_is_unknown_not_false(kb):
    assert "lawful_operation" not in parse_profile({"lawful_operation": None}, kb)


def test_an_unknown_fact_names_the_nearest_known_one(kb):
    with pytest.raises(ProfileError) as err:
        parse_profile({"paid_in_captial": 1}, kb)
    assert err.value.suggestion == "paid_in_capital"
    assert "unknown fact 'paid_in_captial'" in str(err.value)


def test_a_value_outside_an_enum_lists_the_allowed_ones(kb):
    with pytest.raises(ProfileError) as err:
        parse_profile({"industry": "fintech"}, kb)
    assert err.value.allowed == ["ict", "finance", "culture", "business_services", "other"]


def test_a_misspelt_enum_value_gets_a_suggestion(kb):
    with pytest.raises(ProfileError) as err:
        parse_profile({"listing": "star_markt"}, kb)
    assert err.value.suggestion == "star_market"


@pytest.mark.parametrize("fact, value, words", [
    ("paid_in_capital", True, "not an amount"), ("paid_in_capital", "500万美元", "not in yuan"),
    ("industry", 3, "not one of its values"), ("registered_in_xicheng", "maybe", "not true or false"),
    ("application_date", "2021-02-30", "not a real date"), ("tech_domains", "ai", "not a list"),
    ("tech_domains", ["quantum"], "not one of its values"), ("name", {"a": 1}, "expected text"),
])
def test_a_value_of_the_wrong_type_is_one_clear_error(kb, fact, value, words):
    with pytest.raises(ProfileError, match=words):
        parse_profile({fact: value}, kb)


def test_a_list_where_a_mapping_belongs_is_refused(kb):
    with pytest.raises(ProfileError, match="mapping of fact names"):
        parse_profile([{"industry": "ict"}], kb)


def test_other_district_support_is_checked_field_by_field(kb):
    facts = parse_profile({"other_district_support": [
        {"benefit": "listing_grant", "policy": "某办法", "amount": "800万元"}]}, kb)
    assert facts["other_district_support"] == ({"benefit": "listing_grant", "policy": "某办法", "amount": 8_000_000},)
    with pytest.raises(ProfileError) as err:
        parse_profile({"other_district_support": [{"benefit": "listing_grnt", "policy": "x", "amount": 1}]}, kb)
    assert err.value.suggestion == "listing_grant"
    with pytest.raises(ProfileError, match="has no amount"):
        parse_profile({"other_district_support": [{"benefit": "listing_grant", "policy": "x"}]}, kb)


def test_errors_in_files_carry_the_file_and_line(kb, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("name: 企业\nindustry: ict\npaid_in_capital: 一点五亿\n", encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        read_profile(path, kb)
    assert (err.value.file, err.value.line) == (str(path), 3)
    assert "Chinese numerals" in err.value.message


def test_an_empty_profile_file_is_refused(kb, tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ProfileError, match="empty"):
        read_profile(path, kb)


# Issue 10, item 8: a document that is not a mapping says what a profile is, in words.
@pytest.mark.parametrize("data, kind", [
    ("some text", "text"), (42, "a number"), (1.5, "a number"), ([{"industry": "ict"}], "a list"),
    (True, "true/false"), (dt.date(2021, 3, 1), "a date"),
])
def test_a_profile_that_is_not_a_mapping_says_what_it_is_in_words(kb, data, kind):
    with pytest.raises(ProfileError) as err:
        parse_profile(data, kb)
    assert err.value.message == ("a profile is a mapping of fact names to values "
                                 f"(e.g. `paid_in_capital: 1亿元`), not {kind}")


def test_a_bare_string_file_is_refused_at_line_1(kb, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("北京某科技有限公司\n", encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        read_profile(path, kb)
    assert (err.value.file, err.value.line) == (str(path), 1) and err.value.message.endswith("not text")


# Issue 10, item 6: a fact marked `signed` in kb/facts.yaml takes negative money; others do not.
@pytest.mark.parametrize("written, yuan", [(-9990, -9990), ("-1.5万", -15_000), ("-9990元", -9990)])
def test_a_contribution_increment_may_be_negative(kb, written, yuan):
    assert kb.facts["introduced_contribution_increment"].signed
    facts = parse_profile({"introduced_contribution_increment": written}, kb)
    assert facts["introduced_contribution_increment"] == yuan


@pytest.mark.parametrize("fact", ["paid_in_capital", "cultivation_investment", "renovation_investment"])
def test_money_that_cannot_be_negative_is_still_refused(kb, fact):
    assert not kb.facts[fact].signed
    with pytest.raises(ProfileError, match=f"{fact}: '-9990' is negative; an amount of money is 0 or more"):
        parse_profile({fact: -9990}, kb)


def test_a_negative_amount_offered_by_another_policy_is_refused(kb):
    with pytest.raises(ProfileError, match="is negative"):
        parse_profile({"other_district_support": [
            {"benefit": "listing_grant", "policy": "某办法", "amount": "-800万元"}]}, kb)


def test_a_choice_may_be_written_by_its_label_in_either_language(kb):
    from engine.loading.profile import parse_profile
    facts = parse_profile({"industry": "金融", "tech_domains": ["大数据", "AI", "blockchain"],
                           "establishment": "Newly established"}, kb)
    assert facts["industry"] == "finance" and facts["establishment"] == "new"
    assert facts["tech_domains"][0] == "big_data" and "blockchain" in facts["tech_domains"]


def test_facts_may_be_named_by_their_labels_as_in_spreadsheets(kb):
    from engine.loading.profile import parse_profile
    facts = parse_profile({"企业名称": "甲", "Paid-in capital": "1亿元", "行业": "金融"}, kb)
    assert facts == {"name": "甲", "paid_in_capital": 100_000_000, "industry": "finance"}
    with pytest.raises(ProfileError, match="already gives"):
        parse_profile({"name": "甲", "企业名称": "乙"}, kb)
    with pytest.raises(ProfileError) as err:
        parse_profile({"企业名字": "甲"}, kb)
    assert err.value.suggestion == "企业名称"


def test_a_choice_that_is_not_a_value_lists_the_labels_a_person_may_write(kb):
    from engine.loading.profile import parse_profile
    with pytest.raises(ProfileError) as err:
        parse_profile({"establishment": "新引进"}, kb)
    assert "新设立 (new), 新迁入 (relocated)" in err.value.message
    assert err.value.allowed == ["new", "relocated", "existing"]   # the API's field stays ids
