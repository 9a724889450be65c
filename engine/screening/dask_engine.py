"""The batch evaluation on Dask: the same chunks, evaluated by Dask workers.

Needs the optional extra (``pip install policykb[dask]``). Without ``--scheduler`` a local
cluster of ``workers`` processes is started; with it, the batch runs on that cluster, whose
workers must have policykb installed. Each worker loads the knowledge base once; results come
back chunk by chunk, in input order, at most a few chunks in flight, and are written by the
caller exactly as the local engine's are — the output is byte-identical.
"""

from __future__ import annotations

from collections import deque
from typing import Iterable, Iterator

from engine.errors import PolicyKBError
from engine.screening.chunks import chunks, evaluate_rows

_kbs: dict = {}


def _evaluate_chunk(rows, as_of, kb_root: str | None, kb_version: str, kind: str, documents: tuple = ()):
    from engine.inferring.evaluation import under_documents
    from engine.loading.kb import load
    kb = _kbs.get(kb_root)
    if kb is None:
        kb = _kbs[kb_root] = load(kb_root)   # None: the worker's own bundled knowledge base
    if kb.version != kb_version:
        raise PolicyKBError(f"the Dask worker's knowledge base ({kb.version}) differs from the caller's ({kb_version})")
    if documents and tuple(kb.documents) != documents:
        kb = under_documents(kb, list(documents))
    return evaluate_rows(kb, rows, as_of, kind)


def evaluate_dask(kb, rows: Iterable, as_of, workers: int, scheduler: str | None, kind: str) -> Iterator[list[dict]]:
    from engine.loading.kb import bundled_kb
    # A remote worker has its own installation: the bundled knowledge base is named by None,
    # and the version check in _evaluate_chunk still guarantees it is the same one.
    root = None if kb.root.resolve() == bundled_kb().resolve() else str(kb.root)
    tasks = ((_evaluate_chunk, (chunk, as_of, root, kb.version, kind, tuple(kb.documents))) for chunk in chunks(rows))
    yield from in_order(tasks, workers, scheduler, "--engine dask")


def in_order(tasks: Iterable[tuple], workers: int, scheduler: str | None, what: str) -> Iterator:
    """Each ``(function, args)`` of ``tasks`` run on Dask — on the cluster at ``scheduler``, or
    on a local one of ``workers`` processes started for them and stopped after — and its result,
    in the tasks' order, at most two per worker in flight. ``what`` names the caller in the
    message when Dask is not installed."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise PolicyKBError(f"{what} needs Dask: pip install 'policykb[dask]'",
                            zh=f"{what} 需要 Dask：pip install 'policykb[dask]'") from None
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=max(workers, 1), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        window = 2 * max(workers, 1)
        pending: deque = deque()
        for function, args in tasks:
            pending.append(client.submit(function, *args, pure=False))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
