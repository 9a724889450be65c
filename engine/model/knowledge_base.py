"""What a knowledge base is: documents, articles, clauses, facts, conclusions, rules, amounts.

These dataclasses are what :func:`engine.loading.load` builds from ``kb/`` and what every
stage above reads: compiling turns rules into checks and rulesets, inferring evaluates them,
explaining and rendering show them. A rule's ``when`` is a condition of
:mod:`engine.model.conditions`. Citations are canonical strings: ``"13(1)"`` for the home
document, ``"<document>:2(1)"`` for the others; ``notice`` and ``preamble`` name a document's
notice and preamble.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FACT_TYPES = ("bool", "enum", "money", "number", "date", "string", "list", "records")
RECORD_FIELD_TYPES = ("benefit", "money", "string")
#: What a fact is when the enterprise cannot act on it: its past (how it was established, its
#: first listing) or its identity (its industry). why-not marks a proposed change of such a fact.
FACT_NATURES = ("past", "identity")
#: Field names the compiled engine facts use for themselves.
RESERVED_FACTS = ("t", "sid", "id")
#: Parts of a document that are not articles but may be cited and quoted.
SPECIAL_PARTS = {"notice": ("印发通知", "notice"), "preamble": ("序言", "preamble")}


@dataclass(frozen=True)
class Where:
    file: str | None
    line: int | None
    column: int | None = None

    def __str__(self):
        return ":".join(str(p) for p in (self.file, self.line, self.column) if p is not None)


@dataclass
class Clause:
    id: str          # the canonical citation: "13(1)", or "implementation_rules_2021:2(1)"
    article: int
    title: str
    title_en: str
    gloss: str
    text: str
    where: Where
    document: str = ""
    partial: bool = False        # the retrieved text of this clause stops before its end


@dataclass
class Article:
    number: int
    title: str
    title_en: str
    gloss: str
    text: str
    clauses: list[Clause]
    where: Where
    document: str = ""
    partial: bool = False
    ref: str = ""                # the canonical citation, set by the loader
    not_encoded: str = ""        # why no rule computes from this article (document.yaml)

    @property
    def id(self) -> str:
        return self.ref or str(self.number)


@dataclass
class Document:
    """One policy document: what it is, when it applies, and which parts of it are available."""

    id: str
    title: str
    title_en: str
    short: dict[str, str]        # how people name it briefly, zh and en
    data: dict                   # every key of document.yaml (dates parsed)
    folder: Path
    where: Where
    home: bool = False
    parts: dict[str, str] = field(default_factory=dict)   # local citation -> canonical citation

    @property
    def effective_date(self):
        return self.data.get("effective_date")

    @property
    def expiry_date(self):
        return self.data.get("expiry_date")

    @property
    def implements(self) -> str | None:
        return self.data.get("implements")

    def in_force(self, as_of) -> bool | None:
        """Whether the document applies at ``as_of``: None when that date, or the document's
        own start that would decide it, is unknown. A document with no known end
        (``expiry_date: null``) applies from its effective date on; one with no known start
        (``effective_date: null``) is known not to apply only after its end."""
        if as_of is None:
            return None
        start, end = self.effective_date, self.expiry_date
        if end is not None and as_of > end:
            return False
        if start is None:
            return None
        return as_of >= start

    def label(self, lang: str = "zh") -> str:
        return self.short["zh" if lang == "zh" else "en"]


@dataclass
class Overlap:
    """Benefits of different documents that pay for the same thing: not stacked (Article 14,
    实施细则 第三条); the higher applies where the amounts compare."""

    id: str
    benefits: tuple[str, ...]
    why: dict[str, str]
    notes: str
    where: Where
    cites: list[str] = field(default_factory=list)   # where not stacking them comes from


@dataclass
class NewerPrevails:
    """Article 14: a newer policy prevails where it conflicts with the measures, from its own
    date and not reaching back. ``conflicts`` lists benefit pairs (newer, older) the texts set
    against each other; the available texts give none, so it is empty in the bundled base."""

    id: str
    newer: str
    older: str
    cites: str
    quote: str
    conflicts: list[tuple[str, str]]
    notes: str
    where: Where


@dataclass
class SubPolicy:
    id: str
    title: str
    title_en: str
    named: bool
    deferred_by: list[str]
    notes: str
    where: Where
    encoded_as: str | None = None    # the document of this knowledge base that this sub-policy is


@dataclass
class Fact:
    id: str
    type: str
    zh: str
    en: str
    source: str
    unit: str | None
    values: dict[str, dict]      # enum / list values with their zh and en labels
    administrative: bool
    added: bool
    display_only: bool
    description: str
    fields: dict[str, str]       # records: field name -> type
    where: Where
    nature: str | None = None    # "past" | "identity": a fact the enterprise cannot act on (FACT_NATURES)
    signed: bool = False         # money that can fall below zero (an increment), so -9990 is a value
    description_zh: str = ""     # the description in Chinese, for people reading in Chinese

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def describe(self, lang: str) -> str:
        """The description in ``lang`` (the English one where no Chinese is written)."""
        return self.description_zh if lang == "zh" and self.description_zh else self.description


@dataclass
class Conclusion:
    id: str
    kind: str                    # "conclusion" | "benefit"
    article: str                 # the article or clause reference
    zh: str
    en: str
    where: Where
    internal: bool = False       # a step towards others, not reported in results
    document: str = ""           # the document whose folder defines it

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass
class Amount:
    """How a benefit's amount is fixed by the text."""

    basis: str                   # "range" | "up_to" | "share" | "not_fixed" | "services"
    min: int | None = None
    max: int | None = None
    share: Any = None            # Fraction
    of: str | None = None        # the fact the share is of
    share_is: str | None = None  # "fixed" | "up_to"
    caps: list[dict] = field(default_factory=list)   # {"max": int} | {"per_unit": int, "per": fact}
    terms: dict | None = None
    services: list[dict] = field(default_factory=list)
    #: 每年…: the amount is granted each year, for at most ``years`` years (None: the text sets
    #: no limit), counted from the date fact ``from`` where the text names the start
    #: (``{"years": 3, "from": "project_start_date"}``).
    per_year: dict | None = None
    #: 同一主体累计支持不超过…: at most ``max`` in all for one enterprise, less what it already
    #: received under the benefit, the money fact ``received`` (``{"max": 10000000, "received": …}``).
    cumulative: dict | None = None

    def facts_needed(self) -> list[str]:
        """The facts the amount is computed from: known wherever the rule grants it."""
        needed = []
        if self.basis == "share":
            needed += [self.of] + [cap["per"] for cap in self.caps if "per" in cap]
        if self.per_year and self.per_year.get("from"):
            needed.append(self.per_year["from"])
        if self.cumulative:
            needed.append(self.cumulative["received"])
        return needed


@dataclass
class Rule:
    id: str
    cites: str
    also_cites: list[str]
    quote: str
    when: Any                    # a condition
    then: str
    amount: Amount | None
    defers_to: list[str]
    explain: dict[str, str]
    notes: str
    where: Where
    document: str = ""
    text_missing: str = ""       # the text that would decide this branch is missing: it never grants

    @property
    def undecidable(self) -> bool:
        return bool(self.text_missing)


@dataclass
class Draft:
    """A draft rule not yet reviewed: where it is, what it cites, and what its review notes ask."""

    id: str
    cites: str
    review: list[str]
    where: Where
    document: str = ""


@dataclass
class Precedence:
    id: str
    cites: str
    quote: str
    input: str
    explain: dict[str, str]
    notes: str
    where: Where


@dataclass
class KnowledgeBase:
    root: Path
    document: dict
    articles: dict[str, Article]
    clauses: dict[str, Clause]
    subpolicies: dict[str, SubPolicy]
    facts: dict[str, Fact]
    conclusions: dict[str, Conclusion]
    rules: dict[str, Rule]
    precedence: list[Precedence]
    version: str
    order: list[str] = field(default_factory=list)   # conclusions in dependency order
    documents: dict[str, Document] = field(default_factory=dict)
    overlaps: list[Overlap] = field(default_factory=list)
    newer_prevails: list[NewerPrevails] = field(default_factory=list)
    special_parts: dict[str, str] = field(default_factory=dict)   # "doc:notice" -> its text
    citations: Any = field(default=None, repr=False, compare=False)   # resolves references (loader)
    home_document: str = ""      # kept by a subset that leaves the home document out
    #: Rules written by ``policykb draft`` and not yet reviewed (``draft: true``): kept aside,
    #: never evaluated, listed by ``check`` (and refused by ``check --strict``).
    drafts: list["Draft"] = field(default_factory=list)

    @property
    def home(self) -> str:
        return self.home_document or next(iter(self.documents))

    def document_of(self, ref: str) -> str:
        """The document a canonical citation belongs to."""
        return ref.split(":", 1)[0] if ":" in ref else self.home

    def citation(self, ref: str, lang: str = "zh") -> dict:
        """A citation as data: its document, article number (None for a notice or preamble),
        clause (local, e.g. "2(1)"), and how people write it."""
        local = self.local(ref)
        head = local.split("(")[0]
        return {"document": self.document_of(ref), "article": int(head) if head.isdigit() else None,
                "clause": local if "(" in local else None, "citation": self.label(ref, lang)}

    def local(self, ref: str) -> str:
        """A citation within its own document: "2(1)" for "implementation_rules_2021:2(1)"."""
        return ref.split(":", 1)[1] if ":" in ref else ref

    @property
    def benefits(self) -> dict[str, Conclusion]:
        # Built once per set of conclusions: results ask for it several times per profile.
        cached = self.__dict__.get("_benefits")
        if cached is None or cached[0] is not self.conclusions or cached[1] != len(self.conclusions):
            cached = self.__dict__["_benefits"] = (self.conclusions, len(self.conclusions), {
                k: v for k, v in self.conclusions.items() if v.kind == "benefit"})
        return cached[2]

    @property
    def examples_dir(self) -> Path:
        return self.root / "examples"

    @property
    def scenarios_dir(self) -> Path:
        return self.root / "scenarios"

    def text_of(self, ref: str) -> str:
        """The text of an article ("14"), a clause ("13(1)"), or a document's notice or preamble."""
        if ref in self.clauses:
            return self.clauses[ref].text
        if ref in self.special_parts:
            return self.special_parts[ref]
        return self.articles[ref].text

    def rules_for(self, conclusion_id: str) -> list[Rule]:
        """The rules deriving a conclusion, in knowledge-base order (indexed on first use)."""
        index = self.__dict__.get("_rules_by_conclusion")
        if index is None or index[0] != len(self.rules):
            table: dict[str, list[Rule]] = {}
            for rule in self.rules.values():
                table.setdefault(rule.then, []).append(rule)
            index = self.__dict__["_rules_by_conclusion"] = (len(self.rules), table)
        return index[1].get(conclusion_id, [])

    def label(self, ref: str, lang: str = "zh") -> str:
        """A citation as people write it: 第十三条第（一）项 / Art. 13(1) in the home document;
        another document's is prefixed with its short name: 《实施细则》第二条第（一）项."""
        document, local = self.document_of(ref), self.local(ref)
        prefix = ""
        if document != self.home and document in self.documents:
            name = self.documents[document].label(lang)
            prefix = f"《{name}》" if lang == "zh" else f"{name}, "
        if local in SPECIAL_PARTS:
            return prefix + SPECIAL_PARTS[local][0 if lang == "zh" else 1]
        if lang == "en":
            return f"{prefix}Art. {local}"
        match = re.fullmatch(r"(\d+)\((\d+)\)", local)
        if match:
            return f"{prefix}第{_cn_number(int(match.group(1)))}条第（{_cn_number(int(match.group(2)))}）项"
        return f"{prefix}第{_cn_number(int(local))}条"


def _cn_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
