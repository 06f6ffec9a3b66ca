"""Does an effect differ between models? The value x model interaction of a merged report.

For each (induced value, contrast, suite, metric) measured in two or more models, and each pair of models
(A, B): per item, A's effect (its adapter's score minus its reference's: the control adapter or the base
model, as in effects.py) minus B's effect on the same item. The runs of one design share their items, so
the two effects are paired by item; seeds are paired by their label (each model's seed k is an
independent training run; with one seed this is one adapter per model). The difference, its interval and
its p-value come from `paired_effect`, the effects table's own rules (one seed: a paired sign-flip
permutation test with a t or bootstrap interval, or McNemar/Newcombe where both effects are 0/1 per item;
several seeds: items and seeds as crossed random factors), and Benjamini-Hochberg runs within each
(contrast, correction family), as for the effects.

More than two models: every pair is tested (K(K-1)/2 rows per cell) and every pair is one hypothesis of
its BH family; a cell's models differ when any pair is significant. Items one model lacks are left out
of that pair (`n_items` counts the shared ones).
"""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pandas as pd

from .effects import (EffectOptions, PairedCell, cell_rng, finalize, paired_cells, paired_effect,
                      prepare_results)

log = logging.getLogger("valind")

INTERACTION_COLUMNS = ["induced_value", "contrast", "reference", "suite", "metric", "model", "other_model",
                       "model_effect", "other_effect", "effect", "ci_low", "ci_high", "p_value", "p_adjusted",
                       "significant", "n_items", "n_seeds", "test", "interval", "bh_family"]


def _pair(a: PairedCell, b: PairedCell) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-item effects of two models' cells on the items and seeds both have: (A's, B's), items x seeds."""
    seeds = [s for s in a.seeds if s in b.seeds]
    if not seeds:
        log.warning(f"{a.label}/{a.metric}: {a.model} and {b.model} share no seed; no model interaction")
        return None
    pos_b = {item: i for i, item in enumerate(b.items)}
    items = [(i, pos_b[item]) for i, item in enumerate(a.items) if item in pos_b]
    if not items:
        return None
    ia, ib = [i for i, _ in items], [j for _, j in items]
    da = a.per_item_effects()[np.ix_(ia, [a.seeds.index(s) for s in seeds])]
    db = b.per_item_effects()[np.ix_(ib, [b.seeds.index(s) for s in seeds])]
    ok = np.isfinite(da).all(axis=1) & np.isfinite(db).all(axis=1)
    return da[ok], db[ok]


def model_interactions(results: pd.DataFrame, options: EffectOptions | None = None,
                       correction_family: dict[str, str] | None = None,
                       controls: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per (induced value, contrast, suite, metric, pair of models): `effect` = the first model's effect
    minus the other's (`model_effect`, `other_effect` on the same items), with interval, p-value, BH-adjusted
    p-value and `significant` (same rule as the effects table). Empty with fewer than two models."""
    options = options or EffectOptions()
    df, _, _ = prepare_results(results)
    cells: dict[tuple, dict[str, PairedCell]] = {}
    for c in paired_cells(df, controls):
        cells.setdefault((c.label, c.contrast, c.reference_label, c.suite, c.metric), {})[c.model] = c
    rows = []
    for (label, contrast, reference, suite, metric), by_model in cells.items():
        for ma, mb in itertools.combinations(sorted(by_model), 2):
            pair = _pair(by_model[ma], by_model[mb])
            if pair is None or not len(pair[0]):
                continue
            da, db = pair
            cell = paired_effect(db, da, options=options,
                                 rng=cell_rng(options, "interaction", ma, mb, label, contrast, suite, metric))
            rows.append(dict(induced_value=label, contrast=contrast, reference=reference, suite=suite, metric=metric,
                             model=ma, other_model=mb, model_effect=float(da.mean()), other_effect=float(db.mean()),
                             **{k: cell[k] for k in ("effect", "ci_low", "ci_high", "p_value", "n_items", "n_seeds",
                                                     "test", "interval")}))
    table = pd.DataFrame(rows, columns=[c for c in INTERACTION_COLUMNS if c not in ("p_adjusted", "significant",
                                                                                     "bh_family")])
    families = correction_family or {}
    table["bh_family"] = [families.get(m, "all") for m in table["metric"]]
    table = finalize(table, options)
    return table[INTERACTION_COLUMNS].sort_values(["contrast", "induced_value", "suite", "metric", "model",
                                                   "other_model"], kind="stable").reset_index(drop=True)
