"""The ``policykb`` command line (the web app, :mod:`engine.web`, is the other face): ``eval``, ``why``,
``why-not``, ``report``, ``template``, ``batch``, ``serve``; the authoring tools ``check``, ``test``, ``diff``,
``impact``, ``graph``, ``schema``, ``draft``, ``mutate``, ``regenerate``; ``cases`` and ``users`` (their modules).

Exit status: 0 on success, 2 for bad input (a profile, a knowledge base, an argument) or an installation
to repair (the line says how), 3 for an internal error of the inference engine; errors are one line on
stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from engine.authoring.checking import check
from ..errors import EvaluationError, PolicyKBError, ProfileError, write_problem
from .cases import add_parser as add_cases, run as _cases
from . import editor, users
from engine.inferring.evaluation import assess, knowledge_base
from engine.explaining.explanation import render_text, tree
from engine.loading.profile import read_profile
from engine.rendering.summary import summary_text
from engine.explaining.wording import named

EXIT_INPUT = 2
EXIT_INTERNAL = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: one line and exit 2, like ours
        self.print_usage(sys.stderr)
        print(f"policykb: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="policykb", description=(
        "西行规发〔2020〕1号 (Xicheng digital-economy measures) as a knowledge base: evaluate an "
        "enterprise profile, explain why, validate the knowledge base."))
    parser.add_argument("--version", action="version", version="policykb 0.1.0")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p):
        p.add_argument("--kb", metavar="DIR", help="knowledge base folder (default: the bundled one)")

    def about_a_profile(name, help_text, formats=("text", "json"), target=None):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("profile", help="profile file (.yaml, .yml or .json)")
        if target:
            p.add_argument("id", help=f"a conclusion or benefit id, e.g. {target}")
        p.add_argument("--as-of", metavar="DATE", help="judge the case at this date (overrides application_date)")
        if formats:
            p.add_argument("--format", choices=formats, default="text")
        p.add_argument("--lang", choices=("zh", "en"), default="zh")
        documents_option(p)
        common(p)
        return p

    about_a_profile("eval", "evaluate a profile: conclusions, benefits, amounts")
    p = about_a_profile("why", "explain a conclusion or benefit down to the facts (dot, mermaid or svg: "
                        "the case drawn as a graph)", ("text", "json", "dot", "mermaid", "svg"), "settlement_subsidy")
    p.add_argument("--out", metavar="FILE", help="write the drawing to FILE instead of standard output")
    about_a_profile("why-not", "why a conclusion or benefit does not hold, and what would change it",
                    target="listing_grant")

    p = about_a_profile("report", "write a self-contained HTML or Markdown report for a profile", formats=None)
    p.add_argument("--out", required=True, metavar="FILE", help="FILE.html or FILE.md")
    p.add_argument("--preparer", metavar="NAME", help="who prepared the report, printed on its first page "
                                                     "(default: a blank line to sign)")
    p.add_argument("--prepared", metavar="DATE", help="the date it was prepared (default: a blank line to fill in)")

    p = sub.add_parser("test", help="run the YAML scenarios of a knowledge base")
    p.add_argument("paths", nargs="*", help="scenario files or folders (default: the knowledge base's scenarios/)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    common(p)

    p = sub.add_parser("diff", help="evaluate profiles under two knowledge bases and show what changes")
    p.add_argument("--old", required=True, metavar="DIR")
    p.add_argument("--new", required=True, metavar="DIR")
    p.add_argument("profiles", nargs="+", help="profile files or folders")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="the language of labels in the text")

    p = sub.add_parser("impact", help="what depends on a document, article, clause, fact, rule or sub-policy")
    p.add_argument("id", help="e.g. paid_in_capital, 13(1), 14, implementation_rules_2021, "
                              "implementation_rules_2021:2, industry_development_measures_2022:2(1), "
                              "listing_measures, support_target")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    common(p)

    p = sub.add_parser("graph", help="draw the dependency graph of the knowledge base")
    p.add_argument("--view", choices=("overview", "documents", "rules", "full"), default="overview")
    p.add_argument("--format", choices=("dot", "mermaid", "graphml", "json", "svg", "png", "html"), default="dot")
    p.add_argument("--out", metavar="PATH", help="file to write (a folder with --all); default: standard output")
    p.add_argument("--all", action="store_true", help="write every diagram of diagrams/ into --out")
    common(p)

    p = sub.add_parser("template", help="write the Excel workbook an analyst fills in for `batch`")
    p.add_argument("--out", required=True, metavar="FILE.xlsx", help="the workbook to write")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="the language of labels and drop-downs")
    documents_option(p)
    common(p)

    p = sub.add_parser("batch", help="evaluate every row of a CSV, JSON Lines or Excel file")
    p.add_argument("input", help="INPUT.csv, INPUT.jsonl or INPUT.xlsx (a header of fact labels or ids, "
                                 "e.g. a filled-in `policykb template`)")
    p.add_argument("--out", required=True, metavar="OUTPUT",
                   help="OUTPUT.csv, .jsonl or .xlsx (.xlsx: the analyst's results workbook)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="worker processes (default: every core); the output is the same for any N")
    p.add_argument("--as-of", metavar="DATE", help="judge every row at this date")
    p.add_argument("--sheet", metavar="NAME", help="the Excel sheet to read (default: the first)")
    p.add_argument("--summary", metavar="FILE.html", help="also write the summary as a page with a bar chart")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local processes, or Dask (pip install 'policykb[dask]')")
    p.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler to use instead of a local cluster")
    p.add_argument("--encoding", metavar="NAME",
                   help="the text encoding of a CSV input (default: UTF-8 if it is, else GB18030), e.g. gbk")
    p.add_argument("--lang", choices=("zh", "en"), default="zh",
                   help="the language of the summary, the results workbook and the reports")
    p.add_argument("--reports", metavar="DIR", help="also write each enterprise's HTML report into DIR "
                                                    "(linked from the .xlsx results)")
    documents_option(p)
    common(p)

    p = sub.add_parser("serve", help="serve the analysts' pages and the JSON API (docs/web.md)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000; 0: any free port)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="worker processes, each with its own engine (default: every core)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also answer to this name in the Host header (a reverse proxy's or a DNS name; "
                        "repeatable; '*': any); loopback names are always answered")
    p.add_argument("--max-jobs", type=int, metavar="N", help="batch jobs at once (default: 2); the rest wait")
    p.add_argument("--register", metavar="PATH|URL", help="keep saved cases and decisions in this register")
    common(p)

    p = sub.add_parser("schema", help="print the JSON Schema of profiles (for editors)")
    common(p)

    p = sub.add_parser("draft", help="draft a new document from its text: source.txt normalised, document.yaml "
                                     "with every article and clause, and draft rules to review")
    p.add_argument("source", help="the document's published text (SOURCE.txt, UTF-8 or GB18030)")
    p.add_argument("--id", required=True, metavar="ID", help="the new document's id, lower_snake_case, "
                                                             "e.g. culture_industry_measures_2023")
    p.add_argument("--out", metavar="DIR", help="the folder to write (default: documents/ID in --kb, or ./ID)")
    p.add_argument("--force", action="store_true", help="replace files the folder already holds")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    common(p)

    p = sub.add_parser("regenerate", help="make the generated files again after a change to the knowledge base: "
                                          "schemas/profile.schema.json and diagrams/")
    p.add_argument("--out", metavar="DIR", help="the repository to write into (default: the folder holding --kb)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    common(p)

    p = sub.add_parser("mutate", help="mutation testing: change the knowledge base one small step at a time "
                                      "and report each change its scenarios do not catch")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="worker processes (default: every core)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    common(p)

    p = sub.add_parser("check", help="validate and lint a knowledge base")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--strict", action="store_true", help="fail on warnings too")
    p.add_argument("--no-scenarios", action="store_true",
                   help="skip the checks that scenarios make every rule fire and cover every condition both ways")
    common(p)
    for add in (add_cases, users.add_parser, editor.add_parser):
        add(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _refuse_lone_surrogates(parser, args)
        return {"eval": _eval, "why": _why, "why-not": _why_not, "report": _report, "test": _test,
                "diff": _diff, "impact": _impact, "graph": _graph, "schema": _schema, "batch": _batch,
                "template": _template, "draft": _draft, "mutate": _mutate, "regenerate": _regenerate,
                "check": _check, "serve": _serve, "cases": _cases, "users": users.run, "lsp": editor.run}[args.command](args)
    except EvaluationError as exc:
        print(f"policykb: internal error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    except PolicyKBError as exc:
        # In the reader's language where the command has --lang (the prefix stays, for scripts).
        for mistake in [exc, *exc.also]:
            print(f"policykb: error: {mistake.text(getattr(args, 'lang', 'en'))}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:
        return 0


def _refuse_lone_surrogates(parser, args) -> None:
    """An argument that is not UTF-8 (a file name, an id) is refused before it is used."""
    from engine.loading.unicode_text import refuse_in_arguments
    actions = [a for p in [parser, *[a.choices[args.command] for a in parser._actions
                                     if isinstance(a, argparse._SubParsersAction)]] for a in p._actions]
    refuse_in_arguments(vars(args), {a.dest: a.option_strings[0] if a.option_strings else a.dest.upper()
                                     for a in actions})


def documents_option(parser) -> None:
    parser.add_argument("--documents", metavar="ID[,ID…]", type=_document_ids,
                        help="evaluate under these documents of the knowledge base only (default: all), "
                             "e.g. digital_economy_measures,implementation_rules_2021")


def _document_ids(text: str) -> list[str]:
    ids = [part.strip() for part in text.split(",") if part.strip()]
    if not ids:
        raise argparse.ArgumentTypeError("name at least one document id")
    return ids


def _assess(args):
    kb = knowledge_base(args.kb)
    facts = read_profile(args.profile, kb)
    return assess(facts, as_of=args.as_of, kb=kb, source=args.profile, documents=args.documents)


def _write_file(path, data: bytes) -> None:
    """Write an output file; a path that cannot be written (a missing or read-only folder, a
    full disk, a file too large) is one line of error, and no half-written file is left."""
    path = Path(path)
    existed = path.exists()
    try:
        with path.open("wb") as handle:
            _write_fully(handle, data)
    except OSError as exc:
        if not existed and path.is_file():
            path.unlink(missing_ok=True)
        raise write_problem(path, exc) from None


def _write_fully(handle, data: bytes) -> None:
    """Write all of ``data``: a write cut short (a file reaching its size limit) is tried again
    with the rest, which then fails with the reason, instead of silently writing less."""
    view = memoryview(data)
    while view:
        view = view[handle.write(view) or 0:]


def _emit(text: str) -> None:
    """Write to standard output in UTF-8, whatever the locale says: JSON and text carry Chinese
    as the characters themselves, never as \\uXXXX, and a non-UTF-8 terminal gets no traceback."""
    try:
        sys.stdout.flush()
        out = getattr(sys.stdout, "buffer", None)
        if out is None:  # a text-only stream (some embedding hosts): it takes str
            sys.stdout.write(text)
        else:
            _write_fully(out, text.encode("utf-8"))
        (out or sys.stdout).flush()
    except BrokenPipeError:
        raise
    except OSError as exc:   # standard output on a full disk, or a file too large
        raise write_problem("standard output", exc, path_zh="标准输出") from None


def _eval(args) -> int:
    assessment = _assess(args)
    if args.format == "json":
        _emit(json.dumps(assessment.result, ensure_ascii=False, indent=2) + "\n")
    else:
        _emit(summary_text(assessment, args.lang))
    return 0


def _why(args) -> int:
    assessment = _assess(args)
    node = tree(assessment, args.id, args.lang)
    if args.format in ("dot", "mermaid", "svg"):
        from engine.rendering.graph import build
        from engine.rendering.render import case_graph, run_dot, to_dot, to_mermaid
        shown, marks = case_graph(build(assessment.kb), assessment, args.id, args.lang)
        title = f"{assessment.result['enterprise'] or ''} — {args.id} ({node['status']})"
        if args.format == "mermaid":
            data = to_mermaid(shown, marks).encode("utf-8")
        else:
            source = to_dot(shown, title, marks)
            data = source.encode("utf-8") if args.format == "dot" else run_dot(source, "svg")
        if args.out:
            _write_file(args.out, data)
        else:
            _emit(data.decode("utf-8"))
        return 0
    if args.format == "json":
        _emit(json.dumps(node, ensure_ascii=False, indent=2) + "\n")
    else:
        _emit(render_text(node, args.lang))
    return 0


def _why_not(args) -> int:
    from engine.explaining.why_not import answer, render_text as why_not_text
    node = answer(_assess(args), args.id, args.lang)
    if args.format == "json":
        _emit(json.dumps(node, ensure_ascii=False, indent=2) + "\n")
    else:
        _emit(why_not_text(node, args.lang))
    return 0


def _report(args) -> int:
    from engine.rendering.report import report_html, report_markdown
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm", ".md"):
        raise ProfileError(f"--out must end in .html or .md, not '{out.suffix or out.name}'")
    prepared = None
    if args.prepared:
        from engine.loading.values import ValueProblem, parse_date
        try:
            prepared = parse_date(args.prepared)
        except ValueProblem as exc:
            raise ProfileError(f"--prepared: {exc}", zh=f"--prepared：{exc.zh or exc}") from None
    assessment = _assess(args)
    text = report_markdown(assessment, args.lang) if out.suffix.lower() == ".md" else \
        report_html(assessment, args.lang, preparer=args.preparer, prepared=prepared)
    _write_file(out, text.encode("utf-8"))
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _test(args) -> int:
    from engine.authoring.scenarios import kb_holding, load_scenarios, run
    paths = [Path(p) for p in args.paths]
    # A scenario inside an edited copy of a knowledge base is run against that copy.
    holding = None if args.kb else kb_holding(paths)
    if holding is None:
        _note_local_kb(args)
    kb = knowledge_base(args.kb if args.kb is not None else holding)
    chosen_by = "--kb" if args.kb else "holds the scenarios" if holding else "bundled"
    print(f"policykb: knowledge base: {kb.root} ({chosen_by})", file=sys.stderr)
    cases = load_scenarios(kb, paths or None)
    failures = []
    for case in cases:
        try:
            problems = run(case, kb)
        except PolicyKBError as exc:
            problems = [f"error: {exc}"]
        if problems:
            failures.append({"scenario": case.name, "file": case.file, "line": case.line, "problems": problems})
    passed = len(cases) - len(failures)
    if args.format == "json":
        _emit(json.dumps({"kb": str(kb.root), "passed": passed, "failed": len(failures), "failures": failures},
                         ensure_ascii=False, indent=2) + "\n")
    else:
        for failure in failures:
            _emit(f"FAIL {failure['file']}:{failure['line']} {failure['scenario']}: {'; '.join(failure['problems'])}\n")
        _emit(f"{passed} passed, {len(failures)} failed\n")
    return 1 if failures else 0


def _diff(args) -> int:
    from engine.authoring.diff import diff, render_text as diff_text
    from engine.loading.kb import load
    report = diff(load(args.old), load(args.new), args.profiles)
    if args.format == "json":
        _emit(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    else:
        _emit(diff_text(report, args.lang))
    return 0


def _impact(args) -> int:
    from engine.rendering.graph import build, impact
    kb = knowledge_base(args.kb)
    graph = build(kb)
    found = impact(kb, args.id, graph)
    start = graph.nodes[found["id"]]
    bare = found["id"].split(":", 1)[-1]
    # What was asked about reads by its label, then its id; rules by their ids, with their article.
    head = start["label" if args.lang == "zh" else "label_en"].split("\n")[0]
    if start["kind"] == "document":
        head += " " + (start["title"] if args.lang == "zh" else start["label_en"].split("\n")[1])
    labels = {item: (kb.facts.get(item) or kb.conclusions[item]).label(args.lang)
              for item in [bare, *found["conclusions"], *found["benefits"]]
              if item in kb.facts or item in kb.conclusions}
    labels.setdefault(bare, head)
    if args.format == "json":
        _emit(json.dumps(dict(found, labels=labels), ensure_ascii=False, indent=2) + "\n")
        return 0
    lines = [f"{head} ({bare}) ({found['kind']}) — what depends on it, directly or down the chain:"]
    for key, title in (("rules", "rules"), ("conclusions", "conclusions"), ("benefits", "benefits")):
        lines.append(f"  {title} ({len(found[key])}):")
        if key == "rules":
            lines += [f"    {item} [{kb.label(graph.nodes['rule:' + item]['cites'], args.lang)}]"
                      for item in found[key]] or ["    (none)"]
        else:
            lines += [f"    {named(kb, item, args.lang)}" for item in found[key]] or ["    (none)"]
    lines += _impact_relations(kb, found, args.lang)
    _emit("\n".join(lines) + "\n")
    return 0


def _impact_relations(kb, found: dict, lang: str) -> list[str]:
    """The overlaps and newer-prevails relations an impact reaches, and the benefits only they reach."""
    if not found["relations"]:
        return []
    zh = lang == "zh"
    lines = [f"  {'文件之间（第十四条）' if zh else 'between documents (Art. 14)'} ({len(found['relations'])}):"]
    for relation in found["relations"]:
        cites = ("、" if zh else "; ").join(kb.label(ref, lang) for ref in relation["cites"])
        if relation["kind"] == "overlap":
            pair = (" 与 " if zh else " and ").join(named(kb, b, lang) for b in relation["benefits"])
            lines.append(f"    {relation['id']}: {pair} {'不重复享受' if zh else 'are not stacked'} [{cites}]")
        else:
            newer, older = (kb.documents[d].label(lang) for d in (relation["newer"], relation["older"]))
            lines.append(f"    {relation['id']}: " + (f"冲突时{newer}优先于{older}" if zh else
                                                       f"{newer} prevails over {older} where they conflict") + f" [{cites}]")
    if found["also_affected"]:
        lines.append(f"  {'经第十四条间接影响的支持事项' if zh else 'benefits affected through Art. 14 only'} "
                     f"({len(found['also_affected'])}):")
        lines += [f"    {named(kb, b, lang)}" for b in found["also_affected"]]
    return lines


def _graph(args) -> int:
    from engine.rendering.graph import build, title as graph_title
    from engine.rendering.render import view, write, write_all
    kb = knowledge_base(args.kb)
    graph = build(kb)
    title = graph_title(kb)
    if args.all:
        if not args.out:
            raise ProfileError("--all writes a folder of diagrams: give it with --out, e.g. --out diagrams/")
        try:
            written = write_all(graph, title, Path(args.out))
        except OSError as exc:
            raise write_problem(f"the diagrams in {args.out}", exc, path_zh=f"{args.out} 中的图") from None
        for path in written:
            print(f"wrote {path}", file=sys.stderr)
        return 0
    data = write(view(graph, args.view), args.format, f"{title} — {args.view}")
    if args.out:
        _write_file(args.out, data)
    else:
        if args.format == "png":
            raise ProfileError("png is binary: give a file with --out")
        _emit(data.decode("utf-8"))
    return 0


def _batch(args) -> int:
    from engine.screening import batch
    from engine.loading.values import ValueProblem, parse_date
    kb = knowledge_base(args.kb)
    if args.documents:
        from engine.inferring.evaluation import under_documents
        kb = under_documents(kb, args.documents)
    if args.workers < 1:
        raise ProfileError(f"--workers must be 1 or more, not {args.workers}")
    as_of = None
    if args.as_of:
        try:
            as_of = parse_date(args.as_of)
        except ValueProblem as exc:
            raise ProfileError(f"--as-of: {exc}") from None
    outcome = batch.run(kb, Path(args.input), Path(args.out), workers=args.workers, as_of=as_of, sheet=args.sheet,
                        quiet=args.quiet, engine=args.engine, scheduler=args.scheduler, encoding=args.encoding,
                        say=lambda line: print(f"policykb: {line}", file=sys.stderr), lang=args.lang,
                        reports=Path(args.reports) if args.reports else None)
    print(outcome.summary.text(kb, args.lang), end="", file=sys.stderr)
    if args.summary:
        page = outcome.summary.html(kb, f"{batch.SUMMARY_WORDS[args.lang]['title']}: {Path(args.input).name}", args.lang)
        _write_file(args.summary, page.encode("utf-8"))
    if not outcome.complete:
        left = "was left as it was" if Path(args.out).exists() else "was not written"
        print(f"policykb: incomplete ({outcome.reason}): {outcome.summary.rows:,} rows written to {outcome.path}; "
              f"{args.out} {left}", file=sys.stderr)
        return 130 if outcome.reason == "interrupted" else EXIT_INTERNAL
    print(f"wrote {outcome.path}" + (f" and a report per enterprise in {args.reports}" if args.reports else ""),
          file=sys.stderr)
    return 0


def _template(args) -> int:
    from engine.inferring.evaluation import under_documents
    from engine.rendering.template import write_template
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise ProfileError(f"--out must end in .xlsx, not '{out.suffix or out.name}'")
    kb = knowledge_base(args.kb)
    if args.documents:
        under_documents(kb, args.documents)   # refuses an unknown document with the nearest id
    existed, problem = out.exists(), None
    with _closing_quietly():   # a failed write's files close without complaints
        try:
            write_template(kb, out, args.lang, args.documents)
        except (OSError, PolicyKBError) as exc:
            cause = exc if isinstance(exc, OSError) else exc.__context__
            problem = write_problem(out, cause) if isinstance(cause, OSError) else exc
            cause = None
    if problem is not None:   # no half-written workbook left behind
        for leftover in ([] if existed else [out]) + [out.with_name(out.name + ".raw")]:
            if leftover.is_file():
                leftover.unlink()
        raise problem
    print(f"wrote {out}", file=sys.stderr)
    return 0


@contextlib.contextmanager
def _closing_quietly():
    """Collect the files a failed write left open, without the complaints of their closing."""
    import gc
    hook, sys.unraisablehook = sys.unraisablehook, lambda unraisable: None
    try:
        yield
        gc.collect()
    finally:
        sys.unraisablehook = hook


def _serve(args) -> int:
    from ..web.serve import serve
    return serve(args.kb, args.host, args.port, args.workers, allow_hosts=tuple(args.allow_host),
                 max_jobs=args.max_jobs, register=args.register)


def _schema(args) -> int:
    from engine.loading.schemas import profile_schema
    kb = knowledge_base(args.kb)
    _emit(json.dumps(profile_schema(kb), ensure_ascii=False, indent=2) + "\n")
    return 0


def _draft(args) -> int:
    from engine.authoring.drafting import command
    return command(args)


def _regenerate(args) -> int:
    from engine.authoring.regenerate import command
    return command(args)


def _mutate(args) -> int:
    from engine.authoring.mutation import command
    return command(args)


def _check(args) -> int:
    from engine.authoring.lint import lint
    _note_local_kb(args)
    findings = lint(args.kb, scenarios=not args.no_scenarios)
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    failed = errors or (args.strict and warnings)
    summary = None if errors else check(args.kb, coverage=args.format == "text" and not args.no_scenarios)
    if args.format == "json":
        # The findings as a list of objects; the exit status says whether they fail.
        _emit(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2) + "\n")
    else:
        for finding in findings:
            _emit(finding.text() + "\n")
        if summary:
            _emit(f"{'ok' if not failed else 'failed'}: {summary['kb']} (version {summary['kb_version']}): "
                  f"{summary['articles']} articles, {summary['clauses']} clauses, {summary['subpolicies']} sub-policies, "
                  f"{summary['facts']} facts, {summary['conclusions']} conclusions, {summary['benefits']} benefits, "
                  f"{summary['rules']} rules ({summary['engine_rules']} engine rules); "
                  f"{errors} errors, {warnings} warnings\n")
            for document in summary["documents"]:
                _emit(document_coverage_text(document) + "\n")
            if "coverage_text" in summary:
                _emit(summary["coverage_text"] + "\n")
        else:
            _emit(f"failed: {errors} errors, {warnings} warnings\n")
    return EXIT_INPUT if failed else 0


def document_coverage_text(document: dict) -> str:
    """One line of ``check``: how much of a document's available text the rules encode."""
    text = (f"  {document['id']}: {document['encoded']} of {document['parts']} available articles and clauses "
            f"encoded by {document['rules']} rules")
    text += f"; text partial — missing: {'; '.join(document['missing'])}" if document["partial"] else "; text whole"
    for ref, why in document["not_encoded"].items():
        text += f"; {ref} not encoded: {why}"
    return text


def _note_local_kb(args) -> None:
    """A rule author editing ./kb while the bundled copy is checked gets told so."""
    if args.kb:
        return
    from engine.loading.kb import bundled_kb, is_kb_folder
    local = Path.cwd() / "kb"
    if is_kb_folder(local) and local.resolve() != bundled_kb().resolve():
        print(f"policykb: note: using the bundled knowledge base ({bundled_kb()}); to use ./kb, pass --kb kb",
              file=sys.stderr)
