"""Loading and validating a knowledge base (``kb/``) into the model (:mod:`engine.model`).

A knowledge base is a folder of YAML files:

- ``knowledge_base.yaml`` — the documents encoded, in order (the first is the *home* document,
  whose articles are cited without a prefix), and what holds between them: benefits of
  different documents that pay for the same thing (``overlaps``) and newer-prevails relations;
- ``facts.yaml`` — the input facts of a profile, one vocabulary shared by every document;
- ``documents/<id>/`` — one folder per document: ``document.yaml`` (its metadata, which parts
  of its text are available, its articles and clauses), its published text, its
  ``conclusions.yaml``, optionally ``subpolicies.yaml`` (the policies it defers to), and
  ``rules/*.yaml`` — the rules, each citing ``document:article(clause)`` (the document's own
  articles without a prefix), and precedence rules;
- ``examples/`` and ``scenarios/`` — profiles and expected results (not part of the logic).

A folder holding ``document.yaml``, ``subpolicies.yaml``, ``conclusions.yaml`` and ``rules/``
at its top (the layout of a one-document knowledge base) is read as one document.

:func:`load` reads them safely, checks every key, reference, value and citation, and returns a
:class:`~engine.model.KnowledgeBase`. Every problem is a :class:`~engine.errors.KnowledgeBaseError`
naming the file and line, with the nearest known name where one exists. Each file is read by a
module of its own: :mod:`.documents`, :mod:`.vocabulary`, :mod:`.rules`, :mod:`.relations`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from engine.errors import KnowledgeBaseError, nearest
from engine.loading.documents import Citations, read_document
from engine.loading.reader import Reader
from engine.loading.relations import INDEX_FILE, read_relations
from engine.loading.rules import read_rules_file
from engine.loading.vocabulary import read_conclusions, read_facts, read_subpolicies
from engine.loading.yamlio import load_file
from engine.model import Document, KnowledgeBase, settle

LOGIC_FILES = ("document.yaml", "subpolicies.yaml", "facts.yaml", "conclusions.yaml")
#: The folder that holds the documents of a knowledge base with an index.
DOCUMENTS_DIR = "documents"


def load(path: str | Path | None = None) -> KnowledgeBase:
    """Load and validate a knowledge base folder (default: the bundled one).

    Raises
    ------
    KnowledgeBaseError
        For any malformed file, unknown key, unresolved reference, bad value, wrong citation
        (including a citation of a part of a document whose text is not available), duplicate
        id, or cycle among conclusions; the error names the file and line.
    """
    root = kb_folder(path)
    if not root.is_dir():
        raise KnowledgeBaseError("knowledge base folder not found", file=str(root))
    if not (root / "facts.yaml").is_file():
        raise KnowledgeBaseError("the knowledge base has no facts.yaml", file=str(root / "facts.yaml"))
    index = load_file(root / INDEX_FILE, KnowledgeBaseError) if (root / INDEX_FILE).is_file() else None
    folders = _document_folders(root, index)
    citations = Citations()
    documents: dict[str, Document] = {}
    files: list[Path] = [root / "facts.yaml"] + ([root / INDEX_FILE] if index is not None else [])
    for folder in folders:
        document = read_document(folder, citations, home=not documents)
        if document.id in documents:
            raise KnowledgeBaseError(f"document '{document.id}' is encoded twice (first in "
                                     f"{documents[document.id].folder})", file=document.where.file,
                                     line=document.where.line)
        documents[document.id] = document
    facts = read_facts(load_file(root / "facts.yaml", KnowledgeBaseError), str(root / "facts.yaml"), citations, None)
    kb = KnowledgeBase(root=root, document=documents[next(iter(documents))].data, articles=citations.articles,
                       clauses=citations.clauses, subpolicies={}, facts=facts, conclusions={}, rules={},
                       precedence=[], version="", documents=documents, special_parts=citations.special,
                       citations=citations)
    rule_files = []
    for document in documents.values():
        folder = document.folder
        files += [folder / "document.yaml", folder / "conclusions.yaml"]
        if (folder / "subpolicies.yaml").is_file():
            files.append(folder / "subpolicies.yaml")
            kb.subpolicies.update(read_subpolicies(load_file(folder / "subpolicies.yaml", KnowledgeBaseError),
                                               str(folder / "subpolicies.yaml"), citations, document.id,
                                               kb.subpolicies))
        kb.conclusions.update(read_conclusions(load_file(folder / "conclusions.yaml", KnowledgeBaseError),
                                           str(folder / "conclusions.yaml"), citations, document.id, facts,
                                           kb.conclusions))
        rule_files += [(document.id, f) for f in sorted((folder / "rules").glob("*.yaml"))]
    if not rule_files:
        raise KnowledgeBaseError("the knowledge base has no rules/*.yaml", file=str(folders[0] / "rules"))
    for document_id, rule_file in rule_files:
        read_rules_file(kb, load_file(rule_file, KnowledgeBaseError), str(rule_file), document_id)
    # After every file is read and checked (a file too big is refused before it is read whole).
    kb.version = _version(root, files + [f for _, f in rule_files])
    if index is not None:
        read_relations(kb, index, str(root / INDEX_FILE))
    settle(kb)
    return kb


def _document_folders(root: Path, index) -> list[Path]:
    """The document folders, home first: those the index lists, or the root itself when it is
    a one-document knowledge base."""
    if index is None:
        for name in LOGIC_FILES:
            if not (root / name).is_file():
                raise KnowledgeBaseError(f"the knowledge base has no {name} (nor a {INDEX_FILE} listing "
                                         f"{DOCUMENTS_DIR}/)", file=str(root / name))
        return [root]
    top = Reader(index, INDEX_FILE, str(root / INDEX_FILE))
    top.keys(("documents",), ("overlaps", "newer_prevails"))
    listed = [str(d) for d in top.list("documents")]
    folder = root / DOCUMENTS_DIR
    present = sorted(p.name for p in folder.iterdir() if (p / "document.yaml").is_file()) if folder.is_dir() else []
    if not listed:
        raise top.error("'documents' lists no document", "documents")
    for name in listed:
        if name not in present:
            raise top.error(f"document '{name}' has no folder {DOCUMENTS_DIR}/{name}/ with a document.yaml",
                            "documents", suggestion=nearest(name, present))
    for name in present:
        if name not in listed:
            raise top.error(f"{DOCUMENTS_DIR}/{name}/ is not listed under 'documents'", "documents")
    return [root / DOCUMENTS_DIR / name for name in listed]


def kb_folder(path: str | Path | None) -> Path:
    """The folder a ``--kb`` option (or a ``kb=`` argument) names; ``None`` is the bundled one.

    An empty or blank name is refused: taken as "no option" it would silently check or
    evaluate against the bundled knowledge base, and as a path it would be the current folder.

    Raises
    ------
    KnowledgeBaseError
        For an empty or blank name.
    """
    if path is None:
        return bundled_kb()
    if not str(path).strip():
        raise KnowledgeBaseError(f"--kb {str(path)!r} is empty: name a knowledge base folder (e.g. --kb kb; "
                                 "for diff, --old and --new), or leave --kb out to use the bundled one")
    return Path(path)


def bundled_kb() -> Path:
    """The knowledge base shipped with the package (installed) or beside it (source checkout)."""
    package = Path(__file__).resolve().parents[1]    # engine/, this file being engine/loading/kb.py
    installed = package / "kb"
    if (installed / "facts.yaml").is_file():
        return installed
    return package.parent / "kb"


def is_kb_folder(folder: Path) -> bool:
    """Whether ``folder`` is the top of a knowledge base (either layout)."""
    return (folder / "facts.yaml").is_file() and (
        (folder / INDEX_FILE).is_file() or (folder / "document.yaml").is_file())


def _version(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()[:16]
