"""The life of a batch job's process: a place in the queue, a slot to run in, its limits, a sign
that it is alive, and cancelling it.

Several uvicorn workers start jobs and any of them may answer a page polling one, so all of this
is kept in the data folder with file locks (``fcntl.flock``), which the operating system releases
when the process holding them ends — however it ends, ``kill -9`` and the kernel's OOM killer
included:

- ``<job>/alive.lock`` is held by the job's process for its whole life. A job that says it is
  queued or running while nobody holds the lock has died: :func:`settled` marks it failed, so
  the page stops waiting and says so.
- ``slots/<n>.lock`` (``n`` below ``max_jobs``): a job runs only while it holds one; the others
  wait in the order they were created, each showing its place.
- ``<job>/cancel``: the user asked to stop it; the process is sent SIGTERM, stops at once and
  records itself cancelled.
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import signal
import time
from pathlib import Path

ALIVE = "alive.lock"
CANCEL = "cancel"
#: A job whose process has not taken its lock this long after it was created never started.
START_GRACE = 60.0
WAITING = ("starting", "queued", "running")


class Cancelled(BaseException):
    """SIGTERM reached the job: the user cancelled it, or the server is stopping."""


class TooLong(BaseException):
    """The job ran past its time limit."""


def _lock(path: Path, blocking: bool) -> int | None:
    """An open descriptor holding an exclusive lock on ``path``, or None when another holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


# --------------------------------------------------------------------------- in the job's process

def hold_alive(folder: Path) -> int:
    """Take the job's life lock (kept until the process ends)."""
    return _lock(folder / ALIVE, blocking=True)


def limit(memory: int, seconds: float) -> None:
    """Cap the process's memory (address space) and, from now, its running time: past the
    memory, allocations fail (MemoryError); past the time, :class:`TooLong` is raised. A limit
    below what the process already uses raises MemoryError at once: the job could not run."""
    if memory < _address_space():
        raise MemoryError()
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ValueError, OSError):
        pass  # a hard limit below it is already set: keep that one

    def too_long(signum, frame):
        raise TooLong()

    signal.signal(signal.SIGALRM, too_long)
    signal.alarm(max(1, int(seconds)))


def _address_space() -> int:
    """The process's address space now, in bytes (0 where /proc does not say)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def on_sigterm() -> None:
    def cancelled(signum, frame):
        raise Cancelled()

    signal.signal(signal.SIGTERM, cancelled)


def wait_for_slot(data_dir: Path, folder: Path, max_jobs: int, say_place) -> int:
    """Wait until one of the ``max_jobs`` slots is free and take it; meanwhile call
    ``say_place(place)`` whenever the job's place in the queue (1: next) changes."""
    slots = data_dir / "slots"
    slots.mkdir(exist_ok=True)
    last = None
    while True:
        for number in range(max(1, max_jobs)):
            fd = _lock(slots / f"{number}.lock", blocking=False)
            if fd is not None:
                return fd
        place = place_in_queue(data_dir, folder)
        if place != last:
            say_place(place)
            last = place
        time.sleep(0.3)


def place_in_queue(data_dir: Path, folder: Path) -> int:
    """1 + the number of jobs still waiting that were created before this one."""
    mine = _status(folder).get("created", 0)
    ahead = 0
    for other in (data_dir / "jobs").iterdir():
        if other == folder:
            continue
        status = _status(other)
        if status.get("state") == "queued" and status.get("created", 0) < mine and is_alive(other):
            ahead += 1
    return ahead + 1


# --------------------------------------------------------------------------- seen from the server

def is_alive(folder: Path) -> bool:
    """Whether the job's process holds its life lock (it is running, or waiting for a slot)."""
    fd = _lock(folder / ALIVE, blocking=False)
    if fd is None:
        return True
    os.close(fd)
    return False


def settled(folder: Path, status: dict, write) -> dict:
    """``status``, or — when it says the job waits or runs but its process has died — the job
    marked failed (written with ``write(folder, status)``), so that the page stops polling."""
    state = status.get("state")
    if state not in WAITING:
        return status
    if state == "starting" and time.time() - status.get("created", 0) < START_GRACE:
        return status
    if is_alive(folder):
        return status
    failed = dict(status, state="failed", reason="died",
                  message=status.get("died") or "the job's process stopped before the end")
    write(folder, failed)
    return failed


def waiting_jobs(data_dir: Path) -> int:
    """Jobs not yet running (starting or queued) whose process is alive or still starting."""
    count = 0
    folder = data_dir / "jobs"
    if not folder.is_dir():
        return 0
    for job in folder.iterdir():
        status = _status(job)
        state = status.get("state")
        if state == "starting" and time.time() - status.get("created", 0) < START_GRACE:
            count += 1
        elif state == "queued" and is_alive(job):
            count += 1
    return count


def cancel(folder: Path) -> bool:
    """Ask the job to stop: True when its process was signalled."""
    (folder / CANCEL).touch()
    pid = _status(folder).get("pid")
    if not isinstance(pid, int) or not is_alive(folder):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


def stop_all(data_dir: Path, wait: float = 10.0) -> None:
    """At the server's stop: cancel every live job and wait (at most ``wait`` s) for them to say so."""
    folder = data_dir / "jobs"
    if not folder.is_dir():
        return
    live = [job for job in folder.iterdir() if _status(job).get("state") in WAITING and is_alive(job)]
    for job in live:
        pid = _status(job).get("pid")
        if isinstance(pid, int):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + wait
    while live and time.monotonic() < deadline:
        live = [job for job in live if is_alive(job)]
        time.sleep(0.1)


def _status(folder: Path) -> dict:
    try:
        return json.loads((folder / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
