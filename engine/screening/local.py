"""Running chunks on this machine: in this process, or in a pool of worker processes that each
load the knowledge base once (``--workers``). Results come back in input order."""

from __future__ import annotations

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


def _init_worker(kb_root: str, documents: tuple[str, ...]) -> None:
    kb = _loaded.get((kb_root, documents)) or load(kb_root)
    _worker_kb["kb"] = kb if tuple(kb.documents) == documents else under_documents(kb, list(documents))


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
                             initargs=(str(kb.root), tuple(kb.documents))) as pool:
        pending: deque = deque()
        for chunk in chunks(rows):
            pending.append(pool.submit(_work, chunk, as_of, kind))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
