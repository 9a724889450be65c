"""A report an analyst can hand on: one enterprise's facts, every benefit, and why or why not.

:func:`report_html` is a page to print and pass to a colleague:

- **the first page** (one A4 page) says what was decided: the enterprise, the date of the
  case, the date the report was prepared and who prepared it (each a blank line to fill in by
  hand where not given), every document of the knowledge base and whether it applies on the
  case's date, what is granted and how much (with Article 14's comparison), what is still open
  and why (the fact to ask next, an overlap whose winner waits on an amount), what another
  policy supersedes and what is denied; the knowledge base's version in a small footer;
- **then the detail**: every benefit with its status, amount and a note (Article 14, the first
  condition that denies it, the fact to ask next), the conclusions, the missing facts grouped by
  the benefit they could decide, the enterprise's facts with the article each comes from, and
  for each benefit the derivation (why) or the reasons and the changes that would grant it (why
  not) as trees of nested ``<details open>`` quoting each clause. A step derived in full once is
  not derived again: a later tree names it and links to it.

Labels are what a reader reads; ids (of facts, conclusions, benefits, values) are kept in small
print after them, for whoever checks the knowledge base. The page is self-contained — inline
style, no script, no link to anything outside — escapes every string it shows, and is the same
for the same case (no date is taken from the clock). :func:`report_markdown` renders the same
content as Markdown.
"""

from __future__ import annotations

import html

from engine.inferring.evaluation import Assessment
from engine.explaining.explanation import render_text, tree
import datetime as _dt
import re

from engine.loading.values import format_date, format_money
from engine.explaining.why_not import first_failure, missing_by_target
from engine.explaining.wording import (OPEN_DECISIONS, amount_words, article14_decision, article14_decisions, article14_text,
                                       display, document_dates, documents_text, listed, named, nothing_to_ask,
                                       period_words, range_text)

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
    """The report's title and the lines the Markdown report opens with: the date of the case and
    every document with whether it applies (the knowledge base's version closes it)."""
    kb, result = assessment.kb, assessment.result
    t = _TITLES[lang]
    title = f"{t['report']}: {result['enterprise'] or ''}".rstrip(": ")
    meta = [(t["as_of"], format_date(assessment.facts.get("application_date"), lang)),
            (t["documents"], documents_text(kb, result, lang))]
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
    out += ["---", "", f"{t['kb']}: `{result['kb_version']}`"]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_STYLE = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       max-width: 60em; margin: 2em auto; padding: 0 1em; color: #1a1a1a; line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.6em; margin: .1em 0 .6em; }
h2 { font-size: 1.12em; margin: 1.1em 0 .35em; border-bottom: 1px solid #999; }
h3 { font-size: 1em; margin: 1.1em 0 .3em; }
.kicker { font-size: 1em; color: #555; margin: 0; letter-spacing: .05em; }
table { border-collapse: collapse; width: 100%; margin: .35em 0; table-layout: auto; }
th, td { border: 1px solid #bbb; padding: .2em .45em; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: #eee; }
table.meta th { width: 9em; background: #f4f4f4; font-weight: normal; }
table.meta td { font-weight: bold; }
.blank { display: inline-block; min-width: 12em; border-bottom: 1px solid #333; height: 1.1em; vertical-align: bottom; }
.sign { color: #555; font-weight: normal; margin-left: .4em; }
ul.decided { margin: .2em 0; padding-left: 1.2em; } ul.decided li { margin: .12em 0; }
.benefits td:nth-child(3), .facts td:nth-child(3), .documents td:nth-child(2) { white-space: nowrap; }
.documents td:nth-child(3) { min-width: 5.5em; }
div.node.top > p.cite { margin: .1em 0; }
.granted, .applies { color: #0a6b2d; font-weight: bold; } .denied, .not-applies { color: #8a1c1c; }
.undetermined { color: #8a5a00; } .superseded { color: #4a4a8a; } .open { color: #8a5a00; font-weight: bold; }
.note { font-size: .9em; }
.id, code { font-family: inherit; font-size: .72em; color: #777; font-weight: normal; }
.cite { color: #555; font-size: .85em; } .amount { font-weight: bold; }
.art14 { background: #fff7e0; padding: .15em .4em; margin: .2em 0; }
.warn { color: #8a1c1c; }
details { margin: .15em 0 .15em .2em; padding-left: .8em; border-left: 2px solid #ddd; }
details > summary { cursor: pointer; margin-left: -.8em; }
blockquote { margin: .15em 0 .25em; padding: .15em .6em; border-left: 3px solid #b8a; background: #faf7fa; font-size: .9em; }
ul.tree, ol.alternatives { margin: .15em 0; padding-left: 1.2em; }
p.again { margin: .15em 0 .15em .2em; padding-left: .8em; border-left: 2px solid #ddd; }
p.again a { color: inherit; }
ul.inline { padding-left: 1.2em; margin: .2em 0; columns: 2; column-gap: 2em; }
footer.kb { margin-top: 1.2em; padding-top: .3em; border-top: 1px solid #ccc; font-size: .8em; color: #666; }
@page { size: A4; margin: 14mm 14mm 16mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 9.5pt; line-height: 1.4; }
  section.cover { break-after: page; font-size: 9pt; line-height: 1.32; }   /* room for more documents */
  h2, h3 { break-after: avoid; }
  tr, blockquote, summary { break-inside: avoid; }
  .details h3 { margin: .8em 0 .2em; }
  blockquote { margin: .1em 0 .15em; padding: .1em .5em; }
  ul.tree li, ol.alternatives li { margin: 0; }
  a { color: inherit; text-decoration: none; }
}
"""

#: What the report's first page adds to the titles above, by language.
_COVER = {
    "zh": {"enterprise": "企业", "case_date": "案例日期（评估所依日期）", "prepared": "编制日期", "preparer": "编制人",
           "sign": "（签名）", "date_blank": "年　　月　　日", "documents": "适用文件", "period": "施行期间", "here": "本案例",
           "applies": "适用", "not_applies": "不适用", "unknown": "日期未知，无法判断", "no_end": "（现有文本未载终止日期）",
           "granted": "给予（{n} 项）", "open": "待定（{n} 项）及原因", "superseded": "由其他政策支持（{n} 项）",
           "denied": "不给予（{n} 项）", "denied_line": "{names}。各项不满足的条件见第 2 页起。",
           "ask": "还缺 {n} 项事实；下一步应询问：{fact}", "ask_one": "缺少事实；下一步应询问：{fact}",
           "overlap": "金额孰高待定", "overlap_below": "与其他政策的金额孰高待定，见下文“待定”", "none": "（无）", "detail": "详细说明",
           "footer": "由 policykb 按知识库版本 {kb} 生成；理由与引文见第 2 页起。",
           "unnamed": "（未命名企业）", "out_of_force": "《{t}》在案例日期不在有效期内（{d}），不给予该文件的任何支持。"},
    "en": {"enterprise": "Enterprise", "case_date": "Date of the case", "prepared": "Prepared on", "preparer": "Prepared by",
           "sign": "(signature)", "date_blank": "", "documents": "Documents", "period": "In force", "here": "This case",
           "applies": "applies", "not_applies": "does not apply", "unknown": "date unknown: cannot tell",
           "no_end": " (no end date in the available text)",
           "granted": "Granted ({n})", "open": "Open ({n}), and why", "superseded": "Superseded by another policy ({n})",
           "denied": "Denied ({n})", "denied_line": "{names}. The condition each fails is on page 2 onwards.",
           "ask": "{n} facts missing; ask next: {fact}", "ask_one": "facts missing; ask next: {fact}",
           "overlap": "which amount is higher is open",
           "overlap_below": "which is higher, this or another policy's amount, is open: see Open below", "none": "(none)", "detail": "The detail",
           "footer": "Made by policykb with knowledge base version {kb}; the reasons and the text quoted are on page 2 onwards.",
           "unnamed": "(unnamed enterprise)", "out_of_force": "On the date of the case the {t} are not in force ({d}): nothing is granted under them."},
}


def report_html(assessment: Assessment, lang: str = "zh", preparer: str | None = None,
                prepared: "_dt.date | str | None" = None) -> str:
    """The report as one self-contained HTML page (no script, no external resource): a first
    page of what was decided, then the detail (see the module docstring).

    Parameters
    ----------
    preparer : str, optional
        Who prepared the report, printed on the first page; a blank line to sign where None.
    prepared : date or str, optional
        The day the report was prepared; a blank line to fill in where None (the report never
        reads the clock: the same case gives the same page).
    """
    kb, result = assessment.kb, assessment.result
    t = _TITLES[lang]
    e = html.escape
    title, _ = _header(assessment, lang)
    out = [f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">',
           f"<title>{e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>"]
    out += _cover(assessment, lang, preparer, prepared)
    out += ['<section class="details" id="details">', f"<h2>{e(t['benefits'])}</h2>", '<table class="benefits">',
            f"<tr><th>{e(t['benefit'])}</th><th>{e(t['clause'])}</th><th>{e(t['status'])}</th>"
            f"<th>{e(t['amount'])}</th><th>{e(t['note'])}</th></tr>"]
    for bid, label, clause, word, css, amount, note in _rows(assessment, lang):
        out.append(f'<tr id="row-{e(bid)}"><td><a href="#{e(bid)}">{e(label)}</a> {_id(bid)}</td>'
                   f'<td>{e(clause)}</td><td class="{css}">{e(word)}</td><td>{_ids(amount)}</td>'
                   f'<td class="note">{_ids(note)}</td></tr>')
    out += ["</table>", f"<h2>{e(t['conclusions'])}</h2>", '<ul class="inline">']
    out += [f"<li>{e(kb.conclusions[c].label(lang))} {_id(c)} <span class=\"cite\">[{e(kb.label(kb.conclusions[c].article, lang))}]</span></li>"
            for c in result["conclusions"]] or [f"<li>{e(t['none'])}</li>"]
    out += ["</ul>", f"<h2>{e(t['missing'])}</h2>", "<ul>"]
    out += [f"<li><strong>{_ids(target)}</strong>: {_ids(facts)}</li>" for target, facts in _missing(assessment, lang)] \
        or [f"<li>{e(t['none'])}</li>"]
    out += ["</ul>", f"<h2>{e(t['facts'])}</h2>", '<table class="facts">',
            f"<tr><th>{e(t['fact'])}</th><th>{e(t['value'])}</th><th>{e(t['source'])}</th></tr>"]
    out += [f"<tr><td>{e(label)} {_id(name)}</td><td>{_ids(value)}</td><td>{e(source)}</td></tr>"
            for label, name, value, source in _facts(assessment, lang)]
    out += ["</table>", f"<h2>{e(t['details'])}</h2>"]
    seen: dict[str, str] = {}   # a step derived in full: its id → the anchor of that derivation
    for bid, label, _, word, css, *_ in _rows(assessment, lang):
        out += [f'<section id="{e(bid)}"><h3>{e(label)} {_id(bid)} — <span class="{css}">{e(word)}</span></h3>',
                _html_node(tree(assessment, bid, lang), lang, seen), "</section>"]
    out += ["</section>", "</body>\n</html>"]
    return "\n".join(out) + "\n"


def _cover(assessment: Assessment, lang: str, preparer: str | None, prepared) -> list[str]:
    """The first page: who and when, the documents, and what was decided (see the module
    docstring), in words only: the ids are in the detail that follows."""
    kb, result = assessment.kb, assessment.result
    t, c, e = _TITLES[lang], _COVER[lang], html.escape
    name = result["enterprise"] or c["unnamed"]
    if isinstance(prepared, _dt.date):
        prepared = format_date(prepared, lang)
    blank = '<span class="blank"></span>'
    out = ['<section class="cover" id="summary">', f'<p class="kicker">{e(t["report"])}</p>', f"<h1>{e(name)}</h1>",
           '<table class="meta">',
           f"<tr><th>{e(c['case_date'])}</th><td>{e(format_date(assessment.facts.get('application_date'), lang))}</td></tr>",
           f"<tr><th>{e(c['prepared'])}</th><td>{e(prepared) if prepared else blank + e(c['date_blank'])}</td></tr>",
           f"<tr><th>{e(c['preparer'])}</th><td>{e(preparer) if preparer else blank}"
           f"<span class=\"sign\">{e(c['sign'])}</span></td></tr>", "</table>"]
    # Every document of the knowledge base, and whether it applies on the case's date.
    out += [f"<h2>{e(c['documents'])}</h2>", '<table class="documents">',
            f"<tr><th>{e(t['documents'])}</th><th>{e(c['period'])}</th><th>{e(c['here'])}</th></tr>"]
    for entry in result["documents"]:
        document = kb.documents[entry["id"]]
        number = document.data.get("doc_number") or ""
        full = document.title if lang == "zh" else document.title_en
        short = f"《{document.label(lang)}》" if lang == "zh" else document.label(lang)
        state = {True: ("applies", c["applies"]), False: ("not-applies", c["not_applies"] + _why_not_in_force(
                     document, assessment.facts.get("application_date"), lang)),
                 None: ("undetermined", c["unknown"])}[entry["in_force"]]
        out.append(f"<tr><td><strong>{e(short)}</strong> {e(' '.join(filter(None, (number, full))))}</td>"
                   f"<td>{e(document_dates(document, lang))}</td><td class=\"{state[0]}\">{e(state[1])}"
                   + (e(c["no_end"]) if entry["in_force"] and document.expiry_date is None else "") + "</td></tr>")
    out.append("</table>")
    if result["status"].get("policy_in_force") == "denied":
        home = kb.documents[kb.home]
        out.append(f"<p class=\"denied\">{e(c['out_of_force'].format(t=home.label(lang), d=document_dates(home, lang)))}</p>")
    granted = result["benefits"]
    colon = "：" if lang == "zh" else ": "
    open_items: list[str] = []
    out += [f"<h2>{e(c['granted'].format(n=len(granted)))}</h2>", '<ul class="decided">']
    for benefit in granted:
        bid = benefit["id"]
        notes = []
        for offer, decision in article14_decisions(benefit):
            text = article14_text(kb, offer, benefit["amount"], decision, lang)
            if decision in OPEN_DECISIONS:
                open_items.append(f"<li><strong>{e(kb.conclusions[bid].label(lang))}</strong>{colon}"
                                  f"{e(c['overlap'])} — {_words(text)}</li>")
                notes.append('<span class="warn">⚠</span> ' + e(c["overlap_below"]))
            else:
                notes.append(_words(text))
        out.append(f"<li><strong>{e(kb.conclusions[bid].label(lang))}</strong>"
                   f"{colon}<span class=\"amount\">{_words(amount_text(kb, benefit, lang))}</span>"
                   f" <span class=\"cite\">[{e(kb.label(kb.conclusions[bid].article, lang))}]</span>"
                   + "".join(f'<br><span class="note">{n}</span>' for n in notes) + "</li>")
    if not granted:
        out.append(f"<li>{e(c['none'])}</li>")
    out.append("</ul>")
    missing = dict(missing_by_target(assessment))
    for bid, fact in result["next_fact"].items():
        count = len(missing.get(bid, []))
        label = kb.facts[fact].label(lang) if fact else ""
        reason = (c["ask"].format(n=count, fact=label) if count > 1 else c["ask_one"].format(fact=label)) \
            if fact else nothing_to_ask(lang)
        open_items.append(f"<li><strong>{e(kb.conclusions[bid].label(lang))}</strong>"
                          f"{colon}{_words(reason)}</li>")
    out += [f"<h2>{e(c['open'].format(n=len(open_items)))}</h2>", '<ul class="decided">']
    out += open_items or [f"<li>{e(c['none'])}</li>"]
    out.append("</ul>")
    if result["superseded"]:
        out += [f"<h2>{e(c['superseded'].format(n=len(result['superseded'])))}</h2>", '<ul class="decided">']
        out += [f"<li><strong>{e(kb.conclusions[item['id']].label(lang))}</strong>"
                f"{colon}{_words(article14_text(kb, item['by'], item['amount'], 'superseded', lang))}</li>"
                for item in result["superseded"]]
        out.append("</ul>")
    superseded = {item["id"] for item in result["superseded"]}
    denied = [b for b in kb.benefits if result["status"][b] == "denied" and b not in superseded]
    out.append(f"<h2>{e(c['denied'].format(n=len(denied)))}</h2>")
    out.append("<p>" + (e(c["denied_line"].format(names=listed([kb.conclusions[b].label(lang) for b in denied], lang)))
                        if denied else e(c["none"])) + "</p>")
    out += [f'<footer class="kb">{e(c["footer"].format(kb=result["kb_version"]))}</footer>', "</section>"]
    return out


def _why_not_in_force(document, day, lang: str) -> str:
    """Why a document does not apply on the case's date: not yet, or no longer, in force."""
    zh = lang == "zh"
    if day is not None and document.effective_date is not None and day < _as_date(document.effective_date):
        return "（案例日期早于施行日期）" if zh else " (the case is dated before it takes effect)"
    if day is not None and document.expiry_date is not None and day > _as_date(document.expiry_date):
        return "（案例日期晚于终止日期）" if zh else " (the case is dated after it ends)"
    return ""


def _as_date(value) -> _dt.date:
    return value if isinstance(value, _dt.date) else _dt.date.fromisoformat(str(value))


_ID = re.compile(r" \(([a-z0-9][a-z0-9_.]*)\)")


def _id(ident: str) -> str:
    """An id in small print, after the label it belongs to."""
    return f'<span class="id">{html.escape(ident).replace("_", "_<wbr>")}</span>'


def _words(text: str) -> str:
    """Escaped, without the ids of the wording's ``label (id)``: the first page reads in words."""
    return html.escape(_ID.sub("", text))


def _ids(text: str) -> str:
    """Escaped, each ``label (id)`` of the wording with its id in small print, and a
    line-break opportunity after each underscore: a table cell can wrap a long id
    (industrial_base_recognized) instead of pushing the table off the page."""
    return _ID.sub(lambda m: " " + _id(html.unescape(m.group(1))), html.escape(text))


# --------------------------------------------------------------------------- HTML trees

_MARK = {"met": "✓", "not met": "✗", "unknown": "?"}
_NODE_MARK = {"granted": "✓", "denied": "✗", "undetermined": "?", "superseded": "→"}
_AGAIN = {"zh": "推导见上文", "en": "derived above"}


def _html_node(node: dict, lang: str, seen: dict | None = None) -> str:
    """An explanation or why-not tree (engine.explaining.explanation / engine.explaining.why_not)
    as nested details. ``seen`` holds the steps already derived in full in this report: each is
    shown again as one line linking to its derivation."""
    seen = {} if seen is None else seen
    if node.get("holds") or node.get("status") == "superseded":
        return _html_derived(node, lang, seen, top=True)
    return _html_why_not(node, lang, seen)


def _summary(node: dict, lang: str, cite: str = "", rule: str = "") -> str:
    return f'<summary>{_head(node, lang, cite, rule)}</summary>'


def _head(node: dict, lang: str, cite: str = "", rule: str = "") -> str:
    e, t = html.escape, _TITLES[lang]
    status = node["status"]
    if node.get("kind") == "benefit" and status in ("granted", "denied", "undetermined", "superseded"):
        word = t[status]
    else:
        word = t["holds"] if status == "granted" else (t["undetermined"] if status == "undetermined" else t["not_holds"])
    where = f' <span class="cite" title="{e(rule)}">[{e(cite)}]</span>' if cite else ""
    return (f'{_NODE_MARK.get(status, "")} <strong>{e(node["label"])}</strong> {_id(node["id"])}'
            f' — <span class="{e(status)}">{e(word)}</span>{where}')


def _html_derived(node: dict, lang: str, seen: dict, top: bool = False) -> str:
    e, t = html.escape, _TITLES[lang]
    key = node["id"]
    if not top and key in seen:
        return (f'<p class="again">{_head(node, lang, node.get("citation", ""), node.get("rule", ""))} · '
                f'<a href="#{seen[key]}">{e(_AGAIN[lang])}</a></p>')
    anchor = f"d-{key}"
    if top:   # the section's heading names it: its grounds follow, not a line saying so again
        cite = node.get("citation", "")
        where = f'<p class="cite" title="{e(node.get("rule", ""))}">[{e(cite)}]</p>' if cite else ""
        out = ['<div class="node top">', where]
    else:
        seen[key] = anchor
        out = [f'<details open class="node" id="{e(anchor)}">',
               _summary(node, lang, node.get("citation", ""), node.get("rule", ""))]
    out.append(f"<blockquote>“{e(node['quote'])}”</blockquote>")
    facts = [f"<li>{e(f['label'])} = <b>{_ids(f['display'])}</b>"
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
    out += [_html_derived(child, lang, seen) for child in node.get("children", [])]
    out.append("</div>" if top else "</details>")
    return "\n".join(out)


def _html_why_not(node: dict, lang: str, seen: dict) -> str:
    """A tree of why not, under its section's heading."""
    e, t = html.escape, _TITLES[lang]
    out = ['<div class="node top">']
    if "superseded_by" in node:
        by, precedence = node["superseded_by"], node["precedence"]
        out.append(f"<blockquote>“{e(precedence['quote'])}”</blockquote>")
        out.append(f'<p class="art14">{e(node.get("superseded_by_name") or by.get("policy", ""))}: '
                   f'{e(amount_words(by["amount"], lang))}</p>')
    for rule in node.get("rules", []):
        out.append(_html_rule(rule, lang, seen))
    names = node.get("named", {})
    if node.get("missing"):
        out.append(f"<p>{e(t['missing_here'])}: {_ids(listed([names.get(f, f) for f in node['missing']], lang))}</p>")
    if node.get("next_fact"):
        out.append(f"<p>{e(t['next'])}: <strong>{_ids(names.get(node['next_fact'], node['next_fact']))}</strong></p>")
    if node.get("alternatives"):
        out.append(f"<p>{e(t['match'] if 'superseded_by' in node else t['alternatives'])}:</p>")
        out.append('<ol class="alternatives">')
        for alternative in node["alternatives"]:
            parts = [f"{e(c['label'])}: {_ids(c['from_display'])} → <b>{_ids(c['to_display'])}</b>"
                     + ("" if c["by_enterprise"] else f' <span class="warn">⚠ {e(c["note"])}</span>')
                     for c in alternative["changes"]]
            out.append("<li>" + ("；" if lang == "zh" else "; ").join(parts) + "</li>")
        out.append("</ol>")
    elif "rules" in node:
        out.append(f"<p>{e(t['no_change'])}</p>")
    out.append("</div>")
    return "\n".join(out)


def _paren(text: str, lang: str) -> str:
    return f"（{text}）" if lang == "zh" else f"({text})"


def _html_rule(rule: dict, lang: str, seen: dict) -> str:
    e = html.escape
    return "\n".join([
        '<details open class="rule">',
        f'<summary>{_MARK[rule["status"]]} <span class="cite" title="{e(rule["rule"])}">[{e(rule["citation"])}]</span></summary>',
        f"<blockquote>“{e(rule['quote'])}”</blockquote>",
        '<ul class="tree">', _html_conditions(rule["conditions"], lang, seen), "</ul>", "</details>"])


def _html_conditions(item: dict, lang: str, seen: dict) -> str:
    """One condition as list items: a group opens a nested list, a conclusion not met its rules
    (once in the report: where it comes again, a link to where its rules are shown)."""
    e, t = html.escape, _TITLES[lang]
    if "any" in item or "all" in item:
        key = "any" if "any" in item else "all"
        inner = "\n".join(_html_conditions(child, lang, seen) for child in item[key])
        if key == "all":
            return inner
        return f'<li>{_MARK[item["status"]]} {e(t["any"])}:<ul class="tree">\n{inner}\n</ul></li>'
    actual = f' <span class="cite">{_ids(_paren(t["actual"] + ": " + item["display"], lang))}</span>' if "fact" in item else ""
    because = item.get("because", [])
    conclusion = item.get("conclusion")
    key = f"n-{conclusion}-{item['status']}" if conclusion else None
    if because and key in seen:
        return (f"<li>{_MARK[item['status']]} {_ids(item['condition'])}{actual} · "
                f'<a href="#{seen[key]}">{e(_AGAIN[lang])}</a></li>')
    anchor = ""
    if because and key:
        seen[key] = key
        anchor = f' id="{e(key)}"'
    rules = "\n".join(_html_rule(rule, lang, seen) for rule in because)
    return f"<li{anchor}>{_MARK[item['status']]} {_ids(item['condition'])}{actual}{rules}</li>"
