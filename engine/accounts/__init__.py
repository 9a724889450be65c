"""Accounts of a shared workbench (issue 23; docs/web.md, "A team's workbench"): who may do what.

- :mod:`engine.accounts.roles` — the four roles, each able to do what the one before it can and
  more: *viewer* (read cases and records, evaluate), *analyst* (add and edit cases, record
  decisions, batch), *reviewer* (also mark a decision reviewed), *admin* (also the accounts);
- :mod:`engine.accounts.passwords` — Argon2id hashes (argon2-cffi) and what a password must be;
- :mod:`engine.accounts.store` — :class:`Accounts`: the accounts, their login sessions and API
  tokens, and failed logins counted per account name and per address, kept in the register's
  database (their tables are the register's migrations).

Nothing here knows HTTP: :mod:`engine.web` reads the cookie or the ``Authorization`` header and
asks :class:`Accounts` who it is.
"""

from engine.accounts.roles import ROLES, allows
from engine.accounts.store import Account, AccountError, Accounts, LoginRefused

__all__ = ["Account", "AccountError", "Accounts", "LoginRefused", "ROLES", "allows"]
