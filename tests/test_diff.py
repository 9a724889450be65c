"""What an edit changes across profiles (engine/diff.py)."""


import yaml

import engine
from engine.diff import diff, render_text

from conftest import KB_DIR, edited_kb

BASE = yaml.safe_load((KB_DIR / "examples" / "new_ict_key_enterprise.yaml").read_text(encoding="utf-8"))


def _profiles(tmp_path, capitals):
    folder = tmp_path / "profiles"
    folder.mkdir()
    for capital in capitals:
        profile = dict(BASE, name=f"企业{capital}", paid_in_capital=capital)
        (folder / f"p{capital}.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    return folder


def _raised_threshold(tmp_path, threshold):
    return engine.load(edited_kb(tmp_path, "rules/article_13_1_settling.yaml", "{fact: paid_in_capital, at_least: 1亿元}",
                                 f"{{fact: paid_in_capital, at_least: {threshold}}}"))


def test_raising_the_capital_threshold_flips_the_subsidy_for_exactly_the_profiles_between(tmp_path):
    capitals = [80_000_000, 99_999_999, 100_000_000, 120_000_000, 149_999_999, 150_000_000, 200_000_000]
    folder = _profiles(tmp_path, capitals)
    report = diff(engine.load(KB_DIR), _raised_threshold(tmp_path, "1.5亿元"), [folder])
    flipped = sorted(int(item["enterprise"][2:]) for item in report["changed"])
    assert flipped == [100_000_000, 120_000_000, 149_999_999]
    for item in report["changed"]:
        assert item["changes"] == [{"what": "benefit", "id": "settlement_subsidy", "kind": "lost",
                                    "old": {"min": 5_000_000, "max": 20_000_000, "currency": "CNY"}, "new": None,
                                    "old_granted": True, "new_granted": False}]
    assert report["per_benefit"] == {"settlement_subsidy": {"gained": 0, "lost": 3, "amount_changed": 0}}
    assert report["profiles"] == len(capitals)


def test_an_unchanged_knowledge_base_changes_nothing(tmp_path):
    report = diff(engine.load(KB_DIR), engine.load(KB_DIR), [KB_DIR / "examples"])
    assert report["changed"] == [] and report["profiles"] >= 5


def test_a_changed_cap_shows_the_old_and_new_amounts_side_by_side(tmp_path):
    new = edited_kb(tmp_path, "rules/article_13_1_settling.yaml", "        - max: 1000万元", "        - max: 800万元")
    report = diff(engine.load(KB_DIR), engine.load(new), [KB_DIR / "examples" / "resident_investor.json"])
    (change,) = report["changed"][0]["changes"][:1]
    assert change["kind"] == "amount_changed" and change["old"]["max"] == 10_000_000 and change["new"]["max"] == 8_000_000
    text = render_text(report)
    assert "1,000万元  →  800万元" in text and "1 of 1 profiles differ" in text
