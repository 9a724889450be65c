"""Condition coverage, MC/DC: whether the scenarios show every condition deciding its rule alone.

A rule that some scenario makes fire may still have a condition no scenario tests — delete it,
or write ``more_than`` for ``at_least``, and every scenario still passes. Seeing each condition
once holding and once failing is not enough either: where another condition of the rule
already decides the outcome, the condition's value is not tested at all. So
:func:`condition_coverage` asks for **modified condition/decision coverage** of each leaf
condition (a fact test or a conclusion reference) of each rule: a pair of scenarios in which
that condition holds in one and fails in the other *and, in each, alone decides the rule's
outcome*, which therefore differs.

The variant is **masking MC/DC** (the form DO-178C accepts, CAST-6): the rule's other
conditions may differ between the two scenarios, provided that in each they leave the outcome
to the condition — flipping the condition there, the others kept, flips the rule. Unique-cause
MC/DC (the others identical in both) is impossible for coupled conditions, and the rules here
are coupled on purpose: ``listing in [...]`` and ``listing is overseas`` test one fact, and a
rule needing both ``support_target`` and ``registered_in_xicheng`` tests a fact twice, once
through the recognition conditions that ``support_target`` presumes. The pairs that are also
unique-cause are counted in the summary.

Values are three-valued, and they are the engine's own (the three-valued checker of
:mod:`engine.model.conditions`, through :attr:`Inference.outcomes`): an unknown condition is
neither holding nor failing, and a condition decides the rule only where both its values give
a known outcome that differs (an unknown neighbour in an ``all`` keeps it from deciding).

A threshold (``at_least``, ``more_than``, ``at_most``, ``less_than``, each end of ``between``;
money, numbers and dates) keeps its boundary check, now with the condition deciding the rule:
one scenario with the fact exactly at the boundary and one just across — one yuan, one day, or
at most one unit of a number (an inclusive bound holds at the boundary and fails one step out,
an exclusive one fails at it and holds one step in). The two make an MC/DC pair themselves.

For a gap, :func:`suggest` searches a profile that would close it: a scenario's input with one
fact changed (or two, when the rule's other conditions must be moved too), verified by
evaluating it; when none is found within that reach, the condition may be redundant — the
rule's other conditions decide it whenever it is known.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from engine.errors import KnowledgeBaseError, PolicyKBError
from engine.explaining.wording import display
from engine.model import KnowledgeBase
from engine.model import conditions as cond

#: For each threshold operator, on which side of the boundary the neighbour to see lies
#: (-1 below, +1 above): the side where the test's value differs from its value at the bound.
NEIGHBOUR_SIDE = {"at_least": -1, "more_than": +1, "at_most": +1, "less_than": -1}

#: How many profiles :func:`suggest` evaluates at most for one gap.
SEARCH_BUDGET = 20_000


@dataclass
class Bound:
    """One boundary of a threshold test, and whether it was seen at and just across it with the
    test deciding its rule (``*_seen``: seen there at all)."""

    value: Any
    side: int                    # where the neighbour lies: -1 below, +1 above
    at: bool = False
    across: bool = False
    at_seen: bool = False
    across_seen: bool = False

    def see(self, actual, deciding: bool = True) -> None:
        """Record a known value the fact took in a scenario, and whether the test decided its rule."""
        if actual == self.value:
            self.at_seen = True
            self.at = self.at or deciding
        elif self.is_across(actual):
            self.across_seen = True
            self.across = self.across or deciding

    def is_across(self, actual) -> bool:
        step = _step(self.value)
        across = (actual - self.value) * self.side
        return step * 0 < across <= step

    @property
    def neighbour(self):
        """The value one step across the boundary, for messages."""
        return self.value + self.side * _step(self.value)


def _step(value):
    """The largest difference that counts as "just across": a day, a yuan, a unit."""
    return _dt.timedelta(days=1) if isinstance(value, _dt.date) else 1


@dataclass
class ConditionCoverage:
    """One leaf condition of one rule, and what the scenarios showed of it."""

    rule_id: str
    node: Any                    # a conditions.FactTest or ConclusionRef
    file: str | None
    line: int | None
    index: int = 0               # its place among the rule's leaves
    held: bool = False           # seen holding at all
    failed: bool = False         # seen failing at all
    deciding_holding: str | None = None   # a scenario where it held and decided the rule
    deciding_failing: str | None = None   # one where it failed and decided the rule
    bounds: list[Bound] = field(default_factory=list)
    _holding_others: set = field(default_factory=set, repr=False)   # the other leaves' values, per pair side
    _failing_others: set = field(default_factory=set, repr=False)

    def see(self, value: bool | None, actual, deciding: bool, others: tuple = (), scenario: str = "") -> None:
        """Record the condition's value in one scenario (``actual``: its fact's value), whether
        it decided the rule there, and the values of the rule's other leaves."""
        if value is None:
            return
        if value:
            self.held = True
            if deciding:
                self.deciding_holding = self.deciding_holding or scenario
                self._holding_others.add(others)
        else:
            self.failed = True
            if deciding:
                self.deciding_failing = self.deciding_failing or scenario
                self._failing_others.add(others)
        for bound in self.bounds:
            bound.see(actual, deciding)

    @property
    def unique_cause(self) -> bool:
        """Whether some pair shows it with the rule's other leaves identical in both scenarios."""
        return bool(self._holding_others & self._failing_others)

    def gaps(self, kb: KnowledgeBase | None = None) -> list[tuple[str, str]]:
        """What is not covered, as ``(kind, words)``: kind is ``holding``, ``failing``,
        ``boundary`` or ``across``; values are shown as a person reads them when ``kb`` is given."""
        return [(kind, words) for kind, words, _ in self.gap_list(kb)]

    def gap_list(self, kb: KnowledgeBase | None = None) -> list[tuple[str, str, Bound | None]]:
        """:meth:`gaps`, each with the threshold's bound it concerns (None for a pair)."""
        alone = " while deciding the rule alone (only where other conditions decided it)"
        if not self.bounds:
            found = []
            for kind, seen, deciding in (("holding", self.held, self.deciding_holding),
                                         ("failing", self.failed, self.deciding_failing)):
                if not deciding:
                    found.append((kind, f"never seen {kind}" + (alone if seen else ""), None))
            return found
        shown = (lambda v: display(kb, self.node.fact, v, "en")) if kb is not None else str
        found = []
        for bound in self.bounds:
            if not bound.at:
                found.append(("boundary", f"never seen exactly at the boundary, {shown(bound.value)}"
                              + ("," + alone if bound.at_seen else ""), bound))
            if not bound.across:
                found.append(("across", f"never seen just {'above' if bound.side > 0 else 'below'} the boundary, "
                              f"e.g. {shown(bound.neighbour)}" + ("," + alone if bound.across_seen else ""), bound))
        return found

    @property
    def covered(self) -> bool:
        return not self.gaps()


@dataclass
class Coverage:
    """Every leaf condition of every rule of a knowledge base, with what the scenarios showed."""

    conditions: list[ConditionCoverage]
    scenarios: int

    @property
    def gaps(self) -> list[ConditionCoverage]:
        return [c for c in self.conditions if not c.covered]

    def summary(self) -> dict:
        bounds = [b for c in self.conditions for b in c.bounds]
        return {"criterion": "MC/DC", "variant": "masking",
                "conditions": len(self.conditions), "covered": sum(c.covered for c in self.conditions),
                "unique_cause": sum(c.covered and c.unique_cause for c in self.conditions),
                "thresholds": len(bounds), "thresholds_covered": sum(b.at and b.across for b in bounds),
                "rules": len({c.rule_id for c in self.conditions}), "scenarios": self.scenarios,
                "gaps": sum(len(c.gaps()) for c in self.conditions)}

    def summary_text(self) -> str:
        s = self.summary()
        return (f"condition coverage (MC/DC, masking): {s['covered']} of {s['conditions']} conditions of "
                f"{s['rules']} rules shown deciding their rule alone, holding and failing, by {s['scenarios']} "
                f"scenarios ({s['unique_cause']} by a unique-cause pair), {s['thresholds_covered']} of "
                f"{s['thresholds']} thresholds at the boundary and just across; "
                f"{s['gaps']} gap{'' if s['gaps'] == 1 else 's'}")


def _leaves(rule) -> list[ConditionCoverage]:
    found = []
    for node in cond.walk(rule.when):
        if isinstance(node, (cond.FactTest, cond.ConclusionRef)):
            entry = ConditionCoverage(rule.id, node, node.file or rule.where.file, node.line or rule.where.line,
                                      index=len(found))
            if isinstance(node, cond.FactTest) and node.op == "between":
                entry.bounds = [Bound(node.value[0], -1), Bound(node.value[1], +1)]
            elif isinstance(node, cond.FactTest) and node.op in NEIGHBOUR_SIDE:
                entry.bounds = [Bound(node.value, NEIGHBOUR_SIDE[node.op])]
            found.append(entry)
    return found


def _outcome_leaves(outcome: cond.Outcome) -> list[cond.Outcome]:
    """The leaves of an outcome tree, in the order :func:`conditions.walk` gives the nodes."""
    if isinstance(outcome.node, (cond.FactTest, cond.ConclusionRef)):
        return [outcome]
    return [leaf for child in outcome.children for leaf in _outcome_leaves(child)]


def _value_with(outcome: cond.Outcome, values: list) -> bool | None:
    """The three-valued value of an outcome tree whose leaves, in order, take ``values``."""
    position = iter(values)

    def value(node: cond.Outcome):
        if not node.children and isinstance(node.node, (cond.FactTest, cond.ConclusionRef)):
            return next(position)
        parts = [value(child) for child in node.children]
        if isinstance(node.node, cond.All):
            return False if False in parts else (None if None in parts else True)
        return True if True in parts else (None if None in parts else False)
    return value(outcome)


def deciding(outcome: cond.Outcome) -> list[tuple[cond.Outcome, bool]]:
    """Each leaf of a rule's outcome tree, and whether it alone decides the rule there: its
    value is known, and the other value would give another known outcome."""
    leaves = _outcome_leaves(outcome)
    if outcome.value is None:
        return [(leaf, False) for leaf in leaves]
    values = [leaf.value for leaf in leaves]
    found = []
    for i, leaf in enumerate(leaves):
        if leaf.value is None:
            found.append((leaf, False))
            continue
        flipped = _value_with(outcome, values[:i] + [not leaf.value] + values[i + 1:])
        found.append((leaf, flipped is not None and flipped != outcome.value))
    return found


def evaluated_scenarios(kb: KnowledgeBase, cases) -> list:
    """``(scenario, inference)`` for every scenario.

    Raises
    ------
    KnowledgeBaseError
        When a scenario's profile does not read (:func:`engine.authoring.scenarios.load_scenarios`
        checks the input; an example and an input together can still clash), at its line.
    """
    from engine.inferring.evaluation import reasoner
    from engine.loading.profile import parse_profile
    from engine.loading.values import parse_date
    done = []
    for case in cases:
        try:
            facts = parse_profile(case.profile, kb, source=case.where)
            if case.as_of is not None:
                facts["application_date"] = parse_date(case.as_of)
        except (PolicyKBError, ValueError) as exc:
            raise KnowledgeBaseError(f"the profile of scenario '{case.name}' does not read: "
                                     f"{getattr(exc, 'message', exc)}", file=case.file, line=case.line) from None
        done.append((case, reasoner(kb).derive(facts)))
    return done


_last_evaluation: list = []     # [(key, evaluated)] of the last knowledge base's scenarios


def scenario_evaluation(kb: KnowledgeBase) -> list:
    """:func:`evaluated_scenarios` of the knowledge base's ``scenarios/`` folder, worked out once
    per content (``policykb check`` lints, then summarises, the same scenarios).

    Raises
    ------
    KnowledgeBaseError
        When a scenario file does not read.
    """
    from engine.authoring.scenarios import load_scenarios, scenario_files
    if not kb.scenarios_dir.is_dir():
        return []
    files = scenario_files([kb.scenarios_dir])
    if kb.examples_dir.is_dir():
        files += sorted(kb.examples_dir.iterdir())
    key = (str(kb.root.resolve()), kb.version,
           tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files if p.is_file()))
    if not _last_evaluation or _last_evaluation[0][0] != key:
        _last_evaluation[:] = [(key, evaluated_scenarios(kb, load_scenarios(kb)))]
    return _last_evaluation[0][1]


def condition_coverage(kb: KnowledgeBase, evaluated: list | None = None) -> Coverage:
    """How the scenarios (default: the knowledge base's ``scenarios/``) cover each condition.

    Raises
    ------
    KnowledgeBaseError
        When a scenario file does not read.
    """
    if evaluated is None:
        evaluated = scenario_evaluation(kb)
    per_rule = {rule.id: _leaves(rule) for rule in kb.rules.values()}
    for case, inference in evaluated:
        for rule_id, outcome in inference.outcomes.items():
            observed = deciding(outcome)
            values = tuple(leaf.value for leaf, _ in observed)
            for entry, (leaf, decides) in zip(per_rule[rule_id], observed):
                entry.see(leaf.value, leaf.actual, decides, values[:entry.index] + values[entry.index + 1:],
                          getattr(case, "name", ""))
    return Coverage([entry for entries in per_rule.values() for entry in entries], len(evaluated))


# --------------------------------------------------------------------------- profiles that would cover a gap

@dataclass
class Suggestion:
    """A profile that closes a gap: a scenario with some facts changed, verified."""

    scenario: Any                # the scenario it starts from
    changes: dict                # fact -> the new value (as the engine holds it)
    profile: dict                # the scenario to write: extends, input, as_of

    def text(self, kb: KnowledgeBase) -> str:
        changed = ", ".join(f"{name}: {_yaml(kb, name, value)}" for name, value in self.changes.items())
        shown = f"e.g. the scenario '{self.scenario.name}' ({self.scenario.where}) with {changed}"
        if len(self.profile.get("input", {})) <= 8:
            shown += f": {_inline(self.profile)}"
        return shown


def suggest(kb: KnowledgeBase, entry: ConditionCoverage, kind: str, evaluated: list,
            bound: Bound | None = None) -> Suggestion | str:
    """A profile that would close one gap of ``entry`` (``kind`` and ``bound`` as
    :meth:`ConditionCoverage.gap_list` gives them), or, when none is found, a sentence saying why."""
    from engine.inferring.evaluation import reasoner
    rule = kb.rules[entry.rule_id]
    node = entry.node
    if kind in ("boundary", "across"):
        bound = bound or next(b for b in entry.bounds if not (b.at if kind == "boundary" else b.across))
        wanted = bound.value if kind == "boundary" else bound.neighbour
    else:
        wanted = None
    target = _target(kb, entry, kind, wanted)
    if target is None:
        return f"no value of {node.fact} makes it {'hold' if kind == 'holding' else 'fail'}: the condition " \
               "says nothing, and the rule reads better without it"
    statuses = reasoner(kb).statuses

    def covers(facts) -> bool:
        outcome = cond.evaluate(rule.when, facts, statuses(facts))
        leaf, decides = deciding(outcome)[entry.index]
        return decides and target(leaf)

    primary = _primary_changes(kb, entry, kind, wanted)
    enablers = [(name, value) for name in _facts_of(kb, rule.when) for value in _values(kb, name)]
    cases = sorted(evaluated, key=lambda pair: (-_related(pair[0], rule.then),
                                                -_promise(pair[1].outcomes[rule.id], entry.index)))
    budget = SEARCH_BUDGET
    for depth in (1, 2):
        for case, inference in cases if depth == 1 else cases[:25]:
            base = inference.facts
            for change in primary(base):
                pairs = [()] if depth == 1 else [(e,) for e in enablers if e[0] not in change]
                for extra in pairs:
                    changes = dict(change, **dict(extra))
                    if all(base.get(k) == v for k, v in changes.items()):
                        continue
                    budget -= 1
                    if budget < 0:
                        return _redundant(kb, entry, f"none of the {SEARCH_BUDGET:,} profiles tried makes it "
                                                     "decide the rule alone")
                    facts = {k: v for k, v in {**base, **changes}.items() if v is not None}
                    if covers(facts):
                        return Suggestion(case, changes, _written(case, changes))
    return _redundant(kb, entry, "no profile within two changes of a scenario makes it decide the rule alone")


def _redundant(kb, entry: ConditionCoverage, why: str) -> str:
    """Why no profile was found, and what may make the condition redundant."""
    node, rule = entry.node, kb.rules[entry.rule_id]
    through = [ref.conclusion for ref in cond.walk(rule.when) if isinstance(ref, cond.ConclusionRef)
               and ref is not node and isinstance(node, cond.FactTest) and node.fact in _facts_under(kb, ref.conclusion)]
    coupled = f" (the rule also tests {node.fact} through {', '.join(dict.fromkeys(through))})" if through else ""
    return (f"{why}: it may be redundant — the rule's other conditions decide the rule whenever it is "
            f"known{coupled}; if so, the rule reads better without it")


def _target(kb, entry: ConditionCoverage, kind: str, wanted):
    """What the condition's leaf must show for the gap (at a threshold: the fact's value
    ``wanted``), or None when no value can show it."""
    node = entry.node
    if kind in ("boundary", "across"):
        return lambda leaf: leaf.actual == wanted
    value = kind == "holding"
    if isinstance(node, cond.FactTest) and node.op not in cond.CASE_DATE_OPS and \
            not any(node.holds({node.fact: v}) is value for v in _values(kb, node.fact)):
        return None
    return lambda leaf: leaf.value is value


def _primary_changes(kb, entry: ConditionCoverage, kind: str, wanted):
    """A function of a scenario's facts giving the changes that may set the condition as the gap needs."""
    node = entry.node
    if kind in ("boundary", "across"):
        return lambda facts: [{node.fact: wanted}]
    if isinstance(node, cond.FactTest):
        return lambda facts: [{node.fact: v} for v in _values(kb, node.fact, facts)]
    names = _facts_under(kb, node.conclusion)
    return lambda facts: [{name: v} for name in names for v in _values(kb, name, facts)]


def _promise(outcome: cond.Outcome, index: int) -> int:
    """How near a scenario is to showing leaf ``index`` deciding: its other leaves holding count."""
    leaves = _outcome_leaves(outcome)
    return sum(leaf.value is True for i, leaf in enumerate(leaves) if i != index) + \
        (2 if leaves[index].value is not None else 0)


def _related(case, conclusion: str) -> bool:
    """Whether a scenario says something of ``conclusion`` (a natural place to start from)."""
    for value in (getattr(case, "output", None) or {}).values():
        if isinstance(value, (dict, list)) and (conclusion in value or any(
                isinstance(v, dict) and v.get("benefit") == conclusion for v in value)):
            return True
    return False


def _facts_of(kb, condition) -> list[str]:
    """The facts a condition depends on, directly or through the conclusions it references."""
    names = list(cond.facts_used(condition))
    for conclusion in cond.conclusions_used(condition):
        names += _facts_under(kb, conclusion)
    return list(dict.fromkeys(names))


def _facts_under(kb, conclusion: str, seen=None) -> list[str]:
    seen = set() if seen is None else seen
    if conclusion in seen:
        return []
    seen.add(conclusion)
    names: list[str] = []
    for rule in kb.rules_for(conclusion):
        names += cond.facts_used(rule.when)
        for below in cond.conclusions_used(rule.when):
            names += _facts_under(kb, below, seen)
    return list(dict.fromkeys(names))


def _values(kb, name: str, facts: dict | None = None) -> list:
    """Values worth trying for a fact: every choice of a yes/no or enum fact, the empty, single
    and full lists, and each threshold any rule tests the fact against, with one step either
    side (and, for ``within_years``, the dates around its period before the case's date)."""
    fact = kb.facts[name]
    if fact.type == "bool":
        return [True, False]
    if fact.type == "enum":
        return list(fact.values)
    if fact.type == "list":
        current = tuple((facts or {}).get(name) or ())
        changed = [tuple(x for x in current if x != v) if v in current else current + (v,) for v in fact.values]
        return list(dict.fromkeys(changed + [()] + [(v,) for v in fact.values]))
    if fact.type not in ("money", "number", "date"):
        return []
    tests = [n for r in kb.rules.values() for n in cond.walk(r.when)
             if isinstance(n, cond.FactTest) and n.fact == name]
    points: list = [0] if fact.type != "date" else []
    for t in tests:
        if t.op == "not_after_case_date":
            as_of = (facts or {}).get(cond.AS_OF_FACT)
            if as_of is not None:
                points += [as_of, as_of + _dt.timedelta(days=1)]
            continue
        if t.op == "within_years":
            as_of = (facts or {}).get(cond.AS_OF_FACT)
            if as_of is not None:
                start = _years_before(as_of, t.value)
                points += [as_of, as_of + _dt.timedelta(days=1), start, start + _dt.timedelta(days=1)]
            continue
        for value in (t.value if isinstance(t.value, tuple) else (t.value,)):
            step = _step(value)
            points += [value, value - step, value + step]
    return list(dict.fromkeys(points))


def _years_before(day: _dt.date, years: int) -> _dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:          # 29 February
        return day.replace(year=day.year - years, day=28)


def _written(case, changes: dict) -> dict:
    """The scenario to write: the case's example and input with the changes (a change of the
    application date moves ``as_of`` where the case has one)."""
    given = dict(getattr(case, "input", {}) or {})
    as_of = getattr(case, "as_of", None)
    for name, value in changes.items():
        if name == cond.AS_OF_FACT and as_of is not None:
            as_of = value
        else:
            given[name] = value
    profile = {"extends": case.extends} if getattr(case, "extends", None) else {}
    profile["input"] = given
    if as_of is not None:
        profile["as_of"] = as_of
    return profile


def _yaml(kb, name, value) -> str:
    """One value as a scenario's YAML would write it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (_dt.date,)):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_yaml(kb, name, v) for v in value) + "]"
    if hasattr(value, "denominator") and not isinstance(value, int):
        return str(int(value)) if value.denominator == 1 else str(float(value))
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(kb, k, v)}" for k, v in value.items()) + "}"
    return str(value)


def _inline(profile: dict) -> str:
    return _yaml(None, "", profile)
