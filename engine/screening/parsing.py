"""Rows made profiles where they are evaluated: CSV records decoded and split, JSON lines parsed,
spreadsheet cells read as their facts' values (each text cell once per column and process), and
every problem of a row that does not read gathered into its message."""

from __future__ import annotations

import csv
import datetime as _dt
import json

from engine.errors import ProfileError, nearest
from engine.loading.profile import convert, parse_profile
from engine.loading.unicode_text import find_lone_surrogate, lone_surrogate, path_text, surrogate_problem
from engine.loading.unicode_text import shown as printable
from engine.loading.values import ValueProblem, shown
from engine.loading.yamlio import long_number
from engine.model import KnowledgeBase
from engine.rendering.template import ID_COLUMNS, cell_value
from engine.screening.rows import Row


def _cell(kb: KnowledgeBase, name: str, value):
    """A spreadsheet cell of fact ``name`` as the profile reader takes it: text stripped (blank
    is unknown, None), a choice by its id or its label (zh or en), lists as ``a;b`` or
    ``标签；标签``, records as JSON, Excel dates as dates."""
    if value.__class__ is str:
        value = value.strip()
        if not value:
            return None
        kind = kb.facts[name].type
        if kind in ("enum", "list"):
            return cell_value(kb, name, value)   # a label not found is refused by problems()
        if kind == "records":
            try:
                data = json.loads(value, parse_int=long_number)
            except json.JSONDecodeError as exc:
                raise ProfileError(f"{name}: not valid JSON ({exc.msg})", fact=name,
                                   zh=f"{kb.facts[name].zh}（{name}）：不是有效的 JSON（{exc.msg}）") from None
            except (ValueError, RecursionError) as exc:
                raise ProfileError(f"{name}: not usable JSON ({exc})", fact=name,
                                   zh=f"{kb.facts[name].zh}（{name}）：JSON 无法使用（{exc}）") from None
            found = find_lone_surrogate(data)   # JSON's "\ud800": text that is no text
            if found is not None:
                message, zh = surrogate_problem(path_text((name,) + found[0]), found[1])
                raise ProfileError(message, fact=name, zh=zh)
            return data
        return value
    if isinstance(value, _dt.datetime):
        return value.date()
    return value


def _choice(kb: KnowledgeBase, name: str, value):
    """A choice read from a cell, or an error naming the nearest label and every allowed one."""
    fact = kb.facts[name]
    for item in value if isinstance(value, list) else [value]:
        if item not in fact.values:
            labels = [words[lang] for words in fact.values.values() for lang in ("zh", "en")]
            raise ProfileError(f"{name}: '{shown(item)}' is not one of its values",
                               suggestion=nearest(item, labels + list(fact.values)),
                               allowed=[f"{words['zh']} / {words['en']} ({v})" for v, words in fact.values.items()],
                               zh=f"{fact.zh}（{name}）：'{shown(item)}' 不是可选的值", fact=name)
    return value


#: Text cells of a column remembered once read, per column: enough for the few values most
#: columns repeat, bounded so that a column of unique text does not grow memory.
CELLS_REMEMBERED = 1024
_UNREADABLE = object()


def _checked_profile(kb: KnowledgeBase, number: int, header: tuple, cells: list) -> Row | None:
    """A row of cells under its column ids as a checked profile, each text cell read once per
    process and column and remembered (most columns of a batch repeat a few values: yes/no, a
    choice, a date, a round amount), so that a row costs look-ups rather than parsing. None
    when a cell cannot be read: :func:`_with_problems` then gives the row every problem it has."""
    by_header = kb.__dict__.setdefault("_cells_by_header", {})
    columns = by_header.get(header)
    if columns is None:   # per header: each column's cells read so far, None for an id column
        by_column = kb.__dict__.setdefault("_cells_read", {})
        columns = by_header[header] = tuple(None if name in ID_COLUMNS else by_column.setdefault(name, {})
                                            for name in header)
    facts = {}
    for name, column, value in zip(header, columns, cells):
        # Only text is remembered: as dict keys 1, 1.0 and True are one.
        if value.__class__ is str:
            if not value or column is None:
                continue
            fact = column.get(value, _UNREADABLE)
            if fact is _UNREADABLE:
                fact = _read_cell(kb, name, value)
                if fact is _UNREADABLE:
                    return None
                if len(column) < CELLS_REMEMBERED:
                    column[value] = fact
        elif value is None or column is None:
            continue
        else:
            fact = _read_cell(kb, name, value)
            if fact is _UNREADABLE:
                return None
        if fact is not None:
            facts[name] = fact
    given = dict(zip(header, cells))
    return Row(number, _ident(given) or facts.get("name"), facts, given=given, checked=True)


def _read_cell(kb: KnowledgeBase, name: str, value):
    """A cell as its fact's value (as :func:`engine.loading.profile.parse_profile` reads it), None when
    blank, or ``_UNREADABLE``."""
    fact = kb.facts.get(name)
    if fact is None:
        return _UNREADABLE
    try:
        cell = _cell(kb, name, value)
        return None if cell is None else convert(fact, cell, kb)
    except (ProfileError, ValueProblem):
        return _UNREADABLE


def _ident(values: dict) -> str | None:
    return next((str(values[c]).strip() for c in ID_COLUMNS if values.get(c) not in (None, "")), None)


def _profile(kb: KnowledgeBase, number: int, values: dict) -> Row:
    """A row of spreadsheet cells as a profile; every cell that cannot be read is in its error."""
    return _checked_profile(kb, number, tuple(values), list(values.values())) or _with_problems(kb, number, values)


def _with_problems(kb: KnowledgeBase, number: int, values: dict) -> Row:
    """A row whose cells did not all read: each cell as the profile reader takes it, and every
    cell that cannot be read in the row's error."""
    ident = _ident(values)
    data, problems, problems_zh = {}, [], []
    for name, value in values.items():
        # Most cells of a wide sheet are blank: skipped before any other work (this loop runs
        # for every cell of every row).
        if value is None or value == "" or name in ID_COLUMNS:
            continue
        try:
            converted = _cell(kb, name, value)
        except ProfileError as exc:
            problems.append(str(exc))
            problems_zh.append(exc.text("zh"))
            continue
        if converted is not None:
            data[name] = converted
    # A name cell may hold a spreadsheet date or number: the row is named by its text, as
    # the checked reader names it.
    name = data.get("name")
    return Row(number, ident or (None if name is None else str(name)), data, "; ".join(problems) or None,
               error_zh="；".join(problems_zh) or None, given=values)


def parse_row(kb: KnowledgeBase, row: Row) -> Row:
    """A row as read from the file (raw bytes or spreadsheet cells) made a profile, or an error."""
    if row.cells is not None:
        return _profile(kb, row.number, row.cells)
    if row.raw is None:
        return row
    if row.layout.kind == "csv":
        return _csv_row(kb, row)
    return _jsonl_row(row)


def _csv_row(kb: KnowledgeBase, row: Row) -> Row:
    layout = row.layout
    try:
        text = row.raw.decode(layout.encoding)
    except UnicodeDecodeError:
        return Row(row.number, error=f"line {row.line}: not {layout.label} text; save the file as UTF-8 "
                                     "or pass --encoding",
                   error_zh=f"第{row.line}行：不是 {layout.label} 文本；请把文件另存为 UTF-8，或指定 --encoding")
    if lone_surrogate(text) is not None:   # an --encoding that makes text that is no text
        message, zh = surrogate_problem(f"line {row.line}", printable(text[lone_surrogate(text):].rstrip("\r\n")))
        return Row(row.number, error=message, error_zh=zh.replace(f"line {row.line}", f"第{row.line}行"))
    try:
        # A record that spans lines is read as a file would be, with its newlines inside quotes.
        cells = next(csv.reader([text]), [])
    except csv.Error as exc:
        return Row(row.number, error=f"line {row.line}: cannot read the row: {exc}",
                   error_zh=f"第{row.line}行：无法读取这一行（{exc}）")
    width = len(layout.header)
    if len(cells) < width or any(c.strip() for c in cells[width:]):
        return Row(row.number, error=f"line {row.line}: {len(cells)} cells for {width} columns",
                   error_zh=f"第{row.line}行：有 {len(cells)} 个单元格，表头有 {width} 列",
                   given=dict(zip(layout.header, cells)))
    cells = cells[:width]
    return _checked_profile(kb, row.number, layout.header, cells) or \
        _with_problems(kb, row.number, dict(zip(layout.header, cells)))


def _jsonl_row(row: Row) -> Row:
    line = row.line
    try:
        data = json.loads(row.raw.decode("utf-8"), parse_int=long_number)
    except UnicodeDecodeError:
        return Row(row.number, error=f"line {line}: not UTF-8 text", error_zh=f"第{line}行：不是 UTF-8 文本")
    except json.JSONDecodeError as exc:
        return Row(row.number, error=f"line {line}: not JSON ({exc.msg} at column {exc.colno})",
                   error_zh=f"第{line}行：不是 JSON（第{exc.colno}列：{exc.msg}）")
    except (ValueError, RecursionError) as exc:
        return Row(row.number, error=f"line {line}: not usable JSON ({exc})", error_zh=f"第{line}行：JSON 无法使用（{exc}）")
    if not isinstance(data, dict):
        return Row(row.number, error=f"line {line}: a row is a JSON object of facts",
                   error_zh=f"第{line}行：每一行应是一个事实的 JSON 对象")
    found = find_lone_surrogate(data)   # "\ud800": text that is no text, refused as this row's error
    if found is not None:
        message, zh = surrogate_problem(path_text(found[0]), found[1])
        ident = next((str(data[c]) for c in ID_COLUMNS if isinstance(data.get(c), str) and data[c]
                      and lone_surrogate(data[c]) is None), None)
        return Row(row.number, ident, error=f"line {line}: {message}", error_zh=f"第{line}行：{zh}")
    given = dict(data)
    ident = next((str(data.pop(c)) for c in ID_COLUMNS if data.get(c) not in (None, "")), None)
    for column in ID_COLUMNS:
        data.pop(column, None)
    return Row(row.number, ident or data.get("name"), data, given=given)


def problems(kb: KnowledgeBase, data: dict, lang: str = "en") -> list[str]:
    """Every problem of a profile's facts, one message each in ``lang``: the profile reader stops
    at the first, and a person fixing a row wants them all at once."""
    found = []
    for name, value in data.items():
        try:
            parse_profile({name: value}, kb)
        except ProfileError as exc:
            fact = kb.facts.get(name)
            items = value if isinstance(value, list) else [value]
            if fact is not None and fact.type in ("enum", "list") and all(isinstance(i, str) for i in items):
                try:   # a choice written by a person: the nearest label, and every label allowed
                    _choice(kb, name, value)
                except ProfileError as better:
                    found.append(better.text(lang))
                    continue
            found.append(exc.text(lang))
    return found
