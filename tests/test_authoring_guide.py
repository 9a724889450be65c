"""docs/authoring.md's worked example, applied to a copy of kb/ and checked end to end."""

import re
import shutil

import pytest

import engine
from engine.authoring.diff import diff
from engine.rendering.graph import impact
from engine.authoring.lint import lint
from engine.authoring.scenarios import load_scenarios, run

from conftest import KB_DIR, REPO

GUIDE = REPO / "docs" / "authoring.md"
BLOCK = re.compile(r"<!-- worked-example: (append to|new file) (\S+) -->\s*```yaml\n(.*?)```", re.S)
REPLACE = re.compile(r"<!-- worked-example: replace in (\S+) -->\s*```yaml\n(.*?)```\s*"
                     r"<!-- worked-example: with -->\s*```yaml\n(.*?)```", re.S)


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    copy = tmp_path_factory.mktemp("guide") / "kb"
    shutil.copytree(KB_DIR, copy)
    steps = BLOCK.findall(GUIDE.read_text(encoding="utf-8"))
    assert len(steps) == 3
    for how, name, text in steps:
        path = copy / name
        if how == "append to":
            path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + text, encoding="utf-8")
        else:
            path.write_text(text, encoding="utf-8")
    replacements = REPLACE.findall(GUIDE.read_text(encoding="utf-8"))
    assert len(replacements) == 1
    for name, old, new in replacements:
        path = copy / name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"the guide's text to replace is not (once) in {name}"
        path.write_text(text.replace(old, new), encoding="utf-8")
    return copy


def test_the_failure_the_guide_shows_is_the_one_test_reports(tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(KB_DIR, copy)
    for how, name, text in BLOCK.findall(GUIDE.read_text(encoding="utf-8")):
        path = copy / name
        path.write_text((path.read_text(encoding="utf-8").rstrip("\n") + "\n\n" if how == "append to" else "") + text,
                        encoding="utf-8")
    kb = engine.load(copy)
    failing = [(c.name, run(c, kb)) for c in load_scenarios(kb) if run(c, kb)]
    assert failing == [("An ICT enterprise with an unknown leading demonstration role is a support target with "
                        "that fact not missing", ["missing: expected [], got ['in_cultural_park']"])]
    assert "missing: expected [], got ['in_cultural_park']" in GUIDE.read_text(encoding="utf-8")


def test_the_edited_knowledge_base_passes_check_strictly(edited):
    assert [f.text() for f in lint(edited)] == []


def test_the_new_scenarios_pass_with_all_the_others(edited):
    kb = engine.load(edited)
    cases = load_scenarios(kb)
    assert any(c.name.startswith("A support target in a cultural park") for c in cases)
    assert [(c.name, run(c, kb)) for c in cases if run(c, kb)] == []


def test_diff_shows_what_the_guide_says(edited, tmp_path):
    report = diff(engine.load(KB_DIR), engine.load(edited), [KB_DIR / "examples"])
    changes = [c for item in report["changed"] for c in item["changes"]]
    assert changes and all(c["what"] == "status" and c["id"] == "supported_digital_culture"
                           and (c["old"], c["new"]) == ("denied", "undetermined") for c in changes)
    assert report["per_benefit"] == {}


def test_impact_lists_the_rule_and_the_direction_and_no_benefit(edited):
    found = impact(engine.load(edited), "in_cultural_park")
    assert found == {"id": "fact:in_cultural_park", "kind": "fact", "rules": ["supported_digital_culture.cultural_park"],
                     "conclusions": ["supported_digital_culture"], "benefits": [], "relations": [],
                     "also_affected": []}
