"""The case register (issue 22): saved cases, their edits, and a tamper-evident chain of decision
records, on SQLite (a file, the default) or PostgreSQL (a shared server), by SQLAlchemy with
Alembic migrations.

- :func:`open_register` — open or create a register at a path or URL (default: :func:`default_location`);
- :class:`Register` — add, find, list, edit, record, verify, erase, export (``engine.register.store``);
- :class:`Case`, :class:`ProfileEdit`, :class:`Record`, :class:`Verification` — plain data it returns;
- :class:`RegisterError`, :class:`ConflictError` (optimistic locking), :class:`CaseNotFound`.

The register sits above authoring and screening (its replay uses them) and below the web app and
the command line, which build on it. docs/register.md describes the record, the chain and erasure.
"""

from engine.register.data import Case, ProfileEdit, Record, Verification
from engine.register.errors import CaseNotFound, ConflictError, RegisterError
from engine.register.schema import default_location
from engine.register.store import Register, open_register

__all__ = ["open_register", "default_location", "Register", "Case", "ProfileEdit", "Record", "Verification",
           "RegisterError", "ConflictError", "CaseNotFound"]
