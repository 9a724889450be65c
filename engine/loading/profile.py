"""Reading an enterprise profile: a mapping of fact names to values, checked against the facts.

A profile may come from a YAML or JSON file (:func:`read_profile`) or from Python
(:func:`parse_profile`). Values are converted to their fact's type: money to integer yuan,
dates to :class:`datetime.date`, areas to exact fractions. A fact left out, or given as
``null``, is unknown. Every problem is one :class:`~engine.errors.ProfileError` saying what is
wrong, where, what would be valid, and the nearest known name.
"""

from __future__ import annotations

import datetime
import json
import unicodedata
from pathlib import Path
from typing import Any

from engine.errors import ProfileError, nearest
from engine.model import Fact, KnowledgeBase
from engine.loading.values import ValueProblem, parse_date_or_month, parse_money, parse_number, shown
from engine.loading.yamlio import load_file, refuse_lone_surrogates

_TRUE = {"true", "yes", "是", "y"}
_FALSE = {"false", "no", "否", "n"}
#: Each yes/no word and the value it means (one look-up per cell when many rows are read).
_BOOL_WORDS = {**{word: True for word in _TRUE}, **{word: False for word in _FALSE}}


def read_profile(path: str | Path, kb: KnowledgeBase) -> dict[str, Any]:
    """Read and check a profile file (``.yaml``, ``.yml`` or ``.json``)."""
    path = Path(path)
    data = load_file(path, ProfileError)
    if data is None:
        raise ProfileError("the profile is empty; write one fact per line, e.g. `industry: ict`",
                           file=str(path), line=1, zh="档案是空的；每行写一个事实，如 `industry: ict`")
    return parse_profile(data, kb, source=str(path))


def parse_profile(data: Any, kb: KnowledgeBase, source: str | None = None) -> dict[str, Any]:
    """Check a profile mapping and convert its values to their facts' types.

    Raises
    ------
    ProfileError
        For a profile that is not a mapping, an unknown fact, or a value its fact cannot take.
    """
    if not isinstance(data, dict):
        raise ProfileError("a profile is a mapping of fact names to values (e.g. `paid_in_capital: 1亿元`), "
                           f"not {_kind(data)}", file=source or getattr(data, "file", None),
                           line=getattr(data, "line", 1 if source else None),
                           zh="档案应是“事实名: 值”的映射（如 `paid_in_capital: 1亿元`）")
    refuse_lone_surrogates(data, source, ProfileError)   # text that is no text, from Python or the web
    facts: dict[str, Any] = {}
    mistakes: list[ProfileError] = []
    known = kb.facts
    line_of = getattr(data, "line_of", None)
    for key, value in data.items():
        line = line_of(key) if line_of is not None else None
        name = key if key in known else fact_id(kb, key)   # most keys are ids: no lookup by label
        if name is None:
            mistakes.append(ProfileError(f"unknown fact '{shown(key)}'", file=source, line=line,
                                         suggestion=_nearest_fact(kb, str(key)), zh=f"未知的事实“{shown(key)}”"))
            continue
        if name in facts:
            mistakes.append(ProfileError(
                f"'{key}' names {name}, which the profile already gives", file=source, line=line,
                zh=f"“{key}”指的是{kb.facts[name].zh}（{name}），档案中已经给出", fact=name))
            continue
        if value is None:
            continue
        try:
            facts[name] = convert(known[name], value, kb)
        except ValueProblem as exc:
            mistakes.append(ProfileError(f"{name}: {exc}", file=source, line=line, allowed=_allowed(kb.facts[name]),
                                         zh=f"{kb.facts[name].zh}（{name}）：{exc.zh or exc}", fact=name))
        except ProfileError as exc:
            mistakes.append(ProfileError(f"{name}: {exc.message}", file=source, line=exc.line or line,
                                         suggestion=exc.suggestion, allowed=exc.allowed,
                                         zh=f"{kb.facts[name].zh}（{name}）：{exc.zh or exc.message}", fact=name))
    if mistakes:
        first = mistakes[0]
        first.also = mistakes[1:]   # every mistake of the profile, so that all are fixed at once
        raise first
    return facts


def _kind(data: Any) -> str:
    """What a non-mapping is, in a person's words (not a Python type name)."""
    if isinstance(data, (list, tuple)):
        return "a list"
    if isinstance(data, str):
        return "text"
    if isinstance(data, bool):
        return "true/false"
    if isinstance(data, (int, float)):
        return "a number"
    if isinstance(data, datetime.date):
        return "a date"
    return "a value of another kind"


def _allowed(fact: Fact):
    return list(fact.values) if fact.type in ("enum", "list") else None


def convert(fact: Fact, value: Any, kb: KnowledgeBase) -> Any:
    """One value in its fact's type; raises ValueProblem or ProfileError."""
    kind = fact.type
    if kind == "bool":
        if value is True or value is False:
            return value
        word = _BOOL_WORDS.get(value.strip().lower()) if isinstance(value, str) else None
        if word is not None:
            return word
        written = shown(json.dumps(value, ensure_ascii=False, default=str))
        raise ValueProblem(f"{written} is not true or false (write true or false; yes/no and 是/否 are read too)",
                           zh=f"{written} 不是“是”或“否”（写 是/否，或 true/false）")
    if kind == "enum":
        if isinstance(value, str) and value not in fact.values:
            # A label (信息传输、软件和信息技术服务业, Finance) names its value, as in spreadsheets.
            value = value_names(kb, fact.id).get(_norm(value), value)
        if not isinstance(value, str) or value not in fact.values:
            raise _not_a_value(fact, value)
        return value
    if kind == "money":
        return parse_money(value, signed=fact.signed)
    if kind == "number":
        return parse_number(value)
    if kind == "date":
        return parse_date_or_month(value)   # a month alone is some day of it (engine.inferring.month_dates)
    if kind == "string":
        if isinstance(value, (dict, list)):
            raise ValueProblem("expected text, not a list or mapping", zh="应填写文字，而不是列表或映射")
        return str(value)
    if kind == "list":
        items = list(value) if isinstance(value, (list, tuple)) else None
        if items is None:
            raise ValueProblem(f"{shown(repr(value))} is not a list; write e.g. [{next(iter(fact.values))}]",
                               zh=f"{shown(repr(value))} 不是列表；请写如 [{next(iter(fact.values))}]")
        result: list[str] = []
        for item in items:
            if isinstance(item, str) and item not in fact.values:
                item = value_names(kb, fact.id).get(_norm(item), item)
            if not isinstance(item, str) or item not in fact.values:
                raise _not_a_value(fact, item)
            if item not in result:
                result.append(item)
        return tuple(result)
    if kind == "records":
        return _records(fact, value, kb)
    raise ValueProblem(f"fact type {kind} cannot be read")


def _not_a_value(fact: Fact, value: Any) -> ProfileError:
    """A choice that is none of the fact's values: the message lists them by label and id (what
    a person may write), the suggestion is the nearest id, or for Chinese text the nearest label."""
    text = str(value)
    if any(ord(ch) > 0x2e80 for ch in text):
        hint = nearest(text, [words["zh"] for words in fact.values.values()])
    else:
        hint = nearest(text, fact.values)
    choices = ", ".join(f"{words['zh']} ({v})" for v, words in fact.values.items())
    return ProfileError(f"{shown(repr(value))} is not one of its values: {choices}", suggestion=hint,
                        allowed=list(fact.values), zh=f"{shown(repr(value))} 不是可选的值：{choices}", fact=fact.id)


def _records(fact: Fact, value: Any, kb: KnowledgeBase) -> tuple:
    if not isinstance(value, (list, tuple)):
        raise ValueProblem("expected a list of {benefit, policy, amount}", zh="应为 {benefit, policy, amount} 的列表")
    records = []
    for index, item in enumerate(value):
        line = getattr(item, "line", None)
        if not isinstance(item, dict):
            raise ProfileError(f"item {index + 1} is not a mapping of {', '.join(fact.fields)}", line=line,
                               zh=f"第{index + 1}项不是 {', '.join(fact.fields)} 的映射")
        for key in item:
            if key not in fact.fields:
                raise ProfileError(f"item {index + 1}: unknown field '{shown(key)}'", line=line,
                                   suggestion=nearest(str(key), fact.fields), allowed=list(fact.fields),
                                   zh=f"第{index + 1}项：未知的字段“{shown(key)}”")
        missing = [key for key in fact.fields if item.get(key) is None]
        if missing:
            raise ProfileError(f"item {index + 1} has no {', '.join(missing)}", line=line,
                               zh=f"第{index + 1}项缺少 {', '.join(missing)}")
        record = {}
        for key, ftype in fact.fields.items():
            raw = item[key]
            if ftype == "benefit":
                if not isinstance(raw, str) or raw not in kb.benefits:
                    raise ProfileError(f"item {index + 1}: '{shown(raw)}' is not a benefit", line=line,
                                       suggestion=nearest(str(raw), kb.benefits), allowed=list(kb.benefits),
                                       zh=f"第{index + 1}项：“{shown(raw)}”不是支持事项")
                record[key] = raw
            elif ftype == "money":
                try:
                    record[key] = parse_money(raw)
                except ValueProblem as exc:
                    raise ProfileError(f"item {index + 1}: {key}: {exc}", line=line,
                                       zh=f"第{index + 1}项：{key}：{exc.zh or exc}") from None
            else:
                if isinstance(raw, (dict, list)) or not str(raw).strip():
                    raise ProfileError(f"item {index + 1}: {key} must be text", line=line,
                                       zh=f"第{index + 1}项：{key} 应为文字")
                record[key] = str(raw).strip()
        records.append(record)
    return tuple(records)


# --------------------------------------------------------------------------- facts and values by their labels

def fact_names(kb: KnowledgeBase) -> dict[str, str]:
    """Each fact by its id and its zh and en labels (normalised, see :func:`_norm`) to its id; a
    label two facts share names neither (their ids still do)."""
    found = kb.__dict__.get("_fact_names")
    if found is None:
        found, clashes = {}, set()
        for fact in kb.facts.values():
            for text in (fact.zh, fact.en):
                key = _norm(text)
                if found.get(key, fact.id) != fact.id:
                    clashes.add(key)
                found.setdefault(key, fact.id)
        for key in clashes:
            found.pop(key, None)
        for fact in kb.facts:
            found[_norm(fact)] = fact   # an id always names its fact
        kb.__dict__["_fact_names"] = found
    return found


def fact_id(kb: KnowledgeBase, name) -> str | None:
    """The fact a profile key names: by its id or, as in spreadsheets, by its label (企业名称,
    Paid-in capital); None for no fact."""
    if name in kb.facts:
        return name
    return fact_names(kb).get(_norm(name)) if isinstance(name, str) else None


def _nearest_fact(kb: KnowledgeBase, text: str) -> str | None:
    """The nearest fact id, or for text written in Chinese the nearest Chinese label."""
    if any(ord(ch) > 0x2e80 for ch in text):
        return nearest(text, [fact.zh for fact in kb.facts.values()])
    return nearest(text, kb.facts)


def _norm(text) -> str:
    """Text compared the way a person would: full-width forms folded, blanks collapsed, any case."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


def value_names(kb: KnowledgeBase, fact_id: str) -> dict[str, str]:
    """The values of an enum or list fact by id, zh label and en label (normalised) to the id."""
    cache = kb.__dict__.setdefault("_value_names", {})
    found = cache.get(fact_id)
    if found is None:
        found = {}
        values = kb.facts[fact_id].values or {}
        for value, words in values.items():
            for lang in ("zh", "en"):
                found.setdefault(_norm(words[lang]), value)
        for value in values:
            found[_norm(value)] = value
        cache[fact_id] = found
    return found
