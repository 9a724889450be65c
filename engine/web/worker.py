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
import logging
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger("policykb.serve")


class WorkerDied(Exception):
    """The engine process stopped while serving the call (it has been replaced)."""


class WorkerTimeout(Exception):
    """The call took longer than the limit; the engine process was stopped and replaced."""


class WorkerOutOfMemory(Exception):
    """The call needed more memory than the process may use (it goes on serving)."""


class RemoteError(Exception):
    """A :class:`~engine.errors.PolicyKBError` raised in the engine process."""

    def __init__(self, kind: str, fields: dict, text: str):
        super().__init__(text)
        self.kind, self.fields, self.text = kind, fields, text

    def words(self, lang: str) -> str:
        """The message in ``lang`` (the Chinese one where the engine wrote it)."""
        return (self.fields.get("zh_text") or self.text) if lang == "zh" else self.text


def _child_main(conn, kb_path: str | None, faults: bool, memory: int | None = None, warm: bool = True) -> None:
    """The engine process: load the knowledge base once, then answer calls until the pipe closes."""
    # Ctrl-C reaches the whole process group; the server stops this process itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if memory:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    from ..errors import PolicyKBError
    from engine.inferring.evaluation import knowledge_base
    from . import operations
    try:
        kb = knowledge_base(kb_path)
        if warm:
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
            answer = ("error", type(exc).__name__, dict(exc.to_dict(), zh_text=_without_file(exc, "zh")),
                      _without_file(exc))
        except MemoryError:
            answer = ("memory", "the request needed more memory than the limit of this process")
        except Exception as exc:  # noqa: BLE001 — reported to the caller as a 500, never a traceback
            answer = ("internal", str(exc) or "an unexpected error")
        try:
            conn.send(answer)
        except (EOFError, OSError):
            return


def _asks_to_crash(kwargs: dict) -> bool:
    profiles = [kwargs.get("profile")] + [c.get("profile") for c in kwargs.get("cases") or [] if isinstance(c, dict)]
    return any(isinstance(p, dict) and p.get("name") == "__policykb_crash_worker__" for p in profiles)


def _without_file(exc, lang: str = "en") -> str:
    """The message the command line would print, without the file name (a request has none)."""
    file, line, column = exc.file, exc.line, exc.column
    exc.file = exc.line = exc.column = None
    try:
        return exc.text(lang)
    finally:
        exc.file, exc.line, exc.column = file, line, column


class EngineProcess:
    """One engine process and the single thread that talks to it.

    :meth:`call` is awaited from request handlers; calls queue on the one thread, so the engine
    process serves them strictly one after another.
    """

    def __init__(self, kb_path: str | None, timeout: float, faults: bool = False, memory: int | None = None,
                 warm: bool = True, name: str = "policykb-engine"):
        """``memory``: a cap on the process's address space (uploads are parsed in one so capped);
        ``warm``: compile the rules at start (not needed by a process that only reads uploads)."""
        self.kb_path, self.timeout, self.faults = kb_path, timeout, faults
        self.memory, self.warm, self.name = memory, warm, name
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
        process = self._context.Process(target=_child_main,
                                        args=(child, self.kb_path, self.faults, self.memory, self.warm),
                                        name=self.name, daemon=True)
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

    def _replace(self, reason: str = "it stopped") -> None:
        self._stop()
        self.restarts += 1
        log.warning("policykb serve: engine process restarted (%s; %d restart%s in this worker)",
                    reason, self.restarts, "" if self.restarts == 1 else "s")
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
            if self._process is None and self.restarts == 0 and self.version is None:
                await self._in_thread(self.start)   # a process started on first use
            elif self._process is None or not self._process.is_alive():
                # It died between calls (killed from outside): this call has not been sent yet,
                # so it is served by the replacement.
                await self._in_thread(lambda: self._replace_locked("it was found stopped between two calls"))
            loop = asyncio.get_running_loop()
            conn = self._conn
            ready = loop.create_future()
            fd = conn.fileno()
            try:
                try:
                    # Some event loops (uvloop) leave a descriptor they watched non-blocking: a
                    # message larger than the socket's buffer (a request of 350 KB) would then fail
                    # with EAGAIN half-sent. The call is sent whole, blocking — the engine process
                    # is idle and reading — and only then is the answer watched for.
                    os.set_blocking(fd, True)
                    conn.send((op, kwargs))
                    loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
                    await asyncio.wait_for(ready, self.timeout)
                    # The rest of a long answer (a report) must be waited for, not refused with EAGAIN.
                    os.set_blocking(fd, True)
                    answer = conn.recv()
                except asyncio.TimeoutError:
                    loop.remove_reader(fd)
                    self._process.kill()
                    await self._in_thread(lambda: self._replace_locked(f"a call took longer than {self.timeout:g} s"))
                    raise WorkerTimeout(f"the evaluation took longer than {self.timeout:g} s and was stopped") from None
                except (EOFError, OSError) as exc:
                    loop.remove_reader(fd)
                    reason = "it stopped while serving a call" if isinstance(exc, EOFError) else \
                        f"its pipe failed: {exc.strerror or 'closed'}"
                    await self._in_thread(lambda: self._replace_locked(reason))
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
        if answer[0] == "memory":
            raise WorkerOutOfMemory(answer[1])
        raise RuntimeError(answer[1])

    async def _in_thread(self, function) -> None:
        # Starting an engine process takes a second or two: not on the event loop.
        await asyncio.get_running_loop().run_in_executor(self._executor, function)

    def _replace_locked(self, reason: str) -> None:
        with self._lock:
            self._replace(reason)
