"""How the parts of a knowledge base depend on each other: the facts in use, the conclusions'
dependency graph and order, and the checks only the whole base can make (:func:`settle`).
"""

from __future__ import annotations

import heapq

from engine.errors import KnowledgeBaseError
from engine.model import conditions as cond
from engine.model.knowledge_base import KnowledgeBase


def facts_in_use(kb: KnowledgeBase) -> set[str]:
    """The facts some rule tests, some amount is computed from, or a precedence rule reads."""
    used = {name for rule in kb.rules.values() for name in cond.facts_used(rule.when)}
    for rule in kb.rules.values():
        if rule.amount:
            used |= set(rule.amount.facts_needed())
    return used | {p.input for p in kb.precedence}


def dependency_graph(kb: KnowledgeBase):
    """Conclusion → conclusion edges: ``a → b`` when a rule deriving ``b`` uses ``a``
    (a networkx ``DiGraph``)."""
    import networkx as nx
    graph = nx.DiGraph()
    graph.add_nodes_from(kb.conclusions)
    for rule in kb.rules.values():
        for used in cond.conclusions_used(rule.when):
            graph.add_edge(used, rule.then, rule=rule.id)
    return graph


def settle(kb: KnowledgeBase) -> None:
    """Check what only the whole base shows, and set ``kb.order``: every conclusion has a rule,
    conclusions depend on each other in no cycle, at most one precedence rule.

    Raises
    ------
    KnowledgeBaseError
        Naming the conclusion with no rule, the rules on a cycle, or the second precedence rule.
    """
    for cid, conclusion in kb.conclusions.items():
        if not kb.rules_for(cid):
            raise KnowledgeBaseError(f"no rule derives '{cid}'", file=conclusion.where.file,
                                     line=conclusion.where.line)
    # Sorted topological order keeps every output that walks conclusions byte-stable.
    kb.order = dependency_order(kb)
    if kb.order is None:
        refuse_cycle(kb)
    if len(kb.precedence) > 1:
        p = kb.precedence[1]
        raise KnowledgeBaseError("only one precedence rule is supported", file=p.where.file, line=p.where.line)


def dependency_order(kb: KnowledgeBase) -> list[str] | None:
    """The conclusions in dependency order, ties broken by the order they are declared in (the
    order networkx's ``lexicographical_topological_sort`` gives), or None when they depend on
    each other in a cycle. Kahn's algorithm: loading, which every command does, then needs no
    graph library."""
    declared = {cid: n for n, cid in enumerate(kb.conclusions)}
    users: dict[str, set[str]] = {cid: set() for cid in declared}
    waiting = {cid: 0 for cid in declared}
    for rule in kb.rules.values():
        for used in set(cond.conclusions_used(rule.when)):
            if used in users and rule.then not in users[used]:
                users[used].add(rule.then)
                waiting[rule.then] += 1
    ready = [(declared[cid], cid) for cid, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, cid = heapq.heappop(ready)
        order.append(cid)
        for user in users[cid]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, (declared[user], user))
    return order if len(order) == len(declared) else None


def refuse_cycle(kb: KnowledgeBase) -> None:
    """Name the conclusions of a dependency cycle and every rule on it."""
    import networkx as nx
    graph = dependency_graph(kb)
    cycle = nx.find_cycle(graph)
    members = [edge[0] for edge in cycle]
    rules = [kb.rules[graph.edges[edge]["rule"]] for edge in cycle]
    # Every rule on the cycle is named with its place: any of them may be the edit to undo.
    spans = "; ".join(f"{r.id} at {r.where}" for r in rules)
    raise KnowledgeBaseError("conclusions depend on each other in a cycle: "
                             + " → ".join(members + [members[0]]) + f" (rules: {spans})",
                             file=rules[0].where.file, line=rules[0].where.line, rule_id=rules[0].id)
