"""The vocabulary files: ``facts.yaml`` (the enterprise's input facts), each document's
``conclusions.yaml`` and ``subpolicies.yaml``."""

from __future__ import annotations

import re

from engine.errors import nearest
from engine.loading.documents import resolve_ref
from engine.loading.reader import Reader, normalize
from engine.model import FACT_NATURES, FACT_TYPES, RECORD_FIELD_TYPES, RESERVED_FACTS, Conclusion, Fact, SubPolicy


def read_subpolicies(data, file, citations, document, known):
    top = Reader(data, "subpolicies.yaml", file)
    top.keys(("subpolicies",))
    found: dict[str, SubPolicy] = {}
    for item in top.list("subpolicies"):
        reader = Reader(item, "a sub-policy", file)
        reader.keys(("id", "title", "title_en", "named", "deferred_by"), ("notes", "encoded_as"))
        sid = reader.ident()
        if sid in found or sid in known:
            first = (found.get(sid) or known[sid]).where
            raise reader.error(f"sub-policy '{sid}' is defined twice (first at {first})", "id")
        refs = [resolve_ref(reader, "deferred_by", r, citations, document) for r in reader.list("deferred_by")]
        if not refs:
            raise reader.error(f"sub-policy '{sid}' is deferred to by no article or clause", "deferred_by")
        named = reader.data["named"]
        if not isinstance(named, bool):
            raise reader.error("'named' must be true or false", "named")
        title = reader.text("title")
        texts = [citations.articles[r].text if r in citations.articles else citations.clauses[r].text for r in refs]
        if named and not any(normalize(title) in normalize(text) for text in texts):
            raise reader.error(f"the title '{title}' does not appear in the text of "
                               f"{', '.join(refs)}", "title")
        encoded = reader.data.get("encoded_as")
        if encoded is not None and encoded not in citations.documents:
            raise reader.error(f"'{encoded}' is not a document of the knowledge base", "encoded_as",
                               suggestion=nearest(str(encoded), citations.documents))
        found[sid] = SubPolicy(sid, title, reader.text("title_en"), named, refs,
                               reader.text("notes", "", required=False), reader.where(), encoded)
    return found


def read_facts(data, file, articles, clauses):
    top = Reader(data, "facts.yaml", file)
    top.keys(("facts",))
    found: dict[str, Fact] = {}
    for item in top.list("facts"):
        reader = Reader(item, "a fact", file)
        reader.keys(("id", "type", "zh", "en", "source"),
                    ("unit", "values", "administrative", "added", "display_only", "description", "description_zh",
                     "fields", "nature", "signed"))
        fid = reader.ident()
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
                          resolve_ref(reader, "source", reader.data["source"], articles),
                          reader.data.get("unit"), {str(k): dict(v) for k, v in values.items()},
                          bool(reader.data.get("administrative", False)),
                          bool(reader.data.get("added", False)), bool(reader.data.get("display_only", False)),
                          reader.text("description", "", required=False), fields, reader.where(), nature,
                          signed, reader.text("description_zh", "", required=False))
    return found


def read_conclusions(data, file, citations, document, facts, known):
    top = Reader(data, "conclusions.yaml", file)
    top.keys(("conclusions", "benefits"))
    found: dict[str, Conclusion] = {}
    for kind, key in (("conclusion", "conclusions"), ("benefit", "benefits")):
        for item in top.list(key):
            reader = Reader(item, f"a {kind}", file)
            reader.keys(("id", "article", "zh", "en"), ("internal",) if kind == "conclusion" else ())
            cid = reader.ident()
            if cid in found or cid in known:
                raise reader.error(f"'{cid}' is defined twice (first at {(found.get(cid) or known[cid]).where})", "id")
            if cid in facts:
                raise reader.error(f"'{cid}' is already a fact (at {facts[cid].where}); a "
                                   "conclusion needs a name of its own", "id")
            found[cid] = Conclusion(cid, kind, resolve_ref(reader, "article", reader.data["article"], citations, document),
                                    reader.text("zh"), reader.text("en"), reader.where(),
                                    bool(reader.data.get("internal", False)), document)
    return found
