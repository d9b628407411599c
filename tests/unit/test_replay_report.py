"""The session report of a replayed run shows the replayed market from replay_fills.json; a synthetic run's does not."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mmbot.cli import app
from reports.eventseries import iter_events
from reports.replay_section import NO_REACTION, recorded_series
from tests.unit.test_replay_session import recordings_dir


def cells(text: str) -> dict[str, str]:
    return {html.unescape(k): html.unescape(v) for k, v in re.findall(r'data-key="([^"]+)" data-value="([^"]*)"', text)}


@pytest.fixture(scope="module")
def replay_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replay") / "run"
    spec = f"replay:{recordings_dir() / 'btcusdt_20240808.gz'}"
    result = CliRunner().invoke(app, ["sim", "--market", spec, "--hours", str(1 / 60), "--seed", "7",
                                      "--run-dir", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_a_replayed_run_report_shows_the_numbers_of_replay_fills_json(replay_run: Path) -> None:
    data = json.loads((replay_run / "replay_fills.json").read_text())
    text = (replay_run / "report.html").read_text()
    assert 'id="replayed-market"' in text and html.escape(NO_REACTION) in text
    shown = cells(text)
    assert data["summary"]["fills"] > 0
    assert shown["replay.fills"] == str(data["summary"]["fills"])
    assert shown["replay.queue_ahead_lots_mean"] == str(data["summary"]["queue_ahead_lots_mean"])
    assert shown["replay.wait_s_median"] == str(data["summary"]["wait_s_median"])
    for h in data["horizons_s"]:
        key = f"markout_{h:g}s_bps"
        assert shown[f"replay.{key}"] == str(data["summary"][key]), key
    for i, fill in enumerate(data["fills"]):
        assert shown[f"replay.fill.{i}.queue_ahead_lots"] == str(fill["queue_ahead_lots"])
        assert shown[f"replay.fill.{i}.wait_s"] == str(fill["wait_s"])
    for div in ("chart-replay-BTCUSDT", "chart-replay-markouts"):
        assert f'id="{div}"' in text


def test_the_replayed_run_charts_are_in_the_recordings_prices(replay_run: Path) -> None:
    summary = json.loads((replay_run / "summary.json").read_text())
    text = (replay_run / "report.html").read_text()
    curve_end = re.search(r"ends at\s*BTCUSDT (-?[0-9.]+)", text)
    assert curve_end is not None  # the PnL curve, scaled by the recording's tick 0.01, ends at the summary's PnL
    assert float(curve_end.group(1)) == pytest.approx(summary["net_pnl_quote"], abs=0.05)


def test_the_recorded_touch_is_in_the_recordings_prices_and_never_crossed(replay_run: Path) -> None:
    series = recorded_series(iter_events(replay_run / "events.jsonl"), account="bot", symbols=["BTCUSDT"],
                             duration_s=60.0)["BTCUSDT"]
    assert len(series.t_s) > 100 and series.quotes["BUY"][0]
    assert all(a > b for b, a in zip(series.bid, series.ask, strict=True))  # never crossed
    assert 61_000 < series.bid[0] < 63_000  # BTC in USDT: the recording's tick, not the simulator's
    data = json.loads((replay_run / "replay_fills.json").read_text())
    maker_buys = [f for f in data["fills"] if f["maker"] and f["side"] == "BUY"]
    for fill in maker_buys:  # a maker buy rests at or below the recorded best bid at its time
        i = max(0, next((k for k, t in enumerate(series.t_s) if t >= fill["t_s"]), len(series.t_s)) - 1)
        assert fill["price_ticks"] / 100 <= series.ask[i]


def test_a_synthetic_run_report_has_no_replayed_market_section(tmp_path: Path) -> None:
    path = tmp_path / "run"
    result = CliRunner().invoke(app, ["sim", "--hours", "0.01", "--seed", "3", "--run-dir", str(path)])
    assert result.exit_code == 0, result.output
    text = (path / "report.html").read_text()
    assert "Replayed market" not in text and "replay." not in "".join(cells(text))
    assert not (path / "replay_fills.json").exists()


def test_the_recorded_touch_leaves_our_own_orders_out() -> None:
    def book(t: int, side: str, price: int, qty: int) -> dict[str, object]:
        return {"t": t, "k": "book", "s": "BTCUSDT", "S": side, "p": price, "q": qty}

    def order(t: int, oid: int, status: str, price: int, qty: int, filled: int) -> dict[str, object]:
        return {"t": t, "k": "order", "a": "bot", "s": "BTCUSDT", "id": oid, "x": status if status != "PARTIALLY_FILLED"
                else "TRADE", "X": status, "S": "BUY", "p": price, "q": qty, "z": filled}

    events = [
        book(0, "BUY", 100, 50), book(0, "SELL", 102, 50),
        order(1_000_000, 7, "NEW", 101, 10, 0), book(1_000_000, "BUY", 101, 10),  # we alone improve the bid
        order(2_000_000, 8, "NEW", 100, 5, 0), book(2_000_000, "BUY", 100, 55),  # we join the recorded level
        order(3_000_000, 7, "PARTIALLY_FILLED", 101, 10, 4), book(3_000_000, "BUY", 101, 6),
        order(4_000_000, 7, "CANCELED", 101, 10, 4), book(4_000_000, "BUY", 101, 0),
        book(5_000_000, "SELL", 102, 40),
    ]
    series = recorded_series(events, account="bot", symbols=["BTCUSDT"], duration_s=5.0)["BTCUSDT"]
    by_time = dict(zip(series.t_s, series.bid, strict=True))
    assert by_time[0.0] == pytest.approx(1.00)  # tick 0.01: 100 ticks = 1.00 USDT
    assert all(bid == pytest.approx(1.00) for bid in series.bid)  # our 101 bid never shows as recorded
    times, prices = series.quotes["BUY"]
    assert times == [1.0, 2.0] and prices == pytest.approx([1.01, 1.00])
    assert series.t_s[-1] == 5.0 and series.ask[-1] == pytest.approx(1.02)
