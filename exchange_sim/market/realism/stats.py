"""Pure statistics of price, trade and book series for the realism checklist (no simulation here).

Definitions (r_t: log-free tick returns of a mid series sampled every step; all in ticks):
* autocorrelation at lag L: rho(L) = sum_t (x_t - m)(x_{t+L} - m) / sum_t (x_t - m)^2;
* variance ratio of horizon n against horizon 1: VR(n) = Var(r^(n)) / (n Var(r^(1))) over overlapping
  returns (Lo & MacKinlay 1988): 1 for a random walk, above 1 for a trend, below 1 for mean reversion;
* excess-free kurtosis: E[(x - m)^4] / Var(x)^2 (3 for a normal);
* Hill estimator of a tail exponent from the k largest values x_(1) >= ... >= x_(k+1):
  a = k / sum_{i<=k} ln(x_(i) / x_(k+1));
* power-law exponent of a positive decaying series y(L): minus the least-squares slope of ln y on ln L.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def returns(series: Sequence[float], every: int = 1) -> list[float]:
    """Non-overlapping differences x[i + every] - x[i] for i = 0, every, 2 every, ..."""
    return [series[i + every] - series[i] for i in range(0, len(series) - every, every)]


def mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def variance(xs: Sequence[float]) -> float:
    if len(xs) < 2:
        return 0.0
    m = mean(xs)
    return sum((x - m) ** 2 for x in xs) / (len(xs) - 1)


def autocorrelation(xs: Sequence[float], lag: int) -> float:
    """rho(lag); 0 when undefined (too short or constant)."""
    n = len(xs)
    if n <= lag + 1:
        return 0.0
    m = mean(xs)
    den = sum((x - m) ** 2 for x in xs)
    if den == 0:
        return 0.0
    return sum((xs[i] - m) * (xs[i + lag] - m) for i in range(n - lag)) / den


def variance_ratio(series: Sequence[float], short: int, long: int) -> float:
    """VR = Var(long-step returns) / ((long/short) Var(short-step returns)), overlapping returns at both
    horizons (Lo & MacKinlay 1988), so a few hours give a usable estimate of a 10-minute variance."""
    v_short = variance([series[i + short] - series[i] for i in range(len(series) - short)])
    v_long = variance([series[i + long] - series[i] for i in range(len(series) - long)])
    return v_long / (v_short * long / short) if v_short else 0.0


def kurtosis(xs: Sequence[float]) -> float:
    if len(xs) < 4:
        return 0.0
    m = mean(xs)
    v = sum((x - m) ** 2 for x in xs) / len(xs)
    return sum((x - m) ** 4 for x in xs) / len(xs) / (v * v) if v else 0.0


def hill_tail(values: Sequence[float], k: int) -> float:
    """Hill estimate of the tail exponent from the ``k`` largest positive values."""
    xs = sorted((v for v in values if v > 0), reverse=True)
    if len(xs) <= k or k < 2:
        return 0.0
    ref = xs[k]
    return k / sum(math.log(x / ref) for x in xs[:k])


def power_law_exponent(lags: Sequence[int], ys: Sequence[float]) -> float:
    """Minus the slope of ln y on ln lag over the positive ys (0 when fewer than 3 are positive)."""
    pts = [(math.log(lag), math.log(y)) for lag, y in zip(lags, ys, strict=True) if y > 0]
    if len(pts) < 3:
        return 0.0
    mx = mean([p[0] for p in pts])
    my = mean([p[1] for p in pts])
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return -sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else 0.0


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float:
    if len(xs) < 3:
        return 0.0
    mx, my = mean(xs), mean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else 0.0


def coefficient_of_variation(xs: Sequence[float]) -> float:
    m = mean(xs)
    return math.sqrt(variance(xs)) / m if m else 0.0


def exp_fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """(A, k) of y = A exp(-k x) by least squares on ln y over the positive ys; (0, 0) if under 2 points."""
    pts = [(x, math.log(y)) for x, y in zip(xs, ys, strict=True) if y > 0]
    if len(pts) < 2:
        return 0.0, 0.0
    mx = mean([p[0] for p in pts])
    my = mean([p[1] for p in pts])
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    slope = sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else 0.0
    return math.exp(my - slope * mx), -slope
