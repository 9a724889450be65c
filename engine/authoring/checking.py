"""Validating a knowledge base as a whole: load, compile, and load into the rule engine."""

from __future__ import annotations

from pathlib import Path

from engine.compiling.compiler import compile_kb
from engine.loading.kb import load
from engine.inferring.runtime import RuleEngine


def check(path: str | Path | None = None, *, coverage: bool = False) -> dict:
    """Validate the knowledge base at ``path`` (default: the bundled one).

    Returns a summary of what it holds; with ``coverage``, also how its scenarios cover the
    rules' conditions, MC/DC (:mod:`engine.authoring.coverage`: ``coverage``, the counts;
    ``coverage_text``, the line ``check`` prints).

    Raises
    ------
    KnowledgeBaseError
        For the first problem found, with its file and line — a scenario file that does not
        read included, when ``coverage`` is asked for.
    EvaluationError
        When the rule engine refuses the compiled rules.
    """
    kb = load(path)
    compiled = compile_kb(kb)
    RuleEngine(compiled)
    summary = {
        "kb": str(kb.root), "kb_version": kb.version, "articles": len(kb.articles),
        "clauses": len(kb.clauses), "subpolicies": len(kb.subpolicies), "facts": len(kb.facts),
        "conclusions": sum(1 for c in kb.conclusions.values() if c.kind == "conclusion"),
        "benefits": len(kb.benefits), "rules": len(kb.rules), "engine_rules": len(compiled.rules),
    }
    summary["documents"] = document_coverage(kb)
    if coverage:
        from engine.authoring.coverage import condition_coverage
        covered = condition_coverage(kb)
        summary.update(coverage=covered.summary(), coverage_text=covered.summary_text())
    return summary


def document_coverage(kb) -> list[dict]:
    """Per document: how much of its text is available, and how much of that the rules encode
    (articles and clauses cited by a rule or relation), with what is left and why."""
    from engine.authoring.lint import cited_parts
    cited = cited_parts(kb)
    found = []
    for document in kb.documents.values():
        articles = [a for a in kb.articles.values() if a.document == document.id]
        parts = [(a.id, a) for a in articles] + [(c.id, c) for a in articles for c in a.clauses]
        encoded = [ref for ref, part in parts if ref in cited
                   or (ref in kb.articles and any(c.id in cited for c in kb.articles[ref].clauses))]
        found.append({
            "id": document.id, "available": document.data.get("available"),
            "missing": list(document.data.get("missing") or []), "partial": bool(document.data.get("missing")),
            "articles": len(articles), "clauses": sum(len(a.clauses) for a in articles),
            "encoded": len(encoded), "parts": len(parts), "rules": sum(r.document == document.id for r in kb.rules.values()),
            "not_encoded": {a.id: a.not_encoded for a in articles if a.not_encoded},
        })
    return found
