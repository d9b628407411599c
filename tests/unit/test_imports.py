"""The bot's layering, read from the source with ``ast`` (nothing is imported): no import cycles, a self-contained
core, and a strategy that knows only the ``bot.interfaces`` Protocols.

Every import counts: module level, inside functions, and under ``if TYPE_CHECKING:``. Nodes of the package
graph are the subpackages (``bot.core``, ``bot.execution``, ...) and each top-level module (``bot.app``).

Composition roots (``bot.app``, ``bot.config``, ``bot.cli``, ``bot.config_cli``, ``bot.session``,
``bot.session_harness``, ``bot.live``, ``bot.live_cli``) are top-level modules: they may import every
subpackage, and no subpackage may import them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

BOT_DIR = Path(__file__).resolve().parents[2] / "bot"
Graph = dict[str, set[str]]


# -- reading the source ---------------------------------------------------------------------------------------------
def module_names(package_dir: Path) -> dict[str, Path]:
    """Every module under ``package_dir`` by dotted name (a package by its ``__init__.py``)."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, path: Path, known: Iterable[str]) -> set[str]:
    """The modules of the same top-level package that module ``name`` imports, wherever the import is."""
    known = set(known)
    root = name.split(".", maxsplit=1)[0]
    is_package = path.name == "__init__.py"

    def resolve(dotted: str) -> str | None:
        """The longest known module that ``dotted`` starts with (``pkg.mod.Class`` -> ``pkg.mod``)."""
        while dotted not in known and "." in dotted:
            dotted = dotted.rsplit(".", 1)[0]
        return dotted if dotted in known and dotted.split(".", maxsplit=1)[0] == root else None

    found: set[str | None] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {resolve(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = name.split(".")
                base = parts[: len(parts) - node.level + (1 if is_package else 0)]
                module = ".".join([*base, *([module] if module else [])])
            for alias in node.names:  # `from pkg import sub` imports the submodule `pkg.sub` when there is one
                submodule = f"{module}.{alias.name}"
                found.add(submodule if submodule in known else resolve(module))
    return {m for m in found if m is not None and m != name}


def module_graph(package_dir: Path) -> Graph:
    modules = module_names(package_dir)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def node_of(module: str) -> str:
    """``bot.core.types`` -> ``bot.core``; ``bot.app`` -> ``bot.app``."""
    return ".".join(module.split(".")[:2])


def package_graph(modules: Mapping[str, set[str]]) -> Graph:
    graph: Graph = {node_of(m): set() for m in modules}
    for module, targets in modules.items():
        graph[node_of(module)] |= {node_of(t) for t in targets} - {node_of(module)}
    return graph


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """A cycle as a path ``[a, b, ..., a]``, or None. Iterative DFS, deterministic order."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path, on_path = [start], {start}
        stack = [iter(sorted(graph[start]))]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                continue
            if child in on_path:
                return [*path[path.index(child):], child]
            if child not in done and child in graph:
                path.append(child)
                on_path.add(child)
                stack.append(iter(sorted(graph[child])))
    return None


def path_between(graph: Mapping[str, set[str]], start: str, goal: str) -> list[str] | None:
    """A shortest import chain from ``start`` to ``goal`` (breadth-first), or None."""
    parents: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child not in parents:
                    parents[child] = node
                    following.append(child)
        frontier = following
    if goal not in parents:
        return None
    chain: list[str] = []
    node_or_none: str | None = goal
    while node_or_none is not None:
        chain.append(node_or_none)
        node_or_none = parents[node_or_none]
    return chain[::-1]


MODULES = module_graph(BOT_DIR)
PACKAGES = package_graph(MODULES)


# -- the rules ----------------------------------------------------------------------------------------------------
def test_no_cycle_between_subpackages() -> None:
    cycle = find_cycle(PACKAGES)
    assert cycle is None, "import cycle between bot's subpackages: " + " -> ".join(cycle or [])


def test_no_cycle_between_modules() -> None:
    cycle = find_cycle(MODULES)
    assert cycle is None, "import cycle between modules: " + " -> ".join(cycle or [])


def test_core_imports_nothing_else_from_bot() -> None:
    outside = {
        module: sorted(t for t in targets if node_of(t) != "bot.core")
        for module, targets in MODULES.items()
        if node_of(module) == "bot.core"
    }
    outside = {module: targets for module, targets in outside.items() if targets}
    assert not outside, f"bot.core must not import the rest of bot: {outside}"


def test_strategy_depends_on_interfaces_only() -> None:
    if "bot.strategy" not in PACKAGES:
        pytest.skip("bot.strategy does not exist yet")
    for forbidden in ("bot.execution", "bot.risk", "bot.connectors"):
        chain = path_between(PACKAGES, "bot.strategy", forbidden)
        assert chain is None, "bot.strategy reaches " + forbidden + ": " + " -> ".join(chain or [])


def test_no_subpackage_imports_a_composition_root() -> None:
    roots = {"bot.app", "bot.config", "bot.cli", "bot.config_cli", "bot.guards_cli", "bot.session",
             "bot.session_harness", "bot.live", "bot.live_cli", "bot.live_events", "bot.check_config"}
    # check_config: the bot config composed into the checker's; config_cli: `mmbot config` and the --symbols
    # override of sim and run; live_events: the live runner's event poller (reads the AppContext)
    offenders = sorted((m, t) for m, targets in MODULES.items() for t in targets
                       if t in roots and node_of(m) not in roots)
    assert offenders == []


# -- the checker itself -------------------------------------------------------------------------------------------
def test_checker_sees_type_checking_function_and_relative_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "bot"
    (pkg / "core").mkdir(parents=True)
    (pkg / "risk").mkdir()
    for init in (pkg / "__init__.py", pkg / "core" / "__init__.py", pkg / "risk" / "__init__.py"):
        init.write_text("")
    (pkg / "core" / "types.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.risk.engine import Engine\n"
    )
    (pkg / "core" / "clock.py").write_text("def f():\n    from . import types, errors\n")
    (pkg / "core" / "errors.py").write_text("")
    (pkg / "risk" / "engine.py").write_text("import bot.core.types\nfrom ..core import clock\n")
    modules = module_graph(pkg)
    assert modules["bot.core.types"] == {"bot.risk.engine"}
    assert modules["bot.core.clock"] == {"bot.core.types", "bot.core.errors"}
    assert modules["bot.risk.engine"] == {"bot.core.types", "bot.core.clock"}
    assert find_cycle(package_graph(modules)) == ["bot.core", "bot.risk", "bot.core"]
    assert find_cycle(modules) == ["bot.core.clock", "bot.core.types", "bot.risk.engine", "bot.core.clock"]


def test_checker_accepts_a_layered_graph() -> None:
    graph = {"a": {"b", "c"}, "b": {"c"}, "c": set()}
    assert find_cycle(graph) is None
    assert path_between(graph, "a", "c") == ["a", "c"]
    assert path_between(graph, "c", "a") is None
