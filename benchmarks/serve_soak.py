"""A soak of ``policykb serve`` under load with a hostile request every second (issue 21).

    python benchmarks/serve_soak.py [--clients 50] [--seconds 60] [--workers 2] [--json]

1. Starts ``policykb serve --workers N`` on a free loopback port
   (:func:`engine.web.testing.running_server`) and samples, every half second, the RSS of its
   whole process tree — the master, its uvicorn workers, their engine processes and any batch
   job processes (summed RSS, so shared pages count once per process): start, peak, end.
2. Works out the expected answers first: ``--profiles`` generated profiles
   (``benchmarks/profiles.py``, seed 2021) evaluated in this process with ``engine.evaluate``;
   the JSON of ``POST /api/evaluate`` is ``policykb eval --format json``, so each answer must
   be those bytes (or, parsed, that object).
3. ``--clients`` keep-alive clients (raw HTTP/1.1 over asyncio streams, in a process of their
   own) ``POST /api/evaluate`` for ``--seconds``; each answer must be a 200 with the expected
   JSON. A request that gets anything else — another status, a wrong answer, no answer within
   ``--request-timeout``, a closed connection — is counted, and the client reconnects.
4. A probe thread GETs ``/healthz`` every 100 ms, each on a fresh connection (a kept-alive
   one would stay with one uvicorn worker and miss the other being stuck; ``--probe
   keepalive`` keeps one), 2 s timeout: p50, p99 (a timeout counts as 2 s), max, timeouts.
5. Once a second, one hostile request, in turn: an .xlsx bomb (one row of 10 million ``<c/>``
   cells, no ``<dimension>``) to ``/ui/import`` and to ``/ui/batch``; a body over the 5 MiB
   limit (413); a 4.9 MB profile name just under it (200 or 400); a lone surrogate as a value
   and in a fact key (400); a 120 KB header (431 or 400, connection closed); a slow-loris
   head that never ends (the server should close it — after how long is recorded, up to
   ``--loris-limit``); a cross-origin POST (403); a text/plain POST (415). None of them is a
   planted fault: none may restart an engine process.
6. Engine restarts, two ways: lines of the server's stderr matching ``restart``, and the
   engine processes' pids (the spawned children of each uvicorn worker that hold the
   socket to it) — a new pid after the start is a restart.
7. Prints a table (``--json``: a JSON summary) and exits 1 when a goal is missed: /healthz p99
   under 100 ms; every load request answered 200 with the right answer; no engine restart;
   peak and end memory within 2× the start; no hostile request answered 500 (``--strict``:
   and every hostile request answered as expected).

A guard kills the largest process of the tree if it passes ``--rss-cap`` (default 8 GiB), so a
bomb cannot take the shared machine down; that is reported as a failure of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing
import os
import re
import signal
import socket
import sys
import threading
import time
import zipfile
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

try:
    from engine.web.settings import BODY_LIMIT
except ImportError:  # pragma: no cover
    BODY_LIMIT = 5 * 1024 * 1024

HEALTHZ_P99_MS = 100.0
MEMORY_FACTOR = 2.0


def percentile(values, share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


# =========================================================================== expected answers

def expected_answers(count: int) -> tuple[list[bytes], list[bytes]]:
    """Request bodies and, for each, the exact JSON ``engine.evaluate`` gives (as the server sends it)."""
    import engine
    from serve_bench import _profiles
    kb = engine.load()
    profiles = _profiles(count)
    bodies, answers = [], []
    for profile in profiles:
        bodies.append(json.dumps({"profile": profile}, ensure_ascii=False).encode())
        answers.append(json.dumps(engine.evaluate(profile, kb=kb), ensure_ascii=False).encode())
    return bodies, answers


# =========================================================================== the load (own process)

async def _read_response(reader, limit_body: bool = False):
    """(status, headers dict, body) of one HTTP/1.1 response with a Content-Length (or up to EOF)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if b":" in line:
            name, value = line.split(b":", 1)
            headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = await reader.read()
    return status, headers, body


async def _load_client(host, port, bodies, answers, offset, start_at, end_at, timeout, stats, timeline):
    n = len(bodies)
    i = offset
    latencies = stats["latencies"]
    writer = None
    while time.monotonic() < end_at:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
                if time.monotonic() < start_at:
                    await asyncio.sleep(start_at - time.monotonic())
            body = bodies[i % n]
            request = (b"POST /api/evaluate HTTP/1.1\r\nHost: " + host.encode() +
                       b"\r\nContent-Type: application/json\r\nContent-Length: " +
                       str(len(body)).encode() + b"\r\n\r\n" + body)
            started = time.monotonic()
            writer.write(request)
            async with asyncio.timeout(timeout):
                status, headers, payload = await _read_response(reader)
            done = time.monotonic()
            latencies.append(done - started)
            second = int(done - start_at)
            if 0 <= second < len(timeline):
                timeline[second] += 1
            expected = answers[i % n]
            if status != 200:
                stats["errors"][f"status {status}"] = stats["errors"].get(f"status {status}", 0) + 1
                if len(stats["examples"]) < 5:
                    stats["examples"].append(f"status {status}: {payload[:200]!r}")
            elif payload != expected:
                try:
                    same = json.loads(payload) == json.loads(expected)
                except ValueError:
                    same = False
                if same:
                    stats["ok"] += 1
                else:
                    stats["wrong"] += 1
                    if len(stats["examples"]) < 5:
                        stats["examples"].append(f"wrong answer for body {i % n}: {payload[:200]!r}")
            else:
                stats["ok"] += 1
            i += 1
            if headers.get(b"connection", b"").lower() == b"close":
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, TimeoutError) as exc:
            kind = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
            if time.monotonic() < end_at:
                stats["errors"][kind] = stats["errors"].get(kind, 0) + 1
                if len(stats["examples"]) < 5:
                    stats["examples"].append(f"{kind}: {exc}")
            i += 1
            if writer is not None:
                writer.close()
                writer = None
            await asyncio.sleep(0.05)
    if writer is not None:
        writer.close()


async def _load(host, port, clients, bodies, answers, start_at, seconds, timeout):
    end_at = start_at + seconds
    stats = {"latencies": [], "ok": 0, "wrong": 0, "errors": {}, "examples": []}
    timeline = [0] * (int(seconds) + 1)
    await asyncio.gather(*(_load_client(host, port, bodies, answers, k * 7, start_at, end_at, timeout, stats, timeline)
                           for k in range(clients)))
    lat = stats.pop("latencies")
    stats.update(requests=len(lat), rate=len(lat) / seconds, p50_ms=percentile(lat, .5) * 1000,
                 p99_ms=percentile(lat, .99) * 1000, max_ms=(max(lat) * 1000 if lat else float("nan")),
                 per_second=timeline[:int(seconds)])
    return stats


def _load_main(conn, host, port, clients, bodies, answers, start_at, seconds, timeout):
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    try:
        conn.send(("ok", asyncio.run(_load(host, port, clients, bodies, answers, start_at, seconds, timeout))))
    except BaseException as exc:  # noqa: BLE001 — reported to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    conn.close()


# =========================================================================== the /healthz probe (thread)

def _probe(host, port, start_at, end_at, interval, timeout, keepalive, out):
    request = (f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n" +
               ("" if keepalive else "Connection: close\r\n") + "\r\n").encode()
    sock = None
    tick = start_at
    while True:
        now = time.monotonic()
        if now < tick:
            time.sleep(tick - now)
        if tick >= end_at:
            break
        started = time.monotonic()
        status = None
        try:
            if sock is None:
                sock = socket.create_connection((host, port), timeout=timeout)
            sock.settimeout(max(0.001, timeout - (time.monotonic() - started)))
            sock.sendall(request)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                data += chunk
                sock.settimeout(max(0.001, timeout - (time.monotonic() - started)))
            head, rest = data.split(b"\r\n\r\n", 1)
            status = int(head.split(b" ", 2)[1])
            length = re.search(rb"(?i)content-length:\s*(\d+)", head)
            need = int(length.group(1)) if length else None
            while (need is None or len(rest) < need):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                rest += chunk
                sock.settimeout(max(0.001, timeout - (time.monotonic() - started)))
            out.append((started - start_at, time.monotonic() - started, status))
            if not keepalive:
                sock.close()
                sock = None
        except (OSError, ValueError, IndexError) as exc:
            kind = "timeout" if isinstance(exc, (socket.timeout, TimeoutError)) else type(exc).__name__
            out.append((started - start_at, None, kind))
            if sock is not None:
                sock.close()
                sock = None
        tick += interval
        while tick < time.monotonic():   # a slow answer: skip the ticks it overran
            tick += interval
    if sock is not None:
        sock.close()


# =========================================================================== the process tree

def _proc_table() -> dict[int, tuple[int, int, int]]:
    """pid → (ppid, rss bytes, start time in clock ticks) for every process."""
    page = os.sysconf("SC_PAGE_SIZE")
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
            fields = stat[stat.rindex(b")") + 2:].split()
            table[int(entry)] = (int(fields[1]), int(fields[21]) * page, int(fields[19]))
        except (OSError, ValueError, IndexError):
            continue
    return table


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _has_socket(pid: int) -> bool:
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                    return True
            except OSError:
                continue
    except OSError:
        pass
    return False


def _address_space_limited(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/limits") as handle:
            for line in handle:
                if line.startswith("Max address space"):
                    return line.split()[3] != "unlimited"
    except (OSError, IndexError):
        pass
    return False


def _starttime(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
        return int(stat[stat.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


class TreeWatch:
    """Samples the server's process tree: summed RSS, and who is who.

    Roles: the uvicorn ``worker`` processes (spawned children of the master; with one worker,
    the master itself); under each, its ``engine`` (a spawned child holding a socket — the pipe
    to its worker — with no address-space limit), its ``uploads`` process (the same, with an
    address-space limit: uploads are read there) and anything else (``job``: batch jobs). A
    child is classified once it has been seen in two samples (its limit is set just after it
    starts). A new ``engine`` pid after the start is an engine restart; a new ``uploads`` pid
    is the uploads process started (on first use) or replaced (after a bomb hit its limits).
    """

    def __init__(self, master: int, workers: int, rss_cap: int):
        self.master, self.multi, self.rss_cap = master, workers > 1, rss_cap
        self.samples: list[tuple[float, int, int]] = []   # (t, rss, processes)
        self.roles: dict[int, dict] = {}                  # pid → {role, first, start, worker, cmd}
        self._pending: dict[int, float] = {}
        self.guard: list[str] = []
        self.peak: tuple[int, list] = (0, [])
        self.t0 = time.monotonic()

    def _note(self, pid, role, now, start, worker=None):
        self.roles[pid] = {"role": role, "first": round(now, 1), "start": start, "worker": worker,
                           "cmd": _cmdline(pid)[:120]}

    def sample(self) -> int:
        table = _proc_table()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        tree, stack = [], [self.master]
        while stack:
            pid = stack.pop()
            if pid in table:
                tree.append(pid)
                stack.extend(children.get(pid, []))
        now = time.monotonic() - self.t0
        rss = sum(table[p][1] for p in tree)
        self.samples.append((now, rss, len(tree)))
        if self.master not in self.roles:
            self._note(self.master, "master", now, table.get(self.master, (0, 0, None))[2])
        workers = []
        for pid in (children.get(self.master, []) if self.multi else []):
            if pid not in self.roles:
                cmd = _cmdline(pid)
                if "resource_tracker" in cmd:
                    self._note(pid, "resource tracker", now, table[pid][2])
                elif "spawn_main" in cmd:
                    self._note(pid, "worker", now, table[pid][2])
                else:
                    self._note(pid, "other", now, table[pid][2])
            if self.roles[pid]["role"] == "worker":
                workers.append(pid)
        if not self.multi:
            workers = [self.master]
        for worker in workers:
            for child in children.get(worker, []):
                if child in self.roles:
                    continue
                if child not in self._pending:
                    self._pending[child] = now
                    continue
                cmd = _cmdline(child)
                if "resource_tracker" in cmd:
                    role = "resource tracker"
                elif "spawn_main" in cmd and _has_socket(child):
                    role = "uploads" if _address_space_limited(child) else "engine"
                else:
                    role = "job"
                self._note(child, role, self._pending.pop(child), table[child][2], worker)
        for pid, info in self.roles.items():
            # On a busy machine a new uploads process may not have set its limit yet when first
            # classified: look again while it lives.
            if info["role"] == "engine" and pid in table and _address_space_limited(pid):
                info["role"] = "uploads"
        for pid in [p for p in self._pending if p not in table]:   # gone before it was classified
            self._note(pid, "short-lived", self._pending.pop(pid), None)
        if rss > self.peak[0]:
            self.peak = (rss, sorted(((table[p][1], self.roles.get(p, {}).get("role", "?"), p) for p in tree),
                                     reverse=True))
        if rss > self.rss_cap and len(tree) > 1:
            victim = max((p for p in tree if p != self.master), key=lambda p: table[p][1])
            self.guard.append(f"t={now:.1f}s tree RSS {rss / 2**20:,.0f} MiB > cap: killed pid {victim} "
                              f"({self.roles.get(victim, {}).get('role', '?')}, {table[victim][1] / 2**20:,.0f} MiB)")
            try:
                os.kill(victim, signal.SIGKILL)
            except OSError:
                pass
        return rss

    def of_role(self, role: str) -> list[int]:
        return [pid for pid, info in self.roles.items() if info["role"] == role]


def _sampler(watch: TreeWatch, stop: threading.Event, interval: float):
    while not stop.is_set():
        try:
            watch.sample()
        except Exception as exc:  # noqa: BLE001 — keep sampling
            print(f"sampler: {exc}", file=sys.stderr)
        stop.wait(interval)


def _drain(stream, lines: list, t0: float):
    for line in stream:
        lines.append((time.monotonic() - t0, line.rstrip("\n")))


# =========================================================================== hostile requests

def xlsx_bomb(cells: int = 10_000_000) -> bytes:
    """A small .xlsx whose first sheet has no <dimension> and one row of ``cells`` empty <c/> cells."""
    bombs = ROOT / "tests" / "bombs.py"
    if bombs.exists():
        try:
            sys.path.insert(0, str(ROOT / "tests"))
            import bombs as module  # written beside the tests by another change
            for name in dir(module):
                if "xlsx" in name.lower() and callable(getattr(module, name)):
                    try:
                        data = getattr(module, name)()
                    except TypeError:
                        continue
                    if isinstance(data, (bytes, bytearray)) and data[:2] == b"PK":
                        return bytes(data)
        except Exception:  # noqa: BLE001 — fall back to our own
            pass
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("[Content_Types].xml",
                      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                      '<Default Extension="xml" ContentType="application/xml"/>'
                      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                      '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                      '</Types>')
        book.writestr("_rels/.rels",
                      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                      f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        book.writestr("xl/workbook.xml",
                      f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel}">'
                      '<sheets><sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>')
        book.writestr("xl/_rels/workbook.xml.rels",
                      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                      f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><sheetData><row r="1">'.encode())
            chunk = b"<c/>" * 100_000
            for _ in range(cells // 100_000):
                sheet.write(chunk)
            sheet.write(b"<c/>" * (cells % 100_000))
            sheet.write(b"</row></sheetData></worksheet>")
    return buffer.getvalue()


def _multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = "----policykbsoak7d1c"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data, media) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f'Content-Type: {media}\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _request(host, path, body: bytes, content_type: str | None, extra: str = "") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return (head + extra + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


#: kind → the statuses that are right for it.
EXPECTED = {"xlsx bomb /ui/import": {200, 400, 413, 422}, "xlsx bomb /ui/batch": {200, 400, 413, 422},
            "body > 5 MiB": {413}, "body just under 5 MiB": {200, 400}, "lone surrogate value": {400},
            "lone surrogate key": {400}, "120 KB header": {431, 400}, "slow loris": {"closed"},
            "cross-origin POST": {403}, "text/plain POST": {415}}


def hostile_requests(host: str, good_body: bytes):
    """[(kind, coroutine factory)] in the order they are sent, one a second, round and round."""
    bomb = xlsx_bomb()
    import_body, import_type = _multipart({"lang": "en"}, {"file": ("bomb.xlsx", bomb, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    batch_body, batch_type = _multipart({"output": "csv"}, {"file": ("bomb.xlsx", bomb, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    over = json.dumps({"profile": {"name": "a" * (BODY_LIMIT + 64 * 1024)}}).encode()
    under_name = 4_900_000
    under = json.dumps({"profile": {"name": "a" * under_name}}).encode()
    assert len(under) < BODY_LIMIT < len(over)
    big_header = "X-Soak-Padding: " + "a" * (120 * 1024 + 512) + "\r\n"
    requests = {
        "xlsx bomb /ui/import": _request(host, "/ui/import", import_body, import_type),
        "xlsx bomb /ui/batch": _request(host, "/ui/batch", batch_body, batch_type),
        "body > 5 MiB": _request(host, "/api/evaluate", over, "application/json"),
        "body just under 5 MiB": _request(host, "/api/evaluate", under, "application/json"),
        "lone surrogate value": _request(host, "/api/evaluate", b'{"profile": {"name": "\\ud800"}}', "application/json"),
        "lone surrogate key": _request(host, "/api/evaluate", b'{"profile": {"name": "x", "industry\\udfff": "ict"}}',
                                       "application/json"),
        "120 KB header": _request(host, "/api/evaluate", good_body, "application/json", big_header),
        "cross-origin POST": _request(host, "/api/evaluate", good_body, "application/json",
                                      "Origin: http://evil.example\r\n"),
        "text/plain POST": _request(host, "/api/evaluate", good_body, "text/plain"),
    }
    order = ["xlsx bomb /ui/import", "body > 5 MiB", "lone surrogate value", "120 KB header", "slow loris",
             "xlsx bomb /ui/batch", "body just under 5 MiB", "lone surrogate key", "cross-origin POST", "text/plain POST"]
    sizes = {kind: len(data) for kind, data in requests.items()}
    return order, requests, sizes


async def _exchange(host, port, data: bytes, timeout: float, check_closed: bool = False) -> dict:
    """Send ``data``, read one response: its status, how long, whether the server closed the connection."""
    started = time.monotonic()
    result = {"status": None, "seconds": None, "closed": None, "note": ""}
    writer = None
    try:
        reader, writer = await asyncio.open_connection(host, port, limit=2**20)
        writer.write(data)
        drain = asyncio.ensure_future(writer.drain())
        try:
            async with asyncio.timeout(timeout):
                status, headers, body = await _read_response(reader)
            result["status"] = status
            result["seconds"] = time.monotonic() - started
            if status >= 500:
                result["note"] = body[:200].decode(errors="replace")
            if check_closed or headers.get(b"connection", b"").lower() == b"close":
                try:
                    async with asyncio.timeout(2):
                        rest = await reader.read(1)
                    result["closed"] = rest == b""
                except TimeoutError:
                    result["closed"] = False
                except OSError:
                    result["closed"] = True
        finally:
            drain.cancel()
    except TimeoutError:
        result["status"] = "timeout"
        result["seconds"] = time.monotonic() - started
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError) as exc:
        result["status"] = f"no answer ({type(exc).__name__})"
        result["seconds"] = time.monotonic() - started
    finally:
        if writer is not None:
            writer.close()
    return result


async def _slow_loris(host, port, limit: float) -> dict:
    started = time.monotonic()
    result = {"status": None, "seconds": None, "closed": None, "note": ""}
    writer = None
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"POST /api/evaluate HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nX-Slow:".encode())
        await writer.drain()
        try:
            async with asyncio.timeout(limit):
                data = await reader.read()   # until the server closes it
            result["seconds"] = time.monotonic() - started
            result["closed"] = True
            result["status"] = "closed"
            if data:
                result["note"] = data.split(b"\r\n", 1)[0].decode(errors="replace")
        except TimeoutError:
            result["seconds"] = time.monotonic() - started
            result["closed"] = False
            result["status"] = f"open after {limit:g} s"
    except OSError as exc:
        result["seconds"] = time.monotonic() - started
        result["closed"] = True
        result["status"] = "closed"
        result["note"] = type(exc).__name__
    finally:
        if writer is not None:
            writer.close()
    return result


async def _hostile(host, port, order, requests, start_at, seconds, timeout, loris_limit, out: list):
    tasks = []

    async def one(kind, index, sent):
        if kind == "slow loris":
            result = await _slow_loris(host, port, loris_limit)
        else:
            result = await _exchange(host, port, requests[kind], timeout, check_closed=(kind == "120 KB header"))
        out.append(dict(result, kind=kind, index=index, at=sent - start_at))

    index = 0
    while True:
        at = start_at + 0.5 + index
        if at >= start_at + seconds:
            break
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        kind = order[index % len(order)]
        tasks.append(asyncio.ensure_future(one(kind, index, time.monotonic())))
        index += 1
    return tasks


# =========================================================================== the run

def run(args) -> dict:
    from engine.web.testing import running_server
    print(f"{os.cpu_count()} cores; Python {sys.version.split()[0]}; computing expected answers ...", file=sys.stderr)
    bodies, answers = expected_answers(args.profiles)
    results: dict = {"clients": args.clients, "seconds": args.seconds, "workers": args.workers,
                     "profiles": len(bodies)}
    with running_server(workers=args.workers) as (base, server):
        url = urlparse(base)
        host, port = url.hostname, url.port
        t0 = time.monotonic()
        stderr_lines: list = []
        drains = [threading.Thread(target=_drain, args=(stream, stderr_lines if stream is server.stderr else [], t0),
                                   daemon=True) for stream in (server.stderr, server.stdout)]
        for thread in drains:
            thread.start()
        watch = TreeWatch(server.pid, args.workers, int(args.rss_cap * 2**30))
        watch.t0 = t0
        watch.sample()
        time.sleep(0.5)
        start_rss = watch.sample()
        engines_at_start = set(watch.of_role("engine"))
        workers_at_start = set(watch.of_role("worker"))
        stop = threading.Event()
        sampler = threading.Thread(target=_sampler, args=(watch, stop, 0.5), daemon=True)
        sampler.start()

        order, requests, sizes = hostile_requests(host, bodies[0])
        results["hostile_sizes"] = sizes
        start_at = time.monotonic() + 2.0    # the load process starts and connects meanwhile
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe(duplex=False)
        load = ctx.Process(target=_load_main, args=(child, host, port, args.clients, bodies, answers, start_at,
                                                    args.seconds, args.request_timeout), name="soak-load")
        load.start()
        child.close()
        probes: list = []
        prober = threading.Thread(target=_probe, args=(host, port, start_at, start_at + args.seconds, 0.1, 2.0,
                                                       args.probe == "keepalive", probes), daemon=True)
        prober.start()
        hostile: list = []

        async def hostile_main():
            tasks = await _hostile(host, port, order, requests, start_at, args.seconds, args.hostile_timeout,
                                   args.loris_limit, hostile)
            if tasks:
                await asyncio.wait(tasks, timeout=max(args.hostile_timeout, args.loris_limit) + 5)
            return [t for t in tasks if not t.done()]

        pending = asyncio.run(hostile_main())
        prober.join()
        load_answer = parent.recv() if parent.poll(args.request_timeout + 30) else ("error", "no answer from the load process")
        load.join(10)
        time.sleep(1.0)
        end_rss = watch.sample()
        stop.set()
        sampler.join()
        results["server_alive"] = server.poll() is None
        results["stderr"] = stderr_lines
    _kill_leftovers(watch)

    # ------------------------------------------------------------------ figures
    if load_answer[0] != "ok":
        raise RuntimeError(f"the load process failed: {load_answer[1]}")
    results["load"] = load_answer[1]

    lat = [p[1] for p in probes if p[1] is not None]
    failed = [p for p in probes if p[1] is None or p[2] != 200]
    with_timeouts = [p[1] if p[1] is not None else 2.0 for p in probes]
    results["healthz"] = {"probes": len(probes), "p50_ms": percentile(lat, .5) * 1000,
                          "p99_ms": percentile(with_timeouts, .99) * 1000,
                          "max_ms": max(with_timeouts) * 1000 if probes else float("nan"),
                          "timeouts": sum(1 for p in probes if p[2] == "timeout"),
                          "failed": len(failed), "mode": args.probe,
                          "over_100ms": sum(1 for v in with_timeouts if v >= 0.1),
                          "worst_seconds": sorted({int(p[0]) for p in probes if p[1] is None or p[1] >= 0.1})[:40]}
    rss = [s[1] for s in watch.samples]
    results["memory"] = {"start_mib": start_rss / 2**20, "peak_mib": max(rss) / 2**20, "end_mib": end_rss / 2**20,
                         "peak_processes": max(s[2] for s in watch.samples), "samples": len(rss),
                         "guard": watch.guard}
    results["memory"]["peak_by_process"] = [{"pid": pid, "role": role, "mib": round(size / 2**20, 1)}
                                            for size, role, pid in watch.peak[1]]
    new_engines = sorted(set(watch.of_role("engine")) - engines_at_start)
    new_workers = sorted(set(watch.of_role("worker")) - workers_at_start)
    uploads = watch.of_role("uploads")
    upload_workers = {watch.roles[p]["worker"] for p in uploads}
    upload_restarts = len(uploads) - len(upload_workers)   # the first in each worker is its start on first use
    restart_lines = [line for _, line in results["stderr"] if re.search(r"restart", line, re.I)]
    results["restarts"] = {"engines_at_start": sorted(engines_at_start), "new_engine_pids": new_engines,
                           "new_engine_seen_at": [watch.roles[p]["first"] for p in new_engines],
                           "new_uvicorn_worker_pids": new_workers, "stderr_restart_lines": len(restart_lines),
                           "uploads_processes": len(uploads), "uploads_restarts": upload_restarts,
                           "uploads_seen_at": [watch.roles[p]["first"] for p in uploads],
                           "jobs": len(watch.of_role("job")), "short_lived": len(watch.of_role("short-lived"))}
    table: dict = {}
    for item in sorted(hostile, key=lambda h: h["index"]):
        row = table.setdefault(item["kind"], {"sent": 0, "statuses": {}, "seconds": [], "closed": [], "notes": []})
        row["sent"] += 1
        key = str(item["status"])
        row["statuses"][key] = row["statuses"].get(key, 0) + 1
        if item["seconds"] is not None:
            row["seconds"].append(round(item["seconds"], 2))
        if item["closed"] is not None:
            row["closed"].append(item["closed"])
        if item["note"] and len(row["notes"]) < 2:
            row["notes"].append(item["note"])
    for kind, row in table.items():
        allowed = {str(s) for s in EXPECTED[kind]}
        row["as_expected"] = all(s in allowed for s in row["statuses"]) and (
            kind != "120 KB header" or all(row["closed"]))
    results["hostile"] = table
    results["hostile_unfinished"] = len(pending)

    load_stats = results["load"]
    not_right = load_stats["wrong"] + sum(load_stats["errors"].values())
    hostile_500 = sum(n for row in table.values() for s, n in row["statuses"].items() if s.isdigit() and int(s) >= 500)
    m = results["memory"]
    goals = {
        f"/healthz p99 < {HEALTHZ_P99_MS:g} ms": results["healthz"]["p99_ms"] < HEALTHZ_P99_MS,
        "0 wrong answers (every load request a 200 with the expected JSON)": not_right == 0,
        "0 engine restarts (pids of the evaluating engines and uvicorn workers)": not new_engines and not new_workers,
        "0 stderr lines matching 'restart' beyond the uploads process's restarts":
            len(restart_lines) <= upload_restarts,
        f"peak and end memory within {MEMORY_FACTOR:g}x start": (m["peak_mib"] <= MEMORY_FACTOR * m["start_mib"]
                                                               and m["end_mib"] <= MEMORY_FACTOR * m["start_mib"]),
        "no hostile request answered 5xx": hostile_500 == 0,
        "the server still running at the end": results["server_alive"],
        "the memory guard never tripped": not watch.guard,
    }
    if args.strict:
        goals["every hostile request answered as expected"] = all(row["as_expected"] for row in table.values())
    results["goals"] = goals
    results["passed"] = all(goals.values())
    return results


def _kill_leftovers(watch: TreeWatch) -> None:
    """After the server stopped: kill what is left of the processes it started (a batch job or an
    engine busy with a bomb can outlive a killed master) — by pid, and only a pid that is still
    the same process (same start time)."""
    time.sleep(0.5)
    for pid, info in watch.roles.items():
        if pid != watch.master and info["start"] is not None and _starttime(pid) == info["start"]:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def report(results: dict) -> str:
    out = []
    load, hz, m, r = results["load"], results["healthz"], results["memory"], results["restarts"]
    out.append(f"policykb serve --workers {results['workers']}: {results['clients']} clients for "
               f"{results['seconds']:g} s, a hostile request a second; {results['profiles']} profiles")
    out.append(f"POST /api/evaluate: {load['requests']:,} answers, {load['rate']:,.0f}/s, p50 {load['p50_ms']:.1f} ms, "
               f"p99 {load['p99_ms']:.1f} ms, max {load['max_ms']:.0f} ms; right {load['ok']:,}, "
               f"wrong {load['wrong']}, failed {sum(load['errors'].values())} {load['errors'] or ''}")
    out.append(f"  answers per second: {' '.join(str(n) for n in load['per_second'])}")
    for example in load["examples"][:3]:
        out.append(f"  e.g. {example}")
    out.append(f"/healthz ({hz['mode']} connection, every 100 ms): {hz['probes']} probes, p50 {hz['p50_ms']:.1f} ms, "
               f"p99 {hz['p99_ms']:.1f} ms, max {hz['max_ms']:.0f} ms, {hz['timeouts']} timeouts (2 s), "
               f"{hz['over_100ms']} at 100 ms or more" +
               (f" (in seconds {hz['worst_seconds']})" if hz["worst_seconds"] else ""))
    out.append(f"memory (RSS of the server's process tree): start {m['start_mib']:,.0f} MiB, peak {m['peak_mib']:,.0f} MiB, "
               f"end {m['end_mib']:,.0f} MiB (peak ÷ start {m['peak_mib'] / m['start_mib']:.2f}, "
               f"up to {m['peak_processes']} processes)")
    for line in m["guard"]:
        out.append(f"  GUARD: {line}")
    top = ", ".join(f"{p['role']} {p['mib']:,.0f}" for p in m["peak_by_process"][:6])
    out.append(f"  at the peak (MiB): {top}")
    out.append(f"engine restarts: {len(r['engines_at_start'])} engine processes at the start; "
               f"{len(r['new_engine_pids'])} new engine pids "
               f"{r['new_engine_pids'] or ''}{' at ' + str(r['new_engine_seen_at']) + ' s' if r['new_engine_pids'] else ''}, "
               f"{len(r['new_uvicorn_worker_pids'])} new uvicorn workers; "
               f"{r['stderr_restart_lines']} stderr lines matching 'restart'")
    out.append(f"  uploads processes: {r['uploads_processes']} started (at {r['uploads_seen_at']} s), "
               f"{r['uploads_restarts']} of them replacing one; {r['jobs']} batch job processes")
    out.append("")
    out.append(f"{'hostile request':24} {'sent':>4}  {'statuses':32} {'seconds':>16}  expected      ok")
    for kind, row in results["hostile"].items():
        statuses = ", ".join(f"{s}×{n}" for s, n in row["statuses"].items())
        secs = row["seconds"]
        span = f"{min(secs):.2f}–{max(secs):.2f}" if secs else "-"
        expected = "/".join(str(s) for s in sorted(EXPECTED[kind], key=str))
        closed = f" closed {sum(row['closed'])}/{len(row['closed'])}" if kind == "120 KB header" else ""
        out.append(f"{kind:24} {row['sent']:>4}  {statuses + closed:32} {span:>16}  {expected:12}  "
                   f"{'yes' if row['as_expected'] else 'NO'}")
        for note in row["notes"]:
            out.append(f"    {note[:150]}")
    if results["hostile_unfinished"]:
        out.append(f"  {results['hostile_unfinished']} hostile requests still unanswered at the end")
    errors = [line for _, line in results["stderr"] if line.strip()]
    if errors:
        out.append("")
        out.append(f"server stderr: {len(errors)} lines, e.g.")
        for line in list(dict.fromkeys(errors))[:8]:
            out.append(f"  {line[:160]}")
    out.append("")
    for goal, ok in results["goals"].items():
        out.append(f"  {'PASS' if ok else 'FAIL'}  {goal}")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profiles", type=int, default=200)
    parser.add_argument("--probe", choices=("fresh", "keepalive"), default="fresh")
    parser.add_argument("--request-timeout", type=float, default=10.0, help="a load request unanswered this long fails")
    parser.add_argument("--hostile-timeout", type=float, default=60.0)
    parser.add_argument("--loris-limit", type=float, default=30.0, help="how long a slow-loris connection is held open")
    parser.add_argument("--rss-cap", type=float, default=8.0, help="GiB: the guard kills the tree's largest process above it")
    parser.add_argument("--strict", action="store_true", help="also fail when a hostile request is answered unexpectedly")
    parser.add_argument("--json", action="store_true", help="print the JSON summary")
    args = parser.parse_args()
    results = run(args)
    if args.json:
        print(report(results), file=sys.stderr)
        summary = {k: v for k, v in results.items() if k != "stderr"}
        summary["stderr_lines"] = [line for _, line in results["stderr"]][:50]
        print(json.dumps(summary, ensure_ascii=False, indent=1, default=str))
    else:
        print(report(results))
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
