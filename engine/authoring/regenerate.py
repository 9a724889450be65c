"""The files generated from a knowledge base, made again by one command: ``policykb regenerate``.

A repository holding a knowledge base (``kb/``) commits two things made from it: the JSON
Schema of profiles (``schemas/profile.schema.json``, from the facts, for editors) and the
diagrams (``diagrams/``, from the graph). After a rule author's change — a fact, a rule, a
document — both are made again by ``policykb regenerate --kb kb``; :func:`stale` names the files
that differ from what the knowledge base now gives, and the tests say which command to run.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from engine.errors import ProfileError
from engine.loading.schemas import profile_schema
from engine.model import KnowledgeBase

#: The command a person runs to make the generated files again.
COMMAND = "policykb regenerate --kb kb"
PROFILE_SCHEMA = Path("schemas") / "profile.schema.json"
DIAGRAMS = Path("diagrams")


def _write_generated(kb: KnowledgeBase, root: Path) -> list[Path]:
    """Write every generated file under ``root`` (relative paths as in a repository)."""
    from engine.rendering.graph import build, title
    from engine.rendering.render import write_all
    (root / PROFILE_SCHEMA).parent.mkdir(parents=True, exist_ok=True)
    (root / PROFILE_SCHEMA).write_text(json.dumps(profile_schema(kb), ensure_ascii=False, indent=2) + "\n",
                                       encoding="utf-8")
    written = [root / PROFILE_SCHEMA]
    written += write_all(build(kb), title(kb), root / DIAGRAMS)
    return [path.relative_to(root) for path in written]


def stale(kb: KnowledgeBase, root: Path) -> list[str]:
    """The generated files under ``root`` that are missing or differ from what ``kb`` gives now."""
    with tempfile.TemporaryDirectory(prefix="policykb-regenerate-") as scratch:
        fresh = Path(scratch)
        names = _write_generated(kb, fresh)
        return [name.as_posix() for name in names
                if not (root / name).is_file() or (root / name).read_bytes() != (fresh / name).read_bytes()]


def regenerate(kb: KnowledgeBase, root: Path) -> list[str]:
    """Make every generated file under ``root`` again; the files whose content changed.

    Raises
    ------
    ProfileError
        When a file cannot be written, or Graphviz (``dot``) is missing for the drawings.
    """
    changed = stale(kb, root)
    try:
        _write_generated(kb, root)
    except OSError as exc:
        raise ProfileError(f"cannot write the generated files: {exc.strerror}", file=str(root)) from None
    return changed


def command(args) -> int:
    """``policykb regenerate [--kb DIR] [--out DIR]``: the files are written under ``--out``, by
    default the folder that holds the knowledge base (the repository)."""
    import sys

    from engine.inferring.evaluation import knowledge_base
    kb = knowledge_base(args.kb)
    root = Path(args.out) if args.out else kb.root.resolve().parent
    changed = regenerate(kb, root)
    for name in changed:
        print(f"wrote {root / name}", file=sys.stderr)
    print(f"{len(changed)} generated files changed under {root}" if args.lang == "en" else
          f"{root} 下 {len(changed)} 个生成文件已更新", file=sys.stderr)
    return 0
