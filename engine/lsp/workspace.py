"""What the language server knows of the knowledge base an edited file belongs to (issue 24).

:class:`KnowledgeBaseCopy` keeps a copy of the knowledge-base folder in a temporary folder, with
the editor's unsaved text written into it, so that ``policykb check``'s findings
(:func:`engine.authoring.lint.lint`) are those of what the rule author sees, not of the disk:
a quick pass (without the scenarios, a quarter of a second) after each change, the whole check
(scenarios, coverage) after a save. Findings are mapped back to the real files.

It also answers what an editor asks of a name under the cursor: where it is defined
(:meth:`definition`), where it is used (:meth:`references`), what it is (:meth:`hover`: labels in
zh and en, type, values and unit, and for a citation the clause's text); what may be written is
:mod:`engine.lsp.completion`'s. Nothing here knows the Language Server Protocol: :mod:`engine.lsp.server`
speaks it.
"""

from __future__ import annotations

import re
import shutil
from fractions import Fraction
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.errors import PolicyKBError
from engine.lsp.completion import fact_tested, short_ref

#: A name as the knowledge base writes ids: letters, digits and underscores.
WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]*")
#: A rule's id: ids joined by dots.
_DOTTED = re.compile(r"(?<![A-Za-z0-9_.])[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+")
#: A citation: ``document:13(1)``, ``13(1)`` or ``第十三条``-style ids are written as ``13(1)``.
_CITATION = re.compile(r"(?<![A-Za-z0-9_:(])(?:[a-z_][a-z0-9_]*:)?\d+(?:\(\d+\))?")
#: Full-width punctuation a published text and its copy in document.yaml may write either way
#: (one character for one, so columns hold).
_SAME_WIDTH = str.maketrans({"（": "(", "）": ")", "，": ",", "：": ":", "；": ";", "　": " "})
#: How far either side of the cursor a name is looked for (a line may be any length).
_REACH = 300


@dataclass(frozen=True)
class Place:
    """A place in a real file: its path, and a 0-based line and column (as the protocol counts)."""
    path: Path
    line: int
    column: int


@dataclass(frozen=True)
class Diagnostic:
    place: Place
    severity: str
    code: str
    message: str
    suggestion: str | None = None
    #: For a coverage gap with a profile that would cover it: what "add a scenario" writes
    #: (``rule``, ``condition``, ``gap``, ``profile``, ``output``, ``scenario``: the real file).
    scenario: dict | None = None


def kb_root_of(path: Path) -> Path | None:
    """The knowledge-base folder ``path`` belongs to: the nearest folder above it that is the
    top of a knowledge base, of either layout (``facts.yaml`` beside ``knowledge_base.yaml`` or
    ``document.yaml``)."""
    from engine.loading.kb import is_kb_folder
    for folder in [path] + list(path.parents):
        if is_kb_folder(folder):
            return folder
    return None


class KnowledgeBaseCopy:
    """A knowledge base as the editor has it (see the module docstring)."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._folder = Path(tempfile.mkdtemp(prefix="policykb-lsp-"))
        self.copy = self._folder / self.root.name
        shutil.copytree(self.root, self.copy)
        self._kb, self._stale = None, True
        #: Counts the edits, so that a check that ran during one is known to be out of date.
        self.version = 0

    def close(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)

    # ----------------------------------------------------------------------- the editor's text

    def update(self, path: Path, text: str) -> None:
        """The editor's text of ``path`` (a file of this knowledge base), unsaved or not."""
        target = self.copy / path.resolve().relative_to(self.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        self._stale = True   # loaded again when a hover or a definition asks (a check loads its own)
        self.version += 1

    @property
    def kb(self):
        """The knowledge base as edited, or the last one that loaded (it still answers hovers
        and definitions while a file does not read), or the saved one when the edited one has
        never loaded; None when neither loads."""
        if self._stale:
            from engine.loading.kb import load
            self._stale = False
            try:
                self._kb = load(self.copy)
            except PolicyKBError:
                if self._kb is None:   # nothing has loaded since the server started: the saved files
                    try:
                        self._kb = load(self.root)
                    except PolicyKBError:
                        pass
        return self._kb

    def _real(self, file: str | None) -> Path:
        return real_path(self.root, self.copy, file)

    # ----------------------------------------------------------------------- diagnostics

    def diagnostics(self, scenarios: bool = False) -> dict[Path, list[Diagnostic]]:
        """Every finding of ``policykb check`` (``scenarios``: with the scenarios' findings, as
        ``check`` gives them), by real file (:func:`check_copy`)."""
        return check_copy(self.root, self.copy, scenarios)

    def revert(self, path: Path) -> None:
        """The saved text of ``path`` back in the copy (the editor closed it unsaved, or it
        changed on the disk): the file copied again, or removed from the copy when it is gone."""
        target = self.copy / path.resolve().relative_to(self.root)
        if path.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        elif target.is_file():
            target.unlink()
        self._stale = True
        self.version += 1

    # ----------------------------------------------------------------------- names

    def _place(self, where) -> Place | None:
        if where is None or not getattr(where, "file", None):
            return None
        return Place(self._real(where.file), max((where.line or 1) - 1, 0), max((where.column or 1) - 1, 0))

    def definition(self, name: str) -> Place | None:
        """Where a fact, conclusion, benefit, rule, document, clause, sub-policy or example
        ``name`` is defined."""
        kb = self.kb
        if kb is None:
            return None
        for table in (kb.facts, kb.conclusions, kb.rules, kb.documents, kb.clauses, kb.articles, kb.subpolicies):
            if name in table:
                return self._place(table[name].where)
        folder = kb.examples_dir
        for suffix in (".yaml", ".yml", ".json"):
            if folder is not None and (folder / f"{name}{suffix}").is_file():   # an example a scenario extends
                return Place(self._real(str(folder / f"{name}{suffix}")), 0, 0)
        return None

    def text_of(self, path: Path) -> str:
        """The text of a real file of this knowledge base as the editor has it (the copy's)."""
        try:
            target = self.copy / path.resolve().relative_to(self.root)
            return target.read_text(encoding="utf-8", errors="replace") if target.is_file() else ""
        except (ValueError, OSError):    # a file outside the knowledge base, or unreadable
            return ""

    def document_of(self, path: Path) -> str | None:
        """The id of the document a file of this knowledge base belongs to
        (``documents/<id>/…``, or the only document of a one-document knowledge base), or None."""
        try:
            parts = path.resolve().relative_to(self.root).parts
        except ValueError:
            return None
        if len(parts) > 2 and parts[0] == "documents":
            return parts[1]
        documents = list(self.kb.documents) if self.kb is not None else []
        return documents[0] if len(documents) == 1 else None

    def part(self, ref: str, document: str | None = None):
        """The clause or article ``ref`` as a rule cites it: ``13(1)`` of ``document`` (the
        document whose file cites it) or ``implementation_rules_2021:2(1)``; None if there is none."""
        kb = self.kb
        if kb is None or not ref:
            return None
        owner, _, short = ref.rpartition(":")
        owner = owner or document
        for table in (kb.clauses, kb.articles):
            for key in ([f"{owner}:{short}"] if owner else []) + [short]:
                part = table.get(key)
                if part is not None and (owner is None or part.document == owner):
                    return part
        return None

    def special(self, ref: str, document: str | None = None) -> tuple[str, str] | None:
        """A document's notice or preamble as a rule cites it (``cites: notice``): its
        document and text, or None."""
        kb = self.kb
        if kb is None or ref not in ("notice", "preamble"):
            return None
        home = kb.home        # the document whose parts the knowledge base keys without a prefix
        for owner in (document, home):
            for key in ([f"{owner}:{ref}"] if owner else []) + ([ref] if owner == home else []):
                if key in kb.special_parts:
                    return owner, kb.special_parts[key]
        return None

    def citation_places(self, ref: str, document: str | None = None) -> list[Place]:
        """Where the clause or article ``ref`` is (see :meth:`part`): its entry in
        ``document.yaml`` and its sentence in the published text the document names
        (``source.txt``), when the text is found there."""
        part = self.part(ref, document)
        if part is None:
            special = self.special(ref, document)
            source = self._source_place(self.kb.documents.get(special[0]), special[1]) if special else None
            return [source] if source else []
        places = [p for p in [self._place(part.where)] if p]
        source = self._source_place(self.kb.documents.get(part.document), getattr(part, "text", "") or "")
        return places + ([source] if source else [])

    def _source_place(self, document, text: str) -> Place | None:
        name = (getattr(document, "data", None) or {}).get("source")
        path = Path(document.folder) / name if name else None
        if path is None or not path.is_file() or not text.strip():
            return None
        lines = [line.translate(_SAME_WIDTH) for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
        text = text.strip().translate(_SAME_WIDTH)
        # the clause's number ("(三)", "1.") may be spaced otherwise in the published text
        bare = re.sub(r"^\s*(?:\([一二三四五六七八九十\d]+\)|[\d一二三四五六七八九十]+[.、])\s*", "", text)
        for size, wanted in ((24, text), (24, bare), (12, bare), (6, bare)):
            for number, line in enumerate(lines):
                column = line.find(wanted[:size])
                if column >= 0:
                    return Place(self._real(str(path)), number, column)
        return None

    def citation_references(self, ref: str, document: str | None = None) -> list[Place]:
        """Every place the clause or article ``ref`` is cited (see :meth:`part`): written in
        full (``implementation_rules_2021:2(1)``) anywhere, or by its number in the files of its
        own document."""
        part = self.part(ref, document)
        if part is None:
            return []
        short = short_ref(part)
        full = re.compile(rf"(?<![\w(:]){re.escape(f'{part.document}:{short}')}(?![\w(])")
        bare = re.compile(rf"(?<![\w(:]){re.escape(short)}(?![\w(])")
        return self._written(lambda real: (full, bare) if self.document_of(real) == part.document else (full,))

    def references(self, name: str) -> list[Place]:
        """Every place the id ``name`` is written in the knowledge base's YAML and JSON files
        (scenarios and examples included), in file order."""
        pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")
        return self._written(lambda real: (pattern,))

    def _written(self, patterns_for) -> list[Place]:
        """Where the patterns ``patterns_for(real file)`` match in the copy's YAML and JSON
        files (rules, scenarios, examples…), in file order."""
        found = []
        for path in sorted(p for p in self.copy.rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file()):
            real = self.root / path.relative_to(self.copy)
            patterns = patterns_for(real)
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines()):
                spots = {m.start() for pattern in patterns for m in pattern.finditer(line)}
                found += [Place(real, number, column) for column in sorted(spots)]
        return found

    def hover(self, name: str) -> str | None:
        """What ``name`` is, in Markdown: labels in zh and en, and what kind of thing it is."""
        kb = self.kb
        if kb is None:
            return None
        if name in kb.facts:
            fact = kb.facts[name]
            lines = [f"**{fact.zh}** · {fact.en} · `{name}`", "", f"fact, type `{fact.type}`"
                     + (f", unit {fact.unit}" if fact.unit else "")]
            if fact.values:
                lines += ["", "values: " + ", ".join(f"`{v}` {w.get('zh', '')}" for v, w in fact.values.items())]
            return "\n".join(lines)
        if name in kb.conclusions:
            conclusion = kb.conclusions[name]
            rules = [r for r in kb.rules.values() if r.then == name]
            lines = [f"**{conclusion.zh}** · {conclusion.en} · `{name}`", "",
                     f"{conclusion.kind} of `{conclusion.document}`, concluded by {len(rules)} rule(s)"]
            for rule in rules[:3]:
                lines += ["", *self._clause_lines(rule.document, rule.cites)]
                if rule.amount is not None:
                    lines += ["", f"amount (`{rule.id}`): {amount_terms(rule.amount, kb)}"]
            return "\n".join(lines)
        if name in kb.rules:
            rule = kb.rules[name]
            explain = rule.explain or {}
            lines = [f"rule `{name}` → `{rule.then}`"]
            for lang in ("zh", "en"):
                lines += ["", explain[lang]] if explain.get(lang) else []
            if rule.quote:
                lines += ["", f"quote: {rule.quote}"]
            if rule.amount is not None:
                lines += ["", f"amount: {amount_terms(rule.amount, kb)}"]
            return "\n".join(lines + ["", *self._clause_lines(rule.document, rule.cites)])
        return None

    def value_hover(self, word: str, text: str, line: int) -> str | None:
        """An enum value (``purchased``) of the fact its condition, or its scenario line, tests."""
        kb = self.kb
        lines = text.splitlines()
        if kb is None or not 0 <= line < len(lines):
            return None
        current = lines[line]
        key = re.match(r"\s*(?:-\s*)?([a-z_][a-z0-9_]*)\s*:", current)
        fact = fact_tested(lines[:line], current) or (key.group(1) if key else None)
        values = kb.facts[fact].values if fact in kb.facts else None
        if not values or word not in values:
            return None
        words = values[word]
        return f"**{words.get('zh', '')}** · {words.get('en', '')} · `{word}`\n\na value of `{fact}` ({kb.facts[fact].zh} · {kb.facts[fact].en})"

    def citation_hover(self, document: str | None, ref: str) -> str | None:
        """The clause ``ref`` (``13(1)``) of ``document``, with its text."""
        lines = self._clause_lines(document, ref)
        return "\n".join(lines) if lines else None

    def _clause_lines(self, document: str | None, ref: str | None) -> list[str]:
        part = self.part(ref, document) if ref else None
        if part is None:
            special = self.special(ref, document) if ref else None
            return [f"`{special[0]}:{ref}`", "", "> " + special[1].replace("\n", "\n> ")] if special else []
        text = getattr(part, "text", "") or ""
        title = " · ".join(t for t in (getattr(part, "title", ""), getattr(part, "title_en", "")) if t)
        return [f"`{part.document}:{short_ref(part)}`" + (f" {title}" if title else ""), "", "> " + text.replace("\n", "\n> ")]

    def rename(self, name: str, new: str) -> dict[Path, list[tuple[int, int]]]:
        """Where to write ``new`` for the fact or conclusion ``name`` in every file of the
        knowledge base (scenarios and examples included): ``{file: [(line, column), …]}``.

        Raises
        ------
        PolicyKBError
            For a name that is no fact or conclusion, a new name that is no id, or one taken.
        """
        kb = self.kb
        if kb is None or (name not in kb.facts and name not in kb.conclusions):
            raise PolicyKBError(f"'{name}' is not a fact or a conclusion: only they are renamed here",
                                zh=f"“{name}”不是事实或结论：这里只能重命名事实和结论")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", new or ""):
            raise PolicyKBError(f"'{new}' is not an id: write lower_snake_case", zh=f"“{new}”不是标识：请用小写字母和下划线")
        taken = set(kb.facts) | set(kb.conclusions) | set(kb.rules) | set(kb.documents)
        if new in taken:
            raise PolicyKBError(f"'{new}' is taken", zh=f"“{new}”已被使用")
        found: dict[Path, list[tuple[int, int]]] = {}
        for place in self.references(name):
            found.setdefault(place.path, []).append((place.line, place.column))
        return found


def real_path(root: Path, copy: Path, file: str | None) -> Path:
    """The real file behind a file of the copy (a file elsewhere is itself)."""
    if not file:
        return root / "facts.yaml"
    path = Path(file)
    path = path if path.is_absolute() else Path.cwd() / path
    try:
        return root / path.resolve().relative_to(copy.resolve())
    except ValueError:
        return path


def check_copy(root: Path, copy: Path, scenarios: bool = False, tests: bool = False) -> dict[Path, list[Diagnostic]]:
    """Every finding of ``policykb check`` on the copy ``copy`` of the knowledge base ``root``
    (``tests``: and every scenario ``policykb test`` fails, code ``scenario-fails``), by real
    file, the copy's folder named as the real one in the messages. A function of its own so
    that the whole check can run in another process (engine.lsp.server)."""
    from engine.authoring.lint import lint
    found: dict[Path, list[Diagnostic]] = _failing_scenarios(root, copy) if tests else {}
    for finding in lint(copy, scenarios=scenarios):
        place = Place(real_path(root, copy, finding.file), max((finding.line or 1) - 1, 0),
                      max((finding.column or 1) - 1, 0))
        proposed = None
        if getattr(finding, "profile", None) and getattr(finding, "output", None) and finding.scenario:
            proposed = {"rule": finding.rule_id, "condition": finding.condition, "gap": finding.gap,
                        "profile": finding.profile, "output": finding.output,
                        "scenario": str(real_path(root, copy, finding.scenario))}
        message = finding.message.replace(str(copy.resolve()), str(root)).replace(str(copy), str(root))
        found.setdefault(place.path, []).append(
            Diagnostic(place, finding.severity, finding.code, message, finding.suggestion, proposed))
    return found


def _failing_scenarios(root: Path, copy: Path) -> dict[Path, list[Diagnostic]]:
    """The scenarios whose output differs from what they expect, at their name's line (a
    knowledge base or scenario file that does not read is check's finding, not this)."""
    from engine.authoring.scenarios import load_scenarios, run
    from engine.loading.kb import load
    try:
        kb = load(copy)
        scenarios = load_scenarios(kb)
    except PolicyKBError:
        return {}
    found: dict[Path, list[Diagnostic]] = {}
    for scenario in scenarios:
        try:
            problems = run(scenario, kb)
        except PolicyKBError as exc:
            problems = [exc.message]
        if problems:
            place = Place(real_path(root, copy, scenario.file), max((scenario.line or 1) - 1, 0), 0)
            found.setdefault(place.path, []).append(Diagnostic(
                place, "error", "scenario-fails", f"scenario '{scenario.name}' fails: " + "; ".join(problems)))
    return found


def amount_terms(amount, kb=None) -> str:
    """A rule's amount as its terms, as a rule author reads them: basis, minimum and maximum
    in yuan, share as a percentage of a fact, caps, years, what the text says of it."""
    from engine.explaining.wording import format_money, number_text, period_words

    def money(value) -> str:
        return f"{format_money(value, 'zh')} ({format_money(value, 'en')})"
    parts = [f"basis `{amount.basis}`"]
    for name in ("min", "max"):
        value = getattr(amount, name)
        if value is not None:
            parts.append(f"{name} {money(value)}")
    if amount.share is not None:
        parts.append(f"{number_text(Fraction(amount.share) * 100)}% of `{amount.of}`"
                     + (f" ({amount.share_is})" if getattr(amount, "share_is", None) else ""))
    for cap in amount.caps or []:
        if "per_unit" in cap:
            unit = kb.facts[cap["per"]].unit if kb is not None and cap.get("per") in kb.facts else None
            parts.append(f"at most {money(cap['per_unit'])} per {unit or ''} of `{cap.get('per')}`".replace("per  of", "per unit of"))
        elif "max" in cap:
            parts.append(f"at most {money(cap['max'])}")
    if amount.per_year:
        parts.append(f"{period_words(amount.per_year, 'zh')} · {period_words(amount.per_year, 'en')}")
    for services in [amount.services] if amount.services else []:
        parts.append("services: " + ", ".join(f"{s.get('zh', '')} ({s.get('en', '')})" for s in services))
    if amount.terms:
        parts.append(f"{amount.terms.get('zh', '')} · {amount.terms.get('en', '')}")
    return "; ".join(parts)


def _around(text: str, line: int, character: int) -> tuple[str, int] | None:
    """The part of line ``line`` around ``character`` a name can span, and where it starts."""
    lines = text.splitlines()
    if not 0 <= line < len(lines):
        return None
    start = max(character - _REACH, 0)
    return lines[line][start:character + _REACH], start


def word_at(text: str, line: int, character: int, known=()) -> str | None:
    """The id under the cursor (line and character 0-based), or None: a rule's dotted id
    (``settlement_subsidy.capital_threshold``) when it is one of ``known``, else the plain id."""
    found = _around(text, line, character)
    if found is None:
        return None
    part, start = found
    for pattern, wanted in ((_DOTTED, known), (WORD, None)):
        for match in pattern.finditer(part):
            if match.start() + start <= character <= match.end() + start and (wanted is None or match.group() in wanted):
                return match.group()
    return None


def citation_at(text: str, line: int, character: int) -> str | None:
    """A citation (``13(1)``, ``implementation_rules_2021:2(1)``) under the cursor, or None."""
    found = _around(text, line, character)
    if found is None:
        return None
    part, start = found
    for match in _CITATION.finditer(part):
        if match.start() + start <= character <= match.end() + start:
            return match.group()
    return None
