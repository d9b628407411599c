"""Background order flow of one venue: a simpy process per symbol that sends orders to the matching engine.

Per symbol, four kinds of agents act as one Markov jump process (Gillespie's algorithm with Ogata thinning
for the self-exciting part), so the whole flow costs one simpy event per action:

* liquidity providers place post-only limit orders around r = mid + anchor*(F - mid) at a power-law distance
  d (P(d >= x) = (1 + x/d0)^-mu) behind the first level, and each resting order is cancelled at rate
  1/lifetime (a uniformly drawn resting order, so the per-order rate is exact);
* noise takers send market orders at Hawkes intensity mu + E(t), where E jumps by alpha at each market order
  and decays at rate beta (bursts); their signs follow a Lillo-Mike-Farmer metaorder process (Pareto lengths
  with tail alpha and minimum x0, so the sign autocorrelation decays like lag^(1-alpha) beyond x0 orders and
  is about share^2 (1 - lag (alpha-1) / (alpha x0)) below); sizes are a log-normal body times
  a Pareto tail, v = v_median * exp(s Z) * (2U)^(-1/a) (P(v > x) ~ x^-a); each order moves F by a decaying
  propagator impact, eps * impact * sqrt(v / v_median) * G(t - t_n) (impact.py), so noise leaves no trend;
* liquidity providers also pull a quote that F has moved past (rate lambda_R, tolerance in ticks): quotes
  move without trades, as on a venue, and the book tracks F even when no informed trader is looking;
* informed traders look at rate lambda_I, estimate the fundamental value as V + N(0, noise^2) and take every
  level priced worse than their estimate by more than a threshold: the adverse selection every resting quote
  (the bot's included) faces, blurred by their error.

Every other account's taker fills (the bot's) move F by the square-root law of impact.py, fed by
``MarketFlow.on_trade``. During a flash crash of intensity k(t) (latent.py) noise signs get an extra sell
bias k * crash_sell_bias, LP arrivals are thinned by k * crash_liquidity_drop and their distances widened by
1 + k * crash_widen: selling pressure and liquidity withdrawal that revert as the crash recovers.

All randomness comes from named streams of the session seed (exchange_sim.rng). The process never reads the
wall clock. A regime switch changes parameters from the next action on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Mapping
from typing import Any

import simpy

from exchange_sim.engine.matching import MatchingEngine
from exchange_sim.engine.types import (
    ATOMS_PER_UNIT,
    AccountId,
    EngineError,
    OrderId,
    OrderType,
    Side,
    TimeInForce,
    Trade,
)
from exchange_sim.market.config import MarketConfig
from exchange_sim.market.latent import LatentPrice
from exchange_sim.market.orders import AgentRequest, FlowStats
from exchange_sim.market.regimes import RegimeParams
from exchange_sim.market.symbols import DEFAULT_SYMBOLS, SymbolMarket
from exchange_sim.rng import stream
from exchange_sim.ticker import Ticker

# Enum members read per request, as module globals: in CPython 3.11 ``Side.BUY`` goes through EnumType's
# ``__getattr__`` hook, about three times the cost of a global read.
_BUY = Side.BUY
_SELL = Side.SELL

LP_ACCOUNT = AccountId("mkt.lp")
NOISE_ACCOUNT = AccountId("mkt.noise")
INFORMED_ACCOUNT = AccountId("mkt.informed")
_BACKGROUND = frozenset((LP_ACCOUNT, NOISE_ACCOUNT, INFORMED_ACCOUNT))
_AGENT_FUNDS_UNITS = 10**12  # background agents never run out of money


class SymbolFlow:
    """The background flow of one symbol (see module docstring)."""

    def __init__(
        self,
        env: simpy.Environment,
        engine: MatchingEngine,
        market: SymbolMarket,
        *,
        params: RegimeParams,
        seed: int,
        grid_s: float,
        stats: FlowStats,
    ) -> None:
        self.env = env
        self.engine = engine
        self.market = market
        self.spec = market.spec
        self.symbol = market.spec.symbol
        self.params = params
        self.stats = stats
        self.latent = LatentPrice(market.initial_price_ticks, params, stream(seed, "latent", self.symbol), grid_s,
                                  volume_scale=market.size_scale)
        self._rng = stream(seed, "flow", self.symbol)
        self._book = engine.book(self.symbol)
        self._lp_request = AgentRequest(LP_ACCOUNT, self.symbol, OrderType.LIMIT_MAKER, TimeInForce.GTC)
        self._noise_request = AgentRequest(NOISE_ACCOUNT, self.symbol, OrderType.MARKET, TimeInForce.GTC)
        self._informed_request = AgentRequest(INFORMED_ACCOUNT, self.symbol, OrderType.LIMIT, TimeInForce.IOC)
        self._ticker = Ticker(env, self._act)
        self._bound = 0.0  # the thinning bound of the pending action's draw, and the cancel rate in it
        self._cancel_rate = 0.0
        self._resting: list[OrderId] = []
        self._excitation = 0.0
        self._excitation_t = 0.0
        self._meta_sign = 1
        self._meta_left = 0
        self._tick_quote = float(self.spec.quote_atoms_per_tick_lot) / ATOMS_PER_UNIT  # quote per tick-lot

    # -- regime --
    def set_regime(self, params: RegimeParams) -> None:
        self.params = params
        self.latent.set_regime(params, self.env.now)

    def fair_ticks(self) -> float:
        return self.latent.at(self.env.now)

    # -- the process --
    def warm_up(self) -> None:
        """Fill the book with the steady-state number of resting LP orders before time starts."""
        for _ in range(int(self.params.lp_rate_per_s * self.params.lp_lifetime_s)):
            self._limit_order()

    def start(self) -> None:
        """Start acting: what ``env.process`` of the loop below would do (see ``exchange_sim.ticker``).

        The loop: draw the time to the next action from the total intensity bound (LP arrivals, cancels,
        requotes, informed looks, market orders at their Hawkes intensity), wait, then pick the action in
        proportion to the rates, rejecting a market order with the share its excitation decayed meanwhile
        (thinning). One simpy event per action.
        """
        self._ticker.start(self._draw_next)

    def _draw_next(self, _event: object = None) -> None:
        """Schedule the next action; keep its bound and cancel rate for ``_act``."""
        p = self.params
        excitation = self._excitation * math.exp(-p.hawkes_beta_per_s * (self.env.now - self._excitation_t))
        cancel_rate = len(self._resting) / p.lp_lifetime_s
        bound = (
            p.lp_rate_per_s + cancel_rate + p.lp_requote_rate_per_s + p.informed_rate_per_s
            + p.market_rate_per_s + excitation
        )
        self._bound = bound
        self._cancel_rate = cancel_rate
        self._ticker.schedule(self._rng.expovariate(bound))

    def _act(self, _event: object) -> None:
        self._one_action()
        self._draw_next()

    def _one_action(self) -> None:
        """The action drawn under ``_bound`` (params may have changed since the draw: a regime switch)."""
        p = self.params
        u = self._rng.random() * self._bound
        if u < p.lp_rate_per_s:
            self._limit_order()
            return
        u -= p.lp_rate_per_s
        cancel_rate = self._cancel_rate
        if u < cancel_rate:
            self._cancel_one()
            return
        u -= cancel_rate
        if u < p.lp_requote_rate_per_s:
            self._requote()
            return
        u -= p.lp_requote_rate_per_s
        if u < p.informed_rate_per_s:
            self._informed()
            return
        u -= p.informed_rate_per_s
        now = self.env.now
        now_excitation = self._excitation * math.exp(-p.hawkes_beta_per_s * (now - self._excitation_t))
        if u < p.market_rate_per_s + now_excitation:
            self._excitation = now_excitation + p.hawkes_alpha_per_s
            self._excitation_t = now
            self._market_order()
        # else: thinning rejection (the excitation decayed since the bound was drawn)

    # -- agents --
    def _lots_for(self, notional_quote: float, price_ticks: int) -> int:
        lots = int(notional_quote / (price_ticks * self._tick_quote))
        spec = self.spec
        min_lots = -(-spec.min_notional_atoms // (price_ticks * spec.quote_atoms_per_tick_lot))
        return max(lots, min_lots, spec.min_qty_lots)

    def _limit_order(self) -> None:
        p = self.params
        rng = self._rng
        now = self.env.now
        scale = p.lp_distance_scale_ticks
        if p.crash_liquidity_drop or p.crash_widen:
            k = self.latent.crash_intensity(now)
            if k and rng.random() < k * p.crash_liquidity_drop:
                return  # an LP stays away during the crash
            scale *= 1.0 + k * p.crash_widen
        fair = self.latent.at(now)
        bid = self._book.best_bid()
        ask = self._book.best_ask()
        mid = (bid[0] + ask[0]) / 2.0 if bid is not None and ask is not None else fair
        ref = mid + p.lp_anchor * (fair - mid)
        d = int(scale * (rng.random() ** (-1.0 / p.lp_distance_exponent) - 1.0))
        d = min(d, p.lp_distance_max_ticks)
        if rng.random() < 0.5:
            side = _BUY
            price = math.ceil(ref - p.lp_half_spread_ticks) - 1 - d
            if ask is not None and price >= ask[0]:
                price = ask[0] - 1
        else:
            side = _SELL
            price = math.floor(ref + p.lp_half_spread_ticks) + 1 + d
            if bid is not None and price <= bid[0]:
                price = bid[0] + 1
        if price < self.spec.min_price_ticks:
            return
        notional = p.lp_size_median_quote * self.market.size_scale * math.exp(p.lp_size_sigma * rng.gauss(0.0, 1.0))
        request = self._lp_request
        request.side = side
        request.qty_lots = self._lots_for(notional, price)
        request.price_ticks = price
        try:
            order_id = self.engine.submit(request)
        except EngineError:
            self.stats.rejected += 1
            return
        self.stats.limit_orders += 1
        self._resting.append(order_id)

    def _cancel_one(self) -> None:
        resting = self._resting
        i = self._rng.randrange(len(resting))
        order_id = resting[i]
        resting[i] = resting[-1]
        resting.pop()
        try:
            self.engine.cancel(LP_ACCOUNT, self.symbol, order_id=order_id)
        except EngineError:
            return  # already filled: no event
        self.stats.cancels += 1

    def _requote(self) -> None:
        """An LP pulls its quote at the touch if F has moved past it (the race informed traders run too)."""
        p = self.params
        fair = self.latent.at(self.env.now)
        book = self._book
        bid = book.best_bid()
        ask = book.best_ask()
        if bid is not None and bid[0] > fair + p.lp_requote_tolerance_ticks:
            side, price = _BUY, bid[0]
        elif ask is not None and ask[0] < fair - p.lp_requote_tolerance_ticks:
            side, price = _SELL, ask[0]
        else:
            return
        for order in book.orders_at(side, price):
            if order.account == LP_ACCOUNT:
                self.engine.cancel(LP_ACCOUNT, self.symbol, order_id=order.order_id)
                self.stats.cancels += 1
                return

    def _next_sign(self) -> int:
        p = self.params
        rng = self._rng
        bias = p.market_sign_bias
        if p.crash_sell_bias:
            bias = max(-1.0, bias + p.crash_sell_bias * self.latent.crash_intensity(self.env.now))
        if self._meta_left <= 0:
            self._meta_sign = 1 if rng.random() < (1.0 + bias) / 2.0 else -1
            self._meta_left = int(p.sign_memory_min_length * rng.paretovariate(p.sign_memory_alpha))
        self._meta_left -= 1
        if rng.random() < p.sign_memory_share:
            return self._meta_sign
        return 1 if rng.random() < (1.0 + bias) / 2.0 else -1

    def _size_ratio(self) -> float:
        """v / v_median = exp(s Z) * (2U)^(-1/a), at most ``market_size_max_ratio`` (module docstring)."""
        p = self.params
        rng = self._rng
        tail = math.pow(2.0 * (1.0 - rng.random()), -1.0 / p.market_size_tail)
        return min(p.market_size_max_ratio, math.exp(p.market_size_sigma * rng.gauss(0.0, 1.0)) * tail)

    def _market_order(self) -> None:
        p = self.params
        sign = self._next_sign()
        touch = self._book.best_ask() if sign > 0 else self._book.best_bid()
        if touch is None:
            return
        size_draw = self._size_ratio()
        notional = p.market_size_median_quote * self.market.size_scale * size_draw
        request = self._noise_request
        request.side = _BUY if sign > 0 else _SELL
        request.qty_lots = self._lots_for(notional, touch[0])
        try:
            self.engine.submit(request)
        except EngineError:
            self.stats.rejected += 1
            return
        self.stats.market_orders += 1
        self.latent.impact.add_noise(self.env.now, sign * p.impact_ticks * math.sqrt(size_draw))

    def on_taker_fill(self, trade: Trade) -> None:
        """A tracked account's taker fill: its square-root impact on F (impact.py)."""
        notional = trade.quote_atoms / ATOMS_PER_UNIT
        signed = notional if trade.taker_side is _BUY else -notional
        self.latent.impact.add_taker(self.env.now, trade.taker_account, signed)

    def _informed(self) -> None:
        p = self.params
        fair = self.latent.value(self.env.now)
        if p.informed_noise_ticks:
            fair += p.informed_noise_ticks * self._rng.gauss(0.0, 1.0)
        ask = self._book.best_ask()
        bid = self._book.best_bid()
        if ask is not None and ask[0] < fair - p.informed_threshold_ticks:
            side, limit = _BUY, math.floor(fair - p.informed_threshold_ticks)
        elif bid is not None and bid[0] > fair + p.informed_threshold_ticks:
            side, limit = _SELL, math.ceil(fair + p.informed_threshold_ticks)
        else:
            return
        notional = p.informed_size_median_quote * self.market.size_scale * math.exp(0.5 * self._rng.gauss(0.0, 1.0))
        request = self._informed_request
        request.side = side
        request.qty_lots = self._lots_for(notional, limit)
        request.price_ticks = limit
        try:
            self.engine.submit(request)
        except EngineError:
            self.stats.rejected += 1
            return
        self.stats.informed_orders += 1


class MarketFlow:
    """The background market of a venue: one ``SymbolFlow`` per symbol plus the regime timeline."""

    def __init__(
        self,
        env: simpy.Environment,
        engine: MatchingEngine,
        config: MarketConfig,
        seed: int,
        *,
        duration_s: float,
        symbols: Mapping[str, SymbolMarket] | None = None,
        on_regime: Callable[[float, str], None] | None = None,
    ) -> None:
        catalogue = symbols if symbols is not None else DEFAULT_SYMBOLS
        self.env = env
        self.config = config
        self.stats = FlowStats()
        self._on_regime = on_regime
        self.timeline = config.timeline(seed, duration_s)
        first = config.params(self.timeline[0][1])
        self.flows: dict[str, SymbolFlow] = {}
        assets: set[str] = set()
        for name in config.symbols:
            market = catalogue[name]
            assets.update((market.spec.base_asset, market.spec.quote_asset))
            self.flows[name] = SymbolFlow(
                env, engine, market, params=first, seed=seed, grid_s=config.grid_s, stats=self.stats
            )
        funds = {asset: _AGENT_FUNDS_UNITS * ATOMS_PER_UNIT for asset in sorted(assets)}
        for account in (LP_ACCOUNT, NOISE_ACCOUNT, INFORMED_ACCOUNT):
            engine.open_account(account, funds, tracked=False)
        self.regime = first.name

    def start(self) -> None:
        """Warm up every book and start the simpy processes (call once, at simulated time 0)."""
        if self._on_regime is not None:
            self._on_regime(self.env.now, self.regime)
        for name in sorted(self.flows):
            self.flows[name].warm_up()
        for name in sorted(self.flows):
            self.flows[name].start()
        if len(self.timeline) > 1:
            self.env.process(self._switch_regimes())

    def _switch_regimes(self) -> Generator[simpy.Event, Any, None]:
        for start_s, regime in self.timeline[1:]:
            yield self.env.timeout(start_s - self.env.now)
            params = self.config.params(regime)
            self.regime = params.name
            for name in sorted(self.flows):
                self.flows[name].set_regime(params)
            if self._on_regime is not None:
                self._on_regime(self.env.now, params.name)

    def fair_ticks(self, symbol: str) -> float:
        """The latent fair price of ``symbol`` now, in ticks (a model quantity: for tests and reports)."""
        return self.flows[symbol].fair_ticks()

    def value_ticks(self, symbol: str) -> float:
        """The fundamental value V of ``symbol`` now, in ticks: F without the takers' transient impact."""
        return self.flows[symbol].latent.value(self.env.now)

    def on_trade(self, trade: Trade) -> None:
        """Every public trade of the venue (wired by the venue's owner): a taker fill of an account other than
        the background agents moves that symbol's F by the square-root law."""
        if trade.taker_account in _BACKGROUND:
            return
        flow = self.flows.get(trade.symbol)
        if flow is not None:
            flow.on_taker_fill(trade)


