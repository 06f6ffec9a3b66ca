"""Seeds as replication: false-positive rate, coverage and power of four ways to test an effect over items x seeds.

Simulated paired differences d_is = delta + a_i + u_s + e_is over I items and S adapter seeds (item effects
a ~ N(0, sd_item), seed effects u ~ N(0, sd_seed), noise e ~ N(0, 1)). For each (S, sd_seed) the script
counts, over `--reps` simulated cells, how often each method rejects at 0.05 when delta = 0 (false
positives), how often its 95% interval covers delta = `--effect`, and how often it rejects then (power):

- item-level: seeds averaged per item, one-sample t over items (the unit is the item; what valind did
  before seeds counted as replication);
- hierarchical bootstrap: percentile interval from resampling seeds, then items (shared across the drawn
  seeds, as items are crossed with seeds); rejects when the interval excludes 0;
- Satterthwaite (min F'): v_item + v_seed with v_seed = MS_seed / (I S), Satterthwaite degrees of freedom;
- Cochran-Cox, conservative (`seeds_items_test(method="conservative")`, valind before 2026-12): the same
  variance with Cochran and Cox's weighted t;
- valind (`seeds_items_test`, method "components"): v_seed = max(MS_seed - MS_res, 0) / (I S), the unbiased
  variance of the mean (the conservative rule counts the noise twice), with Cochran and Cox's weighted t.

A second table bounds what any test can do (`best_power`): with the item and noise variances taken as known
(which only helps a test), the most powerful test at seed sd 0 whose false-positive rate stays at or below a
level for every seed sd is a linear programme over rejection regions in (|mean|, seed sum of squares), which
are sufficient here; it also gives the smallest worst-case false-positive rate that a test reaching the
item-level power less 0.1 must accept.

    nice -n 15 python bench/bench_seed_inference.py --reps 600   # 4-16 min on 2 shared cores; writes bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, table, write_section  # noqa: E402

from valind.stats import seeds_items_test  # noqa: E402

METHODS = ("item-level", "hierarchical bootstrap", "Satterthwaite (min F')", "Cochran-Cox, conservative (before)",
           "valind: variance components")


def intervals(d: np.ndarray, rng: np.random.Generator, n_boot: int) -> dict[str, tuple[float, float]]:
    """Each method's 95% interval for the mean of d (items x seeds)."""
    n_items, n_seeds = d.shape
    mu = d.mean()
    item_means = d.mean(axis=1)
    half = stats.t.isf(0.025, n_items - 1) * item_means.std(ddof=1) / np.sqrt(n_items)
    out = {"item-level": (mu - half, mu + half)}
    w_seed = np.zeros((n_boot, n_seeds))
    np.add.at(w_seed, (np.arange(n_boot)[:, None], rng.integers(0, n_seeds, (n_boot, n_seeds))), 1 / n_seeds)
    w_item = np.zeros((n_boot, n_items))
    np.add.at(w_item, (np.arange(n_boot)[:, None], rng.integers(0, n_items, (n_boot, n_items))), 1 / n_items)
    means = ((w_item @ d) * w_seed).sum(axis=1)
    out["hierarchical bootstrap"] = tuple(np.quantile(means, [0.025, 0.975]))
    v_item = n_seeds * item_means.var(ddof=1) / d.size
    v_seed = n_items * d.mean(axis=0).var(ddof=1) / d.size
    var = v_item + v_seed
    df = var ** 2 / (v_item ** 2 / (n_items - 1) + v_seed ** 2 / (n_seeds - 1))
    half = stats.t.isf(0.025, df) * np.sqrt(var)
    out["Satterthwaite (min F')"] = (mu - half, mu + half)
    old = seeds_items_test(d, method="conservative")
    out["Cochran-Cox, conservative (before)"] = (old["ci_low"], old["ci_high"])
    ours = seeds_items_test(d)
    out["valind: variance components"] = (ours["ci_low"], ours["ci_high"])
    return out


def best_power(n_seeds: int, *, n_items: int, sd_item: float, effect: float,
               levels=(0.05, 0.06, 0.08, 0.10)) -> tuple[float, dict[float, float], float]:
    """(item-level power, {false-positive bound: the most power any test has at seed sd 0}, the smallest
    worst-case false-positive rate of a test with the item-level power less 0.1), noise sd 1, as an LP.

    Sufficient statistics: the grand mean m ~ N(delta, A + tau / S) with A = (sd_item^2 + 1 / S) / I, and the
    seeds' sum of squares of their means Q ~ (tau + 1 / I) chi2_{S-1}, independent; tau = sd_seed^2 ranges
    over 0 and 40 values from 1e-4 to 4. A (randomised) test is a rejection probability per cell of a grid
    over (|m|, Q).
    """
    from scipy.optimize import linprog

    a_var, c = (sd_item ** 2 + 1.0 / n_seeds) / n_items, 1.0 / n_items
    taus = np.concatenate([[0.0], np.geomspace(1e-4, 4.0, 40)])
    em = np.concatenate([np.linspace(0, 2.0, 201), [np.inf]])
    eq = np.concatenate([[0.0], np.geomspace(1e-5, 40.0, 240), [np.inf]])

    def cells(delta: float, tau: float) -> np.ndarray:
        s, f = np.sqrt(a_var + tau / n_seeds), stats.norm.cdf
        pm = (f(em[1:], delta, s) - f(em[:-1], delta, s)) + (f(-em[:-1], delta, s) - f(-em[1:], delta, s))
        return np.outer(pm, np.diff(stats.chi2.cdf(eq / (tau + c), n_seeds - 1))).ravel()

    power = cells(effect, 0.0)
    nulls = np.array([cells(0.0, t) for t in taus])
    z = stats.norm.isf(0.025)
    item = float(stats.norm.sf(z - effect / np.sqrt(a_var)) + stats.norm.cdf(-z - effect / np.sqrt(a_var)))
    best = {}
    for level in levels:
        r = linprog(-power, A_ub=nulls, b_ub=np.full(len(taus), level), bounds=(0, 1), method="highs")
        best[level] = float(-r.fun)
    n = power.size  # minimise the worst-case size s subject to power >= item - 0.1
    cost = np.zeros(n + 1)
    cost[-1] = 1.0
    a_ub = np.vstack([np.hstack([nulls, -np.ones((len(taus), 1))]), np.append(-power, 0.0)[None]])
    b_ub = np.append(np.zeros(len(taus)), -(item - 0.1))
    r = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=[(0, 1)] * (n + 1), method="highs")
    return item, best, float(r.fun)


def simulate(n_seeds: int, sd_seed: float, *, n_items: int, sd_item: float, effect: float, reps: int,
             n_boot: int, seed: int) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(seed)
    counts = {m: {"fp": 0, "cover": 0, "power": 0} for m in METHODS}
    for _ in range(reps):
        for delta in (0.0, effect):
            d = (delta + rng.normal(0, sd_item, (n_items, 1)) + rng.normal(0, sd_seed, (1, n_seeds))
                 + rng.normal(0, 1, (n_items, n_seeds)))
            for m, (lo, hi) in intervals(d, rng, n_boot).items():
                rejects = lo > 0 or hi < 0
                if delta == 0:
                    counts[m]["fp"] += rejects
                else:
                    counts[m]["cover"] += lo <= delta <= hi
                    counts[m]["power"] += rejects
    return {m: {k: v / reps for k, v in c.items()} for m, c in counts.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--sd-item", type=float, default=0.5)
    ap.add_argument("--effect", type=float, default=0.4)
    ap.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 5])
    ap.add_argument("--sd-seed", type=float, nargs="+", default=[0.0, 0.2, 0.5, 1.0])
    ap.add_argument("--n-boot", type=int, default=500)
    args = ap.parse_args(argv)
    rows = []
    for n_seeds in args.seeds:
        for sd_seed in args.sd_seed:
            res = simulate(n_seeds, sd_seed, n_items=args.items, sd_item=args.sd_item, effect=args.effect,
                           reps=args.reps, n_boot=args.n_boot, seed=1000 * n_seeds + int(100 * sd_seed))
            for m in METHODS:
                r = res[m]
                rows.append([n_seeds, sd_seed, m, f"{r['fp']:.3f}", f"{r['cover']:.3f}", f"{r['power']:.3f}"])
                print(*rows[-1], sep="\t", flush=True)
    bound_rows = []
    for n_seeds in args.seeds:
        item, best, worst = best_power(n_seeds, n_items=args.items, sd_item=args.sd_item, effect=args.effect)
        bound_rows.append([n_seeds, f"{item:.3f}", *(f"{best[k]:.3f}" for k in sorted(best)), f"{worst:.3f}"])
        print("bound", *bound_rows[-1], sep="\t", flush=True)
    levels = sorted(best)
    se = np.sqrt(0.05 * 0.95 / args.reps)
    text = "\n".join([
        "## Seeds as replication: tests over items x seeds (`bench_seed_inference.py`)", "",
        f"Machine: {machine()}", "",
        f"Command: `nice -n 15 python bench/bench_seed_inference.py --reps {args.reps}`. {args.reps} simulated cells per row, "
        f"{args.items} items, item sd {args.sd_item}, noise sd 1; false positives at delta = 0 (nominal 0.05, "
        f"binomial SE {se:.3f}), coverage of the 95% interval and power at delta = {args.effect}.", "",
        table(["seeds", "seed sd", "method", "false-positive rate", "coverage", "power"], rows), "",
        "What any test can do (`best_power`, a linear programme with the item and noise variances known): power "
        f"at delta = {args.effect} and seed sd 0 of the best test whose false-positive rate stays at or below "
        "each level for every seed sd from 0 to 2, and the smallest worst-case false-positive rate of a test "
        "whose power is the item-level test's less 0.1.", "",
        table(["seeds", "item-level power (z)", *(f"best power, FP <= {k:g}" for k in levels),
               "least worst-case FP for item-level power - 0.1"], bound_rows)])
    path = write_section("seed_inference", text)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
