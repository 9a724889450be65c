"""Running chunks on this machine: in this process, or in a pool of worker processes that each
load the knowledge base once (``--workers``). Results come back in input order. A worker ends
with the batch that started it, even one killed outright (:func:`die_with_parent`)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Iterable, Iterator

from engine.inferring.evaluation import reasoner, under_documents
from engine.loading.kb import load
from engine.model import KnowledgeBase
from engine.screening.chunks import Output, chunks, evaluate_rows
from engine.screening.rows import Row


_worker_kb: dict = {}
#: Knowledge bases already loaded here, by folder: a worker started by fork finds its own in
#: this copy of the parent's memory instead of reading and checking every YAML file again.
_loaded: dict = {}


def _init_worker(kb_root: str, documents: tuple[str, ...], parent: int | None = None) -> None:
    if parent is not None:
        die_with_parent(parent)
    kb = _loaded.get((kb_root, documents)) or load(kb_root)
    _worker_kb["kb"] = kb if tuple(kb.documents) == documents else under_documents(kb, list(documents))


#: How often a worker looks whether the process that started it is still there, in seconds.
PARENT_POLL = 0.5


def die_with_parent(parent: int) -> None:
    """End this worker when ``parent`` (the batch that started it) ends, however it ends — even
    ``kill -9``, which lets it clean nothing up: on Linux the kernel is asked to kill it then
    (``PR_SET_PDEATHSIG``), and everywhere a daemon thread looks every :data:`PARENT_POLL`
    seconds whether its parent is still the process that started it (an orphan is adopted by
    another)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    started_by = os.getppid()
    if started_by != parent:   # the batch was gone before it could be watched, or (a fork server
        try:                   # started this worker) the batch is its grandparent: watch the server
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL)
            if os.getppid() != started_by:
                os._exit(1)

    threading.Thread(target=watch, name="policykb-parent-watch", daemon=True).start()


def _work(rows: list[Row], as_of, kind: str | Output) -> list[dict]:
    return evaluate_rows(_worker_kb["kb"], rows, as_of, kind)



def evaluate_local(kb: KnowledgeBase, rows: Iterable[Row], as_of, workers: int,
                   kind: str | Output) -> Iterator[list[dict]]:
    """Results chunk by chunk, in input order; at most ``2 × workers`` chunks in flight."""
    if workers <= 1:
        for chunk in chunks(rows):
            yield evaluate_rows(kb, chunk, as_of, kind)
        return
    _loaded[(str(kb.root), tuple(kb.documents))] = kb
    reasoner(kb)  # compiled once here, inherited by workers started by fork
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(str(kb.root), tuple(kb.documents), os.getpid())) as pool:
        pending: deque = deque()
        try:
            for chunk in chunks(rows):
                pending.append(pool.submit(_work, chunk, as_of, kind))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        except GeneratorExit:   # the batch stopped reading (its output failed): no more work
            pool.shutdown(wait=True, cancel_futures=True)
            raise
