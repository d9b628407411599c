"""The bot's layering, read from the source with ``ast`` (nothing is imported): no import cycles, a self-contained
core, and a strategy that knows only the ``bot.interfaces`` Protocols.

Every import counts: module level, inside functions, and under ``if TYPE_CHECKING:``. Nodes of the package
graph are the subpackages (``bot.core``, ``bot.execution``, ...) and each top-level module (``bot.app``).

Composition roots (``bot.app``, ``bot.config``, ``bot.config_cli``, ``bot.guards_cli``, ``bot.live``,
``bot.live_cli``, ``bot.live_events``) are top-level modules: they may import every subpackage, and no subpackage
may import them.

Across the project (``bot``, ``harness``, ``mmbot``, ``exchange_sim``, ``chaos``, ``reports``; ADR 0017), every
stated "never" is a test: the bot imports nothing of the harness, the ``mmbot`` CLI, the simulator, chaos or
reports (``HARNESS_IN_BOT`` lists the exceptions still to move out: empty, and it may only shrink); the harness
never imports chaos or the CLI; nothing imports the ``mmbot`` CLI; the checker never imports the bot (not even
through another simulator module); the simulator imports the bot only for the in-process transport; the strategy
never imports metrics; offline tools never import a session runner or a composition root; and no two top-level
packages import each other. ``tests/unit/test_import_graph.py`` checks the package layering again with an
import-graph library (grimp), from the modules Python would import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BOT_DIR = REPO / "bot"
PROJECT_PACKAGES = ("bot", "harness", "mmbot", "exchange_sim", "chaos", "reports")
HARNESS_PACKAGES = ("harness", "mmbot", "exchange_sim", "chaos", "reports")
# Harness code living inside bot (issue 20, "Harness code lives inside the bot"): each entry would import the
# harness, the CLI, the simulator, chaos or reports. Issue 20 moved them all out (ADR 0017); never add one.
HARNESS_IN_BOT: dict[str, str] = {}
# The simulator's one import of bot: the in-process transport speaks the connector's Transport Protocol (ADR 0014).
BOT_IN_SIMULATOR = {"exchange_sim.server.inprocess"}
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


def imported_modules(name: str, path: Path, known: Iterable[str], *, across: bool = False) -> set[str]:
    """The known modules that module ``name`` imports, wherever the import is: of its own top-level package
    only, or of any (``across``)."""
    known = set(known)
    root = name.split(".", maxsplit=1)[0]
    is_package = path.name == "__init__.py"

    def resolve(dotted: str) -> str | None:
        """The longest known module that ``dotted`` starts with (``pkg.mod.Class`` -> ``pkg.mod``)."""
        while dotted not in known and "." in dotted:
            dotted = dotted.rsplit(".", 1)[0]
        return dotted if dotted in known and (across or dotted.split(".", maxsplit=1)[0] == root) else None

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


def project_graph(package_dirs: Iterable[Path]) -> Graph:
    """Every module of the given top-level packages and what it imports of any of them."""
    modules: dict[str, Path] = {}
    for package_dir in package_dirs:
        modules |= module_names(package_dir)
    return {name: imported_modules(name, path, modules, across=True) for name, path in modules.items()}


def top(module: str) -> str:
    return module.split(".", maxsplit=1)[0]


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
PROJECT = project_graph(REPO / p for p in PROJECT_PACKAGES)


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
    roots = {"bot.app", "bot.config", "bot.config_cli", "bot.guards_cli", "bot.live", "bot.live_cli",
             "bot.live_events"}
    # config_cli: `mmbot config` and the --symbols override of sim and run; live_events: the live runner's event
    # poller (reads the AppContext)
    offenders = sorted((m, t) for m, targets in MODULES.items() for t in targets
                       if t in roots and node_of(m) not in roots)
    assert offenders == []


# -- the boundaries between the bot and the harness (every stated "never") ------------------------------------------
def harness_imports_of_bot() -> dict[str, list[str]]:
    return {m: sorted(t for t in targets if top(t) in HARNESS_PACKAGES)
            for m, targets in sorted(PROJECT.items()) if top(m) == "bot" and any(top(t) in HARNESS_PACKAGES
                                                                                  for t in targets)}


def test_the_bot_imports_no_simulator_chaos_or_reports_outside_the_listed_harness_modules() -> None:
    new = {m: targets for m, targets in harness_imports_of_bot().items() if m not in HARNESS_IN_BOT}
    assert new == {}, f"bot modules importing the harness (issue 20: move them out, do not list them): {new}"


def test_the_harness_allow_list_only_shrinks() -> None:
    stale = sorted(set(HARNESS_IN_BOT) - set(harness_imports_of_bot()))
    assert stale == [], f"these no longer import the harness: remove them from HARNESS_IN_BOT: {stale}"


def test_the_checker_never_imports_the_bot_not_even_through_the_simulator() -> None:
    reached = {}
    for module in sorted(m for m in PROJECT if m.startswith("exchange_sim.checker")):
        for target in sorted(m for m in PROJECT if top(m) == "bot"):
            chain = path_between(PROJECT, module, target)
            if chain is not None:
                reached[module] = chain
                break
    assert reached == {}, f"the checker reaches the bot: {reached}"


def test_the_simulator_imports_the_bot_only_for_the_in_process_transport() -> None:
    offenders = sorted(m for m, targets in PROJECT.items()
                       if top(m) == "exchange_sim" and any(top(t) == "bot" for t in targets))
    assert offenders == sorted(BOT_IN_SIMULATOR)


def test_the_strategy_never_imports_metrics() -> None:
    chain = path_between(PACKAGES, "bot.strategy", "bot.metrics")
    assert chain is None, "bot.strategy reaches bot.metrics: " + " -> ".join(chain or [])


def test_offline_tools_never_import_a_session_runner_or_a_composition_root() -> None:
    roots = {"bot.app", "bot.config", "bot.live", "harness.session", "harness.session_harness", "harness.lab"}
    offenders = {m: sorted(t for t in targets if t in roots or top(t) == "mmbot")
                 for m, targets in PROJECT.items() if m.startswith("harness.tools")}
    assert {m: targets for m, targets in offenders.items() if targets} == {}


def test_the_harness_never_imports_chaos_or_the_cli() -> None:
    offenders = {m: sorted(t for t in targets if top(t) in ("chaos", "mmbot"))
                 for m, targets in PROJECT.items() if top(m) == "harness"}
    assert {m: targets for m, targets in offenders.items() if targets} == {}


def test_nothing_imports_the_cli() -> None:
    offenders = sorted(m for m, targets in PROJECT.items() if top(m) != "mmbot" and any(top(t) == "mmbot"
                                                                                           for t in targets))
    assert offenders == []


def test_no_cycle_between_the_projects_packages() -> None:
    graph: Graph = {p: set() for p in PROJECT_PACKAGES}
    for module, targets in PROJECT.items():
        graph[top(module)] |= {top(t) for t in targets} - {top(module)}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle between packages: " + " -> ".join(cycle or [])


def test_the_project_graph_sees_imports_across_packages(tmp_path: Path) -> None:
    for package in ("bot", "exchange_sim"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "bot" / "session.py").write_text("def f():\n    from exchange_sim import world\n")
    (tmp_path / "exchange_sim" / "world.py").write_text("import bot.session\n")
    graph = project_graph([tmp_path / "bot", tmp_path / "exchange_sim"])
    assert graph["bot.session"] == {"exchange_sim.world"}
    assert graph["exchange_sim.world"] == {"bot.session"}
    assert find_cycle(graph) == ["bot.session", "exchange_sim.world", "bot.session"]


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
