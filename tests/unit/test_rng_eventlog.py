"""Seed derivation and the event log: named streams are reproducible and independent; digests are exact."""

from __future__ import annotations

import hashlib
from pathlib import Path

from exchange_sim.eventlog import EventLog, read_events
from exchange_sim.rng import derive_seed, stream


def test_same_name_gives_same_draws() -> None:
    assert [stream(7, "flow", "BTCUSDT").random() for _ in range(3)] == [
        stream(7, "flow", "BTCUSDT").random() for _ in range(3)
    ]


def test_different_names_or_seeds_give_different_streams() -> None:
    assert derive_seed(7, "flow", "BTCUSDT") != derive_seed(7, "flow", "ETHUSDT")
    assert derive_seed(7, "flow") != derive_seed(8, "flow")


def test_derived_seed_is_stable_across_versions() -> None:
    # pinned: a change here silently changes every recorded replay key
    assert derive_seed(7, "market") == int.from_bytes(hashlib.sha256(b"7/market").digest()[:8], "big")


def test_event_log_digest_is_sha256_of_written_bytes(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    with EventLog(path) as log:
        log.record(1, "book", {"s": "BTCUSDT", "p": 10, "q": 3})
        log.record(2, "trade", {"s": "BTCUSDT", "id": 1})
        digest = log.digest()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert read_events(path) == [
        {"t": 1, "k": "book", "s": "BTCUSDT", "p": 10, "q": 3},
        {"t": 2, "k": "trade", "s": "BTCUSDT", "id": 1},
    ]


def test_event_log_counts_records_per_kind() -> None:
    log = EventLog()
    for kind in ("book", "trade", "book"):
        log.record(0, kind, {})
    assert log.counts() == {"book": 2, "trade": 1}
    assert log.records == 3


def test_field_order_changes_the_digest() -> None:
    a, b = EventLog(), EventLog()
    a.record(0, "x", {"p": 1, "q": 2})
    b.record(0, "x", {"q": 2, "p": 1})
    assert a.digest() != b.digest()
