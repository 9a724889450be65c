"""Compiling knowledge-base rules to durable_rules ruleset definitions (its native dict form).

Each rule's condition is put in disjunctive normal form; each branch becomes one engine rule
whose patterns are

- ``p``: the profile fact (``{"t": "profile", ...}``) with every fact test of the branch;
- ``c0``, ``c1``…: one derived conclusion fact (``{"t": "c", "id": ...}``) per conclusion the
  branch needs.

A branch needs no negation-as-failure: the condition language has none, so every rule is
monotone and the order in which facts arrive cannot change the result (the engine's ``$not``
does not cancel a pending match; see :mod:`engine.runtime`). Fact tests on unknown facts never
match, which is how "unknown is not false" reaches the engine.

This module builds plain data; it does not import durable_rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import conditions as cond
from .errors import KnowledgeBaseError
from .kb import KnowledgeBase

#: durable-rules limits measured on 2.0.28 (see ../shared/notes/durable-rules.md).
MAX_NAMED_FACTS = 16
MAX_RULES = 4096
MAX_PROFILE_PROPERTIES = 200


@dataclass(frozen=True)
class CompiledRule:
    """One engine rule: a branch of a knowledge-base rule."""

    name: str                    # the engine's rule name: "<rule id>#<branch>"
    rule_id: str
    branch: int
    conclusion: str
    patterns: tuple              # (("p", {...}), ("c0", {...}), ...)
    literals: tuple              # the branch's fact tests and conclusion references
    grounds: tuple[str, ...]
    asserts: bool                # whether the conclusion must be asserted for other rules


@dataclass(frozen=True)
class CompiledRuleset:
    rules: tuple[CompiledRule, ...]
    engine_facts: tuple[str, ...]   # the profile facts the engine compares
    kb_version: str

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
    needed = {c for rule in kb.rules.values() for c in cond.conclusions_used(rule.when)}
    compiled: list[CompiledRule] = []
    engine_facts: dict[str, None] = {}
    for rule in kb.rules.values():
        for index, branch in enumerate(cond.to_dnf(rule.when)):
            tests = [lit for lit in branch if isinstance(lit, cond.FactTest)]
            refs = [lit for lit in branch if isinstance(lit, cond.ConclusionRef)]
            patterns = []
            if tests:
                patterns.append(("p", {"$and": [{"t": "profile"}] + [_pattern(t) for t in tests]}))
            for n, ref in enumerate(refs):
                patterns.append((f"c{n}", {"$and": [{"t": "c"}, {"id": ref.conclusion}]}))
            if not patterns:
                raise KnowledgeBaseError("a rule needs at least one condition",
                                         file=rule.where.file, line=rule.where.line, rule_id=rule.id)
            if len(patterns) > MAX_NAMED_FACTS:
                raise KnowledgeBaseError(
                    f"a branch joins {len(patterns)} facts; the engine allows {MAX_NAMED_FACTS}",
                    file=rule.where.file, line=rule.where.line, rule_id=rule.id)
            for test in tests:
                engine_facts.setdefault(test.fact)
            grounds = tuple(dict.fromkeys(lit.ground for lit in branch if lit.ground))
            compiled.append(CompiledRule(f"{rule.id}#{index}", rule.id, index, rule.then,
                                         tuple(patterns), tuple(branch), grounds, rule.then in needed))
    if len(compiled) > MAX_RULES:
        raise KnowledgeBaseError(f"{len(compiled)} engine rules; the engine allows {MAX_RULES}",
                                 file=str(kb.root))
    if len(engine_facts) > MAX_PROFILE_PROPERTIES:
        raise KnowledgeBaseError(f"{len(engine_facts)} facts in one profile; the engine allows "
                                 f"{MAX_PROFILE_PROPERTIES}", file=str(kb.root))
    return CompiledRuleset(tuple(compiled), tuple(engine_facts), kb.version)


def _pattern(test: cond.FactTest) -> dict:
    field = test.fact
    value = cond.engine_value(test.value)
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
        return {"$iany": {field: {"$or": [{"$i": v} for v in value]}}}
    raise KnowledgeBaseError(f"operator '{op}' cannot be compiled", file=test.file, line=test.line)
