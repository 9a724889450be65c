"""Explanations: the derivation tree of a conclusion or benefit, as data and as text.

Each node is a step: the conclusion, the rule that derived it, the article or clause it cites
with the quoted sentence, the facts it compared with their values, the arithmetic of an
amount, Article 14's comparison where another policy offers the same benefit, and the
conclusions it built on as children. A conclusion that does not hold is explained by its
rules' conditions, each marked met, not met or unknown.
"""

from __future__ import annotations

import datetime as _dt
from fractions import Fraction
from typing import Any

from . import conditions as cond
from .errors import ProfileError, nearest
from .evaluation import Assessment, assess
from .kb import KnowledgeBase
from .values import format_date, format_money, format_percent

STATUS_WORDS = {True: "granted", False: "denied", None: "undetermined"}


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
        raise ProfileError(f"'{target}' is not a conclusion or benefit",
                           suggestion=nearest(target, kb.conclusions))
    if not assessment.inference.holds(target):
        return _not_derived_node(assessment, target, lang)
    node = _derived_node(assessment, target, lang)
    if any(item["id"] == target for item in assessment.result["superseded"]):
        # Derived under this policy, but Article 14 hands it to the higher offer elsewhere.
        node["holds"], node["status"] = False, "superseded"
    return node


# --------------------------------------------------------------------------- values

def display(kb: KnowledgeBase, fact_id: str, value: Any, lang: str) -> str:
    """A fact value as a person reads it."""
    fact = kb.facts.get(fact_id)
    if value is None:
        return "未知" if lang == "zh" else "unknown"
    if fact is None:
        return str(value)
    if fact.type == "money":
        return format_money(value, lang)
    if fact.type == "date":
        return format_date(value, lang)
    if fact.type == "bool":
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if fact.type == "enum":
        return f"{fact.values[value][lang]} ({value})"
    if fact.type == "list":
        return "、".join(fact.values[v][lang] for v in value) if value else ("无" if lang == "zh" else "none")
    if fact.type == "number":
        return _number(value) + (" m²" if fact.unit == "m2" else "")
    if fact.type == "records":
        return "; ".join(f"{r['policy']}: {r['benefit']} {format_money(r['amount'], lang)}" for r in value)
    return str(value)


def json_value(value: Any) -> Any:
    """A fact value in JSON: dates ISO, exact numbers as int (or a decimal when not whole)."""
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    if isinstance(value, tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    return value


def _number(value: Fraction) -> str:
    if value.denominator == 1:
        return f"{int(value):,}"
    return f"{float(value):,.4f}".rstrip("0").rstrip(".")


def condition_text(kb: KnowledgeBase, node, lang: str) -> str:
    """A fact test or conclusion reference in words: ``实收资本 不低于 1亿元``."""
    if isinstance(node, cond.ConclusionRef):
        return kb.conclusions[node.conclusion].label(lang)
    fact = kb.facts[node.fact]
    words = cond.OPERATOR_TEXT[node.op][0 if lang == "zh" else 1]
    if node.op == "between":
        shown = f"{display(kb, node.fact, node.value[0], lang)} – {display(kb, node.fact, node.value[1], lang)}"
    elif node.op in ("in", "not_in", "includes_any"):
        shown = ("、" if lang == "zh" else ", ").join(
            fact.values[v][lang] if v in fact.values else str(v) for v in node.value)
    elif fact.type == "list":
        shown = fact.values[node.value][lang]
    else:
        shown = display(kb, node.fact, node.value, lang)
    return f"{fact.label(lang)} {words} {shown}"


# --------------------------------------------------------------------------- trees

def _citation(kb: KnowledgeBase, ref: str, lang: str) -> dict:
    article = ref.split("(")[0]
    return {"article": int(article), "clause": ref if "(" in ref else None,
            "citation": kb.label(ref, lang)}


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
        "also_by": [d.rule_id + (f" ({', '.join(d.grounds)})" if d.grounds else "") for d in derivations[1:]],
    }
    grounds = [g for d in derivations for g in d.grounds]
    if grounds:
        node["grounds"] = list(dict.fromkeys(grounds))
    if conclusion.kind == "benefit":
        node["amount"] = _amount_node(assessment, target, lang)
        node["precedence"] = _precedence_node(assessment, target, lang)
    node["children"] = [_derived_node(assessment, used, lang) for used in first.conclusions]
    return node


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
            lines.append((f"每平方米上限 {format_money(step['per_unit'], lang)} × {_number(step['quantity'])} m² = "
                          if zh else f"cap per m² {format_money(step['per_unit'], lang)} × {_number(step['quantity'])} m² = ")
                         + format_money(step["max"], lang))
        elif kind == "result":
            word = ("给予" if step["share_is"] == "fixed" else "最高给予") if zh else \
                   ("granted" if step["share_is"] == "fixed" else "granted at most")
            lines.append(f"{word} {format_money(step['value'], lang)}")
    if result.basis == "not_fixed":
        terms = rule.amount.terms[lang] if rule.amount.terms else ""
        policies = "、".join(f"《{kb.subpolicies[s].title}》" if zh else kb.subpolicies[s].title_en
                            for s in rule.defers_to)
        lines.append((f"金额未定：{terms}" + (f"，按{policies}确定" if policies else "")) if zh else
                     (f"amount not fixed: {terms}" + (f"; set by {policies}" if policies else "")))
    if result.basis == "services":
        lines.append(("服务：" if zh else "services: ") +
                     ("、" if zh else ", ").join(s[lang] for s in rule.amount.services))
    return {"basis": result.basis, "min": result.min, "max": result.max, "currency": "CNY",
            "arithmetic": lines, "defers_to": list(rule.defers_to)}


def _precedence_node(assessment: Assessment, target: str, lang: str) -> dict | None:
    kb, result = assessment.kb, assessment.result
    if not kb.precedence:
        return None
    rule = kb.precedence[0]
    entry = next((b for b in result["benefits"] if b["id"] == target), None)
    superseded = next((s for s in result["superseded"] if s["id"] == target), None)
    offer = (superseded or {}).get("by") or (entry or {}).get("overlap") or (entry or {}).get("not_stacked_with")
    if offer is None:
        return None
    maximum = assessment.amounts[target].max
    zh = lang == "zh"
    if superseded:
        decision = "superseded"
        text = (f"其他区级政策《{offer['policy']}》给予{format_money(offer['amount'], lang)}，高于本措施上限"
                f"{format_money(maximum, lang)}，按就高原则由该政策支持，本措施不再给予。") if zh else \
               (f"{offer['policy']} offers {format_money(offer['amount'], lang)}, more than this policy's maximum "
                f"{format_money(maximum, lang)}: the higher one applies and this benefit is superseded.")
    elif maximum is None:
        decision = "not_comparable"
        text = (f"其他区级政策《{offer['policy']}》给予{format_money(offer['amount'], lang)}；本措施金额未定，无法比较，"
                "仍按本措施给予，并提示两者重叠、不重复享受。") if zh else \
               (f"{offer['policy']} offers {format_money(offer['amount'], lang)}; this policy fixes no amount, so they "
                "cannot be compared: granted here, overlap reported, not cumulative.")
    else:
        decision = "kept"
        text = (f"其他区级政策《{offer['policy']}》给予{format_money(offer['amount'], lang)}，不高于本措施上限"
                f"{format_money(maximum, lang)}，按本措施给予，两者不叠加。") if zh else \
               (f"{offer['policy']} offers {format_money(offer['amount'], lang)}, not more than this policy's maximum "
                f"{format_money(maximum, lang)}: granted here, not stacked.")
    return {"rule": rule.id, **_citation(kb, rule.cites, lang), "quote": rule.quote,
            "this_policy_max": maximum, "other": offer, "decision": decision, "text": text}


def _not_derived_node(assessment: Assessment, target: str, lang: str) -> dict:
    kb, inference = assessment.kb, assessment.inference
    conclusion = kb.conclusions[target]
    value = inference.status.get(target)
    rules = []
    for rule in kb.rules_for(target):
        outcome = inference.outcomes[rule.id]
        rules.append({"rule": rule.id, **_citation(kb, rule.cites, lang), "quote": rule.quote,
                      "status": STATUS_WORDS[outcome.value],
                      "conditions": _outcome_lines(kb, outcome, lang)})
    missing = _upstream_missing(assessment, target) if value is None else set()
    node = {"id": target, "kind": conclusion.kind, "label": conclusion.label(lang), "holds": False,
            "status": STATUS_WORDS[value], "rules": rules,
            "missing": [name for name in kb.facts if name in missing]}
    return node


def _upstream_missing(assessment: Assessment, target: str) -> set[str]:
    kb, inference = assessment.kb, assessment.inference
    found: set[str] = set()
    todo = [target]
    while todo:
        current = todo.pop()
        for rule in kb.rules_for(current):
            outcome = inference.outcomes[rule.id]
            found.update(cond.unknown_facts(outcome))
            todo.extend(cond.undecided_conclusions(outcome))
    return found


def _outcome_lines(kb: KnowledgeBase, outcome: cond.Outcome, lang: str) -> list[dict]:
    node = outcome.node
    if isinstance(node, (cond.All, cond.Any_)):
        return [{"all" if isinstance(node, cond.All) else "any": [_outcome_lines(kb, c, lang) for c in outcome.children],
                 "status": STATUS_WORDS[outcome.value]}]
    line = {"condition": condition_text(kb, node, lang), "status": _met(outcome.value)}
    if isinstance(node, cond.FactTest):
        line.update({"fact": node.fact, "value": json_value(outcome.actual),
                     "display": display(kb, node.fact, outcome.actual, lang)})
    else:
        line["conclusion"] = node.conclusion
    return [line]


def _met(value) -> str:
    return {True: "met", False: "not met", None: "unknown"}[value]


# --------------------------------------------------------------------------- text

def render_text(node: dict, lang: str = "zh") -> str:
    """The tree as indented text a person reads at a glance."""
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
    head = f"{indent}{node['id']}  {node['label']} — {word}"
    lines.append(head)
    inner = indent + "    "
    if node.get("holds") or node.get("status") == "superseded":
        lines.append(f"{inner}[{node['citation']}] {node['rule']}")
        lines.append(f"{inner}“{node['quote']}”")
        for fact in node.get("facts", []):
            test = f"    ({fact['condition']})" if fact.get("shows_threshold") else ""
            lines.append(f"{inner}· {fact['label']} = {fact['display']}{test}")
        if node.get("grounds"):
            lines.append(f"{inner}· {'依据' if zh else 'grounds'}: {', '.join(node['grounds'])}")
        amount = node.get("amount")
        if amount:
            for text in amount["arithmetic"]:
                lines.append(f"{inner}{'金额' if zh else 'amount'}: {text}")
        precedence = node.get("precedence")
        if precedence:
            lines.append(f"{inner}[{precedence['citation']}] {precedence['text']}")
        if node.get("also_by"):
            lines.append(f"{inner}{'亦由' if zh else 'also by'}: {', '.join(node['also_by'])}")
        for child in node.get("children", []):
            _render(child, lines, inner, lang)
        return
    for rule in node.get("rules", []):
        lines.append(f"{inner}[{rule['citation']}] {rule['rule']} — {status_word[rule['status']]}")
        lines.append(f"{inner}“{rule['quote']}”")
        _render_conditions(rule["conditions"], lines, inner + "    ", lang)
    if node.get("missing"):
        lines.append(f"{inner}{'缺少事实' if zh else 'missing facts'}: {', '.join(node['missing'])}")


_MARK = {"met": "✓", "not met": "✗", "unknown": "?"}


def _render_conditions(items: list[dict], lines: list[str], indent: str, lang: str) -> None:
    zh = lang == "zh"
    for item in items:
        if "any" in item:
            lines.append(f"{indent}{_MARK[_met_of(item['status'])]} {'以下任一' if zh else 'any of'}:")
            for child in item["any"]:
                _render_conditions(child, lines, indent + "  ", lang)
        elif "all" in item:
            for child in item["all"]:
                _render_conditions(child, lines, indent, lang)
        else:
            actual = f"   ({'实际' if zh else 'actual'}: {item['display']})" if "fact" in item else ""
            lines.append(f"{indent}{_MARK[item['status']]} {item['condition']}{actual}")


def _met_of(status_word: str) -> str:
    return {"granted": "met", "denied": "not met", "undetermined": "unknown"}[status_word]
