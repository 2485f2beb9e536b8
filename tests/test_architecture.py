"""The import contracts of the package, read from the source with :mod:`ast`.

docs/architecture.md describes the layers; these tests hold the code to them:

- imports point down the layers only, and sibling packages of one layer stay
  independent;
- no import cycle between modules (imports inside functions count);
- no underscore name is imported from another module (what two modules share is a
  public name of its owner); a private module may be imported inside its own package;
- no module is over 1,000 lines.

Each test first checks its checker on a small hand-made case, so that a broken parser
cannot pass by finding nothing.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "recovery"
MAX_LINES = 1000

# Top to bottom. A module may import from its own layer entry (its own package) and from
# any layer below; entries that share a layer are independent of each other.
LAYERS: list[tuple[str, ...]] = [
    ("recovery.cli",),
    ("recovery.commands",),
    ("recovery.report",),
    ("recovery.engine", "recovery.datasets"),
    ("recovery.simulate",),
    ("recovery.models", "recovery.analytics", "recovery.operations"),
    ("recovery.timeline",),
    ("recovery.data",),
    ("recovery.config",),
    ("recovery.errors", "recovery.version", "recovery.docstrings", "recovery.progress"),
]


@dataclass(frozen=True)
class Import:
    """One imported name: ``importer`` imports ``name`` of module ``target``."""

    importer: str
    target: str
    name: str | None
    line: int


def module_name(path: Path, root: Path = SRC) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules(root: Path = SRC) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted((root / PACKAGE).rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> list[Import]:
    """Every import of a package module in ``path``, at any depth (functions included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    aliases: dict[str, str] = {}  # local name -> module, for attribute access
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    found.append(Import(name, alias.name, None, node.lineno))
                    if alias.asname:
                        aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:  # ``from recovery.timeline import aging``: a module
                    found.append(Import(name, sub, None, node.lineno))
                    aliases[alias.asname or alias.name] = sub
                else:
                    found.append(Import(name, target, alias.name, node.lineno))
    for node in ast.walk(tree):  # ``module._private`` through an imported module
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            found.append(Import(name, aliases[node.value.id], node.attr, node.lineno))
    return found


def all_imports(root: Path = SRC) -> list[Import]:
    mods = modules(root)
    known = set(mods)
    return [i for name, path in mods.items() for i in imports_of(name, path, known)]


def layer_of(module: str) -> tuple[int, str] | None:
    for index, entries in enumerate(LAYERS):
        for entry in entries:
            if module == entry or module.startswith(entry + "."):
                return index, entry
    return None


def layer_violations(found: list[Import]) -> list[str]:
    bad = []
    for i in found:
        if i.target == PACKAGE:
            bad.append(f"{i.importer}:{i.line} imports the top package 'recovery' (the facade)")
            continue
        mine, theirs = layer_of(i.importer), layer_of(i.target)
        if mine is None or theirs is None:
            continue  # the facade recovery/__init__.py sits above every layer
        if theirs[0] < mine[0]:
            bad.append(f"{i.importer}:{i.line} imports {i.target} from a higher layer")
        elif theirs[0] == mine[0] and theirs[1] != mine[1]:
            bad.append(
                f"{i.importer}:{i.line} imports {i.target}: {mine[1]} and {theirs[1]} are independent"
            )
    return bad


def private_imports(found: list[Import]) -> list[str]:
    bad = []
    for i in found:
        if i.target == i.importer:
            continue
        names = [i.name] if i.name else []
        if i.name is None:  # a private module may be imported within its own package
            leaf = i.target.rpartition(".")
            if leaf[2].startswith("_") and not i.importer.startswith(leaf[0] + "."):
                names = [leaf[2]]
        for n in names:
            if n.startswith("_") and not (n.startswith("__") and n.endswith("__")):
                bad.append(f"{i.importer}:{i.line} imports {n} from {i.target}")
    return bad


def cycles(found: list[Import]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for i in found:
        if i.target != i.importer:
            graph[i.importer].add(i.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


# --------------------------------------------------------------------- the checkers work


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    """A package with one of each fault: a cycle, a private import, an upward import."""
    pkg = tmp_path / PACKAGE
    (pkg / "data").mkdir(parents=True)
    (pkg / "analytics").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "data" / "__init__.py").write_text("")
    (pkg / "analytics" / "__init__.py").write_text("")
    (pkg / "data" / "a.py").write_text("def f():\n    from recovery.data.b import _g\n")
    (pkg / "data" / "b.py").write_text("from recovery.data import a\n\ndef _g():\n    pass\n")
    (pkg / "data" / "c.py").write_text("import recovery.analytics.x as x\n\nx._y\n")
    (pkg / "analytics" / "x.py").write_text("from recovery.data.a import f\n_y = 1\n")
    return tmp_path


def test_the_checkers_find_each_fault(toy: Path) -> None:
    found = all_imports(toy)
    assert cycles(found) == [["recovery.data.a", "recovery.data.b"]]
    assert private_imports(found) == [
        "recovery.data.a:2 imports _g from recovery.data.b",
        "recovery.data.c:3 imports _y from recovery.analytics.x",
    ]
    assert layer_violations(found) == [
        "recovery.data.c:1 imports recovery.analytics.x from a higher layer",
        "recovery.data.c:3 imports recovery.analytics.x from a higher layer",
    ]


# --------------------------------------------------------------------- the package obeys


@pytest.fixture(scope="module")
def found() -> list[Import]:
    imports = all_imports()
    assert len(imports) > 300, "the import parser found too little: is SRC right?"
    return imports


def test_every_module_sits_in_a_layer() -> None:
    unplaced = [m for m in modules() if m != PACKAGE and layer_of(m) is None]
    assert not unplaced, f"modules outside every layer (add them to LAYERS): {unplaced}"


def test_imports_point_down_the_layers(found: list[Import]) -> None:
    assert layer_violations(found) == []


def test_no_import_cycles(found: list[Import]) -> None:
    assert cycles(found) == []


def test_no_private_names_imported_across_modules(found: list[Import]) -> None:
    assert private_imports(found) == []


def test_no_module_over_a_thousand_lines() -> None:
    long = {
        m: n for m, p in modules().items() if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these along their seams: {long}"
