"""Invariant 6: inventory never exceeds the configured hard limit plus the orders in flight when it was last
within it; the bot's own hard-limit record is a claim checked against the config, never the limit itself."""

from __future__ import annotations

from tests.checker_support import S, bot, clean_session, config, invariants, violations


def _claiming(lots: int) -> list[dict[str, object]]:
    return [*(e for e in clean_session() if e["k"] != "bot.hard_limit"), bot(0.5, "hard_limit", s=S, lots=lots)]


def test_a_fill_past_the_hard_limit_from_an_order_sent_after_the_breach_is_a_violation() -> None:
    assert "6.inventory_limit" in invariants(_claiming(5), config=config(hard_limit_lots={S: 5}))


def test_a_fill_past_the_limit_from_an_order_already_in_flight_is_allowed() -> None:
    assert "6.inventory_limit" not in invariants(_claiming(10), config=config(hard_limit_lots={S: 10}))


def test_the_limit_comes_from_the_config_not_from_the_bots_record() -> None:
    """The bot claims a generous limit of 100 lots; its config says 5: the 10-lot fill breaks the config's limit,
    and the claim itself is reported."""
    found = [v.detail for v in violations(_claiming(100), config=config(hard_limit_lots={S: 5}))
             if v.invariant == "6.inventory_limit"]
    assert any("inventory 10 lots > hard limit 5" in d for d in found)
    assert any("claims a hard limit of 100 lots, the config's is 5" in d for d in found)


def test_a_traded_symbol_without_a_configured_limit_is_skipped_and_fails_the_gate() -> None:
    found = [v for v in violations(clean_session(), config=config(hard_limit_lots={}))
             if v.invariant == "6.inventory_limit"]
    assert [v.detail for v in found] == [f"skipped: no configured hard limit for {S}"]
    assert invariants(clean_session(), config=config(hard_limit_lots={}, allowed_skips=frozenset({
        "6.inventory_limit"}))) == set()
