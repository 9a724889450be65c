"""A ``policykb serve`` in a subprocess on a free loopback port, for tests and the benchmark.

:func:`running_server` starts it, waits for ``/healthz``, yields its base URL and stops it with
SIGTERM at the end (killing it only if it does not stop).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(workers: int = 1, kb: str | None = None, faults: bool = False, timeout: float = 60.0,
                   extra_env: dict | None = None, extra_args: list[str] | None = None, log: Path | None = None,
                   preexec_fn=None) -> Iterator[tuple[str, subprocess.Popen]]:
    """``log``: a file for the server's standard error (else a pipe); ``preexec_fn``: run in the
    server's process before it starts (tests set resource limits with it)."""
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(extra_env or {}))
    if faults:
        env["POLICYKB_SERVE_TEST_FAULTS"] = "1"
    command = [sys.executable, "-m", "engine.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers)] + (["--kb", kb] if kb else []) + list(extra_args or [])
    stderr = open(log, "w", encoding="utf-8") if log else subprocess.PIPE
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr,
                               text=True, encoding="utf-8", preexec_fn=preexec_fn)
    if log:
        stderr.close()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                said = process.stderr.read() if process.stderr else Path(log).read_text(encoding="utf-8")
                raise RuntimeError(f"policykb serve exited with {process.returncode}: {said}")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("policykb serve did not answer /healthz in time")
            time.sleep(0.2)
        # Every worker answers once its engine is loaded; give the others the same chance.
        time.sleep(0.5 if workers > 1 else 0)
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()
