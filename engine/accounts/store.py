"""The accounts of a shared workbench, their sessions and API tokens, kept in the register's
database (:mod:`engine.register.schema`: ``accounts``, ``sessions``, ``api_tokens``,
``login_failures``, ``secrets``).

- A **session** is a random 256-bit id. The register keeps only its sha256, with its expiry; the
  browser holds the id in a cookie signed with the register's session key (:meth:`Accounts.sign`),
  so a cookie that was altered is refused before the database is asked.
- An **API token** (``pkb_…``) is shown once when it is made; the register keeps its sha256.
- **Failed logins** are counted per account name (known or not, so that a lockout tells nothing
  of which names exist) and per address. :data:`ACCOUNT_LIMIT` failures for a name within
  :data:`WINDOW` lock that name for :data:`LOCK`; :data:`ADDRESS_LIMIT` lock the address. A locked
  login is refused at once, without checking the password, so a loop of wrong passwords costs the
  server next to nothing and other accounts' logins are not slowed.

Every change that ends what an account could do — disabled, a new password, a new role — ends its
sessions; a disabled account is refused at its next request (each request asks the database).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets as random
from dataclasses import dataclass

import sqlalchemy as sa

from engine.accounts.passwords import check_new_password, hash_password, verify_password
from engine.accounts.roles import ROLES
from engine.errors import PolicyKBError, nearest
from engine.register.schema import accounts, api_tokens, login_failures, secrets, sessions

ACCOUNT_LIMIT = 10
ADDRESS_LIMIT = 100
WINDOW = dt.timedelta(minutes=15)
LOCK = dt.timedelta(minutes=15)
#: How long a login lasts.
SESSION_LIFETIME = dt.timedelta(hours=8)
TOKEN_PREFIX = "pkb_"
NAME_LENGTH = 64


class AccountError(PolicyKBError):
    """An account cannot be made or changed as asked (a name taken or unknown, a role that is
    none, a password too short); nothing was changed."""


class LoginRefused(PolicyKBError):
    """A login that did not succeed. The message never says whether the name exists;
    ``retry_after`` (seconds) is set when the name or the address is locked."""

    def __init__(self, retry_after: int | None = None):
        if retry_after:
            minutes = max(1, -(-retry_after // 60))
            super().__init__(f"too many failed logins: try again in {minutes} minutes",
                             zh=f"登录失败次数过多：请 {minutes} 分钟后再试")
        else:
            super().__init__("the name or the password is wrong", zh="账户名或密码不正确")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str
    disabled: bool
    created_at: dt.datetime

    def to_dict(self) -> dict:
        return {"name": self.name, "role": self.role, "disabled": self.disabled,
                "created_at": self.created_at.isoformat(timespec="seconds") + "Z"}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _account(row) -> Account:
    return Account(id=row.id, name=row.name, role=row.role, disabled=bool(row.disabled), created_at=row.created_at)


class Accounts:
    """The accounts kept in ``register`` (:class:`engine.register.Register`).

    ``clock`` gives the time (UTC, without a zone); tests pass one to see a lock or a session end.
    """

    def __init__(self, register, clock=_utcnow):
        self.register, self.clock = register, clock
        self._key: bytes | None = None

    # ----------------------------------------------------------------------- the accounts

    def add(self, name: str, role: str, password: str) -> Account:
        """A new account.

        Raises
        ------
        AccountError
            For a name that is taken or is no name, a role that is none of :data:`ROLES`, or a
            password too short.
        """
        name = _checked_name(name)
        _checked_role(role)
        _password_rules(password, name)
        now = self.clock()
        with self.register.writing() as connection:
            if connection.execute(sa.select(accounts.c.id).where(accounts.c.name == name)).first():
                raise AccountError(f"the name '{name}' is taken", zh=f"账户名“{name}”已被使用")
            connection.execute(accounts.insert().values(name=name, role=role, password_hash=hash_password(password),
                                                        disabled=False, created_at=now, changed_at=now))
        return self.get(name)

    def get(self, name: str) -> Account:
        """The account ``name``.

        Raises
        ------
        AccountError
            When there is none, with the nearest name.
        """
        with self.register.reading() as connection:
            row = connection.execute(sa.select(accounts).where(accounts.c.name == name)).first()
            if row is None:
                known = connection.execute(sa.select(accounts.c.name)).scalars().all()
        if row is None:
            raise AccountError(f"no account is named '{name}'", zh=f"没有名为“{name}”的账户",
                               suggestion=nearest(name, known))
        return _account(row)

    def list(self) -> list[Account]:
        """Every account, by name."""
        with self.register.reading() as connection:
            return [_account(row) for row in connection.execute(sa.select(accounts).order_by(accounts.c.name))]

    def exist(self) -> bool:
        """Whether any account is enabled."""
        with self.register.reading() as connection:
            return connection.execute(sa.select(accounts.c.id).where(accounts.c.disabled.is_(False)).limit(1)).first() is not None

    def disable(self, name: str, disabled: bool = True) -> Account:
        """Disable the account (its sessions end; its tokens stop working), or enable it again."""
        return self._change(name, disabled=disabled)

    def set_role(self, name: str, role: str) -> Account:
        _checked_role(role)
        return self._change(name, role=role)

    def reset_password(self, name: str, password: str) -> Account:
        """A new password; the account's sessions end."""
        _password_rules(password, name)
        return self._change(name, password_hash=hash_password(password))

    def _change(self, name: str, **values) -> Account:
        account = self.get(name)
        with self.register.writing() as connection:
            connection.execute(accounts.update().where(accounts.c.id == account.id)
                               .values(changed_at=self.clock(), **values))
            connection.execute(sessions.delete().where(sessions.c.account_id == account.id))
        return self.get(name)

    # ----------------------------------------------------------------------- logging in

    def login(self, name: str, password: str, address: str) -> tuple[Account, str]:
        """Check a name and password from ``address``; the account and a new session id.

        Raises
        ------
        LoginRefused
            For a wrong name or password, a disabled account (the same message), or a name or
            address locked after too many failures (with ``retry_after``).
        """
        name = str(name or "").strip()[:NAME_LENGTH * 4]
        keys = (f"account:{name.casefold()}", f"address:{address}")
        now = self.clock()
        with self.register.reading() as connection:
            locks = connection.execute(sa.select(login_failures.c.locked_until)
                                       .where(login_failures.c.key.in_(keys))).scalars().all()
            row = connection.execute(sa.select(accounts).where(accounts.c.name == name)).first()
        waits = [int((until - now).total_seconds()) + 1 for until in locks if until is not None and until > now]
        if waits:
            raise LoginRefused(retry_after=max(waits))
        right = verify_password(row.password_hash if row is not None else None, str(password or ""))
        if not right or row.disabled:
            self._failed(keys, now)
            raise LoginRefused()
        session = random.token_urlsafe(32)
        with self.register.writing() as connection:
            connection.execute(login_failures.delete().where(login_failures.c.key == keys[0]))
            connection.execute(sessions.delete().where(sessions.c.expires_at <= now))
            connection.execute(sessions.insert().values(id_sha256=_sha256(session), account_id=row.id,
                                                        created_at=now, expires_at=now + SESSION_LIFETIME))
        return _account(row), session

    def _failed(self, keys: tuple[str, str], now: dt.datetime) -> None:
        with self.register.writing() as connection:
            # what no longer counts is forgotten, so that guessed names do not pile up
            connection.execute(login_failures.delete().where(
                login_failures.c.first_at <= now - WINDOW,
                sa.or_(login_failures.c.locked_until.is_(None), login_failures.c.locked_until <= now)))
            for key, limit in zip(keys, (ACCOUNT_LIMIT, ADDRESS_LIMIT)):
                row = connection.execute(sa.select(login_failures).where(login_failures.c.key == key)).first()
                if row is None or row.first_at <= now - WINDOW:
                    connection.execute(login_failures.delete().where(login_failures.c.key == key))
                    connection.execute(login_failures.insert().values(key=key, failures=1, first_at=now,
                                                                      locked_until=None))
                    continue
                failures = row.failures + 1
                connection.execute(login_failures.update().where(login_failures.c.key == key).values(
                    failures=failures, locked_until=now + LOCK if failures >= limit else row.locked_until))

    def session(self, session: str) -> Account | None:
        """The enabled account whose session ``session`` is, while it lasts; else None."""
        with self.register.reading() as connection:
            row = connection.execute(
                sa.select(accounts).join(sessions, sessions.c.account_id == accounts.c.id)
                .where(sessions.c.id_sha256 == _sha256(session), sessions.c.expires_at > self.clock(),
                       accounts.c.disabled.is_(False))).first()
        return None if row is None else _account(row)

    def logout(self, session: str) -> None:
        with self.register.writing() as connection:
            connection.execute(sessions.delete().where(sessions.c.id_sha256 == _sha256(session)))

    # ----------------------------------------------------------------------- signing the cookie

    def sign(self, session: str) -> str:
        """The cookie's value: the session id and its HMAC-SHA256 under the register's key."""
        return f"{session}.{hmac.new(self._session_key(), session.encode(), hashlib.sha256).hexdigest()}"

    def unsigned(self, cookie: str) -> str | None:
        """The session id of a cookie :meth:`sign` made, or None for one altered or forged."""
        session, _, mac = str(cookie).rpartition(".")
        if not session or len(session) > 100:
            return None
        right = hmac.new(self._session_key(), session.encode(), hashlib.sha256).hexdigest()
        return session if hmac.compare_digest(right, mac) else None

    def csrf_token(self, session: str) -> str:
        """The token a session's forms and requests carry (bound to the session, see docs/web.md)."""
        return hmac.new(self._session_key(), b"csrf:" + session.encode(), hashlib.sha256).hexdigest()

    def prepare(self) -> None:
        """Make the key that signs session cookies now, if the register has none yet
        (``policykb serve`` does it once, before its workers start and would race to)."""
        self._session_key()

    def _session_key(self) -> bytes:
        if self._key is None:
            with self.register.writing() as connection:
                value = connection.execute(sa.select(secrets.c.value).where(secrets.c.name == "session_key")).scalar()
                if value is None:
                    value = random.token_hex(32)
                    connection.execute(secrets.insert().values(name="session_key", value=value))
            self._key = bytes.fromhex(value)
        return self._key

    # ----------------------------------------------------------------------- API tokens

    def issue_token(self, name: str) -> tuple[int, str]:
        """A new API token for ``name``: its number and the token, which is not kept (shown once)."""
        account = self.get(name)
        token = TOKEN_PREFIX + random.token_urlsafe(32)
        with self.register.writing() as connection:
            number = connection.execute(api_tokens.insert().values(
                account_id=account.id, token_sha256=_sha256(token), created_at=self.clock(),
                revoked_at=None)).inserted_primary_key[0]
        return number, token

    def tokens(self, name: str) -> list[dict]:
        """The account's tokens: number, made, revoked (never the token)."""
        account = self.get(name)
        with self.register.reading() as connection:
            rows = connection.execute(sa.select(api_tokens).where(api_tokens.c.account_id == account.id)
                                      .order_by(api_tokens.c.id)).all()
        return [{"id": r.id, "created_at": r.created_at.isoformat(timespec="seconds") + "Z",
                 "revoked": r.revoked_at is not None} for r in rows]

    def revoke_token(self, name: str, number: int) -> None:
        """Revoke token ``number`` of ``name``.

        Raises
        ------
        AccountError
            When the account has no such token.
        """
        account = self.get(name)
        with self.register.writing() as connection:
            done = connection.execute(api_tokens.update().where(
                api_tokens.c.id == number, api_tokens.c.account_id == account.id).values(revoked_at=self.clock()))
        if not done.rowcount:
            raise AccountError(f"'{name}' has no token {number}", zh=f"“{name}”没有第 {number} 号令牌")

    def by_token(self, token: str) -> Account | None:
        """The enabled account a token (not revoked) belongs to, else None."""
        if not str(token).startswith(TOKEN_PREFIX) or len(token) > 100:
            return None
        with self.register.reading() as connection:
            row = connection.execute(
                sa.select(accounts).join(api_tokens, api_tokens.c.account_id == accounts.c.id)
                .where(api_tokens.c.token_sha256 == _sha256(token), api_tokens.c.revoked_at.is_(None),
                       accounts.c.disabled.is_(False))).first()
        return None if row is None else _account(row)


def _checked_name(name) -> str:
    name = str(name or "").strip()
    if not name or len(name) > NAME_LENGTH or any(not ch.isprintable() or ch.isspace() for ch in name):
        raise AccountError(f"an account's name is 1 to {NAME_LENGTH} characters, without spaces",
                           zh=f"账户名为 1 至 {NAME_LENGTH} 个字符，不含空格")
    return name


def _checked_role(role) -> None:
    if role not in ROLES:
        raise AccountError(f"'{role}' is not a role; the roles are {', '.join(ROLES)}",
                           zh=f"“{role}”不是角色；角色有 {', '.join(ROLES)}", suggestion=nearest(str(role), ROLES),
                           allowed=ROLES)


def _password_rules(password: str, name: str) -> None:
    try:
        check_new_password(password, name)
    except PolicyKBError as exc:
        raise AccountError(exc.message, zh=exc.zh) from None
