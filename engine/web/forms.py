"""The Evaluate form: built from the facts of the knowledge base, read back into a profile.

Every fact becomes a field, grouped by what it is about (the enterprise's registration and tax,
its business, its record, its capital, the authorities' recognitions, …: :data:`TOPICS`), each
with the clause it comes from: yes/no facts as three choices with *unknown* the default (never
*no*), enums as selects with their labels, money and areas as text (``1.2亿元`` is read by the
engine), dates as text in the engine's forms (``2021-03-01``, ``2021/3/1``, ``2021年3月1日``,
with a calendar beside it: a browser's date field reads typed text by its locale), lists as
checkboxes (with "none of these" to say the list is known to be empty), and Article 14's offers
of other district policies as rows. A field left at *unknown* or empty is left out of the
profile: unknown, not false.

A fact whose label asks a negative ("近三年未发生过…事故") is asked positively on the page
("近三年发生过…事故") and its answer stored inverted (:data:`POSITIVE`): the fact, its id and
its meaning are the knowledge base's.

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
from engine.model import conditions as cond
from engine.loading.profile import fact_id
from engine.loading.yamlio import plain
from engine.rendering.template import cell_value

UNKNOWN = ""
NONE_OF_THESE = "__none__"
RECORD_ROWS_MIN = 2

#: The form's groups: what an analyst reads together, in the order of a file on an enterprise.
#: A fact of the knowledge base not named here is grouped by the article it comes from, after these.
TOPICS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("case", "案例", "The case", ("name", "application_date")),
    ("registration", "注册、纳税与设立", "Registration, tax and establishment",
     ("registered_in_xicheng", "pays_tax_in_xicheng", "independent_legal_entity", "establishment",
      "registration_date", "office_tenure")),
    ("business", "业务与行业", "Business and industry",
     ("digital_economy_business", "industry", "statistical_category", "digital_technology_business", "tech_domains",
      "enterprise_category", "fits_core_area_function", "leading_demonstration_role")),
    ("conduct", "经营与信用记录", "Conduct and record",
     ("lawful_operation", "sound_management", "no_serious_violations_3y", "no_accidents_3y")),
    ("capital", "资本与上市", "Capital and listing",
     ("paid_in_capital", "listing", "listing_date", "overseas_market_recognized")),
    ("recognitions", "主管部门的认定", "Recognitions by the authorities",
     ("digital_economy_recognized", "key_enterprise_recognized", "strong_innovation_capacity",
      "influential_research_lead", "good_development_prospects", "large_regional_contribution",
      "major_industry_influence", "outstanding_contribution_last_year", "startup_subsidy_recognized",
      "office_subsidy_2022_recognized")),
    ("cultivation", "涵养新的重点企业", "Cultivating a new key enterprise",
     ("cultivated_new_key_enterprise", "cultivation_investment")),
    ("innovation", "创新平台与研发", "Innovation platforms and R&D",
     ("innovation_support_recognized", "rnd_institution_level", "standards_led", "key_lab_level", "foreign_joint_lab",
      "international_cooperation_project", "matching_fund_project_level", "builds_innovation_platform",
      "undertakes_government_project")),
    ("projects", "项目", "Projects", ("project_type", "project_field", "project_approved")),
    ("buildings", "楼宇、基地与园区", "Buildings, bases and parks",
     ("building_operator", "renovation_for_digital_economy", "renovation_investment", "renovated_area_m2",
      "introduced_contribution_increment", "industrial_base_recognized")),
    ("activities", "人才、场景、平台与活动", "Talent, scenarios, platforms and events",
     ("qualified_talent", "consumption_scenario_application", "digital_platform_construction", "sme_digital_solutions",
      "organizes_industry_event")),
    ("other_support", "其他区级政策的支持（第十四条）", "Support from other district policies (Art. 14)",
     ("other_district_support",)),
]

#: Labels on the page where the knowledge base's own is shortened with "…" or leaves out what
#: a person needs to answer (which date a relocated enterprise gives).
LABELS: dict[str, dict[str, str]] = {
    "digital_economy_business": {
        "zh": "业务属于第一条所指的数字经济：以数据为关键生产要素、以现代信息网络为重要载体、以数字技术应用为主要特征的经济形态",
        "en": "Business falls under the Article 1 definition of the digital economy: data as the key factor of "
              "production, modern information networks as the main carrier, digital technology as the main feature"},
    "registration_date": {
        "zh": "企业设立登记日期（迁入企业填最初设立登记的日期，即迁入本区之前的，不是迁入的日期）",
        "en": "Date the enterprise was first registered (a relocated enterprise gives its original 设立登记, "
              "before the move, not the date it moved to Xicheng)"},
}

#: Facts whose label is a negative, asked positively: answering yes stores false.
POSITIVE: dict[str, dict[str, str]] = {
    "no_serious_violations_3y": {"zh": "近三年有严重违法违规违纪行为或失信行为",
                                 "en": "A serious violation, misconduct or dishonesty in the last three years"},
    "no_accidents_3y": {"zh": "近三年发生过安全、质量、环境污染事故",
                        "en": "A safety, quality or environmental-pollution accident in the last three years"},
}


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
    citation: str = ""           # the clause it comes from, as people write it
    decides: tuple[str, ...] = ()   # the benefits it can decide
    inverted: str = ""           # for a positive wording: the knowledge base's own label
    optional: bool = False       # a fact no rule uses (the enterprise's name)


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


def label(kb: KnowledgeBase, fact: str, lang: str) -> str:
    """A fact's label as the form asks it: whole (never cut with "…"), positive."""
    if fact in POSITIVE:
        return POSITIVE[fact][lang]
    if fact in LABELS:
        return LABELS[fact][lang]
    return kb.facts[fact].label(lang)


def description(kb: KnowledgeBase, fact: str, lang: str) -> str:
    """A fact's description for a page: without the command line's words (``--as-of``)."""
    text = kb.facts[fact].describe(lang) or ""
    parts = [p for p in re.split(r"(?<=[；;。])|(?<=\.)\s+", text) if p and p.strip()]
    kept = [p.strip() for p in parts if "--" not in p]
    if len(kept) == len(parts):
        return text.strip()
    out = ("" if lang == "zh" else " ").join(kept).strip()
    if out.endswith(("；", ";")):
        out = out[:-1] + ("。" if out.endswith("；") else ".")
    if out and not out.endswith(("。", ".", "）", ")")):
        out += "。" if lang == "zh" else "."
    return out


def deciding_facts(kb: KnowledgeBase) -> dict[str, list[str]]:
    """For each benefit, the facts that can decide it: those its rules test or compute the
    amount from, down the conclusions they build on, and Article 14's offers (in the order of
    the knowledge base's facts)."""
    cache = kb.__dict__.get("_web_deciding")
    if cache is not None:
        return cache
    order = list(kb.facts)
    below: dict[str, set[str]] = {}

    def facts_of(cid: str, seen: frozenset = frozenset()) -> set[str]:
        if cid in below:
            return below[cid]
        found: set[str] = set()
        for rule in kb.rules_for(cid):
            found |= set(cond.facts_used(rule.when))
            if rule.amount is not None:
                found |= set(rule.amount.facts_needed())
            for used in cond.conclusions_used(rule.when):
                if used not in seen:
                    found |= facts_of(used, seen | {cid})
        below[cid] = found
        return found

    extra = {p.input for p in kb.precedence}
    out = {b: sorted((facts_of(b) | extra) & set(order), key=order.index) for b in kb.benefits}
    kb.__dict__["_web_deciding"] = out
    return out


def groups(kb: KnowledgeBase, lang: str, profile: dict | None = None) -> list[Group]:
    """The form's fields grouped by what they are about (:data:`TOPICS`); a fact no topic
    names, by the article or clause it comes from."""
    values = form_values(kb, profile or {})
    decides: dict[str, list[str]] = {}
    for benefit, facts in deciding_facts(kb).items():
        for name in facts:
            decides.setdefault(name, []).append(benefit)
    fields: dict[str, Field] = {}
    for fact in kb.facts.values():
        options = []
        if fact.type in ("enum", "list"):
            options = [(v, labels[lang]) for v, labels in fact.values.items()]
        if fact.type == "records":
            options = [(b, c.label(lang)) for b, c in kb.benefits.items()]
        fields[fact.id] = Field(fact.id, label(kb, fact.id, lang), fact.type, fact.source,
                                description(kb, fact.id, lang), fact.unit, options, values.get(fact.id),
                                citation=kb.label(fact.source, lang), decides=tuple(decides.get(fact.id, ())),
                                inverted=fact.label(lang) if fact.id in POSITIVE else "",
                                optional=fact.display_only)
    out = []
    for key, zh, en, names in TOPICS:
        members = [fields.pop(n) for n in names if n in fields]
        if members:
            out.append(Group(key, zh if lang == "zh" else en, members))
    by_ref: dict[str, list[Field]] = {}
    for item in fields.values():
        by_ref.setdefault(item.source, []).append(item)
    for ref in sorted(by_ref, key=lambda r: _ref_order(kb, r)):
        out.append(Group(re.sub(r"[^A-Za-z0-9_-]", "-", ref), _ref_title(kb, ref, lang), by_ref[ref]))
    return out


def _ref_title(kb: KnowledgeBase, ref: str, lang: str) -> str:
    part = kb.clauses.get(ref) or kb.articles.get(ref)
    title = (part.title if lang == "zh" else part.title_en) if part is not None else ""
    return f"{kb.label(ref, lang)} {title}".strip()


def form_values(kb: KnowledgeBase, profile: dict) -> dict[str, Any]:
    """A profile's values as the widgets show them: yes/no as "true"/"false" (the opposite
    for a fact asked positively), dates ISO, lists as sets, offers as rows of strings."""
    out: dict[str, Any] = {}
    for name, value in profile.items():
        fact = kb.facts.get(name)
        if fact is None or value is None:
            continue
        if fact.type == "bool":
            if isinstance(value, bool):
                shown = "true" if value else "false"
            elif str(value).strip().lower() in ("true", "yes", "y", "是"):
                shown = "true"
            elif str(value).strip().lower() in ("false", "no", "n", "否"):
                shown = "false"
            else:
                continue
            if name in POSITIVE:       # asked positively: the answer is the fact's opposite
                shown = "false" if shown == "true" else "true"
            out[name] = shown
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
    ``2021/9/15`` — for the engine to read and, if need be, refuse with its own words; a fact
    asked positively (:data:`POSITIVE`) is stored as the opposite of the answer.
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
            if value not in ("true", "false"):
                continue
            profile[fact.id] = (value == "true") != (fact.id in POSITIVE)
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
    return plain(shown)


def _from_xlsx(kb: KnowledgeBase, data: bytes, filename: str | None) -> dict:
    """An Excel profile: either two columns (fact, value) or a header row of facts and one row."""
    import openpyxl
    from engine.loading.workbooks import PROFILE_LIMITS, check_workbook
    check_workbook(data, PROFILE_LIMITS, filename)   # a workbook too big to read is refused unread
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
