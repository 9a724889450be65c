"""Editor schemas (schemas/ and engine/loading/schemas.py) validate every bundled file."""

import datetime as dt
import json

import jsonschema
import pytest
import yaml

from engine.loading.schemas import profile_schema

from conftest import KB_DIR, REPO

SCHEMAS = REPO / "schemas"


def _schema(name):
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


def _plain(data):
    """YAML data as JSON sees it: dates become ISO strings."""
    return json.loads(json.dumps(data, default=lambda v: v.isoformat() if isinstance(v, dt.date) else str(v)))


def _files():
    yield KB_DIR / "facts.yaml", "facts"
    yield KB_DIR / "knowledge_base.yaml", "knowledge_base"
    for folder in sorted((KB_DIR / "documents").iterdir()):
        for name in ("document", "subpolicies", "conclusions"):
            if (folder / f"{name}.yaml").is_file():
                yield folder / f"{name}.yaml", name
        for path in sorted((folder / "rules").glob("*.yaml")):
            yield path, "rules"
    for path in sorted((KB_DIR / "scenarios").glob("*.yaml")):
        yield path, "scenarios"
    for path in sorted((KB_DIR / "examples").iterdir()):
        yield path, "profile"


FILES = list(_files())


@pytest.mark.parametrize("path, schema", FILES, ids=[p.relative_to(KB_DIR).as_posix() for p, _ in FILES])
def test_every_bundled_file_validates_against_its_schema(path, schema):
    data = _plain(yaml.safe_load(path.read_text(encoding="utf-8")))
    jsonschema.Draft202012Validator(_schema(schema)).validate(data)
    if path.suffix == ".yaml":
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=") and first.endswith(f"schemas/{schema}.schema.json")
        assert (path.parent / first.split("=", 1)[1]).resolve() == (SCHEMAS / f"{schema}.schema.json").resolve()


def test_every_schema_is_a_valid_schema():
    for path in SCHEMAS.glob("*.schema.json"):
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


def test_the_committed_profile_schema_is_generated_from_the_facts(kb):
    from engine.authoring.regenerate import COMMAND
    assert _schema("profile") == profile_schema(kb), f"schemas/profile.schema.json is stale: run `{COMMAND}`"


@pytest.mark.parametrize("file, old, new, schema", [
    ("documents/digital_economy_measures/rules/article_13_1_settling.yaml", "    defers_to: [listing_measures]", "    defer_to: [listing_measures]", "rules"),
    ("documents/digital_economy_measures/rules/article_13_1_settling.yaml", "      range: {min: 150万元, max: 600万元}", "      range: {min: 1500000, max: 600万元}", "rules"),
    ("documents/digital_economy_measures/rules/article_13_2_5.yaml", "{fact: building_operator, is: true}", "{fact: building_operator, is: true, in: [x]}", "rules"),
    ("facts.yaml", "    type: money\n", "    type: currency\n", "facts"),
    ("examples/new_ict_key_enterprise.yaml", "industry: ict", "industry: fintech", "profile"),
    ("examples/new_ict_key_enterprise.yaml", "listing: none", "listed: none", "profile"),
    ("scenarios/settlement_subsidy.yaml", "    not_benefits:", "    not_benefit:", "scenarios"),
])
def test_a_broken_copy_is_rejected(tmp_path, file, old, new, schema):
    text = (KB_DIR / file).read_text(encoding="utf-8")
    assert old in text
    data = _plain(yaml.safe_load(text.replace(old, new, 1)))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(_schema(schema)).validate(data)


def _document_variants():
    """Each key of a document's metadata given a value of each kind: unknown (null), blank,
    a number, a date, text, a list, a mapping."""
    values = {"null": None, "blank": "  ", "number": 5, "date": "2021-06-01", "impossible date": "2021-13-01",
              "text": "西城区", "list": ["西城区"], "mapping": {"zh": "甲", "en": "A"}, "negative": -1}
    keys = json.loads((SCHEMAS / "document.schema.json").read_text(encoding="utf-8"))["properties"]["document"]["properties"]
    for key in keys:
        if key in ("id", "title", "title_en", "source"):
            continue   # what names the document and its text: checked by every other test
        for name, value in values.items():
            yield key, name, value


@pytest.mark.parametrize("key, kind, value", list(_document_variants()),
                         ids=[f"{k}={n}" for k, n, _ in _document_variants()])
def test_check_and_the_document_schema_accept_exactly_the_same_metadata(tmp_path, key, kind, value):
    """A document.yaml the loader accepts validates against the schema, and one it refuses does not."""
    import shutil

    import engine
    from engine.errors import KnowledgeBaseError
    kb = tmp_path / "kb"
    shutil.copytree(REPO / "tests" / "fixtures" / "minimal", kb)
    path = kb / "document.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["document"][key] = value
    if key == "effective_date" and value is not None:
        data["document"]["expiry_date"] = None   # a start after the fixture's end is refused for that reason
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    try:
        engine.load(kb)
        loads = True
    except KnowledgeBaseError:
        loads = False
    valid = jsonschema.Draft202012Validator(_schema("document")).is_valid(_plain(data))
    assert loads == valid, f"{key}: {value!r} — the loader {'accepts' if loads else 'refuses'} it, the schema does not agree"
