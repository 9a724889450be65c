"""The bundled example profiles evaluate as their comments say (kb/examples/)."""

import pytest

import engine
from engine.loading.profile import read_profile

from conftest import KB_DIR

EXAMPLES = sorted(p for p in (KB_DIR / "examples").iterdir() if p.suffix in (".yaml", ".json"))


def test_there_are_at_least_five_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_reads_and_evaluates(kb, path):
    result = engine.evaluate(dict(read_profile(path, kb)), kb=kb)
    assert result["as_of"] is not None and result["enterprise"]


def _result(kb, name):
    path = next(p for p in EXAMPLES if p.stem == name)
    return engine.evaluate(dict(read_profile(path, kb)), kb=kb)


def test_the_expired_example_gets_nothing(kb):
    result = _result(kb, "expired_application")
    assert result["benefits"] == [] and "policy_in_force" not in result["conclusions"]
    assert "new_or_relocated_key_enterprise" in result["conclusions"]


def test_the_building_operator_gets_both_13_4_amounts_without_being_a_digital_enterprise(kb):
    result = _result(kb, "building_operator")
    amounts = {b["id"]: b["amount"] for b in result["benefits"]}
    assert amounts["building_renovation_support"]["max"] == 6_000_000   # 1500元 × 4000 m²
    assert amounts["building_operator_reward"]["max"] == 1_800_000     # 10% × 1800万
    assert "support_target" not in result["conclusions"]


def test_the_listed_fintech_example_is_superseded_for_its_listing_grant(kb):
    result = _result(kb, "relocated_fintech_listed")
    assert [s["id"] for s in result["superseded"]] == ["listing_grant"]
