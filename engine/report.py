"""A report an analyst can hand on: one enterprise's facts, every benefit, and why or why not.

:func:`report_markdown` and :func:`report_html` render the same content: the enterprise's facts
with the article each comes from, every benefit with its status and amount, the conclusions,
the missing facts, and for each benefit the derivation (why) or the reasons and the changes
that would grant it (why not), each step citing its clause. The HTML is self-contained — inline
style, no script, no link to anything outside — and prints cleanly.
"""

from __future__ import annotations

import html

from .evaluation import Assessment
from .explanation import render_text, tree
from .values import format_date, format_money
from .wording import display

_TITLES = {
    "zh": {"report": "政策适用评估报告", "facts": "企业事实", "benefits": "第十三条支持事项", "benefit": "支持事项",
           "status": "结论", "amount": "金额", "clause": "条款", "conclusions": "成立的结论", "missing": "缺少的事实",
           "details": "逐项理由", "fact": "事实", "value": "取值", "source": "出处", "none": "（无）",
           "as_of": "评估日期", "kb": "知识库版本", "policy": "政策", "next": "下一步应询问",
           "granted": "给予", "denied": "不给予", "undetermined": "待定", "superseded": "由其他政策支持（就高）"},
    "en": {"report": "Policy assessment report", "facts": "Enterprise facts", "benefits": "Article 13 benefits",
           "benefit": "Benefit", "status": "Status", "amount": "Amount", "clause": "Clause",
           "conclusions": "Conclusions that hold", "missing": "Missing facts", "details": "Why and why not",
           "fact": "Fact", "value": "Value", "source": "Source", "none": "(none)", "as_of": "As of",
           "kb": "Knowledge base version", "policy": "Policy", "next": "ask next",
           "granted": "granted", "denied": "denied", "undetermined": "undetermined",
           "superseded": "superseded by a higher offer"},
}


def _rows(assessment: Assessment, lang: str):
    kb, result = assessment.kb, assessment.result
    t = _TITLES[lang]
    granted = {b["id"]: b for b in result["benefits"]}
    superseded = {s["id"]: s for s in result["superseded"]}
    for bid, benefit in kb.benefits.items():
        status = result["status"][bid]
        word = t["superseded"] if bid in superseded else t[status]
        if bid in granted:
            amount = amount_text(kb, granted[bid], lang)
        elif bid in superseded:
            by = superseded[bid]["by"]
            amount = f"{by['policy']}: {format_money(by['amount'], lang)}"
        elif status == "undetermined":
            amount = f"{t['next']}: {result['next_fact'].get(bid)}"
        else:
            amount = "—"
        yield bid, benefit.label(lang), kb.label(benefit.article, lang), word, amount


def amount_text(kb, benefit: dict, lang: str) -> str:
    """A granted benefit's amount as a person writes it."""
    zh = lang == "zh"
    amount = benefit["amount"]
    rule = kb.rules[benefit["rule"]]
    if benefit["basis"] == "services":
        return ("服务：" if zh else "services: ") + ("、" if zh else ", ").join(s[lang] for s in rule.amount.services)
    if amount is None:
        text = "金额未定" if zh else "amount not fixed"
        if rule.amount.terms:
            text += f"（{rule.amount.terms['zh']}）" if zh else f" ({rule.amount.terms['en']})"
        names = [f"《{kb.subpolicies[s].title}》" if zh else kb.subpolicies[s].title_en for s in rule.defers_to]
        if names:
            text += ("，见" + "、".join(names)) if zh else ("; see " + "; ".join(names))
        return text
    if amount["min"] == amount["max"]:
        return format_money(amount["max"], lang)
    if amount["min"] is None:
        return ("最高 " if zh else "up to ") + format_money(amount["max"], lang)
    return f"{format_money(amount['min'], lang)} – {format_money(amount['max'], lang)}"


def _facts(assessment: Assessment, lang: str):
    kb = assessment.kb
    for name, value in assessment.facts.items():
        fact = kb.facts[name]
        yield fact.label(lang), name, display(kb, name, value, lang), kb.label(fact.source, lang)


def _header(assessment: Assessment, lang: str) -> tuple[str, list[tuple[str, str]]]:
    kb, result = assessment.kb, assessment.result
    t = _TITLES[lang]
    title = f"{t['report']}: {result['enterprise'] or ''}".rstrip(": ")
    doc = kb.document
    meta = [(t["policy"], f"{doc['doc_number']} {doc['title'] if lang == 'zh' else doc['title_en']}"),
            (t["as_of"], format_date(assessment.facts.get("application_date"), lang)),
            (t["kb"], result["kb_version"])]
    return title, meta


def report_markdown(assessment: Assessment, lang: str = "zh") -> str:
    kb, result = assessment.kb, assessment.result
    t = _TITLES[lang]
    title, meta = _header(assessment, lang)
    out = [f"# {title}", ""]
    out += [f"- **{k}**: {v}" for k, v in meta] + ["", f"## {t['benefits']}", "",
                                                   f"| {t['benefit']} | {t['clause']} | {t['status']} | {t['amount']} |",
                                                   "|---|---|---|---|"]
    for bid, label, clause, word, amount in _rows(assessment, lang):
        out.append(f"| {label} (`{bid}`) | {clause} | {word} | {_md(amount)} |")
    out += ["", f"## {t['conclusions']}", ""]
    out += [f"- {kb.conclusions[c].label(lang)} (`{c}`) [{kb.label(kb.conclusions[c].article, lang)}]"
            for c in result["conclusions"]] or [t["none"]]
    out += ["", f"## {t['missing']}", "", ", ".join(f"`{m}`" for m in result["missing"]) or t["none"]]
    out += ["", f"## {t['facts']}", "", f"| {t['fact']} | {t['value']} | {t['source']} |", "|---|---|---|"]
    out += [f"| {label} (`{name}`) | {_md(value)} | {source} |" for label, name, value, source in _facts(assessment, lang)]
    out += ["", f"## {t['details']}", ""]
    for bid, label, _, word, _ in _rows(assessment, lang):
        out += [f"### {label} (`{bid}`) — {word}", "", "```", render_text(tree(assessment, bid, lang), lang).rstrip(), "```", ""]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


_STYLE = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; line-height: 1.5; }
h1 { font-size: 1.5rem; border-bottom: 2px solid #333; padding-bottom: .3rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #999; }
h3 { font-size: 1rem; margin-top: 1.5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border: 1px solid #bbb; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #eee; }
td:nth-child(2), td:nth-child(3) { white-space: nowrap; }
.granted { color: #0a6b2d; font-weight: bold; } .denied { color: #8a1c1c; } .undetermined { color: #8a5a00; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f6f6; padding: .6rem; border: 1px solid #ddd;
      font-size: .85rem; }
code { font-size: .85em; }
@media print { body { margin: 0; max-width: none; } h2, h3 { page-break-after: avoid; } pre { page-break-inside: avoid; } }
"""


def report_html(assessment: Assessment, lang: str = "zh") -> str:
    kb, result = assessment.kb, assessment.result
    t = _TITLES[lang]
    e = html.escape
    title, meta = _header(assessment, lang)
    out = [f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">',
           f"<title>{e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>", f"<h1>{e(title)}</h1>", "<ul>"]
    out += [f"<li><strong>{e(k)}</strong>: {e(v)}</li>" for k, v in meta] + ["</ul>"]
    out += [f"<h2>{e(t['benefits'])}</h2>", "<table>",
            f"<tr><th>{e(t['benefit'])}</th><th>{e(t['clause'])}</th><th>{e(t['status'])}</th><th>{e(t['amount'])}</th></tr>"]
    for bid, label, clause, word, amount in _rows(assessment, lang):
        css = result["status"][bid]
        out.append(f'<tr id="row-{bid}"><td><a href="#{bid}">{e(label)}</a> <code>{bid}</code></td><td>{e(clause)}</td>'
                   f'<td class="{css}">{e(word)}</td><td>{e(amount)}</td></tr>')
    out += ["</table>", f"<h2>{e(t['conclusions'])}</h2>", "<ul>"]
    out += [f"<li>{e(kb.conclusions[c].label(lang))} <code>{c}</code> [{e(kb.label(kb.conclusions[c].article, lang))}]</li>"
            for c in result["conclusions"]] or [f"<li>{e(t['none'])}</li>"]
    out += ["</ul>", f"<h2>{e(t['missing'])}</h2>",
            f"<p>{', '.join(f'<code>{m}</code>' for m in result['missing']) or e(t['none'])}</p>",
            f"<h2>{e(t['facts'])}</h2>", "<table>",
            f"<tr><th>{e(t['fact'])}</th><th>{e(t['value'])}</th><th>{e(t['source'])}</th></tr>"]
    out += [f"<tr><td>{e(label)} <code>{name}</code></td><td>{e(value)}</td><td>{e(source)}</td></tr>"
            for label, name, value, source in _facts(assessment, lang)]
    out += ["</table>", f"<h2>{e(t['details'])}</h2>"]
    for bid, label, _, word, _ in _rows(assessment, lang):
        out += [f'<section id="{bid}"><h3>{e(label)} <code>{bid}</code> — <span class="{result["status"][bid]}">{e(word)}</span></h3>',
                f"<pre>{e(render_text(tree(assessment, bid, lang), lang).rstrip())}</pre></section>"]
    out.append("</body>\n</html>")
    return "\n".join(out) + "\n"
