"""The engine process of a server worker: evaluations run there, one at a time.

durable_rules holds the GIL and an engine is not thread-safe, so no two requests may use one
engine at once. Each uvicorn worker process owns one *engine process* (this module) and sends it
one call at a time over a pipe; throughput grows with the number of uvicorn workers, and no
request ever sees another's facts.

Keeping the engine out of the HTTP process also means that an engine that dies (a crash in the
C extension, a kill) fails only the request it was serving, with a 500, and is replaced before
the next one: the HTTP process notices the closed pipe and starts a new engine process.

The operations themselves are in :mod:`engine.web.operations`; a call names one of them and
gets back plain data (or its :class:`~engine.errors.PolicyKBError` as a dict, since exceptions
with keyword fields do not survive pickling).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class WorkerDied(Exception):
    """The engine process stopped while serving the call (it has been replaced)."""


class WorkerTimeout(Exception):
    """The call took longer than the limit; the engine process was stopped and replaced."""


class RemoteError(Exception):
    """A :class:`~engine.errors.PolicyKBError` raised in the engine process."""

    def __init__(self, kind: str, fields: dict, text: str):
        super().__init__(text)
        self.kind, self.fields, self.text = kind, fields, text


def _child_main(conn, kb_path: str | None, faults: bool) -> None:
    """The engine process: load the knowledge base once, then answer calls until the pipe closes."""
    # Ctrl-C reaches the whole process group; the server stops this process itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from ..errors import PolicyKBError
    from engine.inferring.evaluation import knowledge_base
    from . import operations
    try:
        kb = knowledge_base(kb_path)
        operations.warm(kb)
    except PolicyKBError as exc:
        conn.send(("error", type(exc).__name__, exc.to_dict(), str(exc)))
        return
    conn.send(("ready", kb.version))
    while True:
        try:
            op, kwargs = conn.recv()
        except (EOFError, OSError):
            return  # the server went away
        if faults and op != "kb_version" and _asks_to_crash(kwargs):
            os._exit(70)
        try:
            answer = ("ok", getattr(operations, op)(kb, **kwargs))
        except PolicyKBError as exc:
            answer = ("error", type(exc).__name__, exc.to_dict(), _without_file(exc))
        except Exception as exc:  # noqa: BLE001 — reported to the caller as a 500, never a traceback
            answer = ("internal", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(answer)
        except (EOFError, OSError):
            return


def _asks_to_crash(kwargs: dict) -> bool:
    profiles = [kwargs.get("profile")] + [c.get("profile") for c in kwargs.get("cases") or [] if isinstance(c, dict)]
    return any(isinstance(p, dict) and p.get("name") == "__policykb_crash_worker__" for p in profiles)


def _without_file(exc) -> str:
    """The message the command line would print, without the file name (a request has none)."""
    file, line, column = exc.file, exc.line, exc.column
    exc.file = exc.line = exc.column = None
    try:
        return str(exc)
    finally:
        exc.file, exc.line, exc.column = file, line, column


class EngineProcess:
    """One engine process and the single thread that talks to it.

    :meth:`call` is awaited from request handlers; calls queue on the one thread, so the engine
    process serves them strictly one after another.
    """

    def __init__(self, kb_path: str | None, timeout: float, faults: bool = False):
        self.kb_path, self.timeout, self.faults = kb_path, timeout, faults
        self._context = multiprocessing.get_context("spawn")
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policykb-engine")
        self._process = None
        self._conn = None
        self._lock = threading.Lock()
        self._queue = asyncio.Lock()
        self.version: str | None = None
        self.restarts = 0

    # ------------------------------------------------------------------ life

    def start(self) -> str:
        """Start the engine process and wait until its knowledge base is loaded; its version."""
        with self._lock:
            self._start()
        return self.version

    def _start(self) -> None:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_child_main, args=(child, self.kb_path, self.faults),
                                        name="policykb-engine", daemon=True)
        process.start()
        child.close()
        try:
            message = parent.recv()
        except EOFError:
            process.join(5)
            raise RuntimeError("the engine process stopped while loading the knowledge base") from None
        if message[0] == "error":
            process.join(5)
            raise RemoteError(message[1], message[2], message[3])
        self._process, self._conn, self.version = process, parent, message[1]

    def stop(self) -> None:
        """Stop the engine process (at server shutdown)."""
        with self._lock:
            self._stop()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            self._process.join(2)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(2)
        self._process = self._conn = None

    def _replace(self) -> None:
        self._stop()
        self.restarts += 1
        self._start()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # ------------------------------------------------------------------ calls

    async def call(self, op: str, **kwargs) -> Any:
        """Run ``operations.<op>(kb, **kwargs)`` in the engine process and return its answer.

        Raises :class:`RemoteError` for bad input, :class:`WorkerDied` or :class:`WorkerTimeout`
        when the engine process failed the call (it is replaced before the next one), and
        ``RuntimeError`` for an internal error in the operation.

        The call is sent from the event loop and its answer awaited on the pipe's file descriptor
        (no thread hop per call); an asyncio lock keeps calls strictly one after another.
        """
        async with self._queue:
            if self._process is None or not self._process.is_alive():
                # It died between calls (killed from outside): this call has not been sent yet,
                # so it is served by the replacement.
                await self._in_thread(self._replace_locked)
            loop = asyncio.get_running_loop()
            conn = self._conn
            ready = loop.create_future()
            fd = conn.fileno()
            loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
            try:
                try:
                    conn.send((op, kwargs))
                    await asyncio.wait_for(ready, self.timeout)
                    # Some event loops (uvloop) make a watched descriptor non-blocking; the rest of a
                    # long answer (a report) must be waited for, not refused with EAGAIN.
                    os.set_blocking(fd, True)
                    answer = conn.recv()
                except asyncio.TimeoutError:
                    loop.remove_reader(fd)
                    self._process.kill()
                    await self._in_thread(self._replace_locked)
                    raise WorkerTimeout(f"the evaluation took longer than {self.timeout:g} s and was stopped") from None
                except (EOFError, OSError):
                    loop.remove_reader(fd)
                    await self._in_thread(self._replace_locked)
                    raise WorkerDied("the engine process stopped while serving this request; "
                                     "it has been restarted — send the request again") from None
            finally:
                try:
                    loop.remove_reader(fd)
                except (ValueError, OSError):
                    pass
        if answer[0] == "ok":
            return answer[1]
        if answer[0] == "error":
            raise RemoteError(answer[1], answer[2], answer[3])
        raise RuntimeError(answer[1])

    async def _in_thread(self, function) -> None:
        # Starting an engine process takes a second or two: not on the event loop.
        await asyncio.get_running_loop().run_in_executor(self._executor, function)

    def _replace_locked(self) -> None:
        with self._lock:
            self._replace()
