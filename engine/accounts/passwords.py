"""Passwords: hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second recommendation:
64 MiB of memory, 3 passes), checked in constant time, and what a password must be.

A login for a name with no account is checked against :data:`DUMMY_HASH`, so that it takes as
long as one for an account: the time of an answer does not tell whether the name exists.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from engine.errors import PolicyKBError

#: The shortest password accepted (NIST SP 800-63B asks for at least 8).
MIN_LENGTH = 10
MAX_LENGTH = 1024

_HASHER = PasswordHasher()
DUMMY_HASH = _HASHER.hash("policykb: no account has this password")


def check_new_password(password: str, name: str) -> None:
    """Refuse a password that is too short, too long or the account's name.

    Raises
    ------
    PolicyKBError
        Saying what a password must be.
    """
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise PolicyKBError(f"a password has at least {MIN_LENGTH} characters",
                            zh=f"密码至少需要 {MIN_LENGTH} 个字符")
    if len(password) > MAX_LENGTH:
        raise PolicyKBError(f"a password has at most {MAX_LENGTH} characters", zh=f"密码最多 {MAX_LENGTH} 个字符")
    if password.strip().casefold() == name.strip().casefold():
        raise PolicyKBError("a password cannot be the account's name", zh="密码不能与账户名相同")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` is the one ``stored`` hashes (None: checked against the dummy, False)."""
    try:
        return _HASHER.verify(stored or DUMMY_HASH, password[:MAX_LENGTH]) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with weaker parameters than today's."""
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True
