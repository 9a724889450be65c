"""policykb: 西行规发〔2020〕1号 as a forward-chaining knowledge base with explanations.

The public API:

- :func:`load` — load and validate a knowledge base folder (default: the bundled one);
- :func:`evaluate` — evaluate one enterprise profile, returning the JSON result;
- :func:`explain` — the derivation tree of a conclusion or benefit for a profile;
- :func:`check` — validate a knowledge base, returning its summary.

The package is laid out as the pipeline, each floor importing only from those below it
(``tests/test_layout.py`` keeps it so): at the ground :mod:`engine.model` (what a knowledge base
is: its dataclasses and the condition language) and :mod:`engine.errors`; then
:mod:`engine.loading` (reading and checking files into the model: the knowledge base, profiles,
values) → :mod:`engine.compiling` (the model as three-valued functions and durable_rules
rulesets) → :mod:`engine.inferring` (forward chaining, derivations, amounts, Article 14) →
:mod:`engine.explaining` (why, why not) → :mod:`engine.rendering` (graphs, reports,
spreadsheets); above them, side by side, :mod:`engine.authoring` (the rule author's tools) and
:mod:`engine.screening` (batch: reading rows, evaluating chunks locally or on Dask, writing
results and the summary); above them :mod:`engine.register` (saved cases, the chain of decision
records, replay) and :mod:`engine.accounts` (who may do what in a shared workbench); on top, three
faces: :mod:`engine.web`, :mod:`engine.lsp` (the rule author's editor) and :mod:`engine.cli`.

Errors derive from :class:`PolicyKBError`: :class:`KnowledgeBaseError` and
:class:`ProfileError` for bad input, :class:`InstallationError` for a durable-rules built
without the define Python 3.13 needs, :class:`EvaluationError` for internal failures.
"""

from engine.authoring.checking import check
from .errors import EvaluationError, InstallationError, KnowledgeBaseError, PolicyKBError, ProfileError
from engine.inferring.evaluation import assess, evaluate
from engine.explaining.explanation import explain
from engine.model import KnowledgeBase
from engine.loading.kb import load

__all__ = ["load", "evaluate", "explain", "check", "assess", "KnowledgeBase", "PolicyKBError",
           "KnowledgeBaseError", "ProfileError", "EvaluationError", "InstallationError"]
__version__ = "0.1.0"
