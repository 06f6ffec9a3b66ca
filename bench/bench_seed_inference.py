"""Seeds as replication: false-positive rate, coverage and power of four ways to test an effect over items x seeds.

Simulated paired differences d_is = delta + a_i + u_s + e_is over I items and S adapter seeds (item effects
a ~ N(0, sd_item), seed effects u ~ N(0, sd_seed), noise e ~ N(0, 1)). For each (S, sd_seed) the script
counts, over `--reps` simulated cells, how often each method rejects at 0.05 when delta = 0 (false
positives), how often its 95% interval covers delta = `--effect`, and how often it rejects then (power):

- item-level: seeds averaged per item, one-sample t over items (the unit is the item; what valind did
  before seeds counted as replication);
- hierarchical bootstrap: percentile interval from resampling seeds, then items (shared across the drawn
  seeds, as items are crossed with seeds); rejects when the interval excludes 0;
- Satterthwaite (min F'): the same variance as valind's test with Satterthwaite degrees of freedom;
- valind (`valind.stats.seeds_items_test`): that variance with Cochran and Cox's weighted t.

    python bench/bench_seed_inference.py --reps 1000        # ~5 min on 2 cores; writes bench/RESULTS.md
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

METHODS = ("item-level", "hierarchical bootstrap", "Satterthwaite (min F')", "valind (Cochran-Cox)")


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
    ours = seeds_items_test(d)
    out["valind (Cochran-Cox)"] = (ours["ci_low"], ours["ci_high"])
    return out


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
    ap.add_argument("--sd-seed", type=float, nargs="+", default=[0.0, 0.2, 0.5])
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
    se = np.sqrt(0.05 * 0.95 / args.reps)
    text = "\n".join([
        "## Seeds as replication: tests over items x seeds (`bench_seed_inference.py`)", "",
        f"Machine: {machine()}", "",
        f"Command: `python bench/bench_seed_inference.py --reps {args.reps}`. {args.reps} simulated cells per row, "
        f"{args.items} items, item sd {args.sd_item}, noise sd 1; false positives at delta = 0 (nominal 0.05, "
        f"binomial SE {se:.3f}), coverage of the 95% interval and power at delta = {args.effect}.", "",
        table(["seeds", "seed sd", "method", "false-positive rate", "coverage", "power"], rows)])
    path = write_section("seed_inference", text)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
