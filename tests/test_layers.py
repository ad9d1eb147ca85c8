"""The layers, read from the code: every import (at module level or inside a function) runs
down or sideways, never up, and no modules import each other in a cycle.

    6  hub.cli, hub.__main__   the command line: may use everything
    5  web                     the web app over the facade
    4  hub (the rest)          the Hub facade, catalog, community services, exports
    3  practices               profiles, ratings, advice, evidence map
    2  search                  encoders, indexes, hybrid search
    1  ingest                  loading, cleaning, chunking files
    0  hub.errors, hub.settings, hub.sqlite, hub.exports, hub.config_file   the kernel every layer may import
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("hub", "ingest", "search", "practices", "web")
KERNEL = {"hub.errors", "hub.settings", "hub.sqlite", "hub.exports", "hub.config_file", "hub.unpacked"}


def layer(module: str) -> int:
    if module in KERNEL:
        return 0
    if module in ("hub.cli", "hub.__main__"):
        return 6
    return {"ingest": 1, "search": 2, "practices": 3, "hub": 4, "web": 5}[module.split(".")[0]]


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, known: set[str]) -> set[str]:
    """The project's modules that ``path`` imports (``from pkg import mod`` counts as pkg.mod
    when that is a module; otherwise as pkg)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                     for a in node.names]
        else:
            continue
        out.update(n for n in names if n.split(".")[0] in PACKAGES and n in known)
    return out


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports(path, known) - {name} for name, path in found.items()}


def test_no_import_runs_up_a_layer() -> None:
    upward = sorted(f"{a} (layer {layer(a)}) imports {b} (layer {layer(b)})"
                    for a, targets in graph().items() for b in targets
                    if b.split(".")[0] in PACKAGES and layer(b) > layer(a))
    assert upward == [], "\n".join(upward)


def test_no_import_cycle() -> None:
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert cycles == [], "\n".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    """The two tests above would pass on a checker that reads nothing: this one feeds it code."""
    (tmp_path / "a.py").write_text("from web.app import create_app\nimport search.hybrid\n")
    known = {"web.app", "search.hybrid", "web"}
    assert imports(tmp_path / "a.py", known) == {"web.app", "search.hybrid"}
    assert layer("web.app") > layer("ingest.pipeline")


def private_reaches(path: Path, package: str) -> list[str]:
    """Names starting with ``_`` that ``path`` takes from another package: imported by name, or
    read as an attribute of a module imported from there (``semantic._dim``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    foreign: set[str] = set()  # local names bound to modules of other packages
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            top = node.module.split(".")[0]
            if top in PACKAGES and top != package:
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        found.append(f"{node.module}.{alias.name}")
                    foreign.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES and alias.name.split(".")[0] != package:
                    foreign.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in foreign
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_no_module_takes_a_private_name_from_another_package() -> None:
    reaches = {f"{name}: {r}" for name, path in modules().items()
               for r in private_reaches(path, name.split(".")[0])}
    assert not reaches, "private names used across packages:\n" + "\n".join(sorted(reaches))


def test_a_private_name_taken_from_another_package_is_found(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("from search.semantic import _filter\nfrom search import semantic\n"
                                   "semantic._dim\nfrom hub.errors import HubError\n")
    assert private_reaches(tmp_path / "a.py", "hub") == ["search.semantic._filter", "semantic._dim"]
    assert private_reaches(tmp_path / "a.py", "search") == []


def test_each_package_names_its_public_api_and_loads_it_only_when_used() -> None:
    import importlib
    import subprocess
    import sys

    for package in PACKAGES:
        module = importlib.import_module(package)
        assert module.__all__, package
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{package}.{name}"
    # the kernel stays light: importing the errors does not pull in the facade or a model
    out = subprocess.run([sys.executable, "-c", "import hub.errors, sys; print('hub.core' in sys.modules, "
                          "'torch' in sys.modules)"], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["False", "False"]
