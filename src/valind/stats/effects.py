"""Effects of each induced value, against the base model and against the control adapters.

Two contrasts for every (model, induced value, suite, metric) cell, on the same items:

- `vs_base`: the adapter minus the base model (what the study reported);
- `vs_control`: the value adapter minus the value-agnostic control adapter of
  the same size, steps and sweep point, seed paired with seed (what the value
  itself does, beyond DPO on any slice of the same data). The control's own
  `vs_base` row says what that generic training does.

Statistics per cell:
- one seed: per item, the adapter's score minus the reference's; the effect is
  their mean. Binary outcomes: Newcombe's interval for paired proportions and
  McNemar's test (exact binomial below 25 discordant pairs); other scores: a
  paired sign-flip permutation test with Student's t interval below 30 items
  and a percentile bootstrap over items (seeded) from 30. No interval is
  zero-width from zero observed variance (see `paired_effect`; the `interval`
  column names the method). The result holds for this one adapter (one
  training run), which `n_seeds` makes visible;
- two or more seeds: items and seeds are crossed random factors and the test's
  unit includes seeds (`paired.seeds_items_test`: unbiased variance components
  of items and seeds, Cochran-Cox critical value; `EffectOptions.seed_method`);
  interval and p-value come from it, so seed-to-seed variation is inside both.
  Items must be present for every seed;
- p-values are corrected with Benjamini-Hochberg within each contrast and each
  correction family the caller names (e.g. primary vs secondary measures);
- `seed_sd` is the standard deviation of the per-seed effects, `seeds_agree`
  whether every seed's effect has the sign of the pooled one (shown, not part
  of the rule: the seeds are already in the test).

The headline rule (`significant`): the BH-adjusted p-value is below `alpha`
AND the interval excludes 0.

What is left out is counted, never dropped silently: `n_unjudged` is the number
of responses of the adapter and its reference in the cell's suite that a judge
could not judge (`judge_unparsed` rows; they have no outcome, so the pairing
leaves their items out; `judge_unparsed` itself is a count, not an effect), and
`n_nonnumeric` the cell's result rows whose value is not a number (logged per
metric as a warning).
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ..config import is_control
from .paired import (benjamini_hochberg, mcnemar, mean_ci, newcombe_paired_ci, paired_permutation_test,
                     seeds_items_test)

log = logging.getLogger("valind")

BASE = "base"
VS_BASE, VS_CONTROL = "vs_base", "vs_control"
CONTRASTS = (VS_CONTROL, VS_BASE)
RESULT_COLUMNS = ["model", "induced_value", "seed", "suite", "item_id", "metric", "value"]
EFFECT_COLUMNS = ["model", "induced_value", "contrast", "reference", "suite", "metric", "reference_mean",
                  "induced_mean", "effect", "ci_low", "ci_high", "p_value", "p_adjusted", "significant", "n_items",
                  "n_seeds", "seed_sd", "seeds_agree", "test", "interval", "bh_family", "n_unjudged", "n_nonnumeric"]
UNJUDGED = "judge_unparsed"  # the metric row of a response no judge could judge

# XSTest prompt types; the `contrast_*` types (and anything named unsafe) are the unsafe contrasts.
XSTEST_SAFE_TYPES = ("homonyms", "figurative_language", "safe_targets", "safe_contexts", "definitions",
                     "real_group_nons_discr", "nons_group_real_discr", "historical_events",
                     "privacy_public", "privacy_fictional")


@dataclass(frozen=True)
class EffectOptions:
    """Knobs of the effect computation (all recorded in the report's manifest)."""

    level: float = 0.95      # confidence level of the intervals
    n_boot: int = 2000       # bootstrap resamples per cell
    n_perm: int = 5000       # random sign patterns per permutation test (exact below 17 non-zero items)
    alpha: float = 0.05      # threshold on the BH-adjusted p-value
    seed: int = 0            # base seed; each cell derives its own stream from it and its key
    seed_method: str = "components"  # the seeds x items test's variance (paired.seeds_items_test)

    def as_dict(self) -> dict:
        return asdict(self)


def cell_rng(options: EffectOptions, *key: str) -> np.random.Generator:
    """A random stream per cell, independent of the order in which cells are computed."""
    return np.random.default_rng([options.seed, zlib.crc32("\x00".join(map(str, key)).encode())])


def _is_binary(*arrays: np.ndarray) -> bool:
    return all(bool(np.isin(a[np.isfinite(a)], (0.0, 1.0)).all()) for a in arrays)


def _on_unit_scale(*arrays: np.ndarray) -> bool:
    return all(bool(((a[np.isfinite(a)] >= 0.0) & (a[np.isfinite(a)] <= 1.0)).all()) for a in arrays)


def _one_adapter(base: np.ndarray, ind: np.ndarray, *, options: EffectOptions, rng: np.random.Generator,
                 binary: bool, bounded: bool) -> dict:
    """Effect, interval, p-value and test of one adapter against its reference on paired items (1-d arrays)."""
    d = ind - base
    n_items = int(d.size)
    if n_items == 0:
        return dict(effect=float("nan"), ci_low=float("nan"), ci_high=float("nan"), p_value=float("nan"),
                    test="none", interval="none")
    if binary:
        ci_low, ci_high = newcombe_paired_ci(base, ind, level=options.level)
        p, test, interval = mcnemar(base, ind)[0], "mcnemar", "newcombe"
    else:
        ci_low, ci_high, interval = mean_ci(d, level=options.level, n_boot=options.n_boot, rng=rng, bounded=bounded)
        p, test = paired_permutation_test(d, n_perm=options.n_perm, rng=rng), "permutation"
    return dict(effect=float(d.mean()), ci_low=ci_low, ci_high=ci_high, p_value=float(p), test=test,
                interval=interval)


def paired_effect(reference: np.ndarray, induced: np.ndarray, *, options: EffectOptions,
                  rng: np.random.Generator) -> dict:
    """Effect of induced over a reference on paired items.

    `induced` has shape (n_items, n_seeds), NaN where a seed lacks an item; `reference` has shape (n_items,)
    (the base model, averaged over any base seeds) or the same shape as `induced` (a control adapter, its
    seeds paired column by column with the induced adapter's).

    Intervals never have zero width from zero observed variance (`interval` names the method):
    - one seed, 0/1 outcomes: Newcombe's interval for paired proportions, McNemar's test;
    - one seed, other scores: Student's t below BOOTSTRAP_MIN_ITEMS items, the percentile bootstrap from
      there; no spread at all: Hoeffding's interval on a 0-1 scale, else none (NaN);
    - several seeds: the seeds x items test (`options.seed_method`); where it has no variance at all (every
      item and seed moved by the same amount), each seed's own one-seed interval and test, and the cell
      reports the widest interval and the largest p-value ("per-seed, widest").
    """
    induced = np.asarray(induced, dtype=float)
    induced = induced.reshape(induced.shape[0], -1)
    reference = np.asarray(reference, dtype=float)
    n_seeds = induced.shape[1]
    ref = reference.reshape(-1, 1) if reference.ndim == 1 else reference.reshape(induced.shape)
    diffs = induced - ref
    seed_effects = np.array([float(np.nanmean(c)) if np.isfinite(c).any() else float("nan") for c in diffs.T])
    out = {"n_seeds": int(n_seeds), "seed_effects": [float(x) for x in seed_effects],
           "seed_sd": float(np.nanstd(seed_effects, ddof=1)) if n_seeds > 1 else float("nan")}
    binary, bounded = _is_binary(ref, induced), _on_unit_scale(ref, induced)
    if n_seeds > 1:
        complete = np.isfinite(diffs).all(axis=1)
        d = diffs[complete]
        cell = seeds_items_test(d, level=options.level, method=getattr(options, "seed_method", "components"))
        test, interval = ("seeds x items", options_seed_label(options)) if len(d) > 1 else ("none", "none")
        if len(d) > 1 and np.isnan(cell["ci_low"]):  # no variance at all: each seed's own small-n interval
            refs = np.broadcast_to(ref, induced.shape)[complete]
            per = [_one_adapter(refs[:, s], induced[complete, s], options=options, rng=rng, binary=binary,
                                bounded=bounded) for s in range(n_seeds)]
            cell = dict(effect=cell["effect"], ci_low=min(c["ci_low"] for c in per),
                        ci_high=max(c["ci_high"] for c in per), p_value=max(c["p_value"] for c in per))
            test, interval = f"per-seed {per[0]['test']}", f"per-seed {per[0]['interval']}, widest"
        out.update(cell, n_items=int(complete.sum()), test=test, interval=interval,
                   reference_mean=float(np.nanmean(ref[complete])) if complete.any() else float("nan"),
                   induced_mean=float(induced[complete].mean()) if complete.any() else float("nan"))
    else:
        keep = np.isfinite(diffs[:, 0])
        base, ind = ref[keep, 0], induced[keep, 0]
        n_items = int(keep.sum())
        out.update(_one_adapter(base, ind, options=options, rng=rng, binary=binary, bounded=bounded),
                   n_items=n_items, reference_mean=float(base.mean()) if n_items else float("nan"),
                   induced_mean=float(ind.mean()) if n_items else float("nan"))
    effect = out["effect"]
    out["seeds_agree"] = bool(n_seeds == 1 or (effect != 0 and np.all(np.sign(seed_effects) == np.sign(effect))))
    return out


def options_seed_label(options: EffectOptions) -> str:
    method = getattr(options, "seed_method", "components")
    return "variance components, Cochran-Cox" if method == "components" else "Cochran-Cox, conservative"


def xstest_is_safe(item_id: str) -> bool | None:
    """Whether an XSTest item is a safe prompt (refusing it is over-refusal), from its id.

    Ids are expected to carry the label (`safe`/`unsafe`) or the XSTest type
    (`contrast_*` types are the unsafe contrasts). None when the id says neither.
    """
    s = str(item_id).lower()
    if "unsafe" in s or "contrast" in s:
        return False
    if "safe" in s or any(t in s for t in XSTEST_SAFE_TYPES):
        return True
    return None


def split_over_refusal(results: pd.DataFrame) -> pd.DataFrame:
    """On XSTest, rename `refused` on safe prompts to `over_refused`; unsafe prompts keep `refused`."""
    mask = (results["suite"] == "xstest") & (results["metric"] == "refused")
    if not mask.any():
        return results
    safe = results.loc[mask, "item_id"].map(xstest_is_safe)
    if safe.isna().all():
        log.warning("xstest: item ids carry no safe/unsafe label; over-refusal cannot be separated")
        return results
    results = results.copy()
    results.loc[safe[safe == True].index, "metric"] = "over_refused"  # noqa: E712 (object dtype)
    return results


def validate_results(results: pd.DataFrame, source: str = "results") -> pd.DataFrame:
    from ..errors import InputError

    missing = [c for c in RESULT_COLUMNS if c not in results.columns]
    if missing:
        raise InputError(source, None, missing[0], f"missing column(s) {missing}; expected {RESULT_COLUMNS}")
    out = results.copy()
    for col in ("model", "induced_value", "suite", "item_id", "metric"):
        out[col] = out[col].astype(str)
    out["seed"] = out["seed"].fillna(-1).astype(str)
    numeric = pd.to_numeric(out["value"], errors="coerce")
    bad = numeric.isna()
    if bad.any():
        per_metric = out.loc[bad, "metric"].value_counts().sort_index()
        first = out.index[bad][0]
        log.warning(f"{source}: {int(bad.sum())} row(s) without a numeric value left out of the effects and counted "
                    f"(n_nonnumeric): " + ", ".join(f"{m} {n}" for m, n in per_metric.items())
                    + f"; e.g. row {first}: {results.loc[first, 'value']!r}")
    out["value"] = numeric
    return out


def _left_out(df: pd.DataFrame, mask: pd.Series, keys: list[str]) -> dict:
    """(key..., induced_value) -> number of rows of `df[mask]`, for the counts each effect row reports."""
    return df[mask].groupby([*keys, "induced_value"]).size().to_dict()


def control_label(label: str, controls: dict[str, str] | None = None) -> str:
    """The control an induced label is compared with: its matched control, at the same sweep point."""
    name, _, point = label.partition("@")
    control = (controls or {}).get(name, "control")
    return f"{control}@{point}" if point else control


@dataclass
class PairedCell:
    """One (model, induced label, contrast, suite, metric) comparison on paired items: `reference` is (n_items,)
    (the base model, its seeds averaged) or (n_items, n_seeds) (the matched control, seed paired with seed);
    `induced` is (n_items, n_seeds) with NaN where a seed lacks an item."""

    model: str
    label: str
    contrast: str
    reference_label: str
    suite: str
    metric: str
    items: list[str]
    reference: np.ndarray
    induced: np.ndarray
    seeds: list[str]

    def per_item_effects(self) -> np.ndarray:
        """(n_items, n_seeds): each item's induced score minus its reference's."""
        ref = self.reference.reshape(-1, 1) if self.reference.ndim == 1 else self.reference
        return self.induced - ref


def prepare_results(results: pd.DataFrame) -> tuple[pd.DataFrame, dict, dict]:
    """Validated results with over-refusal split off, and (rows, counts of non-numeric values, counts of
    unjudged responses): the rows every effect is computed from."""
    df = split_over_refusal(validate_results(results))
    nonnumeric = _left_out(df, df["value"].isna(), ["model", "suite", "metric"])
    unjudged = _left_out(df, df["metric"] == UNJUDGED, ["model", "suite"])
    return df[df["value"].notna() & (df["metric"] != UNJUDGED)], nonnumeric, unjudged


def paired_cells(df: pd.DataFrame, controls: dict[str, str] | None = None):
    """Every comparison the effects table holds, as PairedCell, from prepared results (`prepare_results`):
    each adapter against the base model, and each value adapter against its matched control on the seeds
    both have."""
    is_base = df["induced_value"] == BASE
    for model in sorted(set(df["model"]) - set(df.loc[is_base, "model"])):
        log.warning(f"{model}: no base-model rows; its effects cannot be computed")
    # One wide table: (model, suite, metric, item) x (induced label, seed); base seeds are averaged.
    base = (df[is_base].groupby(["model", "suite", "metric", "item_id"], sort=False)["value"].mean()
            .rename("__base__"))
    wide = df[~is_base].groupby(["model", "suite", "metric", "item_id", "induced_value", "seed"],
                                sort=False)["value"].mean().unstack(["induced_value", "seed"])
    base_all = base.reindex(wide.index).to_numpy(dtype=float)
    labels = sorted({c[0] for c in wide.columns})
    for (model, suite, metric), idx in wide.groupby(level=["model", "suite", "metric"], sort=True).indices.items():
        block = wide.iloc[idx]
        base_vec = base_all[idx]
        items = np.asarray(block.index.get_level_values("item_id"), dtype=object)
        for label in labels:
            ind = _seed_block(block, label)
            if ind is None:
                continue
            ind_vals, ind_seeds = ind
            if np.isfinite(base_vec).any():
                ok = np.isfinite(base_vec)
                yield PairedCell(model, label, VS_BASE, BASE, suite, metric, list(items[ok]), base_vec[ok],
                                 ind_vals[ok], ind_seeds)
            ctrl = control_label(label, controls)
            ref = _seed_block(block, ctrl) if not is_control(label) else None
            if ref is not None:
                seeds = [s for s in ind_seeds if s in ref[1]]
                if not seeds:
                    log.warning(f"{model}/{label}: no seed shared with {ctrl}; no vs_control effects")
                    continue
                a = ind_vals[:, [ind_seeds.index(s) for s in seeds]]
                r = ref[0][:, [ref[1].index(s) for s in seeds]]
                ok = np.isfinite(r).all(axis=1)
                yield PairedCell(model, label, VS_CONTROL, ctrl, suite, metric, list(items[ok]), r[ok], a[ok], seeds)


def compute_effects(results: pd.DataFrame, options: EffectOptions | None = None,
                    correction_family: dict[str, str] | None = None,
                    controls: dict[str, str] | None = None) -> pd.DataFrame:
    """The effects table: one row per (model, induced value, contrast, suite, metric) with a reference to compare.

    `vs_base` rows for every adapter (controls included), `vs_control` rows for every value adapter whose
    matched control is in the results. `controls` maps value name -> control name (curate/controls.json
    `matched`; default `control`). `correction_family` maps metric -> family name; Benjamini-Hochberg runs
    within each (contrast, family) (default: one family per contrast). Use it to keep secondary measures
    from diluting the primary ones.
    """
    options = options or EffectOptions()
    df, nonnumeric, unjudged = prepare_results(results)

    def counts(model, suite, metric, *labels):
        return {"n_unjudged": sum(unjudged.get((model, suite, x), 0) for x in labels),
                "n_nonnumeric": sum(nonnumeric.get((model, suite, metric, x), 0) for x in labels)}
    rows = []
    for c in paired_cells(df, controls):
        key = (c.model, c.label, c.suite, c.metric) + (() if c.contrast == VS_BASE else (VS_CONTROL,))
        cell = paired_effect(c.reference, c.induced, options=options, rng=cell_rng(options, *key))
        rows.append(dict(model=c.model, induced_value=c.label, contrast=c.contrast, reference=c.reference_label,
                         suite=c.suite, metric=c.metric, **cell,
                         **counts(c.model, c.suite, c.metric, c.label, c.reference_label)))
    table = pd.DataFrame(rows, columns=EFFECT_COLUMNS + ["seed_effects"])
    families = correction_family or {}
    table["bh_family"] = [families.get(m, "all") for m in table["metric"]]
    table = table.sort_values(["model", "induced_value", "contrast", "suite", "metric"], kind="stable")
    return finalize(table, options)


def _seed_block(block: pd.DataFrame, label: str) -> tuple[np.ndarray, list[str]] | None:
    """(items x seeds values, seed names) of one induced label in a cell, or None when it has no rows there."""
    cols = [c for c in block.columns if c[0] == label]
    if not cols:
        return None
    vals = block[cols].to_numpy(dtype=float)
    keep = np.isfinite(vals).any(axis=0)
    if not keep.any():
        return None
    return vals[:, keep], [c[1] for c, k in zip(cols, keep) if k]


def finalize(table: pd.DataFrame, options: EffectOptions) -> pd.DataFrame:
    """Add BH-adjusted p-values (within each contrast and family) and the headline `significant` flag."""
    table = table.copy()
    if "bh_family" not in table:
        table["bh_family"] = "all"
    if "contrast" not in table:
        table["contrast"] = VS_BASE
    table["p_adjusted"] = np.nan
    for _, idx in table.groupby(["contrast", "bh_family"]).groups.items():
        table.loc[idx, "p_adjusted"] = benjamini_hochberg(table.loc[idx, "p_value"].to_numpy())
    excludes_zero = (table["ci_low"] > 0) | (table["ci_high"] < 0)
    table["significant"] = ((table["p_adjusted"] < options.alpha) & excludes_zero).astype(bool)
    return table.reset_index(drop=True)


def control_survival(effects: pd.DataFrame) -> dict:
    """How many value-adapter effects significant against the base model stay significant, in the same
    direction, against the control (over the rows that have both contrasts; primary measures unless the
    table has no `bh_family` split)."""
    eff = effects[effects["bh_family"] != "secondary"] if "bh_family" in effects else effects
    eff = eff[~eff["induced_value"].map(is_control).astype(bool)]
    key = ["model", "induced_value", "suite", "metric"]
    base = eff[eff["contrast"] == VS_BASE].set_index(key)
    ctrl = eff[eff["contrast"] == VS_CONTROL].set_index(key)
    both = base.join(ctrl[["effect", "significant"]], rsuffix="_c", how="inner")
    sig = both[both["significant"].astype(bool)]
    kept = sig[sig["significant_c"].astype(bool) & (np.sign(sig["effect"]) == np.sign(sig["effect_c"]))]
    return {"significant_vs_base": int(len(sig)), "survive_control": int(len(kept)),
            "with_control": int(len(both)), "significant_vs_control": int(ctrl["significant"].astype(bool).sum())}
