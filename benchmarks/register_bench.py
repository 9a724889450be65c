"""Benchmark of the case register (issue 22, item 7): what recording a decision adds to an
evaluation, and replay's rows per second against `policykb batch`'s.

Usage::

    python benchmarks/register_bench.py [--profiles 2000] [--cases 100000] [--workers 2]
                                        [--seed 2021] [--repeat 1] [--durable-setup] [--json]

Both parts run on fresh SQLite registers in a temporary folder (on the disk, not in memory), with
seeded profiles (benchmarks/profiles.py, as benchmarks/batch_bench.py makes them).

1. **Recording.** ``--profiles`` profiles are saved as cases (setup, not timed). Then, for each
   profile: ``engine.evaluate(profile)`` alone; ``engine.evaluate(profile)`` then
   ``Register.record(...)`` of its result; and ``Register.record_evaluation(case)``. The added
   time is ``record()``'s own duration, and ``record_evaluation()`` less the evaluation alone of
   the same profile. Goal: p95 of each added time at most 5 ms.
2. **Replay.** ``--cases`` profiles are saved as cases and each recorded once. This setup goes
   through the public API (the profiles evaluated in ``--workers`` processes, saved with
   ``add_cases``, each result recorded with ``record``), and its time is reported; unless
   ``--durable-setup``, SQLite's ``synchronous`` is OFF on the setup's connections (no fsync per
   commit: the same rows, written faster). The register is then closed and opened again with its
   own settings, and ``replay(register, kb, workers=W)`` (the bundled knowledge base: the one the
   cases were recorded under) is timed, against ``policykb batch --workers W`` on a CSV of the same
   profiles, in a fresh process (timed inside it, as batch_bench.py does: loading the knowledge
   base, reading, evaluating, writing). Goal: replay's rows per second at least half batch's.

Prints a table (or ``--json``) and exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import sqlalchemy as sa  # noqa: E402

import engine  # noqa: E402
from batch_bench import run_batch, write_csv  # noqa: E402
from engine.register import open_register  # noqa: E402
from engine.register.replay import replay  # noqa: E402
from profiles import generate  # noqa: E402

RECORD_GOAL_MS = 5.0
REPLAY_GOAL_RATIO = 0.5


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def _stats(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "mean_ms": statistics.fmean(ms), "p50_ms": _percentile(ms, 50),
            "p95_ms": _percentile(ms, 95), "p99_ms": _percentile(ms, 99), "max_ms": max(ms)}


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- 1. recording

def bench_record(kb, folder: Path, count: int, seed: int) -> dict:
    profiles = [generate(kb, index, seed) for index in range(count)]
    documents = ", ".join(kb.documents)
    for profile in profiles[:20]:                       # the engines compiled, caches warm
        engine.evaluate(profile, kb=kb)
    with open_register(folder / "record.sqlite3") as register:
        started = time.perf_counter()
        ids = [register.add_case(f"E{index}", profile).id for index, profile in enumerate(profiles)]
        setup = time.perf_counter() - started
        for case_id, profile in zip(ids[:5], profiles[:5]):  # the register's first calls, not counted
            register.record(case_id, engine.evaluate(profile, kb=kb), kb_hash=kb.version, kb_version=documents,
                            profile=profile, by="bench")
        alone, with_record, record_only, with_record_evaluation = [], [], [], []
        for case_id, profile in zip(ids, profiles):
            t0 = time.perf_counter()
            engine.evaluate(profile, kb=kb)
            t1 = time.perf_counter()
            result = engine.evaluate(profile, kb=kb)
            t2 = time.perf_counter()
            register.record(case_id, result, kb_hash=kb.version, kb_version=documents,
                            as_of=result.get("as_of"), profile=profile, by="bench", note="benchmark")
            t3 = time.perf_counter()
            register.record_evaluation(case_id, kb, by="bench", note="benchmark")
            t4 = time.perf_counter()
            alone.append(t1 - t0)
            with_record.append(t3 - t1)
            record_only.append(t3 - t2)
            with_record_evaluation.append(t4 - t3)
        verified = register.verify()
    added_record_evaluation = [b - a for a, b in zip(alone, with_record_evaluation)]
    out = {
        "profiles": count, "setup_seconds": setup,
        "evaluate": _stats(alone),
        "evaluate_and_record": _stats(with_record),
        "record_evaluation": _stats(with_record_evaluation),
        "added_by_record": _stats(record_only),
        "added_by_record_evaluation": _stats(added_record_evaluation),
        "chain_verifies": verified.ok, "records": verified.checked,
    }
    out["goal_ms"] = RECORD_GOAL_MS
    out["met"] = (out["added_by_record"]["p95_ms"] <= RECORD_GOAL_MS
                  and out["added_by_record_evaluation"]["p95_ms"] <= RECORD_GOAL_MS and verified.ok)
    return out


# --------------------------------------------------------------------------- 2. replay

def _no_fsync(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous = OFF")


_KB: list = []


def _evaluated(args: tuple) -> tuple[dict, dict]:
    index, seed = args
    if not _KB:
        _KB.append(engine.load())
    kb = _KB[0]
    profile = generate(kb, index, seed)
    return profile, engine.evaluate(profile, kb=kb, engine="compiled")


def build_register(kb, path: Path, count: int, seed: int, durable: bool, workers: int) -> dict:
    """``count`` cases, each recorded once, through the register's public API: the profiles
    evaluated in ``workers`` processes, saved with ``add_cases`` (5,000 a transaction) and each
    result recorded with ``record``."""
    documents = ", ".join(kb.documents)
    if not durable:
        sa.event.listen(sa.pool.Pool, "connect", _no_fsync)
    started = time.perf_counter()
    step = 5_000
    try:
        with open_register(path) as register, multiprocessing.get_context("fork").Pool(workers) as pool:
            for first in range(0, count, step):
                done = pool.map(_evaluated, [(i, seed) for i in range(first, min(first + step, count))], 250)
                ids = register.add_cases([(f"E{first + k}", profile) for k, (profile, _) in enumerate(done)],
                                         by="bench")
                for case_id, (profile, result) in zip(ids, done):
                    register.record(case_id, result, kb_hash=kb.version, kb_version=documents,
                                    as_of=result.get("as_of"), profile=profile, by="bench", note="setup")
                if (first + step) % 20_000 == 0:
                    _say(f"  setup: {first + step:,} cases saved and recorded, {time.perf_counter() - started:.0f} s")
    finally:
        if not durable:
            sa.event.remove(sa.pool.Pool, "connect", _no_fsync)
    return {"cases": count, "seconds": time.perf_counter() - started, "workers": workers,
            "fsync": durable, "file_mb": path.stat().st_size / 2**20}


def bench_replay(kb, folder: Path, count: int, seed: int, workers: int, repeat: int, durable: bool) -> dict:
    path = folder / "replay.sqlite3"
    _say(f"setup: saving and recording {count:,} cases …")
    setup = build_register(kb, path, count, seed, durable, workers)
    _say(f"setup: {setup['seconds']:.0f} s; writing the CSV for batch …")
    source = folder / "profiles.csv"
    started = time.perf_counter()
    write_csv(source, count, seed)
    csv_seconds = time.perf_counter() - started
    started = time.perf_counter()
    engine.load()
    load_seconds = time.perf_counter() - started

    batch_runs, replay_runs, read_runs = [], [], []
    report = None
    with open_register(path) as register:
        for attempt in range(repeat):
            _say(f"run {attempt + 1}/{repeat}: policykb batch --workers {workers} …")
            batch = run_batch(source, folder / "out.csv", workers)
            if batch["rows"] != count:
                raise SystemExit(f"batch wrote {batch['rows']} rows for {count}")
            batch_runs.append(batch["seconds"])
            _say(f"  {batch['seconds']:.1f} s; replay(workers={workers}) …")
            started = time.perf_counter()
            report = replay(register, kb, workers=workers)
            replay_runs.append(time.perf_counter() - started)
            started = time.perf_counter()
            register.case_states()          # what the main process reads: the case numbers
            read_runs.append(time.perf_counter() - started)
    batch_s, replay_s, read_s = min(batch_runs), min(replay_runs), min(read_runs)
    out = {
        "cases": count, "workers": workers, "repeat": repeat, "setup": setup, "csv_seconds": csv_seconds,
        "kb_load_seconds": load_seconds,
        "batch": {"seconds": batch_s, "rows_per_second": count / batch_s, "runs": batch_runs},
        "replay": {"seconds": replay_s, "rows_per_second": report.replayed / replay_s, "runs": replay_runs,
                   "replayed": report.replayed, "changed": len(report.cases), "skipped": len(report.skipped)},
        "read_register_seconds": read_s,
        "ratio": (report.replayed / replay_s) / (count / batch_s),
        "goal_ratio": REPLAY_GOAL_RATIO,
    }
    out["met"] = out["ratio"] >= REPLAY_GOAL_RATIO and report.replayed == count
    return out


# --------------------------------------------------------------------------- report

def table(results: dict) -> str:
    lines = []
    rec = results.get("record")
    if rec:
        lines.append(f"1. Recording a decision on SQLite ({rec['profiles']:,} profiles; "
                     f"setup {rec['setup_seconds']:.1f} s; chain verifies: {rec['chain_verifies']})")
        lines.append(f"   {'':36} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
        for key, label in (("evaluate", "engine.evaluate alone"),
                           ("evaluate_and_record", "evaluate + Register.record"),
                           ("record_evaluation", "Register.record_evaluation"),
                           ("added_by_record", "added: record()"),
                           ("added_by_record_evaluation", "added: record_evaluation − evaluate")):
            s = rec[key]
            lines.append(f"   {label:36} {s['p50_ms']:>8.2f} {s['p95_ms']:>8.2f} {s['p99_ms']:>8.2f} "
                         f"{s['mean_ms']:>8.2f}")
        lines.append(f"   goal: added p95 <= {rec['goal_ms']:.0f} ms — {'met' if rec['met'] else 'MISSED'}")
    rep = results.get("replay")
    if rep:
        setup = rep["setup"]
        lines.append("")
        lines.append(f"2. Replay of {rep['cases']:,} saved cases, {rep['workers']} workers "
                     f"(best of {rep['repeat']})")
        lines.append(f"   setup through the public API: {setup['seconds']:.0f} s "
                     f"({setup['seconds'] / setup['cases'] * 1000:.2f} ms a case, evaluated in "
                     f"{setup['workers']} processes; fsync "
                     f"{'on' if setup['fsync'] else 'off'}; file {setup['file_mb']:.0f} MB)")
        lines.append(f"   {'':36} {'seconds':>8} {'rows/s':>8}")
        lines.append(f"   {'policykb batch --workers ' + str(rep['workers']):36} {rep['batch']['seconds']:>8.1f} "
                     f"{rep['batch']['rows_per_second']:>8,.0f}")
        lines.append(f"   {'replay(workers=' + str(rep['workers']) + ')':36} {rep['replay']['seconds']:>8.1f} "
                     f"{rep['replay']['rows_per_second']:>8,.0f}")
        lines.append(f"   {'  of which listing the cases':36} {rep['read_register_seconds']:>8.1f}")
        lines.append(f"   replayed {rep['replay']['replayed']:,}, changed {rep['replay']['changed']:,}, "
                     f"skipped {rep['replay']['skipped']:,}")
        lines.append(f"   replay / batch = {rep['ratio']:.2f} (goal >= {rep['goal_ratio']}) — "
                     f"{'met' if rep['met'] else 'MISSED'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=2_000, help="profiles for the recording part (2000)")
    parser.add_argument("--cases", type=int, default=100_000, help="saved cases for the replay part (100000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--repeat", type=int, default=1, help="batch and replay runs; the best is kept")
    parser.add_argument("--durable-setup", action="store_true",
                        help="keep SQLite's fsync on every commit while the replay register is built")
    parser.add_argument("--only", choices=("record", "replay"), help="run one part")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args(argv)
    kb = engine.load()
    results: dict = {"python": sys.version.split()[0], "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="register_bench_") as folder:
        folder = Path(folder)
        if args.only in (None, "record"):
            _say(f"recording: {args.profiles:,} profiles …")
            results["record"] = bench_record(kb, folder, args.profiles, args.seed)
        if args.only in (None, "replay"):
            results["replay"] = bench_replay(kb, folder, args.cases, args.seed, args.workers, args.repeat,
                                             args.durable_setup)
    results["met"] = all(results[part]["met"] for part in ("record", "replay") if part in results)
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0 if results["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
