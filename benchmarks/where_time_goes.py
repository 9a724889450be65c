"""Where an evaluation's time goes, stage by stage, on generated profiles (one core); then
where a screened batch row's goes.

Usage: python benchmarks/where_time_goes.py [--count 5000]

Each stage of :func:`engine.evaluate` is timed on its own over the same profiles: reading the
profile, converting facts for the engine, the durable_rules call (assert and actions), the
derivation record, the three-valued check, missing facts, and amounts with Article 14 and the
result. The three-valued check is itself a plain-Python evaluator of the same rules, so its
rate is the "hand-written Python" anchor.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import engine  # noqa: E402
from engine.inferring.evaluation import _result, reasoner  # noqa: E402
from engine.loading.profile import parse_profile  # noqa: E402
from profiles import generate  # noqa: E402


def timer(stages: dict[str, float]):
    """``timed(name, func, items)``: ``func`` applied to each item, its seconds kept in ``stages``."""
    def timed(name, func, items):
        start = time.perf_counter()
        out = [func(item) for item in items]
        stages[name] = time.perf_counter() - start
        return out
    return timed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()
    kb = engine.load()
    r = reasoner(kb)
    profiles = [generate(kb, i) for i in range(args.count)]
    engine.evaluate(profiles[0], kb=kb)
    stages: dict[str, float] = {}
    timed = timer(stages)

    facts = timed("read and check the profile", lambda p: parse_profile(p, kb), profiles)
    engine_facts = timed("convert facts for the engine", lambda f: {n: c(f[n]) if c else f[n]
                                                                       for n, c in r._converters if n in f}, facts)
    timed("durable_rules: assert, match, run actions", r.engine.run, engine_facts)
    statuses = timed("three-valued check (plain Python)", r._three_valued, facts)
    timed("missing facts", lambda pair: r._missing(*pair), list(zip(facts, statuses)))
    inferences = [r.derive(f) for f in facts]
    from engine.inferring import amounts

    def finish(pair):
        f, inference = pair
        granted = {b: amounts.compute(kb.rules[inference.derivations[b][0].rule_id], f)
                   for b in kb.benefits if inference.holds(b)}
        return _result(kb, f, inference, granted)
    timed("amounts, Article 14, next facts, result", finish, list(zip(facts, inferences)))
    start = time.perf_counter()
    for p in profiles:
        engine.evaluate(p, kb=kb)
    whole = time.perf_counter() - start
    print(f"{args.count:,} profiles; engine.evaluate: {args.count / whole:,.0f}/s ({whole / args.count * 1e6:,.0f} µs each)")
    stages["the rest: derivation record, cross-check, glue"] = max(whole - sum(stages.values()), 0.0)
    for name, seconds in stages.items():
        print(f"  {name:<48} {seconds / args.count * 1e6:>7,.0f} µs  {seconds / whole:>5.0%}")
    print(f"  plain-Python evaluation of the same rules alone: {args.count / stages['three-valued check (plain Python)']:,.0f}/s")
    screening(kb, profiles)
    return 0


def screening(kb, profiles) -> None:
    """A row of `policykb batch` CSV output, stage by stage, in one process: the cells read
    (each column's text remembered once read), the rules as one generated function, the
    screened result (amounts and Article 14) and the output line."""
    import csv
    import io
    from engine.screening import chunks, parsing, rows as batch_rows
    from engine.inferring.evaluation import screen
    from batch_bench import write_csv
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.csv"
        write_csv(source, len(profiles), 2021)
        rows = list(batch_rows.read_rows(source, kb))
    cells = [next(csv.reader(io.StringIO(r.raw.decode("utf-8")))) for r in rows]
    chunks.evaluate_rows(kb, rows, None, "csv")   # warm: the cells of each column remembered
    stages: dict[str, float] = {}
    timed = timer(stages)

    facts = [row.data for row in timed("read the cells", lambda c: parsing._checked_profile(kb, 0, rows[0].layout.header, c), cells)]
    timed("the rules as one function", reasoner(kb).statuses, facts)
    timed("screen: statuses, amounts, Article 14", lambda f: screen(f, kb), facts)
    start = time.perf_counter()
    chunks.evaluate_rows(kb, rows, None, "csv")
    whole = time.perf_counter() - start
    print(f"batch CSV rows in one process: {len(rows) / whole:,.0f}/s ({whole / len(rows) * 1e6:,.0f} µs each)")
    for name, seconds in stages.items():
        print(f"  {name:<48} {seconds / len(rows) * 1e6:>7,.0f} µs")


if __name__ == "__main__":
    sys.exit(main())
