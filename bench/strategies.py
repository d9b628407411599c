"""Strategy table: the reference bot against the fixed-spread and Avellaneda-Stoikov baselines, same seeds.

For each regime and strategy, ``seeds`` sessions of ``hours`` simulated hours on one symbol (seeds 200, 201, ...:
disjoint from seeds 100-102 on which the reference defaults were chosen); every strategy sees
the same market path for a given seed (the latent price has its own random stream; ADR 0002). Reported per cell:
mean and standard deviation of net_bps and of net PnL, mean max drawdown, worst max |inventory| as a fraction
of the hard limit, and the risk-adjusted PnL ``mean(PnL) / std(PnL)`` over seeds (a Sharpe ratio across
sessions; a cell with no dispersion reports its mean sign times infinity as 0-safe ``mean / 1e-9``).
"""

from __future__ import annotations

import statistics
from typing import Any

from bot.config import BotConfig
from bot.strategy.config import StrategyConfig
from harness.lab import run_point
from harness.tools.matrix import Point, run_matrix

REGIMES = ("calm", "trending", "volatile", "illiquid", "flash_crash")
KINDS = ("reference", "fixed_spread", "avellaneda_stoikov")


def row(point: Point, summary: dict[str, Any]) -> dict[str, Any]:
    """One table row from a session summary (``SessionSummary.as_dict()``)."""
    (s,) = summary["symbols"]
    return {
        "regime": point.regime, "kind": point.config, "seed": point.seed, "net_bps": summary["net_bps"],
        "pnl": summary["net_pnl_quote"], "drawdown": s["drawdown_quote"],
        "inventory_fraction": s["max_abs_inventory_lots"] / s["hard_limit_lots"],
        "fills": summary["maker_fills"] + summary["taker_fills"], "notional": summary["traded_notional_quote"],
        "wall_s": summary["wall_s"],
    }


def cells(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, float]]:
    out: dict[tuple[str, str], dict[str, float]] = {}
    for regime in REGIMES:
        for kind in KINDS:
            group = [r for r in rows if r["regime"] == regime and r["kind"] == kind]
            if not group:
                continue
            pnl = [r["pnl"] for r in group]
            bps = [r["net_bps"] for r in group]
            std_pnl = statistics.pstdev(pnl)
            out[(regime, kind)] = {
                "n": len(group), "net_bps_mean": statistics.fmean(bps), "net_bps_std": statistics.pstdev(bps),
                "pnl_mean": statistics.fmean(pnl), "pnl_std": std_pnl,
                "drawdown_mean": statistics.fmean(r["drawdown"] for r in group),
                "inventory_fraction_max": max(r["inventory_fraction"] for r in group),
                "risk_adjusted": statistics.fmean(pnl) / max(std_pnl, 1e-9),
                "fills_mean": statistics.fmean(r["fills"] for r in group),
            }
    return out


def table(summary: dict[tuple[str, str], dict[str, float]]) -> str:
    lines = [
        "| regime | strategy | net_bps mean ± sd | PnL (USDT) mean ± sd | risk-adj. PnL | mean max drawdown | "
        "max \\|inv\\| / hard limit | fills/session |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (regime, kind), c in summary.items():
        lines.append(
            f"| {regime} | {kind} | {c['net_bps_mean']:.2f} ± {c['net_bps_std']:.2f} | "
            f"{c['pnl_mean']:.2f} ± {c['pnl_std']:.2f} | {c['risk_adjusted']:.2f} | {c['drawdown_mean']:.2f} | "
            f"{c['inventory_fraction_max']:.2f} | {c['fills_mean']:.0f} |"
        )
    return "\n".join(lines)


def verdict(summary: dict[tuple[str, str], dict[str, float]]) -> dict[str, Any]:
    """The issue's acceptance facts, computed from the table."""
    wins = [
        regime for regime in REGIMES
        if (regime, "reference") in summary and all(
            summary[(regime, "reference")]["risk_adjusted"] > summary[(regime, k)]["risk_adjusted"]
            for k in KINDS[1:] if (regime, k) in summary)
    ]
    crash = [summary.get(("flash_crash", k), {}).get("pnl_mean") for k in KINDS]
    return {
        "calm_net_bps_mean": summary.get(("calm", "reference"), {}).get("net_bps_mean"),
        "regimes_won_risk_adjusted": wins,
        "flash_crash_pnl_reference_vs_baselines": crash,
        "max_inventory_fraction": max(c["inventory_fraction_max"] for c in summary.values()),
    }


def bench_strategies(seeds: int = 10, hours: float = 1.0, jobs: int = 2, symbol: str = "BTCUSDT",
                     first_seed: int = 200) -> dict[str, Any]:
    configs = {kind: BotConfig(symbols=(symbol,), strategy=StrategyConfig(kind=kind)).model_dump(mode="json")
               for kind in KINDS}
    points = [Point(kind, first_seed + i, regime, hours) for regime in REGIMES for kind in KINDS for i in range(seeds)]
    rows = [row(point, summary) for point, summary in run_matrix(run_point, configs, points, workers=jobs).items()]
    summary = cells(rows)
    return {"rows": rows, "cells": {f"{r}/{k}": v for (r, k), v in summary.items()}, "table": table(summary),
            "verdict": verdict(summary), "seeds": seeds, "hours": hours, "symbol": symbol}
