"""Paired tests and intervals, vectorised in numpy.

Everything here works on paired differences d_i = induced_i - base_i over the
same items. Each function takes a `numpy.random.Generator`, so results are
reproducible from one seed.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as _sps
from scipy.special import stdtrit as _stdtrit

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
    """Percentile bootstrap interval for the mean of `d`, resampling items with replacement.

    NaN when `d` has fewer than 2 values or no spread: resampling identical values gives the zero-width
    interval [x, x], which says nothing about what other items would show (`mean_ci` has the fallbacks).
    """
    d = np.asarray(d, dtype=float)
    n = d.size
    if n < 2 or no_spread(d):
        return float("nan"), float("nan")
    means = np.empty(n_boot)
    done = 0
    for size in _chunks(n_boot, n):
        idx = rng.integers(0, n, size=(size, n))
        means[done:done + size] = d[idx].mean(axis=1)
        done += size
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def no_spread(d: np.ndarray) -> bool:
    """Whether every value of `d` is the same, up to floating-point rounding of differences."""
    d = np.asarray(d, dtype=float)
    return bool(d.size == 0 or np.ptp(d) <= 1e-12 * max(1.0, float(np.abs(d).max())))


# Below this many items a continuous score's interval is Student's t, not the percentile bootstrap (which is
# too narrow at small n: it has no (n-1) correction and its tails come from a handful of distinct values).
BOOTSTRAP_MIN_ITEMS = 30


def wilson_ci(k: int, n: int, *, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n (valid at small n and at 0/n or n/n, never zero-width)."""
    if n <= 0:
        return float("nan"), float("nan")
    z = float(_sps.norm.isf((1.0 - level) / 2.0))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def newcombe_paired_ci(base: np.ndarray, induced: np.ndarray, *, level: float = 0.95) -> tuple[float, float]:
    """Interval for the difference of paired proportions, mean(induced) - mean(base) (Newcombe 1998, method 10).

    Combines the Wilson intervals of the two rates with the phi correlation of the pairs. It stays valid at
    small n and is never zero-width: 2 items that did not change give about [-0.66, +0.66].
    """
    base = np.asarray(base).astype(int)
    induced = np.asarray(induced).astype(int)
    n = base.size
    if n == 0:
        return float("nan"), float("nan")
    e = int(np.sum((induced == 1) & (base == 1)))   # both 1
    f = int(np.sum((induced == 1) & (base == 0)))   # 0 -> 1
    g = int(np.sum((induced == 0) & (base == 1)))   # 1 -> 0
    h = n - e - f - g                               # both 0
    p1, p2 = (e + f) / n, (e + g) / n               # induced rate, base rate
    l1, u1 = wilson_ci(e + f, n, level=level)
    l2, u2 = wilson_ci(e + g, n, level=level)
    a = float(e + f) * (g + h) * (e + g) * (f + h)
    b = e * h - f * g
    c = b - n / 2 if b > n / 2 else (0.0 if b >= 0 else b)
    phi = c / np.sqrt(a) if a > 0 else 0.0
    delta = np.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    eps = np.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    theta = p1 - p2
    return float(max(-1.0, theta - delta)), float(min(1.0, theta + eps))


def mean_ci(d: np.ndarray, *, level: float = 0.95, n_boot: int = 2000, rng: np.random.Generator,
            bounded: bool = False) -> tuple[float, float, str]:
    """Interval for the mean of continuous paired differences, honest at small n. Returns (low, high, method).

    - fewer than 2 items: NaN ("none");
    - no spread (every difference equal): the data say nothing about the variance, so no variance-based
      interval is honest. For scores on a 0-1 scale (`bounded`: differences in [-1, 1]) Hoeffding's
      inequality gives one that holds for any distribution, mean +- sqrt(2 ln(2/alpha) / n), clipped to
      [-1, 1] ("hoeffding"); otherwise NaN ("none");
    - fewer than BOOTSTRAP_MIN_ITEMS items: Student's t interval ("t");
    - else the percentile bootstrap over items ("bootstrap").
    """
    d = np.asarray(d, dtype=float)
    n = d.size
    if n < 2:
        return float("nan"), float("nan"), "none"
    mu = float(d.mean())
    if no_spread(d):
        if not bounded:
            return float("nan"), float("nan"), "none"
        half = float(np.sqrt(2.0 * np.log(2.0 / (1.0 - level)) / n))
        return max(-1.0, mu - half), min(1.0, mu + half), "hoeffding"
    if n < BOOTSTRAP_MIN_ITEMS:
        half = float(_sps.t.isf((1.0 - level) / 2.0, n - 1) * d.std(ddof=1) / np.sqrt(n))
        return mu - half, mu + half, "t"
    low, high = bootstrap_mean_ci(d, level=level, n_boot=n_boot, rng=rng)
    return low, high, "bootstrap"


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
SEED_METHODS = ("components", "conservative")


def seeds_items_test(d: np.ndarray, *, level: float = 0.95, method: str = "components") -> dict:
    """Effect, interval and p-value for paired differences over items x seeds, with seeds as replication.

    `d` is (n_items, n_seeds): each adapter seed's difference from the reference on the same items. Items
    and seeds are crossed random factors, d_is = mu + a_i + u_s + e_is, so the variance of the mean,
    sd_item^2 / I + sd_seed^2 / S + sd_noise^2 / (I S), has an item part and a seed part. From the two-way
    layout's mean squares (E MS_item = S sd_item^2 + sd_noise^2, E MS_seed = I sd_seed^2 + sd_noise^2,
    E MS_res = sd_noise^2):

    - `components` (default): v_item = MS_item / (I S) (I - 1 df; it holds the noise term) and
      v_seed = max(MS_seed - MS_res, 0) / (I S) (S - 1 df): the unbiased estimate of the variance of the
      mean, its seed part cut at 0;
    - `conservative` (valind before 2026-12): v_seed = MS_seed / (I S), which counts the noise a second time.

    The critical value is Cochran and Cox's weighted t, (v_item t_{I-1} + v_seed t_{S-1}) / (v_item + v_seed):
    the item-level t when the seeds agree beyond what noise explains, and the seed-level t with S - 1 df when
    they do not. The interval is mu +- crit sqrt(v_item + v_seed); the p-value is the level at which the
    critical value equals |t|, so p < alpha exactly when the (1 - alpha) interval excludes 0.

    Simulated (`bench/bench_seed_inference.py`, bench/RESULTS.md; a smaller check in tests/stats/test_stats.py):
    with 3 or more seeds `components` keeps the false-positive rate near 0.05 at any seed spread and has
    power close to the item-level test's when seeds do not differ; `conservative` loses much of that power.
    With 2 seeds no test can do both (the bench's bound): `components` has about 0.67 power where the
    item-level test has 0.90, and a false-positive rate up to about 0.12 when seeds differ a lot;
    `conservative` holds 0.05 with about 0.30 power.

    With no variance at all (every difference equal) the interval would be [mu, mu]: returned as NaN with
    p NaN, for the caller to fall back on (effects.paired_effect).
    """
    from scipy.optimize import brentq

    if method not in SEED_METHODS:
        raise ValueError(f"seeds_items_test: method {method!r}; expected one of {SEED_METHODS}")
    d = np.asarray(d, dtype=float)
    n_items, n_seeds = d.shape
    nan = {"effect": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "p_value": float("nan")}
    if n_items < 2 or n_seeds < 2:
        return nan
    mu = float(d.mean())
    item_means, seed_means = d.mean(axis=1), d.mean(axis=0)
    ms_item = n_seeds * float(np.var(item_means, ddof=1))
    ms_seed = n_items * float(np.var(seed_means, ddof=1))
    if method == "components":
        resid = d - item_means[:, None] - seed_means[None, :] + mu
        ms_res = float(np.sum(resid * resid)) / ((n_items - 1) * (n_seeds - 1))
        ms_seed = max(ms_seed - ms_res, 0.0)
    v_item, v_seed = ms_item / d.size, ms_seed / d.size
    var = v_item + v_seed
    if no_spread(d) or var <= 0:
        return {**nan, "effect": mu}
    df_item, df_seed = n_items - 1, n_seeds - 1

    def crit(alpha: float) -> float:
        # a component with no variance adds nothing (and 0 * t_isf must not become nan); -stdtrit(df, a) is
        # scipy's t.isf(a, df) without its per-call overhead (about 100x faster, same values)
        return sum(v * -_stdtrit(df, alpha / 2) for v, df in ((v_item, df_item), (v_seed, df_seed)) if v > 0) / var

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
