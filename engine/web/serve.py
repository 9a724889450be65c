"""``policykb serve``: one command, no other service, the bundled knowledge base by default.

Listens on 127.0.0.1 unless told otherwise, prints the address, then runs uvicorn with
``--workers`` processes; each builds the app (:func:`engine.web.app.create_app`) and
its own engine process. Ctrl-C or SIGTERM stops them all cleanly.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path

from ..errors import InstallationError, ProfileError
from engine.inferring.evaluation import knowledge_base
from .settings import Settings


class _Stopped(Exception):
    """Ctrl-C or SIGTERM, after uvicorn has stopped its workers."""


def _stopped(signum, frame):
    raise _Stopped()


def serve(kb: str | None, host: str, port: int, workers: int, say=None) -> int:
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    if workers < 1:
        raise ProfileError(f"--workers must be 1 or more, not {workers}")
    if not 0 <= port <= 65535:
        raise ProfileError(f"--port must be between 0 and 65535, not {port}")
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise InstallationError(f"policykb serve needs {exc.name}: pip install 'policykb' again "
                                "(fastapi, uvicorn, jinja2 and python-multipart are its dependencies)") from None
    loaded = knowledge_base(Path(kb) if kb else None)   # a bad --kb fails here, with its file and line
    data_dir = Path(tempfile.mkdtemp(prefix="policykb-serve-"))
    settings = Settings(kb=str(Path(kb).resolve()) if kb else None, data_dir=data_dir,
                        test_faults=os.environ.get("POLICYKB_SERVE_TEST_FAULTS") == "1")
    os.environ.update(settings.to_environ())
    # Check the address first, to say plainly when it is taken (and which port 0 gave); uvicorn
    # then binds it itself (SO_REUSEADDR), which keeps its worker supervision as it is.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ProfileError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        port = probe.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    say(f"policykb serve: listening on http://{shown}:{port}/ — knowledge base {loaded.version}, "
        f"{workers} worker{'s' if workers > 1 else ''}; Ctrl-C stops it")
    # uvicorn stops gracefully on SIGINT/SIGTERM, then raises the signal again for the handler it
    # found: this one, so that the temporary folder is removed and the exit status is 0.
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        uvicorn.run("engine.web.app:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        shutil.rmtree(data_dir, ignore_errors=True)
    say("policykb serve: stopped")
    return 0
