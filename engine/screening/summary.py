"""The summary of a batch: enterprises per benefit, undetermined, and the sum of the ceilings the
text fixes — tallied per chunk where rows are evaluated, merged by the writer, and shown as
terminal lines or a page with a bar chart, in Chinese or English."""

from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass, field

from engine.loading.values import format_money
from engine.model import KnowledgeBase


@dataclass
class Summary:
    rows: int = 0
    errors: int = 0
    # id -> {"granted", "ceiling_sum", "unfixed", "undetermined", "denied", "superseded"}
    benefits: dict = field(default_factory=dict)

    def add(self, kb: KnowledgeBase, result: dict | None) -> None:
        """Count one row: its evaluation's result (see :func:`engine.inferring.evaluation.screen`), or
        None for a row that could not be evaluated."""
        self.rows += 1
        if result is None:
            self.errors += 1
            return
        superseded = {s["id"] for s in result["superseded"]}
        status, tallies = result["status"], self.benefits
        for benefit in kb.benefits:
            word = status[benefit]
            if word != "granted":   # a superseded benefit is denied here, and counted apart
                tally = tallies.get(benefit) or self._tally(benefit)
                tally["superseded" if benefit in superseded else word] += 1
        for granted in result["benefits"]:
            tally = self._tally(granted["id"])
            tally["granted"] += 1
            if granted["amount"] and granted["amount"]["max"] is not None:
                tally["ceiling_sum"] += granted["amount"]["max"]
            else:
                tally["unfixed"] += 1

    def merge(self, other: "Summary") -> None:
        """Add the rows another summary counted (a chunk's, tallied where it was evaluated)."""
        self.rows += other.rows
        self.errors += other.errors
        for benefit, counts in other.benefits.items():
            tally = self._tally(benefit)
            for key, value in counts.items():
                tally[key] += value

    def _tally(self, benefit: str) -> dict:
        found = self.benefits.get(benefit)
        if found is None:
            found = self.benefits[benefit] = _tally()
        return found

    def ordered(self, kb: KnowledgeBase) -> list[tuple[str, dict]]:
        return [(b, self.benefits.get(b, _tally())) for b in kb.benefits]

    def text(self, kb: KnowledgeBase, lang: str = "zh") -> str:
        """The summary as lines for a terminal, in ``lang``: each benefit by its label, id after."""
        words = SUMMARY_WORDS[lang]
        names = {b: f"{kb.conclusions[b].label(lang)} ({b})" for b in kb.benefits}
        head = words["columns"]
        width = max([_width(n) for n in names.values()] + [_width(head[0])])   # a document may grant none
        widths = [max(_width(h), w) for h, w in zip(head[1:], (11, 12, 20, 17))]
        lines = [self.counts(lang), " ".join([_pad(head[0], width)] + [_rpad(h, w) for h, w in zip(head[1:], widths)])]
        for benefit, tally in self.ordered(kb):
            cells = [f"{tally['granted']:,}", f"{tally['undetermined']:,}", ceiling_text(tally, lang), f"{tally['unfixed']:,}"]
            lines.append(" ".join([_pad(names[benefit], width)] + [_rpad(c, w) for c, w in zip(cells, widths)]))
        return "\n".join(lines) + "\n"

    def counts(self, lang: str = "zh") -> str:
        """Rows read, evaluated and in error, in a sentence in ``lang``."""
        return SUMMARY_WORDS[lang]["counts"].format(rows=self.rows, ok=self.rows - self.errors, errors=self.errors)

    def html(self, kb: KnowledgeBase, title: str, lang: str = "zh") -> str:
        """The summary as a self-contained page with a bar chart, in ``lang``."""
        e = html.escape
        words = SUMMARY_WORDS[lang]
        rows = self.ordered(kb)
        top = max([t["granted"] for _, t in rows] + [1])
        bars = []
        for n, (benefit, tally) in enumerate(rows):
            width = round(480 * tally["granted"] / top)
            y = 10 + n * 28
            # Labels end left of the bars, whose start leaves room for the longest label.
            bars.append(f'<text x="440" y="{y + 15}" text-anchor="end">{e(kb.conclusions[benefit].label(lang))} '
                        f'({e(benefit)})</text>'
                        f'<rect x="450" y="{y}" width="{width}" height="20" fill="#4a8c5a"/>'
                        f'<text x="{456 + width}" y="{y + 15}">{tally["granted"]:,}</text>')
        table = "".join(f"<tr><td>{e(kb.conclusions[b].label(lang))} <code>{b}</code></td><td>{t['granted']:,}</td>"
                        f"<td>{t['undetermined']:,}</td><td>{e(ceiling_text(t, lang))}</td><td>{t['unfixed']:,}</td></tr>"
                        for b, t in rows)
        head = "".join(f"<th>{e(h)}</th>" for h in words["columns"])
        return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
                f'<title>{e(title)}</title><style>'
                'body{font-family:"Noto Sans CJK SC",sans-serif;max-width:64rem;margin:2rem auto}'
                'table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2rem .5rem;text-align:right}'
                'td:first-child,th:first-child{text-align:left}svg text{font-size:13px}</style></head><body>'
                f"<h1>{e(title)}</h1><p>{e(self.counts(lang))}</p>"
                f'<svg width="1040" height="{20 + 28 * len(rows)}" xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>'
                f"<table><tr>{head}</tr>{table}</table></body></html>\n")


#: The summary's words, by language.
SUMMARY_WORDS = {
    "zh": {"counts": "共 {rows:,} 行，已评估 {ok:,} 行，错误 {errors:,} 行",
           "columns": ("支持事项", "给予企业数", "待定", "上限合计", "金额未定"),
           "title": "policykb 批量筛查"},
    "en": {"counts": "{rows:,} rows, {ok:,} evaluated, {errors:,} errors",
           "columns": ("benefit", "enterprises", "undetermined", "sum of ceilings", "amount not fixed"),
           "title": "policykb batch"},
}


def ceiling_text(tally: dict, lang: str) -> str:
    """The sum of a benefit's fixed ceilings as money, or "—" when no granted amount is fixed:
    an amount the text does not fix is never summed as 0元."""
    if tally["granted"] - tally["unfixed"] == 0:
        return "—"
    return format_money(tally["ceiling_sum"], lang)


def _tally() -> dict:
    return {"granted": 0, "ceiling_sum": 0, "unfixed": 0, "undetermined": 0, "denied": 0, "superseded": 0}


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _rpad(text: str, width: int) -> str:
    return " " * (width - _width(text)) + text
