"""Inference: forward-chaining one profile's facts to every conclusion, with a derivation record.

:class:`Reasoner` compiles a knowledge base once and runs each profile through the rule engine
(:mod:`engine.inferring.runtime`). For every conclusion derived it records each rule that fired: the
branch of the rule's condition that matched, the facts it compared (with their values), the
conclusions it built on, the grounds it reports, and the article or clause it cites.

Beside the engine's answer, each rule's condition is evaluated in three-valued logic — the whole
rule set as one generated function (:func:`engine.compiling.checks.compile_statuses`) — to
tell *denied* (cannot hold) from *undetermined* (a fact it needs is unknown) and to list the
missing facts. The two must agree on what holds; a disagreement is an internal error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.compiling import checks
from engine.model import conditions as cond
from engine.compiling.compiler import compile_kb
from engine.errors import EvaluationError
from engine.model import KnowledgeBase
from engine.inferring.runtime import RuleEngine


@dataclass
class Derivation:
    """One firing of a rule: why one conclusion holds."""

    conclusion: str
    rule_id: str
    cites: str
    branch: int
    facts: dict[str, Any]           # fact name -> the profile's value the rule compared
    conclusions: list[str]          # conclusions the firing built on
    grounds: list[str]
    literals: tuple


@dataclass
class Inference:
    derived: list[str]                                   # in dependency order
    derivations: dict[str, list[Derivation]]
    status: dict[str, bool | None]                       # True / False / None (undecided)
    missing: list[str]
    facts: dict[str, Any] = field(default_factory=dict)
    kb: KnowledgeBase | None = None
    unknowns: dict | None = None          # rule id -> compiled unknown-fact finder
    _outcomes: dict | None = None
    missing_by_document: dict[str, list[str]] = field(default_factory=dict)

    def holds(self, conclusion: str) -> bool:
        return self.status.get(conclusion) is True

    @property
    def outcomes(self) -> dict[str, cond.Outcome]:
        """Each rule's three-valued outcome tree (built on first use, for explanations)."""
        if self._outcomes is None:
            self._outcomes = {rule.id: cond.evaluate(rule.when, self.facts, self.status)
                              for rule in self.kb.rules.values()}
        return self._outcomes

    def next_fact(self, kb: KnowledgeBase, conclusion: str) -> str | None:
        """The first unknown fact, in the order the rules state their conditions, that keeps
        ``conclusion`` undecided — what to ask the enterprise next. Conclusions it builds on are
        looked into where they stand, so upstream questions come first."""
        seen: set[str] = set()

        def from_conclusion(cid: str):
            if cid in seen or self.status.get(cid) is not None:
                return None
            seen.add(cid)
            for rule in kb.rules_for(cid):
                found: list[str] = []
                if self.unknowns[rule.id](self.facts, self.status, found) is not None:
                    continue
                for item in found:
                    answer = from_conclusion(item[1:]) if item.startswith("@") else item
                    if answer:
                        return answer
            return None

        return from_conclusion(conclusion)


class Reasoner:
    """A knowledge base compiled and loaded into the rule engine, ready for many profiles."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.compiled = compile_kb(kb)
        self._engine: RuleEngine | None = None
        # Per engine rule, what its derivation record needs, worked out once.
        self._by_name = {rule.name: (rule, kb.rules[rule.rule_id].cites,
                                     tuple(dict.fromkeys(f for l in rule.literals if isinstance(l, cond.FactTest)
                                                         for f in cond.facts_used(l))),
                                     tuple(l.conclusion for l in rule.literals
                                           if isinstance(l, cond.ConclusionRef) and not l.presumed))
                         for rule in self.compiled.rules}
        # Only dates, exact numbers and lists need converting for the engine; a "__to_as_of"
        # field is worked out from its date and the case's date (conditions.engine_field).
        self._converters = [(name, checks.engine_value if kb.facts[name].type in ("date", "number", "list") else None)
                            for name in self.compiled.engine_facts if name in kb.facts]
        self._periods = [(name, name[:-len("__to_as_of")]) for name in self.compiled.engine_facts
                         if name not in kb.facts]
        self._checks = [(conclusion, [(rule, _check(rule)) for rule in kb.rules_for(conclusion)])
                        for conclusion in kb.order]
        self._three_valued = checks.compile_statuses(
            [(conclusion, [(rule.when, bool(rule.text_missing)) for rule in kb.rules_for(conclusion)])
             for conclusion in kb.order])
        self._unknowns = {rule.id: checks.compile_unknowns(rule.when) for rule in kb.rules.values()}
        self._presumed_only = presumed_only(kb)
        self._branches = [(rule.name, rule.conclusion, checks.compile_check(cond.All(rule.literals)))
                          for rule in self.compiled.rules]
        self._branches_of: dict[str, list] = {}
        for (name, conclusion, check), rule in zip(self._branches, self.compiled.rules):
            self._branches_of.setdefault(conclusion, []).append((rule.rule_id, check))

    def statuses(self, facts: dict[str, Any]) -> dict[str, bool | None]:
        """Every conclusion's three-valued status for ``facts``: True (holds), False (denied)
        or None (undetermined), as :meth:`derive` settles them, without the record."""
        return self._three_valued(facts)

    def first_rule(self, conclusion: str, facts: dict[str, Any], status: dict[str, bool | None]) -> str:
        """The id of the rule of the first derivation :meth:`derive` records for a conclusion
        that holds (its first branch that holds, in the engine's order): the rule whose amount
        a granted benefit gets."""
        return next(rule_id for rule_id, check in self._branches_of[conclusion] if check(facts, status) is True)

    def derive(self, facts: dict[str, Any], engine: str = "durable") -> Inference:
        """Forward-chain ``facts`` (already checked, see :mod:`engine.loading.profile`).

        ``engine="durable"`` runs the rule engine and cross-checks it with the three-valued
        evaluation; ``engine="compiled"`` records the same derivations from the compiled
        three-valued evaluation alone — the rules' branches checked in the engine's own order,
        conclusions in dependency order — for screening many profiles, where the rule engine's
        per-profile cost dominates. The results are the same (a test compares them).

        Raises
        ------
        EvaluationError
            When the engine fails, or disagrees with the three-valued check.
        """
        if engine not in ("durable", "compiled"):
            raise ValueError(f"engine is 'durable' or 'compiled', not {engine!r}")
        # Stratified: what a presumed reference needs is settled before the engine runs.
        status = self._three_valued(facts)
        fired = self._fired(facts, status) if engine == "durable" else self._holding_branches(facts, status)
        derivations: dict[str, list[Derivation]] = {}
        for name in fired:
            rule, cites, tested, built_on = self._by_name[name]
            derivations.setdefault(rule.conclusion, []).append(Derivation(
                conclusion=rule.conclusion, rule_id=rule.rule_id, cites=cites, branch=rule.branch,
                facts={fact: facts[fact] for fact in tested if fact in facts}, conclusions=list(built_on),
                grounds=list(rule.grounds), literals=rule.literals))
        engine_says = set(derivations)
        check_says = {c for c, value in status.items() if value is True}
        if engine_says != check_says:
            raise EvaluationError(
                "the rule engine and the three-valued check disagree on "
                + ", ".join(sorted(engine_says ^ check_says)))
        by_document = self._missing(facts, status)
        missing = self._anywhere(by_document)
        derived = [c for c in self.kb.order if c in derivations]
        return Inference(derived, {c: derivations[c] for c in derived}, status, missing, facts, self.kb,
                         self._unknowns, missing_by_document=by_document)

    @property
    def engine(self) -> RuleEngine:
        """The rule engine, loaded on first use: the compiled path never needs it."""
        if self._engine is None:
            self._engine = RuleEngine(self.compiled)
        return self._engine

    def _fired(self, facts, status) -> list[str]:
        """The engine rules durable_rules fires for these facts."""
        engine_facts = {name: convert(facts[name]) if convert else facts[name]
                        for name, convert in self._converters if name in facts}
        as_of = facts.get(cond.AS_OF_FACT)
        if as_of is not None:
            engine_facts.update((name, checks.to_as_of(facts[source], as_of))
                                for name, source in self._periods if source in facts)
        return self.engine.run(engine_facts, tuple(c for c in self.compiled.presumed if status[c] is not False))

    def _holding_branches(self, facts, status) -> list[str]:
        """The engine rules whose branch holds, in the order the engine would fire them."""
        return [name for name, conclusion, check in self._branches
                if status[conclusion] is True and check(facts, status) is True]

    def _checked_one_by_one(self, facts) -> dict[str, bool | None]:
        """What :attr:`_three_valued` (the rule set as one generated function) gives, worked out
        rule by rule with the compiled checks: the reference it is tested against."""
        status: dict[str, bool | None] = {}
        for conclusion, rule_checks in self._checks:
            values = [check(facts, status) for _, check in rule_checks]
            status[conclusion] = True if True in values else (None if None in values else False)
        return status

    def missing(self, facts: dict[str, Any], status: dict[str, bool | None]) -> list[str]:
        """The unknown facts that keep a conclusion undecided (:attr:`Inference.missing`), from
        ``facts`` and their :meth:`statuses`, without the derivations."""
        anywhere = set().union(*self._missing_sets(facts, status).values())
        return [name for name in self.kb.facts if name in anywhere]

    def _anywhere(self, by_document: dict[str, list[str]]) -> list[str]:
        anywhere = {name for names in by_document.values() for name in names}
        return [name for name in self.kb.facts if name in anywhere]

    def _missing(self, facts, status) -> dict[str, list[str]]:
        """The unknown facts that keep a conclusion undecided, by the document of that conclusion."""
        found = self._missing_sets(facts, status)
        return {document: [name for name in self.kb.facts if name in names] for document, names in found.items()}

    def _missing_sets(self, facts, status) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {name: set() for name in self.kb.documents}
        for conclusion, rule_checks in self._checks:
            if status[conclusion] is None and conclusion not in self._presumed_only:
                into = found[self.kb.conclusions[conclusion].document]
                for rule, _ in rule_checks:
                    unknown: list[str] = []
                    if self._unknowns[rule.id](facts, status, unknown) is None:
                        into.update(name for name in unknown if not name.startswith("@"))
        return found


def presumed_only(kb: KnowledgeBase) -> frozenset[str]:
    """Conclusions that matter to other rules only through a presumption (directly, or under
    such a conclusion): while they are undecided the presumption stands, so the facts they wait
    for decide nothing and are not reported as missing (the recognition conditions of
    实施细则 第二条 of a recognized enterprise)."""
    users: dict[str, list[tuple[str, bool]]] = {}
    for rule in kb.rules.values():
        for lit in cond.walk(rule.when):
            if isinstance(lit, cond.ConclusionRef):
                users.setdefault(lit.conclusion, []).append((rule.then, lit.presumed))
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for conclusion, uses in users.items():
            if conclusion not in found and all(presumed or user in found for user, presumed in uses):
                found.add(conclusion)
                changed = True
    return frozenset(found)


def _check(rule):
    """A rule's three-valued check; where the text that would decide it is missing
    (``text_missing``), holding conditions leave the conclusion undetermined, never granted."""
    check = checks.compile_check(rule.when)
    if not rule.text_missing:
        return check

    def undecided(facts, status):
        value = check(facts, status)
        return None if value is True else value
    return undecided
