"""VenueState: what the checker needs from the venue at session end, captured from the engine as plain data.

The checker never imports the bot and never trusts the bot's accounting; it trusts the venue's ledger (the
engine's balances, open orders and supply) and the event log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from exchange_sim.engine.audit import EngineAuditError
from exchange_sim.engine.matching import MatchingEngine
from exchange_sim.engine.types import AccountId


@dataclass(frozen=True, slots=True)
class SymbolFacts:
    base_asset: str
    quote_asset: str
    base_atoms_per_lot: int
    quote_atoms_per_tick_lot: int


@dataclass(frozen=True, slots=True)
class VenueState:
    """End-of-session venue facts. ``initial_balances`` (atoms at account opening) enable the per-account
    balance recomputation of invariant 3; without them only supply conservation is checked."""

    open_orders: Mapping[str, frozenset[str]] = field(default_factory=dict)  # account -> client ids
    balances: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # account -> asset -> total atoms
    supply: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # asset -> (held, deposited)
    specs: Mapping[str, SymbolFacts] = field(default_factory=dict)
    initial_balances: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    audit_error: str | None = None

    @classmethod
    def capture(
        cls, engine: MatchingEngine, accounts: Iterable[str],
        initial_balances: Mapping[str, Mapping[str, int]] | None = None,
    ) -> VenueState:
        try:
            engine.audit()
            audit_error = None
        except EngineAuditError as error:
            audit_error = str(error)
        names = sorted(accounts)
        ledger = engine.ledger
        return cls(
            open_orders={a: frozenset(o.client_order_id for o in engine.open_orders(AccountId(a))) for a in names},
            balances={a: {asset: b.total_atoms for asset, b in engine.balances(AccountId(a)).items()} for a in names},
            supply={asset: (ledger.total(asset), ledger.deposited(asset)) for asset in ledger.assets()},
            specs={s: SymbolFacts(spec.base_asset, spec.quote_asset, spec.base_atoms_per_lot,
                                  spec.quote_atoms_per_tick_lot)
                   for s in engine.symbols for spec in (engine.spec(s),)},
            initial_balances=dict(initial_balances or {}),
            audit_error=audit_error,
        )


def apply_trade(balances: dict[str, int], trade: Mapping[str, Any], account: str, spec: SymbolFacts) -> None:
    """Add one venue trade's effect on ``account``'s total balances (atoms; fees paid in what it receives)."""
    base = int(trade["q"]) * spec.base_atoms_per_lot
    quote = int(trade["p"]) * int(trade["q"]) * spec.quote_atoms_per_tick_lot
    for role, fee_key in (("ta", "tf"), ("ma", "mf")):
        if trade.get(role) != account:
            continue
        buys = (trade["S"] == "BUY") == (role == "ta")
        fee = int(trade[fee_key])
        balances[spec.base_asset] = balances.get(spec.base_asset, 0) + (base - fee if buys else -base)
        balances[spec.quote_asset] = balances.get(spec.quote_asset, 0) + (-quote if buys else quote - fee)
