"""``policykb lsp`` driven as an editor drives it (pytest-lsp: the server in a subprocess over
stdio), on a copy of the bundled knowledge base: diagnostics after opening and after an unsaved
edit, hover, go to definition, find references, completion, rename and the code actions
(engine/lsp; issue 24)."""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
import yaml
from lsprotocol import types as lsp
from pygls.uris import to_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient

from engine.authoring.lint import lint
from engine.authoring.scenarios import load_scenarios, run
from engine.loading.kb import load
from engine.lsp.completion import CONDITION_KEYS, completions_at
from engine.lsp.workspace import KnowledgeBaseCopy, amount_terms, citation_at, word_at

REPO = Path(__file__).resolve().parents[1]
MCDC = REPO / "tests" / "fixtures" / "mcdc"


@pytest.fixture(scope="module")
def kb_copy(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("lsp") / "kb"
    shutil.copytree(REPO / "kb", target)
    return target


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=[sys.executable, "-m", "engine.cli", "lsp"]))
async def client(lsp_client: LanguageClient, kb_copy):
    registered = []

    @lsp_client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def register(params: lsp.RegistrationParams):   # the server asks to be told of changes on the disk
        registered.extend(params.registrations)

    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"), root_uri=kb_copy.as_uri()))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def copy(tmp_path):
    """The language server's copy of a copy of the bundled knowledge base (at tmp_path/kb)."""
    shutil.copytree(REPO / "kb", tmp_path / "kb")
    held = KnowledgeBaseCopy(tmp_path / "kb")
    yield held
    held.close()


def _rule_file(kb_copy: Path) -> tuple[Path, str, object]:
    """A rule file of the copy, its text and one of its rules."""
    kb = load(kb_copy)
    rule = next(r for r in kb.rules.values() if r.when is not None)
    path = Path(rule.where.file)
    path = path if path.is_absolute() else Path.cwd() / path
    return path, path.read_text(encoding="utf-8"), rule


async def _open(client: LanguageClient, path: Path, text: str) -> str:
    uri = path.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)))
    return uri


def _change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    """An unsaved edit: the whole new text."""
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))


async def _open_mcdc_rules(client: LanguageClient, tmp_path: Path) -> tuple[Path, str, str]:
    """A copy of tests/fixtures/mcdc with its rule file open: the file, its text, its uri."""
    shutil.copytree(MCDC, tmp_path / "kb")
    rules = tmp_path / "kb" / "rules" / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    return rules, text, await _open(client, rules, text)


def _position_of(text: str, needle: str) -> lsp.Position:
    for number, line in enumerate(text.splitlines()):
        if needle in line:
            return lsp.Position(line=number, character=line.index(needle) + 1)
    raise AssertionError(f"{needle!r} is not in the text")


@pytest.mark.asyncio(loop_scope="module")
async def test_an_unsaved_mistake_is_reported_at_its_line_with_its_code_and_gone_when_fixed(client, kb_copy):
    path, text, rule = _rule_file(kb_copy)
    uri = await _open(client, path, text)
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    kb = load(kb_copy)
    fact = sorted(kb.facts)[0]
    assert f"then: {rule.then}" in text
    broken = text.replace(f"then: {rule.then}", f"then: {rule.then}x", 1)
    _change(client, uri, 2, broken)
    while True:
        await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        found = client.diagnostics.get(uri, [])
        if found:
            break
    wrong = found[0]
    line = broken.splitlines()[wrong.range.start.line]
    assert f"{rule.then}x" in line and wrong.severity == lsp.DiagnosticSeverity.Error and wrong.code
    assert rule.then in wrong.message        # the "did you mean" name
    assert path.read_text(encoding="utf-8") == text   # the file on disk is untouched
    _change(client, uri, 3, text)
    while client.diagnostics.get(uri):
        await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert fact in kb.facts


@pytest.mark.asyncio(loop_scope="module")
async def test_hover_definition_references_and_completion_of_a_fact(client, kb_copy):
    path, text, rule = _rule_file(kb_copy)
    kb = load(kb_copy)
    uri = await _open(client, path, text)
    fact = next(f for f in sorted(kb.facts) if f in text)
    at = _position_of(text, fact)
    said = await client.text_document_hover_async(lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri),
                                                                 position=at))
    assert kb.facts[fact].zh in said.contents.value and kb.facts[fact].en in said.contents.value
    where = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=at))
    assert where[0].uri.endswith("facts.yaml") and where[0].range.start.line == kb.facts[fact].where.line - 1
    used = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=at,
        context=lsp.ReferenceContext(include_declaration=True)))
    assert any(u.uri == uri for u in used) and any(u.uri.endswith("facts.yaml") for u in used)
    after = _position_of(text, "fact: ")
    offered = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=lsp.Position(line=after.line, character=after.character - 1 + len("fact: "))))
    assert {item.label for item in offered.items} == set(kb.facts)
    assert all(kb.facts[item.label].zh in item.detail for item in offered.items)


@pytest.mark.asyncio(loop_scope="module")
async def test_hover_on_a_citation_quotes_the_clause(client, kb_copy):
    path, text, rule = _rule_file(kb_copy)
    kb = load(kb_copy)
    uri = await _open(client, path, text)
    at = _position_of(text, f"cites: {rule.cites}")
    at = lsp.Position(line=at.line, character=at.character + len("cites: "))
    said = await client.text_document_hover_async(lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri),
                                                                 position=at))
    part = kb.clauses.get(rule.cites) or kb.articles[rule.cites]
    assert part.text.splitlines()[0][:20] in said.contents.value
    at = _position_of(text, f"id: {rule.id}")
    said = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=lsp.Position(line=at.line, character=at.character + len("id: ") + len(rule.id) - 2)))
    assert f"rule `{rule.id}`" in said.contents.value and rule.explain["zh"] in said.contents.value
    assert rule.quote in said.contents.value


def test_the_name_under_the_cursor():
    assert word_at("  then: settlement_subsidy\n", 0, 12) == "settlement_subsidy"
    assert word_at("  then: x\n", 5, 0) is None
    rule = "  - id: settlement_subsidy.capital_threshold\n"
    assert word_at(rule, 0, 30, known={"settlement_subsidy.capital_threshold"}) == "settlement_subsidy.capital_threshold"
    assert word_at(rule, 0, 30) == "capital_threshold"
    assert citation_at("cites: 13(1)\n", 0, 9) == "13(1)"


def test_findings_of_the_copy_point_at_the_real_files(copy, tmp_path):
    facts = tmp_path / "kb" / "facts.yaml"
    copy.update(facts, facts.read_text(encoding="utf-8") + "\nnot yaml: [\n")
    found = copy.diagnostics()
    assert list(found) == [facts.resolve()] and found[facts.resolve()][0].severity == "error"


def test_a_file_broken_before_anything_loaded_still_gets_hovers_from_the_saved_files(copy, tmp_path):
    facts = tmp_path / "kb" / "facts.yaml"
    copy.update(facts, facts.read_text(encoding="utf-8") + "\nnot yaml: [\n")
    fact = sorted(load(tmp_path / "kb").facts)[0]
    assert copy.hover(fact) and f"`{fact}`" in copy.hover(fact)


@pytest.mark.asyncio(loop_scope="module")
async def test_the_did_you_mean_name_is_a_quick_fix(client, kb_copy):
    path, text, rule = _rule_file(kb_copy)
    uri = await _open(client, path, text)
    broken = text.replace(f"then: {rule.then}", f"then: {rule.then}x", 1)
    _change(client, uri, 20, broken)
    while not client.diagnostics.get(uri):
        await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    wrong = client.diagnostics[uri][0]
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=wrong.range,
        context=lsp.CodeActionContext(diagnostics=[wrong])))
    fix = actions[0]
    assert fix.kind == lsp.CodeActionKind.QuickFix
    edit = fix.edit.changes[uri][0]
    line = broken.splitlines()[edit.range.start.line]
    fixed = line[:edit.range.start.character] + edit.new_text + line[edit.range.end.character:]
    assert fixed.strip() == f"then: {rule.then}"
    _change(client, uri, 21, text)
    while client.diagnostics.get(uri):
        await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)


@pytest.mark.asyncio(loop_scope="module")
async def test_rename_a_fact_everywhere_and_refuse_a_name_taken(client, kb_copy):
    path, text, rule = _rule_file(kb_copy)
    kb = load(kb_copy)
    uri = await _open(client, path, text)
    fact = next(f for f in sorted(kb.facts) if f in text)
    at = _position_of(text, fact)
    edit = await client.text_document_rename_async(lsp.RenameParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=at, new_name=f"{fact}_renamed"))
    files = set(edit.changes)
    assert uri in files and any(u.endswith("facts.yaml") for u in files)
    holding = {p.as_uri() for p in kb_copy.rglob("*") if p.suffix in (".yaml", ".json")
               and re.search(rf"(?<![A-Za-z0-9_]){fact}(?![A-Za-z0-9_])", p.read_text(encoding="utf-8"))}
    assert {Path(to_fs_path(u)).as_uri() for u in files} == holding    # JSON examples too
    assert all(e.new_text == f"{fact}_renamed" for edits in edit.changes.values() for e in edits)
    taken = next(f for f in sorted(kb.facts) if f != fact)
    with pytest.raises(Exception, match="taken"):
        await client.text_document_rename_async(lsp.RenameParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=at, new_name=taken))


def test_every_clause_is_found_in_its_published_text_and_an_example_is_defined_in_its_file(copy, tmp_path):
    kb = copy.kb
    for key, part in list(kb.clauses.items()) + list(kb.articles.items()):
        if part.text and kb.documents[part.document].data.get("source"):
            places = copy.citation_places(key)
            assert [p.path.name for p in places] == ["document.yaml", kb.documents[part.document].data["source"]], key
    example = next(p for p in sorted((tmp_path / "kb" / "examples").iterdir())
                   if p.stem not in kb.facts and p.stem not in kb.conclusions)   # a name of its own
    assert copy.definition(example.stem).path == example.resolve()


def test_hovers_on_an_enum_value_and_on_a_notice(copy):
    kb = copy.kb
    enum = next(f for f in sorted(kb.facts) if kb.facts[f].type == "enum")
    value, words = next(iter(kb.facts[enum].values.items()))
    for text, line in ((f"        - {{fact: {enum}, in: [{value}]}}", 0), (f"input:\n  {enum}: {value}", 1)):
        said = copy.value_hover(value, text, line)
        assert words["zh"] in said and f"a value of `{enum}`" in said
    assert copy.value_hover(value, "  then: x", 0) is None
    for key, text in kb.special_parts.items():
        owner, _, ref = key.rpartition(":")
        owner = owner or kb.home
        assert text[:12] in copy.citation_hover(owner, ref)
        assert [p.path.name for p in copy.citation_places(ref, owner)] == [kb.documents[owner].data["source"]]
        assert ref in {c.text for c in completions_at(kb, "cites: ", 0, 7, owner)}


def test_amount_terms_read_as_the_text_writes_them():
    kb = load(REPO / "kb")
    for rule in (r for r in kb.rules.values() if r.amount is not None):
        said = amount_terms(rule.amount, kb)
        assert not re.search(r"[{}]|None|Fraction|\d/\d", said), said       # no program values
        if rule.amount.share is not None:
            assert f"{rule.amount.share * 100}%" in said.replace(",", "")


def test_a_benefits_hover_gives_its_amount_terms_and_clause(copy):
    kb = copy.kb
    rule = next(r for r in kb.rules.values() if r.amount is not None and r.amount.max is not None)
    said = copy.hover(rule.then)
    assert f"amount (`{rule.id}`)" in said and kb.conclusions[rule.then].zh in said
    part = kb.clauses.get(rule.cites) or kb.articles[rule.cites]
    assert part.text.splitlines()[0][:20] in said


def _apply(text: str, edits) -> str:
    """``text`` with the protocol's text edits applied (last first, so positions hold)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(position):
        return offsets[min(position.line, len(lines))] + position.character
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


def test_completion_offers_what_the_place_of_the_cursor_takes():
    kb = load(REPO / "kb")
    enum = next(f for f in sorted(kb.facts) if kb.facts[f].type == "enum")
    flag = next(f for f in sorted(kb.facts) if kb.facts[f].type == "bool")
    money = next(f for f in sorted(kb.facts) if kb.facts[f].type == "money")
    document = sorted(kb.documents)[0]
    text = "\n".join([
        "rules:", "  - id: x.y", "    cites: ", "    when:", "      all:",
        f"        - {{fact: {enum}, in: [{next(iter(kb.facts[enum].values))}, ",
        f"        - fact: {flag}", "          is: ",
        f"        - {{fact: {money}, ",
        "        - ",
        "        - conclusion: ",
        f"input:", f"  {enum}: ", ""])

    def offered(line: int) -> set[str]:
        row = text.splitlines()[line]
        return {c.text for c in completions_at(kb, text, line, len(row), document)}
    clauses = {str(p.id) for p in kb.clauses.values() if p.document == document}
    assert clauses and clauses <= offered(2)
    values = set(kb.facts[enum].values)
    assert offered(5) == values - {next(iter(kb.facts[enum].values))} and offered(12) == values   # none twice
    assert offered(7) == {"true", "false"}
    money_ops = offered(8)
    assert "at_least" in money_ops and "is" not in money_ops and "fact" not in money_ops
    assert offered(9) == set(CONDITION_KEYS)
    assert offered(10) == set(kb.conclusions)


def test_completion_in_a_scenario_offers_examples_facts_values_and_benefits():
    kb = load(REPO / "kb")
    enum = next(f for f in sorted(kb.facts) if kb.facts[f].type == "enum")
    text = "\n".join([
        "- name: A case", "  extends: ", "  input:", "    ", f"    {enum}: ", "  output:", "    benefits:", "      ",
        "    not_benefits: [", "    quote: ", ""])

    def offered(line: int) -> set[str]:
        row = text.splitlines()[line]
        return {c.text for c in completions_at(kb, text, line, len(row))}
    examples = {p.stem for p in (REPO / "kb" / "examples").iterdir()}
    assert offered(1) == examples
    assert offered(3) == set(kb.facts)
    assert offered(4) == set(kb.facts[enum].values)
    benefits = {c for c, v in kb.conclusions.items() if v.kind == "benefit"}
    assert offered(7) == benefits and offered(8) == benefits
    assert offered(9) == set()


@pytest.mark.asyncio(loop_scope="module")
async def test_a_citation_goes_to_its_clause_in_document_yaml_and_in_the_published_text(client, kb_copy):
    path, text, rule = _rule_file(kb_copy)
    uri = await _open(client, path, text)
    at = _position_of(text, f"cites: {rule.cites}")
    where = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=lsp.Position(line=at.line, character=at.character + len("cites: "))))
    kb = load(kb_copy)
    part = kb.clauses.get(rule.cites) or kb.articles[rule.cites]
    assert [Path(w.uri).name for w in where] == ["document.yaml", "source.txt"]
    assert where[0].range.start.line == part.where.line - 1
    source = (Path(part.where.file).parent / kb.documents[part.document].data["source"]).read_text(encoding="utf-8")
    assert part.text[:12] in source.splitlines()[where[1].range.start.line]
    cited = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=lsp.Position(line=at.line, character=at.character + len("cites: ")),
        context=lsp.ReferenceContext(include_declaration=True)))
    assert any(c.uri == uri and c.range.start.line == at.line for c in cited)
    assert all(rule.cites in Path(to_fs_path(c.uri)).read_text(encoding="utf-8").splitlines()[c.range.start.line]
               for c in cited)


async def _diagnostics_with(client, uri: str, code: str, within: float = 60) -> list:
    """The diagnostics of ``uri`` with ``code``, once they have come (failing after ``within`` s)."""
    async def arrived():
        while not any(d.code == code for d in client.diagnostics.get(uri, [])):
            await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    await asyncio.wait_for(arrived(), within)
    return [d for d in client.diagnostics[uri] if d.code == code]


@pytest.mark.asyncio(loop_scope="module")
async def test_a_coverage_gap_offers_the_scenario_that_closes_it(client, tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(MCDC, copy)
    cases = copy / "scenarios" / "cases.yaml"
    items = yaml.safe_load(cases.read_text(encoding="utf-8"))
    kept = [c for c in items if c["name"] != "A recognized enterprise of sector C is not eligible"]
    assert len(kept) == len(items) - 1
    cases.write_text(yaml.safe_dump(kept, allow_unicode=True, sort_keys=False), encoding="utf-8")
    rules = copy / "rules" / "rules.yaml"
    uri = await _open(client, rules, rules.read_text(encoding="utf-8"))
    (gap,) = await _diagnostics_with(client, uri, "condition-coverage")
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=gap.range,
        context=lsp.CodeActionContext(diagnostics=[gap])))
    (add,) = [a for a in actions if a.title.startswith("Add a scenario covering this condition")]
    (edits,) = [e for u, e in add.edit.changes.items() if Path(to_fs_path(u)) == cases]
    cases.write_text(_apply(cases.read_text(encoding="utf-8"), edits), encoding="utf-8")
    assert [f.text() for f in lint(copy) if f.code == "condition-coverage"] == []
    kb = load(copy)
    added = [s for s in load_scenarios(kb) if s.name.endswith("decides eligible.recognized alone: eligible denied")]
    assert len(added) == 1 and run(added[0], kb) == []


@pytest.mark.asyncio(loop_scope="module")
async def test_a_rule_without_a_quote_is_offered_the_sentences_of_its_clause(client, kb_copy):
    path, text, rule = _rule_file(kb_copy)
    uri = await _open(client, path, text)
    quote_line = next(line for line in text.splitlines(keepends=True) if line.strip() == f"quote: {rule.quote}")
    unquoted = text.replace(quote_line, "", 1)
    _change(client, uri, 40, unquoted)
    at = _position_of(unquoted, f"id: {rule.id}")
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=lsp.Range(start=at, end=at),
        context=lsp.CodeActionContext(diagnostics=[])))
    quotes = [a for a in actions if a.title.startswith(f"Quote the clause {rule.cites}")]
    kb = load(kb_copy)
    part = kb.clauses.get(rule.cites) or kb.articles[rule.cites]
    assert quotes
    for action in quotes:
        quoted = yaml.safe_load(_apply(unquoted, action.edit.changes[uri]))
        written = next(r for r in quoted["rules"] if r["id"] == rule.id)["quote"]
        assert written in part.text and len(written) >= 6
    _change(client, uri, 41, text)
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=lsp.Range(start=at, end=at),
        context=lsp.CodeActionContext(diagnostics=[])))
    assert not [a for a in actions if a.title.startswith("Quote the clause")]


@pytest.mark.asyncio(loop_scope="module")
async def test_a_coverage_gap_appears_as_you_type_without_a_save(client, tmp_path):
    rules, text, uri = await _open_mcdc_rules(client, tmp_path)
    assert "{fact: sector, in: [a, b]}" in text
    widened = text.replace("{fact: sector, in: [a, b]}", "{fact: sector, in: [a, b, c]}")
    _change(client, uri, 2, widened)
    (gap,) = await _diagnostics_with(client, uri, "condition-coverage")
    assert "sector" in gap.message and widened.splitlines()[gap.range.start.line].strip().startswith("- {fact: sector")
    assert rules.read_text(encoding="utf-8") == text
    _change(client, uri, 3, widened + "\n# a keystroke more\n")
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)     # the quick checks' answer
    assert [d.code for d in client.diagnostics[uri]] == ["condition-coverage"]    # the gap does not blink out


@pytest.mark.asyncio(loop_scope="module")
async def test_a_file_closed_unsaved_counts_as_saved_and_a_change_on_the_disk_is_seen(client, tmp_path):
    rules, text, uri = await _open_mcdc_rules(client, tmp_path)
    broken = text.replace("then: eligible", "then: eligibel", 1)
    _change(client, uri, 2, broken)
    (wrong,) = await _diagnostics_with(client, uri, "unknown-reference")
    line = broken.splitlines()[wrong.range.start.line]
    assert line[wrong.range.start.character:wrong.range.end.character] == "eligibel"   # the word, underlined
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))

    async def cleared():
        while client.diagnostics.get(uri):
            await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    await asyncio.wait_for(cleared(), 60)
    rules.write_text(broken, encoding="utf-8")        # the same mistake, written by another program
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[
        lsp.FileEvent(uri=uri, type=lsp.FileChangeType.Changed)]))
    assert await _diagnostics_with(client, uri, "unknown-reference")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_scenario_that_fails_is_reported_at_its_name(client, tmp_path):
    shutil.copytree(MCDC, tmp_path / "kb")
    cases = tmp_path / "kb" / "scenarios" / "cases.yaml"
    text = cases.read_text(encoding="utf-8")
    uri = await _open(client, cases, text)
    assert "status: {grant_a: denied, grant_b: granted}" in text
    wrong = text.replace("status: {grant_a: denied, grant_b: granted}", "status: {grant_a: granted, grant_b: granted}", 1)
    _change(client, uri, 2, wrong)
    (failing,) = await _diagnostics_with(client, uri, "scenario-fails")
    name = wrong.splitlines()[failing.range.start.line]
    assert name.lstrip("- ").startswith("name: ") and "grant_a: expected status granted, got denied" in failing.message
    _change(client, uri, 3, text)

    async def cleared():
        while any(d.code == "scenario-fails" for d in client.diagnostics.get(uri, [])):
            await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    await asyncio.wait_for(cleared(), 60)
