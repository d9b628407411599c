"""Operator events: ISO-8601 UTC stamps from the injected clock, guard set/cleared, pulls, partitions, status."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

from bot.core.recorder import NULL_RECORDER
from bot.metrics.logs_events import EventWriter, GuardTap, RunEvents, SymbolStatus, iso_utc


class Clock:
    """A virtual clock: the tests move it by hand."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def now_ms(self) -> int:
        return self.ms


def events(json_lines: bool = True) -> tuple[RunEvents, io.StringIO, Clock]:
    stream, clock = io.StringIO(), Clock(1_700_000_000_123)
    return RunEvents(clock.now_ms, EventWriter(stream, json_lines=json_lines)), stream, clock


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_iso_utc_is_exact_to_the_millisecond() -> None:
    assert iso_utc(1_700_000_000_123) == "2023-11-14T22:13:20.123Z"
    assert iso_utc(0) == "1970-01-01T00:00:00.000Z"
    assert iso_utc(1_700_000_000_999) == "2023-11-14T22:13:20.999Z"


def test_the_timestamp_is_the_injected_clocks_not_the_wall_clocks() -> None:
    run, stream, clock = events()
    clock.ms = 86_400_000  # a virtual day after the epoch
    run.guard({"level": "SOFT", "reason": "INVENTORY", "latch": "", "recoverable": True})
    assert parsed(stream)[0]["ts"] == "1970-01-02T00:00:00.000Z"


def test_a_guard_rising_is_set_and_falling_is_cleared() -> None:
    run, stream, _ = events()
    for level in ("SOFT", "HARD", "HARD", "OK"):
        run.guard({"level": level, "reason": "LATENCY", "latch": "", "recoverable": True})
    got = [(e["action"], e["previous"], e["level"]) for e in parsed(stream)]
    assert got == [("set", "OK", "SOFT"), ("set", "SOFT", "HARD"), ("changed", "HARD", "HARD"),
                   ("cleared", "HARD", "OK")]
    assert [list(e)[:2] for e in parsed(stream)] == [["ts", "event"]] * 4


def test_only_new_pulls_are_reported_with_their_count() -> None:
    run, stream, _ = events()
    run.pulls("BTCUSDT", {"stale_book": 1})
    run.pulls("BTCUSDT", {"stale_book": 1})
    run.pulls("BTCUSDT", {"stale_book": 3, "crossed_book": 1})
    got = [(e["symbol"], e["reason"], e["count"]) for e in parsed(stream)]
    assert got == [("BTCUSDT", "stale_book", 1), ("BTCUSDT", "crossed_book", 1), ("BTCUSDT", "stale_book", 2)]


def test_a_partition_is_reported_when_it_starts_and_when_it_heals_with_its_length() -> None:
    run, stream, clock = events()
    run.venue(True, "local")
    run.venue(False, "local")
    clock.ms += 2_500
    run.venue(False, "local")
    run.venue(True, "local")
    got = parsed(stream)
    assert [e["state"] for e in got] == ["unreachable", "reachable"]
    assert got[1]["down_s"] == 2.5


def test_a_venue_not_yet_up_at_start_is_not_a_partition() -> None:
    run, stream, _ = events()
    run.venue(False, "local")  # books not synced yet
    run.venue(True, "local")
    assert stream.getvalue() == ""
    run.venue(False, "local")
    assert [e["state"] for e in parsed(stream)] == ["unreachable"]


def test_the_status_line_is_one_plain_line_naming_every_symbol() -> None:
    run, stream, _ = events(json_lines=False)
    run.status([
        SymbolStatus(symbol="BTCUSDT", position_base=Decimal("0.012"), pnl_quote=1.23456, open_orders=4,
                     guard="OK"),
        SymbolStatus(symbol="SOLUSDT", position_base=Decimal("-3"), pnl_quote=-0.5, open_orders=0,
                     guard="SOFT(INVENTORY)"),
    ])
    [line] = stream.getvalue().splitlines()
    assert line == ("2023-11-14T22:13:20.123Z status symbol=BTCUSDT position_base=0.012 pnl_quote=1.2346 "
                    "open_orders=4 guard=OK | symbol=SOLUSDT position_base=-3 pnl_quote=-0.5 open_orders=0 "
                    "guard=SOFT(INVENTORY)")
    assert "\x1b" not in line


def test_the_json_status_is_one_object_with_a_row_per_symbol() -> None:
    run, stream, _ = events()
    run.status([SymbolStatus(symbol="BTCUSDT", position_base=Decimal("0.5"), pnl_quote=2.0, open_orders=2,
                             guard="HARD")])
    [event] = parsed(stream)
    assert event == {"ts": "2023-11-14T22:13:20.123Z", "event": "status", "symbols": [
        {"symbol": "BTCUSDT", "position_base": "0.5", "pnl_quote": 2.0, "open_orders": 2, "guard": "HARD"}]}


def test_positions_are_plain_decimals() -> None:
    row = SymbolStatus(symbol="SOLUSDT", position_base=Decimal("1E+1"), pnl_quote=0.0, open_orders=0, guard="OK")
    assert row.fields()["position_base"] == "10"


def test_plain_values_with_spaces_are_quoted() -> None:
    run, stream, _ = events(json_lines=False)
    run.guard({"level": "HARD", "reason": "reconciled after operator reset", "latch": "", "recoverable": True})
    assert 'reason="reconciled after operator reset"' in stream.getvalue()
    assert 'latch=""' in stream.getvalue()


def test_the_guard_tap_passes_every_record_on_and_guards_to_the_events() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    class Inner:
        enabled = True

        def record(self, kind: str, fields: dict[str, Any]) -> None:
            seen.append((kind, fields))

    guards: list[dict[str, Any]] = []
    tap = GuardTap(Inner(), lambda fields: guards.append(dict(fields)))
    tap.record("bot.intent", {"c": "x"})
    tap.record("bot.guard", {"level": "SOFT"})
    assert [k for k, _ in seen] == ["bot.intent", "bot.guard"]
    assert guards == [{"level": "SOFT"}]
    assert tap.enabled and not GuardTap(NULL_RECORDER, lambda fields: None).enabled


def test_a_broken_stream_does_not_raise() -> None:
    stream = io.StringIO()
    stream.close()
    run = RunEvents(lambda: 0, EventWriter(stream, json_lines=True))
    run.guard({"level": "HARD"})
    assert run.emitted == 1
