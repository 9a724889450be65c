"""A rule author adds a new, valid document and the test suite stays green.

The repository is copied and the imaginary document of docs/authoring.md's "Adding a document"
is added to the copy's ``kb/`` by the guide's own steps (:func:`conftest.add_new_document` reads
them from the guide): ``policykb draft`` from its text, the reviewed document, rules,
conclusions, facts, index entries and scenarios. The generated files are made again
(``policykb regenerate``), ``check --strict`` and ``test`` pass, and then the
knowledge-base-dependent tests run on the copy and must pass too: no test may hard-code the
bundled knowledge base's counts, ids, dates or layout that a new document changes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import KB_DIR, NEW_DOCUMENT_ID, REPO, add_new_document, new_document_steps

#: Set in the copy's run, so that this module does not copy the copy.
IN_COPY = "POLICYKB_TEST_COPY"
#: Left out of the copy's run: this module, and installing the package (it tests packaging, not the kb).
NOT_IN_COPY = ("tests/test_new_document.py", "tests/test_packaging.py")

pytestmark = pytest.mark.skipif(os.environ.get(IN_COPY) == "1", reason="the copy's own run")


def _tracked_files(repo: Path) -> list[str]:
    """The repository's files as a clone has them (the working tree's content), or every file
    outside the virtual environments where git is not there."""
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=repo,
                                capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "__pycache__", ".pytest_cache", "build"}
        listed = [p.relative_to(repo).as_posix() for p in repo.rglob("*")
                  if p.is_file() and not (set(p.relative_to(repo).parts) & skip) and not p.name.startswith(".venv")]
    return [name for name in listed if (repo / name).is_file()]


def _environment(copy: Path) -> dict:
    """The copy's engine first on the path: ``import engine`` and ``policykb`` are the copy's,
    whose bundled knowledge base is the copy's kb/."""
    env = dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")
    env[IN_COPY] = "1"
    return env


def _run(copy: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=copy, env=_environment(copy), capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def repository(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("repository") / "policykb"
    for name in _tracked_files(REPO):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, copy / name)
    add_new_document(copy / "kb", scratch=copy.parent)
    if shutil.which("dot"):
        done = _run(copy, "-m", "engine.cli", "regenerate", "--kb", "kb", "--lang", "en")
        assert done.returncode == 0, done.stderr
    return copy


def test_the_copy_runs_its_own_engine_and_knowledge_base(repository):
    done = _run(repository, "-c", "import engine; print(engine.__file__); print(engine.load().root)")
    assert done.returncode == 0, done.stderr
    module, root = done.stdout.split()
    assert Path(module).resolve().is_relative_to(repository.resolve())
    assert Path(root).resolve() == (repository / "kb").resolve()


def test_the_new_document_passes_check_strictly_and_its_scenarios_pass(repository):
    check = _run(repository, "-m", "engine.cli", "check", "--kb", "kb", "--strict")
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-2000:]
    assert "example_culture_award" in check.stdout
    scenarios = _run(repository, "-m", "engine.cli", "test", "--kb", "kb")
    assert scenarios.returncode == 0 and " 0 failed" in scenarios.stdout, scenarios.stdout[-3000:]


def test_the_knowledge_base_dependent_tests_pass_with_the_new_document(repository):
    ignored = [f"--ignore={name}" for name in NOT_IN_COPY]
    done = _run(repository, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short", *ignored, "tests",
                timeout=3000)
    tail = "\n".join(done.stdout.splitlines()[-60:])
    assert done.returncode == 0, f"the suite fails on a knowledge base with one more document:\n{tail}"


def test_after_the_draft_step_check_lists_what_is_left_to_review_and_strict_refuses_it(tmp_path, capsys):
    from engine.authoring.lint import lint
    from engine.cli import main
    kb = tmp_path / "kb"
    shutil.copytree(KB_DIR, kb)
    (name, source), = [(m.split(" ", 1)[1], t) for m, t in new_document_steps() if m.startswith("source ")]
    (tmp_path / name).write_text(source, encoding="utf-8")
    assert main(["draft", str(tmp_path / name), "--id", NEW_DOCUMENT_ID, "--kb", str(kb)]) == 0
    codes = {f.code for f in lint(kb, scenarios=False)}
    assert {"draft-rule", "todo"} <= codes
    capsys.readouterr()
    assert main(["check", "--kb", str(kb), "--strict", "--no-scenarios"]) == 2
    assert "warning[draft-rule]" in capsys.readouterr().out
