"""The session profile attributes own time to packages and counts Python calls per simulated second."""

from __future__ import annotations

from bench.session_profile import _group, profile_session


def test_functions_are_grouped_by_package_and_subpackage() -> None:
    assert _group("/src/exchange_sim/engine/matching.py") == "exchange_sim/engine"
    assert _group("/src/exchange_sim/venue.py") == "exchange_sim/venue.py"
    assert _group("/home/bot/checkout/bot/quoting/quoter.py") == "bot/quoting"  # the last "bot" is the package
    assert _group("/usr/lib/python3.11/asyncio/base_events.py").startswith("asyncio")
    assert _group("~").startswith("builtins")
    assert _group("<string>").startswith("generated")


def test_a_short_session_profile_counts_calls_and_shares_add_up() -> None:
    result = profile_session(hours=0.005, seed=3)
    assert result["python_calls"] > 10_000
    assert result["calls_per_sim_s"] == round(result["python_calls"] / 18.0, 1)  # type: ignore[operator]
    shares = result["shares"]
    assert isinstance(shares, dict)
    assert 99.0 <= sum(shares.values()) <= 101.0
    assert any(group.startswith("bot/") for group in shares) and any(g.startswith("exchange_sim/") for g in shares)
