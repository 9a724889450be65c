"""``policykb users``: the accounts of a shared workbench on the command line (engine/cli/users.py),
and ``policykb serve``'s refusals without them (engine/web/serve.py)."""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa

from engine.cli import main
from engine.register import open_register
from engine.register.schema import accounts as accounts_table, api_tokens

PASSWORD = "a long enough password"


@pytest.fixture
def register(tmp_path):
    return str(tmp_path / "r.sqlite3")


def _run(capsys, monkeypatch, *argv, stdin: str | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_role_disable_and_reset(capsys, monkeypatch, register):
    code, out, err = _run(capsys, monkeypatch, "users", "add", "王分析师", "--role", "analyst", "--register", register,
                          "--password-stdin", "--lang", "en", stdin=PASSWORD + "\n")
    assert code == 0, err
    assert out.strip() == "created account 王分析师 (analyst)"
    code, out, _ = _run(capsys, monkeypatch, "users", "list", "--register", register, "--format", "json")
    assert [(a["name"], a["role"], a["disabled"]) for a in json.loads(out)] == [("王分析师", "analyst", False)]
    assert _run(capsys, monkeypatch, "users", "role", "王分析师", "reviewer", "--register", register)[0] == 0
    assert _run(capsys, monkeypatch, "users", "disable", "王分析师", "--register", register)[0] == 0
    code, out, _ = _run(capsys, monkeypatch, "users", "list", "--register", register)
    assert out.strip() == "王分析师\t审核员（reviewer）\t（已停用）"
    code, _, err = _run(capsys, monkeypatch, "users", "reset-password", "王分析师", "--register", register,
                        "--password-stdin", stdin="another long password\n")
    assert code == 0, err
    with open_register(register) as opened, opened.reading() as connection:
        stored = connection.execute(sa.select(accounts_table.c.password_hash)).scalar()
    assert stored.startswith("$argon2id$") and "another" not in stored


def test_a_token_is_shown_once_and_kept_hashed(capsys, monkeypatch, register):
    _run(capsys, monkeypatch, "users", "add", "script", "--role", "viewer", "--register", register,
         "--password-stdin", stdin=PASSWORD)
    code, out, _ = _run(capsys, monkeypatch, "users", "token", "script", "--register", register, "--format", "json")
    made = json.loads(out)
    assert code == 0 and made["token"].startswith("pkb_") and len(made["token"]) > 40
    with open_register(register) as opened, opened.reading() as connection:
        kept = connection.execute(sa.select(api_tokens.c.token_sha256)).scalars().all()
    assert made["token"] not in kept and len(kept) == 1
    code, out, _ = _run(capsys, monkeypatch, "users", "token", "script", "--register", register, "--list", "--lang", "en")
    assert made["token"] not in out and out.startswith(f"{made['id']}\t")
    assert _run(capsys, monkeypatch, "users", "token", "script", "--register", register, "--revoke", str(made["id"]))[0] == 0
    code, out, _ = _run(capsys, monkeypatch, "users", "token", "script", "--register", register, "--list")
    assert out.strip().endswith("（已撤销）")


def test_mistakes_are_one_line_with_exit_2(capsys, monkeypatch, register):
    code, _, err = _run(capsys, monkeypatch, "users", "add", "x", "--role", "analyst", "--register", register,
                        "--password-stdin", "--lang", "en", stdin="short\n")
    assert code == 2 and err.count("\n") == 1 and err.strip().endswith("a password has at least 10 characters")
    _run(capsys, monkeypatch, "users", "add", "analyst-1", "--role", "analyst", "--register", register,
         "--password-stdin", stdin=PASSWORD)
    code, _, err = _run(capsys, monkeypatch, "users", "add", "analyst-1", "--role", "viewer", "--register", register,
                        "--password-stdin", "--lang", "en", stdin=PASSWORD)
    assert code == 2 and "the name 'analyst-1' is taken" in err
    code, _, err = _run(capsys, monkeypatch, "users", "disable", "analyst-2", "--register", register, "--lang", "en")
    assert code == 2 and "no account is named 'analyst-2'" in err and "analyst-1" in err and "Traceback" not in err
    # no terminal and no --password-stdin: says how, rather than waiting or reading an argument
    code, _, err = _run(capsys, monkeypatch, "users", "add", "y", "--role", "viewer", "--register", register,
                        "--lang", "en", stdin="")
    assert code == 2 and "--password-stdin" in err
    with pytest.raises(SystemExit) as refused:   # a password is never taken as an argument
        main(["users", "add", "z", "--role", "viewer", "--password", PASSWORD, "--register", register])
    assert refused.value.code == 2


def test_serve_with_a_register_needs_accounts(capsys, register):
    code = main(["serve", "--register", register, "--port", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "needs accounts" in err and "policykb users add" in err


def test_serve_on_another_address_without_accounts_is_refused(capsys):
    code = main(["serve", "--host", "0.0.0.0", "--port", "0"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "refusing to listen on 0.0.0.0 without accounts" in err
