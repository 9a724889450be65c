"""What an edit changes across profiles (engine/authoring/diff.py)."""


import yaml

import engine
from engine.authoring.diff import diff, render_text

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
    return engine.load(edited_kb(tmp_path, "documents/digital_economy_measures/rules/article_13_1_settling.yaml", "{fact: paid_in_capital, at_least: 1亿元}",
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
                                    "old_granted": True, "new_granted": False, "old_status": "granted",
                                    "new_status": "denied", "old_next_fact": None, "new_next_fact": None}]
        assert "missing" not in item
    assert report["per_benefit"] == {"settlement_subsidy": {"gained": 0, "lost": 3, "lost_undetermined": 0,
                                                            "amount_changed": 0, "status_changed": 0}}
    assert report["profiles"] == len(capitals)


def test_an_unchanged_knowledge_base_changes_nothing(tmp_path):
    report = diff(engine.load(KB_DIR), engine.load(KB_DIR), [KB_DIR / "examples"])
    assert report["changed"] == [] and report["profiles"] >= 5


def test_a_changed_cap_shows_the_old_and_new_amounts_side_by_side(tmp_path):
    new = edited_kb(tmp_path, "documents/digital_economy_measures/rules/article_13_1_settling.yaml", "        - max: 1000万元", "        - max: 800万元")
    report = diff(engine.load(KB_DIR), engine.load(new), [KB_DIR / "examples" / "resident_investor.json"])
    (change,) = report["changed"][0]["changes"][:1]
    assert change["kind"] == "amount_changed" and change["old"]["max"] == 10_000_000 and change["new"]["max"] == 8_000_000
    text = render_text(report)
    assert "benefit 涵养补助 (cultivation_subsidy): granted 1,000万元  →  granted 800万元" in text
    assert "1 of 1 profiles differ" in text


def _needs_an_approved_project(tmp_path):
    """A copy of kb/ whose settlement subsidy also needs an approved project."""
    return engine.load(edited_kb(tmp_path, "documents/digital_economy_measures/rules/article_13_1_settling.yaml", "        - {fact: paid_in_capital, at_least: 1亿元}",
                                 "        - {fact: paid_in_capital, at_least: 1亿元}\n        - {fact: project_approved, is: true}"))


def _project_profiles(tmp_path):
    folder = tmp_path / "profiles"
    folder.mkdir()
    for name, approved in (("a_unknown", None), ("b_none", False), ("c_approved", True)):
        profile = dict(BASE, name=name, project_approved=approved)
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    return folder


def test_granted_to_undetermined_and_granted_to_denied_are_told_apart(tmp_path):
    report = diff(engine.load(KB_DIR), _needs_an_approved_project(tmp_path), [_project_profiles(tmp_path)])
    assert [item["enterprise"] for item in report["changed"]] == ["a_unknown", "b_none"]
    unknown, none = (item["changes"][0] for item in report["changed"])
    assert (unknown["kind"], unknown["old_status"], unknown["new_status"]) == ("lost", "granted", "undetermined")
    assert unknown["new_next_fact"] == "project_approved" and unknown["old"]["max"] == 20_000_000
    assert (none["kind"], none["old_status"], none["new_status"]) == ("lost", "granted", "denied")
    assert report["changed"][0]["missing"]["added"] == ["project_approved"] and "missing" not in report["changed"][1]
    assert report["per_benefit"]["settlement_subsidy"] == {"gained": 0, "lost": 2, "lost_undetermined": 1,
                                                           "amount_changed": 0, "status_changed": 0}
    assert report["labels"]["settlement_subsidy"] == {"zh": "入驻补助", "en": "Settlement subsidy"}
    text = render_text(report)
    assert ("benefit 入驻补助 (settlement_subsidy): granted 500万元–2,000万元  →  undetermined "
            "(asks for 经认定立项的优质项目 (project_approved))") in text
    assert "benefit 入驻补助 (settlement_subsidy): granted 500万元–2,000万元  →  denied\n" in text
    assert "  missing facts: + 经认定立项的优质项目 (project_approved)\n" in text
    assert "入驻补助 (settlement_subsidy): +0  −2 (?1)  ~0  ±0" in text
    assert "Settlement subsidy (settlement_subsidy): granted" in render_text(report, "en")


def test_a_new_missing_fact_alone_makes_a_profile_differ(tmp_path):
    folder = tmp_path / "profiles"
    folder.mkdir()
    profile = dict(BASE, name="小企业", paid_in_capital="5000万元", project_approved=None)
    (folder / "small.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    capital_unknown = dict(profile, name="资本未知", paid_in_capital=None)
    (folder / "unknown.yaml").write_text(yaml.safe_dump(capital_unknown, allow_unicode=True), encoding="utf-8")
    report = diff(engine.load(KB_DIR), _needs_an_approved_project(tmp_path), [folder])
    # 5000万元 is denied either way; with the capital unknown too, the subsidy stays undetermined:
    # the new condition adds a missing fact and changes no status.
    (item,) = report["changed"]
    assert item["enterprise"] == "资本未知" and item["changes"] == []
    assert item["missing"]["added"] == ["project_approved"]


def test_the_command_line_carries_statuses_and_missing_facts_in_json(tmp_path, capsys):
    import json
    from engine.cli import main
    new, profiles = _needs_an_approved_project(tmp_path), str(_project_profiles(tmp_path))
    assert main(["diff", "--old", str(KB_DIR), "--new", str(new.root), profiles, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [c["new_status"] for item in report["changed"] for c in item["changes"]] == ["undetermined", "denied"]
    assert main(["diff", "--old", str(KB_DIR), "--new", str(new.root), profiles, "--lang", "en"]) == 0
    assert "→  undetermined (asks for Approved as a quality project (project_approved))" \
        in capsys.readouterr().out


def test_a_fact_only_the_new_knowledge_base_knows_is_left_out_of_the_old_and_named(tmp_path):
    """The new knowledge base adds a fact and a condition on it (tests/fixtures/minimal, edited)."""
    import shutil

    from conftest import FIXTURES
    new = tmp_path / "new"
    shutil.copytree(FIXTURES / "minimal", new)
    facts = new / "facts.yaml"
    facts.write_text(facts.read_text(encoding="utf-8").rstrip("\n") + "\n  - id: audited\n    type: bool\n"
                     "    zh: 已审计\n    en: Audited\n    source: 2(1)\n", encoding="utf-8")
    rules = new / "rules" / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("        - {fact: capital, at_least: 1亿元}\n",
                                  "        - {fact: capital, at_least: 1亿元}\n        - {fact: audited, is: true}\n", 1),
                     encoding="utf-8")
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump({"application_date": "2022-01-01", "recognized": True, "sector": "a",
                                    "capital": "2亿元", "audited": False}), encoding="utf-8")
    old = engine.load(FIXTURES / "minimal")
    report = diff(old, engine.load(new), [path])
    (item,) = report["changed"]
    assert item["unknown_facts"] == {"old": ["audited"]}
    (lost,) = [c for c in item["changes"] if c.get("id") == "grant_a"]
    assert lost["kind"] == "lost" and lost["old_status"] == "granted" and lost["new_status"] == "denied"
    line = next(line for line in render_text(report).splitlines() if "not known to the old knowledge base" in line)
    assert "left out there: audited" in line
    back = diff(engine.load(new), old, [path])["changed"][0]
    assert back["unknown_facts"] == {"new": ["audited"]} and back["changes"][0]["kind"] == "gained"
