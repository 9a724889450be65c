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
import gc
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields, is_dataclass
from fractions import Fraction
from importlib import metadata

from engine.authoring.diff import _changes, _missing_change, _unknown_to
from engine.errors import PolicyKBError
from engine.inferring.evaluation import assess_facts, dated, knowledge_base, outline, reasoner
from engine.loading.profile import parse_profile
from engine.loading.values import MonthDate
from engine.loading.kb import load
from engine.model import KnowledgeBase
from engine.model import conditions as cond
from engine.register.canonical import canonical_json, sha256_text

#: How many cases a worker reads and evaluates per task.
CHUNK = 250

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

def outcome(kb: KnowledgeBase, profile: dict, as_of=None, first_look: bool = False) -> dict:
    """A profile's outcome under ``kb`` at ``as_of`` as :mod:`engine.authoring.diff` compares it
    (a fact ``kb`` does not know is left out, and named), or ``{"error": …}``. With
    ``first_look``, without the next questions (:func:`~engine.inferring.evaluation.outline`,
    about half the work): enough to tell that nothing changed."""
    unknown = [] if kb.facts.keys() >= profile.keys() else _unknown_to(kb, profile)
    data = {k: v for k, v in profile.items() if k not in unknown} if unknown else profile
    try:
        facts = dated(parse_profile(data, kb), as_of)
        if first_look and MonthDate not in set(map(type, facts.values())):
            result = outline(facts, kb)
        else:
            result = assess_facts(facts, kb, engine="compiled").result
    except PolicyKBError as exc:
        return {"error": str(exc), "unknown_facts": unknown}
    return dict(from_result(result, kb.benefits), unknown_facts=unknown)


def from_result(result: dict, benefit_ids) -> dict:
    """The comparable part of a result (as :func:`engine.evaluate` returns it, or as a record
    stores it); ``benefit_ids``: the ids to compare as benefits, of those its statuses name."""
    status = result.get("status") or {}
    named = {b["id"] for b in result.get("benefits", [])} | {s["id"] for s in result.get("superseded", [])}
    compared = set(benefit_ids) | named
    return {"conclusions": list(result.get("conclusions", [])),
            "benefits": {b["id"]: b.get("amount") for b in result.get("benefits", [])},
            "benefit_ids": sorted(i for i in status if i in compared),
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

    def replay_cases(self, register, case_ids: list[int]) -> list[tuple]:
        """Read the cases ``case_ids`` and their latest records (:meth:`Register.latest`) and
        replay each: ``(number, name, its entry)``, the entry None when nothing changes, or
        ``"not_recorded"`` for a case never recorded when there is no old knowledge base."""
        found = []
        for case_id, name, profile, record, result in register.latest(case_ids):
            if result is None:
                if self.old is None:
                    found.append((case_id, name, "not_recorded"))
                    continue
                record, before = None, outcome(self.old, profile, self.day)
            else:
                before = from_result(result, self.benefit_ids)
            day = self.day or (record["as_of"] if record else None)
            after = outcome(self.new, profile, day, first_look=True)
            if not _same(before, after):   # a change: worked out in full, with the next questions
                after = outcome(self.new, profile, day)
            found.append((case_id, name, _compare(self, case_id, name, profile, record, before, after)))
        return found


# A worker's state: its own connection to the register and the knowledge bases, loaded once.
_worker: dict = {}
_loaded: dict = {}


def _init_worker(url: str, roots: tuple, versions: tuple, day, parent: int | None) -> None:
    if parent is not None:
        from engine.screening.local import die_with_parent
        die_with_parent(parent)
        inherited = _worker.get("parent_register")
        if inherited is not None:
            inherited.forget_inherited_connections()
    from engine.register.store import open_register
    kbs = []
    for root, version in zip(roots, versions):
        kb = None if version is None else (_loaded.get(root) or load(root))
        if kb is not None and kb.version != version:
            raise PolicyKBError(f"the worker's knowledge base ({kb.version}) differs from the caller's ({version})",
                                zh=f"工作进程的知识库（{kb.version}）与调用方的（{version}）不同")
        kbs.append(kb)
    _worker.update(context=_Context(kbs[0], kbs[1], day), register=open_register(url), key=(url, roots, versions, day))
    gc.freeze()   # the knowledge bases stay: the collector need not walk them again


def _replay_piece(case_ids: list[int]) -> list[tuple]:
    return _worker["context"].replay_cases(_worker["register"], case_ids)


def _dask_piece(case_ids: list[int], url: str, roots: tuple, versions: tuple, day) -> list[tuple]:
    if _worker.get("key") != (url, roots, versions, day):
        if _worker.get("register") is not None:
            _worker["register"].close()
        _init_worker(url, roots, versions, day, None)
    return _replay_piece(case_ids)


def _kb_roots(kbs: tuple) -> tuple:
    """Each knowledge base as a worker finds it: its folder, or None for the bundled one (a Dask
    worker elsewhere has its own installation; the versions are checked)."""
    from engine.loading.kb import bundled_kb
    bundled = bundled_kb().resolve()
    return tuple(None if kb is None or kb.root.resolve() == bundled else str(kb.root) for kb in kbs)


def _run(context: _Context, register, pieces: list[list[int]], workers: int, engine: str,
         scheduler: str | None) -> list[tuple]:
    """Every piece replayed — here, in ``workers`` processes, or on Dask — in the pieces' order."""
    kbs = (context.new, context.old)
    versions = tuple(None if kb is None else kb.version for kb in kbs)
    url = register.url.render_as_string(hide_password=False)
    if engine == "dask":
        # Each Dask worker opens the register itself: on another machine, the register must be a
        # PostgreSQL URL it can reach.
        from engine.screening.dask_engine import in_order
        roots = _kb_roots(kbs)
        tasks = ((_dask_piece, (piece, url, roots, versions, context.day)) for piece in pieces)
        return [item for piece in in_order(tasks, workers, scheduler, "replay on Dask") for item in piece]
    if workers <= 1 or len(pieces) < 2:
        return [item for piece in pieces for item in context.replay_cases(register, piece)]
    roots = tuple(None if kb is None else str(kb.root) for kb in kbs)
    for kb in kbs:
        if kb is not None:
            _loaded[str(kb.root)] = kb
            reasoner(kb)   # compiled once here, inherited by workers started by fork
    _worker["parent_register"] = register
    try:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                 initargs=(url, roots, versions, context.day, os.getpid())) as pool:
            return [item for piece in pool.map(_replay_piece, pieces) for item in piece]
    finally:
        _worker.pop("parent_register", None)


# --------------------------------------------------------------------------- replay

def _installed() -> str:
    try:
        return metadata.version("policykb")
    except metadata.PackageNotFoundError:
        return ""


def replay(register, new_kb, *, as_of=None, cases=None, workers: int = 1, old_kb=None, engine: str = "local",
           scheduler: str | None = None) -> ReplayReport:
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
        Evaluate in this many processes (each loads the knowledge bases once and reads its own
        cases from the register); the same report.
    engine : "local" or "dask"
        ``"dask"``: on a Dask cluster — a local one of ``workers`` processes, or the one at
        ``scheduler`` (whose workers need policykb and, for an SQLite register, the same file);
        the same report.

    Raises
    ------
    PolicyKBError
        A case that is not in the register, an as-of date that is not a date, Dask missing.
    """
    new = knowledge_base(new_kb)
    old = None if old_kb is None else knowledge_base(old_kb)
    day = None if as_of is None else (as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of)))
    chosen, skipped = _selection(register, cases)
    context = _Context(new, old, day)
    size = max(1, min(CHUNK, -(-len(chosen) // (4 * max(workers, 1)))))   # every worker busy, few round trips
    pieces = [chosen[i:i + size] for i in range(0, len(chosen), size)]
    replayed = _run(context, register, pieces, workers, engine, scheduler)

    changed, unchanged, groups = [], [], {}
    for case_id, name, entry in replayed:
        if entry == "not_recorded":
            skipped.append({"case_id": case_id, "name": name, "reason": "not_recorded"})
            continue
        if entry is None:
            unchanged.append(case_id)
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
        skipped=sorted(skipped, key=lambda s: s["case_id"]), replayed=len(replayed) - sum(1 for *_, e in replayed if e == "not_recorded"),
        labels=_labels([new] + ([old] if old is not None else []), changed, context.changes))


def _selection(register, cases) -> tuple[list[int], list[dict]]:
    """The numbers of the cases to replay (every case, or those of ``cases``), and those skipped
    (erased, or without a profile) with the reason; by number."""
    states = register.case_states(include_erased=cases is not None)
    if cases is not None:
        wanted = {register.case(ref).id for ref in cases}
        states = [state for state in states if state[0] in wanted]
    chosen, skipped = [], []
    for case_id, name, erased, has_profile in states:
        if erased or not has_profile:
            skipped.append({"case_id": case_id, "name": name, "reason": "erased" if erased else "no_profile"})
        else:
            chosen.append(case_id)
    return chosen, skipped


def _generic(key: str) -> dict:
    kind, _, rest = key.partition(":")
    described = {"key": key, "kind": kind}
    if rest:
        described["version"] = rest
    return described


#: What :func:`engine.authoring.diff._changes` compares: when these are equal (and the missing
#: facts, their order aside), it finds no change — most cases of a replay, told at C speed.
_COMPARED = ("conclusions", "benefits", "superseded", "status")


def _same(before: dict, after: dict) -> bool:
    return ("error" not in before and "error" not in after
            and all(before[key] == after[key] for key in _COMPARED)
            and set(before["missing"]) == set(after["missing"]))


def _compare(context: _Context, case_id: int, name, profile: dict, record: dict | None, before: dict,
             after: dict) -> dict | None:
    """A case's entry when its outcome changes: each change with the keys responsible."""
    if _same(before, after):
        return None
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
