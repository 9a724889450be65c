"""A report an analyst can hand on: one enterprise's facts, every benefit, and why or why not.

:func:`report_markdown` and :func:`report_html` render the same content: the enterprise's facts
with the article each comes from, every benefit with its status, amount and a note (Article 14
against another policy's offer, the first condition that denies it, or the fact to ask next),
the conclusions, the missing facts grouped by the benefit they could decide, and for each
benefit the derivation (why) or the reasons and the changes that would grant it (why not), each
step citing its clause. In HTML the derivations are trees of nested ``<details open>`` with
labels, quotes and amounts; the page is self-contained — inline style, no script, no link to
anything outside — escapes every string it shows, and prints cleanly.
"""

from __future__ import annotations

import html

from engine.inferring.evaluation import Assessment
from engine.explaining.explanation import render_text, tree
from engine.loading.values import format_date, format_money
from engine.explaining.why_not import first_failure, missing_by_target
from engine.explaining.wording import (amount_words, period_words, article14_decision, article14_text, display, documents_text, listed, named,
                      nothing_to_ask, range_text)

_TITLES = {
    "zh": {"report": "政策适用评估报告", "facts": "企业事实", "benefits": "支持事项", "benefit": "支持事项",
           "status": "结论", "amount": "金额", "clause": "条款", "note": "说明", "conclusions": "成立的结论",
           "missing": "缺少的事实（按其可决定的事项）", "details": "逐项理由", "fact": "事实", "value": "取值",
           "source": "出处", "none": "（无）", "other": "其他", "as_of": "评估日期", "kb": "知识库版本",
           "policy": "政策", "documents": "适用文件", "next": "下一步应询问", "granted": "给予", "denied": "不给予", "undetermined": "待定",
           "superseded": "由其他政策支持（就高）", "open": "给予（重叠待定）",
           "holds": "成立", "not_holds": "不成立", "amount_word": "金额", "grounds": "依据", "also_by": "亦由",
           "missing_here": "缺少事实", "alternatives": "可以这样获得（每项均经重新评估验证；企业自己能做到的在前）",
           "no_change": "没有能给予的事实变化。", "any": "以下任一", "all": "以下全部", "actual": "实际",
           "match": "本措施支持可达到该金额，若"},
    "en": {"report": "Policy assessment report", "facts": "Enterprise facts", "benefits": "Benefits",
           "benefit": "Benefit", "status": "Status", "amount": "Amount", "clause": "Clause", "note": "Note",
           "conclusions": "Conclusions that hold", "missing": "Missing facts (by what they could decide)",
           "details": "Why and why not", "fact": "Fact", "value": "Value", "source": "Source", "none": "(none)",
           "other": "other", "as_of": "As of", "kb": "Knowledge base version", "policy": "Policy", "documents": "Documents",
           "next": "ask next", "granted": "granted", "denied": "denied", "undetermined": "undetermined",
           "superseded": "superseded by a higher offer", "open": "granted (open overlap)",
           "holds": "holds", "not_holds": "does not hold", "amount_word": "amount", "grounds": "grounds",
           "also_by": "also by", "missing_here": "missing facts",
           "alternatives": "It would be granted with (each re-evaluated; what the enterprise can do itself first)",
           "no_change": "No change of facts would grant it.", "any": "any of", "all": "all of", "actual": "actual",
           "match": "This policy would match it with"},
}


def _rows(assessment: Assessment, lang: str):
    """Each benefit: id, label, clause, status word, css class, amount and a note."""
    kb, result = assessment.kb, assessment.result
    t = _TITLES[lang]
    granted = {b["id"]: b for b in result["benefits"]}
    superseded = {s["id"]: s for s in result["superseded"]}
    for bid, benefit in kb.benefits.items():
        status = result["status"][bid]
        entry = granted.get(bid) or superseded.get(bid)
        word, css, note = t[status], status, ""
        if bid in granted:
            amount = amount_text(kb, granted[bid], lang)
        elif bid in superseded:
            word, css, amount = t["superseded"], "superseded", range_text(superseded[bid]["amount"], lang)
        else:
            amount = "—"
        decided = article14_decision(entry or {})
        if decided:
            note = article14_text(kb, decided[0], entry["amount"], decided[1], lang)
            if "overlap" in entry:
                word, css, note = t["open"], "open", "⚠ " + note
        elif status == "undetermined":
            fact = result["next_fact"].get(bid)
            note = f"{t['next']}: {named(kb, fact, lang)}" if fact else nothing_to_ask(lang)
        elif status == "denied":
            note = first_failure(assessment, bid, lang) or ""
        yield bid, benefit.label(lang), kb.label(benefit.article, lang), word, css, amount, note


def _missing(assessment: Assessment, lang: str) -> list[tuple[str, str]]:
    """The missing facts, grouped: (what they could decide, the facts), labels with ids."""
    kb = assessment.kb
    return [(named(kb, target, lang) if target else _TITLES[lang]["other"],
             listed([named(kb, f, lang) for f in facts], lang))
            for target, facts in missing_by_target(assessment)]


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
        return text + _terms_text(benefit, lang)
    if amount["min"] == amount["max"]:
        text = format_money(amount["max"], lang)
    elif amount["min"] is None:
        text = ("最高 " if zh else "up to ") + format_money(amount["max"], lang)
    else:
        text = f"{format_money(amount['min'], lang)} – {format_money(amount['max'], lang)}"
    return text + _terms_text(benefit, lang)


def _terms_text(benefit: dict, lang: str) -> str:
    """What a yearly amount or a cumulative cap adds to an amount: ``，每年（共3年）；累计…``."""
    zh = lang == "zh"
    parts = []
    if benefit.get("period"):
        parts.append(period_words(benefit["period"], lang))
    if benefit.get("cumulative"):
        c = benefit["cumulative"]
        parts.append(f"累计上限{format_money(c['max'], lang)}，已获{format_money(c['received'], lang)}，"
                     f"尚余{format_money(c['remaining'], lang)}" if zh else
                     f"cumulative cap {format_money(c['max'], lang)}, {format_money(c['received'], lang)} received, "
                     f"{format_money(c['remaining'], lang)} left")
    if not parts:
        return ""
    return ("，" + "；".join(parts)) if zh else (", " + "; ".join(parts))


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
    meta = [(t["policy"], " ".join(filter(None, (doc.get("doc_number"), doc["title"] if lang == "zh" else doc["title_en"])))),
            (t["as_of"], format_date(assessment.facts.get("application_date"), lang)),
            (t["kb"], result["kb_version"])]
    if len(kb.documents) > 1:
        meta.insert(1, (t["documents"], documents_text(kb, result, lang)))
    return title, meta


def report_markdown(assessment: Assessment, lang: str = "zh") -> str:
    """The report as Markdown; the derivations are the CLI's text trees in code blocks."""
    kb, result = assessment.kb, assessment.result
    t = _TITLES[lang]
    title, meta = _header(assessment, lang)
    out = [f"# {title}", ""]
    out += [f"- **{k}**: {v}" for k, v in meta] + ["", f"## {t['benefits']}", "",
                                                   f"| {t['benefit']} | {t['clause']} | {t['status']} | {t['amount']} | {t['note']} |",
                                                   "|---|---|---|---|---|"]
    for bid, label, clause, word, _, amount, note in _rows(assessment, lang):
        out.append(f"| {_md(label)} (`{bid}`) | {clause} | {_md(word)} | {_md(amount)} | {_md(note)} |")
    out += ["", f"## {t['conclusions']}", ""]
    out += [f"- {kb.conclusions[c].label(lang)} (`{c}`) [{kb.label(kb.conclusions[c].article, lang)}]"
            for c in result["conclusions"]] or [t["none"]]
    out += ["", f"## {t['missing']}", ""]
    out += [f"- **{_md(target)}**: {_md(facts)}" for target, facts in _missing(assessment, lang)] or [t["none"]]
    out += ["", f"## {t['facts']}", "", f"| {t['fact']} | {t['value']} | {t['source']} |", "|---|---|---|"]
    out += [f"| {label} (`{name}`) | {_md(value)} | {source} |" for label, name, value, source in _facts(assessment, lang)]
    out += ["", f"## {t['details']}", ""]
    for bid, label, _, word, *_ in _rows(assessment, lang):
        out += [f"### {label} (`{bid}`) — {word}", "", "```", render_text(tree(assessment, bid, lang), lang).rstrip(), "```", ""]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_STYLE = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; line-height: 1.5; }
h1 { font-size: 1.5rem; border-bottom: 2px solid #333; padding-bottom: .3rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #999; }
h3 { font-size: 1rem; margin-top: 1.5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; table-layout: auto; }
th, td { border: 1px solid #bbb; padding: .25rem .5rem; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
th { background: #eee; }
.benefits td:nth-child(3), .facts td:nth-child(3) { white-space: nowrap; }
.granted { color: #0a6b2d; font-weight: bold; } .denied { color: #8a1c1c; } .undetermined { color: #8a5a00; }
.superseded { color: #4a4a8a; } .open { color: #8a5a00; font-weight: bold; }
.note { font-size: .9rem; }
code { font-size: .85em; color: #555; }
details { margin: .2rem 0 .2rem .2rem; padding-left: .8rem; border-left: 2px solid #ddd; }
details > summary { cursor: pointer; margin-left: -.8rem; }
blockquote { margin: .2rem 0 .3rem; padding: .2rem .6rem; border-left: 3px solid #b8a; background: #faf7fa;
             font-size: .9rem; }
ul.tree, ol.alternatives { margin: .2rem 0; padding-left: 1.2rem; }
.cite { color: #555; font-size: .85rem; } .amount { font-weight: bold; } .art14 { background: #fff7e0; padding: .2rem .4rem; }
.warn { color: #8a1c1c; }
@media print { body { margin: 0; max-width: none; } h2, h3 { page-break-after: avoid; }
               section { page-break-inside: avoid; } }
"""


def report_html(assessment: Assessment, lang: str = "zh") -> str:
    """The report as one self-contained HTML page (no script, no external resource)."""
    kb, result = assessment.kb, assessment.result
    t = _TITLES[lang]
    e = html.escape
    title, meta = _header(assessment, lang)
    out = [f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">',
           f"<title>{e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>", f"<h1>{e(title)}</h1>", "<ul>"]
    out += [f"<li><strong>{e(k)}</strong>: {e(v)}</li>" for k, v in meta] + ["</ul>"]
    out += [f"<h2>{e(t['benefits'])}</h2>", '<table class="benefits">',
            f"<tr><th>{e(t['benefit'])}</th><th>{e(t['clause'])}</th><th>{e(t['status'])}</th>"
            f"<th>{e(t['amount'])}</th><th>{e(t['note'])}</th></tr>"]
    for bid, label, clause, word, css, amount, note in _rows(assessment, lang):
        out.append(f'<tr id="row-{e(bid)}"><td><a href="#{e(bid)}">{e(label)}</a> <code>{_ids(bid)}</code></td>'
                   f'<td>{e(clause)}</td><td class="{css}">{e(word)}</td><td>{_ids(amount)}</td>'
                   f'<td class="note">{_ids(note)}</td></tr>')
    out += ["</table>", f"<h2>{e(t['conclusions'])}</h2>", "<ul>"]
    out += [f"<li>{e(kb.conclusions[c].label(lang))} <code>{e(c)}</code> [{e(kb.label(kb.conclusions[c].article, lang))}]</li>"
            for c in result["conclusions"]] or [f"<li>{e(t['none'])}</li>"]
    out += ["</ul>", f"<h2>{e(t['missing'])}</h2>", "<ul>"]
    out += [f"<li><strong>{e(target)}</strong>: {e(facts)}</li>" for target, facts in _missing(assessment, lang)] \
        or [f"<li>{e(t['none'])}</li>"]
    out += ["</ul>", f"<h2>{e(t['facts'])}</h2>", '<table class="facts">',
            f"<tr><th>{e(t['fact'])}</th><th>{e(t['value'])}</th><th>{e(t['source'])}</th></tr>"]
    out += [f"<tr><td>{e(label)} <code>{_ids(name)}</code></td><td>{_ids(value)}</td><td>{e(source)}</td></tr>"
            for label, name, value, source in _facts(assessment, lang)]
    out += ["</table>", f"<h2>{e(t['details'])}</h2>"]
    for bid, label, _, word, css, *_ in _rows(assessment, lang):
        out += [f'<section id="{e(bid)}"><h3>{e(label)} <code>{e(bid)}</code> — <span class="{css}">{e(word)}</span></h3>',
                _html_node(tree(assessment, bid, lang), lang), "</section>"]
    out.append("</body>\n</html>")
    return "\n".join(out) + "\n"


def _ids(text: str) -> str:
    """Escaped, with a line-break opportunity after each underscore: a table cell can wrap a
    long id (industrial_base_recognized) instead of pushing the table off the page."""
    return html.escape(text).replace("_", "_<wbr>")


# --------------------------------------------------------------------------- HTML trees

_MARK = {"met": "✓", "not met": "✗", "unknown": "?"}
_NODE_MARK = {"granted": "✓", "denied": "✗", "undetermined": "?", "superseded": "→"}


def _html_node(node: dict, lang: str) -> str:
    """An explanation or why-not tree (engine.explaining.explanation / engine.explaining.why_not) as nested details."""
    if node.get("holds") or node.get("status") == "superseded":
        return _html_derived(node, lang)
    return _html_why_not(node, lang)


def _summary(node: dict, lang: str, cite: str = "", rule: str = "") -> str:
    e, t = html.escape, _TITLES[lang]
    status = node["status"]
    if node.get("kind") == "benefit" and status in ("granted", "denied", "undetermined", "superseded"):
        word = t[status]
    else:
        word = t["holds"] if status == "granted" else (t["undetermined"] if status == "undetermined" else t["not_holds"])
    where = f' <span class="cite" title="{e(rule)}">[{e(cite)}]</span>' if cite else ""
    return (f'<summary>{_NODE_MARK.get(status, "")} <strong>{e(node["label"])}</strong> <code>{e(node["id"])}</code>'
            f' — <span class="{e(status)}">{e(word)}</span>{where}</summary>')


def _html_derived(node: dict, lang: str) -> str:
    e, t = html.escape, _TITLES[lang]
    out = ['<details open class="node">', _summary(node, lang, node.get("citation", ""), node.get("rule", "")),
           f"<blockquote>“{e(node['quote'])}”</blockquote>"]
    facts = [f"<li>{e(f['label'])} = <b>{e(f['display'])}</b>"
             + (f' <span class="cite">{e(_paren(f["condition"], lang))}</span>' if f.get("shows_threshold") else "")
             + "</li>"
             for f in node.get("facts", [])]
    if node.get("grounds"):
        facts.append(f"<li>{e(t['grounds'])}: {e(listed(node.get('grounds_named', node['grounds']), lang))}</li>")
    if facts:
        out += ['<ul class="tree">'] + facts + ["</ul>"]
    for line in (node.get("amount") or {}).get("arithmetic", []):
        out.append(f'<p class="amount">{e(t["amount_word"])}: {e(line)}</p>')
    precedence = node.get("precedence")
    if precedence:
        mark = '<span class="warn">⚠</span> ' if precedence.get("open") else ""
        out.append(f'<p class="art14">{mark}{e(precedence["text"])}</p>')
    out += [_html_derived(child, lang) for child in node.get("children", [])]
    out.append("</details>")
    return "\n".join(out)


def _html_why_not(node: dict, lang: str) -> str:
    e, t = html.escape, _TITLES[lang]
    out = ['<details open class="node">', _summary(node, lang)]
    if "superseded_by" in node:
        by, precedence = node["superseded_by"], node["precedence"]
        out.append(f"<blockquote>“{e(precedence['quote'])}”</blockquote>")
        out.append(f'<p class="art14">{e(node.get("superseded_by_name") or by.get("policy", ""))}: '
                   f'{e(amount_words(by["amount"], lang))}</p>')
    for rule in node.get("rules", []):
        out.append(_html_rule(rule, lang))
    names = node.get("named", {})
    if node.get("missing"):
        out.append(f"<p>{e(t['missing_here'])}: {e(listed([names.get(f, f) for f in node['missing']], lang))}</p>")
    if node.get("next_fact"):
        out.append(f"<p>{e(t['next'])}: <strong>{e(names.get(node['next_fact'], node['next_fact']))}</strong></p>")
    if node.get("alternatives"):
        out.append(f"<p>{e(t['match'] if 'superseded_by' in node else t['alternatives'])}:</p>")
        out.append('<ol class="alternatives">')
        for alternative in node["alternatives"]:
            parts = [f"{e(c['label'])}: {e(c['from_display'])} → <b>{e(c['to_display'])}</b>"
                     + ("" if c["by_enterprise"] else f' <span class="warn">⚠ {e(c["note"])}</span>')
                     for c in alternative["changes"]]
            out.append("<li>" + ("；" if lang == "zh" else "; ").join(parts) + "</li>")
        out.append("</ol>")
    elif "rules" in node:
        out.append(f"<p>{e(t['no_change'])}</p>")
    out.append("</details>")
    return "\n".join(out)


def _paren(text: str, lang: str) -> str:
    return f"（{text}）" if lang == "zh" else f"({text})"


def _html_rule(rule: dict, lang: str) -> str:
    e = html.escape
    return "\n".join([
        '<details open class="rule">',
        f'<summary>{_MARK[rule["status"]]} <span class="cite" title="{e(rule["rule"])}">[{e(rule["citation"])}]</span></summary>',
        f"<blockquote>“{e(rule['quote'])}”</blockquote>",
        '<ul class="tree">', _html_conditions(rule["conditions"], lang), "</ul>", "</details>"])


def _html_conditions(item: dict, lang: str) -> str:
    """One condition as list items: a group opens a nested list, a conclusion not met its rules."""
    e, t = html.escape, _TITLES[lang]
    if "any" in item or "all" in item:
        key = "any" if "any" in item else "all"
        inner = "\n".join(_html_conditions(child, lang) for child in item[key])
        if key == "all":
            return inner
        return f'<li>{_MARK[item["status"]]} {e(t["any"])}:<ul class="tree">\n{inner}\n</ul></li>'
    actual = f' <span class="cite">{e(_paren(t["actual"] + ": " + item["display"], lang))}</span>' if "fact" in item else ""
    because = "\n".join(_html_rule(rule, lang) for rule in item.get("because", []))
    return f"<li>{_MARK[item['status']]} {e(item['condition'])}{actual}{because}</li>"
