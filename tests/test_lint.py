"""The semantic linter (engine/authoring/lint.py), one broken fixture per finding (tests/fixtures/bad/)."""

import shutil

import pytest
import yaml

from engine.authoring.lint import lint

from conftest import FIXTURES, KB_DIR

CASES = sorted(p for p in (FIXTURES / "bad").iterdir() if p.is_dir())


def _broken_copy(case, tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURES / "minimal", kb)
    for path in case.rglob("*"):
        if path.is_file() and path.name != "expected.yaml":
            target = kb / path.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    return kb


def test_the_minimal_and_the_bundled_knowledge_bases_have_no_findings():
    assert lint(FIXTURES / "minimal") == []
    assert lint(KB_DIR) == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_finding_is_reported_with_its_file_line_and_message(case, tmp_path):
    expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    kb = _broken_copy(case, tmp_path)
    findings = [f for f in lint(kb) if f.code == expected["code"]]
    assert findings, f"no {expected['code']} finding; got {[f.text() for f in lint(kb)]}"
    finding = findings[0]
    assert finding.severity == expected["severity"]
    assert finding.file == str(kb / expected["file"])
    assert finding.line == expected["line"]
    assert expected["message"] in finding.message
    for key in ("rule_id", "suggestion"):
        if key in expected:
            assert getattr(finding, key) == expected[key]


def test_every_finding_code_has_a_fixture():
    from engine.authoring import lint as module
    codes = {yaml.safe_load((c / "expected.yaml").read_text(encoding="utf-8"))["code"] for c in CASES}
    documented = {line.split("``")[1] for line in module.__doc__.splitlines() if line.startswith("``")}
    assert documented <= codes
