"""The manipulation check: was each value induced? A small confirmatory family, separate from the exploratory one.

Per induced value, three pre-specified one-sided outcomes (the study config's `analysis.manipulation_check`):

- `reward_vs_chance`: the adapter's DPO implicit-reward accuracy on its own value's held-out pairs is above
  0.5 (exact sign test over pairs: pairs won vs lost);
- `reward_vs_control`: it is above the control adapter's accuracy on the same pairs, paired by pair (exact
  McNemar: pairs only the value adapter wins vs pairs only the control wins);
- `expression_vs_control`: the adapter's outputs express its own value more often than the control's on the
  same held-out prompts (exact McNemar over prompts, on the extractor's `expresses:<value>`).

With several seeds a unit's outcome is its mean over seeds (the sign tests count units whose mean differs);
the intervals pool the seeds' counts. Intervals: Wilson for an accuracy, Newcombe's hybrid score interval
for a paired difference of proportions (Newcombe 1998, method 10, with the continuity-corrected correlation
phi*): both stay inside [0, 1] / [-1, 1] and have non-zero width at small n, unlike a bootstrap of identical
outcomes.

The p-values are corrected together, across values and outcomes, by Holm (default) or Benjamini-Hochberg,
and nothing else is in this family: the exploratory effects (every other value, suite and metric) are
corrected in their own families and cannot dilute it. A value is `induced` when both reward outcomes are
significant (its preference generalises to unseen pairs, beyond what DPO on any slice of the same data
does); `expressed` when its expression outcome is.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as _sps

from .paired import benjamini_hochberg, newcombe_paired_ci, wilson_ci

OUTCOMES = ("reward_vs_chance", "reward_vs_control", "expression_vs_control")
CHECK_COLUMNS = ["model", "value", "outcome", "reference", "estimate", "reference_estimate", "difference",
                 "ci_low", "ci_high", "n_units", "n_seeds", "wins", "losses", "p_value", "p_adjusted",
                 "significant", "unit"]


def sign_test_greater(wins: int, losses: int) -> float:
    """One-sided exact sign test (exact McNemar for paired binary outcomes): P(X >= wins), X ~ Bin(wins+losses, 1/2)."""
    n = wins + losses
    return 1.0 if n == 0 else float(_sps.binom.sf(wins - 1, n, 0.5))


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN and is not counted)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = len(valid)
    order = valid[np.argsort(p[valid], kind="mergesort")]
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[idx]))
        out[idx] = running
    return out


def _paired_row(model, value, outcome, reference, first: np.ndarray, second: np.ndarray, n_seeds: int, unit: str,
                level: float) -> dict:
    """first / second: (units x seeds) binary outcomes of the adapter and its reference on the same units."""
    m1, m2 = first.mean(axis=1), second.mean(axis=1)
    wins, losses = int((m1 > m2).sum()), int((m1 < m2).sum())
    f, s = first.ravel(), second.ravel()
    lo, hi = newcombe_paired_ci(s, f, level=level)
    return {"model": model, "value": value, "outcome": outcome, "reference": reference, "estimate": float(f.mean()),
            "reference_estimate": float(s.mean()), "difference": float(f.mean() - s.mean()), "ci_low": lo,
            "ci_high": hi, "n_units": int(first.shape[0]), "n_seeds": n_seeds, "wins": wins, "losses": losses,
            "p_value": sign_test_greater(wins, losses), "unit": unit}


def _matrix(frame: pd.DataFrame, unit_col: str, seeds: list[str]) -> pd.DataFrame:
    """units x seeds of a binary outcome; units present for every seed only."""
    wide = frame.pivot_table(index=unit_col, columns="seed", values="won", aggfunc="mean")
    return wide.reindex(columns=seeds).dropna()


def manipulation_check(reward_pairs: pd.DataFrame | None, results: pd.DataFrame | None, values: list[str],
                       controls: dict[str, str] | None = None, *, outcomes=OUTCOMES, correction: str = "holm",
                       alpha: float = 0.05, level: float = 0.95) -> pd.DataFrame:
    """The confirmatory table: one row per (model, induced value, outcome), corrected within this family only.

    `reward_pairs`: model, adapter, seed, heldout, pair_id, won (train/**/metrics.json per-pair check);
    `results`: the evaluate stage's tidy table (suite value_prompts, metric expresses:<value>);
    `controls`: value -> its matched control label (curate/controls.json `matched`; default `control`).
    """
    controls = controls or {}
    rows = []
    for value in values:
        control = controls.get(value, "control")
        if reward_pairs is not None and len(reward_pairs) and {"reward_vs_chance", "reward_vs_control"} & set(outcomes):
            own = reward_pairs[(reward_pairs["adapter"] == value) & (reward_pairs["heldout"] == value)]
            for model, mine in own.groupby("model"):
                seeds = sorted(mine["seed"].astype(str).unique())
                a = _matrix(mine.assign(seed=mine["seed"].astype(str)), "pair_id", seeds)
                if a.empty:
                    continue
                if "reward_vs_chance" in outcomes:
                    m = a.to_numpy().mean(axis=1)
                    wins, losses = int((m > 0.5).sum()), int((m < 0.5).sum())
                    lo, hi = wilson_ci(int(a.to_numpy().sum()), a.size, level=level)
                    est = float(a.to_numpy().mean())
                    rows.append({"model": model, "value": value, "outcome": "reward_vs_chance", "reference": "chance",
                                 "estimate": est, "reference_estimate": 0.5, "difference": est - 0.5,
                                 "ci_low": lo, "ci_high": hi, "n_units": len(a), "n_seeds": len(seeds), "wins": wins,
                                 "losses": losses, "p_value": sign_test_greater(wins, losses),
                                 "unit": "held-out pair"})
                theirs = reward_pairs[(reward_pairs["model"] == model) & (reward_pairs["adapter"] == control)
                                      & (reward_pairs["heldout"] == value)]
                shared = [s for s in seeds if s in set(theirs["seed"].astype(str))]
                if "reward_vs_control" in outcomes and shared:
                    c = _matrix(theirs.assign(seed=theirs["seed"].astype(str)), "pair_id", shared)
                    units = a.index.intersection(c.index)
                    if len(units):
                        rows.append(_paired_row(model, value, "reward_vs_control", control,
                                                a.loc[units, shared].to_numpy(), c.loc[units, shared].to_numpy(),
                                                len(shared), "held-out pair", level))
        if results is not None and len(results) and "expression_vs_control" in outcomes:
            metric = f"expresses:{value}"
            sub = results[(results["suite"].astype(str) == "value_prompts") & (results["metric"].astype(str) == metric)]
            sub = sub.assign(won=pd.to_numeric(sub["value"], errors="coerce"), seed=sub["seed"].astype(str)).dropna(
                subset=["won"])
            for model, msub in sub.groupby("model"):
                mine, theirs = msub[msub["induced_value"] == value], msub[msub["induced_value"] == control]
                shared = sorted(set(mine["seed"]) & set(theirs["seed"]))
                if not shared:
                    continue
                a, c = _matrix(mine, "item_id", shared), _matrix(theirs, "item_id", shared)
                units = a.index.intersection(c.index)
                if len(units):
                    rows.append(_paired_row(model, value, "expression_vs_control", control,
                                            (a.loc[units].to_numpy() > 0).astype(float),
                                            (c.loc[units].to_numpy() > 0).astype(float), len(shared),
                                            "held-out prompt", level))
    table = pd.DataFrame(rows, columns=[c for c in CHECK_COLUMNS if c not in ("p_adjusted", "significant")])
    adjust = holm if correction == "holm" else benjamini_hochberg
    table["p_adjusted"] = adjust(table["p_value"].to_numpy()) if len(table) else []
    excludes = np.where(table["outcome"] == "reward_vs_chance", table["ci_low"] > 0.5, table["ci_low"] > 0)
    table["significant"] = ((table["p_adjusted"] < alpha) & excludes).astype(bool) if len(table) else []
    return table[CHECK_COLUMNS]


def verdicts(check: pd.DataFrame) -> pd.DataFrame:
    """One line per (model, value): induced (both reward outcomes significant), expressed, and the figures."""
    out = []
    for (model, value), g in check.groupby(["model", "value"], sort=False):
        by = {r.outcome: r for r in g.itertuples()}
        chance, ctrl, expr = by.get("reward_vs_chance"), by.get("reward_vs_control"), by.get("expression_vs_control")
        if chance is None:
            induced = "not checked"
        elif ctrl is None:
            induced = "yes (no control to compare)" if chance.significant else "not shown"
        else:
            induced = "yes" if (chance.significant and ctrl.significant) else "not shown"
        expressed = "not measured" if expr is None else ("yes" if expr.significant else "not shown")
        parts = []
        if chance is not None:
            parts.append(f"held-out implicit-reward accuracy {chance.estimate:.2f} [{chance.ci_low:.2f}, "
                         f"{chance.ci_high:.2f}] on {chance.n_units} pairs (p_adj {_p(chance.p_adjusted)})")
        if ctrl is not None:
            parts.append(f"vs the control's {ctrl.reference_estimate:.2f} on the same pairs: {ctrl.difference:+.2f} "
                         f"[{ctrl.ci_low:+.2f}, {ctrl.ci_high:+.2f}] (p_adj {_p(ctrl.p_adjusted)})")
        if expr is not None:
            parts.append(f"own-value expression {expr.estimate * 100:.0f}% vs the control's "
                         f"{expr.reference_estimate * 100:.0f}%: {expr.difference * 100:+.0f} points "
                         f"[{expr.ci_low * 100:+.0f}, {expr.ci_high * 100:+.0f}] on {expr.n_units} prompts "
                         f"(p_adj {_p(expr.p_adjusted)})")
        out.append({"model": model, "value": value, "induced": induced, "expressed": expressed,
                    "line": f"{value}: induced {induced}; expressed more than the control: {expressed}. "
                            + "; ".join(parts) + "."})
    return pd.DataFrame(out, columns=["model", "value", "induced", "expressed", "line"])


def _p(p: float) -> str:
    return "–" if p is None or (isinstance(p, float) and math.isnan(p)) else (f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}")
