"""``mmbot run``'s operator events over the wire: a REST partition is reported when it starts and when it heals,
the guard changes it causes are reported, and status lines come every interval, all ISO-8601 UTC stamped."""

from __future__ import annotations

import io
import json
import re

import pytest

from bot.metrics.logs_events import EventWriter
from exchange_sim.faults.model import Fault, FaultKind, Scenario
from tests.realtime_support import run_bot
from tests.server_support import running_server

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PARTITION = Scenario((Fault(FaultKind.PARTITION, "rest", 3.0, 8.0),))  # long enough for requests to time out


async def test_a_partition_its_guards_and_status_lines_are_events_with_iso_timestamps() -> None:
    stream = io.StringIO()
    async with running_server(scenario=PARTITION) as server:
        await run_bot(server, 16.0, events=EventWriter(stream, json_lines=True), status_every_s=2.0)
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    kinds = [e["event"] for e in events]
    assert all(ISO.match(e["ts"]) for e in events)
    assert [e["state"] for e in events if e["event"] == "partition"][:2] == ["unreachable", "reachable"]
    guards = [e for e in events if e["event"] == "guard"]
    assert any(e["action"] == "set" and e["level"] == "HARD" for e in guards)  # clearing takes hard_recovery_s
    statuses = [e for e in events if e["event"] == "status"]
    assert len(statuses) >= 6  # at 0, 2, ..., 14 s and at the stop (a loaded machine may skip one or two)
    assert {row["symbol"] for row in statuses[-1]["symbols"]} == {"BTCUSDT"}
    assert kinds[-1] == "status"  # the last one at the stop
