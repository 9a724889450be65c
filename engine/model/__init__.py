"""The ground floor: what a knowledge base *is*, apart from how it is read or run.

- :mod:`engine.model.knowledge_base` — the dataclasses: :class:`KnowledgeBase`, its
  :class:`Document`\\ s, :class:`Article`\\ s and :class:`Clause`\\ s, :class:`Fact`\\ s,
  :class:`Conclusion`\\ s, :class:`Rule`\\ s with their :class:`Amount`, and the relations between
  documents (:class:`Overlap`, :class:`NewerPrevails`);
- :mod:`engine.model.conditions` — the condition language of rules and its three-valued meaning;
- :mod:`engine.model.dependencies` — which facts are in use, the conclusions' dependency order,
  and the checks only the whole base can make;
- :mod:`engine.model.subset` — a knowledge base restricted to some of its documents.

Everything above imports from here; nothing here imports from above (a test keeps it so).
"""

from engine.model.dependencies import dependency_graph, dependency_order, facts_in_use, settle
from engine.model.knowledge_base import (FACT_NATURES, FACT_TYPES, RECORD_FIELD_TYPES, RESERVED_FACTS, SPECIAL_PARTS,
                                         Amount, Article, Clause, Conclusion, Document, Draft, Fact, KnowledgeBase,
                                         NewerPrevails, Overlap, Precedence, Rule, SubPolicy, Where)
from engine.model.subset import subset

__all__ = ["KnowledgeBase", "Document", "Article", "Clause", "Fact", "Conclusion", "Rule", "Amount", "Draft", "Precedence",
           "SubPolicy", "Overlap", "NewerPrevails", "Where", "FACT_TYPES", "RECORD_FIELD_TYPES", "FACT_NATURES",
           "RESERVED_FACTS", "SPECIAL_PARTS", "facts_in_use", "dependency_graph", "dependency_order", "settle",
           "subset"]
