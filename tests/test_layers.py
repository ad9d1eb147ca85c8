"""The layers, read from the code: every import (at module level or inside a function) runs
down or sideways, never up, and no modules import each other in a cycle.

    6  hub.cli, hub.__main__   the command line: may use everything
    5  web                     the web app over the facade
    4  hub (the rest)          the Hub facade, catalog, community services, exports
    3  practices               profiles, ratings, advice, evidence map
    2  search                  encoders, indexes, hybrid search
    1  ingest                  loading, cleaning, chunking files
    0  hub.errors, hub.settings, hub.sqlite   the kernel every layer may import
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("hub", "ingest", "search", "practices", "web")
KERNEL = {"hub.errors", "hub.settings", "hub.sqlite"}


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
