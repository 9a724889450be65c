"""Words for facts and conditions: how a value or a test reads to a person, in zh or en."""

from __future__ import annotations

import datetime as _dt
from fractions import Fraction
from typing import Any

from . import conditions as cond
from .errors import ProfileError, nearest
from .kb import KnowledgeBase
from .values import format_date, format_money


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
        return number_text(value) + (" m²" if fact.unit == "m2" else "")
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


def number_text(value: Fraction) -> str:
    if value.denominator == 1:
        return f"{int(value):,}"
    return f"{float(value):,.4f}".rstrip("0").rstrip(".")


def condition_text(kb: KnowledgeBase, node, lang: str) -> str:
    """A fact test or conclusion reference in words: ``实收资本 不低于 1亿元``."""
    if isinstance(node, cond.ConclusionRef):
        return kb.conclusions[node.conclusion].label(lang)
    fact = kb.facts[node.fact]
    if fact.type == "bool" and node.op == "is" and lang == "en":
        return fact.en if node.value else f"not: {fact.en}"
    words = cond.OPERATOR_TEXT[node.op][0 if lang == "zh" else 1]
    if node.op == "between":
        joiner = "至" if lang == "zh" else "and"
        shown = f"{display(kb, node.fact, node.value[0], lang)} {joiner} {display(kb, node.fact, node.value[1], lang)}"
    elif node.op in ("in", "not_in", "includes_any"):
        shown = ("、" if lang == "zh" else ", ").join(
            fact.values[v][lang] if v in fact.values else str(v) for v in node.value)
    elif fact.type == "list":
        shown = fact.values[node.value][lang]
    else:
        shown = display(kb, node.fact, node.value, lang)
    return f"{fact.label(lang)} {words} {shown}"


def unknown_target(kb: KnowledgeBase, target: str) -> ProfileError:
    """The error for an id that names no conclusion or benefit, saying what would be valid."""
    if target in kb.facts:
        return ProfileError(f"'{target}' is an input fact, not a conclusion or benefit; "
                            "its value is in the profile (see `policykb eval`)")
    suggestion = nearest(target.lower(), kb.conclusions)
    if suggestion:
        return ProfileError(f"'{target}' is not a conclusion or benefit", suggestion=suggestion)
    return ProfileError(f"'{target}' is not a conclusion or benefit; benefits: {', '.join(kb.benefits)}; "
                        f"conclusions: {', '.join(c for c, v in kb.conclusions.items() if v.kind == 'conclusion')}")
