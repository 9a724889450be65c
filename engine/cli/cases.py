"""``policykb cases``: the case register on the command line (docs/register.md).

``add PROFILE``, ``import FILE``, ``list``, ``show CASE``, ``edit CASE PROFILE``, ``record CASE``,
``verify``, ``replay --kb NEW``, ``erase CASE``, ``export --out FILE`` — each with ``--register``
(a file, or a ``postgresql://`` URL; default :func:`engine.register.default_location`) and
``--format text|json``. A case is named by its number or its exact name. Who did it is the
operating-system user unless ``--by`` says otherwise.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

from engine.errors import ProfileError
from engine.loading.yamlio import plain

WORDS = {
    "zh": {"added": "已保存案例 {id}：{name}", "edited": "案例 {id} 已改为第 {version} 版",
           "recorded": "已记录决定 {seq}（案例 {id}，知识库 {kb}）", "imported": "已从 {file} 导入 {n} 个案例",
           "skipped": "第 {row} 行未导入：{why}", "verified": "记录链完好：共 {n} 条记录",
           "broken": "记录链已被改动：{problem}", "erased": "案例 {id} 的企业信息已删除（哈希保留，记录链仍可验证）",
           "exported": "已导出 {n} 行到 {file}", "none": "（没有案例）", "unnamed": "（未命名）",
           "erased_mark": "（已删除）", "records": "决定记录", "edits": "修改记录", "no_records": "（尚无决定记录）",
           "confirm": "删除案例 {id} 的企业信息，不可恢复：请加 --yes 确认"},
    "en": {"added": "saved case {id}: {name}", "edited": "case {id} is now version {version}",
           "recorded": "recorded decision {seq} (case {id}, knowledge base {kb})", "imported": "imported {n} cases from {file}",
           "skipped": "row {row} not imported: {why}", "verified": "the chain of records is intact: {n} records",
           "broken": "the chain of records was altered: {problem}",
           "erased": "the enterprise data of case {id} is erased (its hashes stay; the chain still verifies)",
           "exported": "exported {n} rows to {file}", "none": "(no cases)", "unnamed": "(unnamed)",
           "erased_mark": "(erased)", "records": "Decision records", "edits": "Edits", "no_records": "(no decision yet)",
           "confirm": "erasing case {id}'s enterprise data cannot be undone: add --yes to confirm"},
}


def add_parser(sub, common) -> None:
    """The ``cases`` command and its subcommands, on ``sub`` (the top-level subparsers)."""
    cases = sub.add_parser("cases", help="the case register: saved cases and a tamper-evident record of decisions "
                                         "(docs/register.md)")
    verbs = cases.add_subparsers(dest="verb", required=True, parser_class=type(cases))

    def verb(name, help_text):
        p = verbs.add_parser(name, help=help_text)
        p.add_argument("--register", metavar="PATH|URL",
                       help="the register: a SQLite file or a postgresql:// URL (default: $POLICYKB_REGISTER, "
                            "else register.sqlite3 in the user's data folder: $XDG_DATA_HOME/policykb, "
                            "~/.local/share/policykb)")
        p.add_argument("--format", choices=("text", "json"), default="text")
        p.add_argument("--lang", choices=("zh", "en"), default="zh")
        p.add_argument("--by", metavar="NAME", help="who does this (default: this computer's user name)")
        return p

    p = verb("add", "save a profile as a new case")
    p.add_argument("profile", help="profile file (.yaml, .yml or .json)")
    p.add_argument("--name", help="the case's name (default: the profile's name)")
    p.add_argument("--notes", default="", help="notes kept with the case")
    common(p)
    p = verb("import", "save every row of a CSV, XLSX or JSON Lines file (as `policykb batch` reads it) as a case")
    p.add_argument("file")
    common(p)
    p = verb("list", "list the cases, newest change first")
    p.add_argument("--search", metavar="TEXT", help="cases whose name holds TEXT")
    p.add_argument("--benefit", metavar="ID", help="cases whose latest decision has this benefit …")
    p.add_argument("--status", choices=("granted", "denied", "undetermined", "superseded"), help="… with this status")
    p.add_argument("--since", metavar="DATE", help="changed on or after DATE")
    p.add_argument("--until", metavar="DATE", help="changed on or before DATE")
    p = verb("show", "a case: its facts, its edits and its decision records")
    p.add_argument("case", help="the case's number or exact name")
    p = verb("edit", "replace a case's profile (the old one is kept)")
    p.add_argument("case")
    p.add_argument("profile")
    p.add_argument("--version", type=int, metavar="N",
                   help="the version you edited (refused if someone changed it since; default: the current one)")
    p.add_argument("--note", default="", help="why it was changed")
    common(p)
    p = verb("record", "evaluate a case now and record the decision")
    p.add_argument("case")
    p.add_argument("--note", default="", help="why it is recorded (kept in the record)")
    p.add_argument("--as-of", metavar="DATE", help="judge the case at this date")
    common(p)
    verb("verify", "recompute the chain of records and name the first that was altered, removed or reordered")
    p = verb("replay", "re-evaluate the saved cases under another knowledge base or date; the records are untouched")
    p.add_argument("--kb", required=True, metavar="DIR", help="the knowledge base to replay under")
    p.add_argument("--old-kb", metavar="DIR", help="the knowledge base the decisions were recorded under, "
                                                   "to name the rule changes responsible")
    p.add_argument("--as-of", metavar="DATE", help="judge every case at this date")
    p.add_argument("--case", action="append", dest="cases", metavar="CASE", help="only this case (repeatable)")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="evaluate in N processes (the same report)")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local processes, or Dask for a large register (pip install 'policykb[dask]')")
    p.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler to use instead of a local cluster "
                                                          "(its workers must reach the register)")
    p.add_argument("--out", metavar="FILE", help="also write the report as FILE.html or FILE.xlsx")
    p = verb("erase", "erase a case's enterprise data on request (its hashes stay, the chain still verifies)")
    p.add_argument("case")
    p.add_argument("--reason", default="", help="why (kept)")
    p.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    p = verb("export", "write every case and record to a file (.xlsx, .csv or .jsonl; formula-safe)")
    p.add_argument("--out", required=True, metavar="FILE")


def run(args) -> int:
    """Run ``policykb cases <verb>``."""
    from engine.register import open_register
    with open_register(args.register) as register:
        return _VERBS[args.verb](register, args, WORDS[args.lang])


def _by(args) -> str:
    if args.by:
        return args.by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _kb(args):
    from engine.inferring.evaluation import knowledge_base
    return knowledge_base(getattr(args, "kb", None))


def _profile(path: str, kb) -> dict:
    """A profile file as written (what the case keeps), checked first: a bad profile is not saved."""
    from engine.loading.profile import read_profile
    from engine.loading.yamlio import load_file
    read_profile(path, kb)
    return plain(load_file(Path(path), ProfileError))


def _emit(args, data, text: str) -> None:
    if args.format == "json":
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _add(register, args, words) -> int:
    kb = _kb(args)
    profile = _profile(args.profile, kb)
    case = register.add_case(args.name or profile.get("name"), profile, notes=args.notes, by=_by(args))
    _emit(args, case.to_dict(), words["added"].format(id=case.id, name=case.name or words["unnamed"]))
    return 0


def _import(register, args, words) -> int:
    from engine.loading.profile import parse_profile
    from engine.screening.parsing import parse_row
    from engine.screening.rows import read_rows
    kb = _kb(args)
    ready, skipped = [], []
    for row in read_rows(Path(args.file), kb):
        parsed = parse_row(kb, row)
        why = (parsed.error_zh if args.lang == "zh" and parsed.error_zh else parsed.error) \
            if parsed.error is not None or parsed.data is None else None
        if why is None:
            try:   # every value checked, as `add` checks a profile file: a bad row is not saved
                parse_profile(parsed.data, kb)
            except ProfileError as exc:
                why = exc.text(args.lang)
        if why is not None:
            skipped.append({"row": row.number, "why": why})
            continue
        data = plain(parsed.data)
        ready.append((data.get("name"), data))
    added = register.add_cases(ready, by=_by(args))   # one transaction: the whole file or nothing
    lines = [words["skipped"].format(**s) for s in skipped]
    lines.append(words["imported"].format(n=len(added), file=args.file))
    _emit(args, {"added": added, "skipped": skipped}, "\n".join(lines))
    return 0


def _date(text, option: str):
    from engine.loading.values import ValueProblem, parse_date
    if not text:
        return None
    try:
        return parse_date(text)
    except ValueProblem as exc:
        raise ProfileError(f"{option}: {exc}", zh=f"{option}：{exc.zh or exc}") from None


def _list(register, args, words) -> int:
    found = register.cases(search=args.search, benefit=args.benefit, status=args.status,
                           since=_date(args.since, "--since"), until=_date(args.until, "--until"))
    lines = [f"{c.id:>5}  v{c.version:<3} {c.updated_at:%Y-%m-%d %H:%M}  {c.name or words['unnamed']}" for c in found]
    _emit(args, [c.to_dict() for c in found], "\n".join(lines) or words["none"])
    return 0


def _show(register, args, words) -> int:
    case = register.case(args.case)
    edits, records = register.edits(case.id), register.records(case.id)
    lines = [f"{case.id}  {case.name or words['unnamed']}{' ' + words['erased_mark'] if case.erased else ''}"
             f"  v{case.version}"]
    if case.notes:
        lines.append(case.notes)
    for key, value in (case.profile or {}).items():
        lines.append(f"  {key}: {json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value}")
    lines.append(words["edits"] + ":")
    lines += [f"  v{e.version}  {e.edited_at:%Y-%m-%d %H:%M}  {e.edited_by}  {e.note}" for e in edits]
    lines.append(words["records"] + ":")
    lines += [f"  #{r.seq}  {r.recorded_at:%Y-%m-%d %H:%M}  {r.recorded_by}  kb {r.kb_hash}  {r.note}"
              for r in records] or ["  " + words["no_records"]]
    _emit(args, {"case": case.to_dict(), "edits": [e.to_dict() for e in edits],
                 "records": [r.to_dict() for r in records]}, "\n".join(lines))
    return 0


def _edit(register, args, words) -> int:
    kb = _kb(args)
    profile = _profile(args.profile, kb)
    case = register.case(args.case)
    version = args.version if args.version is not None else case.version
    edited = register.edit_case(case.id, profile, version, by=_by(args), note=args.note)
    _emit(args, edited.to_dict(), words["edited"].format(id=edited.id, version=edited.version))
    return 0


def _record(register, args, words) -> int:
    kb = _kb(args)
    record = register.record_evaluation(args.case, kb, as_of=_date(args.as_of, "--as-of"), by=_by(args),
                                        note=args.note)
    _emit(args, record.to_dict(), words["recorded"].format(seq=record.seq, id=record.case_id, kb=record.kb_hash))
    return 0


def _verify(register, args, words) -> int:
    result = register.verify()
    text = words["verified"].format(n=result.checked) if result.ok else words["broken"].format(problem=result.problem)
    _emit(args, result.to_dict() if hasattr(result, "to_dict") else vars(result), text)
    return 0 if result.ok else 1


def _replay(register, args, words) -> int:
    from engine.inferring.evaluation import knowledge_base
    from engine.register.replay import replay
    if args.workers < 1:
        raise ProfileError(f"--workers must be 1 or more, not {args.workers}",
                           zh=f"--workers 须为 1 或更大，不能是 {args.workers}")
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".xlsx", ".html", ".htm"):   # said before the work
        raise ProfileError(f"--out must end in .html or .xlsx, not '{out.suffix or out.name}'",
                           zh=f"--out 须以 .html 或 .xlsx 结尾，不能是“{out.suffix or out.name}”")
    cases = [register.case(ref).id for ref in args.cases] if args.cases else None
    report = replay(register, knowledge_base(args.kb), as_of=_date(args.as_of, "--as-of"), cases=cases,
                    workers=args.workers, old_kb=knowledge_base(args.old_kb) if args.old_kb else None,
                    engine=args.engine, scheduler=args.scheduler)
    if out is not None and out.suffix.lower() == ".xlsx":
        report.write_xlsx(out, args.lang)
    elif out is not None:
        out.write_text(report.html(args.lang), encoding="utf-8")
    _emit(args, report.to_dict(), report.text(args.lang))
    return 0


def _erase(register, args, words) -> int:
    case = register.case(args.case)
    if not args.yes:
        raise ProfileError(WORDS["en"]["confirm"].format(id=case.id), zh=WORDS["zh"]["confirm"].format(id=case.id))
    erased = register.erase(case.id, by=_by(args), reason=args.reason)
    _emit(args, erased.to_dict(), words["erased"].format(id=erased.id))
    return 0


def _export(register, args, words) -> int:
    rows = register.export(Path(args.out))
    _emit(args, {"rows": rows, "file": args.out}, words["exported"].format(n=rows, file=args.out))
    return 0


_VERBS = {"add": _add, "import": _import, "list": _list, "show": _show, "edit": _edit, "record": _record,
          "verify": _verify, "replay": _replay, "erase": _erase, "export": _export}
