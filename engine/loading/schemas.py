"""JSON Schemas for editors: the profile schema is generated from ``facts.yaml``.

The schemas of the knowledge-base files themselves live in ``schemas/`` and are written by
hand; the profile schema follows the facts, so it is generated (``policykb schema``) and a
test checks that the committed ``schemas/profile.schema.json`` is current.
"""

from __future__ import annotations

from engine.model import KnowledgeBase

_MONEY = {"oneOf": [{"type": "integer", "minimum": 0},
                    {"type": "string", "description": "e.g. \"500万元\", \"1.2亿元\", \"3000\""}]}
_DATE = {"type": "string", "pattern": r"^(\d{4}-\d{1,2}-\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日)$"}
_BOOL = {"oneOf": [{"type": "boolean"}, {"enum": ["true", "false", "yes", "no", "y", "n", "是", "否"]}]}


def profile_schema(kb: KnowledgeBase) -> dict:
    """The JSON Schema of an enterprise profile for ``kb``."""
    properties = {}
    for fact in kb.facts.values():
        schema = _fact_schema(kb, fact)
        schema = {"description": f"{fact.zh} — {fact.en} ({kb.label(fact.source, 'en')})", **schema}
        properties[fact.id] = {"anyOf": [schema, {"type": "null"}]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://policykb.example/schemas/profile.schema.json",
        "title": f"Enterprise profile for {kb.document['doc_number']}",
        "description": "Fact names to values; a fact left out (or null) is unknown.",
        "type": "object", "additionalProperties": False, "properties": properties,
    }


def _fact_schema(kb: KnowledgeBase, fact) -> dict:
    if fact.type == "bool":
        return dict(_BOOL)
    if fact.type == "enum":
        return {"enum": list(fact.values)}
    if fact.type == "money":
        if fact.signed:  # an increment can fall below zero
            return {"oneOf": [{"type": "integer"}, _MONEY["oneOf"][1]]}
        return dict(_MONEY)
    if fact.type == "number":
        return {"oneOf": [{"type": "number", "minimum": 0}, {"type": "string"}]}
    if fact.type == "date":
        return dict(_DATE)
    if fact.type == "list":
        return {"type": "array", "uniqueItems": True, "items": {"enum": list(fact.values)}}
    if fact.type == "records":
        return {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                           "required": list(fact.fields),
                                           "properties": {name: _field(kb, kind) for name, kind in fact.fields.items()}}}
    return {"type": "string"}


def _field(kb: KnowledgeBase, kind: str) -> dict:
    if kind == "benefit":
        return {"enum": list(kb.benefits)}
    if kind == "money":
        return dict(_MONEY)
    return {"type": "string", "minLength": 1}
