"""``policykb draft``: a first encoding of a new document, written from its published text for
a rule author to review.

From ``SOURCE.txt`` it writes, into ``documents/<ID>/`` of ``--kb`` (or ``./<ID>/``):

- ``source.txt`` — the text normalised (full-width punctuation, one article or clause a line);
- ``document.yaml`` — the metadata the text gives (title, 文号, issuer, dates; ``null`` where it
  gives none) and every article and clause, in the format the loader reads, with ``TODO:``
  where only a person can write the value (English titles, glosses);
- ``rules/draft.yaml`` — a rule for each sentence that grants something, marked ``draft: true``,
  citing its article or clause and quoting the sentence, with the conditions and amount the
  sentence states, named with the knowledge base's facts where its words are a fact's label,
  and ``review:`` notes saying what was read and what to check.

The text is read by :mod:`engine.authoring.draft_text`; here its findings are matched with the
knowledge base's vocabulary and the files are written. :func:`recall` measures, on the shipped
texts, how much of the hand-written knowledge base the draft finds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from engine.authoring import draft_text as text_
from engine.authoring.draft_rules import AMOUNT_KINDS, TODO, Flow, Names, Vocabulary, read_vocabulary, rule
from engine.errors import ProfileError
from engine.loading.kb import kb_folder
from engine.loading.reader import normalize
from engine.loading.values import parse_money, parse_percent

#: The largest text ``draft`` reads.
MAX_SOURCE_BYTES = 4 * 2**20


# ---------------------------------------------------------------- the document

@dataclass
class Draft:
    """A drafted document: the three files' contents and what the report counts."""

    document_id: str
    source: str
    document: dict
    rules: list[dict]
    new_facts: list[dict]
    new_subpolicies: dict[str, str]
    counts: dict[str, int]
    not_found: list[str]


def draft(text: str, document_id: str, vocabulary: Vocabulary) -> Draft:
    """Draft a document from its published text.

    Raises
    ------
    ProfileError
        When the text has no article (第一条 …, or 一、 …).
    """
    parsed = text_.parse(text)
    if not parsed.articles:
        raise ProfileError("no article found (a line starting 第一条 or 一、): is this the text of a policy?")
    names = Names(vocabulary, document_id)
    rules, amounts = [], 0
    for unit in (u for article in parsed.articles for u in [article] + article.clauses):
        for index, sentence in enumerate(text_.sentences(unit), 1):
            rules.append(rule(f"draft_{unit.ref.replace('(', '_').rstrip(')')}.grant_{index}", unit, sentence, names))
            amounts += sum(f.kind in AMOUNT_KINDS for f in text_.analyse(sentence))
    document = _document(parsed, document_id)
    missing = [key for key in ("issuer", "issue_date", "effective_date") if document["document"][key] is None]
    counts = {"articles": len(parsed.articles), "clauses": sum(len(a.clauses) for a in parsed.articles),
              "rules": len(rules), "amounts": amounts, "new_facts": len(names.new_facts)}
    return Draft(document_id, "\n".join(parsed.lines) + "\n", document, rules, list(names.new_facts.values()),
                 names.new_subpolicies, counts, missing)


def _document(parsed: text_.Parsed, document_id: str) -> dict:
    """document.yaml: the metadata the text gives, ``null`` for a date it does not give."""
    header = parsed.header
    meta = {"id": document_id, "doc_number": header.get("doc_number"),
            "title": header.get("title") or TODO + "the document's title",
            "title_en": TODO + "the title in English",
            "issuer": header.get("issuer"), "issuer_en": TODO + "the issuer in English" if header.get("issuer") else None,
            "issue_date": header.get("issue_date")}
    if header.get("print_date"):
        meta["print_date"] = header["print_date"]
    meta["effective_date"] = header.get("effective_date")
    if header.get("validity_years"):
        meta["validity_years"] = header["validity_years"]
    meta["expiry_date"] = header.get("expiry_date")
    if header.get("interpreting_body"):
        meta.update(interpreting_body=header["interpreting_body"], interpreting_body_en=TODO + "in English")
    meta["source"] = "source.txt"
    if parsed.gaps:
        meta["available"] = TODO + "which parts of the text are available"
        meta["missing"] = [gap.removeprefix("[gap:").removesuffix("]").strip() for gap in parsed.gaps]
    meta["notes"] = _document_notes(header, parsed)
    for key in ("notice", "preamble"):
        if header.get(key):
            meta[key] = header[key]
    return {"document": meta, "articles": [_article(a) for a in parsed.articles]}


def _document_notes(header: dict, parsed: text_.Parsed) -> str:
    notes = ["Drafted by policykb draft from source.txt: check every value against the text."]
    if header.get("issue_date"):
        notes.append("issue_date is the date under the issuer's name.")
    if header.get("effective_from_issue"):
        notes.append("effective_date: 自印发之日起施行, read as the issue date.")
    if header.get("expiry_computed"):
        notes.append(f"expiry_date: {header['validity_years']} years from effective_date, the day before the "
                     "same date (有效期) — a reading to confirm.")
    missing = [key for key in ("issuer", "issue_date", "effective_date", "expiry_date") if not header.get(key)]
    if missing:
        notes.append(f"Not found in the text: {', '.join(missing)} (null).")
    if parsed.skipped:
        notes.append(f"Articles {', '.join(parsed.skipped)} are not in the text: the loader numbers articles 1 to N.")
    return " ".join(notes)


def _article(unit: text_.Unit) -> dict:
    item = {"article": unit.number, **_part(unit)}
    if unit.clauses:
        item["clauses"] = [{"clause": c.ref, **_part(c)} for c in unit.clauses]
    return item


def _part(unit: text_.Unit) -> dict:
    part = {"title": unit.title or TODO + "a short heading (the text gives none)",
            "title_en": TODO + "the heading in English",
            "gloss": TODO + "one sentence in English saying what it provides", "text": unit.text}
    if unit.partial:
        part["partial"] = True
    return part


# ---------------------------------------------------------------- files

class _Dumper(yaml.SafeDumper):
    """YAML as the knowledge base writes it: keys in order, Chinese as is, lists indented,
    conditions on one line."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


_Dumper.add_representer(Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items(),
                                                                   flow_style=True))


def dump(data) -> str:
    """``data`` as YAML text, the same bytes for the same data."""
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10**6,
                     default_flow_style=False)


def files(result: Draft) -> dict[str, str]:
    """The three files' contents, by path in the document's folder: the same draft, the same bytes."""
    document = ("# yaml-language-server: $schema=../../../schemas/document.schema.json\n"
                "# Drafted by `policykb draft` from source.txt. Write every value marked TODO, and check the\n"
                "# title, issuer and dates against the text (a date the text does not give is null).\n")
    rules = ("# yaml-language-server: $schema=../../../../schemas/rules.schema.json\n"
             "# Draft rules written by `policykb draft`: one for each sentence that grants something, each\n"
             "# marked `draft: true`. Review every rule (its `review` notes say what was read), write its\n"
             "# benefit, explain and notes, then delete `draft: true` and `review` (docs/authoring.md).\n")
    extra = ""
    if result.new_facts:
        extra += "\n# Facts these drafts propose, for facts.yaml once named in English:\n"
        for fact in result.new_facts:
            extra += (f"#   - id: {fact['id']}\n#     type: {fact['type']}\n#     zh: {fact['zh']}\n"
                      f"#     en: TODO\n#     source: \"{fact['source']}\"\n")
            extra += "#     administrative: true\n" if fact["administrative"] else ""
    if result.new_subpolicies:
        extra += "\n# Sub-policies these drafts propose, for subpolicies.yaml:\n"
        extra += "".join(f"#   - id: {sid}\n#     title: {title}\n" for title, sid in result.new_subpolicies.items())
    return {"source.txt": result.source, "document.yaml": document + dump(result.document),
            "rules/draft.yaml": rules + dump({"rules": result.rules}) + extra}


def write(result: Draft, out: Path, force: bool = False) -> list[Path]:
    """Write the draft's files into ``out``.

    Raises
    ------
    ProfileError
        When ``out`` is a file, or a folder that already holds files and ``force`` is false,
        or a file cannot be written.
    """
    if out.exists() and not out.is_dir():
        raise ProfileError(f"{out} is a file, not a folder: choose another --out")
    try:
        held = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    except OSError as exc:
        raise ProfileError(f"cannot read the folder {out}: {exc.strerror or exc}") from None
    if held and not force:
        raise ProfileError(f"{out} already exists and holds {', '.join(held[:4])}{'…' if len(held) > 4 else ''}: "
                           "pass --force to replace source.txt, document.yaml and rules/draft.yaml, "
                           "or choose another --out")
    written = []
    for name, content in files(result).items():
        path = out / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8", newline="\n")
        except OSError as exc:
            raise ProfileError(f"cannot write {path}: {exc.strerror or exc}") from None
        written.append(path)
    return written


def read_source(path: Path) -> str:
    """A published text: UTF-8 (with or without a BOM) or GB18030, as Chinese Windows saves it.

    Raises
    ------
    ProfileError
        When the file is missing, a folder, unreadable, too large, binary, or in neither encoding.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProfileError("no such file", file=str(path)) from None
    except IsADirectoryError:
        raise ProfileError("is a folder, not a text file", file=str(path)) from None
    except OSError as exc:
        raise ProfileError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    if len(data) > MAX_SOURCE_BYTES:   # a policy's text is a few dozen kilobytes
        raise ProfileError(f"larger than {MAX_SOURCE_BYTES // 2**20} MiB: is this the text of one policy?",
                           file=str(path))
    if b"\0" in data:
        raise ProfileError("not a text file (it has a NUL byte): give the policy's text as UTF-8", file=str(path))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ProfileError("neither UTF-8 nor GB18030 text: save it as UTF-8", file=str(path))


# ---------------------------------------------------------------- the command

_REPORT = {
    "zh": ("policykb draft：{id} — {title}\n"
           "  已写入 {out}/：source.txt、document.yaml、rules/draft.yaml\n"
           "  {articles} 条、{clauses} 项；草拟规则 {rules} 条（draft: true），找到金额 {amounts} 个"
           "（金额、比例、上限），新事实 {new_facts} 个{missing}\n"
           "下一步：\n"
           "  1. 逐条审阅 rules/draft.yaml 中的草拟规则：核对 review 所列的条件与金额，填写 then、explain，"
           "确认后删除 draft: true 和 review；\n"
           "  2. 填写 document.yaml 中标为 TODO 的字段（英文标题、释义），核对标题、发布机关和日期；\n"
           "  3. 把新事实（new_fact_…）以英文命名后加入 facts.yaml，编写 conclusions.yaml，"
           "并在 knowledge_base.yaml 的 documents 中列出 {id}；\n"
           "  4. 运行 policykb check --kb KB --strict 和 policykb test --kb KB。详见 docs/authoring.md。"),
    "en": ("policykb draft: {id} — {title}\n"
           "  wrote {out}/: source.txt, document.yaml, rules/draft.yaml\n"
           "  {articles} articles, {clauses} clauses; {rules} draft rules (draft: true), {amounts} amounts found "
           "(sums, shares, caps), {new_facts} new facts{missing}\n"
           "Next:\n"
           "  1. review each draft rule in rules/draft.yaml: check the conditions and amount its review notes list, "
           "write then and explain, then delete draft: true and review;\n"
           "  2. write the values marked TODO in document.yaml (English titles, glosses); check the title, issuer "
           "and dates;\n"
           "  3. name the new facts (new_fact_…) in English and add them to facts.yaml, write conclusions.yaml, "
           "and list {id} under documents in knowledge_base.yaml;\n"
           "  4. run policykb check --kb KB --strict and policykb test --kb KB. See docs/authoring.md."),
}
_DATES = {"zh": {"issuer": "发布机关", "issue_date": "发布日期", "effective_date": "施行日期"},
          "en": {"issuer": "issuer", "issue_date": "issue date", "effective_date": "effective date"}}


def report(result: Draft, out: Path, lang: str = "zh") -> str:
    """The few lines ``draft`` prints: what it wrote, what it found, what to do next."""
    missing = ""
    if result.not_found:
        dates = [_DATES[lang][d] for d in result.not_found]
        missing = ("；文本中未找到" + "、".join(dates) + "（写为 null）") if lang == "zh" else \
            f"; not in the text: {', '.join(dates)} (null)"
    return _REPORT[lang].format(id=result.document_id, title=result.document["document"]["title"],
                                out=out, missing=missing, **result.counts)


def command(args) -> int:
    """``policykb draft SOURCE --id ID [--out DIR] [--force] [--lang zh|en] [--kb DIR]``.

    Raises
    ------
    ProfileError
        For a bad id, an unreadable text, a text with no article, or a folder it may not write.
    KnowledgeBaseError
        When ``--kb`` is not a knowledge base.
    """
    document_id = str(args.id or "").strip()
    if not re.fullmatch(r"[a-z][a-z0-9_]*", document_id):
        raise ProfileError(f"--id {args.id!r} is not lower_snake_case: write e.g. culture_industry_measures_2023")
    text = read_source(Path(args.source))
    vocabulary = read_vocabulary(kb_folder(getattr(args, "kb", None)))
    try:
        result = draft(text, document_id, vocabulary)
    except ProfileError as exc:
        raise ProfileError(exc.message, file=str(args.source)) from None
    out = Path(args.out) if getattr(args, "out", None) else (
        Path(args.kb) / "documents" / document_id if getattr(args, "kb", None) else Path(document_id))
    write(result, out, getattr(args, "force", False))
    print(report(result, out, getattr(args, "lang", "zh")))
    kb = getattr(args, "kb", None)
    if kb and out.resolve() == (Path(kb) / "documents" / document_id).resolve():
        for line in register(Path(kb), document_id):
            print(line)
    return 0


_CONCLUSIONS = ("# yaml-language-server: $schema=../../../schemas/conclusions.schema.json\n"
                "# The conclusions and benefits of this document's rules: write one for each reviewed rule's `then`.\n"
                "conclusions: []\nbenefits: []\n")


def register(kb: Path, document_id: str) -> list[str]:
    """Make a drafted document part of the knowledge base at once, so that ``check --kb`` loads it
    and lists what is left to review: an empty ``conclusions.yaml`` beside the draft, and the
    document listed in ``knowledge_base.yaml`` (neither touched when already there)."""
    said = []
    folder = kb / "documents" / document_id
    if not (folder / "conclusions.yaml").exists():
        (folder / "conclusions.yaml").write_text(_CONCLUSIONS, encoding="utf-8", newline="\n")
        said.append(f"  wrote {folder / 'conclusions.yaml'} (empty: one benefit or conclusion per reviewed rule)")
    index = kb / "knowledge_base.yaml"
    if index.is_file():
        text = index.read_text(encoding="utf-8")
        head, sep, rest = text.partition("\ndocuments:\n")
        lines = rest.split("\n")
        end = next((n for n, line in enumerate(lines) if not line.startswith("  - ")), len(lines))
        listed = [line[4:].split("#")[0].strip() for line in lines[:end]]
        if sep and document_id not in listed:
            lines.insert(end, f"  - {document_id}")
            index.write_text(head + sep + "\n".join(lines), encoding="utf-8", newline="\n")
            said.append(f"  listed {document_id} in {index}")
    return said


# ---------------------------------------------------------------- recall

def recall(kb) -> dict:
    """How much of a hand-written knowledge base the draft of its own texts finds.

    For each document: its articles and clauses the draft finds with the same text (all of an
    article's text, or its own and its clauses' together where the draft splits 1. items into
    clauses), and the money and shares of its rules' amounts (range min and max, up_to, share,
    caps' max and per_unit, a cumulative cap's max) that are among the draft amounts of the same
    article or clause.
    Returns ``{"parts": {"found", "total", "missed"}, "amounts": {…}, "documents": {id: {…}}}``.

    Raises
    ------
    ProfileError
        When a document's published text cannot be read.
    """
    vocabulary = read_vocabulary(kb.root)
    totals = {"parts": {"found": 0, "total": 0, "missed": []}, "amounts": {"found": 0, "total": 0, "missed": []}}
    documents = {}
    for document in kb.documents.values():
        path = document.folder / str(document.data.get("source") or "source.txt")
        result = draft(read_source(path), document.id, vocabulary)
        measured = {"parts": _parts(kb, document.id, result), "amounts": _amounts_recall(kb, document.id, result)}
        documents[document.id] = measured
        for key, part in measured.items():
            for field_ in ("found", "total", "missed"):
                totals[key][field_] += part[field_]
    return {**totals, "documents": documents}


def _parts(kb, document_id: str, result: Draft) -> dict:
    drafted = {str(a["article"]): a for a in result.document["articles"]}
    clauses = {c["clause"]: c for a in drafted.values() for c in a.get("clauses", [])}
    found, missed = 0, []
    for article in (a for a in kb.articles.values() if a.document == document_id):
        mine = drafted.get(str(article.number))
        whole = mine and "".join([mine["text"]] + [c["text"] for c in mine.get("clauses", [])])
        if mine and normalize(article.text) in (normalize(mine["text"]), "" if article.clauses else normalize(whole)):
            found += 1
        else:
            missed.append(article.ref)
        for clause in article.clauses:
            theirs = clauses.get(kb.local(clause.id))
            if theirs and normalize(theirs["text"]) == normalize(clause.text):
                found += 1
            else:
                missed.append(clause.id)
    return {"found": found, "total": found + len(missed), "missed": missed}


def _amounts_recall(kb, document_id: str, result: Draft) -> dict:
    proposed: dict[str, set] = {}
    for draft_rule in result.rules:
        proposed.setdefault(draft_rule["cites"], set()).update(_drafted_values(draft_rule["amount"]))
    found, missed = 0, []
    for hand in (r for r in kb.rules.values() if r.document == document_id and r.amount is not None):
        for value in _hand_values(hand.amount):
            if value in proposed.get(kb.local(hand.cites), set()):
                found += 1
            else:
                missed.append(f"{hand.id}: {value[0]} {value[1]}")
    return {"found": found, "total": found + len(missed), "missed": missed}


def _hand_values(amount) -> list[tuple]:
    values = [("money", amount.min), ("money", amount.max)] if amount.basis in ("range", "up_to") else []
    if amount.basis == "share":
        values.append(("share", amount.share))
        for cap in amount.caps:
            values.append(("money", cap["max"]) if "max" in cap else ("per_unit", cap["per_unit"]))
    if getattr(amount, "cumulative", None):
        values.append(("money", amount.cumulative["max"]))
    return [v for v in values if v[1] is not None]


def _drafted_values(amount: dict) -> set[tuple]:
    values = {("money", parse_money(v)) for v in (amount.get("range") or {}).values()}
    if "up_to" in amount:
        values.add(("money", parse_money(amount["up_to"])))
    if "share" in amount:
        values.add(("share", parse_percent(amount["share"])))
    for cap in amount.get("caps") or []:
        values.add(("money", parse_money(cap["max"])) if "max" in cap else ("per_unit", parse_money(cap["per_unit"])))
    if "cumulative" in amount:
        values.add(("money", parse_money(amount["cumulative"]["max"])))
    return values
