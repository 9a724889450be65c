"""Why not, and what would have to change: the counterfactuals of a conclusion or benefit.

For an id that does not hold, :func:`why_not` gives

- the reasons: each rule deriving it, with every condition marked met, not met or unknown, the
  fact's actual value and the threshold it needs; a condition on another conclusion that does
  not hold is opened in place, down to the facts;
- the smallest sets of fact changes that would grant it (``alternatives``), fewest changes
  first. They come from the rules themselves: each rule is expanded through the conclusions it
  builds on into conjunctions of fact tests, and each conjunction gives the changes that make
  every test hold, a threshold met exactly at its boundary, an unknown fact given the value that
  grants. Changes an enterprise cannot make by itself are marked with why, not proposed
  silently: an administrative recognition, a date (the application date against the validity
  window), a fact about its past (how it was established, its first listing) or its identity
  (its industry) — ``nature`` in kb/facts.yaml. Alternatives the enterprise can act on come
  first. Every proposal is re-evaluated and shown only if the changed profile really grants
  the id.

:func:`first_failure` gives, cheaply, the one condition that denies an id, for summaries.
"""

from __future__ import annotations

import datetime as _dt
from fractions import Fraction
from typing import Any

from engine.model import conditions as cond
from engine.inferring.evaluation import Assessment, assess
from engine.explaining.wording import amount_words, condition_text, display, json_value, listed, named, other_side, unknown_target
from engine.model import KnowledgeBase
from engine.loading.values import format_money

#: At most this many alternatives are shown, and this many rule expansions explored.
MAX_ALTERNATIVES = 5
MAX_BRANCHES = 2000


def why_not(profile: dict, target: str, as_of=None, kb=None, lang: str = "zh") -> dict:
    """Why ``target`` does not hold for ``profile``, and what would have to change.

    Raises
    ------
    ProfileError
        When ``target`` is not a conclusion or benefit id, or the profile is malformed.
    """
    return answer(assess(profile, as_of=as_of, kb=kb), target, lang)


def answer(assessment: Assessment, target: str, lang: str = "zh") -> dict:
    kb = assessment.kb
    if target not in kb.conclusions:
        raise unknown_target(kb, target)
    conclusion = kb.conclusions[target]
    status = assessment.result["status"][target]
    node = {"id": target, "kind": conclusion.kind, "label": conclusion.label(lang), "status": status}
    superseded = next((s for s in assessment.result["superseded"] if s["id"] == target), None)
    if status == "granted":
        node["holds"] = True
        node["see"] = f"policykb why PROFILE {target}"
        return node
    node["holds"] = False
    if superseded:
        node["superseded_by"] = superseded["by"]
        node["superseded_by_name"] = other_side(kb, superseded["by"], lang)
        node["this_policy_amount"] = superseded["amount"]
        node["precedence"] = {**_cite(kb, kb.precedence[0].cites, lang), "quote": kb.precedence[0].quote}
        # A share-based benefit can be kept here by a base large enough to match the offer.
        rule_id = assessment.inference.derivations[target][0].rule_id
        changes, outcome = _outbid(assessment, target, rule_id, [])
        node["alternatives"] = ([{"rule": rule_id, "changes": [_change_json(kb, c, lang) for c in changes]}]
                                if outcome == "granted" and changes else [])
        return node
    node["rules"] = reasons(assessment, target, lang, set())
    node["missing"] = [f for f in kb.facts if f in missing_below(assessment, target)]
    if status == "undetermined":
        node["next_fact"] = assessment.inference.next_fact(kb, target)
    # What the text shows for those ids: each fact's label with its id after it.
    node["named"] = {f: named(kb, f, lang) for f in node["missing"] + [node.get("next_fact")] if f}
    node["alternatives"], blocked = alternatives(assessment, target, lang)
    if blocked:
        node["blocked_by"] = blocked
    return node


def _cite(kb: KnowledgeBase, ref: str, lang: str) -> dict:
    return kb.citation(ref, lang)


# --------------------------------------------------------------------------- reasons

def reasons(assessment: Assessment, target: str, lang: str, opened: set[str]) -> list[dict]:
    """Each rule deriving ``target``, with its conditions and why each is or is not met."""
    kb, inference = assessment.kb, assessment.inference
    opened = opened | {target}
    found = []
    for rule in kb.rules_for(target):
        outcome = inference.outcomes[rule.id]
        found.append({"rule": rule.id, **_cite(kb, rule.cites, lang), "quote": rule.quote,
                      "status": _met_word(None if rule.text_missing and outcome.value else outcome.value),
                      "conditions": _conditions(assessment, outcome, lang, opened),
                      **({"text_missing": rule.text_missing} if rule.text_missing else {})})
    return found


def _conditions(assessment: Assessment, outcome: cond.Outcome, lang: str, opened: set[str]) -> dict:
    """A condition node: ``{"all"|"any": [nodes], "status"}`` or one test with its values."""
    kb = assessment.kb
    node = outcome.node
    if isinstance(node, (cond.All, cond.Any_)):
        key = "all" if isinstance(node, cond.All) else "any"
        return {key: [_conditions(assessment, child, lang, opened) for child in outcome.children],
                "status": _met_word(outcome.value)}
    line = {"condition": condition_text(kb, node, lang), "status": _met_word(outcome.value)}
    if isinstance(node, cond.FactTest):
        line.update({"fact": node.fact, "value": json_value(outcome.actual),
                     "display": display(kb, node.fact, outcome.actual, lang),
                     "needs": {"op": node.op, "value": json_value(node.value)}})
    else:
        line["conclusion"] = node.conclusion
        if outcome.value is not True and node.conclusion not in opened:
            line["because"] = reasons(assessment, node.conclusion, lang, opened)
    return line


def _met_word(value) -> str:
    return {True: "met", False: "not met", None: "unknown"}[value]


def missing_below(assessment: Assessment, target: str) -> set[str]:
    """The unknown facts that keep ``target`` undecided, down the conclusions it builds on."""
    kb, inference = assessment.kb, assessment.inference
    found: set[str] = set()
    todo, seen = [target], set()
    while todo:
        current = todo.pop()
        if current in seen or inference.status.get(current) is not None:
            continue
        seen.add(current)
        for rule in kb.rules_for(current):
            outcome = inference.outcomes[rule.id]
            found.update(cond.unknown_facts(outcome))
            todo.extend(cond.undecided_conclusions(outcome))
    return found


def missing_by_target(assessment: Assessment) -> list[tuple[str | None, list[str]]]:
    """The missing facts grouped by what they could decide, for a reader.

    Each undetermined benefit with the missing facts below it (a fact may decide several),
    then each undetermined reported conclusion with those no benefit listed, then (None) any
    fact left over, each group in knowledge-base order.
    """
    kb, result = assessment.kb, assessment.result
    targets = [b for b in kb.benefits if result["status"][b] == "undetermined"]
    targets += [c for c, v in kb.conclusions.items()
                if v.kind == "conclusion" and not v.internal and result["status"][c] == "undetermined"]
    groups: list[tuple[str | None, list[str]]] = []
    placed: set[str] = set()
    for target in targets:
        below = missing_below(assessment, target)
        facts = [f for f in result["missing"] if f in below
                 and (kb.conclusions[target].kind == "benefit" or f not in placed)]
        if facts:
            groups.append((target, facts))
            placed.update(facts)
    rest = [f for f in result["missing"] if f not in placed]
    return groups + ([(None, rest)] if rest else [])


def first_failure(assessment: Assessment, target: str, lang: str) -> str | None:
    """The first condition that denies ``target``, down to a fact, as one line; None unless denied.

    It follows the closest rule's first failing condition (of the rules deriving a conclusion,
    the one with the fewest failing tests: for a finance enterprise, the leading-role branch of
    the support target, not the ICT one) through the conclusions it builds on, reading the
    outcomes the evaluation already has, and names the deepest conclusion that fails with the
    fact test that fails it.
    """
    kb, inference = assessment.kb, assessment.inference
    within = ""
    current, seen = target, set()
    while current not in seen and inference.status.get(current) is False and kb.rules_for(current):
        seen.add(current)
        closest = min(kb.rules_for(current), key=lambda rule: _failing(inference.outcomes[rule.id]))
        leaf = _first_false(inference.outcomes[closest.id])
        if leaf is None:
            return None
        if isinstance(leaf.node, cond.FactTest):
            actual = display(kb, leaf.node.fact, leaf.actual, lang)
            words = (f"{condition_text(kb, leaf.node, lang)}（实际: {actual}）" if lang == "zh"
                     else f"{condition_text(kb, leaf.node, lang)} (actual: {actual})")
            return within + words
        current = leaf.node.conclusion
        within = named(kb, current, lang) + (" 不成立：" if lang == "zh" else " does not hold: ")
    return within.rstrip("：: ") or None


def _failing(outcome: cond.Outcome) -> int:
    """How many of a condition's tests fail (those under a failing ``all``, or every
    alternative of a failing ``any``)."""
    if outcome.value is not False:
        return 0
    if not outcome.children:
        return 1
    return sum(_failing(child) for child in outcome.children)


def _first_false(outcome: cond.Outcome) -> cond.Outcome | None:
    """The first leaf (a fact test or a conclusion) that makes ``outcome`` false."""
    if outcome.value is not False:
        return None
    if not outcome.children:
        return outcome
    return next((found for child in outcome.children if (found := _first_false(child)) is not None), None)


# --------------------------------------------------------------------------- alternatives

def expand(kb: KnowledgeBase, conclusion: str, _stack=(), facts: dict | None = None) -> list[tuple[str, tuple]]:
    """Every way ``conclusion`` can hold, as (rule id, conjunction of fact tests).

    A presumed reference holds unless its conclusion is denied, so it asks for no change, or —
    given the profile's ``facts`` — only that the tests known to fail stop failing (the others
    may stay unknown: the presumption covers them)."""
    ways: list[tuple[str, tuple]] = []
    for rule in kb.rules_for(conclusion):
        for branch in cond.to_dnf(rule.when):
            partial: list[tuple] = [()]
            for lit in branch:
                if isinstance(lit, cond.FactTest):
                    partial = [p + (lit,) for p in partial]
                else:
                    below = [tests for _, tests in expand(kb, lit.conclusion, _stack + (conclusion,), facts)]
                    if lit.presumed:
                        # First try changing nothing there (the re-evaluation of each proposal
                        # rejects it where the conclusion is denied), then only what fails.
                        if facts is not None:
                            below = [tuple(t for t in tests if t.holds(facts) is False) for tests in below]
                        below = list(dict.fromkeys([()] + below))
                    partial = [p + tests for p in partial for tests in below][:MAX_BRANCHES]
            ways.extend((rule.id, p) for p in partial)
            if len(ways) >= MAX_BRANCHES:
                return ways[:MAX_BRANCHES]
    return ways


def alternatives(assessment: Assessment, target: str, lang: str) -> tuple[list[dict], dict | None]:
    """The smallest verified sets of fact changes that grant ``target``.

    Returns the alternatives and, when a set of changes meets every condition but Article 14
    still hands the benefit to a higher offer elsewhere that no change here can match, that
    offer (so the answer can say why nothing is proposed).
    """
    kb, facts = assessment.kb, assessment.facts
    candidates: list[tuple] = []
    for rule_id, tests in expand(kb, target, facts=facts):
        changes = _changes(kb, facts, tests)
        if changes is None:
            continue
        key = frozenset((c["fact"], repr(c["to"])) for c in changes)
        candidates.append(((sum(not c["by_enterprise"] for c in changes), len(changes),
                            sum(c["from"] is not None for c in changes)), key, rule_id, changes))
    # Fewest changes the enterprise cannot make itself first (what it can act on leads); then
    # fewest changes; then those that fill in unknown facts before those that overturn known
    # ones (answer the open question first). A subset of a set never sorts after it, so the
    # minimality check below still sees the smaller set first. The sort is stable, so ties
    # keep the order of the rules.
    candidates.sort(key=lambda c: c[0])
    chosen: list[tuple] = []
    blocked = None
    for _, key, rule_id, changes in candidates:
        if any(previous <= key for previous, *_ in chosen):
            continue  # not minimal: a smaller set already grants
        if not changes:
            continue
        outcome = _try(assessment, target, changes)
        if outcome == "superseded":
            changes, outcome = _outbid(assessment, target, rule_id, changes)
        if outcome != "granted":
            blocked = blocked or (outcome if isinstance(outcome, dict) else None)
            continue
        chosen.append((frozenset((c["fact"], repr(c["to"])) for c in changes), rule_id, changes))
        if len(chosen) >= MAX_ALTERNATIVES:
            break
    found = [{"rule": rule_id, "changes": [_change_json(kb, c, lang) for c in changes]}
             for _, rule_id, changes in chosen]
    return found, (None if found else blocked)


def _try(assessment: Assessment, target: str, changes: list[dict]):
    """Re-evaluate with the changes: "granted", "superseded" or "denied"."""
    changed = dict(assessment.facts)
    for change in changes:
        changed[change["fact"]] = change["to"]
    result = assess(changed, kb=assessment.kb).result
    if result["status"][target] == "granted":
        return "granted"
    return "superseded" if any(s["id"] == target for s in result["superseded"]) else "denied"


def _outbid(assessment: Assessment, target: str, rule_id: str, changes: list[dict]):
    """Raise a share's base (or the quantity of a per-unit cap) until this policy's maximum
    reaches the higher offer elsewhere, so Article 14 keeps the benefit here; or return the
    offer when no base can reach it (a fixed cap or range below the offer)."""
    kb, facts = assessment.kb, assessment.facts
    rule = kb.rules[rule_id]
    offer = max((r for r in facts.get(kb.precedence[0].input, ()) if r["benefit"] == target),
                key=lambda r: r["amount"]) if kb.precedence else None
    if offer is None:
        return changes, "denied"
    blocked = {"policy": offer["policy"], "amount": offer["amount"]}
    spec = rule.amount
    if spec is None or spec.basis != "share":
        blocked["this_policy_max"] = spec.max if spec else None
        return changes, blocked
    fixed_caps = [cap["max"] for cap in spec.caps if "max" in cap]
    if fixed_caps and min(fixed_caps) < offer["amount"]:
        blocked["this_policy_max"] = min(fixed_caps)
        return changes, blocked
    needed = {spec.of: _ceil(Fraction(offer["amount"]) / spec.share)}
    for cap in spec.caps:
        if "per" in cap:
            needed[cap["per"]] = _ceil(Fraction(offer["amount"], cap["per_unit"]))
    raised = [dict(c) for c in changes]
    for name, value in needed.items():
        current = next((c for c in raised if c["fact"] == name), None)
        if current is not None:
            current["to"] = max(current["to"], value)
        elif facts.get(name) is None or facts[name] < value:
            raised.append({"fact": name, "from": facts.get(name), "to": value, "by_enterprise": True, "why": None})
    outcome = _try(assessment, target, raised)
    return raised, (outcome if outcome == "granted" else blocked)


def _ceil(value: Fraction) -> int:
    return -((-value.numerator) // value.denominator)


def _changes(kb: KnowledgeBase, facts: dict, tests: tuple) -> list[dict] | None:
    """The changes that make every test hold, or None when the tests contradict each other."""
    by_fact: dict[str, list[cond.FactTest]] = {}
    for test in tests:
        by_fact.setdefault(test.fact, []).append(test)
    # The case's date first: a "within N years" test measures from it, changed or not.
    order = sorted(by_fact, key=lambda name: name != cond.AS_OF_FACT)
    changed = dict(facts)
    changes = []
    for name in order:
        fact_tests = by_fact[name]
        current = facts.get(name)
        if current is not None and all(t.holds(changed) for t in fact_tests):
            continue
        if name == cond.AS_OF_FACT:
            # The date the case is judged at is never a change to propose: backdating an
            # application is not a way to qualify, and an unknown one is asked for (the next
            # question), not chosen. A way that needs another date is closed.
            return None
        value = _satisfying_value(kb, name, current, fact_tests, changed.get(cond.AS_OF_FACT))
        if value is None:
            return None
        changed[name] = value
        why = beyond_the_enterprise(kb.facts[name], current)
        changes.append({"fact": name, "from": current, "to": value, "by_enterprise": why is None, "why": why,
                        "tests": tuple(fact_tests)})
    return changes


def beyond_the_enterprise(fact, current) -> str | None:
    """Why the enterprise cannot change ``fact`` by itself, or None when it can.

    ``"administrative"`` (a recognition only an authority gives), ``"date"`` (a date the text
    fixes against, such as the validity window), or the fact's ``nature``: ``"past"`` (what has
    happened, like how it was established) or ``"identity"`` (what it is, like its industry).
    A past event that has not happened yet — the value ``none``, as for an unlisted enterprise
    — can still happen, so changing it from ``none`` is the enterprise's to make.
    """
    if fact.administrative:
        return "administrative"
    if fact.nature == "past" and current == "none":
        return None
    if fact.nature:
        return fact.nature
    if fact.type == "date":
        return "date"
    return None


def _satisfying_value(kb: KnowledgeBase, name: str, current: Any, tests: list[cond.FactTest], as_of=None):
    fact = kb.facts[name]
    for candidate in _candidates(fact, current, tests, as_of):
        if all(t.holds({cond.AS_OF_FACT: as_of, name: candidate}) for t in tests):
            return candidate
    return None


def _candidates(fact, current, tests, as_of=None):
    if fact.type == "list":
        items = list(current or ())
        for test in tests:
            wanted = [test.value] if test.op == "includes" else list(test.value)
            if not any(w in items for w in wanted):
                items.append(wanted[0])
        yield tuple(items)
        return
    for test in tests:
        op, value = test.op, test.value
        if op == "is":
            yield value
        elif op == "in":
            yield from value
        elif op == "not_in":
            yield from (v for v in fact.values if v not in value)
        elif op == "at_least" or op == "at_most":
            yield value
        elif op == "more_than":
            yield _next_above(value)
        elif op == "less_than":
            yield _next_below(value)
        elif op == "between":
            low, high = value
            yield high if current is not None and current > high else low
        elif op in cond.CASE_DATE_OPS and as_of is not None:
            yield as_of   # the nearest date that is within the years: the case's own date


def _next_above(value):
    if isinstance(value, _dt.date):
        return value + _dt.timedelta(days=1)
    return value + 1


def _next_below(value):
    if isinstance(value, _dt.date):
        return value - _dt.timedelta(days=1)
    return value - 1


def _change_json(kb: KnowledgeBase, change: dict, lang: str) -> dict:
    fact = kb.facts[change["fact"]]
    item = {"fact": change["fact"], "label": fact.label(lang), "from": json_value(change["from"]),
            "to": json_value(change["to"]), "from_display": display(kb, change["fact"], change["from"], lang),
            "to_display": display(kb, change["fact"], change["to"], lang),
            "by_enterprise": change["by_enterprise"]}
    if change.get("tests"):
        # The condition the change satisfies, in words (not a generic reason).
        item["condition"] = ("；" if lang == "zh" else "; ").join(
            dict.fromkeys(condition_text(kb, test, lang) for test in change["tests"]))
    if change["why"]:
        item["why"] = change["why"]
        item["note"] = _NOTES[change["why"]][0 if lang == "zh" else 1].format(label=fact.label(lang))
    return item


#: In words, why the enterprise cannot make a change itself (see beyond_the_enterprise).
_NOTES = {
    "administrative": ("须经主管部门认定，企业不能自行改变",
                       "an administrative recognition: not something the enterprise can change by itself"),
    "date": ("{label}是已经确定的日期，企业不能为获得支持而改动",
             "a date that is what it is: not something the enterprise changes to qualify"),
    "past": ("企业的既往事实，已经发生，企业不能改变",
             "a fact about the enterprise's past: it has happened and cannot be changed"),
    "identity": ("企业的身份属性（企业是什么），不是企业为获得支持可以改变的",
                 "the enterprise's identity (what it is): not something it changes to qualify"),
}


# --------------------------------------------------------------------------- text

def render_text(node: dict, lang: str = "zh") -> str:
    zh = lang == "zh"
    status = {"granted": "给予 / 成立" if zh else "granted",
              "denied": "不给予 / 不成立" if zh else "denied",
              "undetermined": "待定（缺少事实）" if zh else "undetermined (facts missing)"}
    lines = [f"{node['label']} ({node['id']}) — {status[node['status']]}"]
    if node["holds"]:
        lines.append(("    已成立，理由见: " if zh else "    it holds; see: ") + node["see"])
        return "\n".join(lines) + "\n"
    if "superseded_by" in node:
        by = node["superseded_by"]
        lines.append(f"    [{node['precedence']['citation']}] “{node['precedence']['quote']}”")
        lines.append(("    其他区级政策《{p}》给予 {a}，高于本措施，按就高且不重复原则由该政策支持。" if zh else
                      "    {p} offers {a}, more than this policy: supported there, not here (highest, not cumulative).")
                     .format(p=node.get("superseded_by_name") or by.get("policy"), a=amount_words(by["amount"], lang)))
        for alternative in node["alternatives"]:
            parts = [f"{c['label']}: {c['from_display']} → {c['to_display']}" for c in alternative["changes"]]
            lines.append(("    本措施支持可达到该金额，若: " if zh else "    This policy would match it with: ")
                         + ("；" if zh else "; ").join(parts))
        return "\n".join(lines) + "\n"
    for rule in node["rules"]:
        _render_rule(rule, lines, "    ", lang)
    names = node.get("named", {})
    if node.get("missing"):
        lines.append(("    缺少事实: " if zh else "    missing facts: ")
                     + listed([names.get(f, f) for f in node["missing"]], lang))
    if node.get("next_fact"):
        lines.append(("    下一步应询问: " if zh else "    ask next: ") + names.get(node["next_fact"], node["next_fact"]))
    if node["alternatives"]:
        lines.append("    可以这样获得（每项均经重新评估验证；企业自己能做到的在前，⚠ 标出企业不能自行改变的）:" if zh else
                     "    It would be granted with (each re-evaluated; what the enterprise can do itself first, "
                     "⚠ marks what it cannot change by itself):")
        for n, alternative in enumerate(node["alternatives"], 1):
            parts = []
            for change in alternative["changes"]:
                text = f"{change['label']}: {change['from_display']} → {change['to_display']}"
                if change.get("condition"):
                    text += f"（满足：{change['condition']}）" if zh else f" (so that: {change['condition']})"
                if not change["by_enterprise"]:
                    text += f" ⚠ {change['note']}"
                parts.append(text)
            lines.append(f"      {n}. " + ("；" if zh else "; ").join(parts) + f"   [{alternative['rule']}]")
    elif node.get("blocked_by"):
        by = node["blocked_by"]
        lines.append(("    即使满足上述条件，其他区级政策《{p}》给予 {a}，高于本措施最多 {m}，按就高且不重复原则仍由该政策支持；"
                      "没有能在本措施下获得的事实变化。" if zh else
                      "    Even with every condition met, {p} offers {a}, more than this policy's most ({m}): "
                      "Article 14 (highest, not cumulative) keeps it there, so no change of facts grants it here.")
                     .format(p=by["policy"], a=_money(by["amount"], lang), m=_money(by.get("this_policy_max"), lang)))
    else:
        lines.append("    没有能给予的事实变化。" if zh else "    No change of facts would grant it.")
    return "\n".join(lines) + "\n"


_money = format_money


_MARK = {"met": "✓", "not met": "✗", "unknown": "?"}


def _render_rule(rule: dict, lines: list[str], indent: str, lang: str) -> None:
    lines.append(f"{indent}{_MARK[rule['status']]} [{rule['citation']}] {rule['rule']}")
    lines.append(f"{indent}  “{rule['quote']}”")
    if rule.get("text_missing"):
        lines.append(f"{indent}  ? " + ("现有文本缺失，无法判定：" if lang == "zh" else "the text that would decide it is missing: ")
                     + rule["text_missing"])
    _render_conditions(rule["conditions"], lines, indent + "    ", lang)


def _render_conditions(item: dict, lines: list[str], indent: str, lang: str, inside_any=False) -> None:
    zh = lang == "zh"
    if "any" in item:
        lines.append(f"{indent}{_MARK[item['status']]} {'以下任一' if zh else 'any of'}:")
        for child in item["any"]:
            _render_conditions(child, lines, indent + "  ", lang, inside_any=True)
    elif "all" in item and inside_any:
        lines.append(f"{indent}{_MARK[item['status']]} {'以下全部' if zh else 'all of'}:")
        for child in item["all"]:
            _render_conditions(child, lines, indent + "  ", lang)
    elif "all" in item:
        for child in item["all"]:
            _render_conditions(child, lines, indent, lang)
    else:
        actual = f"   ({'实际' if zh else 'actual'}: {item['display']})" if "fact" in item else ""
        lines.append(f"{indent}{_MARK[item['status']]} {item['condition']}{actual}")
        for rule in item.get("because", []):
            _render_rule(rule, lines, indent + "    ", lang)
