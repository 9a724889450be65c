"""``policykb lsp``: the language server for the rule author's editor (docs/editor.md), over
standard input and output; the editor starts it."""

from __future__ import annotations


def add_parser(sub, common) -> None:
    p = sub.add_parser("lsp", help="a language server for editors (stdin/stdout): the knowledge base's checks, "
                                   "hovers, definitions and completions as you type (docs/editor.md)")
    p.set_defaults(kb=None)   # the knowledge base is the one each edited file belongs to


def run(args) -> int:
    try:
        from engine.lsp.server import run as serve
    except ImportError as exc:
        from engine.errors import InstallationError
        raise InstallationError(f"policykb lsp needs {exc.name}: pip install 'policykb' again "
                                "(pygls is its dependency)") from None
    return serve()
