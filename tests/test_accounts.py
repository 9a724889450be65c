"""The accounts of a shared workbench (engine/accounts), on SQLite and PostgreSQL: passwords,
sessions, tokens and failed logins, with a clock the tests move."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from engine.accounts import AccountError, Accounts, LoginRefused, allows
from engine.accounts.store import ACCOUNT_LIMIT, ADDRESS_LIMIT, LOCK, SESSION_LIFETIME, WINDOW
from engine.register import open_register
from engine.register.schema import accounts as accounts_table, sessions
from test_register import where  # noqa: F401 — the register's location on each back end

PASSWORD = "a long enough password"


class Clock:
    def __init__(self):
        self.now = dt.datetime(2026, 12, 3, 9, 0, 0)

    def __call__(self):
        return self.now


@pytest.fixture
def kept(where):
    clock = Clock()
    with open_register(where) as register:
        yield Accounts(register, clock=clock), clock, register


def test_a_password_is_kept_as_an_argon2id_hash_and_checked(kept):
    accounts, _, register = kept
    accounts.add("ana", "analyst", PASSWORD)
    with register.reading() as connection:
        stored = connection.execute(sa.select(accounts_table.c.password_hash)).scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    account, session = accounts.login("ana", PASSWORD, "10.0.0.1")
    assert account.role == "analyst" and accounts.session(session) == account
    with pytest.raises(LoginRefused) as refused:
        accounts.login("ana", PASSWORD + "!", "10.0.0.1")
    assert refused.value.retry_after is None and refused.value.text("zh") == "账户名或密码不正确"


def test_roles_are_in_order():
    assert allows("admin", "reviewer") and allows("reviewer", "analyst") and allows("analyst", "viewer")
    assert not allows("viewer", "analyst") and not allows(None, "viewer") and not allows("boss", "viewer")


def test_names_roles_and_passwords_are_checked(kept):
    accounts = kept[0]
    with pytest.raises(AccountError, match="not a role") as bad:
        accounts.add("ana", "analist", PASSWORD)
    assert bad.value.suggestion == "analyst"
    for name in ("", "two words", "x" * 65):
        with pytest.raises(AccountError, match="1 to 64 characters"):
            accounts.add(name, "viewer", PASSWORD)
    with pytest.raises(AccountError, match="cannot be the account's name"):
        accounts.add("longaccountname", "viewer", "LongAccountName")
    accounts.add("ana", "viewer", PASSWORD)
    with pytest.raises(AccountError, match="taken"):
        accounts.add("ana", "admin", PASSWORD)
    with pytest.raises(AccountError) as unknown:
        accounts.get("anna")
    assert unknown.value.suggestion == "ana"


def test_failures_lock_a_name_for_a_while_known_or_not(kept):
    accounts, clock, _ = kept
    accounts.add("ana", "analyst", PASSWORD)
    for name in ("ana", "nobody"):   # the same for a name with no account: a lock tells nothing
        for _ in range(ACCOUNT_LIMIT):
            with pytest.raises(LoginRefused) as refused:
                accounts.login(name, "wrong password", "10.0.0.2")
            assert refused.value.retry_after is None
        with pytest.raises(LoginRefused) as locked:
            accounts.login(name, PASSWORD, "10.0.0.3")
        assert 0 < locked.value.retry_after <= LOCK.total_seconds() + 1
    clock.now += LOCK + dt.timedelta(seconds=1)
    assert accounts.login("ana", PASSWORD, "10.0.0.3")[0].name == "ana"


def test_failures_spread_out_in_time_do_not_lock(kept):
    accounts, clock, _ = kept
    accounts.add("ana", "analyst", PASSWORD)
    for _ in range(3 * ACCOUNT_LIMIT):
        with pytest.raises(LoginRefused):
            accounts.login("ana", "wrong password", "10.0.0.4")
        clock.now += WINDOW / (ACCOUNT_LIMIT - 1)
    assert accounts.login("ana", PASSWORD, "10.0.0.4")[0].name == "ana"


def test_an_address_trying_many_names_is_locked(kept):
    accounts = kept[0]
    accounts.add("ana", "analyst", PASSWORD)
    for n in range(ADDRESS_LIMIT):
        with pytest.raises(LoginRefused):
            accounts.login(f"name{n}", "wrong password", "10.0.0.5")
    with pytest.raises(LoginRefused) as locked:
        accounts.login("ana", PASSWORD, "10.0.0.5")
    assert locked.value.retry_after
    assert accounts.login("ana", PASSWORD, "10.0.0.6")[0].name == "ana"   # from elsewhere: in


def test_a_session_ends_at_its_time_at_logout_and_when_the_account_changes(kept):
    accounts, clock, register = kept
    accounts.add("ana", "analyst", PASSWORD)
    _, first = accounts.login("ana", PASSWORD, "10.0.0.7")
    clock.now += SESSION_LIFETIME
    assert accounts.session(first) is None
    _, second = accounts.login("ana", PASSWORD, "10.0.0.7")
    accounts.logout(second)
    assert accounts.session(second) is None
    _, third = accounts.login("ana", PASSWORD, "10.0.0.7")
    accounts.set_role("ana", "viewer")
    assert accounts.session(third) is None
    _, fourth = accounts.login("ana", PASSWORD, "10.0.0.7")
    accounts.disable("ana")
    assert accounts.session(fourth) is None
    with pytest.raises(LoginRefused):
        accounts.login("ana", PASSWORD, "10.0.0.7")
    with register.reading() as connection:   # each change above ended the sessions there were
        assert connection.execute(sa.select(sa.func.count()).select_from(sessions)).scalar() == 0
    accounts.disable("ana", disabled=False)
    assert accounts.login("ana", PASSWORD, "10.0.0.7")[0].disabled is False


def test_a_signed_cookie_altered_is_refused(kept):
    accounts = kept[0]
    signed = accounts.sign("abc")
    assert accounts.unsigned(signed) == "abc"
    altered = signed[:-1] + ("0" if signed[-1] != "0" else "1")
    assert accounts.unsigned("abd" + signed[3:]) is None and accounts.unsigned(altered) is None
    assert accounts.unsigned("no-signature") is None and accounts.unsigned("") is None
    assert accounts.csrf_token("abc") != accounts.csrf_token("abd")


def test_tokens_work_until_revoked_and_not_for_a_disabled_account(kept):
    accounts = kept[0]
    accounts.add("bot", "viewer", PASSWORD)
    number, token = accounts.issue_token("bot")
    assert accounts.by_token(token).name == "bot" and accounts.by_token(token + "x") is None
    assert [t["revoked"] for t in accounts.tokens("bot")] == [False]
    accounts.disable("bot")
    assert accounts.by_token(token) is None
    accounts.disable("bot", disabled=False)
    accounts.revoke_token("bot", number)
    assert accounts.by_token(token) is None
    with pytest.raises(AccountError, match="no token 99"):
        accounts.revoke_token("bot", 99)
