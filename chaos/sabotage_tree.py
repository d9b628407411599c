"""Mutant trees: a copy of the project's packages with one mutation applied, and swarms run in it as subprocesses.

``mutant_tree(mutation)`` copies the packages a chaos session imports (``PACKAGES``, without caches) from the
repository root into a temporary directory, replaces the mutation's snippet and checks that the file still
compiles; the directory is removed on exit. ``run_swarm_in(tree, seeds, ...)`` runs ``python -m
chaos.sabotage_worker`` (the general swarm's sessions: every fault kind, the schedule drawn from each seed) in a
subprocess whose ``PYTHONPATH`` starts with the tree, so the running process is never patched and every seed's
digest is that of the mutated code.

Errors: ``MutationError`` when a snippet is not found or not unique (the code moved: the message names the
mutation and its file), when the mutated file does not compile, or when a swarm in a tree produced no result.
"""

from __future__ import annotations

import contextlib
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import chaos
from chaos.sabotage_mutations import Mutation

PACKAGES = ("bot", "harness", "exchange_sim", "chaos", "reports")  # what a chaos session imports (reports: chaos JSON)
REPO_ROOT = Path(chaos.__file__).resolve().parent.parent
SWARM_TIMEOUT_S = 3600.0  # one swarm of one tree; "put a limit on everything"


class MutationError(RuntimeError):
    """A mutation cannot be applied to the current tree, or its swarm gave no result."""


@dataclass(frozen=True, slots=True)
class SeedOutcome:
    """One seed of a swarm in a tree: the invariants it broke and its event-log digest."""

    seed: int
    invariants: tuple[str, ...]
    digest: str
    details: tuple[str, ...] = ()  # the first violations, "invariant at t: detail"


def mutated_source(mutation: Mutation, source: str) -> str:
    """``source`` with the mutation's snippet replaced; ``MutationError`` unless it occurs exactly once."""
    count = source.count(mutation.original)
    if count != 1:
        where = "not found" if count == 0 else f"found {count} times"
        raise MutationError(f"sabotage {mutation.name!r}: its original snippet is {where} in {mutation.path} "
                            f"(the code moved: update the mutation): {mutation.original!r}")
    return source.replace(mutation.original, mutation.replacement)


def check_applies(mutation: Mutation, root: Path = REPO_ROOT) -> None:
    """Raise ``MutationError`` unless ``mutation`` applies to the tree at ``root`` (without writing anything)."""
    path = root / mutation.path
    if not path.is_file():
        raise MutationError(f"sabotage {mutation.name!r}: {mutation.path} does not exist")
    mutated_source(mutation, path.read_text())


def copy_packages(dest: Path, root: Path = REPO_ROOT) -> None:
    """Copy ``PACKAGES`` from ``root`` into ``dest`` (no caches, no compiled extensions' build leftovers)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache")
    for package in PACKAGES:
        if (root / package).is_dir():
            shutil.copytree(root / package, dest / package, ignore=ignore)


def apply_mutation(mutation: Mutation, tree: Path) -> None:
    """Rewrite the mutation's file inside ``tree`` and check that it still compiles."""
    path = tree / mutation.path
    if not path.is_file():
        raise MutationError(f"sabotage {mutation.name!r}: {mutation.path} is not in the copied packages")
    path.write_text(mutated_source(mutation, path.read_text()))
    try:
        py_compile.compile(str(path), doraise=True)
    except py_compile.PyCompileError as error:
        raise MutationError(f"sabotage {mutation.name!r}: {mutation.path} does not compile after the "
                            f"replacement: {error.msg}") from None


@contextlib.contextmanager
def mutant_tree(mutation: Mutation | None, root: Path = REPO_ROOT) -> Iterator[Path]:
    """A temporary copy of the packages with ``mutation`` applied (None: an unmutated copy, the control)."""
    with tempfile.TemporaryDirectory(prefix="mmbot-sabotage-") as tmp:
        tree = Path(tmp)
        copy_packages(tree, root)
        if mutation is not None:
            apply_mutation(mutation, tree)
        yield tree


def tree_env(tree: Path) -> dict[str, str]:
    """The environment of a subprocess that must import everything from ``tree``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tree), *filter(None, [env.get("PYTHONPATH", "")])])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_swarm_in(tree: Path, seeds: Sequence[int], *, minutes: float, jobs: int,
                 name: str = "control") -> list[SeedOutcome]:
    """Run general-swarm sessions (every fault kind) for ``seeds`` on ``tree`` in a subprocess; in seed order."""
    out = tree / "swarm.json"
    argv = [sys.executable, "-m", "chaos.sabotage_worker", "--seeds", ",".join(map(str, seeds)),
            "--minutes", f"{minutes:g}", "--jobs", str(jobs), "--json", str(out)]
    done = subprocess.run(argv, cwd=tree, env=tree_env(tree), capture_output=True, text=True,
                          timeout=SWARM_TIMEOUT_S, check=False)
    if done.returncode != 0 or not out.exists():
        tail = (done.stdout + done.stderr)[-2000:]
        raise MutationError(f"sabotage {name!r}: the swarm in its tree gave no result (exit {done.returncode}): "
                            f"{tail}")
    results = json.loads(out.read_text())["results"]
    out.unlink()
    return [SeedOutcome(int(r["seed"]), tuple(r["invariants"]), str(r["digest"]), tuple(r.get("details", ())))
            for r in results]
