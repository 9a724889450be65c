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
