"""policykb: 西行规发〔2020〕1号 as a forward-chaining knowledge base with explanations.

The public API:

- :func:`load` — load and validate a knowledge base folder (default: the bundled one);
- :func:`evaluate` — evaluate one enterprise profile, returning the JSON result;
- :func:`explain` — the derivation tree of a conclusion or benefit for a profile;
- :func:`check` — validate a knowledge base, returning its summary.

The package is laid out as the pipeline: :mod:`engine.loading` (the knowledge base, profiles
and values, checked) → :mod:`engine.compiling` (the condition language; rules to three-valued
checks and durable_rules rulesets) → :mod:`engine.inferring` (forward chaining, derivations,
amounts, Article 14) → :mod:`engine.explaining` (why, why not) → :mod:`engine.rendering` (graphs,
reports, spreadsheets); beside them :mod:`engine.authoring` (the rule author's tools) and
:mod:`engine.screening` (batch); on top, two faces: :mod:`engine.cli` and :mod:`engine.web`.

Errors derive from :class:`PolicyKBError`: :class:`KnowledgeBaseError` and
:class:`ProfileError` for bad input, :class:`InstallationError` for a durable-rules built
without the define Python 3.13 needs, :class:`EvaluationError` for internal failures.
"""

from engine.authoring.checking import check
from .errors import EvaluationError, InstallationError, KnowledgeBaseError, PolicyKBError, ProfileError
from engine.inferring.evaluation import assess, evaluate
from engine.explaining.explanation import explain
from engine.loading.kb import KnowledgeBase, load

__all__ = ["load", "evaluate", "explain", "check", "assess", "KnowledgeBase", "PolicyKBError",
           "KnowledgeBaseError", "ProfileError", "EvaluationError", "InstallationError"]
__version__ = "0.1.0"
