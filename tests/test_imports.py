"""The package's import graph has no cycles (imports under ``if TYPE_CHECKING:`` do not count);
start-up does not import libraries that only some features use."""

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Modules imported anywhere in ``tree`` (also inside functions), except in TYPE_CHECKING blocks."""
    found = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in (SRC / "robojax").rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        imports = _runtime_imports(ast.parse(path.read_text()), name, path.name == "__init__.py")
        # Importing a.b.c runs a/__init__ and a/b/__init__ too.
        edges = set()
        for imp in imports:
            parts = imp.split(".")
            edges.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        graph[name] = {m for m in edges if m in modules and m != name and not name.startswith(m + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    graph = import_graph()
    assert "robojax.trainer" in graph["robojax.agents.base"]  # the graph does see function-level imports
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_start_up_leaves_rendering_and_statistics_libraries_unimported():
    """Building a trainer on a gymnax env imports neither seaborn/pyplot (gymnax renders with them)
    nor scipy.stats (sweep statistics): together about 2 s of every ``robojax train``. Both still
    work when used."""
    code = """
import sys, types
from robojax import PPO
from robojax.trainer import Trainer
Trainer(PPO(env="gymnax/CartPole-v1"), run_dir="/nonexistent")
loaded = [m for m in ("seaborn", "matplotlib.pyplot", "scipy.stats", "pandas")
          if type(sys.modules.get(m)) is types.ModuleType]
assert not loaded, loaded
import seaborn, matplotlib.pyplot as plt
from robojax.stats import iqm
assert len(seaborn.color_palette("cubehelix", 3)) == 3 and callable(plt.subplots) and iqm([1.0, 2.0, 3.0, 100.0]) == 2.5
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
