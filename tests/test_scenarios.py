"""Runs every YAML scenario of kb/scenarios/ (each is one test, named by its sentence)."""

import pytest

import engine
from engine import scenarios

from conftest import KB_DIR

_KB = engine.load(KB_DIR)
_SCENARIOS = scenarios.load_scenarios(_KB)


def test_there_are_at_least_sixty_scenarios():
    assert len(_SCENARIOS) >= 60


@pytest.mark.parametrize("scenario", _SCENARIOS, ids=[s.name for s in _SCENARIOS])
def test_scenario(scenario):
    problems = scenarios.run(scenario, _KB)
    assert not problems, f"{scenario.where}: " + "; ".join(problems)
