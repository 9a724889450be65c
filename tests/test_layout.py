"""The package's layout holds: floors imported only downwards, no import cycle, rooms of a sensible size.

Every ``import`` in ``engine/`` counts, those inside functions too: an import put off to run time
still ties one module to another. The floors, from the ground up, are those of
``engine/__init__.py``'s docstring and the README's layout paragraph.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

from conftest import REPO

PACKAGE = REPO / "engine"

#: Each room of the house and its floor: a module imports only from its own room or a lower floor.
#: Rooms on one floor (authoring and screening) do not import each other.
FLOORS = {
    "engine.errors": 0,
    "engine.model": 1,
    "engine.loading": 2,
    "engine.compiling": 3,
    "engine.inferring": 4,
    "engine.explaining": 5,
    "engine.rendering": 6,
    "engine.authoring": 7,
    "engine.screening": 7,
    "engine.register": 8,  # the case register: its replay uses authoring's diff and screening
    "engine.accounts": 9,  # who may do what in a shared workbench: its tables are the register's
    "engine.web": 10,
    "engine.lsp": 10,     # the rule author's editor: a face beside the web app, neither importing the other
    "engine.cli": 11,     # the command line starts everything, the web app included (policykb serve)
    "engine": 12,         # engine/__init__.py: the public API gathered from the floors below
}

#: Over this many lines a module must say in its docstring why it is one idea that reads better whole.
MODULE_LINES = 600
WHOLE = "one idea that reads better whole"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The engine modules ``name`` imports, at module level or inside functions."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # "from engine.model import conditions" imports the module engine.model.conditions
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found |= {target for target in targets if target in known and target != name}
    return found


def _graph() -> nx.DiGraph:
    modules = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for target in _imports(name, path, set(modules)):
            graph.add_edge(name, target)
    return graph


def _room(module: str) -> str:
    """The room (a key of FLOORS) a module belongs to: the longest key it starts with."""
    rooms = [room for room in FLOORS if module == room or module.startswith(room + ".")]
    return max(rooms, key=len)


def test_every_module_is_in_a_room_of_a_floor():
    for module in _modules():
        assert _room(module) in FLOORS, module
        # a subpackage is a room of its own, named in FLOORS (not the top floor's by default)
        assert module.count(".") < 1 or _room(module) != "engine" or module.count(".") == 1 and not \
            (PACKAGE / module.split(".")[1]).is_dir(), f"{module}: its subpackage has no floor in FLOORS"


def test_no_import_runs_back_up_or_across_a_floor():
    wrong = []
    for module, target in _graph().edges:
        here, there = _room(module), _room(target)
        if here == there:
            continue
        if FLOORS[there] > FLOORS[here] or (FLOORS[there] == FLOORS[here]):
            wrong.append(f"{module} (floor {FLOORS[here]}) imports {target} (floor {FLOORS[there]})")
    assert not wrong, "imports that run up or across: " + "; ".join(wrong)


def test_no_import_cycle():
    cycles = list(nx.simple_cycles(_graph()))
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c + [c[0]]) for c in cycles)


def test_the_model_is_the_ground_floor():
    """The model imports nothing of the pipeline: only itself and the errors."""
    graph = _graph()
    for module in graph:
        if _room(module) == "engine.model":
            assert {_room(t) for t in graph.successors(module)} <= {"engine.model", "engine.errors"}, module


def test_local_workers_and_dask_run_the_same_chunks_without_importing_each_other():
    graph = _graph()
    for one, other in (("engine.screening.local", "engine.screening.dask_engine"),
                       ("engine.screening.dask_engine", "engine.screening.local")):
        assert other not in nx.descendants(graph, one)
        assert "engine.screening.chunks" in graph.successors(one)


@pytest.mark.parametrize("module", sorted(_modules()))
def test_a_long_module_says_why_it_is_one_idea(module):
    path = _modules()[module]
    lines = len(path.read_text(encoding="utf-8").splitlines())
    if lines > MODULE_LINES:
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        assert WHOLE in " ".join(docstring.split()), (
            f"{path.relative_to(REPO)} has {lines} lines: split it by what its parts hold, or say in its "
            f"docstring why it is {WHOLE}")


def test_the_checker_sees_an_import_that_runs_up(tmp_path):
    """The rule above is not vacuous: an import from the model into loading is seen as one."""
    path = tmp_path / "bad.py"
    path.write_text("def f():\n    from engine.loading.kb import load\n", encoding="utf-8")
    found = _imports("engine.model.bad", path, set(_modules()) | {"engine.model.bad"})
    assert found == {"engine.loading.kb"}
    assert FLOORS[_room("engine.loading.kb")] > FLOORS[_room("engine.model.bad")]
