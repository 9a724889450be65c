"""What ``policykb eval`` prints for a person: the enterprise, the documents that apply, the
conclusions, every benefit with its status and amount, and the missing facts by what they decide."""

from __future__ import annotations

from engine.explaining.why_not import first_failure, missing_by_target
from engine.explaining.wording import (OPEN_DECISIONS, article14_decisions, article14_text, documents_text, listed,
                                       named, nothing_to_ask)
from engine.loading.values import format_date
from engine.rendering.report import amount_text


def summary_text(assessment, lang: str = "zh") -> str:
    """The readable summary of ``policykb eval``: every benefit with its status, and what is missing.

    Granted benefits with their amount and any Article 14 overlap, superseded ones, undetermined
    ones with the fact to ask next, denied ones with the first condition that fails; then the
    missing facts grouped by the benefit they could decide. Labels first, ids after them.
    """
    kb, result = assessment.kb, assessment.result
    zh = lang == "zh"
    as_of = assessment.facts.get("application_date")
    out = _summary_head(assessment, lang)
    out += ["", "可获支持:" if zh else "Benefits:"]
    for benefit in result["benefits"]:
        out.append(f"  ✓ {named(kb, benefit['id'], lang)} [{kb.label(kb.conclusions[benefit['id']].article, lang)}]: "
                   f"{amount_text(kb, benefit, lang)}")
        for offer, decision in article14_decisions(benefit):
            mark = "⚠ " if decision in OPEN_DECISIONS else ""
            out.append(f"      {mark}{article14_text(kb, offer, benefit['amount'], decision, lang)}")
    if not result["benefits"]:
        out.append("  （无）" if zh else "  (none)")
    if result["status"].get("policy_in_force") == "denied":
        # Only the measures' own benefits: another document in force may still grant its own.
        doc = kb.document
        out.append(("  《{t}》在{d}不在有效期内（{s}至{e}），不给予该措施的任何支持。" if zh else
                    "  On {d} the {t} are not in force ({s} to {e}): nothing is granted under them.")
                   .format(d=format_date(as_of, lang), s=format_date(doc["effective_date"], lang),
                           e=format_date(doc["expiry_date"], lang), t=kb.documents[kb.home].label(lang)))
    out += _summary_others(assessment, lang)
    out.append("")
    out.append("用 `policykb why PROFILE ID` 查看理由，`policykb why-not PROFILE ID` 查看为何不给予及如何获得。" if zh else
               "Run `policykb why PROFILE ID` to see why, `policykb why-not PROFILE ID` for why not and what would change it.")
    return "\n".join(out) + "\n"


def _summary_head(assessment, lang: str) -> list[str]:
    """The enterprise, the policy, the date, and the conclusions that hold."""
    kb, result = assessment.kb, assessment.result
    zh = lang == "zh"
    name = result["enterprise"] or ("（未命名企业）" if zh else "(unnamed enterprise)")
    as_of = assessment.facts.get("application_date")
    first = kb.documents.get(kb.home) or next(iter(kb.documents.values()))
    number = first.data.get("doc_number") or ""
    out = [f"{name} — " + " ".join(filter(None, (number, first.title if zh else first.title_en))),
           ("评估日期: " if zh else "as of: ") + (format_date(as_of, lang) if as_of else ("未知" if zh else "unknown"))]
    for fact, month in result.get("month_only", {}).items():
        year, number = month.split("-")
        out.append(f"{kb.facts[fact].zh} ({fact}) 只写到月份（{int(year)}年{int(number)}月）：按该月每一天评估，各天结果不同的事项为待定"
                   if zh else f"{kb.facts[fact].en} ({fact}) is given by its month only ({month}): every day of it was "
                   "evaluated, and what differs between days is undetermined")
    if len(kb.documents) > 1 or first.id != kb.home or len(result["documents"]) > 1:
        out.append(("适用文件: " if zh else "Documents: ") + documents_text(kb, result, lang))
    out += ["", "结论:" if zh else "Conclusions:"]
    out += [f"  ✓ {named(kb, cid, lang)} [{kb.label(kb.conclusions[cid].article, lang)}]"
            for cid in result["conclusions"]] or ["  （无）" if zh else "  (none)"]
    return out


def _summary_others(assessment, lang: str) -> list[str]:
    """The benefits not granted here — superseded, undetermined, denied — and the missing facts."""
    kb, result = assessment.kb, assessment.result
    zh = lang == "zh"
    out = []
    if result["superseded"]:
        out += ["", "按就高原则由其他政策支持 (第十四条):" if zh else "Superseded by a higher offer (Art. 14):"]
        out += [f"  → {named(kb, item['id'], lang)}: {article14_text(kb, item['by'], item['amount'], 'superseded', lang)}"
                for item in result["superseded"]]
    if result["next_fact"]:
        out += ["", "待定（缺少事实）:" if zh else "Undetermined (facts missing):"]
        out += [f"  ? {named(kb, bid, lang)}: " + ((("下一步应询问 " if zh else "ask next for ") + named(kb, fact, lang))
                                                   if fact else nothing_to_ask(lang))
                for bid, fact in result["next_fact"].items()]
    superseded = {item["id"] for item in result["superseded"]}
    denied = [b for b in kb.benefits if result["status"][b] == "denied" and b not in superseded]
    if denied:
        out += ["", "不给予（第一个不满足的条件）:" if zh else "Denied (the first condition not met):"]
        out += [f"  ✗ {named(kb, bid, lang)} [{kb.label(kb.conclusions[bid].article, lang)}]: "
                f"{first_failure(assessment, bid, lang)}" for bid in denied]
    groups = missing_by_target(assessment)
    if groups:
        out += ["", "缺少的事实（补充后可能改变结果），按其可决定的事项:" if zh else
                "Missing facts (could change the result), by what they could decide:"]
        for target, facts in groups:
            head = named(kb, target, lang) if target else ("其他" if zh else "other")
            out.append(f"  {head}: {listed([named(kb, f, lang) for f in facts], lang)}")
    return out
