"""Scenarios: YAML cases a policy person can read, each a profile and the expected result.

A scenario file is a YAML list; each item has

- ``name``: a sentence saying what the case shows;
- ``extends`` (optional): an example profile of ``kb/examples/`` (file name without ``.yaml``)
  the input starts from;
- ``input``: facts, over the example's (``null`` makes a fact unknown);
- ``as_of`` (optional): the date to judge at;
- ``documents`` (optional): the ids of the documents to evaluate under (default: all);
- ``output``: what must hold —
  ``conclusions`` (must be derived), ``not_conclusions``, ``benefits`` (a mapping of benefit id
  to ``granted``, ``not_fixed``, ``services`` or ``{min: …, max: …}`` in money with its unit or
  ``null``), ``not_benefits``, ``superseded`` (a mapping of benefit id to the superseding
  policy's name, or to the benefit of another document that supersedes it), ``grounds`` (benefit id to the list of grounds), ``missing`` (exactly these
  unknown facts, among those of the documents the other expectations name: a scenario about
  one document is not changed by encoding another), ``missing_includes``, ``status`` (id to granted / denied / undetermined),
  ``next_fact`` (benefit id to the fact to ask next), and ``why_not``: id to ``{status,
  next_fact, first_change, alternatives}`` — the why-not answer's status, the fact it asks
  next, the changes of its first alternative (a mapping of fact to new value), and how many
  alternatives at least (default 1). Every alternative proposed is applied to the profile and
  re-evaluated by the runner: it must grant the id.

:func:`run` returns the list of differences between expected and actual, empty when it passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import KnowledgeBaseError, PolicyKBError, ProfileError, nearest
from engine.inferring.evaluation import assess
from engine.model import KnowledgeBase
from engine.loading.kb import is_kb_folder
from engine.loading.profile import parse_profile
from engine.loading.values import ValueProblem, parse_money
from engine.loading.yamlio import load_file

SCENARIO_KEYS = ("name", "extends", "input", "as_of", "documents", "output")
OUTPUT_KEYS = ("conclusions", "not_conclusions", "benefits", "not_benefits", "superseded",
               "grounds", "missing", "missing_includes", "status", "next_fact", "why_not")
WHY_NOT_KEYS = ("status", "next_fact", "first_change", "alternatives")


@dataclass
class Scenario:
    name: str
    file: str
    line: int | None
    profile: dict
    as_of: Any
    output: dict
    extends: str | None = None
    problems: list[str] = field(default_factory=list)
    documents: list[str] | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def scenario_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.glob("*.yaml")))
        else:
            found.append(path)
    return found


def kb_holding(paths: list[Path]) -> Path | None:
    """The knowledge base the scenario paths lie in, or None when none does.

    A folder is a knowledge base when it holds ``facts.yaml`` and ``knowledge_base.yaml`` (or, for
    one document, ``document.yaml``); each path is looked up from
    itself (or the folder holding it) upward, so ``kb-copy/scenarios/x.yaml`` belongs to
    ``kb-copy``. Paths outside every knowledge base do not choose one.

    Raises
    ------
    ProfileError
        When the paths lie in two different knowledge bases.
    """
    found: dict[Path, Path] = {}   # knowledge base -> the first path inside it
    for path in paths:
        start = path.resolve()
        for folder in ([start] if start.is_dir() else []) + list(start.parents):
            if is_kb_folder(folder):
                found.setdefault(folder, path)
                break
    if len(found) > 1:
        (first, a), (second, b) = list(found.items())[:2]
        raise ProfileError(f"the scenarios lie in two knowledge bases: {a} in {first}, {b} in {second}; "
                           "run them one knowledge base at a time, or choose one with --kb")
    return next(iter(found), None)


def load_scenarios(kb: KnowledgeBase, paths: list[Path] | None = None) -> list[Scenario]:
    """Read scenario files (default: the knowledge base's ``scenarios/`` folder).

    Raises
    ------
    KnowledgeBaseError
        For a malformed scenario: unknown keys, unknown ids, a missing example.
    """
    scenarios: list[Scenario] = []
    for path in scenario_files(paths or [kb.scenarios_dir]):
        data = load_file(path, KnowledgeBaseError)
        if not isinstance(data, list):
            raise KnowledgeBaseError("a scenario file is a list of scenarios", file=str(path), line=1)
        for item in data:
            scenarios.append(_scenario(kb, item, str(path)))
    names: dict[str, str] = {}
    for scenario in scenarios:
        if scenario.name in names:
            raise KnowledgeBaseError(f"two scenarios are named '{scenario.name}' (first at {names[scenario.name]})",
                                     file=scenario.file, line=scenario.line)
        names[scenario.name] = scenario.where
    return scenarios


def _scenario(kb: KnowledgeBase, item, file: str) -> Scenario:
    line = getattr(item, "line", None)

    def error(message, **extra):
        return KnowledgeBaseError(message, file=file, line=line, **extra)

    if not isinstance(item, dict):
        raise error("a scenario is a mapping with name, input and output")
    for key in item:
        if key not in SCENARIO_KEYS:
            raise error(f"unknown scenario key '{key}'", suggestion=nearest(key, SCENARIO_KEYS))
    for key in ("name", "input", "output"):
        if key not in item:
            raise error(f"the scenario has no '{key}'")
    profile: dict = {}
    extends = item.get("extends")
    if extends:
        example = next((kb.examples_dir / f"{extends}{ext}" for ext in (".yaml", ".yml", ".json")
                        if (kb.examples_dir / f"{extends}{ext}").is_file()), None)
        if example is None:
            known = [p.stem for p in kb.examples_dir.iterdir() if p.suffix in (".yaml", ".yml", ".json")]
            raise error(f"no example '{extends}' in {kb.examples_dir}", suggestion=nearest(extends, known))
        base = load_file(example, KnowledgeBaseError) or {}
        if not isinstance(base, dict):
            raise error(f"example '{extends}' is not a mapping of facts")
        profile.update(base)
    if not isinstance(item["input"], dict):
        raise error("'input' is a mapping of facts")
    profile.update(item["input"])
    profile = {k: v for k, v in profile.items() if v is not None}
    output = item["output"]
    if not isinstance(output, dict):
        raise error("'output' is a mapping")
    for key in output:
        if key not in OUTPUT_KEYS:
            raise error(f"unknown output key '{key}'", suggestion=nearest(key, OUTPUT_KEYS), allowed=OUTPUT_KEYS)
    for key in ("conclusions", "not_conclusions", "benefits", "not_benefits", "superseded", "grounds",
                "status", "next_fact", "why_not"):
        for cid in output.get(key) or []:
            if cid not in kb.conclusions:
                raise error(f"'{cid}' in {key} is not a conclusion or benefit",
                            suggestion=nearest(cid, kb.conclusions))
    for key in ("missing", "missing_includes"):
        for fid in output.get(key) or []:
            if fid not in kb.facts:
                raise error(f"'{fid}' in {key} is not a fact", suggestion=nearest(fid, kb.facts))
    for cid, expected in (output.get("why_not") or {}).items():
        if not isinstance(expected, dict):
            raise error(f"why_not of '{cid}' is a mapping of {', '.join(WHY_NOT_KEYS)}")
        for key in expected:
            if key not in WHY_NOT_KEYS:
                raise error(f"unknown why_not key '{key}'", suggestion=nearest(key, WHY_NOT_KEYS),
                            allowed=WHY_NOT_KEYS)
    documents = item.get("documents")
    if documents is not None and (not isinstance(documents, list) or not documents):
        raise KnowledgeBaseError("'documents' is a list of document ids", file=file, line=line)
    return Scenario(str(item["name"]), file, line, profile, item.get("as_of"), dict(output), extends,
                    documents=[str(d) for d in documents] if documents else None)


def run(scenario: Scenario, kb: KnowledgeBase) -> list[str]:
    """Evaluate a scenario; return its differences from the expected output (empty: passed)."""
    assessment = assess(scenario.profile, as_of=scenario.as_of, kb=kb, source=scenario.where,
                        documents=scenario.documents)
    result = assessment.result
    expected = scenario.output
    problems: list[str] = []
    conclusions = set(result["conclusions"])
    granted = {b["id"]: b for b in result["benefits"]}
    superseded = {s["id"]: s for s in result["superseded"]}
    holding = conclusions | set(granted)
    for cid in expected.get("conclusions") or []:
        if cid not in holding:
            problems.append(f"{cid}: expected to hold, but does not")
    for cid in expected.get("not_conclusions") or []:
        if cid in holding:
            problems.append(f"{cid}: expected not to hold, but does")
    for bid, want in (expected.get("benefits") or {}).items():
        if bid not in granted:
            problems.append(f"{bid}: expected granted, but "
                            + ("superseded" if bid in superseded else "not granted"))
            continue
        problems.extend(_amount_problems(bid, want, granted[bid]))
    for bid in expected.get("not_benefits") or []:
        if bid in granted:
            problems.append(f"{bid}: expected not granted, but granted ({granted[bid]['amount']})")
    for bid, policy in (expected.get("superseded") or {}).items():
        if bid not in superseded:
            problems.append(f"{bid}: expected superseded by {policy}, but it is not")
        elif policy and _superseder(superseded[bid]["by"]) != policy:
            problems.append(f"{bid}: expected superseded by {policy}, got {_superseder(superseded[bid]['by'])}")
    for bid, grounds in (expected.get("grounds") or {}).items():
        actual = granted.get(bid, {}).get("grounds", [])
        if sorted(actual) != sorted(grounds or []):
            problems.append(f"{bid}: expected grounds {sorted(grounds or [])}, got {sorted(actual)}")
    missing = _missing_for(kb, expected, result)
    if "missing" in expected and sorted(expected["missing"] or []) != sorted(missing):
        problems.append(f"missing: expected {sorted(expected['missing'] or [])}, got {sorted(missing)}")
    for fid in expected.get("missing_includes") or []:
        if fid not in missing:
            problems.append(f"missing: expected to include {fid}, got {missing}")
    for cid, word in (expected.get("status") or {}).items():
        if result["status"][cid] != word:
            problems.append(f"{cid}: expected status {word}, got {result['status'][cid]}")
    for bid, fact in (expected.get("next_fact") or {}).items():
        if result["next_fact"].get(bid) != fact:
            problems.append(f"{bid}: expected next fact {fact}, got {result['next_fact'].get(bid)}")
    for cid, want in (expected.get("why_not") or {}).items():
        problems.extend(_why_not_problems(scenario, kb, assessment, cid, want))
    return problems


def _why_not_problems(scenario: Scenario, kb: KnowledgeBase, assessment, cid: str, want: dict) -> list[str]:
    from engine.explaining.why_not import answer
    node = answer(assessment, cid)
    problems = []
    if "status" in want and node["status"] != want["status"]:
        problems.append(f"why-not {cid}: expected status {want['status']}, got {node['status']}")
    if "next_fact" in want and node.get("next_fact") != want["next_fact"]:
        problems.append(f"why-not {cid}: expected next fact {want['next_fact']}, got {node.get('next_fact')}")
    alternatives = node.get("alternatives", [])
    if len(alternatives) < want.get("alternatives", 1):
        problems.append(f"why-not {cid}: expected at least {want.get('alternatives', 1)} alternatives, "
                        f"got {len(alternatives)}")
    if "first_change" in want and alternatives:
        first = {c["fact"]: c["to"] for c in alternatives[0]["changes"]}
        try:
            expected = parse_profile(dict(want["first_change"]), kb)
            actual = parse_profile(first, kb)
        except PolicyKBError as exc:
            return problems + [f"why-not {cid}: first_change: {exc}"]
        if expected != actual:
            problems.append(f"why-not {cid}: expected first change {want['first_change']}, got {first}")
    for n, alternative in enumerate(alternatives, 1):
        # Re-evaluate independently of why-not's own check: the changed profile must grant.
        changed = dict(assessment.facts)
        changed.update({c["fact"]: c["to"] for c in alternative["changes"]})
        if assess(changed, kb=kb).result["status"][cid] != "granted":
            problems.append(f"why-not {cid}: alternative {n} {alternative['changes']} does not grant it")
    return problems


def _amount_problems(bid: str, want, entry: dict) -> list[str]:
    if want in ("granted", None):
        return []
    if want in ("not_fixed", "services"):
        return [] if entry["basis"] == want else [f"{bid}: expected {want}, got basis {entry['basis']}"]
    if not isinstance(want, dict):
        return [f"{bid}: expected amount must be granted, not_fixed, services or {{min, max}}"]
    actual = entry["amount"] or {"min": None, "max": None}
    problems = []
    for key in ("min", "max"):
        if key not in want:
            continue
        try:
            value = None if want[key] is None else parse_money(want[key])
        except ValueProblem as exc:
            return [f"{bid}: expected {key}: {exc}"]
        if value != actual[key]:
            problems.append(f"{bid}: expected {key} {value}, got {actual[key]}")
    return problems


def _superseder(by: dict) -> str:
    """What superseded a benefit: another policy's name, or another document's benefit id."""
    return by.get("policy") or by.get("benefit")


#: Expectations that name conclusions or benefits, and so the documents a scenario is about.
_NAMING = ("conclusions", "not_conclusions", "benefits", "not_benefits", "superseded", "grounds", "status",
           "next_fact", "why_not")


def _missing_for(kb, expected: dict, result: dict) -> list[str]:
    """The missing facts a scenario's ``missing`` is compared with: those of the documents its
    other expectations name (a scenario written about one document is not changed by encoding
    another beside it), or of all documents when it names none."""
    named = set()
    for key in _NAMING:
        value = expected.get(key) or ()
        named.update(kb.conclusions[i].document for i in value if i in kb.conclusions)
    if not named:
        return result["missing"]
    wanted = {name for document in named for name in result["missing_by_document"].get(document, [])}
    return [name for name in result["missing"] if name in wanted]
