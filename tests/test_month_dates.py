"""Dates known only to their month: decided where every day agrees (engine/inferring/month_dates.py)."""

import csv
import datetime as dt

import pytest

import engine
from engine.errors import ProfileError
from engine.loading.values import MonthDate, parse_date_or_month

#: A key enterprise of 2023 asking for the 2022 start-up cost subsidy, whose registration is
#: known to the month: within three years of it or not depends on the day.
PROFILE = {"name": "测试企业", "application_date": "2023-06-15", "registered_in_xicheng": True,
           "fits_core_area_function": True, "lawful_operation": True, "digital_economy_recognized": True,
           "industry": "ict", "key_enterprise_recognized": True, "establishment": "new",
           "major_industry_influence": True, "startup_subsidy_recognized": True, "paid_in_capital": "1亿元"}


@pytest.mark.parametrize("text", ["2015年6月", "2015-06", "2015/6", "2015.6"])
def test_a_month_alone_is_read_as_some_day_of_it(text):
    month = parse_date_or_month(text)
    assert month == MonthDate(2015, 6) and month.days()[0] == dt.date(2015, 6, 1) and len(month.days()) == 30


def test_where_every_day_of_the_month_agrees_the_result_is_decided():
    result = engine.evaluate(dict(PROFILE, registration_date="2015年6月"))
    assert result["status"]["startup_cost_subsidy"] == "denied"      # years before, whatever the day
    assert result["month_only"] == {"registration_date": "2015-06"} and "undetermined_by_month" not in result
    assert "registration_date" not in result["missing"]


def test_where_the_days_differ_it_is_undetermined_and_the_day_is_asked_for():
    result = engine.evaluate(dict(PROFILE, registration_date="2020年6月"))   # within three years from the 15th
    assert result["status"]["startup_cost_subsidy"] == "undetermined"
    assert result["next_fact"]["startup_cost_subsidy"] == "registration_date"
    assert result["undetermined_by_month"] == ["startup_cost_subsidy"]
    # What does not depend on the day keeps its status and amount.
    settlement = next(b for b in result["benefits"] if b["id"] == "settlement_subsidy")
    assert settlement["amount"]["max"] == 20_000_000
    for day in (15, 30):
        exact = engine.evaluate(dict(PROFILE, registration_date=f"2020-06-{day:02d}"))
        assert exact["status"]["startup_cost_subsidy"] == "granted"
    assert engine.evaluate(dict(PROFILE, registration_date="2020-06-14"))["status"]["startup_cost_subsidy"] == "denied"


def test_the_text_says_which_date_was_read_as_a_month(capsys, tmp_path):
    from engine.cli import main
    path = tmp_path / "p.yaml"
    path.write_text("\n".join(f"{k}: {v}" for k, v in dict(PROFILE, registration_date="2020年6月").items()),
                    encoding="utf-8")
    assert main(["eval", str(path)]) == 0
    out = capsys.readouterr().out
    assert "企业设立登记日期 (registration_date) 只写到月份（2020年6月）" in out
    assert "开办费补助 (startup_cost_subsidy): 下一步应询问 企业设立登记日期 (registration_date)" in out


def test_more_than_two_dates_known_to_their_month_are_refused():
    with pytest.raises(ProfileError, match="given by their month only"):
        engine.evaluate(dict(PROFILE, registration_date="2020年6月", application_date="2023年6月",
                             listing_date="2021年1月"))


def test_a_batch_row_with_a_month_date_is_evaluated_by_day(tmp_path):
    from engine.screening import batch
    kb = engine.load()
    source = tmp_path / "in.csv"
    rows = [dict(PROFILE, id="E1", registration_date="2020年6月"), dict(PROFILE, id="E2", registration_date="2015年6月")]
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    outcome = batch.run(kb, source, tmp_path / "out.csv", quiet=True)
    with outcome.path.open(encoding="utf-8") as handle:
        out = list(csv.DictReader(handle))
    assert [r["startup_cost_subsidy"] for r in out] == ["undetermined", "denied"]
