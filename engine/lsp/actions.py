"""The language server's code actions that write YAML for the rule author (issue 24):

- **add a scenario covering this condition** — where ``policykb check`` reports a coverage gap
  with a profile that would close it, the scenario (a sentence-like name, the profile's
  ``extends``/``input``/``as_of``, and the status the knowledge base gives now as its ``output``)
  appended to the file of the scenario the profile starts from (:func:`scenario_for_gap`);
- **quote the clause** — for a rule without a ``quote``, a ``quote:`` line under its ``cites:``
  with one sentence of the cited clause's text, one action per sentence (:func:`quotes_for_rule`).

Each returns what to insert and where, in the editor's terms (a real file, a 0-based line);
nothing here knows the Language Server Protocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

#: How each kind of coverage gap reads in a scenario's name.
GAP_WORDS = {"holding": "holding", "failing": "failing", "boundary": "exactly at its threshold",
             "across": "just across its threshold"}
#: The sentences of a clause: a quote is one of them (or a part of one).
_SENTENCE_END = re.compile(r"(?<=[。；;！？])")
#: At most this many "quote the clause" actions are offered for one rule.
MAX_QUOTES = 8


@dataclass(frozen=True)
class Insertion:
    """Text to insert at the start of a 0-based line of a real file (the line after the last
    one: at the end of the file)."""
    path: Path
    line: int
    text: str
    title: str
    title_zh: str

    def label(self, zh: bool) -> str:
        """The action's title in the editor's language."""
        return self.title_zh if zh else self.title


def scenario_for_gap(kb_copy, proposed: dict) -> Insertion:
    """The scenario that closes a coverage gap, appended to its scenario file (``proposed`` as
    :class:`engine.lsp.workspace.Diagnostic` carries it)."""
    kb = kb_copy.kb
    path = Path(proposed["scenario"])
    current = kb_copy.text_of(path)
    conclusion, status = next(iter(proposed["output"]["status"].items()))
    name = (f"{proposed['condition']}, {GAP_WORDS.get(proposed['gap'], proposed['gap'])}, decides "
            f"{proposed['rule']} alone: {conclusion} {status}")
    taken = set(re.findall(r"^\s*-?\s*name:\s*['\"]?(.*?)['\"]?\s*$", current, re.M))
    unique, n = name, 2
    while unique in taken:
        unique, n = f"{name} ({n})", n + 1
    scenario = {"name": unique}
    profile = proposed["profile"]
    if profile.get("extends"):
        scenario["extends"] = profile["extends"]
    scenario["input"] = {key: _written(kb, key, value) for key, value in (profile.get("input") or {}).items()}
    if profile.get("as_of"):
        scenario["as_of"] = profile["as_of"]
    scenario["output"] = proposed["output"]
    block = yaml.safe_dump([scenario], allow_unicode=True, sort_keys=False, default_flow_style=None, width=1000)
    lines = current.splitlines()
    lead = "" if not lines or current.endswith("\n\n") else ("\n" if current.endswith("\n") else "\n\n")
    return Insertion(path, len(lines), lead + block, f"Add a scenario covering this condition to {path.name}",
                     f"在 {path.name} 中添加覆盖此条件的场景")


def _written(kb, fact_id: str, value):
    """A value as a rule author writes it in a scenario: money with its unit."""
    fact = kb.facts.get(fact_id) if kb is not None else None
    if fact is not None and fact.type == "money" and isinstance(value, int) and not isinstance(value, bool):
        return f"{value}元"
    return value


def quotes_for_rule(kb_copy, path: Path, text: str, line: int, document: str | None) -> list[Insertion]:
    """For the rule at ``line`` of ``text`` (the rules file ``path``) when it has no ``quote``: a
    ``quote:`` line under its ``cites:`` for each sentence of the cited clause."""
    rule = _rule_around(text.splitlines(), line)
    if rule is None:
        return []
    cites_line, indent, ref = rule
    part = kb_copy.part(ref, document)
    if part is None or not getattr(part, "text", ""):
        return []
    from engine.authoring.lint import MIN_QUOTE
    sentences = [s.strip().rstrip("。；;") for s in _SENTENCE_END.split(part.text) if s.strip()]
    sentences = [s for s in sentences if len(s) >= MIN_QUOTE][:MAX_QUOTES]
    def start(sentence: str) -> str:
        return sentence[:24] + ("…" if len(sentence) > 24 else "")
    return [Insertion(path, cites_line + 1, f"{' ' * indent}quote: {_scalar(sentence)}\n",
                      f"Quote the clause {ref}: {start(sentence)}", f"引用条款 {ref} 原文：{start(sentence)}")
            for sentence in sentences]


def _rule_around(lines: list[str], line: int) -> tuple[int, int, str] | None:
    """The rule item holding ``line``: its ``cites:`` line, the indentation of its keys and
    the citation — None when there is no such rule or it already has a quote."""
    start = next((n for n in range(min(line, len(lines) - 1), -1, -1)
                  if re.match(r"\s*-\s+id\s*:", lines[n])), None)
    if start is None:
        return None
    indent = len(lines[start]) - len(lines[start].lstrip(" -"))
    cites = quoted = None
    for n in range(start, len(lines)):
        if n > start and lines[n].strip() and len(lines[n]) - len(lines[n].lstrip(" -")) <= indent - 2:
            break
        if n > start and re.match(r"\s*-\s+id\s*:", lines[n]):
            break
        match = re.match(rf"\s{{{indent}}}(?:-\s+)?cites\s*:\s*['\"]?([^'\"#\s]+)", lines[n]) or \
            (re.match(rf"\s*-\s+cites\s*:\s*['\"]?([^'\"#\s]+)", lines[n]) if n == start else None)
        if match:
            cites = (n, match.group(1))
        if re.match(rf"\s{{{indent}}}quote\s*:", lines[n]):
            quoted = n
    if cites is None or quoted is not None or line < start:
        return None
    return cites[0], indent, cites[1]


def _scalar(sentence: str) -> str:
    """A sentence as a YAML scalar: plain where YAML reads it back unchanged, quoted otherwise."""
    written = yaml.safe_dump(sentence, allow_unicode=True, width=10_000)
    return written.removesuffix("\n").removesuffix("\n...").strip()
