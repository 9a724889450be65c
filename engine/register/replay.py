"""Replay (issue 22, item 4): the saved cases re-evaluated under another knowledge base and/or
date, without touching the register, and what changes, grouped by the change responsible.

:func:`replay` takes each selected case (by default every case not erased that has a profile):

- **before** — its latest decision record's stored result; for a case never recorded, its current
  profile evaluated under ``old_kb`` when one is given (otherwise the case is skipped, saying so);
- **after** — its current profile evaluated under ``new_kb`` at ``as_of``, by default at the
  as-of date of its latest record, so that only the knowledge base changes.

It compares them as ``policykb diff`` does (each benefit's status, amount and next question, the
conclusions, Article 14, the missing facts) and names, for each change, what is responsible
(:func:`kb_changes`, :func:`_causes`): the rules, documents, facts, conclusions and Article 14
relations that differ between the two knowledge bases and bear on it; else the as-of date, the
case's facts edited since the record, a knowledge base other than the one recorded (when the old
one is not given), the engine's version, or the knowledge base as a whole. Nothing is written:
the register is read through :meth:`Register.cases` and :meth:`Register.records` only.

:class:`ReplayReport` holds the result: ``to_dict()`` (JSON), ``text(lang)``, ``html(lang)`` and
``write_xlsx(path, lang)`` (:mod:`engine.register.replay_report`). The same register and knowledge
bases give the same report, byte for byte, whatever ``workers``.
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields, is_dataclass
from fractions import Fraction
from importlib import metadata

from engine.authoring.diff import _changes, _missing_change, _unknown_to
from engine.errors import PolicyKBError
from engine.inferring.evaluation import assess, knowledge_base, reasoner
from engine.loading.kb import load
from engine.model import KnowledgeBase
from engine.model import conditions as cond
from engine.register.canonical import canonical_json, sha256_text

#: How many cases a worker evaluates per task.
CHUNK = 200

#: What of a rule is its definition (its wording — quote, explain, notes — is not).
RULE_FIELDS = ("when", "then", "amount", "cites", "also_cites", "defers_to", "text_missing")
#: What of a fact changes how a profile reads.
FACT_FIELDS = ("type", "unit", "values", "fields", "signed", "display_only", "administrative")
DOCUMENT_DATES = ("effective_date", "expiry_date")


@dataclass
class ReplayReport:
    """What :func:`replay` found (see the module docstring). ``cases`` lists the cases whose
    outcome changed, each change with ``because`` (the keys of ``groups`` responsible);
    ``groups`` lists, per change responsible, the cases and changes it explains."""
    new_kb: dict
    old_kb: dict | None
    as_of: str | None
    kb_changes: list[dict]
    cases: list[dict]
    groups: list[dict]
    unchanged: list[int]
    skipped: list[dict]
    replayed: int
    labels: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"new_kb": self.new_kb, "old_kb": self.old_kb, "as_of": self.as_of, "replayed": self.replayed,
                "changed": len(self.cases), "unchanged": self.unchanged, "skipped": self.skipped,
                "kb_changes": self.kb_changes, "groups": self.groups, "cases": self.cases, "labels": self.labels}

    @property
    def empty(self) -> bool:
        """Whether no replayed case changes."""
        return not self.cases

    def text(self, lang: str = "zh") -> str:
        from engine.register.replay_report import report_text
        return report_text(self.to_dict(), lang)

    def html(self, lang: str = "zh") -> str:
        from engine.register.replay_report import report_html
        return report_html(self.to_dict(), lang)

    def write_xlsx(self, path, lang: str = "zh") -> None:
        from engine.register.replay_report import write_xlsx
        write_xlsx(self.to_dict(), path, lang)


# --------------------------------------------------------------------------- what differs between two bases

def _plain(value):
    """A model value as plain, comparable data: dataclasses by their fields (where they are
    written — file, line — aside), fractions and dates as text, sets sorted."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value) if f.name not in _PLACES}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, (Fraction, dt.date)):
        return str(value)
    return value


_PLACES = ("where", "file", "line", "column")


def _differing(old, new, names) -> list[str]:
    return [name for name in names if _plain(getattr(old, name, None)) != _plain(getattr(new, name, None))]


def _date(value) -> str | None:
    return value.isoformat() if value is not None else None


def kb_changes(old: KnowledgeBase, new: KnowledgeBase) -> list[dict]:
    """What differs between two knowledge bases, at the level that explains an outcome: rules
    (their conditions, conclusion, amount, citation), documents (added, removed, their dates),
    facts (their type and values), conclusions (added, removed, their kind) and Article 14's
    relations (overlaps, newer-prevails). Each change has a ``key`` (``rule:ID``, ``document:ID``
    …), sorted by it; none when the two are the same version."""
    if old.version == new.version:
        return []
    found: list[dict] = []

    def compare(kind, before: dict, after: dict, names, describe):
        for ident in sorted(set(before) | set(after)):
            a, b = before.get(ident), after.get(ident)
            if a is None or b is None:
                found.append(dict(describe(ident, a, b), key=f"{kind}:{ident}", kind=kind, id=ident,
                                  change="added" if a is None else "removed"))
            elif changed := _differing(a, b, names):
                found.append(dict(describe(ident, a, b), key=f"{kind}:{ident}", kind=kind, id=ident,
                                  change="changed", fields=changed))

    compare("rule", old.rules, new.rules, RULE_FIELDS, lambda i, a, b: {
        "concludes": sorted({r.then for r in (a, b) if r is not None}),
        "document": (b or a).document, "cites": (b or a).cites})
    compare("document", old.documents, new.documents, DOCUMENT_DATES, lambda i, a, b: {
        "old": None if a is None else {d: _date(getattr(a, d)) for d in DOCUMENT_DATES},
        "new": None if b is None else {d: _date(getattr(b, d)) for d in DOCUMENT_DATES}})
    compare("fact", old.facts, new.facts, FACT_FIELDS, lambda i, a, b: {})
    compare("conclusion", old.conclusions, new.conclusions, ("kind", "internal", "document"),
            lambda i, a, b: {"document": (b or a).document})
    compare("overlap", {o.id: o for o in old.overlaps}, {o.id: o for o in new.overlaps}, ("benefits",),
            lambda i, a, b: {"benefits": sorted({x for o in (a, b) if o is not None for x in o.benefits})})
    compare("newer_prevails", {o.id: o for o in old.newer_prevails}, {o.id: o for o in new.newer_prevails},
            ("newer", "older", "conflicts"), lambda i, a, b: {"benefits": sorted(
                {x for o in (a, b) if o is not None for pair in o.conflicts for x in pair})})
    return sorted(found, key=lambda c: c["key"])


class _Index:
    """Per knowledge base: the conclusions each conclusion's rules use, and the facts they test."""

    def __init__(self, kb: KnowledgeBase):
        self.uses: dict[str, set[str]] = {}
        self.facts: dict[str, set[str]] = {}
        for rule in kb.rules.values():
            self.uses.setdefault(rule.then, set()).update(cond.conclusions_used(rule.when))
            self.facts.setdefault(rule.then, set()).update(cond.facts_used(rule.when))
            if rule.amount:
                self.facts[rule.then].update(rule.amount.facts_needed())
        self.documents = {cid: c.document for cid, c in kb.conclusions.items()}
        self._above: dict[str, set[str]] = {}

    def above(self, cid: str) -> set[str]:
        """``cid`` and every conclusion it depends on, however indirectly."""
        found = self._above.get(cid)
        if found is None:
            found, todo = set(), [cid]
            while todo:
                here = todo.pop()
                if here not in found:
                    found.add(here)
                    todo.extend(self.uses.get(here, ()))
            self._above[cid] = found
        return found


class _Attribution:
    """Which of the knowledge-base changes bear on a changed outcome."""

    def __init__(self, changes: list[dict], indexes: list[_Index]):
        self.changes, self.indexes = changes, indexes

    def bearing(self, ids: set[str], facts: set[str] = frozenset()) -> list[str]:
        """The changes touching conclusions ``ids`` (a rule concluding one, its document, a fact
        its rules test, the conclusion itself, an Article 14 relation naming it) or ``facts``."""
        tested = set(facts) | {f for x in self.indexes for i in ids for f in x.facts.get(i, ())}
        documents = {x.documents.get(i) for x in self.indexes for i in ids} - {None, ""}
        keys = []
        for change in self.changes:
            kind = change["kind"]
            if ((kind == "rule" and (ids & set(change["concludes"]) or facts & self._rule_facts(change)))
                    or (kind == "document" and change["id"] in documents)
                    or (kind == "fact" and change["id"] in tested)
                    or (kind == "conclusion" and change["id"] in ids)
                    or (kind in ("overlap", "newer_prevails") and ids & set(change["benefits"]))):
                keys.append(change["key"])
        return keys

    def _rule_facts(self, change: dict) -> set[str]:
        return {f for x in self.indexes for c in change["concludes"] for f in x.facts.get(c, ())}

    def above(self, cid: str) -> set[str]:
        return set().union(*(x.above(cid) for x in self.indexes))


# --------------------------------------------------------------------------- evaluating

def outcome(kb: KnowledgeBase, profile: dict, as_of=None) -> dict:
    """A profile's outcome under ``kb`` at ``as_of`` as :mod:`engine.authoring.diff` compares it
    (a fact ``kb`` does not know is left out, and named), or ``{"error": …}``."""
    unknown = _unknown_to(kb, profile)
    data = {k: v for k, v in profile.items() if k not in unknown}
    try:
        result = assess(data, as_of=as_of, kb=kb, engine="compiled").result
    except PolicyKBError as exc:
        return {"error": str(exc), "unknown_facts": unknown}
    return dict(from_result(result, kb.benefits), unknown_facts=unknown)


def from_result(result: dict, benefit_ids) -> dict:
    """The comparable part of a result (as :func:`engine.evaluate` returns it, or as a record
    stores it); ``benefit_ids``: the ids to compare as benefits, of those its statuses name."""
    status = result.get("status") or {}
    named = {b["id"] for b in result.get("benefits", [])} | {s["id"] for s in result.get("superseded", [])}
    return {"conclusions": list(result.get("conclusions", [])),
            "benefits": {b["id"]: b.get("amount") for b in result.get("benefits", [])},
            "benefit_ids": sorted(i for i in status if i in set(benefit_ids) | named),
            "superseded": {s["id"]: s.get("by") for s in result.get("superseded", [])},
            "status": dict(status), "missing": list(result.get("missing", [])),
            "next_fact": dict(result.get("next_fact") or {}), "as_of": result.get("as_of")}


class _Context:
    """What replaying one case needs, the same in this process and in each worker."""

    def __init__(self, new: KnowledgeBase, old: KnowledgeBase | None, day: dt.date | None):
        self.new, self.old, self.day, self.engine_now = new, old, day, _installed()
        self.changes = kb_changes(old, new) if old is not None else []
        self.attribution = _Attribution(self.changes, [_Index(new)] + ([_Index(old)] if old is not None else []))
        self.benefit_ids = set(new.benefits) | (set(old.benefits) if old is not None else set())

    def replay(self, task: tuple) -> dict | None:
        """One case ``(id, name, profile, its latest record's fields or None, that record's
        result)``: its entry when its outcome changes, else None."""
        case_id, name, profile, record, result = task
        if result is None:
            before = outcome(self.old, profile, self.day)
        else:
            before = from_result(result, self.benefit_ids)
        after = outcome(self.new, profile, self.day or (record["as_of"] if record else None))
        return _compare(self, case_id, name, profile, record, before, after)


_worker: dict = {}
_loaded: dict = {}


def _init_worker(roots: tuple, day, parent: int) -> None:
    from engine.screening.local import die_with_parent
    die_with_parent(parent)
    new, old = (None if root is None else (_loaded.get(root) or load(root)) for root in roots)
    _worker["context"] = _Context(new, old, day)


def _replay_chunk(tasks: list[tuple]) -> list:
    return [_worker["context"].replay(task) for task in tasks]


def _run(context: _Context, tasks: list[tuple], workers: int) -> list:
    """Each task's entry (or None), in the tasks' order."""
    if workers <= 1 or len(tasks) < 2:
        return [context.replay(task) for task in tasks]
    kbs = (context.new, context.old)
    for kb in kbs:
        if kb is not None:
            _loaded[str(kb.root)] = kb
            reasoner(kb)   # compiled once here, inherited by workers started by fork
    roots = tuple(None if kb is None else str(kb.root) for kb in kbs)
    size = max(1, min(CHUNK, -(-len(tasks) // (4 * workers))))   # every worker busy, few round trips
    pieces = [tasks[i:i + size] for i in range(0, len(tasks), size)]
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(roots, context.day, os.getpid())) as pool:
        return [entry for chunk in pool.map(_replay_chunk, pieces) for entry in chunk]


# --------------------------------------------------------------------------- replay

def _installed() -> str:
    try:
        return metadata.version("policykb")
    except metadata.PackageNotFoundError:
        return ""


def replay(register, new_kb, *, as_of=None, cases=None, workers: int = 1, old_kb=None) -> ReplayReport:
    """Re-evaluate saved cases under ``new_kb`` and report what changes, without writing.

    Parameters
    ----------
    register : Register
        The register to read (never written).
    new_kb, old_kb : KnowledgeBase, folder or None
        The knowledge base to replay under (None: the bundled one), and optionally the one the
        cases were recorded under: with it, each change is attributed to the rules, documents and
        facts that differ; without it, a case recorded under another version than ``new_kb``'s
        is attributed to "a knowledge base other than the one recorded (version …)". ``old_kb``
        also gives the before of a case never recorded.
    as_of : date or ISO text, optional
        The date to judge every case at. By default each case is judged at the as-of date of its
        latest record (a case never recorded: at its profile's application date), so that only
        the knowledge base changes.
    cases : iterable of case numbers or names, optional
        The cases to replay (default: every case not erased). Erased cases and cases without a
        profile are skipped, and listed with the reason.
    workers : int
        Evaluate in this many processes (each loads the knowledge bases once); the same report.
    """
    new = knowledge_base(new_kb)
    old = None if old_kb is None else knowledge_base(old_kb)
    day = None if as_of is None else (as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of)))
    chosen, skipped = _selection(register, cases)
    latest = {}
    for record in register.records():
        latest[record.case_id] = record
    context = _Context(new, old, day)
    tasks = []
    for case in chosen:
        record = latest.get(case.id)
        if record is not None and record.result is not None:
            fields_ = {"seq": record.seq, "kb_hash": record.kb_hash, "as_of": record.as_of,
                       "profile_sha256": record.profile_sha256, "policykb_version": record.policykb_version}
            tasks.append((case.id, case.name, case.profile, fields_, record.result))
        elif old is not None:
            tasks.append((case.id, case.name, case.profile, None, None))
        else:
            skipped.append({"case_id": case.id, "name": case.name, "reason": "not_recorded"})
    entries = _run(context, tasks, workers)

    changed, unchanged, groups = [], [], {}
    for task, entry in zip(tasks, entries):
        if entry is None:
            unchanged.append(task[0])
            continue
        changed.append(entry)
        for item in entry["changes"] + ([entry["missing"]] if entry.get("missing") else []):
            for key in item["because"]:
                groups.setdefault(key, {}).setdefault(entry["case_id"], []).append(item)
    described = {c["key"]: c for c in context.changes}
    names = {e["case_id"]: e["name"] for e in changed}
    group_list = [{"key": key, "change": described.get(key) or _generic(key),
                   "cases": [{"case_id": cid, "name": names[cid], "changes": items}
                             for cid, items in sorted(by_case.items())]}
                  for key, by_case in sorted(groups.items(), key=lambda kv: (kv[0] not in described, kv[0]))]
    return ReplayReport(
        new_kb={"root": str(new.root), "version": new.version, "documents": list(new.documents)},
        old_kb=None if old is None else {"root": str(old.root), "version": old.version,
                                        "documents": list(old.documents)},
        as_of=_date(day), kb_changes=context.changes, cases=changed, groups=group_list, unchanged=unchanged,
        skipped=sorted(skipped, key=lambda s: s["case_id"]), replayed=len(tasks),
        labels=_labels([new] + ([old] if old is not None else []), changed, context.changes))


def _selection(register, cases) -> tuple[list, list[dict]]:
    if cases is None:
        every = register.cases()
    else:
        every = []
        for ref in cases:
            found = register.case(ref)
            if found.id not in {c.id for c in every}:
                every.append(found)
        every.sort(key=lambda c: c.id)
    chosen, skipped = [], []
    for case in every:
        if case.erased or case.profile is None:
            skipped.append({"case_id": case.id, "name": case.name, "reason": "erased" if case.erased else "no_profile"})
        else:
            chosen.append(case)
    return chosen, skipped


def _generic(key: str) -> dict:
    kind, _, rest = key.partition(":")
    described = {"key": key, "kind": kind}
    if rest:
        described["version"] = rest
    return described


def _compare(context: _Context, case_id: int, name, profile: dict, record: dict | None, before: dict,
             after: dict) -> dict | None:
    """A case's entry when its outcome changes: each change with the keys responsible."""
    changes, missing = _changes(before, after), _missing_change(before, after)
    if not changes and not missing:
        return None
    new, old, attribution = context.new, context.old, context.attribution
    before_hash = record["kb_hash"] if record is not None else old.version
    before_as_of = (record["as_of"].isoformat() if record is not None and record["as_of"] else before.get("as_of"))
    after_as_of = after.get("as_of") or _date(context.day)
    edited = record is not None and record["profile_sha256"] != sha256_text(canonical_json(profile))
    kb_same = before_hash == new.version
    diff_applies = old is not None and not kb_same
    status_changed = {cid for cid in set(before.get("status", {})) | set(after.get("status", {}))
                      if before.get("status", {}).get(cid) != after.get("status", {}).get(cid)}

    def causes(ids: set[str], facts: set[str] = frozenset()) -> list[str]:
        keys = []
        if diff_applies:
            precise = set(ids)
            for cid in ids:
                precise |= attribution.above(cid) & status_changed
            keys = attribution.bearing(precise, set(facts))
            if not keys:
                keys = attribution.bearing(set().union(*(attribution.above(c) for c in ids)) if ids else set(),
                                           set(facts))
        if edited:
            keys.append("profile")
        if before_as_of != after_as_of and after_as_of is not None:
            keys.append("as_of")
        if not keys:
            if not kb_same and (old is None or before_hash != old.version):
                keys.append(f"kb_other:{before_hash}")
            elif not kb_same:
                keys.append("kb")
            elif record is not None and record["policykb_version"] != context.engine_now:
                keys.append("engine")
            else:
                keys.append("kb")
        return keys

    for change in changes:
        change["because"] = causes({change["id"]} if "id" in change else set())
    if missing:
        facts = set(missing["added"]) | set(missing["removed"])
        missing["because"] = causes(set(), facts)
    entry = {"case_id": case_id, "name": name, "record": record["seq"] if record is not None else None,
             "before": {"source": "record" if record is not None else "old_kb", "kb_hash": before_hash,
                        "as_of": before_as_of,
                        "policykb_version": record["policykb_version"] if record is not None else None},
             "after": {"kb_hash": new.version, "as_of": after_as_of, "policykb_version": context.engine_now},
             "profile_edited": edited, "changes": changes}
    if missing:
        entry["missing"] = missing
    if after.get("unknown_facts"):
        entry["unknown_facts"] = after["unknown_facts"]
    return entry


def _labels(kbs: list[KnowledgeBase], changed: list[dict], changes: list[dict]) -> dict:
    """zh and en labels of every conclusion, benefit, fact and document the report names (the
    new knowledge base's wording first)."""
    ids = set()
    for entry in changed:
        for change in entry["changes"]:
            ids |= {change.get(k) for k in ("id", "old_next_fact", "new_next_fact")}
        ids |= set(entry.get("missing", {}).get("old", [])) | set(entry.get("missing", {}).get("new", []))
    for change in changes:
        ids |= {change["id"]} | set(change.get("concludes", [])) | set(change.get("benefits", []))
    labels = {}
    for ident in sorted(i for i in ids if i):
        for kb in kbs:
            found = kb.conclusions.get(ident) or kb.facts.get(ident)
            if found is not None:
                labels[ident] = {"zh": found.zh, "en": found.en}
                break
            if ident in kb.documents:
                labels[ident] = {"zh": kb.documents[ident].label("zh"), "en": kb.documents[ident].label("en")}
                break
    return labels
