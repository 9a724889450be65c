"""`policykb batch --workers 2` side by side with the CLIPS peer, on the same profiles.

Usage::

    pip install 'policykb[bench]'        # clipspy
    python benchmarks/vs_clips.py [--rows 20000] [--rounds 5] [--seed 2021]

In one run: generates ``--rows`` profiles (benchmarks/profiles.py) and the same profiles as a
CSV file; then, for each round, times

- the CLIPS peer (benchmarks/clips_peer.py) screening the profiles in memory, on one core, and
  again split over two processes (one per core; the slower half's screening time, not counting
  the start of the processes or the generation of the profiles);
- ``policykb batch FILE.csv --out OUT.csv --workers 2`` in a fresh process, from CSV to CSV
  (reading, checking, evaluating, writing; the time includes loading the knowledge base and
  starting the workers).

It prints each round's rates and the ratio batch / CLIPS as a range over the rounds, and checks
that the CLIPS peer and policykb grant the same benefits with the same ceilings to every
profile (the comparison is only honest if they do); it exits non-zero when any disagree.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import engine  # noqa: E402
from batch_bench import run_batch, write_csv  # noqa: E402
from profiles import generate  # noqa: E402


def _clips_part(args) -> float:
    """Seconds for one process to screen its share of the profiles (generated there, before
    the clock starts: only indices cross processes)."""
    import clips_peer
    start, stop, seed = args
    kb = engine.load()
    return clips_peer.run([generate(kb, i, seed) for i in range(start, stop)])[0]


def clips_two_processes(rows: int, seed: int) -> float:
    """Seconds for two CLIPS processes, one per core, to screen the profiles between them:
    the slower half's screening time (starting the processes is not counted)."""
    half = rows // 2
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        return max(pool.map(_clips_part, [(0, half, seed), (half, rows, seed)]))


def agreement(results: list, out: Path) -> tuple[int, list[int]]:
    """How many rows of the batch output grant exactly the benefits (and ceilings) of the
    encoded document that the CLIPS peer grants; and the row numbers that differ."""
    from clips_peer import BENEFIT_IDS
    differ = []
    with out.open(encoding="utf-8", newline="") as handle:
        for row, (_, clips_granted) in zip(csv.DictReader(handle), results):
            ours = {b: int(row[f"{b}_max"]) if row[f"{b}_max"] else None
                    for b in BENEFIT_IDS if row[b] == "granted"}
            if ours != clips_granted:
                differ.append(int(row["row"]))
    return len(results) - len(differ), differ


def main() -> int:
    import clips_peer
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    kb = engine.load()
    profiles = [generate(kb, i, args.seed) for i in range(args.rows)]
    ratios, ratios_two = [], []
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / "profiles.csv", Path(folder) / "out.csv"
        write_csv(source, args.rows, args.seed)
        print(f"{args.rows:,} profiles; policykb batch --workers {args.workers} (CSV to CSV, fresh process) "
              "against the CLIPS peer (in memory)")
        print(f"{'round':>5} {'CLIPS 1 core/s':>15} {'CLIPS 2 proc/s':>15} {'batch rows/s':>13} "
              f"{'÷ 1 core':>9} {'÷ 2 proc':>9}")
        for number in range(1, args.rounds + 1):
            seconds, results = clips_peer.run(profiles)
            clips_rate = args.rows / seconds
            two_rate = args.rows / clips_two_processes(args.rows, args.seed)
            batch = run_batch(source, out, args.workers)
            batch_rate = args.rows / batch["seconds"]
            ratios.append(batch_rate / clips_rate)
            ratios_two.append(batch_rate / two_rate)
            print(f"{number:>5} {clips_rate:>15,.0f} {two_rate:>15,.0f} {batch_rate:>13,.0f} "
                  f"{ratios[-1]:>8.2f}× {ratios_two[-1]:>8.2f}×")
        agree, differ = agreement(results, out)
    print(f"batch ÷ CLIPS on one core: {min(ratios):.2f}–{max(ratios):.2f}×; "
          f"÷ CLIPS on two processes: {min(ratios_two):.2f}–{max(ratios_two):.2f}× (over {args.rounds} rounds)")
    print(f"granted benefits and ceilings agree on {agree:,} of {args.rows:,} profiles"
          + (f"; differ on rows {differ[:20]}" if differ else ""))
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
