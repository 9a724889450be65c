"""Validating a knowledge base as a whole: load, compile, and load into the rule engine."""

from __future__ import annotations

from pathlib import Path

from .compiler import compile_kb
from .kb import load
from .runtime import RuleEngine


def check(path: str | Path | None = None, *, coverage: bool = False) -> dict:
    """Validate the knowledge base at ``path`` (default: the bundled one).

    Returns a summary of what it holds; with ``coverage``, also how its scenarios cover the
    rules' conditions (``coverage``: the counts, ``coverage_text``: the line ``check`` prints).

    Raises
    ------
    KnowledgeBaseError
        For the first problem found, with its file and line.
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
    if coverage:
        from .coverage import condition_coverage
        covered = condition_coverage(kb)
        summary.update(coverage=covered.summary(), coverage_text=covered.summary_text())
    return summary
