"""The project's package layering, read by an import-graph library (grimp) from the modules Python would import.

Layers, top to bottom (ADR 0017): the ``mmbot`` CLI; the suites that run sessions (``chaos``, ``stress``,
``bench``, ``regression``); the ``harness``; ``reports``; the simulator (``exchange_sim``); the ``bot``. A package
may import the layers below it, never one above: the bot imports nothing of the others. The simulator sits above
the bot only for its in-process transport, which speaks the bot connector's ``Transport`` Protocol (ADR 0014):
``exchange_sim.server.inprocess`` imports ``bot`` and nothing else in the simulator does.

``tests/unit/test_imports.py`` checks the same rules (and finer ones) with its own ``ast`` reader; this test is
the independent check with a library, so a blind spot of one reader does not hide a cycle.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Iterable
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp", reason="the dev extra installs grimp (pyproject.toml)")

REPO = Path(__file__).resolve().parents[2]
LAYERS = ("mmbot", ("chaos", "stress", "bench", "regression"), "harness", "reports", "exchange_sim", "bot")
PACKAGES = tuple(p for layer in LAYERS for p in ((layer,) if isinstance(layer, str) else layer))
TRANSPORT = "exchange_sim.server.inprocess"  # ADR 0014: the simulator's one import of the bot


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    for package in PACKAGES:  # grimp reads the packages these imports resolve to: this checkout's
        origin = Path(importlib.import_module(package).__file__ or "").resolve()
        assert origin.is_relative_to(REPO), f"{package} is imported from {origin}, not from {REPO}"
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def package_edges(graph: grimp.ImportGraph, packages: Iterable[str]) -> dict[str, set[str]]:
    """``{package: packages it imports directly}`` between the given top-level packages."""
    packages = tuple(packages)
    return {a: {b for b in packages if b != a and graph.direct_import_exists(importer=a, imported=b,
                                                                             as_packages=True)}
            for a in packages}


def cycles(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Every pair of packages that reach each other (a cycle of any length passes through such a pair)."""
    reach = {a: set(b) for a, b in edges.items()}
    for k, i, j in itertools.product(edges, edges, edges):  # Floyd-Warshall transitive closure, k outermost
        if k in reach[i] and j in reach[k]:
            reach[i].add(j)
    return sorted((a, b) for a, b in itertools.combinations(sorted(edges), 2) if b in reach[a] and a in reach[b])


def test_no_cycle_between_the_top_level_packages(graph: grimp.ImportGraph) -> None:
    assert cycles(package_edges(graph, PACKAGES)) == []


def test_no_package_imports_a_layer_above_it(graph: grimp.ImportGraph) -> None:
    layers = [grimp.Layer(layer) if isinstance(layer, str) else grimp.Layer(*layer, independent=False)
              for layer in LAYERS]
    illegal = graph.find_illegal_dependencies_for_layers(layers=layers)
    assert sorted((d.importer, d.imported, sorted(r.heads for r in d.routes)) for d in illegal) == []


def imports_between(graph: grimp.ImportGraph, importer: str, imported: str) -> set[tuple[str, str]]:
    """Every direct import of a module of top-level package ``imported`` by a module of ``importer``."""
    return {(m, t) for m in graph.modules if m.split(".")[0] == importer
            for t in graph.find_modules_directly_imported_by(m) if t.split(".")[0] == imported}


def test_the_bot_imports_nothing_of_the_other_packages(graph: grimp.ImportGraph) -> None:
    assert sorted(pair for other in PACKAGES if other != "bot" for pair in imports_between(graph, "bot", other)) == []


def test_the_simulator_imports_the_bot_only_in_the_in_process_transport(graph: grimp.ImportGraph) -> None:
    assert {importer for importer, _ in imports_between(graph, "exchange_sim", "bot")} == {TRANSPORT}


def test_the_cycle_finder_sees_a_cycle_through_three_packages() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [("a", "b"), ("a", "c"), ("b", "c")]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
