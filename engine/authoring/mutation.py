"""Mutation testing: ``policykb mutate`` — would the scenarios notice a rule written a little wrong?

Every **mutant** is one small edit of the YAML text of one ``rules/*.yaml`` file, so it has a
``file:line``, the line before and after, and the change in words:

- ``drop_rule`` — a rule removed;
- ``drop_condition`` — a fact test or conclusion reference removed from the ``all`` / ``any``
  it stands in, at any depth (not the only item of its list: that would not load);
- ``flip_bound`` — inclusive made exclusive and back: ``at_least`` ↔ ``more_than``,
  ``at_most`` ↔ ``less_than``; an end of ``between`` moved one unit inwards (made exclusive);
- ``move_bound`` — a threshold moved by one unit: money ±1元, a number ± its smallest unit
  (1, or 0.1 for a threshold written with one decimal…), a date ±1 day, ``within_years`` ±1
  year; an end of ``between`` moved one unit outwards;
- ``raise_cap`` — an amount's ceiling raised: a range's max, ``up_to``, a cap's ``max`` or
  ``per_unit``, a ``cumulative`` cap's ``max`` by 1元, a share by one percentage point, a yearly
  amount's ``years`` by one;
- ``drop_value`` — one value removed from the list of ``in``, ``not_in`` or ``includes_any``;
- ``flip_bool`` — ``is: true`` ↔ ``is: false`` on a yes/no fact.

A change the loader could not read is not made (a negative amount, a share over 100%, an
empty list); two edits giving the same text are one mutant. The YAML is composed with PyYAML's
pure-Python loader, whose marks are character offsets into the text, and walked side by side
with the loaded rules, which give each condition's parsed values.

Each mutant is written into a copy of the knowledge base, loaded and run against the scenarios
(:func:`engine.authoring.scenarios.run`, as ``policykb test`` runs them). It is **caught** when
it no longer loads or compiles, or when some scenario fails under it; it **survives** when every
scenario still passes — a change no scenario pins down, or an *equivalent* mutant that cannot
change any outcome (a condition implied by another), which is a finding about the rule rather
than about the scenarios.

Mutants run in a pool of worker processes (``--workers``, default every core). Each worker
holds the knowledge base and its scenarios as loaded once (by the parent, inherited when the
worker is started by fork, else loaded in the worker) and its own copy of the knowledge base's
files, which it writes each mutant into. Workers are replaced after :data:`TASKS_PER_WORKER`
mutants each, as each loaded mutant leaves its compiled rules in the rule engine for the life
of the process. For each mutant the scenarios naming the changed rule's conclusion, or one
depending on it, run first, and the first that fails settles it; a survivor has run them all.

The report lists the survivors as ``file:line: change`` and ends with ``N of M mutants caught``;
``--format json`` gives every mutant with its file, line, operator, rule, change, the lines
before and after, and what caught it. Mutants are sorted by file, line and operator, and the
output is the same bytes for the same knowledge base. The exit status is 0 when every mutant is
caught, 1 when some survive, 2 for bad input (a knowledge base that does not load, no
scenarios, or scenarios that fail on the knowledge base as it is).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import yaml

from engine.authoring.scenarios import Scenario, load_scenarios, run
from engine.errors import EvaluationError, KnowledgeBaseError, PolicyKBError, ProfileError
from engine.explaining.wording import display, named
from engine.inferring.evaluation import reasoner
from engine.loading.kb import kb_folder, load
from engine.loading.values import format_money, format_percent
from engine.model import KnowledgeBase, Rule
from engine.model import conditions as cond

#: The operators, in the order mutants on one line are listed.
OPERATORS = ("drop_rule", "drop_condition", "flip_bound", "move_bound", "raise_cap", "drop_value", "flip_bool")
FLIPPED = {"at_least": "more_than", "more_than": "at_least", "at_most": "less_than", "less_than": "at_most"}
VALUE_SETS = ("in", "not_in", "includes_any")
#: How many decimals a number threshold may have (engine.loading.values.NUMBER_DECIMALS).
_MAX_DECIMALS = 6
#: Mutants a worker process runs before it is replaced (each leaves its rule engine behind).
TASKS_PER_WORKER = 100
#: Folders of a knowledge base a mutant never needs: they are not copied for the workers.
_NOT_COPIED = ("scenarios", "examples")
#: Output keys of a scenario that name conclusions or benefits.
_NAMING = ("conclusions", "not_conclusions", "benefits", "not_benefits", "superseded", "grounds", "status",
           "next_fact", "why_not")


@dataclass(frozen=True)
class Mutant:
    """One edit of one rules file: ``text[start:end]`` becomes ``replacement``."""

    path: str                    # the file, relative to the knowledge base's folder (posix)
    line: int                    # 1-based line of what changes
    operator: str                # one of OPERATORS
    rule: str                    # the id of the rule changed
    words: tuple[str, str]       # the change in words, (zh, en)
    start: int
    end: int
    replacement: str
    before: str                  # the lines changed, as they were
    after: str                   # the same lines after the change ("" when removed)
    seq: int = 0                 # order among mutants of one line and operator

    def change(self, lang: str) -> str:
        return self.words[0 if lang == "zh" else 1]

    def apply(self, text: str) -> str:
        """The file's text with this mutant's edit."""
        return text[:self.start] + self.replacement + text[self.end:]

    @property
    def key(self) -> tuple:
        return (self.path, self.line, OPERATORS.index(self.operator), self.seq)


def command(args) -> int:
    """``policykb mutate``: the report on stdout; 0 when every mutant is caught, 1 when some
    survive. Bad input raises a :class:`~engine.errors.PolicyKBError` (the CLI exits 2)."""
    if args.workers < 1:
        raise ProfileError(f"--workers must be at least 1, not {args.workers}")
    report = mutate(args.kb, workers=args.workers, lang=args.lang,
                    progress=lambda text: print(f"policykb: {text}", file=sys.stderr))
    out = json_text(report) if args.format == "json" else text(report)
    sys.stdout.write(out)
    sys.stdout.flush()
    return 1 if report["survived"] else 0


def mutate(path=None, workers: int = 1, lang: str = "zh", progress=None) -> dict:
    """Run every mutant of the knowledge base at ``path`` (default: the bundled one) against its
    scenarios, in ``workers`` processes. Returns the report: ``kb``, ``total``, ``caught``,
    ``survived`` and ``mutants`` (each a dict, sorted by file, line and operator).

    Raises
    ------
    KnowledgeBaseError
        When the knowledge base or its scenarios do not load, there are no scenarios, or some
        scenario fails on the knowledge base as it is (mutants are measured against passing ones).
    """
    root = kb_folder(path)
    kb = load(root)
    scenarios = load_scenarios(kb)
    if not scenarios:
        raise KnowledgeBaseError(f"no scenarios in {kb.scenarios_dir}: mutation testing runs the scenarios "
                                 "against each mutant", file=str(kb.scenarios_dir))
    failing = [(case, problems) for case in scenarios if (problems := _problems(case, kb))]
    if failing:
        case, problems = failing[0]
        raise KnowledgeBaseError(f"{len(failing)} of {len(scenarios)} scenarios fail on the knowledge base as it "
                                 f"is (first: {case.name}: {problems[0]}); mutants are measured against passing "
                                 f"scenarios: run policykb test --kb {root} and fix them first",
                                 file=case.file, line=case.line)
    mutants = generate(kb)
    workers = max(1, min(workers, len(mutants)))
    if progress:
        progress(f"knowledge base: {kb.root}; {len(mutants)} mutants, {len(scenarios)} scenarios, "
                 f"{workers} worker{'s' if workers > 1 else ''}")
    outcomes = _run_all(kb, scenarios, mutants, workers)
    entries = [_entry(kb, mutant, outcomes[n], lang) for n, mutant in enumerate(mutants)]
    caught = sum(1 for e in entries if e["caught"])
    return {"kb": str(kb.root), "total": len(entries), "caught": caught, "survived": len(entries) - caught,
            "mutants": entries}


def text(report: dict) -> str:
    """The survivors, one line each (the change in the report's language), and the summary line."""
    lines = [f"{m['file']}:{m['line']}: {m['change']}" for m in report["mutants"] if not m["caught"]]
    lines.append(f"{report['caught']} of {report['total']} mutants caught, {report['survived']} survived")
    return "\n".join(lines) + "\n"


def json_text(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def _entry(kb: KnowledgeBase, mutant: Mutant, outcome: dict | None, lang: str) -> dict:
    return {"file": str(kb.root / mutant.path), "line": mutant.line, "operator": mutant.operator,
            "rule": mutant.rule, "change": mutant.change(lang), "before": mutant.before, "after": mutant.after,
            "caught": outcome is not None, "caught_by": outcome}


# -- running -------------------------------------------------------------------------------

#: What a worker holds: the knowledge base and scenarios as loaded, its copy of the files, and
#: for each conclusion the order to run the scenarios in.
_worker: dict = {}


def _run_all(kb: KnowledgeBase, scenarios: list[Scenario], mutants: list[Mutant], workers: int) -> list:
    """Each mutant's outcome (None: it survived), in the order of ``mutants``."""
    tasks = [(n, m.path, m.start, m.end, m.replacement, m.rule) for n, m in enumerate(mutants)]
    outcomes: list = [None] * len(mutants)
    with tempfile.TemporaryDirectory(prefix="policykb-mutate-") as scratch:
        _worker.clear()
        _worker.update(kb=kb, scenarios=scenarios)
        try:
            if workers == 1:
                _init_worker(str(kb.root), scratch)
                for task in tasks:
                    n, outcome = _run_one(task)
                    outcomes[n] = outcome
                return outcomes
            # Rounds of fresh workers, each running at most TASKS_PER_WORKER mutants; workers
            # started by fork find the knowledge base and scenarios in _worker.
            size = workers * TASKS_PER_WORKER
            for first in range(0, len(tasks), size):
                with ProcessPoolExecutor(workers, initializer=_init_worker,
                                         initargs=(str(kb.root), scratch)) as pool:
                    try:
                        for n, outcome in pool.map(_run_one, tasks[first:first + size]):
                            outcomes[n] = outcome
                    except BrokenProcessPool:
                        raise EvaluationError("a worker process running mutants died; run again with "
                                              "--workers 1 to see the mutant it died on") from None
            return outcomes
        finally:
            _worker.clear()


def _init_worker(root: str, scratch: str) -> None:
    """Set a worker up: the knowledge base and scenarios (loaded here unless inherited), and a
    copy of the knowledge base's files of its own."""
    if "kb" not in _worker:
        kb = load(root)
        _worker.update(kb=kb, scenarios=load_scenarios(kb))
    copy = Path(tempfile.mkdtemp(dir=scratch, prefix=f"w{os.getpid()}-")) / "kb"
    shutil.copytree(root, copy, ignore=lambda folder, names: [n for n in names if n in _NOT_COPIED
                                                              and Path(folder) == Path(root)])
    _worker.update(copy=copy, texts={}, orders={})


def _run_one(task) -> tuple[int, dict | None]:
    """One mutant written into the worker's copy, loaded, and run against the scenarios."""
    n, rel, start, end, replacement, rule_id = task
    copy, texts = _worker["copy"], _worker["texts"]
    path = copy / rel
    original = texts.setdefault(rel, path.read_text(encoding="utf-8"))
    path.write_text(original[:start] + replacement + original[end:], encoding="utf-8")
    try:
        mutated = load(copy)
    except PolicyKBError as exc:
        return n, {"load": exc.message}
    finally:
        path.write_text(original, encoding="utf-8")
    try:
        reasoner(mutated).engine   # compiled and loaded into the rule engine, as check does
    except PolicyKBError as exc:
        return n, {"check": exc.message}
    for case in _order(rule_id):
        problems = _problems(case, mutated)
        if problems:
            return n, {"scenario": case.name, "where": case.where, "problem": problems[0]}
    return n, None


def _problems(case: Scenario, kb: KnowledgeBase) -> list[str]:
    """How a scenario fails under ``kb`` (empty: it passes), as ``policykb test`` counts it; a
    mutant that makes evaluation break fails the scenario too."""
    try:
        return run(case, kb)
    except PolicyKBError as exc:
        return [f"error: {exc}"]
    except Exception as exc:  # noqa: BLE001 - a traceback under policykb test is a failure as well
        return [f"internal error while evaluating: {exc or 'no detail'}"]


def _order(rule_id: str) -> list[Scenario]:
    """The scenarios in the order to run them against a mutant of ``rule_id``: those naming its
    conclusion or one depending on it first, then the others, each group in file order."""
    kb, orders = _worker["kb"], _worker["orders"]
    then = kb.rules[rule_id].then
    if then not in orders:
        affected = _depending(kb, then)
        scenarios = _worker["scenarios"]
        first = [s for s in scenarios if _named(s) & affected]
        orders[then] = first + [s for s in scenarios if not _named(s) & affected]
    return orders[then]


def _depending(kb: KnowledgeBase, conclusion: str) -> set[str]:
    """``conclusion`` and every conclusion a rule derives from it, directly or not."""
    found, todo = {conclusion}, [conclusion]
    while todo:
        used = todo.pop()
        for rule in kb.rules.values():
            if rule.then not in found and used in cond.conclusions_used(rule.when):
                found.add(rule.then)
                todo.append(rule.then)
    return found


def _named(case: Scenario) -> set[str]:
    return {cid for key in _NAMING for cid in (case.output.get(key) or ())}


# -- mutants -----------------------------------------------------------------------------


def rule_files(kb: KnowledgeBase) -> list[Path]:
    """The rules files of a knowledge base, in the order the loader reads them."""
    return [path for document in kb.documents.values()
            for path in sorted((document.folder / "rules").glob("*.yaml"))]


def generate(kb: KnowledgeBase) -> list[Mutant]:
    """Every mutant of the rules files of ``kb`` (a loaded, valid knowledge base), sorted."""
    found: list[Mutant] = []
    for path in rule_files(kb):
        rel = path.relative_to(kb.root).as_posix()
        text = path.read_text(encoding="utf-8")
        found += _FileMutants(kb, rel, text).all()
    return sorted(found, key=lambda m: m.key)


class _FileMutants:
    """The mutants of one rules file."""

    def __init__(self, kb: KnowledgeBase, rel: str, text: str):
        self.kb, self.rel, self.text = kb, rel, text
        self.found: list[Mutant] = []
        self.seen = {text}

    def all(self) -> list[Mutant]:
        root = yaml.compose(self.text, Loader=yaml.SafeLoader)
        rules = _value(root, "rules")
        if not isinstance(rules, yaml.SequenceNode):
            return []
        for index, item in enumerate(rules.value):
            rid = _scalar(_value(item, "id"))
            rule = self.kb.rules.get(rid)
            if rule is None:
                continue
            self.remove(rules, index, "drop_rule", rule, _drop_rule_words(self.kb, rule))
            self.condition(rule, _value(item, "when"), rule.when)
            amount = _value(item, "amount")
            if amount is not None and rule.amount is not None:
                self.amount(rule, amount)
        return self.found

    # -- edits ---------------------------------------------------------------------------

    def add(self, operator: str, rule: Rule, line: int, start: int, end: int, replacement: str,
            words: tuple[str, str]) -> None:
        mutated = self.text[:start] + replacement + self.text[end:]
        if mutated in self.seen:
            return
        self.seen.add(mutated)
        first, last = _line_start(self.text, start), _line_end(self.text, max(start, end - 1))
        before = self.text[first:last]
        after = mutated[first:last + len(replacement) - (end - start)]
        seq = sum(1 for m in self.found if (m.line, m.operator) == (line, operator))
        self.found.append(Mutant(self.rel, line, operator, rule.id, words, start, end, replacement,
                                 before.rstrip("\n"), after.rstrip("\n"), seq))

    def remove(self, seq: yaml.SequenceNode, index: int, operator: str, rule: Rule,
               words: tuple[str, str]) -> None:
        """Remove item ``index`` of a sequence: its lines in block style, its text and a comma
        in flow style."""
        items, item = seq.value, seq.value[index]
        line = item.start_mark.line + 1
        if seq.flow_style:
            if index < len(items) - 1:
                start, end = item.start_mark.index, items[index + 1].start_mark.index
            else:
                start, end = items[index - 1].end_mark.index, item.end_mark.index
        else:
            start = _line_start(self.text, item.start_mark.index)
            if self.text[start:item.start_mark.index].strip() != "-":
                return   # not alone on its line: no line edit removes it
            content = start + len(self.text[start:item.end_mark.index].rstrip())
            end = _line_end(self.text, content - 1)
        self.add(operator, rule, line, start, end, "", words)

    def swap(self, operator: str, rule: Rule, node: yaml.Node, replacement: str,
             words: tuple[str, str]) -> None:
        """Replace a scalar (a key or a value) with ``replacement``."""
        self.add(operator, rule, node.start_mark.line + 1, node.start_mark.index, node.end_mark.index,
                 replacement, words)

    def retest(self, operator: str, rule: Rule, node: yaml.Node, replacement: str,
               test: cond.FactTest, **changed) -> None:
        """Replace a scalar of a fact test, the test becoming ``test`` with ``changed``."""
        self.swap(operator, rule, node, replacement, _change_words(self.kb, rule, test, replace(test, **changed)))

    # -- conditions ------------------------------------------------------------------------

    def condition(self, rule: Rule, node, model) -> None:
        if isinstance(model, (cond.All, cond.Any_)):
            seq = _value(node, "all" if isinstance(model, cond.All) else "any")
            if not isinstance(seq, yaml.SequenceNode) or len(seq.value) != len(model.items):
                return
            for index, (item, part) in enumerate(zip(seq.value, model.items)):
                if isinstance(part, (cond.FactTest, cond.ConclusionRef)) and len(model.items) > 1:
                    words = (f"规则 {rule.id}：删除条件 {condition_words(self.kb, part, 'zh')}",
                             f"rule {rule.id}: drop the condition {condition_words(self.kb, part, 'en')}")
                    self.remove(seq, index, "drop_condition", rule, words)
                self.condition(rule, item, part)
        elif isinstance(model, cond.FactTest) and isinstance(node, yaml.MappingNode):
            key, value = _pair(node, model.op)
            if key is not None:
                self.fact_test(rule, model, key, value)

    def fact_test(self, rule: Rule, test: cond.FactTest, key, value) -> None:
        fact = self.kb.facts[test.fact]
        if test.op == "is" and fact.type == "bool":
            self.retest("flip_bool", rule, value, "false" if test.value else "true", test, value=not test.value)
        elif test.op in VALUE_SETS and isinstance(value, yaml.SequenceNode) and len(value.value) > 1:
            for index in range(len(test.value)):
                after = replace(test, value=tuple(v for i, v in enumerate(test.value) if i != index))
                self.remove(value, index, "drop_value", rule, _change_words(self.kb, rule, test, after))
        elif test.op in FLIPPED:
            self.retest("flip_bound", rule, key, FLIPPED[test.op], test, op=FLIPPED[test.op])
            for direction in (-1, +1):
                moved = _moved(test.value, direction)
                if moved is not None:
                    self.retest("move_bound", rule, value, _written(moved, fact), test, value=moved)
        elif test.op == "between" and isinstance(value, yaml.SequenceNode) and len(value.value) == 2:
            low, high = test.value
            for end, (inwards, outwards) in ((0, (+1, -1)), (1, (-1, +1))):
                for operator, direction in (("flip_bound", inwards), ("move_bound", outwards)):
                    moved = _moved(test.value[end], direction)
                    if moved is None:
                        continue
                    bounds = (moved, high) if end == 0 else (low, moved)
                    if bounds[0] > bounds[1]:
                        continue
                    self.retest(operator, rule, value.value[end], _written(moved, fact), test, value=bounds)
        elif test.op == "within_years":
            for years in (test.value - 1, test.value + 1):
                if 1 <= years <= 100:
                    self.retest("move_bound", rule, value, str(years), test, value=years)

    # -- amounts ---------------------------------------------------------------------------

    def amount(self, rule: Rule, node) -> None:
        amount = rule.amount
        if amount.basis == "range":
            self.raise_money(rule, _value(_value(node, "range"), "max"), amount.max, ("金额上限", "the ceiling"))
        elif amount.basis == "up_to":
            self.raise_money(rule, _value(node, "up_to"), amount.max, ("金额上限", "the ceiling"))
        elif amount.basis == "share":
            share = amount.share + Fraction(1, 100)
            value = _value(node, "share")
            if share <= 1 and value is not None:
                self.swap("raise_cap", rule, value, format_percent(share),
                          _amount_words(self.kb, rule, ("比例", "the share"), format_percent(amount.share),
                                        format_percent(share)))
            caps = _value(node, "caps")
            for item, cap in zip(caps.value if isinstance(caps, yaml.SequenceNode) else [], amount.caps):
                if "max" in cap:
                    self.raise_money(rule, _value(item, "max"), cap["max"], ("最高额", "the cap"))
                else:
                    per = named(self.kb, cap["per"], "zh"), named(self.kb, cap["per"], "en")
                    self.raise_money(rule, _value(item, "per_unit"), cap["per_unit"],
                                     (f"每单位{per[0]}上限", f"the cap per unit of {per[1]}"))
        if amount.cumulative:
            self.raise_money(rule, _value(_value(node, "cumulative"), "max"), amount.cumulative["max"],
                             ("累计上限", "the cumulative cap"))
        years = (amount.per_year or {}).get("years")
        value = _value(_value(node, "per_year"), "years") if years else None
        if value is not None and years < 100:
            self.swap("raise_cap", rule, value, str(years + 1),
                      _amount_words(self.kb, rule, ("支持年数", "the years of support"), f"{years}年",
                                    f"{years + 1}年", f"{years} years", f"{years + 1} years"))

    def raise_money(self, rule: Rule, node, yuan: int | None, what: tuple[str, str]) -> None:
        if node is None or yuan is None:
            return
        self.swap("raise_cap", rule, node, f"{yuan + 1}元",
                  _amount_words(self.kb, rule, what, format_money(yuan, "zh"), format_money(yuan + 1, "zh"),
                                format_money(yuan, "en"), format_money(yuan + 1, "en")))


# -- words ---------------------------------------------------------------------------------


def condition_words(kb: KnowledgeBase, node, lang: str) -> str:
    """A fact test or conclusion reference in words, each label followed by its id:
    ``实收资本 (paid_in_capital) 不低于 1亿元``."""
    zh = lang == "zh"
    if isinstance(node, cond.ConclusionRef):
        text = named(kb, node.conclusion, lang)
        if node.presumed:
            text += "（推定成立，除非已知不满足）" if zh else " (presumed unless known to fail)"
        return text
    fact = kb.facts[node.fact]
    label = named(kb, node.fact, lang)
    if node.op == "within_years":
        return (f"申请日期在{label}起{node.value}年内" if zh else
                f"the application date within {node.value} years from {label}")
    if node.op == "not_after_case_date":
        return (f"{label}不晚于申请日期" if zh else f"{label} on or before the application date")
    words = cond.OPERATOR_TEXT[node.op][0 if zh else 1]
    if node.op == "between":
        shown = f"{display(kb, node.fact, node.value[0], lang)} {'至' if zh else 'and'} " \
                f"{display(kb, node.fact, node.value[1], lang)}"
    elif node.op in VALUE_SETS:
        shown = ("、" if zh else ", ").join(fact.values[v][lang] if v in fact.values else str(v)
                                           for v in node.value)
    elif fact.type == "list":
        shown = fact.values[node.value][lang]
    else:
        shown = display(kb, node.fact, node.value, lang)
    return f"{label} {words} {shown}"


def _change_words(kb: KnowledgeBase, rule: Rule, before, after) -> tuple[str, str]:
    return tuple(f"{'规则' if lang == 'zh' else 'rule'} {rule.id}{'：' if lang == 'zh' else ': '}"
                 f"{condition_words(kb, before, lang)} → {condition_words(kb, after, lang)}"
                 for lang in ("zh", "en"))


def _drop_rule_words(kb: KnowledgeBase, rule: Rule) -> tuple[str, str]:
    return (f"删除规则 {rule.id}（{named(kb, rule.then, 'zh')} 的一条依据）",
            f"drop rule {rule.id} (one way to {named(kb, rule.then, 'en')})")


def _amount_words(kb: KnowledgeBase, rule: Rule, what: tuple[str, str], old: str, new: str,
                  old_en: str | None = None, new_en: str | None = None) -> tuple[str, str]:
    return (f"规则 {rule.id}：{named(kb, rule.then, 'zh')} 的{what[0]} {old} → {new}",
            f"rule {rule.id}: {what[1]} of {named(kb, rule.then, 'en')}: {old_en or old} → {new_en or new}")


# -- values --------------------------------------------------------------------------------


def _moved(value, direction: int):
    """``value`` one unit up or down, or None where the loader could not read the result."""
    if isinstance(value, _dt.date):
        try:
            return value + _dt.timedelta(days=direction)
        except OverflowError:
            return None
    if isinstance(value, Fraction):
        moved = value + direction * _unit(value)
        return moved if moved >= 0 else None
    if isinstance(value, int) and not isinstance(value, bool):
        moved = value + direction   # money: the loader reads no negative threshold
        return moved if moved >= 0 else None
    return None


def _unit(value: Fraction) -> Fraction:
    """A number's smallest unit as written: 1, or 1/10 for 1000.5, …"""
    for decimals in range(_MAX_DECIMALS + 1):
        if (value * 10**decimals).denominator == 1:
            return Fraction(1, 10**decimals)
    return Fraction(1, 10**_MAX_DECIMALS)


def _written(value, fact) -> str:
    """A threshold as the knowledge base writes it: money with its unit, dates ISO, numbers
    with a fraction quoted (the loader refuses floats)."""
    if isinstance(value, _dt.date):
        return value.isoformat()
    if fact.type == "money":
        return f"{value}元"
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        decimals = next(d for d in range(_MAX_DECIMALS + 1) if (value * 10**d).denominator == 1)
        return f'"{value.numerator / value.denominator:.{decimals}f}"'
    return str(value)


# -- YAML nodes and text -------------------------------------------------------------------


def _pair(node, key: str):
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k, v
    return None, None


def _value(node, key: str):
    return _pair(node, key)[1]


def _scalar(node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """The index just after the line break ending the line that holds ``index``."""
    found = text.find("\n", index)
    return len(text) if found < 0 else found + 1
