"""The draft rules of ``policykb draft``: for each sentence that grants something, a rule
citing its article or clause and quoting it, with the conditions and the amount the sentence
states (read by :func:`engine.authoring.draft_text.analyse`), named with the knowledge base's
facts where the sentence's words are a fact's label (实收资本 → paid_in_capital), else with a
proposed new fact, and ``review:`` notes saying what was read and what to check.

A draft rule is marked ``draft: true``; its ``then`` and ``explain`` are ``TODO:`` for the author.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from engine.authoring import draft_text as text_
from engine.errors import KnowledgeBaseError
from engine.loading.reader import normalize
from engine.loading.values import format_percent
from engine.loading.yamlio import load_file

TODO = "TODO: "
#: Findings that are part of an amount, counted as "amounts found".
AMOUNT_KINDS = ("range_min", "range_max", "amount", "cap", "cumulative_cap", "share", "per_unit")
_UNIT_OF = {"平方米": "m2", "平米": "m2", "㎡": "m2"}


# ---------------------------------------------------------------- the vocabulary

@dataclass
class Vocabulary:
    """What a draft names things with: the knowledge base's facts, conclusions and
    sub-policies, read as data (a knowledge base holding a new draft does not load yet)."""

    facts: dict[str, dict] = field(default_factory=dict)
    conclusions: dict[str, str] = field(default_factory=dict)    # id -> zh label (conclusions, not benefits)
    subpolicies: dict[str, str] = field(default_factory=dict)    # id -> title
    home: str | None = None


def read_vocabulary(root: Path) -> Vocabulary:
    """The vocabulary of the knowledge base at ``root``.

    Raises
    ------
    KnowledgeBaseError
        When ``root`` has no facts.yaml, or a file is not YAML.
    """
    if not (root / "facts.yaml").is_file():
        raise KnowledgeBaseError("not a knowledge base (no facts.yaml): name one with --kb", file=str(root))
    vocabulary = Vocabulary()
    for item in _items(load_file(root / "facts.yaml", KnowledgeBaseError), "facts"):
        values = item.get("values") if isinstance(item.get("values"), dict) else {}
        vocabulary.facts[str(item["id"])] = {
            "type": str(item.get("type")), "zh": str(item.get("zh") or ""), "unit": item.get("unit"),
            "source": str(item.get("source") or ""), "administrative": bool(item.get("administrative")),
            "values": {str(k): str(v.get("zh", "")) for k, v in values.items() if isinstance(v, dict)}}
    index = load_file(root / "knowledge_base.yaml", KnowledgeBaseError) if (root / "knowledge_base.yaml").is_file() else {}
    listed = [str(d) for d in (index.get("documents") if isinstance(index, dict) else None) or []]
    vocabulary.home = listed[0] if listed else None
    folders = [root / "documents" / d for d in listed] if listed else [root]
    for folder in folders:
        if (folder / "conclusions.yaml").is_file():
            data = load_file(folder / "conclusions.yaml", KnowledgeBaseError)
            vocabulary.conclusions.update({str(c["id"]): str(c.get("zh") or "") for c in _items(data, "conclusions")})
        if (folder / "subpolicies.yaml").is_file():
            data = load_file(folder / "subpolicies.yaml", KnowledgeBaseError)
            vocabulary.subpolicies.update({str(s["id"]): str(s.get("title") or "") for s in _items(data, "subpolicies")})
    return vocabulary


def _items(data, key: str) -> list[dict]:
    items = data.get(key) if isinstance(data, dict) else None
    return [i for i in items or [] if isinstance(i, dict) and "id" in i]


def _label(zh: str) -> str:
    """A label as it would stand in a text: without its bracketed note (改造面积（平方米）)."""
    return re.sub(r"（[^）]*）|\([^)]*\)", "", zh).strip()


class Names:
    """Names what a document's sentences speak of: a fact, value or conclusion of the
    vocabulary whose label the sentence contains, or else a new fact (``new_fact_1`` …) or
    sub-policy, proposed once per label for the whole document."""

    def __init__(self, vocabulary: Vocabulary, document_id: str):
        self.vocabulary = vocabulary
        self.prefix = "" if document_id == vocabulary.home else f"{document_id}:"
        self.new_facts: dict[tuple[str, str], dict] = {}
        self.new_subpolicies: dict[str, str] = {}
        self.terms = self._terms()

    def _terms(self) -> list[tuple[str, tuple]]:
        """Labels worth looking for, longest first: bool facts, enum and list values, conclusions.
        Short labels (无, 金融) and composite ones (新设立 / 新迁入) say too little to be a match."""
        terms = []
        for fid, fact in self.vocabulary.facts.items():
            if fact["type"] == "bool":
                terms.append((_label(fact["zh"]), ("fact", fid, True)))
            if fact["type"] in ("enum", "list"):
                terms += [(_label(zh), ("value", fid, value)) for value, zh in fact["values"].items()]
        terms += [(zh, ("conclusion", cid)) for cid, zh in self.vocabulary.conclusions.items() if len(zh) >= 5]
        usable = [(label, target) for label, target in terms
                  if "…" not in label and "/" not in label and (len(label) >= 3 or re.search(r"[A-Za-z0-9]", label))
                  and len(label) >= 2]
        return sorted(usable, key=lambda t: -len(t[0]))

    def mentions(self, sentence: str) -> list[tuple[int, dict, str]]:
        """(position, condition, note) for every label the sentence contains, longest first and
        not overlapping; a value of several facts goes to the one the sentence names otherwise."""
        masked = text_.masked(sentence)
        taken = [False] * len(sentence)
        found: dict[str, list] = {}
        for label, target in self.terms:
            at = next((m.start() for m in re.finditer(re.escape(label), masked)
                       if not any(taken[m.start():m.end()])), None)
            if at is None:
                continue
            candidates = [t for lab, t in self.terms if lab == label]
            facts = [t for t in candidates if t[0] != "conclusion"] or candidates
            if len(facts) > 1:            # 电子商务 is a value of two facts: the one the sentence names otherwise
                facts = [t for t in facts if t[1] in found]
            if len(facts) != 1:
                continue
            target = facts[0]
            taken[at:at + len(label)] = [True] * len(label)
            found.setdefault(target[1], []).append((at, label, target))
        return [self._condition(fid, hits) for fid, hits in found.items()]

    def _condition(self, key: str, hits: list) -> tuple[int, dict, str]:
        hits = sorted(hits)
        at, label, target = hits[0]
        if target[0] == "conclusion":
            return at, _flow(conclusion=key), f"conclusion: {label} → {key}"
        if target[0] == "fact":
            return at, _flow(fact=key, **{"is": True}), f"fact: {label} → {key} is true"
        values = [t[2] for _, _, t in hits]
        kind = self.vocabulary.facts[key]["type"]
        labels = "、".join(lab for _, lab, _ in hits)
        shown = ", ".join(values)
        if kind == "list":
            return at, _flow(fact=key, includes_any=values), f"values: {labels} → {key} includes_any [{shown}]"
        if len(values) == 1:
            return at, _flow(fact=key, **{"is": values[0]}), f"value: {labels} → {key} is {values[0]}"
        return at, _flow(fact=key, **{"in": values}), f"values: {labels} → {key} in [{shown}]"

    def fact(self, label: str, kinds: tuple[str, ...], new_type: str, cite: str) -> str:
        """The fact of one of ``kinds`` whose label ``label`` contains (the longest), or a new one."""
        matches = [(len(_label(f["zh"])), fid) for fid, f in self.vocabulary.facts.items()
                   if f["type"] in kinds and _label(f["zh"]) and _label(f["zh"]) in label]
        return max(matches)[1] if matches else self.new_fact(label or "TODO", new_type, cite)

    def new_fact(self, label: str, kind: str, cite: str, administrative=False) -> str:
        key = (label, kind)
        if key not in self.new_facts:
            self.new_facts[key] = {"id": f"new_fact_{len(self.new_facts) + 1}", "type": kind, "zh": label,
                                   "source": self.prefix + cite, "administrative": administrative}
        return self.new_facts[key]["id"]

    def describe(self, fid: str) -> str:
        """A fact as a note names it: its id and label, and whether it is new."""
        if fid in self.vocabulary.facts:
            return f"{fid} ({self.vocabulary.facts[fid]['zh']})"
        new = next(f for f in self.new_facts.values() if f["id"] == fid)
        return f"{fid} (new {new['type']} fact: {new['zh']})"

    def recognition(self, sentence: str, cite: str, title: str | None) -> str:
        """The fact a 经认定 stands for: the one recognition fact of this clause in the
        vocabulary (the one sharing most words with the sentence if there are several), or a new one."""
        candidates = [fid for fid, f in self.vocabulary.facts.items() if f["type"] == "bool"
                      and "认定" in f["zh"] and f["source"] == self.prefix + cite]
        if candidates:
            return max(candidates, key=lambda f: (_shared(_label(self.vocabulary.facts[f]["zh"]), sentence), f))
        return self.new_fact(f"经认定（{title or cite}）", "bool", cite, administrative=True)

    def date_fact(self, anchor: str, cite: str) -> str:
        """The date fact a period counts from (自企业设立登记之日起 → registration_date)."""
        for fid, fact in self.vocabulary.facts.items():
            label = re.sub(r"日期$", "", _label(fact["zh"]))
            if fact["type"] == "date" and label and (label in anchor or anchor in label):
                return fid
        return self.new_fact(f"{anchor}日期", "date", cite)

    def quantity_fact(self, unit: str, cite: str) -> str:
        """The number fact a per-unit cap multiplies (每平方米 → the area in m²)."""
        matches = [fid for fid, f in self.vocabulary.facts.items() if f["type"] == "number"
                   and (f["unit"] == _UNIT_OF.get(unit, unit) or unit in f["zh"])]
        return matches[0] if len(matches) == 1 else self.new_fact(f"数量（{unit}）", "number", cite)

    def subpolicy(self, title: str) -> tuple[str, str]:
        for sid, known in self.vocabulary.subpolicies.items():
            if normalize(known) == normalize(title):
                return sid, f"《{title}》 → defers_to {sid}"
        sid = self.new_subpolicies.setdefault(title, f"new_subpolicy_{len(self.new_subpolicies) + 1}")
        return sid, (f"《{title}》 → defers_to {sid}, a new sub-policy (add it to subpolicies.yaml; or, if the "
                     "document is a condition rather than where the amount is set, make it one)")


def _shared(label: str, sentence: str) -> int:
    """The length of the longest run of ``label`` that is in ``sentence``."""
    return max((j - i for i in range(len(label)) for j in range(i + 1, len(label) + 1)
                if label[i:j] in sentence), default=0)


class Flow(dict):
    """A mapping written on one line: {fact: paid_in_capital, at_least: 1亿元}."""


def _flow(**items) -> Flow:
    return Flow(items)


def yuan(amount: int) -> str:
    """Integer yuan as the knowledge base writes money: 1亿元, 500万元, 1500元."""
    if amount and amount % 10**8 == 0:
        return f"{amount // 10**8}亿元"
    if amount and amount % 10**4 == 0:
        return f"{amount // 10**4}万元"
    return f"{amount}元"


# ---------------------------------------------------------------- draft rules

def rule(rule_id: str, unit: text_.Unit, sentence: str, names: Names) -> dict:
    """The draft rule of one granting sentence: its conditions and amount as the sentence
    states them, and review notes saying what was read."""
    findings = text_.analyse(sentence)
    conditions: list[tuple[int, dict, str]] = list(names.mentions(sentence))
    notes: list[str] = []
    for finding in findings:
        conditions += _conditions(finding, unit, sentence, names, notes)
    amount, amount_notes, computed = _amount(findings, unit, names, sentence)
    for fid in computed:                  # the loader needs a test on what the amount is computed from
        conditions.append((len(sentence), _flow(fact=fid, more_than="0元" if fid in _money_facts(names) else 0),
                           f"{fid}: the amount is computed from it, so the rule tests it (more_than 0)"))
    conditions += _over_time(findings, amount, unit, names, amount_notes)
    when, seen = [], set()
    for _, condition, note in sorted(conditions, key=lambda c: c[0]):
        key = condition.get("fact") or condition.get("conclusion")
        if key not in seen:               # one test a fact: 经认定 and a label naming the same recognition
            seen.add(key)
            when.append(condition)
        notes.append(note)
    defers = []
    for finding in (f for f in findings if f.kind == "document"):
        sid, note = names.subpolicy(finding.subject)
        defers.append(sid)
        notes.append(f"named document: {note}")
    rule = {"id": rule_id, "draft": True, "cites": unit.ref, "quote": sentence,
            "when": {"all": when or [_flow(conclusion=TODO + "who qualifies: a conclusion or a fact test")]},
            "then": TODO + "the benefit this sentence grants (an id of conclusions.yaml)", "amount": amount}
    if defers:
        rule["defers_to"] = list(dict.fromkeys(defers))
    rule["explain"] = {"zh": TODO + "用一句话说明这条规则",
                       "en": TODO + "one sentence saying what the rule grants and to whom"}
    rule["review"] = notes + _cautions(rule, unit, names) + amount_notes + [
        "check: the recipient and every condition of the sentence (who, where, when), the benefit (then), "
        "explain and notes; then delete draft: true"]
    return rule


def _cautions(rule: dict, unit: text_.Unit, names: Names) -> list[str]:
    """What the author must do beyond checking: name the new facts the rule uses, and look again
    where the text stops short or the sentence may be a principle rather than a benefit."""
    amount = rule["amount"]
    used = [c.get("fact") for c in rule["when"]["all"]] + [amount.get("of")] + \
        [c.get("per") for c in amount.get("caps", [])]
    notes = [f"{fact['id']}: a new {fact['type']} fact, {fact['zh']} — name it in English and add it to "
             "facts.yaml (proposed at the end of this file), or use an existing fact"
             for fact in names.new_facts.values() if fact["id"] in used]
    if unit.partial and unit.text.endswith(rule["quote"]):
        notes.append(f"the text of {unit.ref} stops here (partial): what it grants may be in the missing part "
                     "(text_missing)")
    if re.search(r"不重复|就高", rule["quote"]):
        notes.append("不重复/就高: this may be the overlap principle (knowledge_base.yaml overlaps), not a benefit")
    return notes


def _money_facts(names: Names) -> set[str]:
    money = {fid for fid, f in names.vocabulary.facts.items() if f["type"] == "money"}
    return money | {f["id"] for f in names.new_facts.values() if f["type"] == "money"}


def _conditions(finding: text_.Finding, unit: text_.Unit, sentence: str, names: Names,
                notes: list[str]) -> list[tuple[int, dict, str]]:
    """The conditions a threshold, period or recognition proposes; notes for a period that is
    not a condition (连续三年, 每年) or a number in a condition that sets no threshold."""
    if finding.kind == "threshold":
        kinds = ("money",) if finding.quantity == "money" else ("number",)
        fid = names.fact(finding.subject, kinds, kinds[0], unit.ref)
        value = finding.value
        if finding.quantity == "money":
            value = yuan(value)
        elif finding.quantity == "percent":   # a number fact holds a percentage as its number: 20 for 20%
            value = int(value * 100) if (value * 100).denominator == 1 else format_percent(value)[:-1]
        inclusive = {"at_least": "includes", "at_most": "includes"}.get(finding.op, "excludes")
        return [(finding.start, _flow(fact=fid, **{finding.op: value}),
                 f"threshold: {finding.text} → {names.describe(fid)} {finding.op} {value} "
                 f"({inclusive} the number)")]
    if finding.kind == "period" and finding.bound == "since" and finding.value:
        fid = names.date_fact(finding.subject, unit.ref)
        return [(finding.start, _flow(fact=fid, within_years=finding.value),
                 f"period: {finding.text} → {names.describe(fid)} within_years {finding.value}")]
    if finding.kind == "recognition":
        fid = names.recognition(sentence, unit.ref, unit.title)
        return [(finding.start, _flow(fact=fid, **{"is": True}),
                 f"recognition: {finding.text} → {names.describe(fid)} is true (an administrative fact)")]
    if finding.kind == "period" and finding.bound not in ("per_year", "consecutive"):   # those: per_year
        what = {"within": f"within {finding.value} years of what? a within_years condition on a date fact",
                "recent": f"the last {finding.value} years: a condition on the enterprise's record",
                "since": "counted from this date: a condition on a date fact"}[finding.bound]
        notes.append(f"period: {finding.text} → {what}")
    elif finding.kind == "mention":
        notes.append(f"amount in a condition: {finding.text} ({finding.subject}) — which threshold? none proposed")
    return []


def _amount(findings: list[text_.Finding], unit: text_.Unit, names: Names,
            sentence: str) -> tuple[dict, list[str], list[str]]:
    """The amount the sentence fixes — a share with its caps, a range, a ceiling (up_to), one
    sum (a range from it to itself) or, if none, not_fixed with its terms — the review notes,
    and the facts it is computed from."""
    kinds = {kind: [f for f in findings if f.kind == kind] for kind in AMOUNT_KINDS}
    notes = [_amount_note(f) for f in findings if f.kind in AMOUNT_KINDS and f.kind != "cumulative_cap"]
    caps = [f for f in findings if f.kind in ("cap", "per_unit")]
    computed: list[str] = []
    if kinds["share"]:
        share = kinds["share"][0]
        of = names.fact(share.subject, ("money",), "money", unit.ref)
        notes.append(f"share of: {share.subject} → {names.describe(of)}")
        amount = {"share": format_percent(share.value), "of": of, "share_is": share.bound}
        amount["caps"] = [{"max": yuan(c.value)} if c.kind == "cap" else None for c in caps]
        for index, cap in enumerate(caps):
            if cap.kind == "per_unit":
                per = names.quantity_fact(cap.subject, unit.ref)
                amount["caps"][index] = {"per_unit": yuan(cap.value), "per": per}
                notes.append(f"per unit: 每{cap.subject} → {names.describe(per)}")
                computed.append(per)
        if not amount["caps"]:
            del amount["caps"]
        return amount, notes, [of] + computed
    if kinds["per_unit"]:
        notes.append("a per-unit cap needs a share (share, of, caps: per_unit): say what the amount is of")
    if kinds["range_min"]:
        return {"range": {"min": yuan(kinds["range_min"][0].value), "max": yuan(kinds["range_max"][0].value)}}, notes, []
    ceilings = kinds["cap"] or kinds["cumulative_cap"]
    if ceilings:
        return {"up_to": yuan(ceilings[0].value)}, notes, []
    if kinds["amount"]:
        value = yuan(kinds["amount"][0].value)
        notes.append("one sum: written as a range from it to itself")
        return {"range": {"min": value, "max": value}}, notes, []
    return {"not_fixed": True, "terms": {"zh": _terms(sentence), "en": TODO + "the terms in English"}}, notes, []


def _over_time(findings, amount: dict, unit: text_.Unit, names: Names,
               notes: list[str]) -> list[tuple[int, dict, str]]:
    """The amount's terms over time: ``per_year`` (每年, 连续三年: one year's amount, for at most
    N years, counted from the date a 自…之日起N年内 names) and ``cumulative`` (累计…不超过: the
    most in all, less what the enterprise already received — a new money fact the rule tests)."""
    periods = {f.bound: f for f in findings if f.kind == "period"}
    if "per_year" in periods or "consecutive" in periods:
        years = periods["consecutive"].value if "consecutive" in periods else None
        amount["per_year"] = {"years": years} if years else {}
        since = periods.get("since")
        if since and since.value and since.value == years:
            amount["per_year"]["from"] = names.date_fact(since.subject, unit.ref)
        notes.append(f"per_year: {', '.join(p.text for p in periods.values() if p.bound != 'since')} → "
                     f"{_inline(amount['per_year'])}: the amount is one year's, for at most the years given"
                     + ("" if years else " (the text gives no limit: check)"))
    cumulative = next((f for f in findings if f.kind == "cumulative_cap"), None)
    if cumulative is None:
        return []
    received = names.new_fact(f"已获{unit.title or '本项支持'}累计金额", "money", unit.ref)
    amount["cumulative"] = {"max": yuan(cumulative.value), "received": received}
    return [(cumulative.start, _flow(fact=received, less_than=yuan(cumulative.value)),
             f"cumulative cap: {cumulative.text} → cumulative max {yuan(cumulative.value)}, the total for one "
             f"enterprise; {names.describe(received)} is what it already received, tested less_than the cap")]


def _inline(mapping: dict) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in mapping.items()) + "}"


def _amount_note(finding: text_.Finding) -> str:
    value = format_percent(finding.value) if finding.kind == "share" else yuan(finding.value)
    what = {"range_min": "range min", "range_max": "range max", "amount": "amount", "cap": "cap max",
            "share": f"share ({finding.bound}: 按照…的 fixes it, 最高/不超过 bound it)",
            "per_unit": f"per-unit cap (每{finding.subject})"}[finding.kind]
    return f"{what}: {finding.text} → {value}"


def _terms(sentence: str) -> str:
    """How the text words a benefit whose amount it does not fix: from the grant on, or the
    phrase that grants."""
    match = re.search(r"(?:给予|予以)(.+)$", sentence)
    if match and len(match.group(1)) >= 4:
        return match.group(1)
    grant = text_.GRANT.search(text_.masked(sentence))
    start = sentence.rfind("，", 0, grant.start()) + 1 if grant else 0
    end = sentence.find("，", grant.end() if grant else 0)
    return sentence[start:end if end >= 0 else None]
