"""Shared fixtures: the bundled knowledge base, loaded once per test session."""

import re
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


GUIDE = REPO / "docs" / "authoring.md"
#: A step of docs/authoring.md's "Adding a document": its marker, and the block after it (if any).
_STEP = re.compile(r"<!-- new-document: ([^>]*?) -->\n(?:```\w+\n(.*?)```)?", re.S)
NEW_DOCUMENT_ID = "example_culture_award"


def new_document_steps() -> list[tuple[str, str]]:
    """The steps of "Adding a document": ``(marker, text)``, e.g. ``("new file documents/…", "…")``."""
    return _STEP.findall(GUIDE.read_text(encoding="utf-8"))


def _append_to_list(index: Path, key: str, text: str) -> None:
    """Add ``text`` (items of a YAML list) at the end of the top-level list ``key`` of ``index``."""
    head, sep, rest = index.read_text(encoding="utf-8").partition(f"\n{key}:\n")
    assert sep, f"{index.name} has no '{key}:' list"
    lines = rest.split("\n")
    end = next((n for n, line in enumerate(lines) if line and not line.startswith((" ", "#"))), len(lines))
    while end and not lines[end - 1].strip():
        end -= 1
    lines[end:end] = text.rstrip("\n").split("\n")
    index.write_text(head + sep + "\n".join(lines), encoding="utf-8")


def add_new_document(kb_folder: Path, draft: bool = True, scratch: Path | None = None) -> None:
    """Add the imaginary document of docs/authoring.md's "Adding a document" to the knowledge base
    at ``kb_folder``, step by step as the guide says: ``policykb draft`` from its text (or, with
    ``draft=False``, the text copied as it is), then every reviewed file the guide shows."""
    steps = new_document_steps()
    assert steps, "docs/authoring.md has no 'new-document' steps"
    folder = kb_folder / "documents" / NEW_DOCUMENT_ID
    (name, source), = [(m.split(" ", 1)[1], t) for m, t in steps if m.startswith("source ")]
    if draft:
        from engine.cli import main
        path = (scratch or kb_folder.parent) / name
        path.write_text(source, encoding="utf-8")
        assert main(["draft", str(path), "--id", NEW_DOCUMENT_ID, "--kb", str(kb_folder)]) == 0
    else:
        folder.mkdir(parents=True)
        (folder / "source.txt").write_text(source, encoding="utf-8")
        _append_to_list(kb_folder / "knowledge_base.yaml", "documents", f"  - {NEW_DOCUMENT_ID}")
    for marker, text in steps:
        action, _, target = marker.partition(" ")
        if marker.startswith("new file "):
            path = kb_folder / marker[len("new file "):]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        elif action == "delete":
            (kb_folder / target).unlink(missing_ok=True)
        elif marker == "append to facts.yaml":
            facts = kb_folder / "facts.yaml"
            facts.write_text(facts.read_text(encoding="utf-8").rstrip("\n") + "\n" + text, encoding="utf-8")
        elif marker.startswith("append to ") and marker.endswith(" of knowledge_base.yaml"):
            key = marker[len("append to "):-len(" of knowledge_base.yaml")]
            listed = kb_folder / "knowledge_base.yaml"
            if key == "documents" and NEW_DOCUMENT_ID in listed.read_text(encoding="utf-8").split("\noverlaps:")[0]:
                continue   # policykb draft listed it already
            _append_to_list(listed, key, text)
        else:
            assert action == "source", f"docs/authoring.md: unknown step '{marker}'"


def kb_with_new_document(tmp_path) -> Path:
    """A copy of the bundled kb/ with the imaginary new document added (:func:`add_new_document`)."""
    import shutil
    copy = tmp_path / "kb_new"
    shutil.copytree(KB_DIR, copy)
    add_new_document(copy, scratch=tmp_path)
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
