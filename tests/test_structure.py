"""The package's import structure: no import cycle, and layers that depend one way only.

Every import counts, including those inside functions and under ``TYPE_CHECKING``: a lazy import
hides a cycle from the interpreter, not from a reader.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

ROOT = Path(__file__).resolve().parents[1] / "nasfast"
EXTENSIONS = {"nasfast._C"}  # compiled modules: imported, never importing the package

# Bottom to top: a module may import from its own package and from the layers below its own.
# Names in one layer are siblings and do not import each other (except the core modules).
LAYERS: tuple[tuple[str, ...], ...] = (
    # core
    ("_version", "_ext", "_atomic", "build_info", "cpu_cache", "runs", "plots", "distributed"),
    ("pareto",),
    ("ops",),
    ("",),  # nasfast/__init__.py: the package facade (ops, pareto, build info)
    ("spaces",),
    ("nn",),
    ("datasets",),
    ("darts",),
    ("hardware",),
    ("tabular",),
    ("estimate",),
    ("search",),
    ("oneshot",),
    ("bench",),
    ("cli",),
    ("__main__",),
)
CORE = LAYERS[0]


def module_name(path: Path) -> str:
    parts = ["nasfast", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package modules ``path`` imports, anywhere in the file."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for a in node.names:
                sub = f"{base}.{a.name}"
                if sub not in EXTENSIONS:
                    out.add(sub if sub in modules else base)
    return {m for m in out if m in modules and m != name}


def import_graph() -> dict[str, set[str]]:
    return _import_graph(ROOT)


@functools.cache
def _import_graph(root: Path) -> dict[str, set[str]]:
    files = sorted(root.rglob("*.py"))
    modules = {module_name(f) for f in files}
    return {module_name(f): imports_of(f, modules) for f in files}


def layer_of(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module}: its package {top!r} is in no layer of LAYERS")


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    names = sorted(graph)
    index = {n: i for i, n in enumerate(names)}
    rows = [index[a] for a in names for b in graph[a]]
    cols = [index[b] for a in names for b in graph[a]]
    adj = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(names), len(names)))
    n, labels = connected_components(adj, directed=True, connection="strong")
    groups = [[names[i] for i in np.flatnonzero(labels == k)] for k in range(n)]
    return [g for g in groups if len(g) > 1]


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_cycle_detector_finds_a_cycle():
    graph = {"nasfast.a": {"nasfast.b"}, "nasfast.b": {"nasfast.c"}, "nasfast.c": {"nasfast.a"}}
    graph["nasfast.d"] = {"nasfast.a"}
    assert cycles(graph) == [["nasfast.a", "nasfast.b", "nasfast.c"]]


def test_layers_depend_one_way():
    bad = []
    for module, targets in import_graph().items():
        mine, top = layer_of(module), module.split(".")[:2]
        for t in targets:
            theirs = layer_of(t)
            same_package = t.split(".")[:2] == top
            if same_package or theirs < mine or (theirs == mine == 0):
                continue
            bad.append(f"{module} -> {t}")
    assert bad == []


def test_relative_and_lazy_imports_are_seen(tmp_path, monkeypatch):
    pkg = tmp_path / "nasfast"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import leaf\n")
    (pkg / "sub" / "leaf.py").write_text("def f():\n    from nasfast.sub import other\n")
    (pkg / "sub" / "other.py").write_text("from ..sub.leaf import f\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", pkg)
    graph = import_graph()
    assert graph["nasfast.sub"] == {"nasfast.sub.leaf"}
    assert graph["nasfast.sub.leaf"] == {"nasfast.sub.other"}
    assert graph["nasfast.sub.other"] == {"nasfast.sub.leaf"}
    assert cycles(graph) == [["nasfast.sub.leaf", "nasfast.sub.other"]]
