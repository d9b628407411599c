"""The sabotage catalogue: realistic one-line safety bugs (mutations) the general chaos swarm must catch.

Each ``Mutation`` names a file of the bot, an exact snippet of its current source (found exactly once), the text
that replaces it, what the bug is, and the invariant expected to catch it. ``chaos.sabotage_tree`` applies one to a
copy of the code; the live process is never patched. These are the kind of bugs a reviewer misses (an off-by-one
in a bound, a sign, a wrong field, a wrong branch), not a safety mechanism switched off.

``expected_escape`` is empty for a mutation the current swarm catches. When the swarm does not catch one it is not
weakened: ``expected_escape`` records the measured catch rate (and the tree it was measured on) and the mutation
stays in the suite, so a better swarm or checker shows up as a caught escape. ``ci_seeds`` are the first seeds
of the measurement that caught it: the CI subset (``chaos/test_sabotage.py``) runs exactly those, so it stays cheap
and fails when a change to the bot, the swarm or the checker stops them catching it (then re-measure with
``mmbot chaos sabotage --seeds 40`` and update the seeds, or mark the escape).

Invariants: names are unique; every mutation changes its file (``original != replacement``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Mutation:
    """One realistic one-line bug: replace ``original`` (exactly one occurrence in ``path``) by ``replacement``."""

    name: str
    path: str  # relative to the repository root, e.g. "bot/execution/order_manager.py"
    original: str
    replacement: str
    description: str
    invariant: str  # the invariant expected to catch it, e.g. "1.ledger"
    expected_escape: str = ""  # non-empty: the swarm does not catch it today; the measured rate and tree
    ci_seeds: tuple[int, ...] = ()  # general-swarm seeds (5 simulated minutes) that caught it when measured

    @property
    def module(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")


_OM = "bot/execution/order_manager.py"
_LIMITER = "bot/connectors/binance/limiter.py"
_WIRE = "bot/connectors/binance/wire.py"

MUTATIONS: tuple[Mutation, ...] = (
    # -- execution --
    Mutation(
        "position_sign_flip", _OM,
        "self._positions.get(fill.symbol, 0) + fill.side.sign * fill.qty_lots",
        "self._positions.get(fill.symbol, 0) - fill.side.sign * fill.qty_lots",
        "a fill's position update uses the wrong sign (buys reduce the position)", "1.ledger", ci_seeds=(0, 1, 2)),
    Mutation(
        "unknown_outcome_new_id", _OM,
        "                    await self._resolve(cid)\n                    return self._get(cid)",
        "                    return await self.place(symbol, side, qty_lots, price_ticks, order_type=order_type,"
        " time_in_force=time_in_force)\n                    return self._get(cid)",
        "an unknown-outcome order is re-sent under a new client id instead of being queried", "5.order_lifecycle",
        ci_seeds=(9, 15, 17)),
    Mutation(
        "unknown_outcome_as_reject", _OM,
        "if error.outcome_unknown or error.code is ErrorCode.DUPLICATE_ORDER:",
        "if error.code is ErrorCode.DUPLICATE_ORDER:",
        "a timeout after sending (-1007, 5xx) is booked REJECTED instead of being resolved by query",
        "5.order_lifecycle", ci_seeds=(5, 9, 15)),
    Mutation(
        "cancel_race_booked_cancelled", _OM,
        "                    if resolve:\n"
        "                        await self._resolve(client_order_id)",
        "                    if resolve:\n"
        "                        self._save(self._get(client_order_id).with_status(OrderStatus.CANCELED,"
        " self._now_ms()))",
        "a cancel answered 'unknown order' (it just filled) or lost is booked CANCELED without asking the venue",
        "4.no_orphans", ci_seeds=(1, 3, 4)),
    Mutation(
        "shutdown_lists_without_cancel", _OM,
        "        await self.cancel_all()\n        try:\n            venue_open = await self._call(\"openOrders\"",
        "        await asyncio.sleep(0)\n        try:\n            venue_open = await self._call(\"openOrders\"",
        "shutdown lists and verifies the venue's open orders but never cancels them", "4.no_orphans",
        ci_seeds=(0, 1, 2)),
    Mutation(
        "cancel_all_skips_in_doubt", _OM,
        "await self.cancel_many([r.client_order_id for r in self.open_orders(symbol)], resolve=resolve)",
        "await self.cancel_many([r.client_order_id for r in self.open_orders(symbol) if r.status in _QUOTING],"
        " resolve=resolve)",
        "cancel-all (HARD sweeps, shutdown) skips orders whose placement is still in doubt", "8.hard_guard",
        ci_seeds=(13, 15, 19)),
    Mutation(
        "watermark_from_stream_fills", _OM,
        "synced = self._store.get_meta(_WATERMARK + symbol)",
        "synced = self._store.last_trade_id(symbol)",
        "the fill backfill starts after the newest booked fill, so a missed report older than a received one "
        "is never backfilled", "1.ledger", ci_seeds=(8, 15, 23)),
    Mutation(
        "reconcile_skips_partially_filled", _OM,
        "venue_open = [o for o in await self._call(\"openOrders\", self._venue.open_orders) if o.symbol in names]",
        "venue_open = [o for o in await self._call(\"openOrders\", self._venue.open_orders) if o.symbol in names"
        " and o.executed_qty_lots == 0]",
        "reconcile ignores partially filled orders the venue lists (they are never adopted or refreshed)",
        "4.no_orphans", expected_escape="0/40 seeds at 5 min on the session-9 tree; 2/100 in seeds 0-99 (60, 80): "
        "it needs a cold restart while an old order is partially filled (docs/PERFORMANCE.md, session 9)"),
    Mutation(
        "terminal_record_reopened", "bot/execution/transitions.py",
        "    if record.status.is_terminal:\n        return record\n    filled = max(record.filled_lots, "
        "report.executed_qty_lots)",
        "    if record.status is OrderStatus.FILLED:\n        return record\n    filled = max(record.filled_lots, "
        "report.executed_qty_lots)",
        "a late report reopens a CANCELED/REJECTED/EXPIRED record (only FILLED is treated as final)",
        "21.terminal_stays", ci_seeds=(4, 11, 20)),
    Mutation(
        "lost_expires_when_young", "bot/execution/transitions.py",
        "now_ms - record.created_ms >= expire_after_ms",
        "now_ms - record.created_ms <= expire_after_ms",
        "a LOST order is declared EXPIRED (final) while young instead of once the venue must refuse it",
        "5.order_lifecycle", ci_seeds=(19, 27, 36)),
    Mutation(
        "fill_dedupe_by_order_id", "bot/execution/state.py",  # the SQLite store: the gate's production path
        "(fill.symbol, fill.trade_id, fill.order_id, fill.client_order_id,",
        "(fill.symbol, fill.order_id, fill.order_id, fill.client_order_id,",
        "fills are deduplicated by order id instead of trade id (a second partial fill is dropped)", "1.ledger",
        ci_seeds=(1, 3, 6)),
    # -- risk --
    Mutation(
        "reduce_only_sign_flip", "bot/risk/pretrade.py",
        "reduces = inventory_lots * order.side.sign < 0",
        "reduces = inventory_lots * order.side.sign > 0",
        "SOFT reduce-only compares with the wrong side: it lets through the order that grows |inventory| and "
        "refuses the one that reduces it", "22.soft_reduces", ci_seeds=(0, 1, 4)),
    Mutation(
        "inventory_guard_signed", "bot/risk/guards.py",
        "value = _abs(inventory[symbol])",
        "value = inventory[symbol]",
        "the inventory guard reads the signed position: a short position never trips SOFT or HARD",
        "19.soft_reduce_only", ci_seeds=(0, 1, 4)),
    # -- strategy / quoting --
    Mutation(
        "maker_cap_off_by_one", "bot/strategy/ladder.py",
        "bid_cap = min(math.ceil(mid) - 1, ctx.best_ask_ticks - 1)",
        "bid_cap = min(math.ceil(mid), ctx.best_ask_ticks)",
        "the bid cap is one tick too high: a bid may be priced at the best ask (a maker order that crosses)",
        "7.no_crossing", ci_seeds=(0, 1, 2)),
    Mutation(
        "post_only_dropped", _OM,
        "        order_type: OrderType = OrderType.LIMIT_MAKER,\n        time_in_force: TimeInForce = "
        "TimeInForce.GTC,\n    ) -> OrderRecord:",
        "        order_type: OrderType = OrderType.LIMIT,\n        time_in_force: TimeInForce = "
        "TimeInForce.GTC,\n    ) -> OrderRecord:",
        "quotes are sent as plain LIMIT (post-only dropped): a stale quote takes liquidity, uncapped",
        "20.post_only", ci_seeds=(0, 1, 2)),
    # -- market data --
    Mutation(
        "sequence_gap_accepted", "bot/market/book.py",
        "else diff.first_update_id != expected",
        "else diff.first_update_id > expected + 1",
        "the depth sequence check lets a gap of one update through (off by one) instead of resyncing",
        "7.no_crossing", ci_seeds=(2, 5, 6)),
    # -- connector --
    # -- the connector (BinanceConnector: the one venue policy, ADR 0014) --
    Mutation(
        "retry_after_read_as_ms", _LIMITER,
        "seconds = self.config.default_retry_after_s if retry_after_s is None else max(0.0, retry_after_s)",
        "seconds = self.config.default_retry_after_s if retry_after_s is None else max(0.0, retry_after_s) / 1000",
        "Retry-After (seconds) is honoured as milliseconds: the bot sends again long before it expires",
        "9.rate_and_taker", ci_seeds=(2, 7, 12)),
    Mutation(
        "retry_gate_last_second_open", _LIMITER,
        "        left = self._blocked_until_s - self._monotonic_s()\n        if left <= 0:",
        "        left = self._blocked_until_s - self._monotonic_s()\n        if left <= 1:",
        "the Retry-After gate opens a second early (compares with 1 s instead of 0)", "9.rate_and_taker",
        ci_seeds=(2, 12, 13)),
    Mutation(
        "maker_fill_side_flipped", _WIRE,
        'side=Side.BUY if field(trade, "isBuyer") else Side.SELL,',
        'side=Side.BUY if field(trade, "isBuyer") != field(trade, "isMaker") else Side.SELL,',
        "a backfilled maker fill is booked on the taker's side (the wrong side of the trade)", "1.ledger",
        ci_seeds=(1, 3, 5)),
    Mutation(
        "signature_over_sorted_params", "bot/connectors/binance/signing.py",
        "    query = encode_params(params)\n    return f\"{query}&signature={sign(secret, query)}\"",
        "    query = encode_params(params)\n"
        "    return f\"{query}&signature={sign(secret, encode_params(sorted(params)))}\"",
        "the REST signature covers the parameters sorted by name (the WebSocket API's rule) while the query is sent "
        "in its own order", "10.liveness", ci_seeds=(0, 1, 2)),
    Mutation(
        "retry_after_ignored_on_order", "bot/connectors/binance/http.py",
        'seconds = self._limiter.block(_seconds(reply.headers.get("Retry-After")), banned=status == 418)',
        'seconds = self._limiter.block(_seconds(reply.headers.get("Retry-After")), banned=status == 418) '
        'if endpoint.path != "order" else 0.0',
        "a 429/418 answered to an order request (place, cancel, query) does not block: Retry-After is ignored on "
        "that endpoint", "9.rate_and_taker", ci_seeds=(2, 13, 20)),
    Mutation(
        "user_stream_reconnect_without_resync", _OM,
        "                if await self._reconcile_logged():\n                    break",
        "                break",
        "after the user stream drops, the bot subscribes again without reconciling the events it missed",
        "18.resync_after_gap", ci_seeds=(1, 4, 5)),
)

BY_NAME: dict[str, Mutation] = {m.name: m for m in MUTATIONS}


def select(names: str | None) -> tuple[Mutation, ...]:
    """``"a,b"`` -> those mutations in catalogue order (None or empty: all). ``KeyError`` names an unknown one."""
    if not names:
        return MUTATIONS
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in BY_NAME]
    if unknown:
        raise KeyError(f"unknown sabotage {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    return tuple(m for m in MUTATIONS if m.name in wanted)
