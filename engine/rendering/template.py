"""The analyst's spreadsheet: ``policykb template``, and reading its labels back.

:func:`write_template` writes the workbook an analyst fills in, one row per enterprise and one
column per fact of ``kb/facts.yaml``:

- sheet 1 (企业 / Enterprises): a band row naming the document and article each column comes
  from (columns of one document share a colour, articles alternate its two shades), a row of
  labels in the chosen language (each with a comment: the clause, the id, how to fill it in),
  and a row of fact ids, so that the file reads back exactly whichever row survives editing;
  the header and the id and name columns are frozen. Data validation: a drop-down of labels
  for enum facts, 是 / 否 (Yes / No) for yes-no facts — blank is unknown, never "no" —, dates
  as dates, quantities as numbers, and a prompt saying how to write money (a number of yuan
  or text such as ``1.2亿元``), lists (labels separated by ``；``) and records (JSON).
- sheet 2 (说明 / Columns): every column explained: label, id, group, clause, type and unit,
  allowed values, how to write it, meaning.
- sheet 3 (示例 / Examples): the example enterprises of ``kb/examples/`` in the same layout
  (``policykb batch template.xlsx --sheet 示例`` screens them).
- a hidden sheet of the drop-down lists (a validation list written inline is limited to 255
  characters; a range on a sheet is not).

The reading half is used by :mod:`engine.screening.rows` and :mod:`engine.screening.parsing` for every spreadsheet and CSV it reads:
:func:`read_header` finds the header row or rows (labels in zh or en, or ids, or both, after
an optional band row) and refuses a header it does not know with the nearest label or id;
:func:`cell_value` maps a label (zh or en) or an id in a cell to the fact's value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ProfileError, nearest
from engine.model import KnowledgeBase
from engine.loading.profile import _norm, fact_names, value_names
from engine.rendering.spreadsheet import save_workbook, text_cell

#: The columns that name a row rather than hold a fact, as :mod:`engine.screening.parsing` reads them.
ID_COLUMNS = ("id", "row_id")
#: How the id column is headed for people.
ID_LABEL = {"zh": "编号", "en": "ID"}
#: Yes and no as an analyst writes them (blank is unknown).
YES_NO = {"zh": ("是", "否"), "en": ("Yes", "No")}
#: Several labels in one cell of a list fact are separated by one of these.
LIST_SEPARATORS = "；;"
#: A list fact known to hold nothing (blank is unknown): the last item of its drop-down.
NONE_WORD = {"zh": "无", "en": "None"}
_NONE = {"无", "none"}
#: The facts every template starts with, after the id: who the enterprise is and the date.
BASICS = ("name", "application_date")
#: Rows of the data area that get the validation and formats (an analyst may add more rows:
#: they are read all the same, only without drop-downs).
DATA_ROWS = 5000
#: The first data row: a band row, a label row and an id row come first.
FIRST_ROW = 4

#: Two shades per document (the basics get grey), as RGB.
_SHADES = [("DDEBF7", "BDD7EE"), ("E2EFDA", "C6E0B4"), ("FCE4D6", "F8CBAD"), ("FFF2CC", "FFE699"),
           ("EDE1F5", "D9C3EA")]
_BASICS_SHADE = ("EDEDED", "D9D9D9")

_WORDS = {
    "zh": {"sheet": "企业", "columns": "说明", "examples": "示例", "basics": "基本信息",
           "head": ["列", "名称", "编号", "分组", "条款", "类型", "单位", "可填的值", "填写方法", "说明"],
           "types": {"bool": "是否", "enum": "选项", "list": "多选", "money": "金额", "date": "日期",
                     "number": "数量", "string": "文字", "records": "记录（JSON）", "id": "编号"},
           "units": {"CNY": "元", "m2": "平方米"},
           "how": {"bool": "是 / 否；留空 = 未知（不是“否”）",
                   "enum": "从下拉列表选择；留空 = 未知",
                   "list": "可填多项：标签之间用“；”分隔（如 大数据；人工智能）；下拉列表可选一项；一项也没有填“无”；留空 = 未知",
                   "money": "人民币元：数字（如 120000000）或文字（如 1.2亿元、500万元）；留空 = 未知",
                   "date": "日期（如 2021-09-15）；留空 = 未知",
                   "number": "数字，可带小数；留空 = 未知",
                   "string": "文字",
                   "records": ('JSON 列表，每项 {"benefit": 支持事项编号, "policy": 政策名称, "amount": 金额}，'
                               '如 [{"benefit": "listing_grant", "policy": "某区级政策", "amount": "800万元"}]；留空 = 无'),
                   "id": "每家企业一个编号（可不填；结果表以此或企业名称标明每一行）"},
           "id_meaning": "一行的编号", "prompt": "填写方法"},
    "en": {"sheet": "Enterprises", "columns": "Columns", "examples": "Examples", "basics": "Basics",
           "head": ["Column", "Label", "Id", "Group", "Clause", "Type", "Unit", "Allowed values", "How to fill in",
                    "Meaning"],
           "types": {"bool": "yes / no", "enum": "choice", "list": "several choices", "money": "money",
                     "date": "date", "number": "quantity", "string": "text", "records": "records (JSON)",
                     "id": "id"},
           "units": {"CNY": "yuan (CNY)", "m2": "m²"},
           "how": {"bool": "Yes / No; blank = unknown (not \"No\")",
                   "enum": "pick from the drop-down; blank = unknown",
                   "list": "one or more labels separated by \";\" (e.g. Big data; Artificial intelligence); "
                           "the drop-down picks one; \"None\" when there is none; blank = unknown",
                   "money": "yuan: a number (e.g. 120000000) or text (e.g. 1.2亿元, 500万元); blank = unknown",
                   "date": "a date (e.g. 2021-09-15); blank = unknown",
                   "number": "a number, decimals allowed; blank = unknown",
                   "string": "text",
                   "records": ('a JSON list of {"benefit": benefit id, "policy": policy name, "amount": amount}, '
                               'e.g. [{"benefit": "listing_grant", "policy": "a district policy", "amount": 8000000}]; '
                               'blank = none'),
                   "id": "one id per enterprise (optional; the results name each row by it or by the name)"},
           "id_meaning": "the row's id", "prompt": "How to fill in"},
}

MONEY_FORMAT = {"zh": '#,##0"元"', "en": '"CNY "#,##0'}
DATE_FORMAT = "yyyy-mm-dd"


# --------------------------------------------------------------------------- the columns

@dataclass(frozen=True)
class Group:
    """Adjacent columns from one article of one document (or the basics)."""

    key: str
    document: str | None
    title: dict          # lang -> the band's text
    facts: tuple         # fact ids (``id`` for the id column)
    shade: str           # RGB of the band and labels


def _article(local: str) -> str:
    match = re.match(r"\d+", local)
    return match.group(0) if match else local


def groups(kb: KnowledgeBase, documents: list[str] | None = None) -> list[Group]:
    """The template's columns in order, grouped by the document and article they come from:
    the id, the name and the application date first, then each document's facts by article.
    With ``documents``, only the facts those documents' rules use (and the basics)."""
    wanted = set(kb.facts) if not documents else _facts_of(kb, documents)
    chosen = [d for d in kb.documents if not documents or d in documents]
    basics = ("id",) + tuple(f for f in BASICS if f in kb.facts)
    out = [Group("basics", None, {lang: _WORDS[lang]["basics"] for lang in _WORDS}, basics, _BASICS_SHADE[0])]
    by_group: dict[tuple, list[str]] = {}
    for fact in kb.facts.values():
        if fact.id in basics or fact.id not in wanted:
            continue
        document = kb.document_of(fact.source)
        by_group.setdefault((document, _article(kb.local(fact.source))), []).append(fact.id)
    for n, document in enumerate(kb.documents):
        if document not in chosen:
            continue
        shades = _SHADES[n % len(_SHADES)]
        articles = sorted((a for d, a in by_group if d == document), key=lambda a: (not a.isdigit(), int(a) if a.isdigit() else 0, a))
        for m, article in enumerate(articles):
            ref = article if document == kb.home else f"{document}:{article}"
            title = {lang: _band(kb, document, ref, lang) for lang in _WORDS}
            out.append(Group(f"{document}:{article}", document, title, tuple(by_group[(document, article)]),
                             shades[m % 2]))
    return out


def _band(kb: KnowledgeBase, document: str, ref: str, lang: str) -> str:
    text = kb.label(ref, lang)
    if document == kb.home:   # the home document's clauses are cited bare; a band names it
        name = kb.documents[document].label(lang)
        text = f"《{name}》{text}" if lang == "zh" else f"{name}, {text}"
    return text


def _facts_of(kb: KnowledgeBase, documents: list[str]) -> set[str]:
    """The facts the rules, amounts and Article 14 of some documents use, and display-only facts."""
    from engine.model import facts_in_use, subset
    return facts_in_use(subset(kb, documents)) | {f.id for f in kb.facts.values() if f.display_only}


def columns(kb: KnowledgeBase, documents: list[str] | None = None) -> list[str]:
    """The template's column ids in order (``id`` first)."""
    return [fact for group in groups(kb, documents) for fact in group.facts]


def label(kb: KnowledgeBase, column: str, lang: str) -> str:
    """A column's header for people: the fact's label, or 编号 / ID for the id column."""
    if column in ID_COLUMNS:
        return ID_LABEL[lang]
    return kb.facts[column].label(lang)


# --------------------------------------------------------------------------- reading labels back

def header_names(kb: KnowledgeBase) -> dict[str, str]:
    """Every name a column may be headed by — its id, its zh or en label — to its id; a label
    two facts share is left out (their ids still read)."""
    cached = kb.__dict__.get("_header_names")
    if cached is not None:
        return cached
    names: dict[str, str] = {}
    for column in ID_COLUMNS:
        names[_norm(column)] = column
    for lang in ID_LABEL:
        names.setdefault(_norm(ID_LABEL[lang]), "id")
    names.update(fact_names(kb))
    kb.__dict__["_header_names"] = names
    return names


def cell_value(kb: KnowledgeBase, fact_id: str, value):
    """A cell of an enum or list fact with labels read as values: ``信息传输、软件和信息技术服务业``
    or ``ict`` is ``ict``; a list cell ``大数据；人工智能`` is ``["big_data", "ai"]``. Anything
    not a label is left as it is, for the profile reader to refuse with the allowed values."""
    fact = kb.facts[fact_id]
    kind = fact.type
    if kind == "enum" and isinstance(value, str):
        if value in fact.values:   # an id as written: most cells of a machine-written sheet
            return value
        return value_names(kb, fact_id).get(_norm(value), value)
    if kind == "list" and isinstance(value, str):
        if _norm(value) in _NONE:
            return []
        names = value_names(kb, fact_id)
        items = [item.strip() for item in re.split(f"[{LIST_SEPARATORS}]", value) if item.strip()]
        return [names.get(_norm(item), item) for item in items]
    return value


def _known(cells: list[str], names: dict) -> bool:
    filled = [c for c in cells if c]
    return bool(filled) and 2 * sum(_norm(c) in names for c in filled) >= len(filled)


def read_header(rows: list[tuple[int, list[str]]], kb: KnowledgeBase, path) -> tuple[list[str], int]:
    """The column ids of a sheet or CSV file from its first rows, and how many rows the header
    takes (band rows before it included).

    ``rows`` are the first few non-blank rows as (line, cells). The header is the first of the
    first three rows in which at least half of the filled cells name a column (a fact's id, its
    zh or en label, or the id column); rows before it (a template's band row) are skipped. The
    row after it is a second header row when it names columns too (the template's id row).
    Either row may name a column; where both do, they must agree.

    Raises
    ------
    ProfileError
        For a header naming no known column (with the nearest label or id), a column named
        twice, a blank header over a column, or two header rows that disagree.
    """
    names = header_names(kb)
    start = next((i for i, (_, cells) in enumerate(rows[:3]) if _known(cells, names)), 0)
    used = [rows[start]]
    if start + 1 < len(rows) and _known(rows[start + 1][1], names):
        used.append(rows[start + 1])
    width = max(len(cells) for _, cells in used)
    while width and not any(len(cells) >= width and cells[width - 1] for _, cells in used):
        width -= 1
    header, seen = [], {}
    for column in range(width):
        found = None
        for line, cells in used:
            text = cells[column] if column < len(cells) else ""
            if not text:
                continue
            ident = names.get(_norm(text))
            if ident is None:
                if len(used) > 1:
                    continue    # the other header row may name it (a label edited by hand)
                raise _unknown(text, kb, path, line)
            if found is not None and found != ident:
                raise ProfileError(f"column {column + 1}: the header rows disagree: '{found}' and '{text}'",
                                   file=str(path), line=line)
            found = ident
        if found is None:
            texts = [cells[column] for _, cells in used if column < len(cells) and cells[column]]
            if texts:
                raise _unknown(texts[0], kb, path, used[0][0])
            raise ProfileError(f"column {column + 1} has no header; head it with a fact's label or id",
                               file=str(path), line=used[0][0])
        if found in seen:
            raise ProfileError(f"column '{found}' appears twice (columns {seen[found] + 1} and {column + 1})",
                               file=str(path), line=used[0][0])
        seen[found] = column
        header.append(found)
    return header, start + len(used)


def _unknown(text: str, kb: KnowledgeBase, path, line: int) -> ProfileError:
    known = list(kb.facts) + list(ID_COLUMNS) + [f.zh for f in kb.facts.values()] + \
        [f.en for f in kb.facts.values()] + list(ID_LABEL.values())
    return ProfileError(f"column '{text}' is not a fact", file=str(path), line=line,
                        suggestion=nearest(str(text), known))


# --------------------------------------------------------------------------- writing the template

def write_template(kb: KnowledgeBase, path, lang: str = "zh", documents: list[str] | None = None) -> Path:
    """Write the template workbook (see the module docstring) to ``path``; the same knowledge
    base and options give the same bytes."""
    import openpyxl
    path = Path(path)
    words = _WORDS[lang]
    layout = groups(kb, documents)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = words["sheet"]
    lists, ranges = _lists_sheet(book, kb, layout, lang)
    _header(sheet, kb, layout, lang)
    _validate(sheet, kb, layout, lang, ranges)
    _explain(book.create_sheet(words["columns"]), kb, layout, lang)
    examples = book.create_sheet(words["examples"])
    _header(examples, kb, layout, lang)
    _validate(examples, kb, layout, lang, ranges)
    ids = columns(kb, documents)
    for n, (name, profile) in enumerate(_examples(kb)):
        row = example_row(kb, layout, name, profile, lang)
        for column, (fact, value) in enumerate(zip(ids, row), 1):
            cell = text_cell(examples.cell(row=FIRST_ROW + n, column=column), value)
            kind = kb.facts[fact].type if fact in kb.facts else "id"
            if kind in ("date", "money"):
                cell.number_format = DATE_FORMAT if kind == "date" else MONEY_FORMAT[lang]
    book.move_sheet(lists, offset=len(book.sheetnames))
    try:
        save_workbook(book, path)
    except OSError as exc:
        raise ProfileError(f"cannot write the template: {exc.strerror}", file=str(path)) from None
    return path


def _fill(rgb: str):
    from openpyxl.styles import PatternFill
    return PatternFill("solid", start_color=rgb, end_color=rgb)


def _header(sheet, kb: KnowledgeBase, layout: list[Group], lang: str) -> None:
    """The band row, the label row (with comments) and the id row; frozen; column widths."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter
    edge = Side(style="thin", color="808080")
    column = 1
    for group in layout:
        first = column
        for fact in group.facts:
            letter = get_column_letter(column)
            band = sheet.cell(row=1, column=column)
            band.fill = _fill(group.shade)
            head = text_cell(sheet.cell(row=2, column=column), label(kb, fact, lang))
            head.font = Font(bold=True)
            head.fill = _fill(group.shade)
            head.alignment = Alignment(wrap_text=True, vertical="top")
            head.border = Border(bottom=edge)
            comment = Comment(_comment(kb, fact, lang), "policykb")
            comment.width, comment.height = 320, 160
            head.comment = comment
            ident = sheet.cell(row=3, column=column, value=fact)
            ident.font = Font(color="808080", size=9)
            ident.fill = _fill(group.shade)
            sheet.column_dimensions[letter].width = _width(kb, fact, lang)
            column += 1
        band = text_cell(sheet.cell(row=1, column=first), group.title[lang])
        band.font = Font(bold=True)
        band.alignment = Alignment(horizontal="left")
        if column - 1 > first:
            sheet.merge_cells(start_row=1, start_column=first, end_row=1, end_column=column - 1)
    sheet.row_dimensions[2].height = 45
    sheet.freeze_panes = sheet.cell(row=FIRST_ROW, column=3)   # the header rows, the id and the name


def _width(kb: KnowledgeBase, fact: str, lang: str) -> float:
    if fact in ID_COLUMNS:
        return 12
    if fact == "name":
        return 30
    kind = kb.facts[fact].type
    return {"date": 13, "money": 16, "records": 40, "list": 24, "enum": 22}.get(kind, 14)


def _comment(kb: KnowledgeBase, fact: str, lang: str) -> str:
    words = _WORDS[lang]
    if fact in ID_COLUMNS:
        return f"id\n{words['how']['id']}"
    spec = kb.facts[fact]
    lines = [f"{kb.label(spec.source, lang)} · {fact}", words["how"][spec.type]]
    if spec.values:
        lines.append(("；" if lang == "zh" else "; ").join(v[lang] for v in spec.values.values()))
    return "\n".join(lines)


def _lists_sheet(book, kb: KnowledgeBase, layout: list[Group], lang: str):
    """The hidden sheet of drop-down lists: one column per enum or list fact, and yes / no."""
    sheet = book.create_sheet("lists")
    sheet.sheet_state = "hidden"
    ranges = {}
    column = 1
    from openpyxl.utils import get_column_letter
    for kind_id, items in [("bool", list(YES_NO[lang]))] + [
            (fact, [v[lang] for v in kb.facts[fact].values.values()]
             + ([NONE_WORD[lang]] if kb.facts[fact].type == "list" else []))
            for group in layout for fact in group.facts
            if fact not in ID_COLUMNS and kb.facts[fact].type in ("enum", "list")]:
        sheet.cell(row=1, column=column, value=kind_id)
        for n, item in enumerate(items, 2):
            text_cell(sheet.cell(row=n, column=column), item)
        letter = get_column_letter(column)
        ranges[kind_id] = f"lists!${letter}$2:${letter}${len(items) + 1}"
        column += 1
    return sheet, ranges


def _validate(sheet, kb: KnowledgeBase, layout: list[Group], lang: str, ranges: dict) -> None:
    """Drop-downs, date and number checks, prompts, and cell formats over the data rows."""
    import datetime as _dt
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation
    words = _WORDS[lang]
    last = FIRST_ROW + DATA_ROWS - 1
    column = 0
    for fact in (f for group in layout for f in group.facts):
        column += 1
        letter = get_column_letter(column)
        area = f"{letter}{FIRST_ROW}:{letter}{last}"
        kind = "id" if fact in ID_COLUMNS else kb.facts[fact].type
        how = words["how"][kind]
        title = label(kb, fact, lang)[:32]
        if kind == "bool":
            check = DataValidation(type="list", formula1=ranges["bool"], allow_blank=True)
        elif kind == "enum":
            check = DataValidation(type="list", formula1=ranges[fact], allow_blank=True)
        elif kind == "list":   # the drop-down picks one; several are typed with ；
            check = DataValidation(type="list", formula1=ranges[fact], allow_blank=True, showErrorMessage=False)
        elif kind == "date":
            check = DataValidation(type="date", operator="greaterThan", formula1=str(_excel_day(_dt.date(1900, 1, 1))),
                                   allow_blank=True)
            check.error = how
        elif kind == "number":
            check = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
            check.error = how
        else:
            check = DataValidation(allow_blank=True)   # any value: a prompt only
        check.promptTitle, check.prompt = title, how[:255]
        check.showInputMessage = True
        if kind in ("bool", "enum"):
            check.errorTitle = title
            check.error = (words["how"][kind] if kind == "bool" else how)[:255]
        check.add(area)
        sheet.add_data_validation(check)
        if kind in ("date", "money"):
            sheet.column_dimensions[letter].number_format = DATE_FORMAT if kind == "date" else MONEY_FORMAT[lang]
        if kind == "records":
            sheet.column_dimensions[letter].alignment = Alignment(wrap_text=False)


def _excel_day(day) -> int:
    import datetime as _dt
    return (day - _dt.date(1899, 12, 30)).days


def _explain(sheet, kb: KnowledgeBase, layout: list[Group], lang: str) -> None:
    """The sheet that explains every column."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    words = _WORDS[lang]
    for column, text in enumerate(words["head"], 1):
        text_cell(sheet.cell(row=1, column=column), text).font = Font(bold=True)
    row = 2
    column = 0
    for group in layout:
        for fact in group.facts:
            column += 1
            if fact in ID_COLUMNS:
                values = ["id", ID_LABEL[lang], "id", group.title[lang], "", words["types"]["id"], "", "",
                          words["how"]["id"], words["id_meaning"]]
            else:
                spec = kb.facts[fact]
                allowed = ""
                if spec.type == "bool":
                    allowed = " / ".join(YES_NO[lang])
                elif spec.values:
                    allowed = ("；" if lang == "zh" else "; ").join(f"{v[lang]} ({k})" for k, v in spec.values.items())
                elif spec.type == "records":
                    allowed = ", ".join(f"{k}: {v}" for k, v in spec.fields.items())
                values = [None, spec.label(lang), fact, group.title[lang], kb.label(spec.source, lang),
                          words["types"][spec.type], words["units"].get(spec.unit or "", ""), allowed,
                          words["how"][spec.type], spec.describe(lang)]
            values[0] = get_column_letter(column)
            for n, value in enumerate(values, 1):
                cell = text_cell(sheet.cell(row=row, column=n), value)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                cell.fill = _fill(group.shade)
            row += 1
    for letter, width in zip("ABCDEFGHIJ", (6, 28, 28, 24, 24, 10, 10, 44, 44, 44)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "C2"


def _examples(kb: KnowledgeBase) -> list[tuple[str, dict]]:
    """The example profiles of the knowledge base, by file name, read and checked."""
    from engine.loading.profile import read_profile
    folder = Path(kb.root) / "examples"
    files = sorted(p for p in folder.glob("*") if p.suffix in (".yaml", ".yml", ".json")) if folder.is_dir() else []
    return [(p.stem, read_profile(p, kb)) for p in files]


def example_row(kb: KnowledgeBase, layout: list[Group], ident: str, profile: dict, lang: str) -> list:
    """A profile (read and checked) as a row of the template: labels for choices, 是 / 否 for
    yes-no facts, dates as dates, money as integer yuan, blank for unknown."""
    row = []
    for fact in (f for group in layout for f in group.facts):
        row.append(ident if fact in ID_COLUMNS else cell_of(kb, fact, profile.get(fact), lang))
    return row


def cell_of(kb: KnowledgeBase, fact: str, value, lang: str):
    """A fact's value (as the profile reader returns it) as an analyst's cell."""
    from fractions import Fraction
    if value is None:
        return None
    spec = kb.facts[fact]
    if spec.type == "bool":
        return YES_NO[lang][0 if value else 1]
    if spec.type == "enum":
        return spec.values[value][lang]
    if spec.type == "list":
        if not value:
            return NONE_WORD[lang]
        return ("；" if lang == "zh" else "; ").join(spec.values[v][lang] for v in value)
    if spec.type == "records":
        return json.dumps([dict(r) for r in value], ensure_ascii=False)
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value
