"""Shared fixtures: the bundled knowledge base, loaded once per test session."""

from pathlib import Path

import pytest

import engine

REPO = Path(__file__).resolve().parent.parent
KB_DIR = REPO / "kb"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def edited_kb(tmp_path, file: str, old: str, new: str) -> Path:
    """A copy of the bundled kb/ in ``tmp_path`` with ``old`` replaced by ``new`` (once) in
    ``file``; fails if ``old`` is not there, so an edit can never silently miss."""
    import shutil
    copy = tmp_path / "kb"
    shutil.copytree(KB_DIR, copy)
    path = copy / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy


NEW_DOCUMENT = FIXTURES / "new_document"


def add_new_document(kb_folder: Path) -> None:
    """Add the imaginary document of tests/fixtures/new_document to the knowledge base at
    ``kb_folder`` as docs/authoring.md's "Adding a document" does: its folder under documents/,
    its facts appended to facts.yaml, its scenarios, and its line in knowledge_base.yaml."""
    import shutil
    shutil.copytree(NEW_DOCUMENT / "documents" / "example_culture_award",
                    kb_folder / "documents" / "example_culture_award")
    facts = kb_folder / "facts.yaml"
    facts.write_text(facts.read_text(encoding="utf-8").rstrip("\n") + "\n"
                     + (NEW_DOCUMENT / "facts.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    shutil.copy2(NEW_DOCUMENT / "scenarios" / "example_culture_award.yaml", kb_folder / "scenarios")
    index = kb_folder / "knowledge_base.yaml"
    text = index.read_text(encoding="utf-8")
    head, sep, rest = text.partition("\ndocuments:\n")
    assert sep, "knowledge_base.yaml has no 'documents:' list"
    listed = rest.split("\n")
    end = next(n for n, line in enumerate(listed) if not line.startswith("  - "))
    listed.insert(end, "  - example_culture_award    # an imaginary document (tests/fixtures/new_document)")
    text = head + sep + "\n".join(listed)
    # Its overlap with a benefit of the measures, appended to the index's overlaps.
    head, sep, rest = text.partition("\noverlaps:\n")
    assert sep, "knowledge_base.yaml has no 'overlaps:' list"
    lines = rest.split("\n")
    end = next((n for n, line in enumerate(lines) if line and not line.startswith(" ")), len(lines))
    lines[end:end] = (NEW_DOCUMENT / "overlaps.yaml").read_text(encoding="utf-8").rstrip("\n").split("\n")
    index.write_text(head + sep + "\n".join(lines), encoding="utf-8")


def kb_with_new_document(tmp_path) -> Path:
    """A copy of the bundled kb/ with the imaginary new document added (:func:`add_new_document`)."""
    import shutil
    copy = tmp_path / "kb_new"
    shutil.copytree(KB_DIR, copy)
    add_new_document(copy)
    return copy


@pytest.fixture(scope="session")
def kb():
    return engine.load(KB_DIR)


@pytest.fixture
def base_profile():
    """A complete profile of a new ICT key enterprise in force, granting the settlement subsidy."""
    return {
        "name": "测试企业", "application_date": "2022-01-01", "registered_in_xicheng": True,
        "fits_core_area_function": True, "lawful_operation": True, "digital_economy_business": True,
        "digital_economy_recognized": True, "industry": "ict", "key_enterprise_recognized": True,
        "establishment": "new", "paid_in_capital": "1亿元", "office_tenure": "rented",
    }


def screened_view(result: dict) -> dict:
    """The part of an evaluation's result that screening (engine.inferring.evaluation.screen) gives."""
    return {"as_of": result["as_of"], "conclusions": result["conclusions"],
            "benefits": [{"id": b["id"], "amount": b["amount"]} for b in result["benefits"]],
            "superseded": [{"id": s["id"]} for s in result["superseded"]], "status": result["status"]}
