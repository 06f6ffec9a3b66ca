"""Paired tests and intervals, vectorised in numpy.

Everything here works on paired differences d_i = induced_i - base_i over the
same items. Each function takes a `numpy.random.Generator`, so results are
reproducible from one seed.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as _sps

# Largest number of bootstrap/permutation draws x items held in memory at once.
_CHUNK_CELLS = 4_000_000
# Up to this many non-zero differences, the permutation test enumerates every sign pattern.
EXACT_PERMUTATION_MAX = 16
# Below this many discordant pairs, McNemar uses the exact binomial test.
MCNEMAR_EXACT_BELOW = 25
# Fewer Monte Carlo hits than this: the permutation p-value comes from the normal approximation.
TAIL_HITS = 10
# Sequential Monte Carlo stops once this many random patterns reach the observed statistic.
STOP_HITS = 50


def _chunks(total: int, n: int):
    """Split `total` draws into chunks so that chunk x n stays under _CHUNK_CELLS."""
    size = max(1, _CHUNK_CELLS // max(n, 1))
    for start in range(0, total, size):
        yield min(size, total - start)


def bootstrap_mean_ci(d: np.ndarray, *, level: float = 0.95, n_boot: int = 2000,
                      rng: np.random.Generator) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean of `d`, resampling items with replacement."""
    d = np.asarray(d, dtype=float)
    n = d.size
    if n < 2:
        return float("nan"), float("nan")
    if np.all(d == d[0]):
        return float(d[0]), float(d[0])
    means = np.empty(n_boot)
    done = 0
    for size in _chunks(n_boot, n):
        idx = rng.integers(0, n, size=(size, n))
        means[done:done + size] = d[idx].mean(axis=1)
        done += size
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def mcnemar(base: np.ndarray, induced: np.ndarray) -> tuple[float, int, int]:
    """McNemar's test for paired binary outcomes. Returns (p_value, b, c).

    b counts items that went 0 -> 1 (base -> induced), c those that went 1 -> 0.
    With fewer than 25 discordant pairs the exact two-sided binomial test is
    used; otherwise the chi-square statistic with continuity correction.
    """
    base = np.asarray(base).astype(int)
    induced = np.asarray(induced).astype(int)
    b = int(np.sum((base == 0) & (induced == 1)))
    c = int(np.sum((base == 1) & (induced == 0)))
    return mcnemar_from_counts(b, c), b, c


def mcnemar_from_counts(b: int, c: int) -> float:
    n = b + c
    if n == 0:
        return 1.0
    if n < MCNEMAR_EXACT_BELOW:
        return float(min(1.0, 2.0 * _sps.binom.cdf(min(b, c), n, 0.5)))
    statistic = (abs(b - c) - 1.0) ** 2 / n
    return float(_sps.chi2.sf(statistic, df=1))


def paired_permutation_test(d: np.ndarray, *, n_perm: int = 5000, rng: np.random.Generator) -> float:
    """Two-sided sign-flip permutation test that the mean paired difference is zero.

    Under the null, each difference is as likely to have either sign. With at
    most EXACT_PERMUTATION_MAX non-zero differences every sign pattern is
    enumerated (exact p). Otherwise up to `n_perm` random patterns are drawn:
    - sequentially (Besag & Clifford 1991): once STOP_HITS patterns reach the
      observed statistic, p = hits / patterns drawn, so clearly null cells
      cost a few hundred patterns;
    - else p = (1 + hits) / (1 + n_perm); in the far tail, where fewer than
      TAIL_HITS patterns reach it, that estimate is only a floor, so p comes
      from the normal approximation of the same sign-flip distribution (mean
      0, variance sum d_i^2). Without this, the floor 1/(n_perm+1) would keep
      Benjamini-Hochberg from finding anything on a large grid.
    """
    d = np.asarray(d, dtype=float)
    d = d[d != 0]
    m = d.size
    if m == 0:
        return 1.0
    observed = abs(d.sum())
    if m <= EXACT_PERMUTATION_MAX:
        patterns = ((np.arange(2 ** m)[:, None] >> np.arange(m)) & 1) * 2.0 - 1.0
        sums = np.abs(patterns @ d)
        return float(np.mean(sums >= observed - 1e-9 * max(1.0, float(np.abs(d).sum()))))
    # Random sign patterns from random bits; sum(s*d) = 2*sum(bits*d) - sum(d). float32 is plenty here,
    # with a tolerance far below the gaps between attainable sums of discrete scores.
    d32, total = d.astype(np.float32), float(d.sum())
    tol = 1e-5 * max(1.0, float(np.abs(d).sum()))
    hits = done = 0
    first = min(n_perm, 500)
    for size in [first, *_chunks(n_perm - first, m)] if n_perm > first else [first]:
        raw = np.frombuffer(rng.bytes(size * ((m + 7) // 8)), dtype=np.uint8).reshape(size, -1)
        bits = np.unpackbits(raw, axis=1, count=m).astype(np.float32)
        hits += int(np.sum(np.abs(2.0 * (bits @ d32) - total) >= observed - tol))
        done += size
        if hits >= STOP_HITS:
            return hits / done
    if hits < TAIL_HITS:
        return float(2.0 * _sps.norm.sf(observed / np.sqrt(np.sum(d * d))))
    return (1.0 + hits) / (1.0 + done)


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN entries stay NaN and are not counted."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = ~np.isnan(p)
    m = int(valid.sum())
    if m == 0:
        return out
    pv = p[valid]
    order = np.argsort(pv, kind="mergesort")
    ranked = pv[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out[valid] = result
    return out


P_VALUE_FLOOR = 1e-15  # the seeds x items test reports p-values below this as this


def seeds_items_test(d: np.ndarray, *, level: float = 0.95) -> dict:
    """Effect, interval and p-value for paired differences over items x seeds, with seeds as replication.

    `d` is (n_items, n_seeds): each adapter seed's difference from the reference on the same items. Items
    and seeds are crossed random factors, d_is = mu + a_i + u_s + e_is, so the mean's variance has an item
    part and a seed part. Their estimates from the two-way layout,
        v_item = MS_item / (I S)  (I - 1 df),   v_seed = MS_seed / (I S)  (S - 1 df),
    are each conservative (each also carries the residual), and the critical value is Cochran and Cox's
    weighted t, (v_item t_{I-1} + v_seed t_{S-1}) / (v_item + v_seed): it is the item-level t when seeds
    agree and the seed-level t with S - 1 df when they do not. The interval is mu +- crit sqrt(v_item +
    v_seed); the p-value is the level at which the critical value equals |t|, so p < alpha exactly when
    the (1 - alpha) interval excludes 0. `tests/test_stats.py` and `bench/bench_seed_inference.py`
    measure coverage and false-positive rate on simulated items x seeds (docs/report.md).
    """
    from scipy.optimize import brentq

    d = np.asarray(d, dtype=float)
    n_items, n_seeds = d.shape
    nan = {"effect": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "p_value": float("nan")}
    if n_items < 2 or n_seeds < 2:
        return nan
    mu = float(d.mean())
    ms_item = n_seeds * float(np.var(d.mean(axis=1), ddof=1))
    ms_seed = n_items * float(np.var(d.mean(axis=0), ddof=1))
    v_item, v_seed = ms_item / d.size, ms_seed / d.size
    var = v_item + v_seed
    if var <= 0:
        return {"effect": mu, "ci_low": mu, "ci_high": mu, "p_value": 1.0 if mu == 0 else 0.0}
    df_item, df_seed = n_items - 1, n_seeds - 1

    def crit(alpha: float) -> float:
        # a component with no variance adds nothing (and 0 * t_isf must not become nan)
        return sum(v * _sps.t.isf(alpha / 2, df) for v, df in ((v_item, df_item), (v_seed, df_seed)) if v > 0) / var

    t = abs(mu) / np.sqrt(var)
    half = crit(1.0 - level) * np.sqrt(var)
    # scipy's t.isf returns -inf below about 1e-290 for moderate df, which read as p = 0 for any t; at
    # 1e-15 it is finite for every df, and a smaller p-value changes no decision.
    floor = P_VALUE_FLOOR
    if t == 0:
        p = 1.0
    elif crit(floor) <= t:
        p = floor
    else:
        p = float(np.exp(brentq(lambda la: crit(np.exp(la)) - t, np.log(floor), 0.0, xtol=1e-10)))
    return {"effect": mu, "ci_low": mu - half, "ci_high": mu + half, "p_value": min(1.0, p)}
