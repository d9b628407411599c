"""Invariant 3: supply conserved; the bot's balances equal opening balances plus fills minus fees."""

from __future__ import annotations

from exchange_sim.checker import VenueState
from tests.checker_support import SPEC, S, clean_session, invariants, venue_state


def test_a_balance_that_does_not_match_fills_and_fees_is_a_violation() -> None:
    assert invariants(clean_session(), venue_state(btc=10_000 + 10 * 1000 - 1)) == {"3.conservation"}


def test_supply_that_is_not_conserved_is_a_violation() -> None:
    state = venue_state()
    leaky = VenueState(open_orders=state.open_orders, balances=state.balances, supply={"BTC": (6, 5)},
                       specs={S: SPEC}, initial_balances=state.initial_balances)
    assert invariants(clean_session(), leaky) == {"3.conservation"}
