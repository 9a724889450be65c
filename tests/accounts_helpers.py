"""Accounts for tests of a server with a register (issue 23): such a server starts only with an
account, and every request must come from someone.

:func:`prepare` makes an account of the given role in a register and an API token for it;
:func:`log_in` logs a Playwright page in through the login page, as a person would.
"""

from __future__ import annotations

PASSWORD = "correct horse battery staple"

#: The API token of the account prepared for each server's base URL (set by the fixtures).
TOKENS: dict[str, str] = {}


def prepare(where: str, name: str = "测试员", role: str = "admin") -> str:
    """An account ``name`` of ``role`` (password :data:`PASSWORD`) in the register at ``where``,
    if it is not there yet; a new API token for it."""
    from engine.accounts import AccountError, Accounts
    from engine.register import open_register
    with open_register(where) as register:
        accounts = Accounts(register)
        try:
            accounts.add(name, role, PASSWORD)
        except AccountError:
            pass
        return accounts.issue_token(name)[1]


def log_in(page, base: str, name: str = "测试员", password: str = PASSWORD, lang: str = "en") -> None:
    """Log ``page`` in at ``base`` through the login page."""
    page.goto(f"{base}/login?lang={lang}")
    page.fill("#login-name", name)
    page.fill("#login-password", password)
    with page.expect_navigation():
        page.click("#login-submit")
