"""Power before running: the smallest effect each measure of a study can detect, from its items, pairs and seeds.

Exact for the tests valind runs on binary outcomes (no simulation, no normal approximation):
- a held-out implicit-reward accuracy against chance: one-sided exact binomial (sign) test over pairs;
- a paired difference of rates (own-value expression against the control, refusal against the base model):
  exact McNemar over items, assuming the two models' outcomes on an item are independent given their rates
  (a positive correlation, usual in practice, makes the real test more powerful: these figures are conservative).

"Detectable" = 80% power at the family's threshold. For the confirmatory family (Holm) the threshold used is
alpha / m, Holm's first step, which every effect of the family clears when all are real (conservative); for an
exploratory family corrected by Benjamini-Hochberg, alpha / m is the threshold of a lone real effect among m.
Seeds do not add units here: the manipulation check averages a unit's outcome over seeds.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import stats as _sps

POWER = 0.80


@lru_cache(maxsize=4096)
def _critical_wins(n: int, alpha: float) -> int:
    """Smallest k with P(Bin(n, 1/2) >= k) <= alpha (n + 1 when no k is small enough)."""
    k = np.arange(n + 2)
    tail = _sps.binom.sf(k - 1, n, 0.5)
    ok = np.flatnonzero(tail <= alpha)
    return int(ok[0]) if len(ok) else n + 1


def power_vs_chance(n: int, accuracy: float, alpha: float) -> float:
    """Power of the one-sided exact binomial test of accuracy > 0.5 on n pairs."""
    if n <= 0:
        return 0.0
    return float(_sps.binom.sf(_critical_wins(n, alpha) - 1, n, accuracy))


def power_paired_rates(n: int, p_ref: float, p_new: float, alpha: float) -> float:
    """Power of the one-sided exact McNemar test that p_new > p_ref on n paired binary items (independent outcomes)."""
    if n <= 0:
        return 0.0
    pb, pc = p_new * (1 - p_ref), p_ref * (1 - p_new)  # items only the new model has / only the reference has
    if pb + pc <= 0:
        return 0.0
    d = np.arange(n + 1)
    p_d = _sps.binom.pmf(d, n, pb + pc)
    crit = np.array([_critical_wins(int(x), alpha) for x in d])
    p_reject = _sps.binom.sf(crit - 1, d, pb / (pb + pc))
    return float(np.sum(p_d * p_reject))


def _smallest(power_at, lo: float, hi: float, target: float = POWER) -> float | None:
    """Smallest x in [lo, hi] with power_at(x) >= target (bisection on a monotone power curve); None if none."""
    if power_at(hi) < target:
        return None
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if power_at(mid) >= target else (mid, hi)
    return hi


def detectable_accuracy(n: int, alpha: float) -> float | None:
    """Smallest true held-out accuracy the check detects with 80% power on n pairs (None: not even 1.0)."""
    return _smallest(lambda a: power_vs_chance(n, a, alpha), 0.5, 1.0)


def detectable_increase(n: int, base_rate: float, alpha: float) -> float | None:
    """Smallest increase (0-1 scale) over `base_rate` the paired test detects with 80% power on n items."""
    return _smallest(lambda d: power_paired_rates(n, base_rate, base_rate + d, alpha), 0.0, 1.0 - base_rate)


def units_needed(power_at_n, limit: int = 1000) -> int | None:
    """Fewest units n from which every larger n (up to `limit`) has 80% power: exact tests' power saw-tooths in n,
    so the first n that reaches 80% can be followed by one that does not."""
    below = [n for n in range(1, limit + 1) if power_at_n(n) < POWER]
    if not below:
        return 1
    return below[-1] + 1 if below[-1] < limit else None


def pairs_needed_for_accuracy(accuracy: float, alpha: float, limit: int = 1000) -> int | None:
    """Held-out pairs needed for 80% power against chance at this true accuracy (None: more than `limit`)."""
    return units_needed(lambda n: power_vs_chance(n, accuracy, alpha), limit)


def items_needed_for_increase(base_rate: float, increase: float, alpha: float, limit: int = 1000) -> int | None:
    """Paired items needed for 80% power to detect base_rate -> base_rate + increase (None: more than `limit`)."""
    return units_needed(lambda n: power_paired_rates(n, base_rate, base_rate + increase, alpha), limit)
