"""What may be written at the cursor in a knowledge-base file (issue 24): the language server's
completion, read from the YAML line the rule author is typing and the lines above it.

========================================  ==================================================
where the cursor is                       what is offered
========================================  ==================================================
after ``fact:``                           fact ids, with their labels
after ``conclusion:`` or ``then:``        conclusion and benefit ids
after ``cites:`` or in ``also_cites``     the articles and clauses of the knowledge base
                                          (this document's by their number, another's as
                                          ``document:13(1)``), with their titles
after ``is:``, ``in:``, ``not_in:``,      the values of the fact the condition tests (an
``includes:``, ``includes_any:``          enum's values, ``true``/``false``)
after ``<fact id>:`` (a scenario's or     the values of that fact
example's input)
where a condition's key goes              the condition keys: ``all``, ``any``,
                                          ``conclusion``, ``fact`` and the operators that
                                          apply to the fact already named
anywhere else                             fact and conclusion ids
========================================  ==================================================

Nothing here knows the Language Server Protocol: :func:`completions_at` returns
:class:`Completion` items that :mod:`engine.lsp.server` turns into the protocol's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.model import conditions as cond

#: The keys that make a condition, besides the operators (engine.model.conditions.OPERATORS).
CONDITION_KEYS = {
    "all": ("全部满足", "all of these hold"), "any": ("满足其一", "any of these holds"),
    "conclusion": ("结论成立", "a conclusion holds"), "fact": ("事实检验", "a fact is tested"),
    "presumed": ("推定成立，除非已知不满足", "presumed unless known to fail"),
    "ground": ("依据（为何成立）", "the ground it rests on"),
}
_VALUE_KEYS = ("is", "in", "not_in", "includes", "includes_any")
_ID = r"[a-z_][a-z0-9_]*"


@dataclass(frozen=True)
class Completion:
    """One thing that may be written: the text, what it is (``fact``, ``benefit``, ``value``,
    ``clause``, ``key``…) and its label in zh and en."""
    text: str
    kind: str
    label: str


#: Keys whose value is text a person writes: nothing to complete there.
_TEXT_KEYS = ("quote", "notes", "zh", "en", "name", "title", "title_en", "text", "gloss", "description",
              "description_zh", "text_missing", "short", "review", "id")
#: Keys of a scenario's output that name benefits, and those that name any conclusion.
_BENEFIT_KEYS = ("benefits", "not_benefits", "superseded", "no_overlaps")
_CONCLUSION_KEYS = ("conclusions", "not_conclusions", "status", "grounds", "why_not", "in_force")


def completions_at(kb, text: str, line: int, character: int, document: str | None = None) -> list[Completion]:
    """What may be written at 0-based ``line`` and ``character`` of ``text``, a file of ``kb``
    (``document``: the id of the document the file belongs to, for citations)."""
    lines = text.splitlines()
    current = lines[line] if 0 <= line < len(lines) else ""
    before = current[:character]
    above = lines[:line]
    key = _key_being_valued(before)
    listed = set(re.findall(rf"{_ID}|\d+(?:\(\d+\))?", before.rpartition("[")[2])) if "[" in before else set()
    found = _completions_for(kb, key, above, before, current, document)
    return [c for c in found if c.text not in listed]


def _completions_for(kb, key, above, before, current, document) -> list[Completion]:
    if key in _TEXT_KEYS or _in_quotes(before):
        return []
    if key == "fact":
        return _facts(kb)
    if key in ("conclusion", "then"):
        return _conclusions(kb)
    if key in ("cites", "also_cites") or _in_list_of(above, before, "also_cites"):
        return _citations(kb, document)
    if key in _VALUE_KEYS:
        tested = fact_tested(above, current)
        return _values(kb, tested) if tested else []
    if key == "extends":
        return _examples(kb)
    if key == "defers_to":
        return [Completion(sid, "sub-policy", f"{p.title} · {p.title_en}") for sid, p in kb.subpolicies.items()]
    if key in _BENEFIT_KEYS:
        return [c for c in _conclusions(kb) if c.kind == "benefit"]
    if key in _CONCLUSION_KEYS:
        return _conclusions(kb)
    if key is not None:
        return _values(kb, key) if key in kb.facts else []
    if _under(above, before, "input"):
        return _facts(kb)
    if _under(above, before, _BENEFIT_KEYS):
        return [c for c in _conclusions(kb) if c.kind == "benefit"]
    if _under(above, before, _CONCLUSION_KEYS):
        return _conclusions(kb)
    if _at_condition_key(above, before):
        return _condition_keys(kb, fact_tested(above, current))
    return _facts(kb) + _conclusions(kb)


def _in_quotes(before: str) -> bool:
    """Whether the cursor is inside a quoted string of the line."""
    return before.count('"') % 2 == 1 or before.count("'") % 2 == 1


def _under(above: list[str], before: str, keys) -> bool:
    """Whether the cursor writes a key of the block mapping ``key:`` (one of ``keys``)."""
    if not re.fullmatch(rf"\s*({_ID})?", before):
        return False
    keys = (keys,) if isinstance(keys, str) else keys
    match = re.match(rf"\s*(?:-\s*)?({_ID})\s*:\s*$", _parent(above, before) or "")
    return bool(match) and match.group(1) in keys


def _parent(above: list[str], before: str) -> str | None:
    """The line of the mapping or list the cursor's line belongs to: the nearest line above
    indented less (a list's ``- `` counted as indentation)."""
    indent = len(before) - len(before.lstrip(" -"))
    for line in reversed(above):
        if line.strip() and not line.lstrip().startswith("#") and len(line) - len(line.lstrip(" -")) < indent:
            return line
    return None


def _key_being_valued(before: str) -> str | None:
    """The key whose value the cursor is writing: ``fact`` in ``- {fact: reg``, ``in`` in
    ``in: [ict, fin``."""
    match = re.search(rf"(?:^|[{{,\s-])({_ID})\s*:\s*(?:\[[^\]]*|[^,:{{}}\[\]]*)$", before)
    return match.group(1) if match else None


def _in_list_of(above: list[str], before: str, key: str) -> bool:
    """Whether the cursor writes an item of the block list ``key:`` (``- 13(2)`` under it)."""
    return bool(re.fullmatch(r"\s*-\s*\S*", before)) and (_parent(above, before) or "").strip() == f"{key}:"


def _at_condition_key(above: list[str], before: str) -> bool:
    """Whether a condition's key goes at the cursor: in a flow mapping of a condition
    (``- {fact: x, ``) or on a line of its own below ``when:``, ``all:`` or ``any:``."""
    if re.search(rf"\{{[^}}]*(?:^|[{{,]\s*)({_ID})?$", before):
        return True
    if not re.fullmatch(rf"\s*(?:-\s*)?({_ID})?", before):
        return False
    parent = _parent(above, before) or ""
    return bool(re.match(r"\s*(?:-\s*)?(when|all|any)\s*:\s*$", parent)) or \
        bool(re.match(rf"\s*-\s*(fact|conclusion)\s*:", parent))


def fact_tested(above: list[str], current: str) -> str | None:
    """The fact the condition at the cursor tests: ``fact: X`` on its line, or on a line of
    the same block mapping above it (up to the ``- `` that starts the condition)."""
    match = re.search(rf"\bfact\s*:\s*({_ID})", current)
    if match or current.lstrip().startswith("-"):
        return match.group(1) if match else None
    indent = len(current) - len(current.lstrip())
    for line in reversed(above):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        own = len(line) - len(line.lstrip())
        match = re.search(rf"\bfact\s*:\s*({_ID})", line)
        if own > indent:
            continue
        if own == indent and not line.lstrip().startswith("-"):
            if match:
                return match.group(1)
            continue
        if own < indent and line.lstrip().startswith("-"):
            return match.group(1) if match else None
        return None
    return None


def _examples(kb) -> list[Completion]:
    folder = kb.examples_dir
    names = sorted(p.stem for p in folder.iterdir() if p.suffix in (".yaml", ".yml", ".json")) \
        if folder is not None and folder.is_dir() else []
    return [Completion(name, "example", "example profile · 示例企业") for name in names]


def _facts(kb) -> list[Completion]:
    return [Completion(fid, "fact", f"{f.zh} · {f.en}") for fid, f in kb.facts.items()]


def _conclusions(kb) -> list[Completion]:
    return [Completion(cid, c.kind, f"{c.zh} · {c.en}") for cid, c in kb.conclusions.items()]


def _values(kb, fact_id: str) -> list[Completion]:
    fact = kb.facts.get(fact_id)
    if fact is None:
        return []
    if fact.type == "bool":
        return [Completion("true", "value", "是 · yes"), Completion("false", "value", "否 · no")]
    return [Completion(str(value), "value", f"{words.get('zh', '')} · {words.get('en', '')}")
            for value, words in (fact.values or {}).items()]


def _citations(kb, document: str | None) -> list[Completion]:
    own, others = [], []
    for table in (kb.articles, kb.clauses):
        for part in table.values():
            short = short_ref(part)
            ref = short if part.document == document else f"{part.document}:{short}"
            title = getattr(part, "title", "") or ""
            title_en = getattr(part, "title_en", "") or ""
            (own if part.document == document else others).append(
                Completion(ref, "clause", f"{part.document} · {title} · {title_en}".rstrip(" ·")))
    for key in kb.special_parts:               # a document's notice or preamble: "cites: notice"
        owner, _, short = key.rpartition(":")
        owner = owner or kb.home
        if owner == document:
            own.append(Completion(short, "clause", f"{owner} · {'通知' if short == 'notice' else '序言'} · {short}"))
    return own + others


def short_ref(part) -> str:
    """A clause's or article's number within its document: ``2(1)`` (the knowledge base keys
    another document's parts as ``implementation_rules_2021:2(1)``)."""
    return str(part.id).rpartition(":")[2]


def _condition_keys(kb, tested: str | None) -> list[Completion]:
    fact = kb.facts.get(tested) if tested else None
    if fact is not None:
        return [Completion(op, "key", f"{zh} · {en}") for op, (zh, en) in cond.OPERATOR_TEXT.items()
                if fact.type in cond.OPERATORS[op]]
    return [Completion(key, "key", f"{zh} · {en}") for key, (zh, en) in CONDITION_KEYS.items()]
