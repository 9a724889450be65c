"""Words for facts and conditions: how a value or a test reads to a person, in zh or en."""

from __future__ import annotations

import datetime as _dt
from fractions import Fraction
from typing import Any

from engine.model import conditions as cond
from engine.errors import ProfileError, nearest
from engine.model import KnowledgeBase
from engine.loading.values import format_date, format_money


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
        return listed((fact.values[v][lang] for v in value), lang) if value else ("无" if lang == "zh" else "none")
    if fact.type == "number":
        return number_text(value) + (" m²" if fact.unit == "m2" else "")
    if fact.type == "records":
        return "; ".join(f"{r['policy']}: {named(kb, r['benefit'], lang)} {format_money(r['amount'], lang)}"
                         for r in value)
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
        label = kb.conclusions[node.conclusion].label(lang)
        if node.presumed:
            return (f"{label}（推定成立，除非已知不满足）" if lang == "zh" else
                    f"{label} (presumed unless known to fail)")
        return label
    fact = kb.facts[node.fact]
    if node.op == "within_years":
        return (f"申请日期在{fact.label(lang)}起{node.value}年内" if lang == "zh" else
                f"the application date is within {node.value} years from: {fact.label(lang)}")
    if node.op == "not_after_case_date":
        return ((f"{fact.label(lang)}不晚于申请日期" if node.value else f"{fact.label(lang)}晚于申请日期") if lang == "zh"
                else (f"{fact.label(lang)} is on or before the application date" if node.value
                      else f"{fact.label(lang)} is after the application date"))
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


def named(kb: KnowledgeBase, ident: str, lang: str) -> str:
    """A fact, conclusion or benefit as a person reads it: its label, then its id in brackets."""
    thing = kb.facts.get(ident) or kb.conclusions.get(ident)
    return f"{thing.label(lang)} ({ident})" if thing else ident


def listed(items, lang: str) -> str:
    """Items in a sentence: 、 between them in Chinese, a comma in English."""
    return ("、" if lang == "zh" else ", ").join(items)


#: Article 14 between this policy's amount and an offer of another district policy, by decision.
_ARTICLE_14 = {
    "superseded": ("《{p}》给予 {a}，高于本措施上限 {max}：按就高原则由该政策支持，本措施不再给予（{c}）",
                   "{p} offers {a}, more than this policy's maximum {max}: the higher one applies, "
                   "so it is supported there, not here ({c})"),
    "kept": ("《{p}》给予 {a}，不高于本措施最低金额 {min}：按本措施支持，两者不叠加（{c}）",
             "{p} offers {a}, not more than this policy's minimum {min}: granted under this policy, "
             "not stacked ({c})"),
    "kept_fixed": ("《{p}》给予 {a}，不高于本措施金额 {min}：按本措施支持，两者不叠加（{c}）",
                   "{p} offers {a}, not more than this policy's amount {min}: granted under this policy, "
                   "not stacked ({c})"),
    "within_range": ("《{p}》给予 {a}，介于本措施 {min}–{max} 之间：孰高待本措施金额确定后由分析人员判定，两者不叠加（{c}）",
                     "{p} offers {a}, between this policy's {min} and {max}: which is higher is for the analyst "
                     "to settle once this policy's amount is fixed; not stacked ({c})"),
    "within_ceiling": ("《{p}》给予 {a}，不超过本措施上限 {max}，本措施金额待定：孰高待本措施金额确定后由分析人员判定，"
                       "两者不叠加（{c}）",
                       "{p} offers {a}, within this policy's ceiling of {max}, whose amount is still open: which is "
                       "higher is for the analyst to settle once this policy's amount is fixed; not stacked ({c})"),
    "not_fixed": ("《{p}》给予 {a}，本措施金额未定：孰高待本措施金额确定后由分析人员判定，两者不叠加（{c}）",
                  "{p} offers {a}; this policy's amount is not fixed: which is higher is for the analyst to settle "
                  "once it is; not stacked ({c})"),
}


#: Article 14 between two benefits of encoded documents that pay for the same thing.
_BETWEEN_DOCUMENTS = {
    "superseded": ("{b}（{a}）高于本项最高金额 {max}：按就高原则由该项支持，本项不再给予（{c}）",
                   "{b} ({a}) is more than this benefit's most, {max}: the higher one applies, so it is "
                   "supported there, not here ({c})"),
    "newer_prevails": ("{b}（{a}）属新出台政策，与本项冲突，自其施行之日起以新政策为准（{c}）",
                       "{b} ({a}) is a newer policy in conflict with this benefit: from its date the newer "
                       "policy prevails ({c})"),
    "kept": ("不低于{b}（{a}）：按本项支持，两者不叠加（{c}）",
             "at least {b} ({a}): granted here, not stacked ({c})"),
    "open": ("与{b}（{a}）为同一类支持，不重复享受：孰高待金额确定后由分析人员判定（{c}）",
             "the same kind of support as {b} ({a}): not stacked; which is higher is for the analyst to settle "
             "once the amounts are fixed ({c})"),
}


def other_side(kb: KnowledgeBase, other: dict, lang: str) -> str:
    """Who else offers a benefit: another district policy's name, or another document's
    benefit as 《short name》label (id) [clause]."""
    if "policy" in other:
        return other["policy"]
    bid = other["benefit"]
    conclusion = kb.conclusions.get(bid)
    if conclusion is None:
        return bid
    return f"{named(kb, bid, lang)} [{kb.label(conclusion.article, lang)}]"


def period_words(period: dict, lang: str) -> str:
    """A yearly amount's period: 每年（共3年，本案为第2年） / per year (for 3 years; this case: year 2)."""
    zh = lang == "zh"
    years, year = period.get("years"), period.get("year")
    parts = []
    if years:
        parts.append(f"共{years}年" if zh else f"for {years} years")
    if year:
        parts.append(f"本案为第{year}年" if zh else f"this case: year {year}")
    if zh:
        return "每年" + (f"（{'，'.join(parts)}）" if parts else "")
    return "per year" + (f" ({'; '.join(parts)})" if parts else "")


def amount_words(amount, lang: str) -> str:
    """An offer's amount: a sum of yuan, or a {min, max} of another document's benefit."""
    if not isinstance(amount, dict):
        return format_money(amount, lang)
    low, high = amount.get("min"), amount.get("max")
    if low is None and high is None:
        return "金额未定" if lang == "zh" else "amount not fixed"
    if low is None:
        return ("最高 " if lang == "zh" else "up to ") + format_money(high, lang)
    if low == high:
        return format_money(low, lang)
    return f"{format_money(low, lang)}–{format_money(high, lang)}"


def article14_text(kb: KnowledgeBase, offer: dict, amount: dict | None, decision: str, lang: str) -> str:
    """Article 14 (就高且不重复) in one sentence: the other policy's offer against this policy's amount.

    ``decision`` is ``superseded`` (the offer is above this policy's maximum), ``kept`` (at or
    below its minimum), or the reason an overlap stays open for the analyst: ``within_range``
    (above the minimum, at or below the maximum, or under an "up to" ceiling) or ``not_fixed``.
    """
    low, high = (amount or {}).get("min"), (amount or {}).get("max")
    if "benefit" in offer:
        if decision == "superseded" and offer.get("reason") == "newer_prevails":
            decision = "newer_prevails"
        template = _BETWEEN_DOCUMENTS[decision][0 if lang == "zh" else 1]
        return template.format(b=other_side(kb, offer, lang), a=amount_words(offer.get("amount"), lang),
                               max=amount_words(amount, lang), c=overlap_citation(kb, lang))
    if decision == "within_range" and low is None:
        decision = "within_ceiling"
    if decision == "kept" and low == high:
        decision = "kept_fixed"
    template = _ARTICLE_14[decision][0 if lang == "zh" else 1]
    citation = kb.label(kb.precedence[0].cites if kb.precedence else "14", lang)
    return template.format(p=offer["policy"].strip("《》") if lang == "zh" else offer["policy"],
                           a=format_money(offer["amount"], lang), min=format_money(low, lang),
                           max=format_money(high, lang), c=citation)


def overlap_citation(kb: KnowledgeBase, lang: str) -> str:
    """Where not stacking benefits of two documents comes from: Article 14, and the cited
    articles of the overlaps declared in the knowledge base."""
    refs = list(dict.fromkeys([kb.precedence[0].cites if kb.precedence else "14"]
                              + [ref for overlap in kb.overlaps for ref in overlap.cites]))
    return ("；" if lang == "zh" else "; ").join(kb.label(ref, lang) for ref in refs)


#: Article 14 decisions that stay open until this policy's amount is fixed (an analyst settles them).
OPEN_DECISIONS = ("within_range", "not_fixed", "open")


def article14_decisions(entry: dict) -> list[tuple[dict, str]]:
    """Every offer and Article 14 decision of a benefit entry of the result: another document's
    benefit first, then another district policy's offer."""
    found = []
    if entry.get("by"):
        found.append((entry["by"], "superseded"))
    other = entry.get("not_stacked_with")
    if other and "benefit" in other:
        found.append((other, "open" if other.get("open") else "kept"))
    if entry.get("overlap"):
        found.append((entry["overlap"], entry["overlap"].get("reason", "not_fixed")))
    offer = entry.get("not_stacked_with_offer") or (other if other and "benefit" not in other else None)
    if offer:
        found.append((offer, "kept"))
    return found


def article14_decision(entry: dict) -> tuple[dict, str] | None:
    """The first offer and Article 14 decision of a benefit entry of the result, or None."""
    found = article14_decisions(entry)
    return found[0] if found else None


def documents_text(kb, result: dict, lang: str) -> str:
    """Each document of the knowledge base and whether it applies at the case's date."""
    zh = lang == "zh"
    words = {True: "适用" if zh else "applies", False: "不适用" if zh else "does not apply",
             None: "日期未知" if zh else "date unknown"}
    parts = []
    for entry in result["documents"]:
        document = kb.documents[entry["id"]]
        text = f"{document.label(lang)} ({entry['id']}): {words[entry['in_force']]}"
        if entry["in_force"] and document.expiry_date is None:
            text += "，现有文本未载终止日期" if zh else ", no end date in the available text"
        parts.append(text)
    return ("；" if zh else "; ").join(parts)


def document_dates(document, lang: str) -> str:
    """When a document applies, as people read it; a date its text does not give is unknown."""
    zh = lang == "zh"
    start, end = document.effective_date, document.expiry_date
    if start is None and end is None:
        return "施行日期未知，终止日期未知" if zh else "start and end unknown"
    if start is None:
        return f"施行日期未知 – {end}" if zh else f"start unknown – {end}"
    if end is None:
        return f"{start} 起（终止日期未知）" if zh else f"from {start} (end unknown)"
    return f"{start} – {end}"


def nothing_to_ask(lang: str) -> str:
    """For an undetermined benefit no fact can decide: the text that would is missing."""
    return ("无可询问的事实：决定它的文本在现有文本中缺失" if lang == "zh"
            else "nothing to ask: the text that would decide it is missing from the available text")


def range_text(amount: dict | None, lang: str) -> str:
    """An amount of the result (``{min, max}`` or None) in a table cell: "—" for none."""
    return amount_words(amount, lang) if amount else "—"
