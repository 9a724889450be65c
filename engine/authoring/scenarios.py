"""Scenarios: YAML cases a policy person can read, each a profile and the expected result.

A scenario file (``*.yaml`` or ``*.yml``) is a YAML list; each item has

- ``name``: a sentence saying what the case shows;
- ``extends`` (optional): an example profile of ``kb/examples/`` (file name without ``.yaml``)
  the input starts from;
- ``input``: facts, over the example's (``null`` makes a fact unknown);
- ``as_of`` (optional): the date to judge at;
- ``documents`` (optional): the ids of the documents to evaluate under (default: all);
- ``output``: what must hold — everything ``policykb eval --format json`` reports can be said:
  ``conclusions`` / ``not_conclusions`` (derived / not); ``benefits`` (benefit id to
  ``granted``, ``not_fixed``, ``services``, or a mapping of ``min``/``max`` — money with its
  unit, or ``null`` — ``basis``, ``rule`` (the rule that granted it), ``defers_to``, ``terms``,
  ``services``, ``per_year`` (a yearly amount), ``years`` (for how many, ``null``: no limit),
  ``year`` (the case's year of support), ``remaining`` (what is left of a cumulative cap));
  ``not_benefits``; ``superseded`` (benefit id to what supersedes it: another
  policy's name or another document's benefit; ``null``: anything); ``overlaps`` (Article 14 and
  the overlaps between documents: ``{benefit, with, decision, reason}``, ``with`` a benefit or
  the policy of an ``other_district_support`` offer, ``decision`` ``open`` — the higher is not
  decided yet —, ``kept`` — this one applies, the other not — or ``superseded``, ``reason``
  ``within_range``, ``not_fixed`` or ``newer_prevails``; each key given must match an overlap
  the result reports, and every overlap is "not stacked"); ``no_overlaps`` (benefits compared
  with nothing); ``grounds`` (benefit id to its 13(2) grounds); ``missing`` /
  ``missing_includes`` / ``not_missing`` (exactly these unknown facts / at least / none of
  these, among those of the documents the other expectations name: a scenario about one
  document is not changed by encoding another); ``status`` (id to granted / denied /
  undetermined); ``next_fact`` (conclusion or benefit id to the fact to ask next, ``null``
  for none); ``in_force`` (document id to ``true``, ``false`` or ``null``: not said); and
  ``why_not`` (id to ``{status, next_fact, first_change, alternatives}``: the answer's status,
  the fact it asks next, the changes of its first alternative, and how many alternatives at
  least, default 1 — 0 means none may be proposed; the runner applies every alternative proposed and re-evaluates it: it
  must grant the id).

Every key, id and value is checked when the file is read: a misspelt one is an error at its
``file:line`` with what would be valid and the nearest known name. :func:`run` returns the list
of differences between expected and actual, empty when it passes.
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
from engine.loading.values import ValueProblem, parse_date, parse_money
from engine.loading.yamlio import load_file
from engine.authoring.expectations import OVERLAP_KEYS, Where as _Where, check_output as _check_output

SCENARIO_KEYS = ("name", "extends", "input", "as_of", "documents", "output")
SUFFIXES = (".yaml", ".yml")


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
    input: dict = field(default_factory=dict)     # the input as written, over the example

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def scenario_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file()))
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
        For a malformed scenario: bad YAML, unknown keys, ids or values, a fact its input
        cannot take, a missing example.
    """
    scenarios: list[Scenario] = []
    examples: dict[Path, Any] = {}      # each example read once
    for path in scenario_files(paths or [kb.scenarios_dir]):
        data = load_file(path, KnowledgeBaseError)
        if not isinstance(data, list):
            raise KnowledgeBaseError("a scenario file is a list of scenarios", file=str(path), line=1)
        for item in data:
            scenarios.append(_scenario(kb, item, str(path), examples))
    names: dict[str, str] = {}
    for scenario in scenarios:
        if scenario.name in names:
            raise KnowledgeBaseError(f"two scenarios are named '{scenario.name}' (first at {names[scenario.name]})",
                                     file=scenario.file, line=scenario.line)
        names[scenario.name] = scenario.where
    return scenarios


def _scenario(kb: KnowledgeBase, item, file: str, examples: dict) -> Scenario:
    where = _Where(file, getattr(item, "line", None))
    if not isinstance(item, dict):
        raise where.error("a scenario is a mapping with name, input and output")
    for key in item:
        if key not in SCENARIO_KEYS:
            raise where.error(f"unknown scenario key '{key}'", item, key, suggestion=nearest(key, SCENARIO_KEYS),
                              allowed=SCENARIO_KEYS)
    for key in ("name", "input", "output"):
        if key not in item:
            raise where.error(f"the scenario has no '{key}'")
    profile: dict = {}
    extends = item.get("extends")
    if extends:
        example = next((kb.examples_dir / f"{extends}{ext}" for ext in (".yaml", ".yml", ".json")
                        if (kb.examples_dir / f"{extends}{ext}").is_file()), None)
        if example is None:
            known = [p.stem for p in kb.examples_dir.iterdir() if p.suffix in (".yaml", ".yml", ".json")] \
                if kb.examples_dir.is_dir() else []
            raise where.error(f"no example '{extends}' in {kb.examples_dir}", item, "extends",
                              suggestion=nearest(extends, known))
        if example not in examples:
            examples[example] = load_file(example, KnowledgeBaseError) or {}
        base = examples[example]
        if not isinstance(base, dict):
            raise where.error(f"example '{extends}' is not a mapping of facts", item, "extends")
        profile.update(base)
    given = item["input"]
    if not isinstance(given, dict):
        raise where.error("'input' is a mapping of facts", item, "input")
    try:
        parse_profile(given, kb, source=file)   # a misspelt fact or a value it cannot take
    except ProfileError as exc:
        raise KnowledgeBaseError(f"input: {exc.message}", file=file, line=exc.line or item.line_of("input"),
                                 suggestion=exc.suggestion, allowed=exc.allowed) from None
    profile.update(given)
    profile = {k: v for k, v in profile.items() if v is not None}
    as_of = item.get("as_of")
    if as_of is not None:
        try:
            parse_date(as_of)
        except ValueProblem as exc:
            raise where.error(f"as_of: {exc}", item, "as_of") from None
    documents = item.get("documents")
    if documents is not None:
        if not isinstance(documents, list) or not documents:
            raise where.error("'documents' is a list of document ids", item, "documents")
        for n, document in enumerate(documents):
            if document not in kb.documents:
                raise where.error(f"'{document}' in documents is not a document of the knowledge base", documents, n,
                                  suggestion=nearest(str(document), kb.documents), allowed=list(kb.documents))
    output = item["output"]
    if not isinstance(output, dict):
        raise where.error("'output' is a mapping", item, "output")
    _check_output(kb, output, profile, where)
    return Scenario(str(item["name"]), file, where.line, profile, as_of, dict(output), extends,
                    documents=[str(d) for d in documents] if documents else None, input=dict(given))


# --------------------------------------------------------------------------- running

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
            problems.append(f"{bid}: expected superseded by {policy or 'another policy'}, but it is not")
        elif policy and _superseder(superseded[bid]["by"]) != policy:
            problems.append(f"{bid}: expected superseded by {policy}, got {_superseder(superseded[bid]['by'])}")
    problems.extend(_overlap_problems(expected, overlaps_of(result)))
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
    for fid in expected.get("not_missing") or []:
        if fid in missing:
            problems.append(f"missing: expected not to include {fid}, but it is missing")
    for cid, word in (expected.get("status") or {}).items():
        if result["status"][cid] != word:
            problems.append(f"{cid}: expected status {word}, got {result['status'][cid]}")
    for cid, fact in (expected.get("next_fact") or {}).items():
        actual = _next_fact(assessment, cid)
        if actual != fact:
            problems.append(f"{cid}: expected next fact {fact}, got {actual}")
    in_force = {d["id"]: d["in_force"] for d in result["documents"]}
    for document, want in (expected.get("in_force") or {}).items():
        if document not in in_force:
            problems.append(f"{document}: expected in force {want}, but it is not among the documents evaluated")
        elif in_force[document] is not want:
            problems.append(f"{document}: expected in force {_SAID[want]}, got {_SAID[in_force[document]]}")
    for cid, want in (expected.get("why_not") or {}).items():
        problems.extend(_why_not_problems(scenario, kb, assessment, cid, want))
    return problems


_SAID = {True: "true", False: "false", None: "null (not said)"}


def _next_fact(assessment, cid: str) -> str | None:
    """The fact to ask next for an undetermined conclusion or benefit (None when decided)."""
    result = assessment.result
    if cid in result["next_fact"]:
        return result["next_fact"][cid]
    if result["status"].get(cid) != "undetermined" or cid not in assessment.kb.conclusions:
        return None
    return assessment.inference.next_fact(assessment.kb, cid)


def overlaps_of(result: dict) -> list[dict]:
    """Every Article 14 overlap a result reports, as ``{benefit, with, decision, reason}``: with
    another document's benefit (``not_stacked_with``, open or kept), with another policy's offer
    (``overlap``: open; ``not_stacked_with`` / ``not_stacked_with_offer``: kept), and each
    superseded benefit (``superseded[].by``)."""
    found = []
    for entry in result["benefits"]:
        for key in ("not_stacked_with", "not_stacked_with_offer"):
            other = entry.get(key)
            if other:
                found.append({"benefit": entry["id"], "with": other.get("benefit") or other.get("policy"),
                              "decision": "open" if other.get("open") else "kept", "reason": other.get("reason")})
        offer = entry.get("overlap")
        if offer:
            found.append({"benefit": entry["id"], "with": offer["policy"], "decision": "open",
                          "reason": offer.get("reason")})
    for entry in result["superseded"]:
        by = entry["by"]
        found.append({"benefit": entry["id"], "with": _superseder(by), "decision": "superseded",
                      "reason": by.get("reason")})
    return found


def _overlap_text(entry: dict) -> str:
    text = f"{entry['benefit']} with {entry.get('with') or 'anything'}"
    if entry.get("decision"):
        text += f" {entry['decision']}"
    if entry.get("reason"):
        text += f" ({entry['reason']})"
    return text


def _overlap_problems(expected: dict, actual: list[dict]) -> list[str]:
    problems = []
    for want in expected.get("overlaps") or []:
        if not any(all(want[k] == have.get(k) for k in OVERLAP_KEYS if k in want) for have in actual):
            same = [_overlap_text(h) for h in actual if h["benefit"] == want["benefit"]]
            problems.append(f"overlaps: expected {_overlap_text(want)}, got {'; '.join(same) or 'no overlap'}")
    for bid in expected.get("no_overlaps") or []:
        same = [_overlap_text(h) for h in actual if h["benefit"] == bid]
        if same:
            problems.append(f"overlaps: expected none for {bid}, got {'; '.join(same)}")
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
    if want.get("alternatives") == 0 and alternatives:   # 0: no change of facts may be proposed
        problems.append(f"why-not {cid}: expected no alternative, got {len(alternatives)}: "
                        f"{[c['fact'] for c in alternatives[0]['changes']]} first")
    elif len(alternatives) < want.get("alternatives", 1):
        problems.append(f"why-not {cid}: expected at least {want.get('alternatives', 1)} alternatives, "
                        f"got {len(alternatives)}")
    if "first_change" in want and not alternatives:
        problems.append(f"why-not {cid}: expected first change {want['first_change']}, got no alternative")
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
    for key in ("basis", "rule", "terms"):
        if key in want and entry.get(key) != want[key]:
            problems.append(f"{bid}: expected {key} {want[key]}, got {entry.get(key)}")
    problems += _period_problems(bid, want, entry)
    for key in ("defers_to", "services"):
        if key in want:
            wanted = want[key] if isinstance(want[key], list) else [want[key]]
            if sorted(map(str, wanted)) != sorted(entry.get(key) or []):
                problems.append(f"{bid}: expected {key} {sorted(map(str, wanted))}, got {sorted(entry.get(key) or [])}")
    return problems


def _period_problems(bid: str, want: dict, entry: dict) -> list[str]:
    """A yearly amount (per_year, years, the case's year) and what is left of a cumulative cap."""
    period, problems = entry.get("period"), []
    if "per_year" in want and bool(period) != want["per_year"]:
        problems.append(f"{bid}: expected {'a' if want['per_year'] else 'no'} yearly amount, got "
                        f"{'one' if period else 'none'}")
    for key in ("years", "year"):
        if key in want and (period or {}).get(key) != want[key]:
            problems.append(f"{bid}: expected {key} {want[key]}, got {(period or {}).get(key)}")
    if "remaining" in want:
        left = (entry.get("cumulative") or {}).get("remaining")
        if parse_money(want["remaining"]) != left:
            problems.append(f"{bid}: expected remaining {parse_money(want['remaining'])}, got {left}")
    return problems


def _superseder(by: dict) -> str:
    """What superseded a benefit: another policy's name, or another document's benefit id."""
    return by.get("policy") or by.get("benefit")


#: Expectations that name conclusions or benefits, and so the documents a scenario is about.
_NAMING = ("conclusions", "not_conclusions", "benefits", "not_benefits", "superseded", "grounds", "status",
           "next_fact", "why_not", "no_overlaps")


def _missing_for(kb, expected: dict, result: dict) -> list[str]:
    """The missing facts a scenario's ``missing`` is compared with: those of the documents its
    other expectations name (a scenario written about one document is not changed by encoding
    another beside it), or of all documents when it names none."""
    named = set()
    for key in _NAMING:
        value = expected.get(key) or ()
        named.update(kb.conclusions[i].document for i in value if i in kb.conclusions)
    named.update(kb.conclusions[o["benefit"]].document for o in expected.get("overlaps") or ()
                 if o.get("benefit") in kb.conclusions)
    if not named:
        return result["missing"]
    wanted = {name for document in named for name in result["missing_by_document"].get(document, [])}
    return [name for name in result["missing"] if name in wanted]
