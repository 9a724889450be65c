"""Loading and validating a knowledge base (``kb/``).

A knowledge base is a folder of YAML files:

- ``knowledge_base.yaml`` — the documents encoded, in order (the first is the *home* document,
  whose articles are cited without a prefix), and what holds between them: benefits of
  different documents that pay for the same thing (``overlaps``) and newer-prevails relations;
- ``facts.yaml`` — the input facts of a profile, one vocabulary shared by every document;
- ``documents/<id>/`` — one folder per document: ``document.yaml`` (its metadata, which parts
  of its text are available, its articles and clauses), its published text, its
  ``conclusions.yaml``, optionally ``subpolicies.yaml`` (the policies it defers to), and
  ``rules/*.yaml`` — the rules, each citing ``document:article(clause)`` (the document's own
  articles without a prefix), and precedence rules;
- ``examples/`` and ``scenarios/`` — profiles and expected results (not part of the logic).

A folder holding ``document.yaml``, ``subpolicies.yaml``, ``conclusions.yaml`` and ``rules/``
at its top (the layout of a one-document knowledge base) is read as one document.

Citations are canonical strings: ``"13(1)"`` for the home document, ``"<document>:2(1)"`` for
the others; ``notice`` and ``preamble`` name a document's notice and preamble.

:func:`load` reads them safely, checks every key, reference, value and citation, and returns a
:class:`KnowledgeBase`. Every problem is a :class:`~engine.errors.KnowledgeBaseError` naming the
file and line, with the nearest known name where one exists.
"""

from __future__ import annotations

import hashlib
import heapq
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.compiling import conditions as cond
from engine.errors import KnowledgeBaseError, nearest
from engine.loading.values import ValueProblem, parse_date, parse_money, parse_number, parse_percent
from engine.loading.yamlio import Mapping, Sequence, load_file

FACT_TYPES = ("bool", "enum", "money", "number", "date", "string", "list", "records")
RECORD_FIELD_TYPES = ("benefit", "money", "string")
#: What a fact is when the enterprise cannot act on it: its past (how it was established, its
#: first listing) or its identity (its industry). why-not marks a proposed change of such a fact.
FACT_NATURES = ("past", "identity")
#: Field names the compiled engine facts use for themselves.
RESERVED_FACTS = ("t", "sid", "id")
LOGIC_FILES = ("document.yaml", "subpolicies.yaml", "facts.yaml", "conclusions.yaml")
#: The index of a knowledge base of several documents, and the folder that holds them.
INDEX_FILE = "knowledge_base.yaml"
DOCUMENTS_DIR = "documents"
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
        """Whether the document applies at ``as_of``: None when the date is unknown. A document
        with no known end (``expiry_date: null``) applies from its effective date on."""
        if as_of is None:
            return None
        if as_of < self.effective_date:
            return False
        return self.expiry_date is None or as_of <= self.expiry_date

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


# --------------------------------------------------------------------------- reading helpers

class _Reader:
    """Checks one YAML mapping's keys and values, raising located errors."""

    def __init__(self, data: Any, what: str, file: str, line: int | None = None):
        self.file = getattr(data, "file", None) or file
        self.line = getattr(data, "line", None) or line
        self.what = what
        if not isinstance(data, dict):
            raise KnowledgeBaseError(f"{what} must be a mapping, not {_kind(data)}",
                                     file=self.file, line=self.line)
        self.data = data

    def error(self, message, key=None, **extra) -> KnowledgeBaseError:
        mapping = isinstance(self.data, Mapping)
        line = self.data.line_of(key) if (key is not None and mapping) else self.line
        column = (self.data.column_of(key) if key is not None else self.data.column) if mapping else None
        return KnowledgeBaseError(message, file=self.file, line=line, column=column, **extra)

    def keys(self, required: tuple, optional: tuple = ()):
        allowed = required + optional
        for key in self.data:
            if key not in allowed:
                raise self.error(f"unknown key '{key}' in {self.what}", key,
                                 suggestion=nearest(key, allowed), allowed=allowed)
        for key in required:
            if key not in self.data:
                raise self.error(f"{self.what} has no '{key}'")

    def text(self, key, default=None, required=True) -> str:
        value = self.data.get(key, default)
        if value is None and not required:
            return default
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.error(f"'{key}' of {self.what} must be non-empty text", key)
        return value.strip()

    def list(self, key, default=None) -> list:
        value = self.data.get(key, default)
        if value is None:
            value = []
        if not isinstance(value, list):
            raise self.error(f"'{key}' of {self.what} must be a list", key)
        return value

    def where(self) -> Where:
        return Where(self.file, self.line, getattr(self.data, "column", None))


def _kind(value) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false",
            int: "a number", float: "a number", type(None): "nothing"}.get(type(value), type(value).__name__)


def _normalize(text: str) -> str:
    """Text for quote matching: no white space, full-width punctuation as in the document."""
    text = re.sub(r"\s+", "", text)
    for half, full in ((",", "，"), (";", "；"), (":", "："), ("(", "（"), (")", "）")):
        text = text.replace(half, full)
    return text


# --------------------------------------------------------------------------- loading

def load(path: str | Path | None = None) -> KnowledgeBase:
    """Load and validate a knowledge base folder (default: the bundled one).

    Raises
    ------
    KnowledgeBaseError
        For any malformed file, unknown key, unresolved reference, bad value, wrong citation
        (including a citation of a part of a document whose text is not available), duplicate
        id, or cycle among conclusions; the error names the file and line.
    """
    root = kb_folder(path)
    if not root.is_dir():
        raise KnowledgeBaseError("knowledge base folder not found", file=str(root))
    if not (root / "facts.yaml").is_file():
        raise KnowledgeBaseError("the knowledge base has no facts.yaml", file=str(root / "facts.yaml"))
    index = load_file(root / INDEX_FILE, KnowledgeBaseError) if (root / INDEX_FILE).is_file() else None
    folders = _document_folders(root, index)
    citations = _Citations()
    documents: dict[str, Document] = {}
    files: list[Path] = [root / "facts.yaml"] + ([root / INDEX_FILE] if index is not None else [])
    for folder in folders:
        document = _document(folder, citations, home=not documents)
        if document.id in documents:
            raise KnowledgeBaseError(f"document '{document.id}' is encoded twice (first in "
                                     f"{documents[document.id].folder})", file=document.where.file,
                                     line=document.where.line)
        documents[document.id] = document
    facts = _facts(load_file(root / "facts.yaml", KnowledgeBaseError), str(root / "facts.yaml"), citations, None)
    kb = KnowledgeBase(root=root, document=documents[next(iter(documents))].data, articles=citations.articles,
                       clauses=citations.clauses, subpolicies={}, facts=facts, conclusions={}, rules={},
                       precedence=[], version="", documents=documents, special_parts=citations.special,
                       citations=citations)
    rule_files = []
    for document in documents.values():
        folder = document.folder
        files += [folder / "document.yaml", folder / "conclusions.yaml"]
        if (folder / "subpolicies.yaml").is_file():
            files.append(folder / "subpolicies.yaml")
            kb.subpolicies.update(_subpolicies(load_file(folder / "subpolicies.yaml", KnowledgeBaseError),
                                               str(folder / "subpolicies.yaml"), citations, document.id,
                                               kb.subpolicies))
        kb.conclusions.update(_conclusions(load_file(folder / "conclusions.yaml", KnowledgeBaseError),
                                           str(folder / "conclusions.yaml"), citations, document.id, facts,
                                           kb.conclusions))
        rule_files += [(document.id, f) for f in sorted((folder / "rules").glob("*.yaml"))]
    if not rule_files:
        raise KnowledgeBaseError("the knowledge base has no rules/*.yaml", file=str(folders[0] / "rules"))
    kb.version = _version(root, files + [f for _, f in rule_files])
    for document_id, rule_file in rule_files:
        _rules_file(kb, load_file(rule_file, KnowledgeBaseError), str(rule_file), document_id)
    if index is not None:
        _relations(kb, index, str(root / INDEX_FILE))
    _check_whole(kb)
    return kb


def _document_folders(root: Path, index) -> list[Path]:
    """The document folders, home first: those the index lists, or the root itself when it is
    a one-document knowledge base."""
    if index is None:
        for name in LOGIC_FILES:
            if not (root / name).is_file():
                raise KnowledgeBaseError(f"the knowledge base has no {name} (nor a {INDEX_FILE} listing "
                                         f"{DOCUMENTS_DIR}/)", file=str(root / name))
        return [root]
    top = _Reader(index, INDEX_FILE, str(root / INDEX_FILE))
    top.keys(("documents",), ("overlaps", "newer_prevails"))
    listed = [str(d) for d in top.list("documents")]
    folder = root / DOCUMENTS_DIR
    present = sorted(p.name for p in folder.iterdir() if (p / "document.yaml").is_file()) if folder.is_dir() else []
    if not listed:
        raise top.error("'documents' lists no document", "documents")
    for name in listed:
        if name not in present:
            raise top.error(f"document '{name}' has no folder {DOCUMENTS_DIR}/{name}/ with a document.yaml",
                            "documents", suggestion=nearest(name, present))
    for name in present:
        if name not in listed:
            raise top.error(f"{DOCUMENTS_DIR}/{name}/ is not listed under 'documents'", "documents")
    return [root / DOCUMENTS_DIR / name for name in listed]


def kb_folder(path: str | Path | None) -> Path:
    """The folder a ``--kb`` option (or a ``kb=`` argument) names; ``None`` is the bundled one.

    An empty or blank name is refused: taken as "no option" it would silently check or
    evaluate against the bundled knowledge base, and as a path it would be the current folder.

    Raises
    ------
    KnowledgeBaseError
        For an empty or blank name.
    """
    if path is None:
        return bundled_kb()
    if not str(path).strip():
        raise KnowledgeBaseError(f"--kb {str(path)!r} is empty: name a knowledge base folder (e.g. --kb kb; "
                                 "for diff, --old and --new), or leave --kb out to use the bundled one")
    return Path(path)


def bundled_kb() -> Path:
    """The knowledge base shipped with the package (installed) or beside it (source checkout)."""
    package = Path(__file__).resolve().parents[1]    # engine/, this file being engine/loading/kb.py
    installed = package / "kb"
    if (installed / "facts.yaml").is_file():
        return installed
    return package.parent / "kb"


def is_kb_folder(folder: Path) -> bool:
    """Whether ``folder`` is the top of a knowledge base (either layout)."""
    return (folder / "facts.yaml").is_file() and (
        (folder / INDEX_FILE).is_file() or (folder / "document.yaml").is_file())


def _version(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()[:16]


class _Citations:
    """Every citable part of every document, by canonical citation, for resolving references."""

    def __init__(self):
        self.documents: dict[str, Document] = {}
        self.articles: dict[str, Article] = {}
        self.clauses: dict[str, Clause] = {}
        self.special: dict[str, str] = {}
        self.home: str | None = None

    def canonical(self, document: str, local: str) -> str:
        return local if document == self.home else f"{document}:{local}"

    def add(self, document: Document, articles, specials: dict[str, str]) -> None:
        if self.home is None:
            self.home = document.id
        self.documents[document.id] = document
        for article in articles:
            article.document, article.ref = document.id, self.canonical(document.id, str(article.number))
            document.parts[str(article.number)] = article.ref
            self.articles[article.ref] = article
            for clause in article.clauses:
                local = clause.id
                clause.document, clause.id = document.id, self.canonical(document.id, local)
                document.parts[local] = clause.id
                self.clauses[clause.id] = clause
        for part, text in specials.items():
            ref = self.canonical(document.id, part)
            document.parts[part] = ref
            self.special[ref] = text

    def resolve(self, reader: "_Reader", key, value, document: str | None) -> str:
        """A reference as written (``13(1)``, ``implementation_rules_2021:2(1)``) in the
        context of ``document`` (None: the home document), as a canonical citation."""
        text = str(value).strip() if value is not None else ""
        owner, local = (text.split(":", 1) if ":" in text else (document or self.home, text))
        if owner not in self.documents:
            raise reader.error(f"'{owner}' is not a document of the knowledge base", key,
                               suggestion=nearest(owner, self.documents), allowed=list(self.documents))
        doc = self.documents[owner]
        if local not in doc.parts:
            missing = doc.data.get("missing") or []
            if missing:
                raise reader.error(f"'{local}' is not in the available text of {owner} (available: "
                                   f"{doc.data.get('available')}; missing: {'; '.join(missing)})", key,
                                   suggestion=nearest(local, doc.parts))
            raise reader.error(f"'{local}' is not an article or clause of {owner}", key,
                               suggestion=nearest(local, doc.parts))
        return doc.parts[local]


_DOCUMENT_KEYS = ("id", "title", "title_en", "issuer", "issuer_en", "issue_date", "effective_date", "expiry_date")
_DOCUMENT_OPTIONAL = ("doc_number", "print_date", "validity_years", "interpreting_body", "interpreting_body_en",
                      "contacts", "source", "notes", "preamble", "notice", "short", "implements", "available",
                      "missing")


def _document(folder: Path, citations: _Citations, home: bool) -> Document:
    """Read one document's document.yaml and register its citable parts."""
    file = str(folder / "document.yaml")
    data = load_file(folder / "document.yaml", KnowledgeBaseError)
    top = _Reader(data, "document.yaml", file)
    top.keys(("document", "articles"))
    doc = _Reader(top.data["document"], "document", file)
    doc.keys(_DOCUMENT_KEYS, _DOCUMENT_OPTIONAL)
    fields = dict(doc.data)
    for key in ("issue_date", "print_date", "effective_date", "expiry_date"):
        if key not in doc.data or (key == "expiry_date" and doc.data[key] is None):
            continue
        try:
            fields[key] = parse_date(doc.data[key])
        except ValueProblem as exc:
            raise doc.error(str(exc), key) from None
    if fields.get("expiry_date") is not None and fields["expiry_date"] < fields["effective_date"]:
        raise doc.error("expiry_date is before effective_date", "expiry_date")
    short = fields.get("short") or {"zh": fields["title"], "en": fields["title_en"]}
    if not isinstance(short, dict) or set(short) != {"zh", "en"}:
        raise doc.error("'short' needs exactly zh and en", "short")
    document = Document(doc.text("id"), doc.text("title"), doc.text("title_en"), dict(short), fields, folder,
                        doc.where(), home=home)
    articles = _articles(top, file)
    specials = {part: " ".join(str(fields[part]).split()) for part in SPECIAL_PARTS if fields.get(part)}
    citations.add(document, articles, specials)
    return document


def _articles(top: "_Reader", file) -> list[Article]:
    articles: dict[str, Article] = {}
    items = top.list("articles")
    for index, item in enumerate(items):
        reader = _Reader(item, "an article", file, items.line_of(index) if isinstance(items, Sequence) else None)
        reader.keys(("article", "title", "title_en", "gloss", "text"), ("clauses", "partial", "not_encoded"))
        number = reader.data["article"]
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 99:
            raise reader.error("'article' must be the article's number", "article")
        if str(number) in articles:
            raise reader.error(f"article {number} is defined twice (first at "
                               f"{articles[str(number)].where})", "article")
        article_clauses = []
        for c_index, c_item in enumerate(reader.list("clauses")):
            c_reader = _Reader(c_item, f"a clause of article {number}", file)
            c_reader.keys(("clause", "title", "title_en", "gloss", "text"), ("partial",))
            clause_id = c_reader.text("clause")
            expected = f"{number}({c_index + 1})"
            if clause_id != expected:
                raise c_reader.error(f"clause '{clause_id}' should be '{expected}' (clauses are "
                                     "numbered in order)", "clause")
            article_clauses.append(Clause(clause_id, number, c_reader.text("title"), c_reader.text("title_en"),
                                          c_reader.text("gloss"), c_reader.text("text"), c_reader.where(),
                                          partial=bool(c_reader.data.get("partial", False))))
        articles[str(number)] = Article(number, reader.text("title"), reader.text("title_en"),
                                        reader.text("gloss"), reader.text("text"), article_clauses,
                                        reader.where(), partial=bool(reader.data.get("partial", False)),
                                        not_encoded=reader.text("not_encoded", "", required=False))
    expected = [str(n) for n in range(1, len(articles) + 1)]
    if list(articles) != expected:
        raise top.error(f"articles must be numbered 1 to {len(articles)} in order", "articles")
    return list(articles.values())


def _ref(reader: _Reader, key, value, citations: "_Citations", document: str | None = None) -> str:
    """Check an article ("14"), clause ("13(1)") or other document's ("doc:2(1)") reference,
    returning its canonical citation."""
    return citations.resolve(reader, key, value, document)


def _subpolicies(data, file, citations, document, known):
    top = _Reader(data, "subpolicies.yaml", file)
    top.keys(("subpolicies",))
    found: dict[str, SubPolicy] = {}
    for item in top.list("subpolicies"):
        reader = _Reader(item, "a sub-policy", file)
        reader.keys(("id", "title", "title_en", "named", "deferred_by"), ("notes", "encoded_as"))
        sid = reader.text("id")
        if sid in found or sid in known:
            first = (found.get(sid) or known[sid]).where
            raise reader.error(f"sub-policy '{sid}' is defined twice (first at {first})", "id")
        refs = [_ref(reader, "deferred_by", r, citations, document) for r in reader.list("deferred_by")]
        if not refs:
            raise reader.error(f"sub-policy '{sid}' is deferred to by no article or clause", "deferred_by")
        named = reader.data["named"]
        if not isinstance(named, bool):
            raise reader.error("'named' must be true or false", "named")
        title = reader.text("title")
        texts = [citations.articles[r].text if r in citations.articles else citations.clauses[r].text for r in refs]
        if named and not any(_normalize(title) in _normalize(text) for text in texts):
            raise reader.error(f"the title '{title}' does not appear in the text of "
                               f"{', '.join(refs)}", "title")
        encoded = reader.data.get("encoded_as")
        if encoded is not None and encoded not in citations.documents:
            raise reader.error(f"'{encoded}' is not a document of the knowledge base", "encoded_as",
                               suggestion=nearest(str(encoded), citations.documents))
        found[sid] = SubPolicy(sid, title, reader.text("title_en"), named, refs,
                               reader.text("notes", "", required=False), reader.where(), encoded)
    return found


def _facts(data, file, articles, clauses):
    top = _Reader(data, "facts.yaml", file)
    top.keys(("facts",))
    found: dict[str, Fact] = {}
    for item in top.list("facts"):
        reader = _Reader(item, "a fact", file)
        reader.keys(("id", "type", "zh", "en", "source"),
                    ("unit", "values", "administrative", "added", "display_only", "description", "description_zh",
                     "fields", "nature", "signed"))
        fid = reader.text("id")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", fid):
            raise reader.error(f"fact id '{fid}' must be lower_snake_case", "id")
        if fid in found:
            raise reader.error(f"fact '{fid}' is defined twice (first at {found[fid].where})", "id")
        ftype = reader.text("type")
        if ftype not in FACT_TYPES:
            raise reader.error(f"unknown fact type '{ftype}'", "type",
                               suggestion=nearest(ftype, FACT_TYPES), allowed=FACT_TYPES)
        values = reader.data.get("values") or {}
        if ftype in ("enum", "list"):
            if not isinstance(values, dict) or not values:
                raise reader.error(f"fact '{fid}' of type {ftype} needs 'values' with zh and en labels", "values")
            for value, labels in values.items():
                if not isinstance(labels, dict) or set(labels) != {"zh", "en"} or not all(
                        isinstance(text, str) and text for text in labels.values()):
                    raise reader.error(f"value '{value}' of fact '{fid}' needs exactly zh and en labels "
                                       f"(got {', '.join(map(str, labels)) if isinstance(labels, dict) else labels})",
                                       "values")
        elif values:
            raise reader.error("only enum and list facts have 'values'", "values")
        if ftype in ("money", "number") and not reader.data.get("unit"):
            raise reader.error(f"fact '{fid}' of type {ftype} needs a 'unit'", "type")
        if fid in RESERVED_FACTS:
            raise reader.error(f"'{fid}' is a name the inference engine reserves; choose another", "id")
        nature = reader.data.get("nature")
        if nature is not None and nature not in FACT_NATURES:
            raise reader.error(f"unknown nature '{nature}' of fact '{fid}'", "nature",
                               suggestion=nearest(str(nature), FACT_NATURES), allowed=FACT_NATURES)
        signed = reader.data.get("signed", False)
        if not isinstance(signed, bool) or (signed and ftype != "money"):
            raise reader.error(f"'signed' of fact '{fid}' is true or false, and true only on a money fact "
                               f"(this one is {ftype})", "signed")
        fields = {}
        if ftype == "records":
            raw_fields = reader.data.get("fields")
            if not isinstance(raw_fields, dict) or not raw_fields:
                raise reader.error(f"fact '{fid}' of type records needs 'fields'", "type")
            for name, spec in raw_fields.items():
                kind = spec.get("type") if isinstance(spec, dict) else None
                if kind not in RECORD_FIELD_TYPES:
                    raise reader.error(f"field '{name}' of fact '{fid}' needs a type: one of "
                                       f"{', '.join(RECORD_FIELD_TYPES)}", "fields",
                                       suggestion=nearest(str(kind), RECORD_FIELD_TYPES))
                fields[name] = kind
        found[fid] = Fact(fid, ftype, reader.text("zh"), reader.text("en"),
                          _ref(reader, "source", reader.data["source"], articles),
                          reader.data.get("unit"), {str(k): dict(v) for k, v in values.items()},
                          bool(reader.data.get("administrative", False)),
                          bool(reader.data.get("added", False)), bool(reader.data.get("display_only", False)),
                          reader.text("description", "", required=False), fields, reader.where(), nature,
                          signed, reader.text("description_zh", "", required=False))
    return found


def _conclusions(data, file, citations, document, facts, known):
    top = _Reader(data, "conclusions.yaml", file)
    top.keys(("conclusions", "benefits"))
    found: dict[str, Conclusion] = {}
    for kind, key in (("conclusion", "conclusions"), ("benefit", "benefits")):
        for item in top.list(key):
            reader = _Reader(item, f"a {kind}", file)
            reader.keys(("id", "article", "zh", "en"), ("internal",) if kind == "conclusion" else ())
            cid = reader.text("id")
            if cid in found or cid in known:
                raise reader.error(f"'{cid}' is defined twice (first at {(found.get(cid) or known[cid]).where})", "id")
            if cid in facts:
                raise reader.error(f"'{cid}' is already a fact (at {facts[cid].where}); a "
                                   "conclusion needs a name of its own", "id")
            found[cid] = Conclusion(cid, kind, _ref(reader, "article", reader.data["article"], citations, document),
                                    reader.text("zh"), reader.text("en"), reader.where(),
                                    bool(reader.data.get("internal", False)), document)
    return found


def _rules_file(kb: KnowledgeBase, data, file, document: str):
    top = _Reader(data, "a rules file", file)
    top.keys((), ("rules", "precedence"))
    for item in top.list("rules"):
        rule = _rule(kb, item, file, document)
        if rule.id in kb.rules:
            raise KnowledgeBaseError(f"rule '{rule.id}' is defined twice (first at "
                                     f"{kb.rules[rule.id].where})", file=file, line=rule.where.line)
        kb.rules[rule.id] = rule
    for item in top.list("precedence"):
        reader = _Reader(item, "a precedence rule", file)
        reader.keys(("id", "cites", "quote", "input", "explain"), ("notes",))
        cites = _cite(reader, kb, "cites", document)
        quote = _quote(reader, kb, cites)
        source = reader.text("input")
        if source not in kb.facts or kb.facts[source].type != "records":
            raise reader.error(f"'{source}' is not a records fact", "input",
                               suggestion=nearest(source, kb.facts))
        kb.precedence.append(Precedence(reader.text("id"), cites, quote, source,
                                        _explain(reader), reader.text("notes", "", required=False),
                                        reader.where()))


def _cite(reader: _Reader, kb: KnowledgeBase, key: str, document: str | None, value=None) -> str:
    """A citation written under ``key`` (or ``value``) in ``document``'s folder, canonical."""
    return kb.citations.resolve(reader, key, reader.data[key] if value is None else value, document)


def _quote(reader: _Reader, kb: KnowledgeBase, cites: str, extra=()) -> str:
    quote = reader.text("quote")
    if not any(_normalize(quote) in _normalize(kb.text_of(ref)) for ref in (cites, *extra)):
        shown = quote if len(quote) <= 40 else quote[:40] + "…"
        raise reader.error(f"the quote is not in the text of {cites}: '{shown}'", "quote")
    return quote


def _explain(reader: _Reader) -> dict[str, str]:
    explain = reader.data.get("explain")
    sub = _Reader(explain, f"'explain' of {reader.what}", reader.file, reader.data.line_of("explain"))
    sub.keys(("zh", "en"))
    return {"zh": sub.text("zh"), "en": sub.text("en")}


def _rule(kb: KnowledgeBase, item, file, document: str) -> Rule:
    reader = _Reader(item, "a rule", file)
    reader.keys(("id", "cites", "quote", "when", "then", "explain"),
                ("also_cites", "amount", "defers_to", "notes", "text_missing"))
    rid = reader.text("id")
    reader.what = f"rule '{rid}'"
    cites = _cite(reader, kb, "cites", document)
    also = [_cite(reader, kb, "also_cites", document, r) for r in reader.list("also_cites")]
    quote = _quote(reader, kb, cites)
    then = reader.text("then")
    if then not in kb.conclusions:
        raise reader.error(f"'{then}' is not a conclusion or benefit", "then",
                           suggestion=nearest(then, kb.conclusions), rule_id=rid)
    when = _condition(kb, reader.data["when"], file, reader.data.line_of("when"), rid, in_any=False)
    conclusion = kb.conclusions[then]
    amount = None
    if conclusion.kind == "benefit":
        if "amount" not in reader.data:
            raise reader.error(f"'{then}' is a benefit: the rule needs an 'amount'", "then", rule_id=rid)
        amount = _amount(kb, reader.data["amount"], file, reader.data.line_of("amount"), rid)
    elif "amount" in reader.data:
        raise reader.error(f"'{then}' is a conclusion, not a benefit: it has no amount", "amount", rule_id=rid)
    if amount is not None and amount.basis == "share":
        needed = [amount.of] + [cap["per"] for cap in amount.caps if "per" in cap]
        for branch in cond.to_dnf(when):
            tested = {lit.fact for lit in branch if isinstance(lit, cond.FactTest)}
            for name in needed:
                if name not in tested:
                    raise reader.error(f"the amount is computed from '{name}', but a way the rule can fire does "
                                       f"not test it: add a condition on {name} (e.g. more_than: 0) to every "
                                       "branch", "amount", rule_id=rid)
    defers = []
    for sid in reader.list("defers_to"):
        if sid not in kb.subpolicies:
            raise reader.error(f"'{sid}' is not a sub-policy", "defers_to",
                               suggestion=nearest(sid, kb.subpolicies), rule_id=rid)
        defers.append(sid)
    return Rule(rid, cites, also, quote, when, then, amount, defers, _explain(reader),
                reader.text("notes", "", required=False), reader.where(), document,
                reader.text("text_missing", "", required=False))


def _condition(kb, data, file, line, rid, in_any):
    reader = _Reader(data, f"a condition of rule '{rid}'", file, line)
    where = dict(file=reader.file, line=reader.line)
    keys = set(reader.data)
    ground = reader.data.get("ground")
    if ground is not None and not in_any:
        raise reader.error("'ground' labels an alternative and belongs inside 'any'", "ground", rule_id=rid)
    if keys & {"all", "any"}:
        reader.keys((), ("all", "any"))
        if len(keys) != 1:
            raise reader.error("a condition has either 'all' or 'any', not both", rule_id=rid)
        key = next(iter(keys))
        items = reader.list(key)
        if not items:
            raise reader.error(f"'{key}' needs at least one condition", key, rule_id=rid)
        parts = tuple(_condition(kb, part, file, items.line_of(i) if isinstance(items, Sequence) else line,
                                 rid, in_any=(key == "any"))
                      for i, part in enumerate(items))
        return cond.All(parts, **where) if key == "all" else cond.Any_(parts, **where)
    if "conclusion" in keys:
        reader.keys(("conclusion",), ("ground", "presumed"))
        name = reader.text("conclusion")
        if name not in kb.conclusions:
            raise reader.error(f"'{name}' is not a conclusion", "conclusion",
                               suggestion=nearest(name, kb.conclusions), rule_id=rid)
        presumed = reader.data.get("presumed", False)
        if presumed not in (True, False):
            raise reader.error("'presumed' is true or false", "presumed", rule_id=rid)
        return cond.ConclusionRef(name, ground, presumed=presumed, **where)
    if "fact" in keys:
        ops = [k for k in keys if k not in ("fact", "ground")]
        if len(ops) != 1 or ops[0] not in cond.OPERATORS:
            bad = next((k for k in ops if k not in cond.OPERATORS), None)
            raise reader.error(
                "a fact test needs exactly one operator" + (f"; '{bad}' is not one" if bad else ""),
                bad, suggestion=nearest(bad, cond.OPERATORS) if bad else None,
                allowed=list(cond.OPERATORS), rule_id=rid)
        name = reader.text("fact")
        if name not in kb.facts:
            raise reader.error(f"'{name}' is not a fact", "fact",
                               suggestion=nearest(name, kb.facts), rule_id=rid)
        fact = kb.facts[name]
        op = ops[0]
        if fact.type not in cond.OPERATORS[op]:
            raise reader.error(f"'{op}' does not apply to {fact.type} fact '{name}'", op,
                               allowed=[o for o, types in cond.OPERATORS.items() if fact.type in types],
                               rule_id=rid)
        try:
            value = _test_value(fact, op, reader.data[op])
        except ValueProblem as exc:
            raise reader.error(f"fact '{name}': {exc}", op, rule_id=rid) from None
        except KnowledgeBaseError as exc:
            raise reader.error(exc.message, op, rule_id=rid, suggestion=exc.suggestion,
                               allowed=exc.allowed) from None
        return cond.FactTest(name, op, value, ground, **where)
    raise reader.error("a condition needs 'fact', 'conclusion', 'all' or 'any'", rule_id=rid,
                       suggestion=nearest(next(iter(keys), ""), ("fact", "conclusion", "all", "any")))


def _test_value(fact: Fact, op: str, raw):
    """The value a fact test compares with, in the fact's own type."""
    if op == "within_years":
        if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= 100:
            raise ValueProblem(f"'within_years' takes a whole number of years, e.g. 3 (got {raw!r})")
        return raw
    if op == "between":
        if not isinstance(raw, list) or len(raw) != 2:
            raise ValueProblem("'between' takes [low, high]")
        low, high = (_scalar(fact, v) for v in raw)
        if low > high:
            raise ValueProblem(f"'between' goes from low to high, but {raw[0]} > {raw[1]}")
        return (low, high)
    if op in ("in", "not_in", "includes_any"):
        if not isinstance(raw, list) or not raw:
            raise ValueProblem(f"'{op}' takes a non-empty list of values")
        return tuple(_scalar(fact, v) for v in raw)
    return _scalar(fact, raw)


def _scalar(fact: Fact, raw):
    if fact.type in ("enum", "list"):
        if str(raw) not in fact.values:
            raise KnowledgeBaseError(f"'{raw}' is not a value of fact '{fact.id}'",
                                     suggestion=nearest(str(raw), fact.values), allowed=list(fact.values))
        return str(raw)
    if fact.type == "bool":
        if not isinstance(raw, bool):
            raise ValueProblem(f"'{raw}' is not true or false")
        return raw
    if fact.type == "money":
        if not isinstance(raw, str) or not raw.strip().endswith("元"):
            raise ValueProblem(f"'{raw}' has no unit: write money in the knowledge base as e.g. \"1亿元\"")
        return parse_money(raw)
    if fact.type == "number":
        if isinstance(raw, float):
            raise ValueProblem(f"'{raw}' is a float; write it as text, e.g. \"1000.5\"")
        return parse_number(raw)
    if fact.type == "date":
        return parse_date(raw)
    return str(raw)


def _kb_money(reader: _Reader, key, rid, raw=None) -> int:
    raw = reader.data.get(key) if raw is None else raw
    if isinstance(raw, float):
        raise reader.error(f"'{key}' is a float ({raw!r}): amounts are integer yuan with their unit, "
                           "e.g. \"500万元\"", key, rule_id=rid)
    if not isinstance(raw, str) or not raw.strip().endswith("元"):
        raise reader.error(f"'{key}' must be money with its unit, e.g. \"500万元\" (got {raw!r})", key, rule_id=rid)
    try:
        return parse_money(raw)
    except ValueProblem as exc:
        raise reader.error(str(exc), key, rule_id=rid) from None


def _amount(kb, data, file, line, rid) -> Amount:
    reader = _Reader(data, f"the amount of rule '{rid}'", file, line)
    keys = set(reader.data)
    if "range" in keys:
        reader.keys(("range",))
        rng = _Reader(reader.data["range"], f"the range of rule '{rid}'", file, reader.data.line_of("range"))
        rng.keys(("min", "max"))
        low, high = _kb_money(rng, "min", rid), _kb_money(rng, "max", rid)
        if low > high:
            raise rng.error("the range's min is above its max", "min", rule_id=rid)
        return Amount("range", min=low, max=high)
    if "up_to" in keys:
        reader.keys(("up_to",))
        return Amount("up_to", max=_kb_money(reader, "up_to", rid))
    if "share" in keys:
        reader.keys(("share", "of", "share_is"), ("caps",))
        try:
            share = parse_percent(reader.data["share"])
        except ValueProblem as exc:
            raise reader.error(str(exc), "share", rule_id=rid) from None
        base = reader.text("of")
        if base not in kb.facts or kb.facts[base].type != "money":
            raise reader.error(f"'{base}' is not a money fact", "of",
                               suggestion=nearest(base, [f for f, v in kb.facts.items() if v.type == "money"]),
                               rule_id=rid)
        share_is = reader.text("share_is")
        if share_is not in ("fixed", "up_to"):
            raise reader.error(f"'share_is' is 'fixed' (按照…的10%) or 'up_to' (不超过/最高), not '{share_is}'",
                               "share_is", rule_id=rid, suggestion=nearest(share_is, ("fixed", "up_to")))
        caps = []
        for item in reader.list("caps"):
            cap = _Reader(item, f"a cap of rule '{rid}'", file, reader.data.line_of("caps"))
            if "max" in cap.data:
                cap.keys(("max",))
                caps.append({"max": _kb_money(cap, "max", rid)})
            else:
                cap.keys(("per_unit", "per"))
                per = cap.text("per")
                if per not in kb.facts or kb.facts[per].type != "number":
                    raise cap.error(f"'{per}' is not a number fact (a cap per unit needs the quantity)",
                                    "per", suggestion=nearest(per, kb.facts), rule_id=rid)
                caps.append({"per_unit": _kb_money(cap, "per_unit", rid), "per": per})
        return Amount("share", share=share, of=base, share_is=share_is, caps=caps)
    if "not_fixed" in keys:
        reader.keys(("not_fixed",), ("terms",))
        if reader.data["not_fixed"] is not True:
            raise reader.error("'not_fixed' must be true", "not_fixed", rule_id=rid)
        terms = reader.data.get("terms")
        if terms is not None:
            sub = _Reader(terms, f"the terms of rule '{rid}'", file)
            sub.keys(("zh", "en"))
            terms = {"zh": sub.text("zh"), "en": sub.text("en")}
        return Amount("not_fixed", terms=terms)
    if "services" in keys:
        reader.keys(("services",))
        services = []
        for item in reader.list("services"):
            sub = _Reader(item, f"a service of rule '{rid}'", file)
            sub.keys(("zh", "en"))
            services.append({"zh": sub.text("zh"), "en": sub.text("en")})
        return Amount("services", services=services)
    raise reader.error("an amount is one of 'range', 'up_to', 'share', 'not_fixed' or 'services'", rule_id=rid,
                       suggestion=nearest(next(iter(keys), ""), ("range", "up_to", "share", "not_fixed", "services")))


# --------------------------------------------------------------------------- between documents

def _relations(kb: KnowledgeBase, index, file) -> None:
    """The index's ``overlaps`` and ``newer_prevails``: what holds between documents."""
    top = _Reader(index, INDEX_FILE, file)
    for item in top.list("overlaps"):
        reader = _Reader(item, "an overlap", file)
        reader.keys(("id", "benefits", "why", "cites"), ("notes",))
        benefits = tuple(str(b) for b in reader.list("benefits"))
        for bid in benefits:
            if bid not in kb.benefits:
                raise reader.error(f"'{bid}' is not a benefit", "benefits", suggestion=nearest(bid, kb.benefits))
        owners = [kb.conclusions[b].document for b in benefits]
        if len(benefits) != 2 or owners[0] == owners[1]:
            raise reader.error("an overlap names two benefits of different documents", "benefits")
        why = _Reader(reader.data["why"], "'why' of an overlap", file, reader.data.line_of("why"))
        why.keys(("zh", "en"))
        cites = [_cite(reader, kb, "cites", None, ref) for ref in reader.list("cites")]
        if not cites:
            raise reader.error("an overlap cites where not stacking comes from, e.g. [\"14\"]", "cites")
        kb.overlaps.append(Overlap(reader.text("id"), benefits, {"zh": why.text("zh"), "en": why.text("en")},
                                   reader.text("notes", "", required=False), reader.where(), cites))
    for item in top.list("newer_prevails"):
        reader = _Reader(item, "a newer-prevails relation", file)
        reader.keys(("id", "newer", "older", "cites", "quote"), ("conflicts", "notes"))
        newer, older = reader.text("newer"), reader.text("older")
        for key, value in (("newer", newer), ("older", older)):
            if value not in kb.documents:
                raise reader.error(f"'{value}' is not a document", key, suggestion=nearest(value, kb.documents))
        if kb.documents[newer].effective_date <= kb.documents[older].effective_date:
            raise reader.error(f"'{newer}' is not newer than '{older}'", "newer")
        cites = _cite(reader, kb, "cites", None)
        conflicts = []
        for pair in reader.list("conflicts"):
            if not isinstance(pair, list) or len(pair) != 2 or any(b not in kb.benefits for b in pair):
                raise reader.error("a conflict is [benefit of the newer document, benefit of the older]", "conflicts")
            if (kb.conclusions[pair[0]].document, kb.conclusions[pair[1]].document) != (newer, older):
                raise reader.error(f"conflict {pair}: the first benefit belongs to {newer}, the second to {older}",
                                   "conflicts")
            conflicts.append((str(pair[0]), str(pair[1])))
        kb.newer_prevails.append(NewerPrevails(reader.text("id"), newer, older, cites, _quote(reader, kb, cites),
                                               conflicts, reader.text("notes", "", required=False), reader.where()))


# --------------------------------------------------------------------------- whole-base checks

def facts_in_use(kb: KnowledgeBase) -> set[str]:
    """The facts some rule tests, some amount is computed from, or a precedence rule reads."""
    used = {name for rule in kb.rules.values() for name in cond.facts_used(rule.when)}
    for rule in kb.rules.values():
        if rule.amount and rule.amount.basis == "share":
            used.add(rule.amount.of)
            used |= {cap["per"] for cap in rule.amount.caps if "per" in cap}
    return used | {p.input for p in kb.precedence}


def dependency_graph(kb: KnowledgeBase):
    """Conclusion → conclusion edges: ``a → b`` when a rule deriving ``b`` uses ``a``
    (a networkx ``DiGraph``)."""
    import networkx as nx
    graph = nx.DiGraph()
    graph.add_nodes_from(kb.conclusions)
    for rule in kb.rules.values():
        for used in cond.conclusions_used(rule.when):
            graph.add_edge(used, rule.then, rule=rule.id)
    return graph


def _check_whole(kb: KnowledgeBase) -> None:
    for cid, conclusion in kb.conclusions.items():
        if not kb.rules_for(cid):
            raise KnowledgeBaseError(f"no rule derives '{cid}'", file=conclusion.where.file,
                                     line=conclusion.where.line)
    # Sorted topological order keeps every output that walks conclusions byte-stable.
    kb.order = _dependency_order(kb)
    if kb.order is None:
        _refuse_cycle(kb)
    if len(kb.precedence) > 1:
        p = kb.precedence[1]
        raise KnowledgeBaseError("only one precedence rule is supported", file=p.where.file, line=p.where.line)


def _dependency_order(kb: KnowledgeBase) -> list[str] | None:
    """The conclusions in dependency order, ties broken by the order they are declared in (the
    order networkx's ``lexicographical_topological_sort`` gives), or None when they depend on
    each other in a cycle. Kahn's algorithm: loading, which every command does, then needs no
    graph library."""
    declared = {cid: n for n, cid in enumerate(kb.conclusions)}
    users: dict[str, set[str]] = {cid: set() for cid in declared}
    waiting = {cid: 0 for cid in declared}
    for rule in kb.rules.values():
        for used in set(cond.conclusions_used(rule.when)):
            if used in users and rule.then not in users[used]:
                users[used].add(rule.then)
                waiting[rule.then] += 1
    ready = [(declared[cid], cid) for cid, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, cid = heapq.heappop(ready)
        order.append(cid)
        for user in users[cid]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, (declared[user], user))
    return order if len(order) == len(declared) else None


def _refuse_cycle(kb: KnowledgeBase) -> None:
    """Name the conclusions of a dependency cycle and every rule on it."""
    import networkx as nx
    graph = dependency_graph(kb)
    cycle = nx.find_cycle(graph)
    members = [edge[0] for edge in cycle]
    rules = [kb.rules[graph.edges[edge]["rule"]] for edge in cycle]
    # Every rule on the cycle is named with its place: any of them may be the edit to undo.
    spans = "; ".join(f"{r.id} at {r.where}" for r in rules)
    raise KnowledgeBaseError("conclusions depend on each other in a cycle: "
                             + " → ".join(members + [members[0]]) + f" (rules: {spans})",
                             file=rules[0].where.file, line=rules[0].where.line, rule_id=rules[0].id)


# --------------------------------------------------------------------------- a subset of documents

def subset(kb: KnowledgeBase, documents: list[str]) -> KnowledgeBase:
    """``kb`` with only the rules, conclusions and relations of some of its documents
    (``--documents``). A presumed reference to a conclusion of a document left out is dropped:
    nothing is known to fail there, so the presumption stands.

    Raises
    ------
    KnowledgeBaseError
        For an unknown document id, or when a chosen document's rule needs a conclusion of a
        document left out.
    """
    for name in documents:
        if name not in kb.documents:
            raise KnowledgeBaseError(f"--documents: '{name}' is not a document of the knowledge base",
                                     suggestion=nearest(name, kb.documents), allowed=list(kb.documents))
    chosen = {name for name in kb.documents if name in documents}
    conclusions = {cid: c for cid, c in kb.conclusions.items() if c.document in chosen}
    rules = {}
    for rid, rule in kb.rules.items():
        if rule.document not in chosen:
            continue
        when = _without_absent(rule.when, conclusions)
        for name in cond.conclusions_used(when):
            if name not in conclusions:
                raise KnowledgeBaseError(
                    f"--documents: rule {rid} of {rule.document} needs '{name}' of "
                    f"{kb.conclusions[name].document}; choose that document too")
        rules[rid] = Rule(**{**rule.__dict__, "when": when})
    part = KnowledgeBase(
        root=kb.root, document=kb.document, articles=kb.articles, clauses=kb.clauses,
        subpolicies=kb.subpolicies, facts=kb.facts, conclusions=conclusions, rules=rules,
        precedence=[p for p in kb.precedence if kb.document_of(p.cites) in chosen],
        version=kb.version, documents={k: v for k, v in kb.documents.items() if k in chosen},
        overlaps=[o for o in kb.overlaps if all(kb.conclusions[b].document in chosen for b in o.benefits)],
        newer_prevails=[n for n in kb.newer_prevails if n.newer in chosen and n.older in chosen],
        special_parts=kb.special_parts, citations=kb.citations, home_document=kb.home)
    _check_whole(part)
    return part


_TRUE = cond.All(())


def _without_absent(condition, conclusions):
    """The condition with presumed references to absent conclusions taken as holding."""
    if isinstance(condition, cond.ConclusionRef):
        return _TRUE if condition.presumed and condition.conclusion not in conclusions else condition
    if isinstance(condition, cond.FactTest):
        return condition
    items = tuple(_without_absent(item, conclusions) for item in condition.items)
    if isinstance(condition, cond.Any_) and _TRUE in items:
        return _TRUE
    items = tuple(item for item in items if item != _TRUE)
    if not items:
        return _TRUE
    return type(condition)(items, file=condition.file, line=condition.line)
