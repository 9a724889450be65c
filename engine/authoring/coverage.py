"""Condition coverage: whether the scenarios exercise every condition of every rule both ways.

A rule that some scenario makes fire may still have a condition no scenario ever sees fail —
delete that condition and every scenario still passes. :func:`condition_coverage` evaluates
each scenario of a knowledge base and records, for each leaf condition (a fact test or a
conclusion reference) of each rule, whether it was seen **holding** and seen **failing**; an
unknown value counts as neither. The values come from the engine's own three-valued checker
(:func:`engine.model.conditions.evaluate`, through :attr:`Inference.outcomes`), so coverage means
exactly what evaluation means.

A threshold (``at_least``, ``more_than``, ``at_most``, ``less_than``, each end of ``between``;
money, numbers and dates) is covered on both sides when a scenario has put the fact exactly at
the boundary and another just across it — within one step: one yuan, one day, or one unit of
a number (an inclusive bound holds at the boundary and fails one step out; an exclusive bound
fails at the boundary and holds one step in). A threshold seen on both sides has also been
seen holding and failing.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from engine.model import conditions as cond
from engine.errors import PolicyKBError
from engine.model import KnowledgeBase
from engine.explaining.wording import display

#: For each threshold operator, on which side of the boundary the neighbour to see lies
#: (-1 below, +1 above): the side where the test's value differs from its value at the bound.
NEIGHBOUR_SIDE = {"at_least": -1, "more_than": +1, "at_most": +1, "less_than": -1}


@dataclass
class Bound:
    """One boundary of a threshold test, and whether it was seen at and just across."""

    value: Any
    side: int                    # where the neighbour lies: -1 below, +1 above
    at: bool = False
    across: bool = False

    def see(self, actual) -> None:
        """Record a known value the fact took in a scenario."""
        step = _step(self.value)
        across = (actual - self.value) * self.side
        if actual == self.value:
            self.at = True
        elif step * 0 < across <= step:
            self.across = True

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
    held: bool = False
    failed: bool = False
    bounds: list[Bound] = field(default_factory=list)

    def see(self, outcome: cond.Outcome) -> None:
        """Record the condition's value (and its fact's value) in one scenario."""
        if outcome.value is True:
            self.held = True
        elif outcome.value is False:
            self.failed = True
        if outcome.value is not None:
            for bound in self.bounds:
                bound.see(outcome.actual)

    def gaps(self, kb: KnowledgeBase | None = None) -> list[tuple[str, str]]:
        """What is not covered, as ``(kind, words)``: kind is ``holding``, ``failing``,
        ``boundary`` or ``across``; values are shown as a person reads them when ``kb`` is given."""
        if not self.bounds:
            return [(kind, f"never seen {kind}") for kind, seen in (("holding", self.held), ("failing", self.failed))
                    if not seen]
        shown = (lambda v: display(kb, self.node.fact, v, "en")) if kb is not None else str
        found = []
        for bound in self.bounds:
            if not bound.at:
                found.append(("boundary", f"never seen exactly at the boundary, {shown(bound.value)}"))
            if not bound.across:
                found.append(("across", f"never seen just {'above' if bound.side > 0 else 'below'} the boundary, "
                              f"e.g. {shown(bound.neighbour)}"))
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
        return {"conditions": len(self.conditions), "covered": sum(c.covered for c in self.conditions),
                "thresholds": len(bounds), "thresholds_covered": sum(b.at and b.across for b in bounds),
                "rules": len({c.rule_id for c in self.conditions}), "scenarios": self.scenarios,
                "gaps": sum(len(c.gaps()) for c in self.conditions)}

    def summary_text(self) -> str:
        s = self.summary()
        return (f"condition coverage: {s['covered']} of {s['conditions']} conditions of {s['rules']} rules seen "
                f"holding and failing by {s['scenarios']} scenarios, {s['thresholds_covered']} of "
                f"{s['thresholds']} thresholds on both sides; {s['gaps']} gap{'' if s['gaps'] == 1 else 's'}")


def _leaves(rule) -> list[ConditionCoverage]:
    found = []
    for node in cond.walk(rule.when):
        if isinstance(node, (cond.FactTest, cond.ConclusionRef)):
            entry = ConditionCoverage(rule.id, node, node.file or rule.where.file, node.line or rule.where.line)
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


def evaluated_scenarios(kb: KnowledgeBase, cases) -> list:
    """``(scenario, inference)`` for every scenario whose profile reads (the others are
    reported by ``policykb test``)."""
    from engine.inferring.evaluation import reasoner
    from engine.loading.profile import parse_profile
    from engine.loading.values import parse_date
    done = []
    for case in cases:
        try:
            facts = parse_profile(case.profile, kb, source=case.where)
            if case.as_of is not None:
                facts["application_date"] = parse_date(case.as_of)
            done.append((case, reasoner(kb).derive(facts)))
        except (PolicyKBError, ValueError):
            continue
    return done


def condition_coverage(kb: KnowledgeBase, evaluated: list | None = None) -> Coverage:
    """How the scenarios (default: the knowledge base's ``scenarios/``) cover each condition.

    Raises
    ------
    KnowledgeBaseError
        When a scenario file does not read.
    """
    if evaluated is None:
        from engine.authoring.scenarios import load_scenarios
        evaluated = evaluated_scenarios(kb, load_scenarios(kb)) if kb.scenarios_dir.is_dir() else []
    per_rule = {rule.id: _leaves(rule) for rule in kb.rules.values()}
    for _, inference in evaluated:
        for rule_id, outcome in inference.outcomes.items():
            for entry, leaf in zip(per_rule[rule_id], _outcome_leaves(outcome)):
                entry.see(leaf)
    return Coverage([entry for entries in per_rule.values() for entry in entries], len(evaluated))
