"""Explanations: the derivation tree of a conclusion or benefit, as data and as text.

Each node is a step: the conclusion, the rule that derived it, the article or clause it cites
with the quoted sentence, the facts it compared with their values, the arithmetic of an
amount, Article 14's comparison where another policy offers the same benefit, and the
conclusions it built on as children. A conclusion that does not hold is explained by its
rules' conditions, each marked met, not met or unknown.
"""

from __future__ import annotations

from engine.model import conditions as cond
from engine.inferring.evaluation import Assessment, assess
from engine.model import KnowledgeBase
from engine.loading.values import format_money, format_percent
from engine.explaining.wording import (period_words, article14_decision, article14_text, condition_text, display, json_value, listed,
                      number_text, unknown_target)



def explain(profile: dict, target: str, as_of=None, kb=None, lang: str = "zh") -> dict:
    """The derivation tree of ``target`` (a conclusion or benefit id) for ``profile``.

    Raises
    ------
    ProfileError
        When ``target`` is not a conclusion or benefit id (with the nearest one), or the
        profile is malformed.
    """
    return tree(assess(profile, as_of=as_of, kb=kb), target, lang)


def tree(assessment: Assessment, target: str, lang: str = "zh") -> dict:
    kb = assessment.kb
    if target not in kb.conclusions:
        raise unknown_target(kb, target)
    if not assessment.inference.holds(target):
        from engine.explaining.why_not import answer  # why-not builds on this module's words
        return answer(assessment, target, lang)
    node = _derived_node(assessment, target, lang)
    if any(item["id"] == target for item in assessment.result["superseded"]):
        # Derived under this policy, but Article 14 hands it to the higher offer elsewhere.
        node["holds"], node["status"] = False, "superseded"
    return node


# --------------------------------------------------------------------------- trees

#: A three-valued status as the result names it.
STATUS_NAMES = {True: "granted", False: "denied", None: "undetermined"}


def _citation(kb: KnowledgeBase, ref: str, lang: str) -> dict:
    return kb.citation(ref, lang)


def _derived_node(assessment: Assessment, target: str, lang: str) -> dict:
    kb, inference = assessment.kb, assessment.inference
    derivations = inference.derivations[target]
    first = derivations[0]
    rule = kb.rules[first.rule_id]
    conclusion = kb.conclusions[target]
    node = {
        "id": target, "kind": conclusion.kind, "label": conclusion.label(lang), "holds": True,
        "status": "granted", "rule": rule.id, **_citation(kb, rule.cites, lang),
        "quote": rule.quote, "explanation": rule.explain[lang],
        "facts": [{"name": lit.fact, "label": kb.facts[lit.fact].label(lang),
                   "value": json_value(first.facts[lit.fact]),
                   "display": display(kb, lit.fact, first.facts[lit.fact], lang),
                   "condition": condition_text(kb, lit, lang), "shows_threshold": lit.op != "is"}
                  for lit in first.literals if isinstance(lit, cond.FactTest)],
        "also_by": list(dict.fromkeys(d.rule_id + (f" ({', '.join(d.grounds)})" if d.grounds else "")
                                      for d in derivations[1:] if d.rule_id != first.rule_id or d.grounds)),
    }
    grounds = [g for d in derivations for g in d.grounds]
    if grounds:
        node["grounds"] = list(dict.fromkeys(grounds))
        node["grounds_named"] = [_ground_name(kb, derivations, g, lang) for g in node["grounds"]]
    if conclusion.kind == "benefit":
        node["amount"] = _amount_node(assessment, target, lang)
        node["precedence"] = _precedence_node(assessment, target, lang)
    presumed = [lit.conclusion for lit in first.literals if isinstance(lit, cond.ConclusionRef) and lit.presumed]
    if presumed:
        node["presumed"] = [{"id": cid, "label": kb.conclusions[cid].label(lang),
                             "status": STATUS_NAMES[inference.status[cid]],
                             "condition": condition_text(kb, cond.ConclusionRef(cid, presumed=True), lang)}
                            for cid in presumed]
    node["children"] = [_derived_node(assessment, used, lang) for used in first.conclusions]
    node["children"] += [_derived_node(assessment, cid, lang) for cid in presumed if inference.holds(cid)]
    return node


def _ground_name(kb: KnowledgeBase, derivations, ground: str, lang: str) -> str:
    """A ground as a person reads it: the label of what its condition tests, with the ground after it."""
    for derivation in derivations:
        for node in cond.walk(kb.rules[derivation.rule_id].when):
            if getattr(node, "ground", None) == ground:
                thing = kb.facts[node.fact] if isinstance(node, cond.FactTest) else kb.conclusions[node.conclusion]
                return f"{thing.label(lang)} ({ground})"
    return ground


def _amount_node(assessment: Assessment, target: str, lang: str) -> dict:
    kb = assessment.kb
    result = assessment.amounts[target]
    rule = kb.rules[assessment.inference.derivations[target][0].rule_id]
    lines = []
    zh = lang == "zh"
    for step in result.steps:
        kind = step["step"]
        if kind == "range":
            lines.append(f"{format_money(step['min'], lang)} – {format_money(step['max'], lang)}"
                         + ("（按实收资本规模确定）" if zh and target == "settlement_subsidy" else ""))
        elif kind == "share":
            lines.append(f"{format_percent(step['share'])} × {format_money(step['base'], lang)} = "
                         f"{format_money(step['value'], lang)}")
        elif kind == "cap":
            lines.append(("上限 " if zh else "cap ") + format_money(step["max"], lang))
        elif kind == "cap_per_unit":
            lines.append((f"每平方米上限 {format_money(step['per_unit'], lang)} × {number_text(step['quantity'])} m² = "
                          if zh else f"cap per m² {format_money(step['per_unit'], lang)} × {number_text(step['quantity'])} m² = ")
                         + format_money(step["max"], lang))
        elif kind == "result":
            word = ("给予" if step["share_is"] == "fixed" else "最高给予") if zh else \
                   ("granted" if step["share_is"] == "fixed" else "granted at most")
            lines.append(f"{word} {format_money(step['value'], lang)}")
        elif kind == "per_year":
            lines.append(period_words(step, lang))
        elif kind == "cumulative":
            lines.append((f"累计上限 {format_money(step['max'], lang)} − 已获支持 {format_money(step['received'], lang)}"
                          f" = 尚余 {format_money(step['remaining'], lang)}，本次最高 {format_money(step['value'], lang)}")
                         if zh else
                         (f"cumulative cap {format_money(step['max'], lang)} − already received "
                          f"{format_money(step['received'], lang)} = {format_money(step['remaining'], lang)} left; "
                          f"this grant at most {format_money(step['value'], lang)}"))
    if result.basis == "not_fixed":
        terms = rule.amount.terms[lang] if rule.amount.terms else ""
        policies = ("、" if zh else "; ").join(f"《{kb.subpolicies[s].title}》" if zh else kb.subpolicies[s].title_en
                            for s in rule.defers_to)
        lines.append((f"未定（{terms}）" + (f"，按{policies}确定" if policies else "")) if zh else
                     (f"not fixed ({terms})" + (f"; set by {policies}" if policies else "")))
    if result.basis == "services":
        lines.append(("服务：" if zh else "services: ") +
                     ("、" if zh else ", ").join(s[lang] for s in rule.amount.services))
    return {"basis": result.basis, "min": result.min, "max": result.max, "currency": "CNY",
            "arithmetic": lines, "defers_to": list(rule.defers_to)}


def _precedence_node(assessment: Assessment, target: str, lang: str) -> dict | None:
    """Article 14 for a benefit another district policy also offers: the two amounts and the decision.

    ``decision`` is ``superseded`` (the offer is above this policy's maximum), ``kept`` (at or
    below its minimum: this policy gives at least as much) or an overlap left open for the
    analyst until this policy's amount is fixed: ``within_range`` or ``not_fixed``.
    """
    kb, result = assessment.kb, assessment.result
    if not kb.precedence:
        return None
    rule = kb.precedence[0]
    entry = next((b for b in result["benefits"] if b["id"] == target), None)
    entry = entry or next((s for s in result["superseded"] if s["id"] == target), None)
    decided = article14_decision(entry or {})
    if decided is None:
        return None
    offer, decision = decided
    amount = assessment.amounts[target]
    return {"rule": rule.id, **_citation(kb, rule.cites, lang), "quote": rule.quote,
            "this_policy_min": amount.min, "this_policy_max": amount.max,
            "other": dict(offer), "decision": decision,
            "open": decision in ("within_range", "not_fixed", "open"),
            "text": article14_text(kb, offer, {"min": amount.min, "max": amount.max}, decision, lang),
            **_other_document(assessment, offer, lang)}


def _other_document(assessment: Assessment, other: dict, lang: str) -> dict:
    """For a benefit of another encoded document: the rule that grants it there, quoted from
    that document's text, so the explanation shows both documents side by side."""
    if "benefit" not in other or other["benefit"] not in assessment.inference.derivations:
        return {}
    kb = assessment.kb
    rule = kb.rules[assessment.inference.derivations[other["benefit"]][0].rule_id]
    return {"other_rule": {"rule": rule.id, **_citation(kb, rule.cites, lang), "quote": rule.quote}}


# --------------------------------------------------------------------------- text

def render_text(node: dict, lang: str = "zh") -> str:
    """The tree as indented text a person reads at a glance."""
    if "rules" in node or "superseded_by" in node or node.get("see"):
        from engine.explaining.why_not import render_text as why_not_text
        return why_not_text(node, lang)
    lines: list[str] = []
    _render(node, lines, "", lang)
    return "\n".join(lines) + "\n"


def _render(node: dict, lines: list[str], indent: str, lang: str) -> None:
    zh = lang == "zh"
    status_word = {"granted": "成立" if zh else "holds", "denied": "不成立" if zh else "does not hold",
                   "undetermined": "待定（缺少事实）" if zh else "undetermined (facts missing)",
                   "superseded": "被其他区级政策取代" if zh else "superseded by another district policy"}
    word = status_word[node["status"]]
    if node["status"] == "granted" and node.get("kind") == "benefit":
        word = "给予" if zh else "granted"
    head = f"{indent}{node['label']} ({node['id']}) — {word}"
    lines.append(head)
    inner = indent + "    "
    if node.get("holds") or node.get("status") == "superseded":
        lines.append(f"{inner}[{node['citation']}] {node['rule']}")
        lines.append(f"{inner}“{node['quote']}”")
        for fact in node.get("facts", []):
            test = f"    ({fact['condition']})" if fact.get("shows_threshold") else ""
            lines.append(f"{inner}· {fact['label']} = {fact['display']}{test}")
        for item in node.get("presumed", []):
            if item["status"] != "granted":
                lines.append(f"{inner}· {item['condition']}: "
                             + ("未知有不满足的条件，认定成立" if zh else "no condition known to fail, the recognition stands"))
        if node.get("grounds"):
            lines.append(f"{inner}· {'依据' if zh else 'grounds'}: "
                         + listed(node.get("grounds_named", node["grounds"]), lang))
        amount = node.get("amount")
        if amount:
            for text in amount["arithmetic"]:
                lines.append(f"{inner}{'金额' if zh else 'amount'}: {text}")
        precedence = node.get("precedence")
        if precedence:
            mark = "⚠ " if precedence.get("open") else ""
            lines.append(f"{inner}{mark}{precedence['text']}")  # the text cites Article 14 itself
            other = precedence.get("other_rule")
            if other:
                lines.append(f"{inner}    [{other['citation']}] “{other['quote']}”")
        if node.get("also_by"):
            lines.append(f"{inner}{'亦由' if zh else 'also by'}: {', '.join(node['also_by'])}")
        for child in node.get("children", []):
            _render(child, lines, inner, lang)
        return
