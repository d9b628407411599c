"""The unchanged bot in real time through ``BinanceConnector`` against the simulator's server on 127.0.0.1.

Every run is bounded (``run_realtime(duration_s=...)``) and loopback only. The checks: the chaos gate's invariants
hold under transport faults (judged from the server's event log and ledger); no secret appears in any output;
paper mode sends no order; the server refuses a wrong key or signature.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from bot.core.errors import BotError, ErrorCode
from bot.metrics.registry import BotMetrics
from exchange_sim.checker import VenueState, check_session
from exchange_sim.engine.types import AccountId
from exchange_sim.eventlog import read_events
from exchange_sim.faults.model import Fault, FaultKind, Scenario
from exchange_sim.server.config import AccountConfig
from harness.check_config import check_config_for
from tests.realtime_support import ACCOUNT, ServerLogRecorder, bot_config, connector, initial_atoms, run_bot
from tests.server_support import running_server

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]

FAULTS = Scenario((
    Fault(FaultKind.PARTITION, "rest", 4.0, 3.0),
    Fault(FaultKind.LATENCY, "both", 8.0, 5.0, {"latency_ms": 80.0, "jitter_ms": 40.0}),
    Fault(FaultKind.FEED_GAP, "ws", 10.0, 4.0, {"mode": "drop"}, toxicity=0.3),
    Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, "rest", 14.0, 5.0, {"reply": "error", "ops": "writes"}, toxicity=0.5),
))
FAKE_KEY = "mmbotE2EfakeKEY0x7d1a9c3e5b"
FAKE_SECRET = "mmbotE2EfakeSECRETq8Z4w2Lk6Rp"


async def test_bot_keeps_every_invariant_under_transport_faults_over_the_wire(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    async with running_server(scenario=FAULTS, log_path=path) as server:
        summary = await run_bot(server, 28.0, recorder=ServerLogRecorder(server.state))
        venue_state = VenueState.capture(server.state.engine, [ACCOUNT], initial_atoms())
        hits = server.state.log.counts().get("fault_hit", 0)
        config = bot_config()
        check = check_config_for(config, ACCOUNT, {s: server.state.spec(s).step_size for s in config.symbols})
    events = read_events(path)
    assert summary.stop_verified
    assert summary.orders["placed"] > 0
    assert hits > 0  # the faults really hit the bot's traffic
    violations = check_session(events, venue_state, check)  # judged by the bot's configured limits
    assert violations == []


async def test_no_secret_appears_in_any_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    logs = io.StringIO()
    path = tmp_path / "events.jsonl"
    metrics = BotMetrics()
    async with running_server(accounts=(_fake_account(),), log_path=path) as server:
        venue = connector(server, api_key=FAKE_KEY, secret=FAKE_SECRET)
        summary = await run_bot(server, 6.0, logs=logs, venue=venue, secrets=[FAKE_KEY, FAKE_SECRET],
                                metrics_port=0, metrics=metrics)
        assert summary.orders["placed"] > 0
    event_log = path.read_text()
    metrics_text = metrics.render().decode()
    outputs = {
        "logs": logs.getvalue(), "summary": json.dumps(summary.as_dict()), "repr": repr(summary) + repr(venue),
        "event_log": event_log, "metrics": metrics_text, "captured": "".join(capsys.readouterr()),
    }
    assert logs.getvalue()  # something was logged
    for name, text in outputs.items():
        assert FAKE_SECRET not in text, name
        assert FAKE_KEY not in text, name


def _fake_account() -> AccountConfig:
    return AccountConfig(name=ACCOUNT, api_key=FAKE_KEY, secret=FAKE_SECRET,
                         balances={"USDT": Decimal(1_000_000), "BTC": Decimal(10)})


async def test_server_refuses_a_wrong_key_and_a_wrong_signature() -> None:
    async with running_server() as server:
        for venue in (connector(server, api_key="not-the-key"), connector(server, secret="not-the-secret")):
            try:
                with pytest.raises(BotError) as caught:
                    await venue.balances()
            finally:
                await venue.close()
            assert caught.value.code is ErrorCode.AUTH_FAILED
            assert "not-the-secret" not in repr(caught.value) + str(caught.value)
        assert not server.state.engine.open_orders(AccountId(ACCOUNT))


async def test_paper_mode_quotes_but_sends_no_order(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    async with running_server(log_path=path) as server:
        summary = await run_bot(server, 6.0, paper=True)
        trades = server.state.engine.trades(AccountId(ACCOUNT), "BTCUSDT")
        open_orders = server.state.engine.open_orders(AccountId(ACCOUNT))
    ours = [e for e in read_events(path) if e.get("a") == ACCOUNT]
    orders = [e for e in ours if e["k"] in ("order", "reject")
              or (e["k"] == "request" and ("place" in e["op"] or "cancel" in e["op"]))]
    assert any(e["k"] == "request" for e in ours)  # reads were forwarded to the venue
    assert summary.mode == "paper"
    assert summary.per_symbol["BTCUSDT"]["decisions"] > 0
    assert summary.extra["paper"]["placed"] > 0
    assert summary.extra["paper"]["sent_to_venue"] == 0
    assert orders == [] and trades == [] and open_orders == []
