"""Soak benchmark of the runtime: many evaluations in one process, memory and agreement.

Usage::

    python benchmarks/soak.py                 # the whole benchmark (10,000 and 100,000 runs)
    python benchmarks/soak.py --count 100000  # one in-process run, printing JSON

The whole benchmark runs, each in a fresh process: 10,000 evaluations and 100,000 evaluations
of generated profiles (:mod:`profiles`), one in ten spoilt so that it must be refused with a
message, each run reporting evaluations per second and peak resident memory; then a sample of the 100,000 profiles, each evaluated alone in its own
process, whose results must equal those of the long run. It prints a table and exits non-zero
when a run crashed, a sample disagreed, or peak memory at 100,000 exceeds that at 10,000 by
more than 10%.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import engine  # noqa: E402
from profiles import generate  # noqa: E402

SEED = 2021
SAMPLE = 25
#: Every INVALID_EVERY-th profile is spoilt in one of these ways (issue: valid and invalid mixed).
INVALID_EVERY = 10
SPOILERS = [("industry", "fintech"), ("paid_in_capital", "五百万"), ("application_date", "2021-02-30"),
            ("paid_in_captial", 1), ("tech_domains", "ai"), ("paid_in_capital", -1)]


def profile(kb, index: int) -> dict:
    """Generated profile ``index``; every tenth is spoilt so that it must be refused."""
    data = generate(kb, index, SEED)
    if index % INVALID_EVERY == INVALID_EVERY - 1:
        name, value = SPOILERS[(index // INVALID_EVERY) % len(SPOILERS)]
        data[name] = value
    return data


def _digest(result: dict) -> str:
    return hashlib.sha256(json.dumps(result, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def run_in_process(count: int, sample: list[int]) -> dict:
    kb = engine.load()
    engine.evaluate(profile(kb, 0), kb=kb)  # warm up: load the engine before timing
    wanted = set(sample)
    digests, granted, errors = {}, 0, 0
    started = time.perf_counter()
    for index in range(count):
        try:
            result = engine.evaluate(profile(kb, index), kb=kb)
        except engine.ProfileError as exc:
            errors += 1
            if index in wanted:
                digests[index] = _digest({"error": str(exc)})
            continue
        granted += len(result["benefits"])
        if index in wanted:
            digests[index] = _digest(result)
    seconds = time.perf_counter() - started
    return {"count": count, "seconds": round(seconds, 2), "per_second": round(count / seconds),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "benefits_granted": granted, "profile_errors": errors, "digests": digests}


def run_one(index: int) -> str:
    kb = engine.load()
    try:
        return _digest(engine.evaluate(profile(kb, index), kb=kb))
    except engine.ProfileError as exc:
        return _digest({"error": str(exc)})


def _child(*args) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"child {' '.join(args)} failed with status {done.returncode}:\n{done.stderr}")
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, help="one in-process run of COUNT evaluations")
    parser.add_argument("--sample", default="", help="comma-separated indices whose digests to print")
    parser.add_argument("--one", type=int, help="evaluate profile INDEX alone and print its digest")
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps({"digest": run_one(args.one)}))
        return 0
    if args.count:
        sample = [int(i) for i in args.sample.split(",") if i]
        print(json.dumps(run_in_process(args.count, sample)))
        return 0
    sample = sorted(random.Random(SEED).sample(range(args.large), SAMPLE))
    small = _child("--count", str(args.small))
    large = _child("--count", str(args.large), "--sample", ",".join(map(str, sample)))
    disagreements = [i for i in sample if _child("--one", str(i))["digest"] != large["digests"][str(i)]]
    growth = large["peak_rss_mb"] / small["peak_rss_mb"] - 1
    print(f"{'evaluations':>12} {'seconds':>9} {'per second':>11} {'peak RSS MB':>12} {'benefits':>9} {'refused':>8}")
    for run in (small, large):
        print(f"{run['count']:>12,} {run['seconds']:>9} {run['per_second']:>11,} {run['peak_rss_mb']:>12} "
              f"{run['benefits_granted']:>9,} {run['profile_errors']:>8,}")
    accounted = all(run["profile_errors"] == run["count"] // INVALID_EVERY for run in (small, large))
    print(f"every input accounted for (evaluated or refused with a message): {accounted}")
    print(f"peak memory growth from {args.small:,} to {args.large:,}: {growth:+.1%} (limit +10%)")
    print(f"sample of {len(sample)} profiles evaluated one per process: {len(sample) - len(disagreements)} agree, "
          f"{len(disagreements)} disagree {disagreements if disagreements else ''}")
    return 0 if not disagreements and growth <= 0.10 and accounted else 1


if __name__ == "__main__":
    sys.exit(main())
