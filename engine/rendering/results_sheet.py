"""The results workbook an analyst reads: ``policykb batch … --out results.xlsx``.

Sheet 1 (结果 / Results), one row per input row, in input order:

- the row number and the input columns first, as given (headed by the fact's label, its id in
  the row below), then whether the row was evaluated and its problems, and with ``--reports``
  a link to the enterprise's HTML report;
- then, grouped by document (the document's short name over its group), per benefit: its
  status in words, the minimum and maximum amount as money, and a note in the chosen
  language — the amount as the text fixes it for a granted benefit, the next question for an
  undetermined one, the first failed condition for a denied one, Article 14's comparison for
  a superseded one;
- statuses coloured by conditional formatting; the header rows and the id columns frozen; a
  filter on the header.

Sheet 2 (汇总 / Summary): per benefit, how many enterprises get it, how many are undetermined,
denied or superseded, the sum of the ceilings the text fixes (a benefit whose amount the text
does not fix is counted apart, never summed as 0元), and a bar chart.

Sheet 3 (data): the machine columns of the CSV output (:func:`engine.screening.result_rows.columns`).

The book is written row by row (openpyxl's write-only mode), so memory does not grow with
the input; every text cell goes through :mod:`engine.rendering.spreadsheet`, so none runs as a formula,
and the file is saved with fixed timestamps, so the same input gives the same bytes.

The cells of a benefit are computed where the row is evaluated (:func:`benefit_cells`); this
module's :class:`ResultsBook` only lays them out.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

from engine.model import KnowledgeBase
from engine.rendering.spreadsheet import FIXED_TIME, risky, save_workbook
from engine.rendering.template import DATE_FORMAT, ID_COLUMNS, MONEY_FORMAT, NONE_WORD, YES_NO, label as column_label
from engine.explaining.wording import named, nothing_to_ask

FIRST_ROW = 4
#: More input columns than this (besides the id and the name) are collapsed into an outline group.
COLLAPSE_ABOVE = 6

WORDS = {
    "zh": {"results": "结果", "summary": "汇总", "input": "输入（原样）", "evaluation": "评估", "row": "行",
           "result": "结果", "problems": "问题", "report": "报告", "open": "打开报告",
           "ok": "已评估", "error": "有误", "incomplete": "未完成",
           "sub": ("结论", "最低金额", "最高金额", "说明（金额 / 下一步应询问 / 未获原因）"),
           "status": {"granted": "给予", "denied": "不给予", "undetermined": "待定", "superseded": "由其他政策支持"},
           "next": "下一步应询问：",
           "summary_head": ("文件", "支持事项", "条款", "给予（家）", "待定（家）", "不给予（家）", "由其他政策支持（家）",
                            "固定上限合计", "金额未定（家）", "说明"),
           "rows": "{rows:,} 行：{ok:,} 行已评估，{errors:,} 行有误",
           "none_fixed": "文本未规定金额，不合计",
           "some_unfixed": "另有 {n:,} 家金额未定，未计入合计",
           "nobody": "—",
           "not_stacked": "与{other}不重复享受（第十四条）：两行都计入的企业只得其一",
           "chart": "各支持事项的企业数", "chart_y": "企业数"},
    "en": {"results": "Results", "summary": "Summary", "input": "Input (as given)", "evaluation": "Evaluation",
           "row": "Row", "result": "Evaluated", "problems": "Problems", "report": "Report", "open": "open report",
           "ok": "ok", "error": "error", "incomplete": "incomplete",
           "sub": ("Status", "Min amount", "Max amount", "Note (amount / ask next / why not)"),
           "status": {"granted": "granted", "denied": "denied", "undetermined": "undetermined",
                      "superseded": "superseded"},
           "next": "ask next: ",
           "summary_head": ("Document", "Benefit", "Clause", "Granted", "Undetermined", "Denied", "Superseded",
                            "Sum of fixed ceilings", "Amount not fixed", "Note"),
           "rows": "{rows:,} rows: {ok:,} evaluated, {errors:,} with errors",
           "none_fixed": "the text fixes no amount: not summed",
           "some_unfixed": "{n:,} more with no fixed amount, not in the sum",
           "nobody": "—",
           "not_stacked": "Not stacked with {other} (Art. 14): an enterprise counted in both rows gets one",
           "chart": "Enterprises per benefit", "chart_y": "enterprises"},
}

#: Status colours: fill and font, RGB.
COLOURS = {"granted": ("C6EFCE", "006100"), "denied": ("F2F2F2", "7F7F7F"),
           "undetermined": ("FFEB9C", "9C5700"), "superseded": ("DDEBF7", "1F4E78")}
_BAND = ("D9D9D9", "BDD7EE", "E2EFDA", "FCE4D6", "FFF2CC", "EDE1F5")


def benefit_cells(assessment, lang: str) -> list:
    """Per benefit of the knowledge base, in order: status, min, max and note, as the results
    sheet shows them (see the module docstring)."""
    from engine.rendering.report import amount_text
    from engine.explaining.why_not import first_failure
    from engine.explaining.wording import OPEN_DECISIONS, article14_decision, article14_decisions, article14_text
    kb, result = assessment.kb, assessment.result
    words = WORDS[lang]
    granted = {b["id"]: b for b in result["benefits"]}
    superseded = {s["id"]: s for s in result["superseded"]}
    cells = []
    for bid in kb.benefits:
        status = result["status"][bid]
        low = high = None
        if bid in granted:
            entry = granted[bid]
            amount = entry["amount"]
            if amount:
                low, high = amount["min"], amount["max"]
            # The amount, then every Article 14 decision, as eval prints them (⚠ where it is open).
            note = "\n".join([amount_text(kb, entry, lang)] + [
                ("⚠ " if decision in OPEN_DECISIONS else "") + article14_text(kb, offer, entry["amount"], decision, lang)
                for offer, decision in article14_decisions(entry)])
        elif bid in superseded:
            status = "superseded"
            entry = superseded[bid]
            decided = article14_decision(entry)
            note = article14_text(kb, decided[0], entry["amount"], decided[1], lang) if decided else ""
        elif status == "undetermined":
            fact = result["next_fact"].get(bid)
            note = words["next"] + named(kb, fact, lang) if fact else nothing_to_ask(lang)
        else:
            note = first_failure(assessment, bid, lang) or ""
        cells += [words["status"][status], low, high, note]
    return cells


def given_cell(kb: KnowledgeBase, column: str, value, lang: str):
    """An input cell as given, readable in a sheet: dates as dates, yes/no in words, lists and
    records as text (JSON Lines input gives them as data)."""
    import json
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, bool):
        return YES_NO[lang][0 if value else 1]
    if isinstance(value, (list, tuple)):
        if column in kb.facts and kb.facts[column].type == "records":
            return json.dumps(value, ensure_ascii=False, default=str)
        return ";".join(map(str, value)) if value else NONE_WORD[lang]
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class ResultsBook:
    """Writes the analyst's results workbook row by row (see the module docstring)."""

    def __init__(self, path: Path, kb: KnowledgeBase, inputs: list[str], lang: str, machine: list[str],
                 reports: Path | None, title: str):
        import openpyxl
        self.path, self.kb, self.inputs, self.lang = path, kb, list(inputs), lang
        self.words = WORDS[lang]
        self.reports = reports
        self.title = title
        self.book = openpyxl.Workbook(write_only=True)
        self.sheet = self.book.create_sheet(self.words["results"])
        self.summary_sheet = self.book.create_sheet(self.words["summary"])
        self.data = self.book.create_sheet("data")
        self.rows = 0
        self._styles()
        self._layout()
        self.data.append([self._text(self.data, c) for c in machine])

    # ------------------------------------------------------------------ layout

    def _styles(self) -> None:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
        self.Font, self.Fill, self.Alignment = Font, PatternFill, Alignment
        self.bold = Font(bold=True)
        self.grey = Font(color="808080", size=9)
        self.link = Font(color="0563C1", underline="single")
        self.edge = Border(bottom=Side(style="thin", color="808080"))

    def _fill(self, rgb: str):
        return self.Fill("solid", start_color=rgb, end_color=rgb)

    def _layout(self) -> None:
        from openpyxl.utils import get_column_letter
        kb, words, lang = self.kb, self.words, self.lang
        # (band text, shade, [(label, id-row text, width, kind)])
        bands = [(words["input"], _BAND[0],
                  [(words["row"], "row", 6, "row")]
                  + [(column_label(kb, c, lang), c, _width(kb, c), "input") for c in self.inputs])]
        evaluation = [(words["result"], "result", 9, "result"), (words["problems"], "message", 24, "message")]
        if self.reports is not None:
            evaluation.append((words["report"], "report", 12, "report"))
        bands.append((words["evaluation"], _BAND[0], evaluation))
        self.benefit_start = sum(len(b[2]) for b in bands) + 1
        for n, document in enumerate(kb.documents):
            benefits = [b for b in kb.benefits if kb.conclusions[b].document == document]
            if not benefits:
                continue
            shade = _BAND[1 + n % (len(_BAND) - 1)]
            cols = []
            for bid in benefits:
                head = f"{named(kb, bid, lang)} {kb.label(kb.conclusions[bid].article, lang)}"
                cols += [(head, words["sub"][0], 12, "status"), (head, words["sub"][1], 14, "money"),
                         (head, words["sub"][2], 14, "money"), (head, words["sub"][3], 46, "note")]
            name = kb.documents[document].label(lang)
            bands.append((f"《{name}》" if lang == "zh" else name, shade, cols))
        self.kinds = [kind for _, _, cols in bands for *_, kind in cols]
        band_row, label_row, id_row = [], [], []
        column = 1
        for text, shade, cols in bands:
            fill = self._fill(shade)
            self.sheet.merged_cells.add(f"{get_column_letter(column)}1:{get_column_letter(column + len(cols) - 1)}1")
            for n, (head, sub, width, kind) in enumerate(cols):
                letter = get_column_letter(column)
                self.sheet.column_dimensions[letter].width = width
                band_row.append(self._cell(self.sheet, text if n == 0 else None, font=self.bold, fill=fill))
                benefit = kind in ("status", "money", "note")
                if benefit and head == (cols[n - 1][0] if n else None):
                    label_row.append(self._cell(self.sheet, None, fill=fill))
                else:
                    if benefit:   # a benefit's label spans its four columns
                        self.sheet.merged_cells.add(f"{letter}2:{get_column_letter(column + 3)}2")
                    label_row.append(self._cell(self.sheet, head, font=self.bold, fill=fill))
                id_row.append(self._cell(self.sheet, sub, font=self.bold if benefit else self.grey, fill=fill,
                                         border=self.edge))
                column += 1
        self.width = column - 1
        # Frozen: the header rows, and the row number, id and name when they lead the input.
        lead = 1
        for column in self.inputs:
            if column in ID_COLUMNS or column == "name":
                lead += 1
            else:
                break
        self.sheet.freeze_panes = f"{get_column_letter(lead + 1)}{FIRST_ROW}"
        # Many input columns push the results off screen: beyond the id and the name they are
        # grouped and collapsed (the + above the columns opens them).
        rest = len(self.inputs) + 1 - lead
        if rest > COLLAPSE_ABOVE:
            self.sheet.column_dimensions.group(get_column_letter(lead + 1), get_column_letter(lead + rest),
                                               outline_level=1, hidden=True)
        self.sheet.print_title_rows = f"1:{FIRST_ROW - 1}"
        self.sheet.print_title_cols = f"A:{get_column_letter(lead)}"
        self.sheet.page_setup.orientation = "landscape"
        self.sheet.page_setup.paperSize = "9"   # A4
        # Written last: a write-only sheet writes its columns and panes with its first row.
        for row in (band_row, label_row, id_row):
            self.sheet.append(row)

    # ------------------------------------------------------------------ cells

    def _text(self, sheet, value):
        if not risky(value):
            return value
        return self._cell(sheet, value)

    def _cell(self, sheet, value, font=None, fill=None, border=None, number_format=None, alignment=None):
        from openpyxl.cell import WriteOnlyCell
        cell = WriteOnlyCell(sheet, value=value)
        if risky(value):
            cell.data_type = "s"   # text, never a formula (engine.rendering.spreadsheet)
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if border is not None:
            cell.border = border
        if number_format is not None:
            cell.number_format = number_format
        if alignment is not None:
            cell.alignment = alignment
        return cell

    def _value(self, value, kind: str):
        if isinstance(value, _dt.date):
            return self._cell(self.sheet, value, number_format=DATE_FORMAT)
        if kind == "money" and isinstance(value, int):
            return self._cell(self.sheet, value, number_format=MONEY_FORMAT[self.lang])
        return self._text(self.sheet, value)

    def write(self, item: dict, report: str | None = None) -> None:
        """One row: ``item`` as prepared by :func:`engine.screening.chunks.evaluate_rows`; ``report`` the
        path of its HTML report, relative to the workbook."""
        self.rows += 1
        words, kb = self.words, self.kb
        given = item.get("given") or {}
        values = [item["row"]]
        for column in self.inputs:
            value = given_cell(kb, column, given.get(column), self.lang)
            if column in kb.facts and kb.facts[column].type == "money" and isinstance(value, int):
                values.append(self._value(value, "money"))
            else:
                values.append(self._value(value, "input"))
        values += [self._text(self.sheet, words["ok"] if item["result"] == "ok" else words["error"]),
                   self._text(self.sheet, item["message"])]
        if self.reports is not None:
            if report:
                cell = self._cell(self.sheet, words["open"], font=self.link)
                cell.hyperlink = report
                values.append(cell)
            else:
                values.append(None)
        cells = item.get("sheet") or []
        for n, value in enumerate(cells):
            values.append(self._value(value, self.kinds[self.benefit_start - 1 + n]))
        self.sheet.append(values)
        self.data.append([self._text(self.data, v) for v in item["line"]])

    def incomplete(self, note: str) -> None:
        self.sheet.append([None] * (len(self.inputs) + 1) + [self._text(self.sheet, self.words["incomplete"]),
                                                             self._text(self.sheet, note)])
        self.data.append([None, None, "incomplete", self._text(self.data, note)])

    # ------------------------------------------------------------------ the end

    def save(self, partial: Path, summary) -> None:
        self._finish_results()
        self._write_summary(summary)
        save_workbook(self.book, partial)

    def _finish_results(self) -> None:
        from openpyxl.formatting.rule import CellIsRule
        from openpyxl.utils import get_column_letter
        last = FIRST_ROW + max(self.rows, 1) - 1
        self.sheet.auto_filter.ref = f"A3:{get_column_letter(self.width)}{last}"
        status_columns = [get_column_letter(n + 1) for n, kind in enumerate(self.kinds) if kind == "status"]
        if not status_columns:
            return
        area = " ".join(f"{c}{FIRST_ROW}:{c}{last}" for c in status_columns)
        for status, (fill, font) in COLOURS.items():
            word = self.words["status"][status].replace('"', '""')
            self.sheet.conditional_formatting.add(area, CellIsRule(
                operator="equal", formula=[f'"{word}"'], fill=self._fill(fill),
                font=self.Font(color=font, bold=status == "granted")))

    def _write_summary(self, summary) -> None:
        from openpyxl.chart import BarChart, Reference
        kb, words, lang, sheet = self.kb, self.words, self.lang, self.summary_sheet
        sheet.column_dimensions["A"].width = 22
        sheet.column_dimensions["B"].width = 40
        sheet.column_dimensions["C"].width = 36
        for letter in "DEFG":
            sheet.column_dimensions[letter].width = 12
        sheet.column_dimensions["H"].width = 18
        sheet.column_dimensions["I"].width = 14
        sheet.column_dimensions["J"].width = 36
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = "9"   # A4
        sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.append([self._cell(sheet, self.title, font=self.Font(bold=True, size=13))])
        sheet.append([self._text(sheet, words["rows"].format(rows=summary.rows, ok=summary.rows - summary.errors,
                                                             errors=summary.errors))])
        sheet.append([])
        sheet.append([self._cell(sheet, h, font=self.bold, border=self.edge) for h in words["summary_head"]])
        first = 5
        for bid, tally in summary.ordered(kb):
            conclusion = kb.conclusions[bid]
            fixed = tally["granted"] - tally["unfixed"]
            if fixed:
                total = self._cell(sheet, tally["ceiling_sum"], number_format=MONEY_FORMAT[lang])
                note = words["some_unfixed"].format(n=tally["unfixed"]) if tally["unfixed"] else None
            else:
                total = words["nobody"]
                note = words["none_fixed"] if tally["unfixed"] else None
            others = [other for pair in kb.overlaps for other in pair.benefits if bid in pair.benefits and other != bid]
            if others:   # the same enterprise may be counted in both rows; it gets only one
                stacked = words["not_stacked"].format(other=("、" if lang == "zh" else ", ").join(
                    named(kb, o, lang) for o in others))
                note = f"{note}\n{stacked}" if note else stacked
            sheet.append([self._text(sheet, kb.documents[conclusion.document].label(lang)),
                          self._text(sheet, named(kb, bid, lang)), self._text(sheet, kb.label(conclusion.article, lang)),
                          tally["granted"], tally.get("undetermined", 0), tally.get("denied", 0),
                          tally.get("superseded", 0), total, tally["unfixed"], self._text(sheet, note)])
        last = first + len(kb.benefits) - 1
        chart = BarChart()
        chart.type = "bar"
        chart.style = 10
        chart.title = words["chart"]
        chart.y_axis.title = words["chart_y"]
        chart.height = 4 + 0.8 * len(kb.benefits)
        chart.width = 18
        data = Reference(sheet, min_col=4, max_col=5, min_row=first - 1, max_row=last)
        categories = Reference(sheet, min_col=2, min_row=first, max_row=last)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(categories)
        top = max([t["granted"] for _, t in summary.ordered(kb)] + [t.get("undetermined", 0)
                                                                   for _, t in summary.ordered(kb)] + [1])
        chart.y_axis.majorUnit = max(1, -(-top // 10))   # whole enterprises
        chart.y_axis.number_format = "0"
        chart.y_axis.scaling.min = 0
        chart.legend.position = "b"
        chart.x_axis.scaling.orientation = "maxMin"   # the first benefit on top, as in the table
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        sheet.add_chart(chart, f"A{last + 3}")


def _width(kb: KnowledgeBase, column: str) -> float:
    if column in ID_COLUMNS:
        return 20   # a unified social credit code has 18 characters
    if column == "name":
        return 30
    kind = kb.facts[column].type if column in kb.facts else "string"
    return {"date": 12, "money": 15, "records": 30, "list": 18, "enum": 16}.get(kind, 12)


def report_name(row: int, ident: str | None) -> str:
    """The file name of a row's report: its row number and its id or name, kept to letters,
    digits, ``-`` and ``_`` (any script), so that it is a safe name on every system."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in (ident or ""))[:40].strip("_")
    return f"{row:05d}-{safe}.html" if safe else f"{row:05d}.html"


def relative_link(target: Path, sheet: Path) -> str:
    """``target`` as a link relative to the folder of the workbook ``sheet``, with ``/``."""
    return Path(os.path.relpath(Path(target).resolve(), Path(sheet).resolve().parent)).as_posix()


__all__ = ["ResultsBook", "benefit_cells", "given_cell", "report_name", "relative_link", "FIXED_TIME"]
