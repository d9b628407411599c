"""The code fingerprint: one SHA-256 over the installed sources a chaos session runs, and its check on workers.

A session's replay key is seed + code (DESIGN invariant 12). ``code_fingerprint`` names the code: SHA-256 over
every ``.py``, ``.yaml`` and ``.j2`` file of the packages ``bot``, ``exchange_sim`` and ``chaos`` as imported by
this process (their ``__file__`` directories, so it is the tree that actually runs, not the current directory),
in sorted path order, each entry being the path relative to its package's parent, a NUL, the file's bytes and a
NUL. Caches and other files do not count. It is computed once per process (the sources of a running process do
not change under it: Python already imported them).

``verify_fingerprint(expected)`` is what a worker runs before a session: a different tree raises
``FingerprintMismatch`` naming both fingerprints and the worker's source directory, so a Dask worker on another
checkout refuses to run instead of silently producing other digests. ``Checked(fn, expected)`` wraps a task so
that the check runs in whatever process executes it.

Errors: ``FingerprintMismatch`` (a ``RuntimeError``) from ``verify_fingerprint`` and from wrapped tasks.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

PACKAGES = ("bot", "harness", "exchange_sim", "chaos")
SUFFIXES = frozenset({".py", ".yaml", ".j2"})
SHORT = 12  # hex digits shown in tables and messages

T = TypeVar("T")
R = TypeVar("R")


class FingerprintMismatch(RuntimeError):
    """This process runs other sources than the ones the swarm was started with."""


def source_files(packages: tuple[str, ...] = PACKAGES) -> list[tuple[str, Path]]:
    """``(relative path, file)`` of every fingerprinted source file of ``packages``, sorted by relative path."""
    out: list[tuple[str, Path]] = []
    for name in packages:
        module = importlib.import_module(name)
        if module.__file__ is None:
            raise FingerprintMismatch(f"package {name} has no source directory to fingerprint")
        root = Path(module.__file__).resolve().parent
        for path in root.rglob("*"):
            if path.suffix in SUFFIXES and path.is_file() and "__pycache__" not in path.parts:
                out.append(((Path(name) / path.relative_to(root)).as_posix(), path))
    return sorted(out)


def fingerprint_of(files: list[tuple[str, Path]]) -> str:
    """SHA-256 (hex) of ``files`` as ``source_files`` lists them (module docstring)."""
    digest = hashlib.sha256()
    for relative, path in files:
        digest.update(relative.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """The fingerprint of the sources this process imported (computed once per process)."""
    return fingerprint_of(source_files())


def source_root() -> str:
    """Where this process's ``chaos`` package lives (named in a mismatch, to find the stray tree)."""
    module = importlib.import_module("chaos")
    return str(Path(module.__file__ or ".").resolve().parent.parent)


def verify_fingerprint(expected: str) -> str:
    """Return this process's fingerprint if it is ``expected``; else raise ``FingerprintMismatch``."""
    actual = code_fingerprint()
    if actual != expected:
        raise FingerprintMismatch(
            f"code fingerprint mismatch: this worker runs {actual[:SHORT]} (sources in {source_root()}), the "
            f"swarm was started on {expected[:SHORT]}; install the same tree on every worker (the replay key is "
            "seed + code)")
    return actual


class Checked(Generic[T, R]):
    """``fn`` wrapped to run only where the code fingerprint is ``expected`` (picklable for Dask and processes)."""

    __slots__ = ("expected", "fn")

    def __init__(self, fn: Callable[[T], R], expected: str) -> None:
        self.fn = fn
        self.expected = expected

    def __call__(self, item: T) -> R:
        verify_fingerprint(self.expected)
        return self.fn(item)
