"""Pre-trade checks: refuse an order before it is sent, with the check's name and numbers in the message.

Checks run cheapest first and stop at the first failure::

    1. guard level   HARD: BotError(HALTED) for any order.
                     SOFT: reduce-only. Allowed iff inventory_lots * side.sign < 0 and qty_lots <= |inventory_lots|
                     (a sell when long, a buy when short, never flipping the sign; nothing when flat).
    1b. headroom    the worst case if the side's resting orders and this one all fill stays within the HARD
                     inventory limit (``check_headroom``).
    2. price band    |price - mid| * 10_000 > price_band_bps * mid  -> rejected (exactly at the band passes).
                     A MARKET order is valued at the mid. No reference mid -> rejected.
    3. notional      price_ticks * qty_lots * quote_atoms_per_tick_lot > max_order_notional_quote * 1e8 -> rejected.
    4. balance       buy: notional atoms > free_quote_atoms; sell: qty_lots * base_atoms_per_lot > free_base_atoms.
                     (Fees are not included: the venue's own balance check covers them.)
    5. order rate    token bucket: tokens = min(burst, tokens + max_orders_per_s * dt); an order takes one
                     token; tokens < 1 -> rejected with ``retry_after_ms``, ``recoverable=True``.

Only an order that passes every check takes a token, so rejected orders never use up the rate budget.
Every rejection is ``BotError(ErrorCode.RISK_REJECTED, "<check>: ...")`` except HARD (``ErrorCode.HALTED``).
"""

from __future__ import annotations

import math
from decimal import Decimal

from bot.core.errors import BotError, ErrorCode
from bot.core.types import ATOMS_PER_UNIT, NewOrder, Side, SymbolInfo
from bot.interfaces import Clock
from bot.risk.config import PreTradeConfig
from bot.risk.guards import GuardLevel

__all__ = ["PreTradeCheck", "TokenBucket", "check_headroom", "check_level"]


class TokenBucket:
    """``rate_per_s`` tokens per second up to ``capacity``; starts full. Time from the injected clock."""

    def __init__(self, rate_per_s: float, capacity: int, clock: Clock) -> None:
        self._rate = rate_per_s
        self._capacity = float(capacity)
        self._clock = clock
        self._tokens = float(capacity)
        self._at_s = clock.monotonic_s()

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    def retry_after_s(self) -> float:
        """Seconds until one token is available (0.0 if one is)."""
        return max(0.0, (1.0 - self.tokens) / self._rate)

    def try_take(self) -> bool:
        self._refill()
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def _refill(self) -> None:
        now = self._clock.monotonic_s()
        elapsed = max(0.0, now - self._at_s)
        self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
        self._at_s = now


def _reject(check: str, detail: str) -> BotError:
    return BotError(ErrorCode.RISK_REJECTED, f"{check}: {detail}")


class PreTradeCheck:
    """Stateful only in its token bucket; every other check is a pure function of its arguments."""

    def __init__(self, config: PreTradeConfig, clock: Clock) -> None:
        self._config = config
        self._bucket = TokenBucket(config.max_orders_per_s, config.burst, clock)
        self._band_bps = Decimal(repr(config.price_band_bps))
        self._max_notional_atoms = config.max_order_notional_quote * ATOMS_PER_UNIT

    @property
    def bucket(self) -> TokenBucket:
        return self._bucket

    def check(
        self,
        order: NewOrder,
        info: SymbolInfo,
        *,
        reference_mid_ticks: int | None,
        free_quote_atoms: int,
        free_base_atoms: int,
        level: GuardLevel,
        inventory_lots: int,
        resting_same_side_lots: int = 0,
        hard_limit_lots: int | None = None,
    ) -> None:
        """Raise ``BotError`` naming the first failed check; return ``None`` (and take a token) if all pass."""
        check_level(order, level, inventory_lots)
        if hard_limit_lots is not None:
            check_headroom(order, inventory_lots, resting_same_side_lots, hard_limit_lots)
        price_ticks = self._check_band(order, reference_mid_ticks)
        notional_atoms = info.notional_atoms(price_ticks, order.qty_lots)
        self._check_notional(order, notional_atoms)
        _check_balance(order, info, notional_atoms, free_quote_atoms, free_base_atoms)
        if not self._bucket.try_take():
            wait_s = self._bucket.retry_after_s()
            raise BotError(
                ErrorCode.RISK_REJECTED,
                f"order_rate: {order.client_order_id} exceeds {self._config.max_orders_per_s:g}/s "
                f"(burst {self._config.burst}); next token in {wait_s:.3f}s",
                recoverable=True,
                retry_after_ms=math.ceil(wait_s * 1000),
            )

    def _check_band(self, order: NewOrder, mid: int | None) -> int:
        if mid is None or mid <= 0:
            raise _reject("price_band", f"{order.client_order_id} has no reference mid (got {mid})")
        if order.price_ticks is None:
            return mid  # MARKET: valued at the mid
        distance = abs(order.price_ticks - mid)
        if distance * 10_000 > self._band_bps * mid:
            bps = distance * 10_000 / mid
            raise _reject(
                "price_band",
                f"{order.client_order_id} price {order.price_ticks} ticks is {bps:.2f} bps from mid {mid} ticks "
                f"> {self._config.price_band_bps:g} bps",
            )
        return order.price_ticks

    def _check_notional(self, order: NewOrder, notional_atoms: int) -> None:
        if notional_atoms > self._max_notional_atoms:
            raise _reject(
                "max_notional",
                f"{order.client_order_id} notional {Decimal(notional_atoms) / ATOMS_PER_UNIT} quote "
                f"> max {self._config.max_order_notional_quote}",
            )


def check_level(order: NewOrder, level: GuardLevel, inventory_lots: int) -> None:
    """The guard-level part of the pre-trade check: HARD refuses every order, SOFT only reduce-only ones that do
    not flip the position. Also run before every re-send of a held-back order (a retry after a 429 or an
    unprocessed request), so an order decided before a guard fired never reaches the venue after it."""
    if level is GuardLevel.HARD:
        raise BotError(ErrorCode.HALTED, f"guard_level: HARD, no new orders ({order.client_order_id})")
    if level is GuardLevel.SOFT:
        reduces = inventory_lots * order.side.sign < 0
        if not reduces or order.qty_lots > abs(inventory_lots):
            raise _reject(
                "reduce_only",
                f"SOFT guard: {order.side} {order.qty_lots} lots with inventory {inventory_lots} lots "
                "does not reduce |inventory| without flipping it",
            )


def check_headroom(order: NewOrder, inventory_lots: int, resting_same_side_lots: int, hard_limit_lots: int) -> None:
    """The worst case if every order that may rest on the order's side fills, this one included, must stay within
    the HARD inventory limit (unless it is no worse than now)::

        worst = inventory_lots + side.sign * (resting_same_side_lots + qty_lots)
        refused iff |worst| > hard_limit_lots and |worst| > |inventory_lots|

    A market that gaps through the bot's bids fills them all at once, faster than a guard that samples the
    position can react (chaos seed 806: four bids filled in one sweep, then new bids in the gap, 579 lots
    against a 500-lot limit)."""
    worst = inventory_lots + order.side.sign * (resting_same_side_lots + order.qty_lots)
    if abs(worst) > hard_limit_lots and abs(worst) > abs(inventory_lots):
        raise _reject(
            "inventory_headroom",
            f"{order.client_order_id} {order.side} {order.qty_lots} lots with inventory {inventory_lots} and "
            f"{resting_same_side_lots} lots resting on that side could reach {worst} lots, beyond the hard "
            f"limit {hard_limit_lots}",
        )


def _check_balance(
    order: NewOrder, info: SymbolInfo, notional_atoms: int, free_quote_atoms: int, free_base_atoms: int
) -> None:
    if order.side is Side.BUY:
        if notional_atoms > free_quote_atoms:
            raise _reject(
                "balance",
                f"{order.client_order_id} buy needs {notional_atoms} {info.quote_asset} atoms "
                f"> free {free_quote_atoms}",
            )
        return
    needed = order.qty_lots * info.base_atoms_per_lot
    if needed > free_base_atoms:
        raise _reject(
            "balance",
            f"{order.client_order_id} sell needs {needed} {info.base_asset} atoms > free {free_base_atoms}",
        )
