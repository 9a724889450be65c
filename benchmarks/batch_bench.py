"""Benchmark of `policykb batch`: profiles per second and peak memory, 1 and N workers.

Usage::

    python benchmarks/batch_bench.py [--rows 10000] [--large 100000] [--seed 2021]

Generates CSV files of seeded profiles (benchmarks/profiles.py), runs `policykb batch` on them in
a fresh process for 1 worker and for every core, and reports rows per second and the peak
resident memory of the largest process (the main one or a worker). Then a run of --large rows
checks that every row is accounted for and that peak memory stays within 10% of the --rows run
(streaming: memory must not grow with the input).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import engine  # noqa: E402
from profiles import generate  # noqa: E402


def write_csv(path: Path, rows: int, seed: int) -> None:
    kb = engine.load()
    names = list(kb.facts)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id"] + names)
        for index in range(rows):
            profile = generate(kb, index, seed)
            cells = [f"E{index}"]
            for name in names:
                value = profile.get(name)
                if value is None:
                    cells.append("")
                elif kb.facts[name].type == "records":
                    cells.append(json.dumps(value, ensure_ascii=False))
                elif isinstance(value, list):
                    cells.append(";".join(value))
                elif isinstance(value, bool):
                    cells.append("true" if value else "false")
                else:
                    cells.append(str(value))
            writer.writerow(cells)


def run_batch(source: Path, out: Path, workers: int) -> dict:
    """One `policykb batch` in a fresh process (through a small wrapper that reports its own
    and its workers' peak memory)."""
    code = ("import resource, sys, time; from engine.cli import main; t = time.perf_counter(); "
            "rc = main(sys.argv[1:]); s = time.perf_counter() - t; "
            "me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
            "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
            "print(f'{rc} {s} {me} {kids}', file=sys.stderr)")
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    done = subprocess.run([sys.executable, "-c", code, "batch", str(source), "--out", str(out), "--quiet",
                           "--workers", str(workers)], capture_output=True, text=True, env=env)
    rc, seconds, me, kids = done.stderr.strip().splitlines()[-1].split()
    if rc != "0":
        raise SystemExit(f"batch failed: {done.stderr}")
    rows = sum(1 for _ in out.open(encoding="utf-8")) - 1
    return {"seconds": float(seconds), "rows": rows, "peak_mb": max(int(me), int(kids)) / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        small, large = folder / "small.csv", folder / "large.csv"
        write_csv(small, args.rows, args.seed)
        write_csv(large, args.large, args.seed)
        print(f"{'rows':>9} {'workers':>8} {'seconds':>8} {'rows/s':>8} {'peak MB':>8}")
        results = {}
        for rows, source in ((args.rows, small), (args.large, large)):
            for workers in sorted({1, cores}):
                out = folder / f"out_{rows}_{workers}.csv"
                result = run_batch(source, out, workers)
                results[(rows, workers)] = (result, out)
                print(f"{rows:>9,} {workers:>8} {result['seconds']:>8.1f} {rows / result['seconds']:>8,.0f} "
                      f"{result['peak_mb']:>8.1f}")
                assert result["rows"] == rows, f"{result['rows']} rows written for {rows}"
        same = all(results[(rows, 1)][1].read_bytes() == results[(rows, cores)][1].read_bytes()
                   for rows in (args.rows, args.large))
        growth = results[(args.large, 1)][0]["peak_mb"] / results[(args.rows, 1)][0]["peak_mb"] - 1
        print(f"every row accounted for; output identical for 1 and {cores} workers: {same}")
        print(f"peak memory from {args.rows:,} to {args.large:,} rows (1 worker): {growth:+.1%} (limit +10%)")
        return 0 if same and growth <= 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
