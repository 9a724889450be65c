"""``policykb lsp``: a language server over standard input and output (pygls), for any editor
that speaks the Language Server Protocol (issue 24; docs/editor.md).

What it does:

- **diagnostics as you type** — after each change (debounced by :data:`DEBOUNCE` seconds) the
  quick pass of ``policykb check`` over the unsaved text, then, once the text has rested
  :data:`WHOLE_CHECK_AFTER` seconds more (and after a save), the whole check with the
  scenarios, and the scenarios ``policykb test`` would fail; each finding at its file, line and column, with its code, and the "did you mean"
  name in the message and the diagnostic's data;
- **hover** on a fact, conclusion, benefit, rule or citation: labels in zh and en, type, values
  and unit, the clause's text, a benefit's amount terms;
- **go to definition** and **find references** of facts, conclusions, benefits, rules,
  documents and clauses (a citation goes to the clause in ``document.yaml`` and in
  ``source.txt``);
- **completion** of what the cursor's place takes (:mod:`engine.lsp.completion`): fact and
  conclusion ids with their labels, the values of the fact a condition tests, citations,
  condition keys;
- **rename** of a fact or conclusion across the knowledge base;
- **code actions** (:mod:`engine.lsp.actions`): the quick fix of a "did you mean" finding, "add
  a scenario covering this condition" on a coverage gap, "quote the clause" on a rule without
  a quote.

The knowledge base is the folder holding ``facts.yaml`` above the edited file
(:func:`engine.lsp.workspace.kb_root_of`); one copy of each is kept while the server runs.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from engine.authoring.lint import SCENARIO_CODES
from engine.lsp.workspace import WORD, KnowledgeBaseCopy, check_copy, citation_at, kb_root_of, word_at

#: How long after a change the check runs, so that a burst of keystrokes is checked once.
DEBOUNCE = 0.1
#: How long the text must rest after the quick checks before the whole check (with the
#: scenarios: coverage gaps, drafts) runs on it too.
WHOLE_CHECK_AFTER = 0.5
#: The findings only the whole check makes: about the scenarios.
WHOLE_ONLY = SCENARIO_CODES | {"scenario-fails"}
_SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning}


class PolicyServer(LanguageServer):
    """The server, with the knowledge bases it has met and the checks waiting to run."""

    def __init__(self):
        super().__init__("policykb", "0.1.0")
        self.copies: dict[Path, KnowledgeBaseCopy] = {}
        self.pending: dict[Path, asyncio.Task] = {}
        self.published: dict[Path, set[str]] = {}
        #: Whether the editor speaks Chinese (its ``locale``): action titles and refusals in zh.
        self.zh = False
        self._checker: ProcessPoolExecutor | None = None
        #: The last whole check's findings the quick checks do not make (WHOLE_ONLY), by file.
        self.last_whole: dict[Path, dict[Path, list]] = {}

    @property
    def checker(self) -> ProcessPoolExecutor:
        """The process the whole check runs in: another process, so that the rule engine's
        state is its own and the server goes on answering while it runs."""
        if self._checker is None:
            # at a lower priority: what the author waits for (the quick checks, hovers) comes first
            self._checker = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=_lower_priority)
        return self._checker

    async def whole_check(self, kb: KnowledgeBaseCopy) -> dict | None:
        """The whole check of ``kb`` with its scenarios run, in the checking process; None when
        that process died (killed, out of memory): a new one is started next time."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self.checker, check_copy, kb.root, kb.copy, True, True)
        except BrokenProcessPool:
            self._checker = None
            return None

    def close(self) -> None:
        if self._checker is not None:
            self._checker.shutdown(wait=False, cancel_futures=True)
            self._checker = None
        for copy in self.copies.values():
            copy.close()
        self.copies.clear()

    def copy_for(self, uri: str) -> tuple[KnowledgeBaseCopy, Path] | None:
        path = Path(to_fs_path(uri) or "")
        root = kb_root_of(path.resolve().parent)
        if root is None:
            return None
        if root not in self.copies:
            self.copies[root] = KnowledgeBaseCopy(root)
        return self.copies[root], path

    def text(self, uri: str) -> str:
        """The editor's text of ``uri``, or the file's on the disk; "" for a file that is gone."""
        try:
            return self.workspace.get_text_document(uri).source
        except (OSError, UnicodeDecodeError):
            return ""

    def is_open(self, uri: str) -> bool:
        return uri in self.workspace.text_documents


def _lower_priority() -> None:
    try:
        os.nice(10)
    except (AttributeError, OSError):   # no nice() here (Windows): the same priority
        pass


server = PolicyServer()


@server.feature(lsp.INITIALIZE)
def initialize(ls: PolicyServer, params: lsp.InitializeParams) -> None:
    ls.zh = (params.locale or "").lower().startswith("zh")


def _range(line: int, column: int, width: int = 1) -> lsp.Range:
    return lsp.Range(start=lsp.Position(line=line, character=column),
                     end=lsp.Position(line=line, character=column + width))


def publish(ls: PolicyServer, kb: KnowledgeBaseCopy, found: dict, edited: str) -> None:
    """Publish every file's findings (``found``, as :meth:`KnowledgeBaseCopy.diagnostics`
    gives them); the edited file's always (an empty list says it is clean), and a file whose
    findings are gone gets an empty list."""
    uris = {from_fs_path(str(path)): items for path, items in found.items()}
    uris.setdefault(edited, [])
    for uri in ls.published.get(kb.root, set()) - set(uris):
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
    for uri, items in uris.items():
        lines = (ls.text(uri) if ls.is_open(uri) else kb.text_of(Path(to_fs_path(uri)))).splitlines()
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[
            lsp.Diagnostic(range=_span(lines, d), severity=_SEVERITY[d.severity], code=d.code,
                           source="policykb",
                           message=d.message + (f" (did you mean '{d.suggestion}'?)" if d.suggestion else ""),
                           data=_data(d))
            for d in items]))
    ls.published[kb.root] = set(uris)


def _span(lines: list[str], diagnostic) -> lsp.Range:
    """Where a finding is underlined: the misspelt word its "did you mean" name is nearest to,
    else the word at its column, else one character."""
    line, column = diagnostic.place.line, diagnostic.place.column
    text = lines[line] if line < len(lines) else ""
    if diagnostic.suggestion:
        near = _nearest_word(text, diagnostic.suggestion)
        if near is not None:
            return _range(line, near[0], len(near[1]))
    for match in WORD.finditer(text[column:column + 200]):
        if match.start() == 0:
            return _range(line, column, match.end())
        break
    return _range(line, column)


def _nearest_word(text: str, suggestion: str) -> tuple[int, str] | None:
    """The word of ``text`` a "did you mean" name was meant for: the closest to it, not it."""
    import difflib
    words = [(m.start(), m.group()) for m in WORD.finditer(text[:2000]) if m.group() != suggestion]
    near = difflib.get_close_matches(suggestion, [w for _, w in words], n=1, cutoff=0.6)
    return next((start, w) for start, w in words if w == near[0]) if near else None


def _data(diagnostic) -> dict | None:
    """What a code action needs of a finding: the "did you mean" name, the scenario to add."""
    data = {key: value for key, value in (("suggestion", diagnostic.suggestion), ("scenario", diagnostic.scenario))
            if value}
    return data or None


def _with_last_whole(ls: PolicyServer, kb: KnowledgeBaseCopy, quick: dict) -> dict:
    """The quick checks' findings with the last whole check's findings about scenarios, so that
    coverage gaps and failing scenarios do not blink out at each keystroke (they are renewed
    when the text rests); not while the knowledge base does not load."""
    if any(d.severity == "error" for items in quick.values() for d in items):
        return quick
    merged = {path: list(items) for path, items in quick.items()}
    for path, items in ls.last_whole.get(kb.root, {}).items():
        merged.setdefault(path, []).extend(items)
    return merged


def _schedule(ls: PolicyServer, uri: str, at_once: bool, saved: bool = False) -> None:
    """Check the knowledge base ``uri`` belongs to, with the editor's text of ``uri`` (or, when
    ``saved``, the file as it is on the disk): the quick checks after :data:`DEBOUNCE` (at
    once when ``at_once``: an opening, a save), then, after :data:`WHOLE_CHECK_AFTER` more
    (none when ``at_once``), the whole check."""
    found = ls.copy_for(uri)
    if found is None:
        return
    kb, path = found
    if saved:
        kb.revert(path)
    else:
        kb.update(path, ls.text(uri))
    waiting = ls.pending.pop(kb.root, None)
    if waiting is not None:
        waiting.cancel()

    async def check():
        try:
            await asyncio.sleep(0 if at_once else DEBOUNCE)
            publish(ls, kb, _with_last_whole(ls, kb, kb.diagnostics(scenarios=False)), uri)
            await asyncio.sleep(0 if at_once else WHOLE_CHECK_AFTER)
            # The whole check takes seconds: run beside the server, so that hovers and
            # completions go on being answered, and dropped if the text changed meanwhile.
            version = kb.version
            found = await ls.whole_check(kb)
            if found is not None and kb.version == version:
                ls.last_whole[kb.root] = {path: [d for d in items if d.code in WHOLE_ONLY] for path, items in found.items()}
                publish(ls, kb, found, uri)
        except asyncio.CancelledError:
            raise
        except Exception as exc:   # a check that broke must not silence the next ones: say it in the log
            ls.window_log_message(lsp.LogMessageParams(
                type=lsp.MessageType.Error, message=f"policykb: the check of {path.name} stopped: {exc}"))

    ls.pending[kb.root] = asyncio.ensure_future(check())


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: PolicyServer, params: lsp.DidOpenTextDocumentParams) -> None:
    _schedule(ls, params.text_document.uri, at_once=True)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: PolicyServer, params: lsp.DidChangeTextDocumentParams) -> None:
    _schedule(ls, params.text_document.uri, at_once=False)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: PolicyServer, params: lsp.DidSaveTextDocumentParams) -> None:
    _schedule(ls, params.text_document.uri, at_once=True)


def _name(ls: PolicyServer, params) -> tuple[KnowledgeBaseCopy, str | None, str | None, str | None] | None:
    """The knowledge base, the id and the citation under the cursor, and the document of the file."""
    found = ls.copy_for(params.text_document.uri)
    if found is None:
        return None
    text, at = ls.text(params.text_document.uri), params.position
    kb, path = found
    rules = kb.kb.rules if kb.kb is not None else {}
    return (kb, word_at(text, at.line, at.character, rules), citation_at(text, at.line, at.character),
            kb.document_of(path))


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: PolicyServer, params: lsp.HoverParams) -> lsp.Hover | None:
    found = _name(ls, params)
    if found is None:
        return None
    kb, word, citation, document = found
    said = (kb.hover(word) if word else None) or (kb.citation_hover(document, citation) if citation else None) \
        or (kb.citation_hover(document, word) if word in ("notice", "preamble") else None) \
        or (kb.value_hover(word, ls.text(params.text_document.uri), params.position.line) if word else None)
    if said is None:
        return None
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=said))


def _location(place) -> lsp.Location:
    return lsp.Location(uri=from_fs_path(str(place.path)), range=_range(place.line, place.column, 0))


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def definition(ls: PolicyServer, params: lsp.DefinitionParams) -> list[lsp.Location]:
    """A name's definition; a citation's clause in ``document.yaml`` and in ``source.txt``."""
    found = _name(ls, params)
    if found is None:
        return []
    kb, word, citation, document = found
    place = kb.definition(word) if word else None
    if place is not None:
        return [_location(place)]
    if word in ("notice", "preamble"):
        return [_location(p) for p in kb.citation_places(word, document)]
    return [_location(p) for p in kb.citation_places(citation, document)] if citation else []


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
def references(ls: PolicyServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    found = _name(ls, params)
    if found is None:
        return []
    kb, word, citation, document = found
    if word:
        return [_location(place) for place in kb.references(word)]
    return [_location(place) for place in kb.citation_references(citation, document)] if citation else []


_KINDS = {"fact": lsp.CompletionItemKind.Field, "value": lsp.CompletionItemKind.EnumMember,
          "clause": lsp.CompletionItemKind.Reference, "key": lsp.CompletionItemKind.Keyword}


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[" ", ":", "-", "[", ","]))
def completion(ls: PolicyServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    """What may be written at the cursor (engine.lsp.completion)."""
    from engine.lsp.completion import completions_at
    found = ls.copy_for(params.text_document.uri)
    if found is None or found[0].kb is None:
        return lsp.CompletionList(is_incomplete=False, items=[])
    kb, path = found
    at = params.position
    items = [lsp.CompletionItem(label=item.text, detail=item.label,
                                kind=_KINDS.get(item.kind, lsp.CompletionItemKind.Constant),
                                label_details=lsp.CompletionItemLabelDetails(description=item.kind))
             for item in completions_at(kb.kb, ls.text(params.text_document.uri), at.line, at.character,
                                        kb.document_of(path))]
    return lsp.CompletionList(is_incomplete=False, items=items)


@server.feature(lsp.TEXT_DOCUMENT_RENAME)
def rename(ls: PolicyServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
    """A fact or conclusion renamed in every file of its knowledge base; a name that is taken
    is refused with the reason (an error the editor shows)."""
    from engine.errors import PolicyKBError
    found = _name(ls, params)
    if found is None or not found[1]:
        return None
    kb, word = found[0], found[1]
    try:
        places = kb.rename(word, params.new_name)
    except PolicyKBError as exc:
        raise JsonRpcInvalidParams(exc.zh if ls.zh and exc.zh else exc.message) from None
    return lsp.WorkspaceEdit(changes={
        from_fs_path(str(path)): [lsp.TextEdit(range=_range(line, column, len(word)), new_text=params.new_name)
                                  for line, column in spots]
        for path, spots in places.items()})


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION)
def code_actions(ls: PolicyServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    """The quick fix of a "did you mean" finding; "add a scenario covering this condition" on a
    coverage gap; "quote the clause" on a rule without a quote (engine.lsp.actions)."""
    from engine.lsp.actions import quotes_for_rule, scenario_for_gap
    actions = []
    text = ls.text(params.text_document.uri)
    for diagnostic in params.context.diagnostics:
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        if data.get("suggestion"):
            actions += _did_you_mean(params.text_document.uri, text, diagnostic, data["suggestion"], ls.zh)
        found = ls.copy_for(params.text_document.uri)
        if data.get("scenario") and found is not None and found[0].kb is not None:
            insertion = scenario_for_gap(found[0], data["scenario"])
            actions.append(_inserting(insertion, lsp.CodeActionKind.QuickFix, [diagnostic], ls.zh))
    found = ls.copy_for(params.text_document.uri)
    if found is not None and found[0].kb is not None and "rules" in found[1].parts:
        kb, path = found
        actions += [_inserting(insertion, lsp.CodeActionKind.RefactorRewrite, None, ls.zh)
                    for insertion in quotes_for_rule(kb, path, text, params.range.start.line, kb.document_of(path))]
    return actions


def _inserting(insertion, kind, diagnostics, zh: bool) -> lsp.CodeAction:
    at = lsp.Position(line=insertion.line, character=0)
    return lsp.CodeAction(title=insertion.label(zh), kind=kind, diagnostics=diagnostics, edit=lsp.WorkspaceEdit(changes={
        from_fs_path(str(insertion.path)): [lsp.TextEdit(range=lsp.Range(start=at, end=at), new_text=insertion.text)]}))


def _did_you_mean(uri: str, text: str, diagnostic, suggestion: str, zh: bool) -> list[lsp.CodeAction]:
    """The nearest word of the finding's line replaced by the name it meant."""
    lines = text.splitlines()
    line = diagnostic.range.start.line
    near = _nearest_word(lines[line], suggestion) if line < len(lines) else None
    if near is None:
        return []
    column, word = near
    return [lsp.CodeAction(
        title=f"将“{word}”改为“{suggestion}”" if zh else f"Change '{word}' to '{suggestion}'", kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[diagnostic], is_preferred=True, edit=lsp.WorkspaceEdit(changes={uri: [
            lsp.TextEdit(range=_range(line, column, len(word)), new_text=suggestion)]}))]


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
async def did_close(ls: PolicyServer, params: lsp.DidCloseTextDocumentParams) -> None:
    """A file closed unsaved counts as saved: its text on the disk back in the copy."""
    _schedule(ls, params.text_document.uri, at_once=True, saved=True)


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
async def did_change_watched_files(ls: PolicyServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    """A file changed on the disk (a pull, a script, another editor): the copy takes it, unless
    the editor has it open (then the editor's text counts), and the whole check runs."""
    for change in params.changes:
        if not ls.is_open(change.uri) and ls.copy_for(change.uri) is not None:
            _schedule(ls, change.uri, at_once=True, saved=True)


@server.feature(lsp.INITIALIZED)
async def initialized(ls: PolicyServer, params: lsp.InitializedParams) -> None:
    """Ask the editor to report changes on the disk of the knowledge base's files, where it can."""
    capabilities = ls.client_capabilities.workspace
    watching = capabilities and capabilities.did_change_watched_files
    if not (watching and watching.dynamic_registration):
        return
    try:
        await ls.client_register_capability_async(lsp.RegistrationParams(registrations=[lsp.Registration(
            id="policykb-files", method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=lsp.DidChangeWatchedFilesRegistrationOptions(watchers=[
                lsp.FileSystemWatcher(glob_pattern=pattern) for pattern in ("**/*.yaml", "**/*.json", "**/*.txt")]))]))
    except Exception:   # an editor that refuses still gets everything else
        pass


@server.feature(lsp.SHUTDOWN)
def shutdown(ls: PolicyServer, params) -> None:
    ls.close()


def run() -> int:
    """Serve over standard input and output until the editor says exit."""
    server.start_io()
    return 0
