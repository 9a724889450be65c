"""The semantic linter behind ``policykb check``: every finding about a knowledge base.

On top of the loader's validation (unknown keys and references, duplicate ids, cycles, bad
values, citations and quotes, missing texts, amounts without units — the first such error is a
finding, since nothing after it can be trusted), the linter looks at the knowledge base as a
whole:

========================  ========  ===========================================================
code                      severity  finding
========================  ========  ===========================================================
``never-fires``           error     a rule no profile can fire: contradictory conditions, a
                                    threshold no value of the fact's type reaches, or a
                                    conclusion it needs that can never hold
``overlap``               error     two rules derive the same benefit with different amounts
                                    and some profile satisfies both
``cap-unit``              error     a share of a fact that is not money, or a per-unit cap on
                                    a quantity measured in money
``engine-limit``          error     a rule the inference engine cannot take
``unused-fact``           warning   a fact no rule, amount or precedence uses
``unused-conclusion``     warning   an internal conclusion nothing uses: no rule references it,
                                    or only rules deriving conclusions nothing uses (a
                                    conclusion that is not internal is reported, so it is used)
``uncited``               warning   an article or clause no rule cites
``date-outside-window``   warning   a date in a condition outside the policy's validity window
``no-scenario``           warning   a rule no scenario makes fire
``condition-coverage``    warning   a condition of a rule no pair of scenarios shows deciding
                                    the rule alone, holding in one and failing in the other
                                    (masking MC/DC); a threshold never seen deciding exactly at
                                    its boundary, or just across it — with a profile that would
                                    cover it (engine/authoring/coverage.py)
``source-text``           error     an article's or clause's text differs from the published
                                    source text the document names (``document.source``)
``short-quote``           warning   a rule's quote too short to show which sentence it rests on
``amount-quote``          error     an amount whose number is not in the rule's own quote (a
                                    range's min or max, an up_to, a share's percentage, a cap's
                                    max or per-unit amount): 3000万元 where the quote says 300万元
``draft-rule``            warning   a rule ``policykb draft`` wrote that nobody has reviewed yet
                                    (``draft: true``): never evaluated; ``--strict`` refuses it
``todo``                  warning   a ``TODO:`` placeholder ``policykb draft`` left in a
                                    document's metadata, articles or clauses
``bad-example``           error     an example profile that does not read
``bad-scenario``          error     a scenario file that does not read (bad YAML, unknown keys,
                                    ids, values or examples, an input its facts cannot take)
========================  ========  ===========================================================

Each finding has a file, line and column, the rule id where there is one, and a suggestion
where one exists.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.model import conditions as cond
from engine.compiling.compiler import compile_kb
from engine.errors import KnowledgeBaseError, PolicyKBError
from engine.model import KnowledgeBase, facts_in_use
from engine.loading.kb import load
from engine.loading.values import MAX_YUAN
from engine.authoring.review import drafts_to_review

SEVERITIES = ("error", "warning")


@dataclass
class Finding:
    severity: str
    code: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    rule_id: str | None = None
    suggestion: str | None = None

    def text(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line, self.column) if p is not None)
        rule = f" rule {self.rule_id}:" if self.rule_id else ""
        hint = f" (did you mean '{self.suggestion}'?)" if self.suggestion else ""
        return f"{where}: {self.severity}[{self.code}]{rule} {self.message}{hint}"

    def to_dict(self) -> dict:
        return asdict(self)


_LOAD_CODES = [
    (r"defined twice|two scenarios are named", "duplicate-id"), (r"cycle", "cycle"),
    (r"quote is not in the text", "quote"), (r"has no '(zh|en)'|needs exactly zh and en|non-empty text", "missing-text"),
    (r"unknown key", "unknown-key"), (r"with its unit|has no unit", "amount-unit"), (r"is a float", "amount-float"),
    (r"is not (a|an) (fact|conclusion|sub-policy|article|value|money fact|number fact|records fact)|"
     r"not an article or clause|is not a conclusion or benefit", "unknown-reference"),
    (r"no rule derives", "not-derived"), (r"not allowed", "yaml-tag"),
]


def _load_code(message: str) -> str:
    for pattern, code in _LOAD_CODES:
        if re.search(pattern, message):
            return code
    return "invalid"


def lint(path: str | Path | None = None, *, scenarios: bool = True) -> list[Finding]:
    """Every finding about the knowledge base at ``path`` (default: the bundled one)."""
    try:
        kb = load(path)
    except KnowledgeBaseError as exc:
        code = _load_code(exc.message)
        return [_from_error(exc, code)]
    findings: list[Finding] = []
    try:
        compile_kb(kb)
    except KnowledgeBaseError as exc:
        findings.append(_from_error(exc, "engine-limit"))
    possible = _possible_conclusions(kb)
    findings += _never_fires(kb, possible)
    findings += _overlaps(kb)
    findings += _cap_units(kb)
    findings += _unused_facts(kb)
    findings += _unused_conclusions(kb)
    findings += _uncited(kb)
    findings += _dates_outside_window(kb)
    findings += _source_text(kb)
    findings += _short_quotes(kb)
    findings += _amounts_in_quotes(kb)
    findings += _examples(kb)
    findings += [_at("warning", code, message, where, rule_id) for code, message, where, rule_id in drafts_to_review(kb)]
    if scenarios:
        findings += _scenario_findings(kb)
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), f.file or "", f.line or 0, f.column or 0, f.code))


def _from_error(exc: PolicyKBError, code: str) -> Finding:
    return Finding("error", code, exc.message + (f"; allowed: {', '.join(map(str, exc.allowed))}" if exc.allowed else ""),
                   exc.file, exc.line, exc.column, exc.rule_id, exc.suggestion)


def _at(severity, code, message, where, rule_id=None, suggestion=None) -> Finding:
    return Finding(severity, code, message, where.file, where.line, where.column, rule_id, suggestion)


# --------------------------------------------------------------------------- satisfiability

def _domain_ok(fact, value) -> bool:
    if fact.type in ("money", "number"):
        return 0 <= value <= MAX_YUAN
    return True


def satisfiable(kb: KnowledgeBase, tests) -> tuple[bool, str | None]:
    """Whether some value of each fact makes all its tests hold; else the fact that cannot."""
    by_fact: dict[str, list[cond.FactTest]] = {}
    for test in tests:
        if test.op in cond.CASE_DATE_OPS:
            continue  # relates the fact to the case's date: some case date satisfies it
        by_fact.setdefault(test.fact, []).append(test)
    for name, fact_tests in by_fact.items():
        fact = kb.facts[name]
        if not any(_domain_ok(fact, v) and all(t.holds({name: v}) for t in fact_tests)
                   for v in _values_to_try(fact, fact_tests)):
            return False, name
    return True, None


def _values_to_try(fact, tests):
    if fact.type == "bool":
        return [True, False]
    if fact.type == "enum":
        return list(fact.values)
    if fact.type == "list":
        wanted = [t.value for t in tests if t.op == "includes"] + [v for t in tests if t.op == "includes_any" for v in t.value]
        return [tuple(wanted), tuple(fact.values)]
    if fact.type == "string":
        return [t.value for t in tests]
    points = []
    for test in tests:
        values = test.value if isinstance(test.value, tuple) else (test.value,)
        for value in values:
            step = _dt.timedelta(days=1) if isinstance(value, _dt.date) else 1
            points += [value, value + step, value - step]
    if fact.type in ("money", "number"):
        points.append(0)
    return points


def _possible_conclusions(kb: KnowledgeBase) -> set[str]:
    """Conclusions some profile can derive (a conclusion needing an impossible one cannot)."""
    possible: set[str] = set()
    for conclusion in kb.order:
        for rule in kb.rules_for(conclusion):
            if _rule_can_fire(kb, rule, possible)[0]:
                possible.add(conclusion)
                break
    return possible


def _rule_can_fire(kb, rule, possible) -> tuple[bool, str | None]:
    reason = None
    for branch in cond.to_dnf(rule.when):
        # A presumed reference holds while its conclusion is undecided, so it blocks nothing.
        blocked = [lit.conclusion for lit in branch if isinstance(lit, cond.ConclusionRef)
                   and not lit.presumed and lit.conclusion not in possible]
        if blocked:
            reason = reason or f"it needs '{blocked[0]}', which can never hold"
            continue
        ok, fact = satisfiable(kb, [lit for lit in branch if isinstance(lit, cond.FactTest)])
        if ok:
            return True, None
        reason = reason or _impossible_reason(kb, fact, [lit for lit in branch if isinstance(lit, cond.FactTest) and lit.fact == fact])
    return False, reason


def _impossible_reason(kb, fact_id, tests) -> str:
    fact = kb.facts[fact_id]
    from engine.explaining.wording import condition_text
    said = " and ".join(f"'{condition_text(kb, t, 'en')}'" for t in tests)
    if len(tests) == 1 and fact.type in ("money", "number"):
        return f"no value of {fact_id} ({fact.type}, 0 or more) satisfies {said}"
    return f"no value of {fact_id} satisfies {said} together"


def _never_fires(kb, possible) -> list[Finding]:
    findings = []
    for rule in kb.rules.values():
        ok, reason = _rule_can_fire(kb, rule, possible)
        if not ok:
            findings.append(_at("error", "never-fires", f"can never fire: {reason}", rule.where, rule.id))
    return findings


def _overlaps(kb) -> list[Finding]:
    findings = []
    for benefit in kb.benefits:
        rules = kb.rules_for(benefit)
        for i, first in enumerate(rules):
            for second in rules[i + 1:]:
                if first.amount == second.amount:
                    continue
                for a in _fact_branches(kb, first):
                    if any(satisfiable(kb, a + b)[0] for b in _fact_branches(kb, second)):
                        findings.append(_at("error", "overlap",
                                            f"derives '{benefit}' with a different amount from rule '{first.id}' "
                                            f"({first.where}), and some profile satisfies both", second.where, second.id))
                        break
    return findings


def _fact_branches(kb, rule):
    from engine.explaining.why_not import expand  # the rule through its conclusions, down to fact tests
    branches = []
    for branch in cond.to_dnf(rule.when):
        partial = [()]
        for lit in branch:
            if isinstance(lit, cond.FactTest):
                partial = [p + (lit,) for p in partial]
            else:
                partial = [p + tests for p in partial for _, tests in expand(kb, lit.conclusion)]
        branches.extend(partial)
    return branches


def _cap_units(kb) -> list[Finding]:
    findings = []
    for rule in kb.rules.values():
        spec = rule.amount
        if spec is None or spec.basis != "share":
            continue
        if kb.facts[spec.of].unit != "CNY":
            findings.append(_at("error", "cap-unit", f"the share is of '{spec.of}', measured in "
                                f"{kb.facts[spec.of].unit}, not CNY", rule.where, rule.id))
        for cap in spec.caps:
            if "per" in cap and kb.facts[cap["per"]].unit in ("CNY", None):
                findings.append(_at("error", "cap-unit", f"the cap of {cap['per_unit']}元 per unit is per "
                                    f"'{cap['per']}', measured in {kb.facts[cap['per']].unit}: a per-unit cap "
                                    "needs a quantity such as m2", rule.where, rule.id))
    return findings


def _unused_facts(kb) -> list[Finding]:
    used = facts_in_use(kb)
    return [_at("warning", "unused-fact", f"no rule, amount or precedence uses fact '{fact.id}' "
                "(mark it display_only: true if it is only shown)", fact.where)
            for fact in kb.facts.values() if fact.id not in used and not fact.display_only]


def _unused_conclusions(kb) -> list[Finding]:
    """Internal conclusions nothing uses. A conclusion is used when it is reported (a benefit,
    or a conclusion not marked internal: results list it), or when a rule deriving a used
    conclusion references it — so a chain of internal steps that ends in nothing is unused
    from end to end."""
    users: dict[str, set[str]] = {}
    for rule in kb.rules.values():
        for name in cond.conclusions_used(rule.when):
            users.setdefault(name, set()).add(rule.then)
    used = {c.id for c in kb.conclusions.values() if not c.internal}
    grown = True
    while grown:
        grown = False
        for name, thens in users.items():
            if name not in used and thens & used:
                used.add(name)
                grown = True
    findings = []
    for c in kb.conclusions.values():
        if c.id in used:
            continue
        if c.id not in users:
            why = "is used by no rule and not reported: nothing depends on it"
        else:
            why = (f"is used only by rules deriving {', '.join(sorted(users[c.id]))}, which nothing uses either, "
                   "and is not reported: nothing depends on it")
        findings.append(_at("warning", "unused-conclusion", f"internal conclusion '{c.id}' {why}", c.where))
    return findings


def cited_parts(kb) -> set[str]:
    """Every citation some rule, precedence rule or relation between documents makes."""
    cited = {ref for rule in kb.rules.values() for ref in (rule.cites, *rule.also_cites)}
    cited |= {p.cites for p in kb.precedence} | {n.cites for n in kb.newer_prevails}
    cited |= {ref for overlap in kb.overlaps for ref in overlap.cites}
    return cited


def _uncited(kb) -> list[Finding]:
    cited = cited_parts(kb)
    findings = []
    for article in kb.articles.values():
        if article.not_encoded:
            continue  # says why nothing computes from it (document.yaml: not_encoded)
        if article.id not in cited and not any(c.id in cited for c in article.clauses):
            findings.append(_at("warning", "uncited", f"no rule cites article {article.id} ({article.title})", article.where))
        for clause in article.clauses:
            if clause.id not in cited:
                findings.append(_at("warning", "uncited", f"no rule cites clause {clause.id} ({clause.title})", clause.where))
    return findings


def _dates_outside_window(kb) -> list[Finding]:
    findings = []
    for rule in kb.rules.values():
        document = kb.documents[rule.document] if rule.document in kb.documents else None
        start = document.effective_date if document else kb.document["effective_date"]
        # A document with no known end is checked against the home document's window; a bound
        # the text does not give (null) checks nothing.
        end = (document.expiry_date if document else None) or kb.document["expiry_date"]
        for node in cond.walk(rule.when):
            if isinstance(node, cond.FactTest) and kb.facts[node.fact].type == "date" and node.op not in cond.CASE_DATE_OPS:
                values = node.value if isinstance(node.value, tuple) else (node.value,)
                for value in values:
                    if (start is not None and value < start) or (end is not None and value > end):
                        window = f"{start.isoformat() if start else '?'} – {end.isoformat() if end else '?'}"
                        findings.append(Finding("warning", "date-outside-window",
                                                f"{value.isoformat()} lies outside the validity window {window}",
                                                node.file, node.line, None, rule.id))
    return findings


#: The codes of the findings only a check with the scenarios makes (``scenarios=True``).
SCENARIO_CODES = frozenset({"no-scenario", "bad-scenario", "condition-coverage"})


def _scenario_findings(kb) -> list[Finding]:
    """Rules no scenario makes fire, and conditions the scenarios do not cover both ways."""
    from engine.authoring.coverage import scenario_evaluation
    if not kb.scenarios_dir.is_dir():
        return [Finding("warning", "no-scenario", "the knowledge base has no scenarios/ folder", str(kb.root))]
    try:
        evaluated = scenario_evaluation(kb)
    except KnowledgeBaseError as exc:
        return [_from_error(exc, "bad-scenario")]
    return _without_scenario(kb, evaluated) + _uncovered_conditions(kb, evaluated)


def _without_scenario(kb, evaluated) -> list[Finding]:
    fired = {d.rule_id for _, inference in evaluated
             for derivations in inference.derivations.values() for d in derivations}
    return [_at("warning", "no-scenario", "no scenario makes this rule fire", rule.where, rule.id)
            for rule in kb.rules.values() if rule.id not in fired and not rule.text_missing]


@dataclass
class CoverageGap(Finding):
    """A ``condition-coverage`` finding, with the condition, what it was never seen doing
    (``holding``, ``failing``, ``boundary``, ``across``) and a profile that would cover it
    (``profile``: the scenario to write, ``extends``/``input``/``as_of``; ``output``: what it
    gives under the knowledge base as it is, the status of the rule's conclusion; ``scenario``:
    the file of the scenario it starts from), for scripts reading the JSON and the language
    server's "add a scenario covering this condition"."""

    condition: str | None = None
    gap: str | None = None
    profile: dict | None = None
    output: dict | None = None
    scenario: str | None = None


def _uncovered_conditions(kb, evaluated) -> list[Finding]:
    from engine.authoring.coverage import Suggestion, condition_coverage, suggest
    from engine.explaining.wording import condition_text, json_value
    findings: list[Finding] = []
    for entry in condition_coverage(kb, evaluated).gaps:
        node = entry.node
        said = f"{condition_text(kb, node, 'en')} ({node.fact if isinstance(node, cond.FactTest) else node.conclusion})"
        for gap, words, bound in entry.gap_list(kb):
            found = suggest(kb, entry, gap, evaluated, bound)
            profile = output = scenario = None
            if isinstance(found, Suggestion):
                words += f"; a profile that would cover it: {found.text(kb)}"
                profile = _json(found.profile, json_value)
                output, scenario = _expected(kb, kb.rules[entry.rule_id].then, found), found.scenario.file
            else:
                words += f"; {found}"
            findings.append(CoverageGap("warning", "condition-coverage", f"{said}: {words}", entry.file, entry.line,
                                        None, entry.rule_id, None, said, gap, profile, output, scenario))
    return findings


def _expected(kb, conclusion: str, found) -> dict | None:
    """What the profile ``found`` proposes gives for ``conclusion``, as a scenario's output."""
    from engine.inferring.evaluation import assess
    case, changes = found.scenario, found.changes
    as_of = changes.get(cond.AS_OF_FACT, case.as_of) if case.as_of is not None else None
    try:
        result = assess(dict(case.profile, **changes), as_of=as_of, kb=kb, documents=case.documents).result
    except PolicyKBError:
        return None
    return {"status": {conclusion: result["status"][conclusion]}}


def _json(value, json_value):
    if isinstance(value, dict):
        return {str(k): _json(v, json_value) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v, json_value) for v in value]
    return json_value(value)


#: A quote shorter than this cannot show which sentence a rule rests on.
MIN_QUOTE = 6


def _short_quotes(kb) -> list[Finding]:
    return [_at("warning", "short-quote", f"the quote '{rule.quote}' is too short to show the sentence "
                f"the rule rests on (at least {MIN_QUOTE} characters)", rule.where, rule.id)
            for rule in kb.rules.values() if len(rule.quote) < MIN_QUOTE]


def _amounts_in_quotes(kb) -> list[Finding]:
    from engine.authoring.quotes import amounts_not_quoted
    return [Finding("error", "amount-quote", message, file, line, None, rule_id, hint)
            for rule_id, file, line, message, hint in amounts_not_quoted(kb)]


def _source_text(kb) -> list[Finding]:
    findings = []
    for document in kb.documents.values():
        findings += _document_source_text(kb, document)
    return findings


def _document_source_text(kb, document) -> list[Finding]:
    from engine.loading.reader import first_difference
    from engine.loading.reader import normalize as _normalize
    source = document.data.get("source")
    if not source:
        return []
    path = document.folder / str(source).split("#")[0].strip()
    if not path.is_file():
        return [Finding("error", "source-text", f"the published text '{source}' named by document.source of "
                        f"{document.id} is not in the knowledge base", document.where.file, document.where.line)]
    original = _normalize(path.read_text(encoding="utf-8"))
    findings = []
    for article in (a for a in kb.articles.values() if a.document == document.id):
        for unit, text, at in [(f"article {article.id}", article.text, article.where)] + \
                [(f"clause {c.id}", c.text, c.where) for c in article.clauses]:
            if _normalize(text) not in original:
                findings.append(_at("error", "source-text", f"the text of {unit} differs from the published text "
                                    f"({path.name}): {first_difference(_normalize(text), original)}", at))
    return findings


def _examples(kb) -> list[Finding]:
    from engine.loading.profile import read_profile
    if not kb.examples_dir.is_dir():
        return []
    findings = []
    for path in sorted(kb.examples_dir.iterdir()):
        if path.suffix.lower() not in (".yaml", ".yml", ".json"):
            continue
        try:
            read_profile(path, kb)
        except PolicyKBError as exc:
            findings.append(_from_error(exc, "bad-example"))
    return findings
