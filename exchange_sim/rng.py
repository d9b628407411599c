"""Seed derivation: every random stream of a run is derived from one root seed and a name.

Invariant: ``stream(seed, "market", "BTCUSDT")`` yields the same draws in any process, on any machine, for
the same Python version, and streams with different names are independent. Nothing in the simulation uses
the global ``random`` module or numpy's global state; components ask for a named stream instead, so adding a
new consumer of randomness never shifts the draws of an existing one.
"""

from __future__ import annotations

import hashlib
import random


def derive_seed(root_seed: int, *names: str | int) -> int:
    """A 64-bit seed from ``root_seed`` and a path of names: SHA-256 over their canonical text form."""
    text = "/".join([str(int(root_seed)), *(str(n) for n in names)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def stream(root_seed: int, *names: str | int) -> random.Random:
    """An independent ``random.Random`` for one named consumer of randomness."""
    return random.Random(derive_seed(root_seed, *names))
