"""policykb: 西行规发〔2020〕1号 as a forward-chaining knowledge base with explanations.

The public API:

- :func:`load` — load and validate a knowledge base folder (default: the bundled one);
- :func:`evaluate` — evaluate one enterprise profile, returning the JSON result;
- :func:`explain` — the derivation tree of a conclusion or benefit for a profile;
- :func:`check` — validate a knowledge base, returning its summary.

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
