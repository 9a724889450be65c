"""A document's ``rules/*.yaml``: rules with their citations, quotes, conditions and amounts,
and precedence rules."""

from __future__ import annotations

from engine.errors import KnowledgeBaseError, nearest
from engine.loading.reader import Reader, first_difference, normalize
from engine.loading.values import ValueProblem, parse_date, parse_money, parse_number, parse_percent, written
from engine.loading.yamlio import Sequence
from engine.model import Amount, Draft, Fact, KnowledgeBase, Precedence, Rule
from engine.model import conditions as cond


def read_rules_file(kb: KnowledgeBase, data, file, document: str):
    top = Reader(data, "a rules file", file)
    top.keys((), ("rules", "precedence"))
    for item in top.list("rules"):
        if isinstance(item, dict) and item.get("draft") is True:
            kb.drafts.append(_draft(kb, item, file, document))
            continue
        rule = _rule(kb, item, file, document)
        if rule.id in kb.rules:
            raise KnowledgeBaseError(f"rule '{rule.id}' is defined twice (first at "
                                     f"{kb.rules[rule.id].where})", file=file, line=rule.where.line)
        kb.rules[rule.id] = rule
    for item in top.list("precedence"):
        reader = Reader(item, "a precedence rule", file)
        reader.keys(("id", "cites", "quote", "input", "explain"), ("notes",))
        cites = cite(reader, kb, "cites", document)
        quote = quote_of(reader, kb, cites)
        source = reader.text("input")
        if source not in kb.facts or kb.facts[source].type != "records":
            raise reader.error(f"'{source}' is not a records fact", "input",
                               suggestion=nearest(source, kb.facts))
        kb.precedence.append(Precedence(reader.ident(), cites, quote, source,
                                        _explain(reader), reader.text("notes", "", required=False),
                                        reader.where()))


def cite(reader: Reader, kb: KnowledgeBase, key: str, document: str | None, value=None) -> str:
    """A citation written under ``key`` (or ``value``) in ``document``'s folder, canonical."""
    return kb.citations.resolve(reader, key, reader.data[key] if value is None else value, document)


def quote_of(reader: Reader, kb: KnowledgeBase, cites: str, extra=()) -> str:
    quote = reader.text("quote")
    if not any(normalize(quote) in normalize(kb.text_of(ref)) for ref in (cites, *extra)):
        raise reader.error(f"the quote is not in the text of {cites}: "
                           + first_difference(normalize(quote), normalize(kb.text_of(cites)),
                                              ("the quote", f"the text of {cites}")), "quote")
    return quote


def _explain(reader: Reader) -> dict[str, str]:
    explain = reader.data.get("explain")
    sub = Reader(explain, f"'explain' of {reader.what}", reader.file, reader.data.line_of("explain"))
    sub.keys(("zh", "en"))
    return {"zh": sub.text("zh"), "en": sub.text("en")}


def _draft(kb: KnowledgeBase, item, file, document: str) -> Draft:
    """A rule ``policykb draft`` wrote and nobody has reviewed yet: only its id and citation are
    read (the rest is a proposal with TODOs); it is kept aside and never evaluated."""
    reader = Reader(item, "a draft rule", file)
    rid = reader.ident()
    reader.what = f"draft rule '{rid}'"
    cites = cite(reader, kb, "cites", document)
    review = reader.data.get("review") or []
    review = [review] if isinstance(review, str) else review
    if not isinstance(review, list) or not all(isinstance(note, str) for note in review):
        raise reader.error("'review' is a list of notes", "review", rule_id=rid)
    return Draft(rid, cites, [str(note) for note in review], reader.where(), document)


def _rule(kb: KnowledgeBase, item, file, document: str) -> Rule:
    reader = Reader(item, "a rule", file)
    if reader.data.get("draft", False) is not False:
        raise reader.error("'draft' is true (a rule not reviewed yet) or absent", "draft")
    if "review" in reader.data:
        raise reader.error("review notes belong to a draft rule: once they are dealt with, delete 'review' "
                           "(and 'draft: true')", "review")
    reader.keys(("id", "cites", "quote", "when", "then", "explain"),
                ("also_cites", "amount", "defers_to", "notes", "text_missing", "draft"))
    rid = reader.ident()
    reader.what = f"rule '{rid}'"
    cites = cite(reader, kb, "cites", document)
    also = [cite(reader, kb, "also_cites", document, r) for r in reader.list("also_cites")]
    quote = quote_of(reader, kb, cites)
    then = reader.text("then")
    if then not in kb.conclusions:
        raise reader.error(f"'{then}' is not a conclusion or benefit", "then",
                           suggestion=nearest(then, kb.conclusions), rule_id=rid)
    when = _condition(kb, reader.data["when"], file, reader.data.line_of("when"), rid, in_any=False)
    conclusion = kb.conclusions[then]
    amount = None
    if conclusion.kind == "benefit":
        if "amount" not in reader.data:
            raise reader.error(f"'{then}' is a benefit: the rule needs an 'amount'", "then", rule_id=rid)
        amount = _amount(kb, reader.data["amount"], file, reader.data.line_of("amount"), rid)
    elif "amount" in reader.data:
        raise reader.error(f"'{then}' is a conclusion, not a benefit: it has no amount", "amount", rule_id=rid)
    if amount is not None:
        _check_amount_facts_tested(reader, amount, when, rid)
    defers = []
    for sid in reader.list("defers_to"):
        if sid not in kb.subpolicies:
            raise reader.error(f"'{sid}' is not a sub-policy", "defers_to",
                               suggestion=nearest(sid, kb.subpolicies), rule_id=rid)
        defers.append(sid)
    return Rule(rid, cites, also, quote, when, then, amount, defers, _explain(reader),
                reader.text("notes", "", required=False), reader.where(), document,
                reader.text("text_missing", "", required=False))


def _condition(kb, data, file, line, rid, in_any):
    reader = Reader(data, f"a condition of rule '{rid}'", file, line)
    where = dict(file=reader.file, line=reader.line)
    keys = set(reader.data)
    ground = reader.data.get("ground")
    if ground is not None and not in_any:
        raise reader.error("'ground' labels an alternative and belongs inside 'any'", "ground", rule_id=rid)
    if keys & {"all", "any"}:
        reader.keys((), ("all", "any"))
        if len(keys) != 1:
            raise reader.error("a condition has either 'all' or 'any', not both", rule_id=rid)
        key = next(iter(keys))
        items = reader.list(key)
        if not items:
            raise reader.error(f"'{key}' needs at least one condition", key, rule_id=rid)
        parts = tuple(_condition(kb, part, file, items.line_of(i) if isinstance(items, Sequence) else line,
                                 rid, in_any=(key == "any"))
                      for i, part in enumerate(items))
        return cond.All(parts, **where) if key == "all" else cond.Any_(parts, **where)
    if "conclusion" in keys:
        reader.keys(("conclusion",), ("ground", "presumed"))
        name = reader.text("conclusion")
        if name not in kb.conclusions:
            raise reader.error(f"'{name}' is not a conclusion", "conclusion",
                               suggestion=nearest(name, kb.conclusions), rule_id=rid)
        presumed = reader.data.get("presumed", False)
        if presumed not in (True, False):
            raise reader.error("'presumed' is true or false", "presumed", rule_id=rid)
        return cond.ConclusionRef(name, ground, presumed=presumed, **where)
    if "fact" in keys:
        ops = [k for k in keys if k not in ("fact", "ground")]
        if len(ops) != 1 or ops[0] not in cond.OPERATORS:
            bad = next((k for k in ops if k not in cond.OPERATORS), None)
            raise reader.error(
                "a fact test needs exactly one operator" + (f"; '{bad}' is not one" if bad else ""),
                bad, suggestion=nearest(bad, cond.OPERATORS) if bad else None,
                allowed=list(cond.OPERATORS), rule_id=rid)
        name = reader.text("fact")
        if name not in kb.facts:
            raise reader.error(f"'{name}' is not a fact", "fact",
                               suggestion=nearest(name, kb.facts), rule_id=rid)
        fact = kb.facts[name]
        op = ops[0]
        if fact.type not in cond.OPERATORS[op]:
            raise reader.error(f"'{op}' does not apply to {fact.type} fact '{name}'", op,
                               allowed=[o for o, types in cond.OPERATORS.items() if fact.type in types],
                               rule_id=rid)
        try:
            value = _test_value(fact, op, reader.data[op])
        except ValueProblem as exc:
            raise reader.error(f"fact '{name}': {exc}", op, rule_id=rid) from None
        except KnowledgeBaseError as exc:
            raise reader.error(exc.message, op, rule_id=rid, suggestion=exc.suggestion,
                               allowed=exc.allowed) from None
        return cond.FactTest(name, op, value, ground, **where)
    raise reader.error("a condition needs 'fact', 'conclusion', 'all' or 'any'", rule_id=rid,
                       suggestion=nearest(next(iter(keys), ""), ("fact", "conclusion", "all", "any")))


def _test_value(fact: Fact, op: str, raw):
    """The value a fact test compares with, in the fact's own type."""
    if op == "not_after_case_date":
        if raw is not True and raw is not False:
            raise ValueProblem(f"'not_after_case_date' takes true (the date has come by the case's date) or false "
                               f"(got {written(raw)})")
        return raw
    if op == "within_years":
        if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= 100:
            raise ValueProblem(f"'within_years' takes a whole number of years, e.g. 3 (got {written(raw)})")
        return raw
    if op == "between":
        if not isinstance(raw, list) or len(raw) != 2:
            raise ValueProblem("'between' takes [low, high]")
        low, high = (_scalar(fact, v) for v in raw)
        if low > high:
            raise ValueProblem(f"'between' goes from low to high, but {raw[0]} > {raw[1]}")
        return (low, high)
    if op in ("in", "not_in", "includes_any"):
        if not isinstance(raw, list) or not raw:
            raise ValueProblem(f"'{op}' takes a non-empty list of values")
        return tuple(_scalar(fact, v) for v in raw)
    return _scalar(fact, raw)


def _scalar(fact: Fact, raw):
    if fact.type in ("enum", "list"):
        if str(raw) not in fact.values:
            raise KnowledgeBaseError(f"'{raw}' is not a value of fact '{fact.id}'",
                                     suggestion=nearest(str(raw), fact.values), allowed=list(fact.values))
        return str(raw)
    if fact.type == "bool":
        if not isinstance(raw, bool):
            raise ValueProblem(f"'{raw}' is not true or false")
        return raw
    if fact.type == "money":
        if not isinstance(raw, str) or not raw.strip().endswith("元"):
            raise ValueProblem(f"'{raw}' has no unit: write money in the knowledge base as e.g. \"1亿元\"")
        return parse_money(raw)
    if fact.type == "number":
        if isinstance(raw, float):
            raise ValueProblem(f"'{raw}' is a float; write it as text, e.g. \"1000.5\"")
        return parse_number(raw)
    if fact.type == "date":
        return parse_date(raw)
    return str(raw)


def _kb_money(reader: Reader, key, rid, raw=None) -> int:
    raw = reader.data.get(key) if raw is None else raw
    if isinstance(raw, float):
        raise reader.error(f"'{key}' is a float ({written(raw)}): amounts are integer yuan with their unit, "
                           "e.g. \"500万元\"", key, rule_id=rid)
    if not isinstance(raw, str) or not raw.strip().endswith("元"):
        raise reader.error(f"'{key}' must be money with its unit, e.g. \"500万元\" (got {written(raw)})", key, rule_id=rid)
    try:
        return parse_money(raw)
    except ValueProblem as exc:
        raise reader.error(str(exc), key, rule_id=rid) from None


#: Terms any amount but services may carry beside its basis: a yearly amount, a cumulative cap.
_TERMS = ("per_year", "cumulative")


def _amount(kb, data, file, line, rid) -> Amount:
    reader = Reader(data, f"the amount of rule '{rid}'", file, line)
    amount = _basis(kb, reader, file, rid)
    if amount.basis == "services":
        return amount
    if "per_year" in reader.data:
        amount.per_year = _per_year(kb, reader, file, rid)
    if "cumulative" in reader.data:
        amount.cumulative = _cumulative(kb, reader, file, rid)
    return amount


def _per_year(kb, reader: Reader, file, rid) -> dict:
    """``per_year: {years: 3, from: FACT}`` — both optional; ``per_year: {}`` is 每年 alone."""
    sub = Reader(reader.data["per_year"] if reader.data["per_year"] is not None else {},
                 f"'per_year' of rule '{rid}'", file, reader.data.line_of("per_year"))
    sub.keys((), ("years", "from"))
    years = sub.data.get("years")
    if years is not None and (not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 100):
        raise sub.error(f"'years' is a whole number of years, e.g. 3 for 连续三年 (got {written(years)})", "years", rule_id=rid)
    start = sub.text("from", None, required=False)
    if start is not None and (start not in kb.facts or kb.facts[start].type != "date"):
        raise sub.error(f"'{start}' is not a date fact (the years of support count from a date)", "from",
                        suggestion=nearest(start, [f for f, v in kb.facts.items() if v.type == "date"]), rule_id=rid)
    if start is not None and years is None:
        raise sub.error("'from' counts the years of a limited period: give 'years' too", "from", rule_id=rid)
    return {"years": years, "from": start}


def _cumulative(kb, reader: Reader, file, rid) -> dict:
    """``cumulative: {max: 1000万元, received: FACT}``: the cap for one enterprise in all, and the
    money fact holding what it already received under this benefit."""
    sub = Reader(reader.data["cumulative"], f"'cumulative' of rule '{rid}'", file, reader.data.line_of("cumulative"))
    sub.keys(("max", "received"))
    received = sub.text("received")
    if received not in kb.facts or kb.facts[received].type != "money":
        raise sub.error(f"'{received}' is not a money fact (what the enterprise already received)", "received",
                        suggestion=nearest(received, [f for f, v in kb.facts.items() if v.type == "money"]),
                        rule_id=rid)
    return {"max": _kb_money(sub, "max", rid), "received": received}


def _check_amount_facts_tested(reader: Reader, amount: Amount, when, rid) -> None:
    """Every fact an amount is computed from is tested on every way the rule can fire, so that
    it is known whenever the benefit is granted; the years of a yearly amount counted from a
    date are tested with ``within_years`` on that date."""
    period = amount.per_year or {}
    for branch in cond.to_dnf(when):
        tests = [lit for lit in branch if isinstance(lit, cond.FactTest)]
        for name in amount.facts_needed():
            if name not in {lit.fact for lit in tests}:
                raise reader.error(f"the amount is computed from '{name}', but a way the rule can fire does "
                                   f"not test it: add a condition on {name} (e.g. more_than: 0) to every "
                                   "branch", "amount", rule_id=rid)
        if period.get("from") and not any(lit.fact == period["from"] and lit.op == "within_years"
                                           and lit.value == period["years"] for lit in tests):
            raise reader.error(f"the amount is granted for {period['years']} years from '{period['from']}', but a "
                               f"way the rule can fire does not test {{fact: {period['from']}, within_years: "
                               f"{period['years']}}}: add it to every branch", "amount", rule_id=rid)


def _basis(kb, reader: Reader, file, rid) -> Amount:
    keys = set(reader.data)
    if "range" in keys:
        reader.keys(("range",), _TERMS)
        rng = Reader(reader.data["range"], f"the range of rule '{rid}'", file, reader.data.line_of("range"))
        rng.keys(("min", "max"))
        low, high = _kb_money(rng, "min", rid), _kb_money(rng, "max", rid)
        if low > high:
            raise rng.error("the range's min is above its max", "min", rule_id=rid)
        return Amount("range", min=low, max=high)
    if "up_to" in keys:
        reader.keys(("up_to",), _TERMS)
        return Amount("up_to", max=_kb_money(reader, "up_to", rid))
    if "share" in keys:
        reader.keys(("share", "of", "share_is"), ("caps",) + _TERMS)
        try:
            share = parse_percent(reader.data["share"])
        except ValueProblem as exc:
            raise reader.error(str(exc), "share", rule_id=rid) from None
        base = reader.text("of")
        if base not in kb.facts or kb.facts[base].type != "money":
            raise reader.error(f"'{base}' is not a money fact", "of",
                               suggestion=nearest(base, [f for f, v in kb.facts.items() if v.type == "money"]),
                               rule_id=rid)
        share_is = reader.text("share_is")
        if share_is not in ("fixed", "up_to"):
            raise reader.error(f"'share_is' is 'fixed' (按照…的10%) or 'up_to' (不超过/最高), not '{share_is}'",
                               "share_is", rule_id=rid, suggestion=nearest(share_is, ("fixed", "up_to")))
        caps = []
        for item in reader.list("caps"):
            cap = Reader(item, f"a cap of rule '{rid}'", file, reader.data.line_of("caps"))
            if "max" in cap.data:
                cap.keys(("max",))
                caps.append({"max": _kb_money(cap, "max", rid)})
            else:
                cap.keys(("per_unit", "per"))
                per = cap.text("per")
                if per not in kb.facts or kb.facts[per].type != "number":
                    raise cap.error(f"'{per}' is not a number fact (a cap per unit needs the quantity)",
                                    "per", suggestion=nearest(per, kb.facts), rule_id=rid)
                caps.append({"per_unit": _kb_money(cap, "per_unit", rid), "per": per})
        return Amount("share", share=share, of=base, share_is=share_is, caps=caps)
    if "not_fixed" in keys:
        reader.keys(("not_fixed",), ("terms",) + _TERMS)
        if reader.data["not_fixed"] is not True:
            raise reader.error("'not_fixed' must be true", "not_fixed", rule_id=rid)
        terms = reader.data.get("terms")
        if terms is not None:
            sub = Reader(terms, f"the terms of rule '{rid}'", file)
            sub.keys(("zh", "en"))
            terms = {"zh": sub.text("zh"), "en": sub.text("en")}
        return Amount("not_fixed", terms=terms)
    if "services" in keys:
        reader.keys(("services",))
        services = []
        for item in reader.list("services"):
            sub = Reader(item, f"a service of rule '{rid}'", file)
            sub.keys(("zh", "en"))
            services.append({"zh": sub.text("zh"), "en": sub.text("en")})
        return Amount("services", services=services)
    raise reader.error("an amount is one of 'range', 'up_to', 'share', 'not_fixed' or 'services'", rule_id=rid,
                       suggestion=nearest(next(iter(keys), ""), ("range", "up_to", "share", "not_fixed", "services")))
