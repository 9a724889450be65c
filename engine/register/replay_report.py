"""A replay (:mod:`engine.register.replay`) for people: lines for a terminal, a self-contained page,
and a workbook — in Chinese or English, labels first and ids after them (落户补助（settlement_subsidy）).

Each shows the changes responsible first (a rule, a document, … or the as-of date), each with the
cases it changes, before and after; then every changed case with all its changes. The page has no
script and loads nothing; every text it shows is escaped. The workbook's text cells are kept as
text (:mod:`engine.rendering.spreadsheet`), and it is saved with fixed times: the same report, the
same bytes.
"""

from __future__ import annotations

import html

from engine.loading.values import format_money
from engine.rendering.spreadsheet import save_workbook, xlsx_cell

WORDS = {
    "zh": {"title": "重放已存案件", "new_kb": "新知识库", "old_kb": "原知识库", "as_of": "评估日期",
           "as_recorded": "各案件最近一次记录的评估日期", "replayed": "重放案件", "changed": "结果有变化",
           "unchanged": "结果不变", "skipped": "跳过", "none": "没有案件的结果发生变化。",
           "groups": "按原因分组", "cases": "逐案", "case": "案件", "change": "变化", "before": "之前",
           "after": "之后", "because": "原因", "kb_changes": "知识库的变化", "no_kb_changes": "（未比较两版知识库的规则）",
           "granted": "给予", "denied": "不给予", "undetermined": "待定", None: "无此项",
           "holds": "成立", "not_holds": "不成立", "asks": "下一步询问", "missing": "缺少的事实",
           "superseded_by": "由{policy}支持（{amount}）", "not_superseded": "未被其他政策取代",
           "error": "出错", "evaluates": "可评估", "record": "记录", "unrecorded": "未记录",
           "edited": "记录后企业事实已修改", "unknown_facts": "新知识库不认识的事实（评估时略去）",
           "reasons": {"not_recorded": "没有记录，也未给出原知识库", "erased": "已删除", "no_profile": "没有企业信息"},
           "kinds": {"rule": "规则", "document": "文件", "fact": "事实", "conclusion": "结论", "overlap": "不重复享受",
                     "newer_prevails": "新政策优先"},
           "how": {"added": "新增", "removed": "删除", "changed": "修改"},
           "generic": {"as_of": "评估日期不同", "profile": "记录之后企业事实被修改",
                       "kb": "知识库整体（没有哪条规则或文件的变化能解释）",
                       "kb_other": "与记录时不同的知识库（记录时版本 {version}）", "engine": "policykb 版本不同"},
           "concludes": "推出", "fields": "改动", "colon": "：", "sep": "，", "open": "（", "close": "）", "art14": "第十四条（就高）",
           "field": {"when": "条件", "then": "结论", "amount": "金额", "cites": "引用条款", "also_cites": "另引条款",
                     "defers_to": "让位于", "text_missing": "缺失的文本", "effective_date": "生效日期",
                     "expiry_date": "失效日期", "type": "类型", "unit": "单位", "values": "取值", "fields": "字段",
                     "signed": "可为负", "display_only": "仅显示", "administrative": "行政事实", "kind": "种类",
                     "internal": "内部", "document": "文件", "benefits": "支持事项", "newer": "新政策",
                     "older": "旧政策", "conflicts": "冲突"}},
    "en": {"title": "Replay of saved cases", "new_kb": "New knowledge base", "old_kb": "Old knowledge base",
           "as_of": "As of", "as_recorded": "each case's latest record's date", "replayed": "Cases replayed",
           "changed": "Outcome changes", "unchanged": "Outcome unchanged", "skipped": "Skipped",
           "none": "No case's outcome changes.", "groups": "By the change responsible", "cases": "By case",
           "case": "Case", "change": "Change", "before": "Before", "after": "After", "because": "Because of",
           "kb_changes": "What differs between the knowledge bases",
           "no_kb_changes": "(the rules of the two knowledge bases were not compared)",
           "granted": "granted", "denied": "denied", "undetermined": "undetermined", None: "absent",
           "holds": "holds", "not_holds": "does not hold", "asks": "asks for", "missing": "missing facts",
           "superseded_by": "superseded by {policy} ({amount})", "not_superseded": "not superseded",
           "error": "error", "evaluates": "evaluates", "record": "record", "unrecorded": "not recorded",
           "edited": "facts edited after the record", "unknown_facts": "facts the new knowledge base does not know (left out)",
           "reasons": {"not_recorded": "never recorded, and no old knowledge base given", "erased": "erased",
                       "no_profile": "no profile"},
           "kinds": {"rule": "rule", "document": "document", "fact": "fact", "conclusion": "conclusion",
                     "overlap": "overlap (not stacked)", "newer_prevails": "newer policy prevails"},
           "how": {"added": "added", "removed": "removed", "changed": "changed"},
           "generic": {"as_of": "the as-of date", "profile": "the case's facts were edited after the record",
                       "kb": "the knowledge base as a whole (no rule or document change explains it)",
                       "kb_other": "a knowledge base other than the one recorded (version {version})",
                       "engine": "another version of policykb"},
           "concludes": "concludes", "fields": "changed", "colon": ": ", "sep": ", ", "open": " (", "close": ")", "art14": "Article 14 (the higher applies)",
           "field": {"when": "conditions", "then": "conclusion", "amount": "amount", "cites": "citation",
                     "also_cites": "other citations", "defers_to": "defers to", "text_missing": "missing text",
                     "effective_date": "effective date", "expiry_date": "expiry date", "type": "type", "unit": "unit",
                     "values": "values", "fields": "fields", "signed": "signed", "display_only": "display only",
                     "administrative": "administrative", "kind": "kind", "internal": "internal",
                     "document": "document", "benefits": "benefits", "newer": "newer", "older": "older",
                     "conflicts": "conflicts"}},
}


class _Say:
    """The wording of one report in one language."""

    def __init__(self, report: dict, lang: str):
        self.report, self.lang = report, "zh" if lang == "zh" else "en"
        self.w = WORDS[self.lang]

    def name(self, ident) -> str:
        label = self.report.get("labels", {}).get(ident, {}).get(self.lang)
        if not label:
            return str(ident)
        return f"{label}（{ident}）" if self.lang == "zh" else f"{label} ({ident})"

    def case(self, case_id, name) -> str:
        return f"#{case_id} {name}" if name else f"#{case_id}"

    def amount(self, value) -> str:
        if not value:
            return ""
        if value.get("min") == value.get("max"):
            return " " + format_money(value.get("max"), self.lang)
        low = format_money(value["min"], self.lang) if value.get("min") is not None else "0"
        return f" {low}–{format_money(value.get('max'), self.lang)}"

    def cause(self, key: str, change: dict | None = None) -> str:
        """What is responsible, in words."""
        w = self.w
        kind, _, rest = key.partition(":")
        if change is None or kind not in w["kinds"]:
            text = w["generic"].get(kind, key)
            return text.format(version=rest[:12]) if "{version}" in text else text
        head = f"{w['kinds'][kind]} {self.name(change['id'])}{w['colon']}{w['how'][change['change']]}"
        extra = []
        if change.get("fields"):
            extra.append(f"{w['fields']} {self.sep.join(w['field'].get(f, f) for f in change['fields'])}")
        if kind == "rule":
            extra.append(f"{w['concludes']} {self.sep.join(self.name(c) for c in change['concludes'])}")
        if kind == "document" and change.get("old") and change.get("new"):
            extra += [f"{w['field'].get(d, d)} {change['old'][d] or '—'} → {change['new'][d] or '—'}" for d in change["old"]
                      if change["old"][d] != change["new"][d]]
        if change.get("benefits"):
            extra.append(self.sep.join(self.name(b) for b in change["benefits"]))
        semi = "；" if self.lang == "zh" else "; "
        return head + (f"{w['open']}{semi.join(extra)}{w['close']}" if extra else "")

    def sides(self, item: dict) -> tuple[str, str, str]:
        """A change of a case as (what, before, after)."""
        w, what = self.w, item.get("what")
        if what == "benefit":
            def side(s):
                status = item[f"{s}_status"]
                text = w.get(status, str(status)) + self.amount(item[s])
                asks = item.get(f"{s}_next_fact")
                return text + (f" ({w['asks']} {self.name(asks)})" if status == "undetermined" and asks else "")
            return self.name(item["id"]), side("old"), side("new")
        if what == "conclusion":
            word = {True: w["holds"], False: w["not_holds"]}
            return self.name(item["id"]), word[item["old"]], word[item["new"]]
        if what == "superseded":
            def by(value):
                return (w["superseded_by"].format(policy=value.get("policy"), amount=format_money(value.get("amount"), self.lang))
                        if value else w["not_superseded"])
            return f"{self.name(item['id'])} · {w['art14']}", by(item["old"]), by(item["new"])
        if what == "status":
            return self.name(item["id"]), w.get(item["old"], str(item["old"])), w.get(item["new"], str(item["new"]))
        if "added" in item:   # the missing facts
            return (w["missing"], self.sep.join(self.name(f) for f in item["old"]) or "—",
                    self.sep.join(self.name(f) for f in item["new"]) or "—")
        return w["error"], item.get("old") or w["evaluates"], item.get("new") or w["evaluates"]

    @property
    def sep(self) -> str:
        return self.w["sep"]

    def header(self) -> list[tuple[str, str]]:
        r, w = self.report, self.w
        rows = [(w["new_kb"], f"{r['new_kb']['root']} ({r['new_kb']['version'][:12]})")]
        if r.get("old_kb"):
            rows.append((w["old_kb"], f"{r['old_kb']['root']} ({r['old_kb']['version'][:12]})"))
        rows += [(w["as_of"], r["as_of"] or w["as_recorded"]), (w["replayed"], str(r["replayed"])),
                 (w["changed"], str(len(r["cases"]))), (w["unchanged"], str(len(r["unchanged"]))),
                 (w["skipped"], str(len(r["skipped"])))]
        return rows

    def skipped(self) -> list[str]:
        return [f"{self.case(s['case_id'], s['name'])}{self.w['colon']}{self.w['reasons'].get(s['reason'], s['reason'])}"
                for s in self.report["skipped"]]

    def items(self, entry: dict) -> list[dict]:
        return entry["changes"] + ([entry["missing"]] if entry.get("missing") else [])

    def causes(self) -> dict[str, str]:
        described = {c["key"]: c for c in self.report["kb_changes"]}
        return {g["key"]: self.cause(g["key"], described.get(g["key"])) for g in self.report["groups"]}


def report_text(report: dict, lang: str = "zh") -> str:
    """The replay as lines for a terminal: the changes responsible, each with the cases it
    changes; then each changed case."""
    say = _Say(report, lang)
    w = say.w
    lines = [w["title"]] + [f"{k}{w['colon']}{v}" for k, v in say.header()] + [""]
    if report.get("old_kb"):
        lines.append(w["kb_changes"] + w["colon"].rstrip())
        lines += [f"  {say.cause(c['key'], c)}" for c in report["kb_changes"]] or ["  —"]
        lines.append("")
    if not report["cases"]:
        lines.append(w["none"])
    causes = say.causes()
    if report["cases"]:
        lines.append(w["groups"])
    for group in report["groups"]:
        lines.append(f"* {causes[group['key']]}")
        for case in group["cases"]:
            lines.append(f"    {say.case(case['case_id'], case['name'])}")
            for item in case["changes"]:
                what, old, new = say.sides(item)
                lines.append(f"      {what}{w['colon']}{old}  →  {new}")
    if report["cases"]:
        lines += ["", w["cases"]]
    for entry in report["cases"]:
        note = f" [{w['edited']}]" if entry.get("profile_edited") else ""
        seq = f"{w['record']} {entry['record']}" if entry["record"] is not None else w["unrecorded"]
        lines.append(f"{say.case(entry['case_id'], entry['name'])}{w['open']}{seq}{say.sep}{w['as_of']} "
                     f"{entry['before']['as_of'] or '—'} → {entry['after']['as_of'] or '—'}{w['close']}{note}")
        for item in say.items(entry):
            what, old, new = say.sides(item)
            lines.append(f"  {what}{w['colon']}{old}  →  {new}  [{say.sep.join(causes[k] for k in item['because'])}]")
        if entry.get("unknown_facts"):
            lines.append(f"  {w['unknown_facts']}{w['colon']}{', '.join(entry['unknown_facts'])}")
    if report["skipped"]:
        lines += ["", w["skipped"] + w["colon"].rstrip()] + [f"  {s}" for s in say.skipped()]
    return "\n".join(lines) + "\n"


_STYLE = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       max-width: 66em; margin: 2em auto; padding: 0 1em; color: #1a1a1a; line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.6em; margin: .1em 0 .6em; }
h2 { font-size: 1.12em; margin: 1.1em 0 .35em; border-bottom: 1px solid #999; }
h3 { font-size: 1em; margin: 1.1em 0 .3em; }
table { border-collapse: collapse; width: 100%; margin: .35em 0; }
th, td { border: 1px solid #bbb; padding: .2em .45em; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: #eee; }
table.meta th { width: 11em; background: #f4f4f4; font-weight: normal; }
.because { font-size: .9em; color: #555; }
.empty { font-weight: bold; }
"""


def report_html(report: dict, lang: str = "zh") -> str:
    """The replay as one self-contained page (no script, nothing loaded from elsewhere), every
    text escaped."""
    say = _Say(report, lang)
    w, e = say.w, html.escape
    out = [f'<!DOCTYPE html>\n<html lang="{"zh-CN" if say.lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">',
           f"<title>{e(w['title'])}</title>\n<style>{_STYLE}</style>\n</head>\n<body>", f"<h1>{e(w['title'])}</h1>",
           '<table class="meta">'] + [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in say.header()] + ["</table>"]
    if report.get("old_kb"):
        out += [f"<h2>{e(w['kb_changes'])}</h2>", "<ul>"]
        out += [f"<li>{e(say.cause(c['key'], c))}</li>" for c in report["kb_changes"]] or ["<li>—</li>"]
        out.append("</ul>")
    if not report["cases"]:
        out.append(f'<p class="empty">{e(w["none"])}</p>')
    causes = say.causes()
    head = f"<tr><th>{e(w['case'])}</th><th>{e(w['change'])}</th><th>{e(w['before'])}</th><th>{e(w['after'])}</th></tr>"
    if report["groups"]:
        out.append(f"<h2>{e(w['groups'])}</h2>")
    for n, group in enumerate(report["groups"], 1):
        out += [f'<section id="group-{n}"><h3>{e(causes[group["key"]])}</h3>', "<table>", head]
        for case in group["cases"]:
            for item in case["changes"]:
                what, old, new = say.sides(item)
                out.append(f'<tr><td><a href="#case-{case["case_id"]}">{e(say.case(case["case_id"], case["name"]))}</a>'
                           f"</td><td>{e(what)}</td><td>{e(old)}</td><td>{e(new)}</td></tr>")
        out += ["</table>", "</section>"]
    if report["cases"]:
        out.append(f"<h2>{e(w['cases'])}</h2>")
    for entry in report["cases"]:
        seq = f"{w['record']} {entry['record']}" if entry["record"] is not None else w["unrecorded"]
        note = f"; {w['edited']}" if entry.get("profile_edited") else ""
        out += [f'<section id="case-{entry["case_id"]}"><h3>{e(say.case(entry["case_id"], entry["name"]))}</h3>',
                f"<p>{e(seq)}; {e(w['as_of'])} {e(entry['before']['as_of'] or '—')} → "
                f"{e(entry['after']['as_of'] or '—')}{e(note)}</p>", "<table>",
                f"<tr><th>{e(w['change'])}</th><th>{e(w['before'])}</th><th>{e(w['after'])}</th>"
                f"<th>{e(w['because'])}</th></tr>"]
        for item in say.items(entry):
            what, old, new = say.sides(item)
            out.append(f"<tr><td>{e(what)}</td><td>{e(old)}</td><td>{e(new)}</td>"
                       f'<td class="because">{e(say.sep.join(causes[k] for k in item["because"]))}</td></tr>')
        out.append("</table>")
        if entry.get("unknown_facts"):
            out.append(f"<p>{e(w['unknown_facts'])}{e(w['colon'])}{e(', '.join(entry['unknown_facts']))}</p>")
        out.append("</section>")
    if report["skipped"]:
        out += [f"<h2>{e(w['skipped'])}</h2>", "<ul>"] + [f"<li>{e(s)}</li>" for s in say.skipped()] + ["</ul>"]
    out.append("</body>\n</html>")
    return "\n".join(out) + "\n"


def write_xlsx(report: dict, path, lang: str = "zh") -> None:
    """The replay as a workbook: a sheet of the changes by cause (one row per cause, case and
    change), one by case, and the summary; text kept as text, the same bytes every time."""
    from openpyxl import Workbook
    say = _Say(report, lang)
    w = say.w
    book = Workbook(write_only=True)
    causes = say.causes()

    def sheet(title: str, header: list[str], rows) -> None:
        ws = book.create_sheet(title)
        ws.append([xlsx_cell(ws, h) for h in header])
        for row in rows:
            ws.append([xlsx_cell(ws, v) for v in row])

    sheet(w["title"][:31], ["", ""], say.header() + [(w["skipped"], s) for s in say.skipped()]
          + ([("", w["none"])] if not report["cases"] else []))
    sheet(w["groups"][:31], [w["because"], w["case"], w["case"], w["change"], w["before"], w["after"]],
          [(causes[g["key"]], c["case_id"], c["name"] or "", *say.sides(item))
           for g in report["groups"] for c in g["cases"] for item in c["changes"]])
    sheet(w["cases"][:31], [w["case"], w["case"], w["record"], w["as_of"], w["as_of"], w["change"], w["before"],
                            w["after"], w["because"]],
          [(entry["case_id"], entry["name"] or "", entry["record"], entry["before"]["as_of"] or "",
            entry["after"]["as_of"] or "", *say.sides(item), say.sep.join(causes[k] for k in item["because"]))
           for entry in report["cases"] for item in say.items(entry)])
    if report.get("old_kb"):
        sheet(w["kb_changes"][:31], [w["change"]], [(say.cause(c["key"], c),) for c in report["kb_changes"]])
    save_workbook(book, path)
