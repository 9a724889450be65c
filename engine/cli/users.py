"""``policykb users``: the accounts of a shared workbench (docs/web.md, "A team's workbench").

``add NAME --role ROLE``, ``list``, ``disable NAME`` (``--enable`` to undo), ``role NAME ROLE``,
``reset-password NAME``, ``token NAME`` (a new API token, shown once; ``--revoke N``, ``--list``)
— each with ``--register`` (the accounts live in the register's database). A password is asked
for twice at the terminal, or read from standard input with ``--password-stdin`` (its first
line), never taken as an argument: arguments are seen by every user of the machine (``ps``).
"""

from __future__ import annotations

import getpass
import json
import sys

from engine.accounts.roles import ROLES, role_label
from engine.errors import PolicyKBError

WORDS = {
    "zh": {"added": "已创建账户 {name}（{role}）", "disabled": "账户 {name} 已停用，其登录已全部结束",
           "enabled": "账户 {name} 已重新启用", "role": "账户 {name} 的角色现为 {role}，其登录已全部结束",
           "reset": "账户 {name} 的密码已更改，其登录已全部结束", "none": "（没有账户）", "off": "（已停用）",
           "token": "账户 {name} 的第 {id} 号 API 令牌（只显示这一次，请立即保存）：",
           "revoked": "账户 {name} 的第 {id} 号令牌已撤销", "no_tokens": "（没有令牌）", "revoked_mark": "（已撤销）",
           "prompt": "账户 {name} 的新密码：", "again": "再输入一次：", "differ": "两次输入的密码不一致",
           "no_tty": "没有终端可以输入密码：请用 --password-stdin 从标准输入读取"},
    "en": {"added": "created account {name} ({role})", "disabled": "account {name} is disabled; its logins have ended",
           "enabled": "account {name} is enabled again", "role": "account {name} is now {role}; its logins have ended",
           "reset": "account {name} has a new password; its logins have ended", "none": "(no accounts)",
           "off": "(disabled)", "token": "API token {id} of {name} (shown this once: keep it now):",
           "revoked": "token {id} of {name} is revoked", "no_tokens": "(no tokens)", "revoked_mark": "(revoked)",
           "prompt": "new password for {name}: ", "again": "again: ", "differ": "the two passwords differ",
           "no_tty": "there is no terminal to type a password at: read it from standard input with --password-stdin"},
}


def add_parser(sub, common) -> None:
    """The ``users`` command and its subcommands, on ``sub`` (the top-level subparsers)."""
    users = sub.add_parser("users", help="the accounts of a shared workbench: roles, passwords, API tokens "
                                         "(docs/web.md)")
    verbs = users.add_subparsers(dest="verb", required=True, parser_class=type(users))

    def verb(name, help_text, named=True):
        p = verbs.add_parser(name, help=help_text)
        if named:
            p.add_argument("name", help="the account's name")
        p.add_argument("--register", metavar="PATH|URL",
                       help="the register whose accounts these are (default: $POLICYKB_REGISTER, else "
                            "register.sqlite3 in the user's data folder)")
        p.add_argument("--format", choices=("text", "json"), default="text")
        p.add_argument("--lang", choices=("zh", "en"), default="zh")
        common(p)
        return p

    p = verb("add", "create an account")
    p.add_argument("--role", required=True, choices=ROLES, help="viewer, analyst, reviewer or admin")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    verb("list", "every account, its role, and whether it is disabled", named=False)
    p = verb("disable", "disable an account: its logins end, its tokens stop working")
    p.add_argument("--enable", action="store_true", help="enable it again")
    p = verb("role", "give an account another role")
    p.add_argument("role", choices=ROLES)
    p = verb("reset-password", "set a new password (the account's logins end)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p = verb("token", "make an API token for scripts (Authorization: Bearer), shown once")
    p.add_argument("--revoke", type=int, metavar="N", help="revoke token N instead")
    p.add_argument("--list", action="store_true", help="list the account's tokens instead (never the tokens)")


def run(args) -> int:
    """Run ``policykb users <verb>``."""
    from engine.accounts import Accounts
    from engine.register import open_register
    words = WORDS[args.lang]
    with open_register(args.register) as register:
        return _VERBS[args.verb](Accounts(register), args, words)


def _password(args, words) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise PolicyKBError(WORDS["en"]["no_tty"], zh=WORDS["zh"]["no_tty"])
    first = getpass.getpass(words["prompt"].format(name=args.name))
    if getpass.getpass(words["again"]) != first:
        raise PolicyKBError(WORDS["en"]["differ"], zh=WORDS["zh"]["differ"])
    return first


def _say(args, data, text: str) -> int:
    if args.format == "json":
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(text + "\n")
    return 0


def _add(accounts, args, words) -> int:
    account = accounts.add(args.name, args.role, _password(args, words))
    return _say(args, account.to_dict(), words["added"].format(name=account.name, role=role_label(account.role, args.lang)))


def _list(accounts, args, words) -> int:
    found = accounts.list()
    lines = [f"{a.name}\t{role_label(a.role, args.lang)}" + (f"\t{words['off']}" if a.disabled else "") for a in found]
    return _say(args, [a.to_dict() for a in found], "\n".join(lines) or words["none"])


def _disable(accounts, args, words) -> int:
    account = accounts.disable(args.name, disabled=not args.enable)
    return _say(args, account.to_dict(), words["enabled" if args.enable else "disabled"].format(name=account.name))


def _role(accounts, args, words) -> int:
    account = accounts.set_role(args.name, args.role)
    return _say(args, account.to_dict(), words["role"].format(name=account.name, role=role_label(account.role, args.lang)))


def _reset(accounts, args, words) -> int:
    account = accounts.reset_password(args.name, _password(args, words))
    return _say(args, account.to_dict(), words["reset"].format(name=account.name))


def _token(accounts, args, words) -> int:
    if args.list:
        found = accounts.tokens(args.name)
        lines = [f"{t['id']}\t{t['created_at']}" + (f"\t{words['revoked_mark']}" if t["revoked"] else "") for t in found]
        return _say(args, found, "\n".join(lines) or words["no_tokens"])
    if args.revoke is not None:
        accounts.revoke_token(args.name, args.revoke)
        return _say(args, {"id": args.revoke, "revoked": True}, words["revoked"].format(name=args.name, id=args.revoke))
    number, token = accounts.issue_token(args.name)
    return _say(args, {"id": number, "token": token}, words["token"].format(name=args.name, id=number) + "\n" + token)


_VERBS = {"add": _add, "list": _list, "disable": _disable, "role": _role, "reset-password": _reset, "token": _token}
