"""A gzip event log (``.gz`` suffix): same digest as the plain log, same records for every reader, same bytes
for the same records, and a real size reduction."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from chaos.coverage import read_coverage_records
from exchange_sim.checker.liveness import events_digest
from exchange_sim.eventlog import EventLog, is_compressed, iter_events, open_events, read_events
from reports.eventseries import iter_events as report_events
from reports.rundir import RunDir


def write(path: Path | None, n: int = 3000) -> str:
    with EventLog(path) as log:
        for i in range(n):
            log.record(i * 1000, "book", {"s": "BTCUSDT", "S": "BUY" if i % 2 else "SELL", "p": 12_000 + i % 17,
                                          "q": i % 5})
            if i % 100 == 0:
                log.record(i * 1000, "bot.restart", {"a": "bot"})
        return log.digest()


def test_the_digest_is_the_uncompressed_records_digest(tmp_path: Path) -> None:
    plain, packed = tmp_path / "e.jsonl", tmp_path / "e.jsonl.gz"
    assert write(plain) == write(packed) == write(None)
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    assert events_digest(read_events(packed)) == write(None)


def test_the_same_records_give_the_same_compressed_bytes(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl.gz")
    write(tmp_path / "b.jsonl.gz")
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()


def test_the_compressed_log_is_much_smaller(tmp_path: Path) -> None:
    write(tmp_path / "e.jsonl")
    write(tmp_path / "e.jsonl.gz")
    assert (tmp_path / "e.jsonl.gz").stat().st_size * 5 < (tmp_path / "e.jsonl").stat().st_size


def test_every_reader_reads_both_forms(tmp_path: Path) -> None:
    plain, packed = tmp_path / "e.jsonl", tmp_path / "e.jsonl.gz"
    write(plain)
    write(packed)
    records = read_events(plain)
    assert len(records) == 3030
    assert read_events(packed) == records
    assert list(iter_events(packed)) == records
    assert list(report_events(packed)) == records
    assert read_coverage_records(packed) == read_coverage_records(plain) != []


def test_gzip_is_recognised_by_its_content_not_its_name(tmp_path: Path) -> None:
    packed = tmp_path / "e.jsonl.gz"
    write(packed, 10)
    renamed = packed.rename(tmp_path / "renamed.jsonl")
    with open_events(renamed) as fh:
        assert json.loads(fh.readline())["k"] == "book"
    assert is_compressed("x/events.jsonl.gz") and not is_compressed("x/events.jsonl")


def test_a_run_directory_finds_a_compressed_log(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text("{}")
    write(tmp_path / "events.jsonl.gz", 10)
    assert RunDir.open(tmp_path).events_path == tmp_path / "events.jsonl.gz"
