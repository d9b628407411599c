"""chaos.hitrate: which fault kinds hit the bot's traffic, read from an event log."""

from __future__ import annotations

import json

from chaos.hitrate import hits_in_log, table


def _lines(*records: dict[str, object]) -> list[str]:
    return [json.dumps(r) for r in records]


def test_a_hit_counts_only_on_the_bots_account_and_busy_means_an_order_action_in_the_window() -> None:
    log = _lines(
        {"t": 1, "k": "fault", "id": 0, "f": "reject", "ph": "start"},
        {"t": 2, "k": "request", "a": "bot", "op": "place"},
        {"t": 3, "k": "fault_hit", "id": 0, "f": "reject", "e": "reject", "a": "bot"},
        {"t": 4, "k": "fault", "id": 0, "f": "reject", "ph": "end"},
        {"t": 5, "k": "fault", "id": 1, "f": "stp", "ph": "start"},
        {"t": 6, "k": "fault_hit", "id": 1, "f": "stp", "e": "stp_expire", "a": "other"},
        {"t": 7, "k": "request", "a": "bot", "op": "account"},
        {"t": 8, "k": "fault", "id": 1, "f": "stp", "ph": "end"},
        {"t": 9, "k": "fault", "id": 2, "f": "slow_close", "ph": "start"},
        {"t": 9, "k": "fault_hit", "id": 2, "f": "slow_close", "e": "slow_close", "ch": "ws"},  # feed: no account
        {"t": 9, "k": "fault", "id": 2, "f": "slow_close", "ph": "end"},
    )
    assert hits_in_log(log, "bot") == {"reject": (True, True), "stp": (False, False), "slow_close": (True, False)}


def test_the_table_folds_sessions_per_kind() -> None:
    rows = table([{"reject": (True, True)}, {"reject": (False, True), "stp": (False, False)}, {}])
    assert rows == [("reject", 2, 1, 2, 1), ("stp", 1, 0, 0, 0)]
