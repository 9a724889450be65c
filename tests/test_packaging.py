"""A plain, non-editable install ships the knowledge base and runs from any folder."""

import json
import os
import subprocess
import sys
import zipfile

from conftest import KB_DIR, REPO


def test_the_wheel_carries_the_knowledge_base_and_runs_from_another_folder(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(REPO)],
                   check=True, cwd=tmp_path, capture_output=True)
    wheel = next(wheels.glob("policykb-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {p.relative_to(KB_DIR).as_posix() for p in KB_DIR.rglob("*") if p.is_file() and p.suffix in (".yaml", ".json", ".txt")}
    assert len(shipped) > 40
    for relative in shipped:
        assert f"engine/kb/{relative}" in names, relative
    assert "engine/kb/documents/implementation_rules_2021/source.txt" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "engine").rglob("*.py") if "kb" not in p.parts}
    assert modules - set(names) == set()        # every module, the language server's among them

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    example = target / "engine" / "kb" / "examples" / "new_ict_key_enterprise.yaml"
    env = dict(os.environ, PYTHONPATH=str(target))
    done = subprocess.run([sys.executable, "-c", "import sys, engine.cli; sys.exit(engine.cli.main())",
                           "eval", str(example), "--format", "json"],
                          cwd=elsewhere, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["kb_version"] == __import__("engine").load(KB_DIR).version
    assert "settlement_subsidy" in [b["id"] for b in result["benefits"]]
