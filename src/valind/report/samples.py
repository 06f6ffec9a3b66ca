"""Pick generations to show side by side (base vs induced): items where the measured outcome changed."""

from __future__ import annotations

import math

import pandas as pd

from .kinds import refusal_suites, suite_name


def seed_label(x) -> str:
    """One spelling per seed whatever the column's dtype: 0, 0.0 and '0' -> '0'; None/NaN -> '-'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _relevant_metrics(value: str, suite: str) -> list[str]:
    if suite in refusal_suites():
        return ["refused", "refused_unsafe", "over_refusal", "over_refused"]
    return [f"expresses:{value}", "anthro_any", "sycophancy_rate", "abandoned"]


def pick_samples(items: pd.DataFrame | None, results: pd.DataFrame, *, per_value: int = 2,
                 max_values: int = 15) -> list[dict]:
    """Up to `per_value` items per (model, induced value), from different suites, preferring changed outcomes."""
    if items is None or items.empty:
        return []
    items = items.assign(seed=items["seed"].astype(object).map(seed_label))
    res = results.assign(seed=results["seed"].astype(object).map(seed_label))
    lookup = res.set_index(["model", "induced_value", "seed", "suite", "item_id", "metric"])["value"]
    lookup = lookup[~lookup.index.duplicated()]
    base = items[items["induced_value"] == "base"].drop_duplicates(["model", "suite", "item_id"])
    base = base.set_index(["model", "suite", "item_id"])
    out = []
    induced = items[items["induced_value"] != "base"]
    for (model, value), group in induced.groupby(["model", "induced_value"], sort=True):
        if len({s["induced_value"] for s in out}) >= max_values:
            break
        seed = sorted(group["seed"].unique())[0]
        candidates = []
        for rec in group[group["seed"] == seed].itertuples():
            if (model, rec.suite, rec.item_id) not in base.index:
                continue
            b = base.loc[(model, rec.suite, rec.item_id)]
            changes, score = [], 0.0
            for metric in _relevant_metrics(value, rec.suite):
                new = lookup.get((model, value, seed, rec.suite, rec.item_id, metric))
                old = lookup.get((model, "base", b["seed"], rec.suite, rec.item_id, metric))
                if new is None or old is None:
                    continue
                changes.append(f"{metric}: {old:g} → {new:g}")
                score = max(score, abs(new - old))
            candidates.append((score, rec, b, changes))
        candidates.sort(key=lambda c: -c[0])
        used_suites: set[str] = set()
        for score, rec, b, changes in candidates:
            if rec.suite in used_suites:
                continue
            used_suites.add(rec.suite)
            out.append({"model": model, "induced_value": value, "seed": seed, "suite": suite_name(rec.suite),
                        "item_id": str(rec.item_id), "prompt": str(rec.prompt), "base_response": str(b["response"]),
                        "induced_response": str(rec.response), "changes": changes})
            if len(used_suites) >= per_value:
                break
    return out
