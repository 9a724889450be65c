"""A document's ``document.yaml``: its metadata, its articles and clauses, and the citations
that resolve references to them (:class:`Citations`)."""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

from engine.errors import KnowledgeBaseError, nearest
from engine.loading.reader import Reader, kind_of
from engine.loading.values import ValueProblem, parse_date
from engine.loading.yamlio import Sequence, load_file
from engine.model import SPECIAL_PARTS, Article, Clause, Document


class Citations:
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

    def resolve(self, reader: "Reader", key, value, document: str | None) -> str:
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


#: Every key of a document.yaml's ``document`` mapping and what it holds; the JSON Schema
#: (schemas/document.schema.json) says the same, and a test keeps the two agreeing. A date, the
#: issuer or the 文号 may be unknown (``null``): a partial copy does not always give them.
_DOCUMENT_FIELDS = {
    "id": "id", "title": "text", "title_en": "text",
    "issuer": "text or null", "issuer_en": "text or null",
    "issue_date": "date or null", "effective_date": "date or null", "expiry_date": "date or null",
    "doc_number": "text or null", "print_date": "date or null", "validity_years": "whole number",
    "interpreting_body": "text", "interpreting_body_en": "text", "contacts": "list of text",
    "source": "text", "notes": "text", "preamble": "text", "notice": "text", "short": "zh and en",
    "implements": "id", "available": "text", "missing": "list of text",
}
_DOCUMENT_KEYS = ("id", "title", "title_en", "issuer", "issuer_en", "issue_date", "effective_date", "expiry_date")
_DOCUMENT_OPTIONAL = tuple(key for key in _DOCUMENT_FIELDS if key not in _DOCUMENT_KEYS)
_DATES = ("issue_date", "print_date", "effective_date", "expiry_date")
_WHAT = {"id": "an id in lower_snake_case, e.g. industry_measures_2022", "text": "non-empty text",
         "text or null": "non-empty text, or null when the text does not give it",
         "date or null": "a date YYYY-MM-DD, or null when the text does not give it",
         "whole number": "a whole number of at least 1", "list of text": "a list of non-empty texts",
         "zh and en": "a mapping of exactly zh and en, each non-empty text"}


def _field_ok(kind: str, value) -> bool:
    """Whether a document field holds what its kind says (dates are checked when parsed)."""
    def text(v):
        return isinstance(v, str) and bool(v.strip())
    if kind == "id":
        return isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9_]*", value) is not None
    if kind == "text":
        return text(value)
    if kind == "text or null":
        return value is None or text(value)
    if kind == "date or null":
        return value is None or isinstance(value, (str, _dt.date)) and not isinstance(value, bool)
    if kind == "whole number":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 1
    if kind == "list of text":
        return isinstance(value, list) and all(text(v) for v in value)
    return isinstance(value, dict) and set(value) == {"zh", "en"} and all(text(v) for v in value.values())


def read_document(folder: Path, citations: Citations, home: bool) -> Document:
    """Read one document's document.yaml and register its citable parts."""
    file = str(folder / "document.yaml")
    data = load_file(folder / "document.yaml", KnowledgeBaseError)
    top = Reader(data, "document.yaml", file)
    top.keys(("document", "articles"))
    doc = Reader(top.data["document"], "document", file)
    doc.keys(_DOCUMENT_KEYS, _DOCUMENT_OPTIONAL)
    for key, value in doc.data.items():
        if not _field_ok(_DOCUMENT_FIELDS[key], value):
            raise doc.error(f"'{key}' of the document must be {_WHAT[_DOCUMENT_FIELDS[key]]} "
                            f"(got {kind_of(value)})", key)
    fields = dict(doc.data)
    for key in _DATES:
        if doc.data.get(key) is None:
            continue
        try:
            fields[key] = parse_date(doc.data[key])
        except ValueProblem as exc:
            raise doc.error(f"'{key}': {exc}", key) from None
    start, end = fields.get("effective_date"), fields.get("expiry_date")
    if start is not None and end is not None and end < start:
        raise doc.error("expiry_date is before effective_date", "expiry_date")
    short = fields.get("short") or {"zh": fields["title"], "en": fields["title_en"]}
    document = Document(doc.text("id"), doc.text("title"), doc.text("title_en"), dict(short), fields, folder,
                        doc.where(), home=home)
    articles = _articles(top, file)
    specials = {part: " ".join(str(fields[part]).split()) for part in SPECIAL_PARTS if fields.get(part)}
    citations.add(document, articles, specials)
    return document


def _articles(top: "Reader", file) -> list[Article]:
    articles: dict[str, Article] = {}
    items = top.list("articles")
    for index, item in enumerate(items):
        reader = Reader(item, "an article", file, items.line_of(index) if isinstance(items, Sequence) else None)
        reader.keys(("article", "title", "title_en", "gloss", "text"), ("clauses", "partial", "not_encoded"))
        number = reader.data["article"]
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 99:
            raise reader.error("'article' must be the article's number", "article")
        if str(number) in articles:
            raise reader.error(f"article {number} is defined twice (first at "
                               f"{articles[str(number)].where})", "article")
        article_clauses = []
        for c_index, c_item in enumerate(reader.list("clauses")):
            c_reader = Reader(c_item, f"a clause of article {number}", file)
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


def resolve_ref(reader: Reader, key, value, citations: "Citations", document: str | None = None) -> str:
    """Check an article ("14"), clause ("13(1)") or other document's ("doc:2(1)") reference,
    returning its canonical citation."""
    return citations.resolve(reader, key, value, document)
