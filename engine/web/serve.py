"""``policykb serve``: one command, no other service, the bundled knowledge base by default.

Listens on 127.0.0.1 unless told otherwise, prints the address, then runs uvicorn with
``--workers`` processes; each builds the app (:func:`engine.web.app.create_app`) and
its own engine process. Ctrl-C or SIGTERM stops them all cleanly: running batch jobs are
cancelled (and say so), then the data folder is removed.

The data folder (``policykb-serve-*`` in the temporary folder) holds the uploads and results of
batch jobs. The server holds a lock on it for its life; at start, folders of servers that are no
longer running (a crash, ``kill -9``) are removed, so that no enterprise's data is left behind.
The workers watch the master: if it is killed, they stop too, and the port is free again.
"""

from __future__ import annotations

import fcntl
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


#: The environment variable telling a uvicorn worker the master's process id (to watch it).
MASTER_PID = "POLICYKB_SERVE_MASTER_PID"
_PREFIX = "policykb-serve-"
_LOCK = ".serve.lock"
_ANY_ADDRESS = ("0.0.0.0", "::", "")


def serve(kb: str | None, host: str, port: int, workers: int, say=None, allow_hosts: tuple[str, ...] = (),
          max_jobs: int | None = None, register: str | None = None) -> int:
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
    if max_jobs is not None and max_jobs < 1:
        raise ProfileError(f"--max-jobs must be 1 or more, not {max_jobs}")
    loaded = knowledge_base(Path(kb) if kb else None)   # a bad --kb fails here, with its file and line
    if register:   # a register that cannot be opened fails here, in one line, before the port is taken
        _require_accounts(register)
        register = register if "://" in register else str(Path(register).resolve())
    elif not is_loopback(host):
        raise ProfileError(f"refusing to listen on {host} without accounts: anyone who reaches it could use it; "
                           "listen on 127.0.0.1, or keep a register with accounts (--register, docs/web.md)",
                           zh=f"拒绝在 {host} 上无账户地提供服务：任何能访问它的人都能使用；请监听 127.0.0.1，"
                              "或使用带账户的案件登记簿（--register，见 docs/web.md）")
    removed = remove_stale_folders()
    if removed:
        say(f"policykb serve: removed {removed} data folder{'s' if removed > 1 else ''} left by servers that stopped "
            "without cleaning up")
    data_dir = Path(tempfile.mkdtemp(prefix=_PREFIX))
    lock = os.open(data_dir / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    settings = Settings(kb=str(Path(kb).resolve()) if kb else None, data_dir=data_dir,
                        allowed_hosts=served_names(host, allow_hosts),
                        **({"max_jobs": max_jobs} if max_jobs else {}), register=register, accounts=bool(register),
                        test_faults=os.environ.get("POLICYKB_SERVE_TEST_FAULTS") == "1")
    os.environ.update(settings.to_environ())
    os.environ[MASTER_PID] = str(os.getpid())
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
                    log_level="warning", access_log=False, timeout_graceful_shutdown=5,
                    http="engine.web.protocol:GuardedHttpProtocol")
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        from .job_control import stop_all
        stop_all(data_dir)   # jobs that outlived their worker: cancelled, not cut off mid-write
        shutil.rmtree(data_dir, ignore_errors=True)
        os.close(lock)
    say("policykb serve: stopped")
    return 0


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) is this machine only."""
    import ipaddress
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _require_accounts(register: str) -> None:
    """A server with a register holds enterprise data: it starts only when someone can log in."""
    from engine.accounts import Accounts
    from engine.register import open_register
    with open_register(register) as opened:
        accounts = Accounts(opened)
        accounts.prepare()
        if not accounts.exist():
            raise ProfileError("a server with a register needs accounts, and this register has none: create one with "
                               "policykb users add NAME --role admin --register ...",
                               zh="带案件登记簿的服务需要账户，而该登记簿还没有账户：请先用 "
                                  "policykb users add 名称 --role admin --register ... 创建一个")


def served_names(host: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The names a ``Host`` header may carry: loopback names, the address listened on, and on
    every address (``0.0.0.0``) this machine's names; plus ``--allow-host`` (``*``: any)."""
    names = ["127.0.0.1", "localhost", "::1"]
    if host not in _ANY_ADDRESS:
        names.append(host)
    else:
        names += [socket.gethostname(), socket.getfqdn()]
        try:
            names += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)]
        except OSError:
            pass
    names += list(extra)
    return tuple(dict.fromkeys(n.lower().strip("[]") for n in names if n))


def remove_stale_folders(parent: Path | None = None) -> int:
    """Remove the data folders of servers that are no longer running (nobody holds their lock);
    how many were removed. A folder without a lock (an older version) goes once it is an hour old."""
    import time
    parent = parent or Path(tempfile.gettempdir())
    removed = 0
    for folder in parent.glob(_PREFIX + "*"):
        if not folder.is_dir() or folder.is_symlink():
            continue
        lock_path = folder / _LOCK
        if lock_path.exists():
            try:
                fd = os.open(lock_path, os.O_RDWR)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue   # a running server's
            os.close(fd)
        elif time.time() - folder.stat().st_mtime < 3600:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed
