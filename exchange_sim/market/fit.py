"""``mmbot market fit``: estimate the synthetic market's parameters from a recording and write a profile.

Two steps.

1. **Estimate** (``observe``) the recording's statistics with the realism checklist's own code
   (``realism.tape`` turns the recording into a ``Recording``, ``realism.measure`` measures it), plus what only
   a recording shows: the flow of the depth diffs within ``NEAR_TICKS_FIT`` ticks of the touch, split into
   added lots (arrivals) and removed lots not explained by trades (cancels), and the distance from the
   same-side touch at which lots are added (placement). Taker orders are the recording's trades grouped by
   trade time and side (tape.py).
2. **Map** (``initial_params``) the estimates to ``RegimeParams`` by the model's own formulas:
   * Hawkes: mu = (taker orders/s) (1 - n), with the branching ratio n = alpha/beta = 1 - 1/CV^2 of the
     inter-arrival times (clamped to 0-0.8; CV = 1 for a Poisson flow);
   * order size v = v_med exp(s Z) (2U)^(-1/a): v_med the median taker notional, a the Hill exponent
     (clamped 1.2-3), s solved from mean/median = exp(s^2/2) a/(a-1) 2^(-1/a), capped at the largest
     recorded order (a tail this heavy puts much of the mean in the largest orders);
   * sign memory (Lillo-Mike-Farmer): gamma = ln(rho_10/rho_50)/ln 5 of the order-sign ACF, alpha = 1 + gamma,
     share^2 = rho_1, x0 from rho_10 = share^2 (x0/10)^gamma / alpha;
   * placement: P(d >= x) = (1 + x/d0)^-mu through the median and 90th percentile of the added lots' distance;
   * LP lifetime = resting lots near the touch / cancelled lots per s; LP rate = added lots per s / LP order
     size, the LP order median notional being the median trade notional times 2 (a trade fills part of one);
   * sigma = the 1-s volatility of the mid in ticks; informed traders look once a second with an error of
     one second's volatility.
   Then ``calibration_step`` corrects the rates, sizes, volatility and sign memory by simulated moments: it
   runs the profile for a few minutes on each of ``CALIBRATION_SEEDS`` and scales each parameter by the ratio
   of the recording's figure to the simulated one, averaged over those seeds (a damped multiplicative
   fixed-point step, ``rounds`` times): taker-order rate -> Hawkes mu;
   mean notional per taker order -> market and informed order sizes; mean trade notional -> LP order size
   (fills per taker order); 1 - P(spread = 1 tick) -> placement scale d0, the LPs' anchor (a book
   quoted around the mid refills both sides of a gap) and the LPs' requote rate (each pull of a quote at the
   touch that F left behind can open a gap); 1-s volatility -> sigma;
   trade-sign ACF at lag 1 -> share; at lag 50 -> x0 (ACF ~ x0^gamma beyond x0). The simulated figures are the
   mean over several seeds because one short run's 1-s volatility is one draw of the stochastic volatility
   (a 15-minute run varies by about 2x between seeds): a fit to one seed fits that draw. Everything is seeded:
   the same recording gives the same profile.

Errors: ``ValueError`` for a file that is not a recording (``RecordingError`` names ``path:line``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from exchange_sim.market.config import MarketConfig
from exchange_sim.market.profile import MarketProfile
from exchange_sim.market.realism import stats
from exchange_sim.market.realism.measure import measure
from exchange_sim.market.realism.record import Recording, record
from exchange_sim.market.realism.tape import load_tape, tape_recording
from exchange_sim.market.symbols import SymbolConfig
from exchange_sim.replay.source import TRADE, ReplaySource

NEAR_TICKS_FIT = 20
CALIBRATION_SEEDS = (1, 2, 3)
DAMPING = 0.7
GAP_FLOOR = 0.005  # a recording whose spread is always one tick: aim at 99.5 %
COMPARED = ("trades_per_s", "mean_trade_quote", "p_spread_1", "trade_sign_acf_lag1", "trade_sign_acf_lag10",
            "trade_sign_acf_lag50", "vol_1s_ticks")
CALIBRATED = (*COMPARED, "taker_orders_per_s", "mean_order_quote")
REQUOTE_FLOOR_PER_S = 0.5


def _quantile(xs: list[float], q: float) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def book_flow(source: ReplaySource, symbol: str) -> dict[str, float]:
    """Added and cancelled lots per second within NEAR_TICKS_FIT of the touch, resting lots there, and the
    median and 90th percentile of the distance (ticks) from the same-side touch at which lots are added."""
    bids, asks = (dict(side) for side in source.initial[symbol])
    added = removed = traded = resting = 0.0
    samples = 0
    distances: list[float] = []
    for event in source.events:
        if event.symbol != symbol:
            continue
        if event.kind == TRADE:
            traded += event.qty_lots
            continue
        best_bid, best_ask = (max(bids), min(asks)) if bids and asks else (0, 0)
        for is_bid, price, qty in event.changes:
            side = bids if is_bid else asks
            d = best_bid - price if is_bid else price - best_ask
            delta = qty - side.get(price, 0)
            if 0 <= d < NEAR_TICKS_FIT:
                if delta > 0:
                    added += delta
                    distances.append(float(d))
                else:
                    removed -= delta
            if qty:
                side[price] = qty
            else:
                side.pop(price, None)
        if bids and asks:
            b, a = max(bids), min(asks)
            resting += sum(bids.get(b - d, 0) + asks.get(a + d, 0) for d in range(NEAR_TICKS_FIT))
            samples += 1
    duration = max(source.duration_s, 1e-9)
    return {
        "added_lots_per_s": added / duration,
        "cancelled_lots_per_s": max(0.0, removed - traded) / duration,
        "resting_lots_near": resting / max(1, samples),
        "placement_median_ticks": _quantile(distances, 0.5),
        "placement_q90_ticks": _quantile(distances, 0.9),
        "placement_beyond_touch": sum(1 for d in distances if d >= 1) / len(distances) if distances else 0.0,
    }


def observe(rec: Recording, source: ReplaySource, symbol: str) -> dict[str, float]:
    """The recording's statistics the fit uses (module docstring, step 1)."""
    m = measure(rec)
    orders: list[float] = []
    for f in rec.fills:
        if f.first or not orders:
            orders.append(0.0)
        orders[-1] += f.price_ticks * f.lots * rec.tick_lot_quote
    fills = [f.price_ticks * f.lots * rec.tick_lot_quote for f in rec.fills]
    out = {k: float(v) for k, v in m.items() if isinstance(v, (int, float)) and k != "seed"}
    out.update(book_flow(source, symbol))
    out.update({
        "order_median_quote": _quantile(orders, 0.5),
        "order_max_quote": max(orders, default=0.0),
        "trade_median_quote": _quantile(fills, 0.5),
        "order_tail_exponent": stats.hill_tail(orders, max(10, len(orders) // 50)),
        "lot_quote_at_mid": rec.mids[0] * rec.tick_lot_quote if rec.mids else 0.0,
    })
    return out


def _size_sigma(ratio: float, a: float) -> float:
    """s with exp(s^2/2) a/(a-1) 2^(-1/a) = ratio (0 when the tail alone gives more than the ratio)."""
    rest = ratio / (a / (a - 1.0) * math.pow(2.0, -1.0 / a))
    return math.sqrt(2.0 * math.log(rest)) if rest > 1.0 else 0.0


def _placement(x1: float, p1: float, q90: float) -> tuple[float, float]:
    """(d0, mu) of P(d >= x) = (1 + x/d0)^-mu through P(d >= x1) = p1 and P(d >= q90) = 0.1 (grid over d0)."""
    if x1 <= 0 or q90 <= x1 or not 0.1 < p1 < 1.0:
        return 1.0, 1.2
    best = (1.0, 1.2, math.inf)
    for i in range(1, 400):
        d0 = i * 0.05
        mu = -math.log(p1) / math.log(1.0 + x1 / d0)
        err = abs(math.log(1.0 + q90 / d0) * mu - math.log(10.0))
        if err < best[2]:
            best = (d0, mu, err)
    return best[0], min(3.0, max(0.5, best[1]))


def _sign_memory(rho1: float, rho10: float, rho50: float) -> dict[str, float]:
    gamma = math.log(rho10 / rho50) / math.log(5.0) if rho10 > 0 and rho50 > 0 else 0.5
    gamma = min(0.9, max(0.2, gamma))
    alpha = 1.0 + gamma
    share = min(0.98, math.sqrt(max(0.05, rho1)))
    x0 = 10.0 * math.pow(max(1e-3, rho10) * alpha / (share * share), 1.0 / gamma)
    return {"sign_memory_alpha": round(alpha, 3), "sign_memory_share": round(share, 3),
            "sign_memory_min_length": round(min(200.0, max(1.0, x0)), 2)}


def initial_params(obs: dict[str, float]) -> dict[str, Any]:
    """Step 2 of the module docstring: ``RegimeParams`` fields from the recording's statistics."""
    cv = obs["interarrival_cv"]
    branching = min(0.8, max(0.0, 1.0 - 1.0 / (cv * cv))) if cv > 0 else 0.0
    tail = min(3.0, max(1.2, obs["order_tail_exponent"]))
    ratio = obs["mean_order_quote"] / obs["order_median_quote"] if obs["order_median_quote"] else 1.0
    if obs["placement_median_ticks"] > 0:
        d0, mu = _placement(obs["placement_median_ticks"], 0.5, obs["placement_q90_ticks"])
    else:  # most lots are added at the touch: fit through the share added beyond it
        d0, mu = _placement(1.0, obs["placement_beyond_touch"], obs["placement_q90_ticks"])
    lp_median = 2.0 * obs["trade_median_quote"]
    lp_lots = max(1.0, lp_median / obs["lot_quote_at_mid"]) if obs["lot_quote_at_mid"] else 1.0
    lifetime = obs["resting_lots_near"] / obs["cancelled_lots_per_s"] if obs["cancelled_lots_per_s"] else 60.0
    vol = obs["vol_1s_ticks"]
    beta = 2.0
    params: dict[str, Any] = {
        "sigma_ticks_per_sqrt_s": round(vol, 3),
        "market_rate_per_s": round(obs["taker_orders_per_s"] * (1.0 - branching), 3),
        "hawkes_beta_per_s": beta,
        "hawkes_alpha_per_s": round(branching * beta, 3),
        "market_size_median_quote": round(obs["order_median_quote"], 2),
        "market_size_tail": round(tail, 3),
        "market_size_sigma": round(_size_sigma(ratio, tail), 3),
        "market_size_max_ratio": round(max(50.0, obs["order_max_quote"] / obs["order_median_quote"]), 1)
        if obs["order_median_quote"] else 50.0,
        "lp_size_median_quote": round(lp_median, 2),
        "lp_distance_scale_ticks": round(d0, 3),
        "lp_distance_exponent": round(mu, 3),
        "lp_distance_max_ticks": 1000,
        "lp_lifetime_s": round(min(600.0, max(1.0, lifetime)), 2),
        "lp_rate_per_s": round(min(400.0, max(1.0, obs["added_lots_per_s"] / lp_lots)), 2),
        "lp_requote_rate_per_s": 20.0,
        "lp_requote_tolerance_ticks": round(max(0.5, 0.05 * vol), 2),
        "impact_ticks": round(0.05 * vol, 3),
        "informed_rate_per_s": 1.0,
        "informed_noise_ticks": round(vol, 3),
        "informed_threshold_ticks": round(max(0.6, 0.2 * vol), 3),
        "informed_size_median_quote": round(obs["order_median_quote"], 2),
        "vol_of_vol": 0.5,
    }
    params.update(_sign_memory(obs["sign_acf_lag1"], obs["sign_acf_lag10"], obs["sign_acf_lag50"]))
    return params


def simulate(profile: MarketProfile, *, minutes: float, seed: int = CALIBRATION_SEEDS[0]) -> dict[str, Any]:
    """measure.py's figures of ``minutes`` of the profile's synthetic market on ``seed``."""
    market = MarketConfig(symbols=(profile.symbol,), regime="calm", regime_overrides={"calm": profile.params})
    return measure(record(profile.name, seed=seed, minutes=minutes, symbol=profile.symbol, market=market,
                          depth_every_s=5.0, catalogue={profile.symbol: profile.market()}))


def simulate_mean(profile: MarketProfile, *, minutes: float,
                  seeds: tuple[int, ...] = CALIBRATION_SEEDS) -> dict[str, float]:
    """The mean over ``seeds`` of ``simulate``'s figures that the calibration reads (``CALIBRATED``)."""
    runs = [simulate(profile, minutes=minutes, seed=seed) for seed in seeds]
    return {key: sum(float(run[key]) for run in runs) / len(runs) for key in CALIBRATED}


def _ratio(target: float, got: float, power: float = 1.0) -> float:
    """(target/got)^(DAMPING power), kept within 1/4-4 per round (a damped fixed-point step: the simulated
    figures are noisy, a full step overshoots)."""
    if got <= 0 or target <= 0:
        return 1.0
    return min(4.0, max(0.25, math.pow(target / got, DAMPING * power)))


def calibration_step(params: dict[str, Any], obs: dict[str, float], sim: dict[str, Any]) -> dict[str, Any]:
    """One multiplicative correction of the parameters by the simulated figures (module docstring)."""
    out = dict(params)
    out["market_rate_per_s"] = round(params["market_rate_per_s"] * _ratio(obs["taker_orders_per_s"],
                                                                          sim["taker_orders_per_s"]), 3)
    order = _ratio(obs["mean_order_quote"], sim["mean_order_quote"])  # notional per taker order
    out["market_size_median_quote"] = round(params["market_size_median_quote"] * order, 2)
    out["informed_size_median_quote"] = round(params["informed_size_median_quote"] * order, 2)
    size = _ratio(obs["mean_trade_quote"], sim["mean_trade_quote"])  # fills per taker order: LP order size
    out["lp_size_median_quote"] = round(params["lp_size_median_quote"] * size, 2)
    gaps = _ratio(max(GAP_FLOOR, 1.0 - obs["p_spread_1"]), max(GAP_FLOOR, 1.0 - sim["p_spread_1"]), 0.5)
    out["lp_distance_scale_ticks"] = round(max(0.05, params["lp_distance_scale_ticks"] * gaps), 3)
    out["lp_anchor"] = round(min(1.0, max(0.2, params.get("lp_anchor", 0.8) * gaps)), 3)  # quote around the mid
    requote = params.get("lp_requote_rate_per_s", 4.0) * gaps  # fewer pulls of the touch: fewer gaps
    out["lp_requote_rate_per_s"] = round(min(50.0, max(REQUOTE_FLOOR_PER_S, requote)), 3)
    out["sigma_ticks_per_sqrt_s"] = round(params["sigma_ticks_per_sqrt_s"] * _ratio(obs["vol_1s_ticks"],
                                                                                    sim["vol_1s_ticks"]), 3)
    share = params["sign_memory_share"] * _ratio(obs["trade_sign_acf_lag1"], sim["trade_sign_acf_lag1"], 0.5)
    out["sign_memory_share"] = round(min(0.99, share), 3)
    gamma = params["sign_memory_alpha"] - 1.0
    x0 = params["sign_memory_min_length"] * _ratio(obs["trade_sign_acf_lag50"], sim["trade_sign_acf_lag50"],
                                                    1.0 / gamma)
    out["sign_memory_min_length"] = round(min(500.0, max(1.0, x0)), 2)
    return out


def fit(path: Path | str, *, name: str | None = None, symbol: str | None = None, rounds: int = 3,
        minutes: float = 10.0, seeds: tuple[int, ...] = CALIBRATION_SEEDS,
        progress: Callable[[int, dict[str, Any]], None] | None = None) -> MarketProfile:
    """The profile of ``symbol`` (the recording's only one by default) in the recording at ``path``, calibrated
    on the mean of ``minutes`` simulated minutes on each of ``seeds``."""
    source = load_tape(path)
    sym = symbol or source.symbols[0]
    rec = tape_recording(source, sym)
    obs = observe(rec, source, sym)
    spec = source.spec(sym)
    start = spec.ticks_to_price(round(rec.mids[0])) if rec.mids else spec.ticks_to_price(1)
    symbol_config = SymbolConfig(base_asset=spec.base_asset, quote_asset=spec.quote_asset, tick_size=spec.tick_size,
                                 step_size=spec.step_size, min_notional=spec.min_notional, initial_price=start)
    profile_name = name or f"fit-{sym.lower()}"
    params = initial_params(obs)
    profile = MarketProfile(name=profile_name, symbol=sym, source=Path(path).name, symbol_config=symbol_config,
                            params=params, observed={k: round(v, 6) for k, v in obs.items()})
    for i in range(rounds):
        sim = simulate_mean(profile, minutes=minutes, seeds=seeds)
        if progress is not None:
            progress(i, sim)
        profile = profile.model_copy(update={"params": calibration_step(profile.params, obs, sim)})
    return profile

