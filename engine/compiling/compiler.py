"""Compiling knowledge-base rules to durable_rules ruleset definitions (its native dict form).

Each rule's condition is put in disjunctive normal form; each branch becomes one engine rule
whose patterns are

- ``g0``, ``g1``…: the profile's fact groups the branch tests (``{"t": "g0", ...}``), each with
  the branch's tests on facts of that group;
- ``c0``, ``c1``…: one derived conclusion fact (``{"t": "c", "id": ...}``) per conclusion the
  branch needs.

The profile is split into groups because durable_rules fails (error 303) when one fact matches
more than 64 conditions: facts are packed, in knowledge-base order, into groups whose tests
add up to at most :data:`GROUP_CAPACITY`, so no group fact can match more than that however
many rules the knowledge base grows to. Few groups keep the number of facts per session small
(fact identity is a 32-bit hash; fewer facts, fewer chances of a collision).

A branch needs no negation-as-failure inside the engine: every rule is monotone and the order in
which facts arrive cannot change the result (the engine's ``$not`` does not cancel a pending
match; see :mod:`engine.inferring.runtime`). Fact tests on unknown facts never match, which is how "unknown
is not false" reaches the engine. The one non-monotone form, a *presumed* conclusion reference
(holds unless the conclusion is denied), is stratified: the reasoner settles the referenced
conclusion's status before the engine runs and asserts a marker on the gate fact for each one
that is not denied; the branch matches that marker (``p0``…), a positive test.

This module builds plain data; it does not import durable_rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.compiling import checks
from engine.model import conditions as cond
from engine.errors import KnowledgeBaseError
from engine.model import KnowledgeBase

#: durable-rules limits measured on 2.0.28 (see ../shared/notes/durable-rules.md).
MAX_NAMED_FACTS = 16
MAX_RULES = 4096
MAX_PROFILE_PROPERTIES = 200
#: Conditions on one group fact, kept well under durable_rules' 64 matches per fact.
GROUP_CAPACITY = 48


@dataclass(frozen=True)
class CompiledRule:
    """One engine rule: a branch of a knowledge-base rule."""

    name: str                    # the engine's rule name: "<rule id>#<branch>"
    rule_id: str
    branch: int
    conclusion: str
    patterns: tuple              # (("g0", {...}), ("c0", {...}), ...)
    literals: tuple              # the branch's fact tests and conclusion references
    grounds: tuple[str, ...]
    asserts: bool                # whether the conclusion must be asserted for other rules


@dataclass(frozen=True)
class CompiledRuleset:
    rules: tuple[CompiledRule, ...]
    groups: tuple[tuple[str, ...], ...]   # the profile facts the engine compares, by group
    kb_version: str
    presumed: tuple[str, ...] = ()        # conclusions referenced as presumed (gate markers)

    @property
    def engine_facts(self) -> tuple[str, ...]:
        return tuple(name for group in self.groups for name in group)

    def definition(self) -> dict:
        """The durable_rules ruleset dict, without actions (the runtime adds them)."""
        return {rule.name: {"all": [{name: pattern} for name, pattern in rule.patterns]}
                for rule in self.rules}


def compile_kb(kb: KnowledgeBase) -> CompiledRuleset:
    """Compile every rule of ``kb``.

    Raises
    ------
    KnowledgeBaseError
        When a rule would exceed one of durable_rules' limits.
    """
    # A conclusion fact is asserted only when a rule matches it (a presumed reference matches
    # the gate instead): a fact no rule handles is refused by the engine.
    needed = {lit.conclusion for rule in kb.rules.values() for lit in cond.walk(rule.when)
              if isinstance(lit, cond.ConclusionRef) and not lit.presumed}
    # A rule whose deciding text is missing never grants: the engine gets none of its branches
    # (the three-valued check reports what it would decide as undetermined).
    branches = [(rule, index, branch) for rule in kb.rules.values() if not rule.text_missing
                for index, branch in enumerate(cond.to_dnf(rule.when))]
    groups = _groups(kb, [lit for _, _, branch in branches for lit in branch if isinstance(lit, cond.FactTest)])
    group_of = {name: n for n, group in enumerate(groups) for name in group}
    field = checks.engine_field
    compiled: list[CompiledRule] = []
    for rule, index, branch in branches:
        patterns = []
        for n in sorted({group_of[field(lit)] for lit in branch if isinstance(lit, cond.FactTest)}):
            tests = [_pattern(lit) for lit in branch
                     if isinstance(lit, cond.FactTest) and group_of[field(lit)] == n]
            patterns.append((f"g{n}", {"$and": [{"t": f"g{n}"}] + tests}))
        refs = [lit for lit in branch if isinstance(lit, cond.ConclusionRef) and not lit.presumed]
        for n, ref in enumerate(refs):
            patterns.append((f"c{n}", {"$and": [{"t": "c"}, {"id": ref.conclusion}]}))
        presumed = [lit for lit in branch if isinstance(lit, cond.ConclusionRef) and lit.presumed]
        if presumed:
            # One pattern on the one gate fact, testing every presumption of the branch: the engine
            # matches a fact once per rule, so two patterns on the gate would never both match.
            patterns.append(("p0", {"$and": [{"t": "gate"}] + [{presumed_field(ref.conclusion): 1}
                                                              for ref in presumed]}))
        if len(patterns) > MAX_NAMED_FACTS:
            raise KnowledgeBaseError(
                f"a branch joins {len(patterns)} facts; the engine allows {MAX_NAMED_FACTS}",
                file=rule.where.file, line=rule.where.line, rule_id=rule.id)
        grounds = tuple(dict.fromkeys(lit.ground for lit in branch if lit.ground))
        compiled.append(CompiledRule(f"{rule.id}#{index}", rule.id, index, rule.then,
                                     tuple(patterns), tuple(branch), grounds, rule.then in needed))
    if len(compiled) > MAX_RULES:
        raise KnowledgeBaseError(f"{len(compiled)} engine rules; the engine allows {MAX_RULES}",
                                 file=str(kb.root))
    return CompiledRuleset(tuple(compiled), groups, kb.version, presumed_conclusions(kb))


def presumed_field(conclusion: str) -> str:
    """The gate fact's field saying a presumed conclusion is not denied."""
    return f"presumed__{conclusion}"


def presumed_conclusions(kb: KnowledgeBase) -> tuple[str, ...]:
    """The conclusions some rule references as presumed, in knowledge-base order."""
    used = {lit.conclusion for rule in kb.rules.values() for lit in cond.walk(rule.when)
            if isinstance(lit, cond.ConclusionRef) and lit.presumed}
    return tuple(c for c in kb.conclusions if c in used)


def _groups(kb: KnowledgeBase, tests: list[cond.FactTest]) -> tuple[tuple[str, ...], ...]:
    """Pack the tested engine fields, in knowledge-base order of their facts, into groups of
    bounded condition count."""
    counts: dict[str, int] = {}
    for test in tests:
        counts[checks.engine_field(test)] = counts.get(checks.engine_field(test), 0) + 1
    order = [name for fact in kb.facts for name in (fact, f"{fact}__to_as_of")]
    groups: list[list[str]] = [[]]
    load = 0
    for name in (f for f in order if f in counts):
        if counts[name] > GROUP_CAPACITY:
            fact = kb.facts[name.split("__")[0]]
            raise KnowledgeBaseError(
                f"fact '{name}' is tested by {counts[name]} conditions; the engine allows "
                f"{GROUP_CAPACITY} on one fact (durable_rules error 303 past 64)",
                file=fact.where.file, line=fact.where.line)
        if load + counts[name] > GROUP_CAPACITY or len(groups[-1]) >= MAX_PROFILE_PROPERTIES:
            groups.append([])
            load = 0
        groups[-1].append(name)
        load += counts[name]
    return tuple(tuple(group) for group in groups if group)


def _pattern(test: cond.FactTest) -> dict:
    field = checks.engine_field(test)
    value = checks.engine_value(test.value)
    op = test.op
    if op == "is":
        return {field: value}
    if op == "in":
        return {"$or": [{field: v} for v in value]}
    if op == "not_in":
        # $neq alone would match a profile that lacks the fact; unknown must not match.
        return {"$and": [{"$ex": {field: 1}}] + [{"$neq": {field: v}} for v in value]}
    if op in ("at_least", "more_than", "at_most", "less_than"):
        engine_op = {"at_least": "$gte", "more_than": "$gt", "at_most": "$lte", "less_than": "$lt"}[op]
        return {engine_op: {field: value}}
    if op == "between":
        return {"$and": [{"$gte": {field: value[0]}}, {"$lte": {field: value[1]}}]}
    if op == "includes":
        return {"$iany": {field: {"$i": value}}}
    if op == "includes_any":
        # One $iany per value under an $or, never an $or inside $iany: durable_rules then
        # checks a node it never initialised and refuses the ruleset (error 102) or not,
        # depending on what the memory held (see engine.inferring.runtime).
        return {"$or": [{"$iany": {field: {"$i": v}}} for v in value]}
    if op == "not_after_case_date":   # the case date minus the date is 0 or more (or, for false, less)
        return {"$gte": {field: 0}} if test.value else {"$lt": {field: 0}}
    if op == "within_years":
        # YYYYMMDD integers: the case date minus the start is at most N years' worth on the period's
        # last day (its corresponding day, inclusive) and above it from the next day on — a
        # 29 February start too, whose YYYY0229 bound lets 28 February in and keeps 1 March out.
        return {"$and": [{"$gte": {field: 0}}, {"$lte": {field: test.value * 10000}}]}
    raise KnowledgeBaseError(f"operator '{op}' cannot be compiled", file=test.file, line=test.line)
