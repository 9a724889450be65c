"""What a draft leaves for its author to review: rules marked ``draft: true`` and the ``TODO:``
placeholders ``policykb draft`` writes into a document (its English title, glosses), as
``check`` findings — warnings, so that ``check --strict`` refuses a document until each is done."""

from __future__ import annotations

from engine.model import KnowledgeBase, Where

#: What ``policykb draft`` writes where the author must fill something in.
PLACEHOLDER = "TODO:"


def drafts_to_review(kb: KnowledgeBase) -> list[tuple[str, str, Where, str | None]]:
    """``(code, message, where, rule id)`` for each draft rule and each placeholder left in a
    document's text fields: the linter's ``draft-rule`` and ``todo`` warnings."""
    found = []
    for draft in kb.drafts:
        notes = f"; its review notes: {'; '.join(draft.review)}" if draft.review else ""
        found.append(("draft-rule", f"draft rule '{draft.id}' ({kb.label(draft.cites, 'en')}) is not reviewed yet "
                      "and is never evaluated: check its conditions and amount against the quote, write its benefit "
                      f"and explain, then delete 'draft: true' and 'review'{notes}", draft.where, draft.id))
    for where, what in _placeholders(kb):
        found.append(("todo", f"{what} is still a placeholder ({PLACEHOLDER} …): write it", where, None))
    return found


def _placeholders(kb: KnowledgeBase) -> list[tuple[Where, str]]:
    found = []
    for document in kb.documents.values():
        for key, value in document.data.items():
            if isinstance(value, str) and value.startswith(PLACEHOLDER):
                found.append((document.where, f"'{key}' of document {document.id}"))
    for part in list(kb.articles.values()) + list(kb.clauses.values()):
        for key in ("title", "title_en", "gloss", "text"):
            if getattr(part, key).startswith(PLACEHOLDER):
                found.append((part.where, f"the {key} of {kb.label(part.id, 'en')}"))
    return found
