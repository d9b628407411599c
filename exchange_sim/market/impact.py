"""Transient price impact of marketable orders: how trades move the latent price F and how that move decays.

Two mechanisms, both decaying, so uninformed flow leaves no trend (see docs/market-model.md):

* **Noise takers (propagator).** Each background market order n, of sign eps_n and size v_n, moves F by a
  kernel that decays with the time since it traded (Bouchaud, Gefen, Potters & Wyart 2004, "Fluctuations and
  response in financial markets: the subtle nature of random price changes"):

      I_noise(t) = sum_n G(t - t_n) * eps_n * impact_ticks * sqrt(v_n / v_median)
      G(tau) = sum_k w_k * exp(-tau / T_k)        (sum_k w_k = 1, G(0) = 1)

  A few exponentials with time scales spread over decades (2 s, 20 s, 200 s by default) approximate the
  power-law kernel G(tau) ~ tau^-beta that offsets the long memory of trade signs, so prices stay diffusive.
  The state is one accumulator per exponential, S_k = sum_n eps_n f(v_n) exp(-(t - t_n)/T_k), updated lazily.

* **Every other account's taker trades (square-root law).** Each tracked account a (the bot, a test's maker)
  has a signed traded notional Q_a that decays exponentially, dQ_a/dt = -Q_a / T_meta, and jumps by the
  signed notional of each of its taker fills. Its impact is the square-root law of metaorders (Toth et al.
  2011, "Anomalous price impact and the critical nature of liquidity in financial markets"):

      I_a(t) = Y * sigma_day * sign(Q_a) * sqrt(|Q_a| / V_day)

  with sigma_day the daily volatility of F in ticks and V_day the expected daily traded notional of the
  regime. A metaorder of total size Q moves F by about Y sigma_day sqrt(Q/V_day) however it is sliced, and
  the move decays after the last child order (as sqrt(exp(-t/T_meta)), i.e. with time scale 2 T_meta).

F = V + I_noise + sum_a I_a, with V the fundamental value (latent.py). Informed traders know V, not I: they
trade against transient impact, which is one way it reverts in the book as well as in F.
"""

from __future__ import annotations

import math


class TransientImpact:
    """The decaying impact of all takers on one symbol's latent price, in ticks (see module docstring)."""

    __slots__ = ("_accounts", "_cache_t", "_cache_v", "_decays", "_kernel", "_last_t", "_meta_decay_s",
                 "_meta_scale", "_state")

    def __init__(self, kernel: tuple[tuple[float, float], ...], meta_decay_s: float, meta_scale: float) -> None:
        """``kernel``: (weight, time scale in seconds) pairs of G; ``meta_scale`` = Y * sigma_day / sqrt(V_day)."""
        self._kernel = kernel
        self._decays = tuple(1.0 / t for _, t in kernel)
        self._state = [0.0] * len(kernel)
        self._last_t = 0.0
        self._meta_decay_s = meta_decay_s
        self._meta_scale = meta_scale
        self._accounts: dict[str, tuple[float, float]] = {}  # account -> (Q at time t, t)
        self._cache_t = -1.0
        self._cache_v = 0.0

    def configure(self, kernel: tuple[tuple[float, float], ...], meta_decay_s: float, meta_scale: float,
                  now_s: float) -> None:
        """A regime switch: new kernel and scales from ``now_s``; the impact accumulated so far is kept."""
        noise = self._noise_at(now_s)
        self._kernel = kernel
        self._decays = tuple(1.0 / t for _, t in kernel)
        self._state = [noise] * len(kernel)  # sum_k w_k * noise = noise: no jump at the switch
        self._last_t = now_s
        self._meta_decay_s = meta_decay_s
        self._meta_scale = meta_scale
        self._cache_t = -1.0

    def _decay_to(self, now_s: float) -> None:
        dt = now_s - self._last_t
        if dt > 0:
            state = self._state
            for k, rate in enumerate(self._decays):
                state[k] *= math.exp(-dt * rate)
            self._last_t = now_s

    def _noise_at(self, now_s: float) -> float:
        """sum_k w_k S_k(now), read without writing the decayed state back (one exp per component)."""
        dt = now_s - self._last_t
        value = 0.0
        exp = math.exp
        for (w, _), rate, s in zip(self._kernel, self._decays, self._state, strict=True):
            if s:
                value += w * s * (exp(-dt * rate) if dt > 0 else 1.0)
        return value

    def add_noise(self, now_s: float, signed_ticks: float) -> None:
        """A noise market order: ``signed_ticks`` = eps * impact_ticks * sqrt(v / v_median) at G(0) = 1."""
        self._decay_to(now_s)
        state = self._state
        for k in range(len(state)):
            state[k] += signed_ticks
        self._cache_t = -1.0

    def add_taker(self, now_s: float, account: str, signed_notional: float) -> None:
        """A taker fill of a tracked account: its decaying traded notional Q_a grows by ``signed_notional``."""
        self._accounts[account] = (self._account_q(account, now_s) + signed_notional, now_s)
        self._cache_t = -1.0

    def _account_q(self, account: str, now_s: float) -> float:
        q, t = self._accounts.get(account, (0.0, now_s))
        return q * math.exp(-(now_s - t) / self._meta_decay_s)

    def account_ticks(self, account: str, now_s: float) -> float:
        """I_a(now): the square-root impact of one account's decaying traded notional."""
        q = self._account_q(account, now_s)
        return math.copysign(self._meta_scale * math.sqrt(abs(q)), q)

    def at(self, now_s: float) -> float:
        """I(now) = I_noise + sum_a I_a, in ticks (cached for repeated reads at the same instant)."""
        if now_s == self._cache_t:
            return self._cache_v
        value = self._noise_at(now_s)
        if self._accounts:
            for account in self._accounts:
                value += self.account_ticks(account, now_s)
        self._cache_t = now_s
        self._cache_v = value
        return value
