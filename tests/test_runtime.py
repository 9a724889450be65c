"""The durable_rules wrapper and each of its hazards (engine/inferring/runtime.py)."""

import os
import re
import shlex
import subprocess
import sys
import threading

import pytest

from engine.compiling.compiler import compile_kb
from engine.errors import EvaluationError
from engine.inferring.runtime import RuleEngine

from conftest import REPO

KEY_ICT = {"digital_economy_business": True, "fits_core_area_function": True, "lawful_operation": True,
           "digital_economy_recognized": True, "industry": "ict", "key_enterprise_recognized": True,
           "establishment": "new", "paid_in_capital": 100_000_000, "application_date": 20220101,
           "registered_in_xicheng": True}


#: The presumed conclusions the key-enterprise rules need not to be denied (stratified by the
#: reasoner; here, as the engine sees it, markers on the gate fact).
PRESUMED = ("meets_recognition_conditions", "digital_economy_entity")


@pytest.fixture(scope="module")
def rule_engine(kb):
    return RuleEngine(compile_kb(kb))


def _derived(fired):
    return {name.split(".")[0] for name in fired}


def test_forward_chaining_reaches_a_benefit_through_four_conclusions(rule_engine):
    fired = rule_engine.run(KEY_ICT, PRESUMED)
    assert {"digital_economy_entity", "support_target", "key_digital_economy_enterprise",
            "new_or_relocated_key_enterprise", "policy_in_force", "settlement_subsidy"} <= _derived(fired)


def test_more_than_1024_evaluations_in_one_engine_work(rule_engine):
    # The 1,025th live session id raises MemoryError in durable_rules; sessions are deleted.
    for n in range(1500):
        facts = dict(KEY_ICT, paid_in_capital=100_000_000 - (n % 2))
        assert ("settlement_subsidy" in _derived(rule_engine.run(facts, PRESUMED))) == (n % 2 == 0)


def test_an_empty_profile_runs_and_is_cleaned_up_safely(rule_engine):
    # delete_state on a session where no action ran kills the process; the sentinel prevents it.
    for _ in range(50):
        assert rule_engine.run({}) == []


def test_evaluations_are_isolated(rule_engine):
    alone = rule_engine.run({"digital_economy_business": True})
    rule_engine.run(KEY_ICT, PRESUMED)
    assert rule_engine.run({"digital_economy_business": True}) == alone


def test_no_timer_threads_are_started(kb):
    before = threading.active_count()
    engine = RuleEngine(compile_kb(kb))
    engine.run(KEY_ICT, PRESUMED)
    assert threading.active_count() == before


def test_two_engines_of_one_knowledge_base_coexist(kb):
    # Ruleset names are global in durable_rules; each engine registers a unique one.
    first, second = RuleEngine(compile_kb(kb)), RuleEngine(compile_kb(kb))
    assert first.run(KEY_ICT, PRESUMED) == second.run(KEY_ICT, PRESUMED)


def test_unknown_facts_do_not_match_negative_tests(rule_engine):
    fired = rule_engine.run({k: v for k, v in KEY_ICT.items() if k != "establishment"}, PRESUMED)
    assert "new_or_relocated_key_enterprise" not in _derived(fired)


def test_an_exception_inside_an_action_is_reported_with_the_rule_and_the_next_run_is_correct(rule_engine, monkeypatch):
    def broken(fact):
        raise RuntimeError("injected failure")

    # The assert of a derived conclusion, inside an action, fails.
    monkeypatch.setattr(rule_engine, "_assert", broken)
    with pytest.raises(EvaluationError) as err:
        rule_engine.run(KEY_ICT, PRESUMED)
    assert "injected failure" in err.value.message and err.value.rule_id
    monkeypatch.undo()
    assert "settlement_subsidy" in _derived(rule_engine.run(KEY_ICT, PRESUMED))


# What the dynamic loader says on Python 3.13 when durable-rules was built without the define.
_UNDEFINED = ("/venv/lib/python3.13/site-packages/durable_rules_engine.cpython-313-x86_64-linux-gnu.so: "
              "undefined symbol: PyEval_CallObject")
_REBUILD = ("CPPFLAGS=-DPyEval_CallObject=PyObject_CallObject {python} -m pip install --force-reinstall "
            "--no-binary durable-rules --no-cache-dir durable-rules==2.0.28")


def _durable_fails_to_import(monkeypatch, message):
    import builtins
    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name == "durable" or name.startswith("durable."):
            raise ImportError(message)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)


def test_a_durable_rules_built_without_the_define_gets_the_command_that_rebuilds_it(monkeypatch):
    # Whatever the version number: only the import failing for the removed symbol decides.
    import engine.inferring.runtime as runtime
    from engine.errors import InstallationError
    _durable_fails_to_import(monkeypatch, _UNDEFINED)
    with pytest.raises(InstallationError) as err:
        runtime._durable()
    message = str(err.value)
    assert "\n" not in message and not isinstance(err.value, EvaluationError)
    assert message.endswith(_REBUILD.format(python=shlex.quote(sys.executable))), message


def test_another_import_failure_of_durable_rules_stays_an_internal_error(monkeypatch):
    import engine.inferring.runtime as runtime
    _durable_fails_to_import(monkeypatch, "No module named 'durable'")
    with pytest.raises(EvaluationError, match="durable-rules is not installed or does not load"):
        runtime._durable()


def test_the_command_line_prints_the_rebuild_command_in_one_line_and_exits_2(tmp_path):
    # A durable package whose engine fails to import the way a plain build does on 3.13.
    fake = tmp_path / "fake" / "durable"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "engine.py").write_text(f"raise ImportError({_UNDEFINED!r})\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path / "fake"), str(REPO)]))
    done = subprocess.run([sys.executable, "-m", "engine.cli", "eval",
                           str(REPO / "kb" / "examples" / "new_ict_key_enterprise.yaml")],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("policykb: error: durable-rules was compiled without"), lines
    assert lines[0].endswith(_REBUILD.format(python=shlex.quote(sys.executable))) and done.stdout == ""


def test_only_the_runtime_module_imports_durable_rules():
    importers = [path.relative_to(REPO).as_posix() for path in sorted((REPO / "engine").rglob("*.py"))
                 if re.search(r"^\s*(import|from)\s+durable", path.read_text(encoding="utf-8"), flags=re.M)]
    assert importers == ["engine/inferring/runtime.py"]


def test_results_in_one_process_match_a_fresh_process(rule_engine):
    code = ("import json,sys; sys.path.insert(0, %r); from engine.loading.kb import load; "
            "from engine.compiling.compiler import compile_kb; from engine.inferring.runtime import RuleEngine; "
            "print(json.dumps(RuleEngine(compile_kb(load(%r))).run(json.loads(sys.argv[1]), %r)))"
            % (str(REPO), str(REPO / "kb"), PRESUMED))
    import json
    for n in range(100):
        rule_engine.run(dict(KEY_ICT, establishment="existing"))
    fresh = subprocess.run([sys.executable, "-c", code, json.dumps(KEY_ICT)], capture_output=True,
                           text=True, check=True)
    assert json.loads(fresh.stdout) == rule_engine.run(KEY_ICT, PRESUMED)


def test_a_conclusion_derived_by_two_rules_is_asserted_once_and_both_firings_are_recorded():
    # A duplicate fact would raise MessageObservedException inside the action and be lost.
    from engine.compiling.compiler import CompiledRule, CompiledRuleset
    group = ("g0", {"$and": [{"t": "g0"}, {"a": True}]})
    other = ("g0", {"$and": [{"t": "g0"}, {"b": True}]})
    uses = ("c0", {"$and": [{"t": "c"}, {"id": "x"}]})
    ruleset = CompiledRuleset((
        CompiledRule("x.a#0", "x.a", 0, "x", (group,), (), (), True),
        CompiledRule("x.b#0", "x.b", 0, "x", (other,), (), (), True),
        CompiledRule("y.x#0", "y.x", 0, "y", (uses,), (), (), False),
    ), (("a", "b"),), "test")
    engine = RuleEngine(ruleset)
    for _ in range(3):
        fired = engine.run({"a": True, "b": True})
        assert sorted(fired) == ["x.a#0", "x.b#0", "y.x#0"]
