"""How fast ``policykb serve`` answers, beside ``engine.evaluate`` on the same machine, in one run.

1. The baseline: ``engine.evaluate`` in one process per core, each evaluating the generated
   profiles in a loop for ``--seconds``; profiles per second, all cores together.
2. ``POST /api/evaluate`` against ``policykb serve --workers <cores>`` with ``--clients``
   concurrent keep-alive connections (a lean asyncio client, so that the client's own CPU on
   the same machine stays small) for ``--seconds``: requests per second, p50 / p99 latency,
   errors (anything but a 200 with the right enterprise).
3. The Evaluate page: ``POST /ui/result`` (what the form sends on each change), one after
   another: p50 / p99; and, with Chromium installed, the time in a real browser from changing a
   select to the new result on screen.

    python benchmarks/serve_bench.py [--seconds 10] [--clients 50] [--workers N]

It prints the figures; it asserts nothing (speed is not a test).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _profiles(count: int = 500) -> list[dict]:
    """The batch benchmark's generated profiles (benchmarks/profiles.py, seed 2021), as JSON data."""
    import engine
    from profiles import generate
    kb = engine.load()
    out = []
    for index in range(count):
        profile = generate(kb, index)
        out.append({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in profile.items()})
    return out


# --------------------------------------------------------------------------- baseline

def _evaluate_loop(args) -> int:
    seconds, profiles = args
    import engine
    kb = engine.load()
    engine.evaluate(profiles[0], kb=kb)
    done, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        engine.evaluate(profiles[done % len(profiles)], kb=kb)
        done += 1
    return done


def baseline(processes: int, seconds: float, profiles: list[dict]) -> float:
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        counts = pool.map(_evaluate_loop, [(seconds, profiles)] * processes)
    return sum(counts) / seconds


# --------------------------------------------------------------------------- HTTP load

async def _client(host: str, port: int, bodies: list[bytes], names: list, end: float, latencies: list, errors: list):
    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while time.monotonic() < end:
            body = bodies[i % len(bodies)]
            request = (f"POST /api/evaluate HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            payload = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200") or json.loads(payload)["enterprise"] != names[i % len(names)]:
                errors.append(head.split(b"\r\n")[0].decode())
            i += 1
    except (OSError, asyncio.IncompleteReadError) as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        writer.close()


async def load(base: str, clients: int, seconds: float, profiles: list[dict]) -> tuple[float, list, list]:
    url = urlparse(base)
    bodies = [json.dumps({"profile": p}, ensure_ascii=False).encode() for p in profiles]
    names = [p.get("name") for p in profiles]
    latencies: list[float] = []
    errors: list[str] = []
    warm_end = time.monotonic() + 1.0
    await asyncio.gather(*(_client(url.hostname, url.port, bodies, names, warm_end, [], []) for _ in range(clients)))
    started = time.monotonic()
    end = started + seconds
    await asyncio.gather(*(_client(url.hostname, url.port, bodies, names, end, latencies, errors)
                           for _ in range(clients)))
    elapsed = time.monotonic() - started
    return len(latencies) / elapsed, latencies, errors


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


# --------------------------------------------------------------------------- the page

def page_round_trips(base: str, count: int = 200) -> list[float]:
    import urllib.parse
    import urllib.request
    form = {"f.name": "页面测试", "f.industry": "ict", "f.application_date": "2021-09-15",
            "f.registered_in_xicheng": "true", "f.establishment": "new", "f.key_enterprise_recognized": "true"}
    times = []
    for i in range(count):
        form["f.paid_in_capital"] = f"{9000 + i * 10}万元"
        data = urllib.parse.urlencode(form).encode()
        started = time.perf_counter()
        with urllib.request.urlopen(urllib.request.Request(base + "/ui/result?lang=zh", data=data)) as answer:
            answer.read()
        times.append(time.perf_counter() - started)
    return times


def browser_change_to_result(base: str, count: int = 20) -> list[float] | None:
    """Milliseconds from a select's change to the new result swapped in, in Chromium."""
    chromium = "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(chromium).exists():
        return None
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(base + "/evaluate?lang=zh")
        page.wait_for_selector("#case")
        for i in range(count):
            value = ["new", "relocated", "existing"][i % 3]
            page.evaluate("""() => { window.__took = null; const t0 = performance.now();
                document.addEventListener('htmx:afterSettle', () => { window.__took = performance.now() - t0; },
                                          {once: true}); }""")
            page.select_option("select[name='f.establishment']", value)
            took = None
            while took is None:
                page.wait_for_timeout(20)
                took = page.evaluate("window.__took")
            times.append(took)
            page.wait_for_timeout(300)   # let a queued request (input and change both fire) settle
        browser.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    from engine.web.testing import running_server
    profiles = _profiles()
    cores = args.workers
    print(f"{os.cpu_count()} cores; Python {sys.version.split()[0]}; {len(profiles)} profiles; "
          f"{args.seconds:g} s per measurement")
    base_rate = baseline(cores, args.seconds, profiles)
    print(f"engine.evaluate, {cores} process{'es' if cores > 1 else ''}:   {base_rate:8,.0f} profiles/s")
    with running_server(workers=cores) as (base, _):
        rate, latencies, errors = asyncio.run(load(base, args.clients, args.seconds, profiles))
        print(f"POST /api/evaluate, {args.clients} clients, {cores} workers: {rate:8,.0f} requests/s "
              f"({rate / base_rate:.0%} of engine.evaluate)")
        print(f"  latency p50 {percentile(latencies, .5) * 1000:.1f} ms, p99 {percentile(latencies, .99) * 1000:.1f} ms; "
              f"{len(latencies):,} requests, {len(errors)} errors")
        for error in errors[:5]:
            print(f"  error: {error}")
        page = page_round_trips(base)
        print(f"Evaluate page, POST /ui/result one at a time: p50 {percentile(page, .5) * 1000:.1f} ms, "
              f"p99 {percentile(page, .99) * 1000:.1f} ms")
        browser = browser_change_to_result(base)
        if browser:
            print(f"  in Chromium, a select changed → new result on screen: p50 {percentile(browser, .5):.0f} ms, "
                  f"max {max(browser):.0f} ms")
        else:
            print("  (Chromium or playwright not found: the in-browser figure is skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
