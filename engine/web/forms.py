"""The Evaluate form: built from the facts of the knowledge base, read back into a profile.

Every fact becomes a field, grouped by the article or clause it comes from: yes/no facts as
three choices with *unknown* the default (never *no*), enums as selects with their labels,
money and areas as text (``1.2亿元`` is read by the engine), dates as date fields, lists as
checkboxes (with "none of these" to say the list is known to be empty), and Article 14's offers
of other district policies as rows. A field left at *unknown* or empty is left out of the
profile: unknown, not false.

Profiles also come pasted or uploaded (YAML, JSON or an Excel sheet): :func:`read_upload`.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ProfileError
from engine.model import KnowledgeBase
from engine.loading.profile import fact_id
from engine.rendering.template import cell_value

UNKNOWN = ""
NONE_OF_THESE = "__none__"
RECORD_ROWS_MIN = 2


@dataclass
class Field:
    id: str
    label: str
    type: str
    source: str
    description: str
    unit: str | None
    options: list[tuple[str, str]] = field(default_factory=list)   # (value, label)
    value: Any = None            # the current value as the widget shows it


@dataclass
class Group:
    ref: str
    title: str
    fields: list[Field]


def _ref_order(kb: KnowledgeBase, ref: str) -> tuple:
    documents = list(kb.documents)
    document, local = kb.document_of(ref), kb.local(ref)
    numbers = [int(n) for n in re.findall(r"\d+", local)] or [0]
    return (documents.index(document) if document in documents else 99, numbers)


def groups(kb: KnowledgeBase, lang: str, profile: dict | None = None) -> list[Group]:
    """The form's fields grouped by the article or clause each fact comes from; the case's
    name and date first."""
    values = form_values(kb, profile or {})
    by_ref: dict[str, list[Field]] = {}
    for fact in kb.facts.values():
        options = []
        if fact.type in ("enum", "list"):
            options = [(v, labels[lang]) for v, labels in fact.values.items()]
        if fact.type == "records":
            options = [(b, c.label(lang)) for b, c in kb.benefits.items()]
        item = Field(fact.id, fact.label(lang), fact.type, fact.source, fact.describe(lang), fact.unit, options,
                     values.get(fact.id))
        key = "case" if fact.id in ("name", "application_date") else fact.source
        by_ref.setdefault(key, []).append(item)
    out = []
    if "case" in by_ref:
        out.append(Group("case", "案例" if lang == "zh" else "The case", by_ref.pop("case")))
    for ref in sorted(by_ref, key=lambda r: _ref_order(kb, r)):
        out.append(Group(ref, _ref_title(kb, ref, lang), by_ref[ref]))
    return out


def _ref_title(kb: KnowledgeBase, ref: str, lang: str) -> str:
    part = kb.clauses.get(ref) or kb.articles.get(ref)
    title = (part.title if lang == "zh" else part.title_en) if part is not None else ""
    return f"{kb.label(ref, lang)} {title}".strip()


def form_values(kb: KnowledgeBase, profile: dict) -> dict[str, Any]:
    """A profile's values as the widgets show them: yes/no as "true"/"false", dates ISO,
    lists as sets, offers as rows of strings."""
    out: dict[str, Any] = {}
    for name, value in profile.items():
        fact = kb.facts.get(name)
        if fact is None or value is None:
            continue
        if fact.type == "bool":
            if isinstance(value, bool):
                out[name] = "true" if value else "false"
            elif str(value).strip().lower() in ("true", "yes", "y", "是"):
                out[name] = "true"
            elif str(value).strip().lower() in ("false", "no", "n", "否"):
                out[name] = "false"
        elif fact.type == "date":
            out[name] = _iso(value)
        elif fact.type == "list":
            items = value if isinstance(value, (list, tuple)) else [value]
            out[name] = {str(v) for v in items} or {NONE_OF_THESE}
        elif fact.type == "records":
            rows = [{k: ("" if r.get(k) is None else str(r.get(k))) for k in fact.fields}
                    for r in (value if isinstance(value, list) else []) if isinstance(r, dict)]
            out[name] = rows
        else:
            out[name] = str(value)
    return out


def _iso(value) -> str:
    if isinstance(value, _dt.date):
        return value.isoformat()
    from engine.loading.values import ValueProblem, parse_date
    try:
        return parse_date(value).isoformat()
    except (ValueProblem, TypeError, ValueError):
        return str(value)


def record_rows(item: Field) -> list[dict]:
    rows = list(item.value or [])
    return rows + [{}] * max(RECORD_ROWS_MIN - len(rows), 1)


def profile_from_form(kb: KnowledgeBase, form) -> dict[str, Any]:
    """The profile a submitted form says: only what was given (unknown is left out).

    ``form`` is a multi-dict (Starlette's ``FormData``). Values stay as typed — ``1.2亿元``,
    ``2021-09-15`` — for the engine to read and, if need be, refuse with its own words.
    """
    profile: dict[str, Any] = {}
    for fact in kb.facts.values():
        key = f"f.{fact.id}"
        if fact.type == "list":
            chosen = [v for v in form.getlist(key) if v]
            if NONE_OF_THESE in chosen:
                profile[fact.id] = [v for v in chosen if v != NONE_OF_THESE]
            elif chosen:
                profile[fact.id] = chosen
            continue
        if fact.type == "records":
            columns = {name: form.getlist(f"{key}.{name}") for name in fact.fields}
            count = max((len(v) for v in columns.values()), default=0)
            rows = []
            for i in range(count):
                row = {name: (columns[name][i].strip() if i < len(columns[name]) else "") for name in fact.fields}
                if any(row.values()):
                    rows.append({k: (v or None) for k, v in row.items()})
            if rows:
                profile[fact.id] = rows
            continue
        value = form.get(key)
        if value is None or not str(value).strip():
            continue
        value = str(value).strip()
        if fact.type == "bool":
            profile[fact.id] = value == "true"
        else:
            profile[fact.id] = value
    return profile


# --------------------------------------------------------------------------- pasted or uploaded

def read_upload(kb: KnowledgeBase, text: str | None, filename: str | None, data: bytes | None) -> dict:
    """A profile from pasted text (YAML or JSON) or an uploaded ``.yaml``/``.json``/``.xlsx``.

    Raises ProfileError with what is wrong and where.
    """
    from engine.loading.yamlio import loads
    if data:
        name = (filename or "").lower()
        if name.endswith(".xlsx"):
            return _from_xlsx(kb, data, filename)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ProfileError("the file is not UTF-8 text; save it as UTF-8, or upload an .xlsx sheet",
                               file=filename) from None
        source = filename or "upload"
    else:
        source = "pasted text"
    if not text or not text.strip():
        raise ProfileError("nothing to import: paste a profile or choose a file")
    data = loads(text, source, ProfileError)   # JSON is YAML; positions for errors
    if not isinstance(data, dict):
        raise ProfileError("a profile is a mapping of fact names to values, e.g. `industry: ict`", file=source)
    return _checked(kb, data, source)


#: Fact types whose checked value the form shows (a choice's id, yes/no, an ISO date); the
#: others keep the text as written (1.2亿元 stays 1.2亿元).
_SHOWN_CHECKED = ("enum", "list", "bool", "date")


def _checked(kb: KnowledgeBase, data: dict, source: str | None) -> dict:
    """A pasted or uploaded profile as the form shows it, read by the profile reader first, so
    that a misspelt fact or a value it cannot take is an error naming it, never a field left
    silently blank; facts named by label become ids, choices written by label become ids."""
    from engine.loading.profile import parse_profile
    facts = parse_profile(data, kb, source=source)
    shown = {}
    for key, value in data.items():
        name = fact_id(kb, key)
        if name in facts:
            kind = kb.facts[name].type
            checked = list(facts[name]) if kind == "list" else facts[name]
            shown[name] = checked if kind in _SHOWN_CHECKED else value
    return _plain(shown)


def _plain(value):
    """YAML data as JSON-able plain data (dates to ISO text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()[:10]
    return value


def _from_xlsx(kb: KnowledgeBase, data: bytes, filename: str | None) -> dict:
    """An Excel profile: either two columns (fact, value) or a header row of facts and one row."""
    import openpyxl
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds for a file that is not a workbook
        raise ProfileError("the file is not an Excel workbook (.xlsx) that can be read", file=filename) from None
    try:
        sheet = book.worksheets[0]
        rows = [list(r) for r, _ in zip(sheet.iter_rows(values_only=True), range(1000))]
    finally:
        book.close()
    rows = [r for r in rows if any(c not in (None, "") for c in r)]
    if not rows:
        raise ProfileError("the sheet is empty", file=filename)
    if _fact_per_row(kb, rows):
        pairs = [(str(r[0]).strip(), r[1] if len(r) > 1 else None) for r in rows]
    else:
        pairs = _first_enterprise(kb, rows, filename)
    profile = {}
    for name, value in pairs:
        if value in (None, ""):
            continue
        if isinstance(value, _dt.datetime):
            value = value.date()
        fact = kb.facts.get(fact_id(kb, name) or "")
        if fact is not None and fact.type in ("enum", "list") and isinstance(value, str):
            value = cell_value(kb, fact.id, value)   # 大数据；人工智能 as a list, labels as they are
        elif fact is not None and fact.type == "records" and isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ProfileError(f"{name}: write the offers as JSON, e.g. "
                                   '[{"benefit": "listing_grant", "policy": "…", "amount": "800万元"}]',
                                   file=filename) from None
        profile[name] = value
    return _checked(kb, profile, filename)


def _fact_per_row(kb: KnowledgeBase, rows: list) -> bool:
    """Whether a sheet is two columns, a fact (by id or label) and its value on each row."""
    return all(len([c for c in r if c not in (None, "")]) <= 2 and fact_id(kb, str(r[0]).strip()) for r in rows)


def _first_enterprise(kb: KnowledgeBase, rows: list, filename: str | None) -> list[tuple[str, Any]]:
    """A sheet headed by facts (a template filled in): its one enterprise, or an error when it
    holds several (the Batch page screens many)."""
    from engine.rendering.template import ID_COLUMNS, read_header
    head = [(n + 1, [str(c).strip() if c is not None else "" for c in r]) for n, r in enumerate(rows[:4])]
    header, used = read_header(head, kb, filename or "upload")
    enterprises = rows[used:]
    if not enterprises:
        raise ProfileError("the sheet has a header but no enterprise under it", file=filename)
    if len(enterprises) > 1:
        raise ProfileError(f"the sheet holds {len(enterprises)} enterprises and this form takes one: use the "
                           "Batch page to screen them all, or keep one row", file=filename)
    return [(name, value) for name, value in zip(header, enterprises[0]) if name not in ID_COLUMNS]
