"""The one module that touches durable_rules: a safe way to run a compiled ruleset.

durable-rules 2.0.28 is unmaintained and has sharp edges (see ../shared/notes/durable-rules.md);
:class:`RuleEngine` is designed around each one:

- **Timer threads**: the default ``Host`` starts two timer threads that run actions
  concurrently and have crashed after ``delete_state``. :class:`_QuietHost` starts none; all
  actions run in the caller's thread, inside the assert call.
- **Global ruleset names**: every engine registers its ruleset under a name unique in the
  process, so two knowledge bases (or two loads of one) never collide.
- **Session limits and** ``delete_state``: each evaluation gets a fresh session id, deleted
  afterwards, so at most one is live (the 1,025th live id raises MemoryError). ``delete_state``
  on a session where no action ran kills the process, so a sentinel rule that matches the
  profile's facts and the gate fact always fires; the session is deleted only when it did.
- **Exceptions inside actions** never reach the caller through durable's Host (they are kept
  in the session state) and skip the rest of the action. Here the actions are run by
  :meth:`RuleEngine._assert_and_act` itself; every action catches its own errors, records
  them, and :meth:`RuleEngine.run` raises them as an :class:`~engine.errors.EvaluationError`
  naming the rule, after cleaning up the session, so the next evaluation is unaffected.
- **Unhandled and duplicate facts**: a fact no rule handles raises MessageNotHandledException,
  a duplicate one MessageObservedException. The profile's group facts and the gate fact are
  always handled by the sentinel; a conclusion fact is asserted only when some rule uses it, and only once.
- **Negation**: ``$not`` does not cancel a pending match; the compiler emits no ``$not`` at all
  (the condition language has no negation-as-failure), which a test checks.
- **64 conditions per fact** (error 303): the compiler splits the profile into group facts of
  bounded condition count (:data:`engine.compiling.compiler.GROUP_CAPACITY`).
- **Uninitialised memory under** ``$iany``: with an ``$or`` inside ``$iany``, creating the
  ruleset reads a node field durable never set, and fails with error 102 (ERR_UNEXPECTED_TYPE)
  or not depending on the heap: an intermittent internal error. The compiler puts one plain
  comparison inside each ``$iany`` (see :func:`engine.compiling.compiler._pattern`). An ``$or`` of
  which several alternatives hold fires its rule once for each: :meth:`RuleEngine.run`
  reports each rule that fired once.
- **Types**: strings compare with numbers as text and ``true == 1``; profiles are type-checked
  before they reach the engine, dates are sent as ``YYYYMMDD`` integers and integral numbers as
  ``int`` (``1`` and ``1.0`` are different facts to the engine).
- **Python 3.13** removed ``PyEval_CallObject``, which the C extension calls: built plainly,
  it fails to import there (undefined symbol). Built with
  ``CPPFLAGS=-DPyEval_CallObject=PyObject_CallObject`` (its setup.py overwrites CFLAGS, not
  CPPFLAGS) it runs on 3.10-3.13 alike. Nothing here checks the version number: when the
  import fails for that symbol, :func:`_durable` raises an
  :class:`~engine.errors.InstallationError` whose one line is the command that rebuilds it.
- **Threads**: its C calls hold the GIL; use processes for parallel work, never threads. An
  engine is not thread-safe.
"""

from __future__ import annotations

import itertools
import json
import shlex
import sys
from typing import Callable

from engine.compiling.compiler import CompiledRuleset, presumed_field
from engine.errors import EvaluationError, InstallationError

_names = itertools.count(1)
_SENTINEL = "$sentinel"


def _durable():
    """Import durable_rules' engine, or explain in one line why it cannot be used here.

    A durable-rules compiled without ``-DPyEval_CallObject=PyObject_CallObject`` fails to import
    on Python 3.13 (undefined symbol); the error then gives the command that rebuilds it, with
    this interpreter's pip, and pip told to compile it now rather than reuse a cached wheel.
    """
    try:
        from durable import engine
    except ImportError as exc:
        if "PyEval_CallObject" in str(exc):
            pip = f"{shlex.quote(sys.executable or 'python3')} -m pip"
            raise InstallationError(
                f"durable-rules was compiled without the define Python {sys.version_info[0]}."
                f"{sys.version_info[1]} needs (undefined symbol PyEval_CallObject); rebuild it by running: "
                f"CPPFLAGS=-DPyEval_CallObject=PyObject_CallObject {pip} install --force-reinstall "
                "--no-binary durable-rules --no-cache-dir durable-rules==2.0.28") from None
        raise EvaluationError(f"durable-rules is not installed or does not load ({exc}); "
                              "install policykb with pip, which brings durable-rules==2.0.28") from None
    return engine


class RuleEngine:
    """A compiled ruleset loaded into durable_rules, evaluating one fact set at a time.

    Parameters
    ----------
    ruleset : CompiledRuleset
        What :func:`engine.compiling.compiler.compile_kb` produced.
    """

    def __init__(self, ruleset: CompiledRuleset):
        durable = _durable()
        self._ruleset = ruleset
        self._name = f"policykb_{ruleset.kb_version}_{next(_names)}"
        self._sessions = itertools.count(1)
        self._fired: list[str] | None = None
        self._asserted: set[str] = set()
        self._errors: list[tuple[str, BaseException]] = []
        self._sentinel_ran = False
        definition = ruleset.definition()
        self._actions: dict[str, Callable] = {}
        for rule in ruleset.rules:
            self._actions[rule.name] = self._action(rule.name, rule.conclusion if rule.asserts else None)
            definition[rule.name]["run"] = self._actions[rule.name]
        # The sentinel handles every group fact and the gate, so no asserted fact is ever
        # "not handled", and it always fires, so every session ran an action before deletion.
        self._group_names = [f"g{n}" for n in range(len(ruleset.groups))]
        sentinel = [{name: {"t": name}} for name in self._group_names] + [{"gate": {"t": "gate"}}]
        self._actions[_SENTINEL] = self._sentinel
        definition[_SENTINEL] = {"all": sentinel, "pri": 1_000_000, "run": self._sentinel}
        host_class = _quiet_host_class(durable)
        self._host = host_class()
        try:
            self._host.register_rulesets({self._name: definition})
        except Exception as exc:
            raise EvaluationError(f"durable_rules refused the compiled ruleset: {exc}") from None
        self._rules = self._host.get_ruleset(self._name)
        self._c = durable.durable_rules_engine
        self._handle = self._rules._handle
        self._not_handled = durable.MessageNotHandledException
        self._observed = durable.MessageObservedException

    def _action(self, name: str, conclusion: str | None) -> Callable:
        def run(sid):
            try:
                self._fired.append(name)
                if conclusion is not None and conclusion not in self._asserted:
                    self._asserted.add(conclusion)
                    self._assert({"t": "c", "id": conclusion, "sid": sid})
            except BaseException as exc:  # recorded and raised after the session is cleaned
                self._errors.append((name, exc))
        return run

    def _sentinel(self, sid):
        self._sentinel_ran = True

    def _assert(self, fact: dict) -> None:
        code = self._c.assert_fact(self._handle, json.dumps(fact, ensure_ascii=False))[0]
        if code in (1, 2):
            raise (self._not_handled if code == 1 else self._observed)(fact)

    def run(self, facts: dict, presumed: tuple[str, ...] = ()) -> list[str]:
        """Assert one profile's facts and forward-chain; return the engine rules that fired.

        ``facts`` maps fact names to engine values (see :func:`engine.compiling.checks.engine_value`);
        ``presumed`` names the presumed conclusions that are not denied, marked on the gate fact.

        Raises
        ------
        EvaluationError
            When an action or the engine failed; the message names the rule.
        """
        sid = str(next(self._sessions))
        self._fired, self._asserted, self._errors, self._sentinel_ran = [], set(), [], False
        batch = []
        for name, group in zip(self._group_names, self._ruleset.groups):
            fact = {"t": name, "sid": sid}
            fact.update((key, facts[key]) for key in group if key in facts)
            batch.append(fact)
        gate = {"t": "gate", "sid": sid}
        gate.update((presumed_field(c), 1) for c in presumed)
        batch.append(gate)
        failure = None
        try:
            self._assert_and_act(batch, sid)
        except (self._not_handled, self._observed) as exc:
            failure = f"the engine refused a fact: {exc}" if str(exc) else "the engine refused a fact"
        except Exception as exc:
            failure = f"the engine failed: {exc}"
        self._cleanup(sid)
        if self._errors:
            name, exc = self._errors[0]
            raise EvaluationError(f"an action failed: {exc or 'an unexpected error'}", rule_id=name.split("#")[0])
        if failure:
            raise EvaluationError(failure)
        if not self._sentinel_ran:
            raise EvaluationError("the evaluation did not complete (the sentinel rule never ran)")
        # An $or whose alternatives both hold (two of the values of an includes_any) fires its
        # rule once for each: one branch that holds is one firing.
        return list(dict.fromkeys(self._fired))

    def _assert_and_act(self, batch: list[dict], sid: str) -> None:
        """Assert the facts in one batch, then run the actions one by one, in the engine's
        order (lowest pri, then definition order), until none is pending.

        This is what durable's Host does for a synchronous assert, without its Closure and
        Promise machinery: the actions here take only the session id, so the per-action
        wrapping and the re-serialising of an unchanged state are skipped. Facts asserted by
        an action are matched when it completes, so chains run to the end inside this call.
        """
        c, handle = self._c, self._handle
        result = c.assert_facts(handle, json.dumps(batch, ensure_ascii=False))
        code = result[0]
        if code in (1, 2):
            raise (self._not_handled if code == 1 else self._observed)(batch)
        state_handle = 0 if code == 3 else result[1]
        pending = c.start_action_for_state(handle, state_handle)
        if not pending:
            return
        state, message = pending[0], pending[1]
        while message:
            name = next(iter(json.loads(message)))
            self._actions[name](sid)
            c.update_state(handle, state)
            message = c.complete_and_start_action(handle, state_handle)

    def _cleanup(self, sid: str) -> None:
        # delete_state on a session where no action ran kills the process: only when one ran.
        if self._sentinel_ran or self._fired:
            try:
                self._host.delete_state(self._name, sid)
            except Exception:
                pass


_host_classes: dict = {}


def _quiet_host_class(durable):
    if "host" not in _host_classes:
        class _QuietHost(durable.Host):
            """A Host that starts no timer threads: actions run only inside our calls."""

            def _run(self):
                return None

        _host_classes["host"] = _QuietHost
    return _host_classes["host"]
