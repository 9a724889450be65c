"""The settings of one ``policykb serve``: the knowledge base, limits and where batch jobs live.

They are fixed when the server starts — no request can name a path or another knowledge base —
and reach every worker process through environment variables, because uvicorn starts its
workers by importing the app factory afresh in each process.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

#: The largest JSON body an API or page request may send (api.md: at most 5 MiB by default).
BODY_LIMIT = 5 * 1024 * 1024
#: The largest file a batch upload may be.
UPLOAD_LIMIT = 20 * 1024 * 1024
#: The longest one evaluation may take before its engine process is stopped and replaced.
CALL_TIMEOUT = 60.0
#: The process that reads an uploaded profile (the Evaluate page's import): its memory and time.
UPLOAD_MEMORY = 1024 ** 3
UPLOAD_SECONDS = 30.0
#: Batch jobs running at once (across every worker); later ones wait in a queue, their place shown.
MAX_JOBS = 2
#: Batch jobs waiting at most; an upload beyond them is refused with 503 until one ends.
MAX_QUEUED = 8
#: The longest a batch job may run, and the memory (address space) its process may use.
JOB_SECONDS = 3600
JOB_MEMORY = 2 * 1024 ** 3
#: The names a server on a loopback address answers to (the Host header; DNS rebinding).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

_ENV = {"kb": "POLICYKB_SERVE_KB", "data": "POLICYKB_SERVE_DATA", "body": "POLICYKB_SERVE_BODY_LIMIT",
        "upload": "POLICYKB_SERVE_UPLOAD_LIMIT", "faults": "POLICYKB_SERVE_TEST_FAULTS",
        "hosts": "POLICYKB_SERVE_HOSTS", "jobs": "POLICYKB_SERVE_MAX_JOBS", "queued": "POLICYKB_SERVE_MAX_QUEUED",
        "job_seconds": "POLICYKB_SERVE_JOB_SECONDS", "job_memory": "POLICYKB_SERVE_JOB_MEMORY",
        "register": "POLICYKB_SERVE_REGISTER", "accounts": "POLICYKB_SERVE_ACCOUNTS",
        "login_delay": "POLICYKB_SERVE_LOGIN_DELAY"}
#: How long a failed login waits before it is answered, in seconds (a guess costs time).
LOGIN_DELAY = 1.0


@dataclass(frozen=True)
class Settings:
    """What a server process needs to know, the same in every worker."""

    kb: str | None = None                  # a knowledge-base folder; None: the bundled one
    data_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "policykb-serve")
    body_limit: int = BODY_LIMIT
    upload_limit: int = UPLOAD_LIMIT
    call_timeout: float = CALL_TIMEOUT
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    max_jobs: int = MAX_JOBS
    max_queued: int = MAX_QUEUED
    job_seconds: float = JOB_SECONDS
    job_memory: int = JOB_MEMORY
    register: str | None = None            # the case register: a SQLite file or a postgresql:// URL
    accounts: bool = False                 # log in with the register's accounts (policykb serve: with a register)
    login_delay: float = LOGIN_DELAY
    # Tests only: lets a profile named "__policykb_crash_worker__" kill its engine process, to
    # check that the request fails with 500 and the process is replaced. Off unless set.
    test_faults: bool = False

    def to_environ(self) -> dict[str, str]:
        """These settings as environment variables for worker processes."""
        env = {_ENV["data"]: str(self.data_dir), _ENV["body"]: str(self.body_limit),
               _ENV["upload"]: str(self.upload_limit), _ENV["hosts"]: ",".join(self.allowed_hosts),
               _ENV["jobs"]: str(self.max_jobs), _ENV["queued"]: str(self.max_queued),
               _ENV["job_seconds"]: str(self.job_seconds), _ENV["job_memory"]: str(self.job_memory)}
        if self.kb:
            env[_ENV["kb"]] = self.kb
        if self.register:
            env[_ENV["register"]] = self.register
        if self.accounts:
            env[_ENV["accounts"]] = "1"
        env[_ENV["login_delay"]] = str(self.login_delay)
        if self.test_faults:
            env[_ENV["faults"]] = "1"
        return env

    @classmethod
    def from_environ(cls) -> "Settings":
        """The settings ``policykb serve`` put in the environment (defaults where it put none)."""
        env = os.environ
        default = cls()
        return cls(kb=env.get(_ENV["kb"]) or None,
                   data_dir=Path(env.get(_ENV["data"]) or default.data_dir),
                   body_limit=int(env.get(_ENV["body"]) or BODY_LIMIT),
                   upload_limit=int(env.get(_ENV["upload"]) or UPLOAD_LIMIT),
                   allowed_hosts=tuple(filter(None, (env.get(_ENV["hosts"]) or "").split(","))) or LOOPBACK_HOSTS,
                   max_jobs=int(env.get(_ENV["jobs"]) or MAX_JOBS),
                   max_queued=int(env.get(_ENV["queued"]) or MAX_QUEUED),
                   job_seconds=float(env.get(_ENV["job_seconds"]) or JOB_SECONDS),
                   job_memory=int(env.get(_ENV["job_memory"]) or JOB_MEMORY),
                   register=env.get(_ENV["register"]) or None, accounts=env.get(_ENV["accounts"]) == "1",
                   login_delay=float(env.get(_ENV["login_delay"]) or LOGIN_DELAY),
                   test_faults=env.get(_ENV["faults"]) == "1")
