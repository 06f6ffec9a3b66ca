"""Statistics against known cases: hand-computed tests, coverage, false-positive rate, FDR control."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from valind.errors import InputError
from valind.stats import (EffectOptions, benjamini_hochberg, compute_effects, mcnemar, mcnemar_from_counts,
                          paired_permutation_test, split_over_refusal)


def _frame(cells: dict[str, tuple[np.ndarray, np.ndarray]], metric="score", suite="s") -> pd.DataFrame:
    """Results rows for several models, each with a base and one induced value 'v' (seed 0)."""
    rows = []
    for model, (base, induced) in cells.items():
        for i, (b, x) in enumerate(zip(base, induced)):
            rows.append((model, "base", 0, suite, f"i{i}", metric, float(b)))
            rows.append((model, "v", 0, suite, f"i{i}", metric, float(x)))
    return pd.DataFrame(rows, columns=["model", "induced_value", "seed", "suite", "item_id", "metric", "value"])


# ------------------------------------------------------------------ hand-computed cases
def test_mcnemar_exact_binomial_by_hand():
    # 1 item went 0->1, 8 went 1->0: two-sided exact p = 2 * P(X <= 1), X ~ Bin(9, 1/2) = 2 * 10/512
    base = np.array([0] + [1] * 8 + [1] * 5 + [0] * 6)
    induced = np.array([1] + [0] * 8 + [1] * 5 + [0] * 6)
    p, b, c = mcnemar(base, induced)
    assert (b, c) == (1, 8)
    assert p == pytest.approx(20 / 512, abs=1e-12)


def test_mcnemar_chi_square_with_continuity_correction_by_hand():
    # b=10, c=30: statistic (|10-30|-1)^2/40 = 9.025; chi2(1) tail = erfc(sqrt(x/2))
    assert mcnemar_from_counts(10, 30) == pytest.approx(math.erfc(math.sqrt(9.025 / 2)), rel=1e-9)
    assert mcnemar_from_counts(0, 0) == 1.0


def test_permutation_test_exact_enumeration_by_hand():
    rng = np.random.default_rng(0)
    # five positive differences: only all-plus and all-minus reach |sum| = 5 -> 2/32
    assert paired_permutation_test(np.ones(5), rng=rng) == pytest.approx(2 / 32)
    # zeros carry no sign information and are dropped: [1, 2, 3] -> 2 of 8 patterns reach |sum| 6
    assert paired_permutation_test(np.array([0, 1, 2, 3, 0.0]), rng=rng) == pytest.approx(2 / 8)
    assert paired_permutation_test(np.zeros(4), rng=rng) == 1.0


def test_permutation_test_monte_carlo_matches_exact_and_resolves_the_far_tail():
    rng = np.random.default_rng(3)
    # 40 differences of +1 and 20 of -1: the sign-flip p equals the two-sided binomial test
    d = np.array([1.0] * 40 + [-1.0] * 20)
    exact = sps.binomtest(40, 60, 0.5).pvalue
    assert paired_permutation_test(d, n_perm=20000, rng=rng) == pytest.approx(exact, rel=0.15)
    # far beyond 1/(n_perm+1): the normal tail keeps strong effects distinguishable for BH
    strong = np.array([1.0] * 58 + [-1.0] * 2)
    assert paired_permutation_test(strong, n_perm=2000, rng=rng) < 1e-6


def test_benjamini_hochberg_by_hand_and_against_scipy():
    p = np.array([0.01, 0.04, 0.03, 0.2])
    # sorted 0.01, 0.03, 0.04, 0.2 -> p*m/rank = 0.04, 0.06, 0.0533, 0.2 -> running min from the top
    np.testing.assert_allclose(benjamini_hochberg(p), [0.04, 0.16 / 3, 0.16 / 3, 0.2])
    rand = np.random.default_rng(1).uniform(size=50)
    np.testing.assert_allclose(benjamini_hochberg(rand), sps.false_discovery_control(rand))
    with_nan = benjamini_hochberg(np.array([0.01, np.nan, 0.02]))
    assert np.isnan(with_nan[1]) and with_nan[0] == pytest.approx(0.02)


# ------------------------------------------------------------------ simulation: coverage, power, size
def test_known_effect_is_found_and_interval_covers_truth_at_nominal_rate():
    rng = np.random.default_rng(2026)
    truth, n_items, n_draws = 0.3, 80, 200
    cells = {}
    for k in range(n_draws):
        base = rng.normal(0, 1, n_items)
        cells[f"m{k:03d}"] = (base, base + truth + rng.normal(0, 1, n_items))
    eff = compute_effects(_frame(cells), EffectOptions(n_boot=1000, n_perm=2000, seed=7))
    assert len(eff) == n_draws and (eff["test"] == "permutation").all()
    coverage = ((eff["ci_low"] <= truth) & (truth <= eff["ci_high"])).mean()
    assert 0.90 <= coverage <= 0.98, coverage
    assert eff["effect"].mean() == pytest.approx(truth, abs=0.03)
    # power of a paired test for d=0.3 at n=80 is about 0.75-0.8; BH over the (all-true) grid keeps most
    assert eff["significant"].mean() > 0.6


def test_binary_effect_uses_mcnemar_and_interval_covers_truth():
    rng = np.random.default_rng(11)
    n_items, n_draws = 150, 200
    p_base, p_induced = 0.3, 0.45
    cells = {}
    for k in range(n_draws):
        u = rng.uniform(size=n_items)  # a shared latent per item makes the pair correlated
        cells[f"m{k:03d}"] = ((u < p_base).astype(float), (u < p_induced).astype(float)
                              if k % 2 else (rng.uniform(size=n_items) < p_induced).astype(float))
    eff = compute_effects(_frame(cells, metric="refused"), EffectOptions(n_boot=1000, seed=3))
    assert (eff["test"] == "mcnemar").all()
    truth = p_induced - p_base
    coverage = ((eff["ci_low"] <= truth) & (truth <= eff["ci_high"])).mean()
    assert 0.90 <= coverage <= 0.98, coverage
    assert eff["significant"].mean() > 0.6


def test_no_effect_rejects_about_five_percent_uncorrected_and_almost_never_after_bh():
    rng = np.random.default_rng(5)
    n_items, n_draws = 50, 400
    cells = {}
    for k in range(n_draws):
        base = rng.normal(0, 1, n_items)
        cells[f"m{k:03d}"] = (base, base + rng.normal(0, 1, n_items))
    eff = compute_effects(_frame(cells), EffectOptions(n_boot=500, n_perm=2000, seed=1))
    rejection = (eff["p_value"] < 0.05).mean()
    # binomial Monte-Carlo error at 400 draws is about 0.011; allow roughly +-3 SE
    assert 0.02 <= rejection <= 0.085, rejection
    assert eff["significant"].mean() <= 0.01


def test_no_effect_binary_mcnemar_does_not_exceed_nominal_size():
    rng = np.random.default_rng(8)
    cells = {f"m{k:03d}": ((rng.uniform(size=100) < 0.4).astype(float), (rng.uniform(size=100) < 0.4).astype(float))
             for k in range(400)}
    eff = compute_effects(_frame(cells, metric="refused"), EffectOptions(n_boot=200, seed=2))
    rejection = (eff["p_value"] < 0.05).mean()
    assert 0.01 <= rejection <= 0.085, rejection  # exact/continuity-corrected McNemar is conservative


def test_benjamini_hochberg_controls_false_discovery_rate_on_simulated_grids():
    rng = np.random.default_rng(9)
    n_cells, n_true, reps, q = 200, 40, 300, 0.05
    fdp_bh, fdp_raw = [], []
    for _ in range(reps):
        z = rng.normal(size=n_cells)
        z[:n_true] += 3.0  # true effects in the first 40 cells
        p = 2 * sps.norm.sf(np.abs(z))
        for adjusted, store in ((benjamini_hochberg(p), fdp_bh), (p, fdp_raw)):
            found = adjusted < q
            store.append(found[n_true:].sum() / max(found.sum(), 1))
    # BH guarantees FDR <= q * (null share) = 0.04; allow Monte-Carlo error
    assert np.mean(fdp_bh) <= 0.055, np.mean(fdp_bh)
    assert np.mean(fdp_raw) > 0.1  # without correction the same grid has many false discoveries


def test_grid_through_compute_effects_finds_true_cells_and_controls_fdr():
    rng = np.random.default_rng(12)
    fdp, power = [], []
    for _ in range(15):  # 15 grids of 60 cells, 15 of them with a true effect
        cells, truth = {}, {}
        for k in range(60):
            base = rng.normal(0, 1, 100)
            shift = 0.5 if k < 15 else 0.0
            cells[f"m{k:02d}"] = (base, base + shift + rng.normal(0, 1, 100))
            truth[f"m{k:02d}"] = shift > 0
        eff = compute_effects(_frame(cells), EffectOptions(n_boot=300, n_perm=2000)).set_index("model")
        is_true = eff.index.map(truth).astype(bool)
        found = eff["significant"].to_numpy()
        fdp.append(found[~is_true].sum() / max(found.sum(), 1))
        power.append(found[is_true].mean())
    assert np.mean(power) >= 0.8
    assert np.mean(fdp) <= 0.08, np.mean(fdp)  # BH bound: 0.05 * 45/60 = 0.0375, plus Monte-Carlo error


def test_correction_families_are_adjusted_separately():
    rng = np.random.default_rng(4)
    cells = {f"m{k}": (b := rng.normal(0, 1, 60), b + (0.6 if k < 3 else 0.0) + rng.normal(0, 1, 60))
             for k in range(10)}
    df = _frame(cells)
    # the same cells measured again under a secondary metric, with no effect anywhere
    noise = df.copy()
    noise["metric"] = "partial_refusal"
    noise.loc[noise["induced_value"] == "v", "value"] = rng.normal(0, 1, (noise["induced_value"] == "v").sum())
    both = pd.concat([df, noise])
    eff = compute_effects(both, EffectOptions(n_boot=200, n_perm=2000),
                          correction_family={"score": "primary", "partial_refusal": "secondary"})
    primary = eff[eff["metric"] == "score"]
    np.testing.assert_allclose(primary["p_adjusted"], benjamini_hochberg(primary["p_value"].to_numpy()))
    assert set(eff["bh_family"]) == {"primary", "secondary"}
    pooled = benjamini_hochberg(eff["p_value"].to_numpy())[eff["metric"].to_numpy() == "score"]
    strong = primary["model"].isin(["m0", "m1", "m2"]).to_numpy()  # the true effects
    assert (primary["p_adjusted"].to_numpy()[strong] < pooled[strong]).all()  # secondary nulls do not dilute them


# ------------------------------------------------------------------ seeds, pairing, inputs
def _seeded_rows(per_seed_shift: dict[int, float], n_items=120, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 1, n_items)
    rows = [("m", "base", 0, "s", f"i{i}", "score", b) for i, b in enumerate(base)]
    for s, shift in per_seed_shift.items():
        rows += [("m", "v", s, "s", f"i{i}", "score", b + shift + rng.normal(0, 0.3))
                 for i, b in enumerate(base)]
    return pd.DataFrame(rows, columns=["model", "induced_value", "seed", "suite", "item_id", "metric", "value"])


def test_seed_spread_is_reported_and_a_contradicting_seed_blocks_the_headline():
    agree = compute_effects(_seeded_rows({0: 0.4, 1: 0.5, 2: 0.6})).iloc[0]
    assert agree["n_seeds"] == 3 and agree["significant"] and agree["seeds_agree"]
    assert agree["test"] == "seeds x items"
    assert agree["seed_sd"] == pytest.approx(np.std(agree["seed_effects"], ddof=1))
    assert agree["seed_sd"] == pytest.approx(0.1, abs=0.05)

    rows = _seeded_rows({0: 0.9, 1: 0.9, 2: -0.3})
    split = compute_effects(rows).iloc[0]
    # averaging the seeds per item and testing over items (the unit being the item) would call it
    item_means = rows[rows["induced_value"] == "v"].groupby("item_id")["value"].mean()
    base = rows[rows["induced_value"] == "base"].set_index("item_id")["value"]
    naive = paired_permutation_test((item_means - base.reindex(item_means.index)).to_numpy(),
                                    rng=np.random.default_rng(0))
    assert naive < 1e-6
    # with the seed in the test's unit, one contradicting seed of three leaves it undecided
    assert split["p_value"] > 0.05 and split["ci_low"] < 0 < split["ci_high"]
    assert not split["seeds_agree"] and not split["significant"]


# ------------------------------------------------------------------ seeds as replication: simulation
def _simulated_seeds(rng, n_cells, n_items, n_seeds, *, delta, sd_seed, sd_item=0.5, sd_noise=1.0, binary=False):
    """Results rows: per cell a base model and an adapter trained with n_seeds seeds on the same items.

    d_is = delta + a_i + u_s + e_is: item effects a, seed effects u (the adapter-to-adapter variation),
    noise e. Binary: base and adapter outcomes threshold a latent shared on the item at 0, so with
    delta = 0 both rates are 1/2 on average and only the seeds move them.
    """
    rows = []
    for k in range(n_cells):
        a, u = rng.normal(0, sd_item, n_items), rng.normal(0, sd_seed, n_seeds)
        latent = rng.normal(0, 1, n_items)
        base = (latent > 0).astype(float) if binary else latent
        for i in range(n_items):
            rows.append((f"m{k:03d}", "base", 0, "s", f"i{i}", "score", base[i]))
            for s in range(n_seeds):
                shift = delta + a[i] + u[s] + rng.normal(0, sd_noise)
                val = float(0.6 * latent[i] + shift > 0) if binary else latent[i] + shift
                rows.append((f"m{k:03d}", "v", s, "s", f"i{i}", "score", val))
    return pd.DataFrame(rows, columns=["model", "induced_value", "seed", "suite", "item_id", "metric", "value"])


def _binomial_upper(p: float, n: int, z: float = 3.0) -> float:
    return p + z * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("binary", [False, True])
def test_seeds_items_test_keeps_false_positives_at_nominal_with_seed_variance(binary):
    """No true effect, adapters that differ from seed to seed: the item-level test rejects far too often,
    the test with seeds in its unit about as often as it should."""
    rng = np.random.default_rng(21 + binary)
    n_cells = 300
    df = _simulated_seeds(rng, n_cells, 40, 3, delta=0.0, sd_seed=0.5, binary=binary)
    eff = compute_effects(df, EffectOptions(n_boot=200))
    assert len(eff) == n_cells and (eff["test"] == "seeds x items").all()
    rejection = (eff["p_value"] < 0.05).mean()
    assert rejection <= _binomial_upper(0.05, n_cells), rejection
    # the same data with the seed left out of the unit (seeds averaged per item, tested over items)
    naive = []
    for _, cell in df.groupby("model"):
        ind = cell[cell["induced_value"] == "v"].groupby("item_id")["value"].mean()
        base = cell[cell["induced_value"] == "base"].set_index("item_id")["value"].reindex(ind.index)
        naive.append(paired_permutation_test((ind - base).to_numpy(), n_perm=1000, rng=rng) < 0.05)
    assert np.mean(naive) > 3 * 0.05, np.mean(naive)
    # every interval is consistent with its test: p < 0.05 exactly when the 95% interval excludes 0
    excludes = (eff["ci_low"] > 0) | (eff["ci_high"] < 0)
    assert (excludes == (eff["p_value"] < 0.05)).all()


def test_seeds_items_interval_covers_the_true_effect_with_seed_variance():
    rng = np.random.default_rng(33)
    n_cells, truth = 300, 0.3
    eff = compute_effects(_simulated_seeds(rng, n_cells, 40, 3, delta=truth, sd_seed=0.4), EffectOptions(n_boot=200))
    coverage = ((eff["ci_low"] <= truth) & (truth <= eff["ci_high"])).mean()
    assert coverage >= 1 - _binomial_upper(0.05, n_cells), coverage  # nominal 0.95, less 3 binomial SE
    assert eff["effect"].mean() == pytest.approx(truth, abs=0.05)


def test_effect_pairs_only_items_present_for_both_models():
    df = _frame({"m": (np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 1.0, 1.0, 1.0]))})
    df = df[~((df["induced_value"] == "base") & (df["item_id"] == "i0"))]  # base lacks item i0
    row = compute_effects(df).iloc[0]
    assert row["n_items"] == 3
    assert row["reference_mean"] == pytest.approx(2 / 3) and row["effect"] == pytest.approx(1 / 3)


def test_xstest_safe_prompts_become_over_refusal():
    df = pd.DataFrame({"model": "m", "induced_value": "base", "seed": 0, "suite": "xstest",
                       "item_id": ["xstest:safe_targets:1", "xstest:contrast_homonyms:2", "unsafe-3", "safe-4"],
                       "metric": "refused", "value": 1.0})
    out = split_over_refusal(df)
    assert out["metric"].tolist() == ["over_refused", "refused", "refused", "over_refused"]


def test_non_numeric_rows_are_counted_per_cell_and_named_in_a_warning(caplog):
    base, value = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1], [1, 1, 1, 1, 1, 1, 1, 1, 0, 1]
    df = _arms({"v": {0: value}}, base)
    df = pd.concat([df, df.assign(metric="other")], ignore_index=True).astype({"value": object})
    v_rows = df.index[(df["induced_value"] == "v") & (df["metric"] == "score")]
    df.loc[v_rows[:2], "value"] = "n/a"  # items i0, i1 of the adapter
    df.loc[df.index[(df["induced_value"] == "base") & (df["metric"] == "score")][5], "value"] = None  # base i5
    with caplog.at_level("WARNING", logger="valind"):
        eff = compute_effects(df, EffectOptions(n_boot=100)).set_index("metric")
    assert "3 row(s) without a numeric value" in caplog.text and "score 3" in caplog.text
    assert "e.g. row 5: None" in caplog.text and "other" not in caplog.text.split("(n_nonnumeric)")[1]
    assert eff.loc["score", "n_nonnumeric"] == 3 and eff.loc["other", "n_nonnumeric"] == 0
    assert eff.loc["score", "n_items"] == 7  # i0, i1, i5 have no pair
    keep = [i for i in range(10) if i not in (0, 1, 5)]
    assert eff.loc["score", "effect"] == pytest.approx(np.mean([value[i] - base[i] for i in keep]))
    assert eff.loc["other", "n_items"] == 10


def test_unjudged_responses_are_counted_and_left_out_not_read_as_compliance():
    base, value = [1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    df = _arms({"v": {0: value}}, base, metric="refused")
    # the judge could not judge the adapter's i2, i3 and the base model's i4: no `refused` row, a judge_unparsed row
    unjudged = [("v", "i2"), ("v", "i3"), ("base", "i4")]
    drop = [(df["induced_value"] == lab) & (df["item_id"] == it) for lab, it in unjudged]
    df = df[~np.logical_or.reduce(drop)]
    df = pd.concat([df, pd.DataFrame([("m", lab, 0, "s", it, "judge_unparsed", 1.0) for lab, it in unjudged],
                                     columns=df.columns)], ignore_index=True)
    eff = compute_effects(df, EffectOptions(n_boot=100))
    assert eff["metric"].tolist() == ["refused"]  # judge_unparsed is a count, not an effect
    row = eff.iloc[0]
    assert row["n_unjudged"] == 3 and row["n_items"] == 9
    keep = [i for i in range(12) if i not in (2, 3, 4)]
    assert row["effect"] == pytest.approx(np.mean([value[i] - base[i] for i in keep]))
    assert row["reference_mean"] == pytest.approx(np.mean([base[i] for i in keep]))


def test_missing_column_names_the_field():
    with pytest.raises(InputError, match="item_id"):
        compute_effects(pd.DataFrame({"model": ["m"], "value": [1.0]}))


# ------------------------------------------------------------------ the control contrast
def _arms(values: dict[str, dict[int, list[float]]], base: list[float], metric="score") -> pd.DataFrame:
    rows = [("m", "base", 0, "s", f"i{i}", metric, b) for i, b in enumerate(base)]
    for label, seeds in values.items():
        for seed, xs in seeds.items():
            rows += [("m", label, seed, "s", f"i{i}", metric, x) for i, x in enumerate(xs)]
    return pd.DataFrame(rows, columns=["model", "induced_value", "seed", "suite", "item_id", "metric", "value"])


def test_contrast_rows_against_base_and_control_on_a_constructed_table():
    base = [0, 0, 0, 0, 1, 1, 1, 1, 0, 0]
    control = [1, 1, 0, 0, 1, 1, 1, 1, 0, 0]  # generic DPO: +2 of 10 over base
    value = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0]    # the value adapter: +5 over base, +3 over the control
    eff = compute_effects(_arms({"empathy": {0: value}, "control": {0: control}}, base, metric="refused"),
                          EffectOptions(n_boot=300))
    got = {(r.induced_value, r.contrast): r for r in eff.itertuples()}
    assert set(got) == {("empathy", "vs_base"), ("empathy", "vs_control"), ("control", "vs_base")}
    assert got[("empathy", "vs_base")].effect == pytest.approx(0.5)
    assert got[("empathy", "vs_base")].reference == "base" and got[("empathy", "vs_base")].reference_mean == 0.4
    assert got[("control", "vs_base")].effect == pytest.approx(0.2)
    vc = got[("empathy", "vs_control")]
    assert vc.reference == "control" and vc.effect == pytest.approx(0.3) and vc.reference_mean == pytest.approx(0.6)
    # McNemar on the value-vs-control discordant pairs: 3 went 0 -> 1, none 1 -> 0
    assert vc.test == "mcnemar" and vc.p_value == pytest.approx(mcnemar_from_counts(3, 0))
    # Benjamini-Hochberg runs within each contrast: the vs_control family holds one test
    assert vc.p_adjusted == pytest.approx(vc.p_value)


def test_control_pairs_seed_with_seed_and_sweep_point_with_sweep_point():
    rng = np.random.default_rng(0)
    base = rng.normal(0, 1, 30).tolist()
    arms = {}
    for point, shift in (("beta=0.1", 0.0), ("beta=0.5", 1.0)):
        for seed in (0, 1):
            arms.setdefault(f"control@{point}", {})[seed] = [b + shift + 0.1 * seed for b in base]
            arms.setdefault(f"empathy@{point}", {})[seed] = [b + shift + 0.1 * seed + 0.2 for b in base]
    eff = compute_effects(_arms(arms, base), EffectOptions(n_boot=200))
    vc = eff[eff["contrast"] == "vs_control"].set_index("induced_value")
    assert dict(vc["reference"]) == {"empathy@beta=0.1": "control@beta=0.1", "empathy@beta=0.5": "control@beta=0.5"}
    # seed k minus control seed k: exactly +0.2 everywhere, so no seed or item spread
    assert np.allclose(vc["effect"], 0.2) and (vc["n_seeds"] == 2).all() and np.allclose(vc["seed_sd"], 0.0)
    # no spread on a scale without bounds: no honest interval ([0.2, 0.2] would claim certainty), so none;
    # each seed's own exact sign-flip test still says the shift is real
    assert vc["ci_low"].isna().all() and vc["ci_high"].isna().all() and (vc["interval"] == "per-seed none, widest").all()
    assert (vc["p_value"] < 1e-6).all() and not vc["significant"].any()


def test_controls_matched_by_size_and_missing_control_gives_no_control_rows():
    base = [0.0, 1.0, 0.5, 0.2]
    arms = {"empathy": {0: [1.0, 1.0, 1.0, 1.0]}, "humor": {0: [0.0, 0.0, 0.0, 0.0]},
            "control-n54": {0: [0.5, 0.5, 0.5, 0.5]}}
    eff = compute_effects(_arms(arms, base), EffectOptions(n_boot=100),
                          controls={"empathy": "control-n54", "humor": "control-n63"})
    vc = eff[eff["contrast"] == "vs_control"]
    assert list(vc["induced_value"]) == ["empathy"] and vc["effect"].iloc[0] == pytest.approx(0.5)
    assert set(eff.loc[eff["contrast"] == "vs_base", "induced_value"]) == {"empathy", "humor", "control-n54"}


@pytest.mark.parametrize("n_items,n_seeds", [(12, 2), (6, 2), (10, 3), (40, 2)])
def test_seeds_items_p_value_matches_its_interval_on_small_discrete_layouts(n_items, n_seeds):
    """Small item counts with 0/1 outcomes (AnthroBench, XSTest at CPU budgets): seeds that agree
    exactly, or differ, must give a p-value consistent with the interval, never an underflow to ~0.
    (A run of 12 AnthroBench items x 2 seeds once reported p = 1e-300 for the interval [-0.92, +0.76]:
    scipy's t.isf returns -inf for tiny tail areas.)"""
    from valind.stats.paired import P_VALUE_FLOOR, seeds_items_test

    rng = np.random.default_rng(n_items * 10 + n_seeds)
    checked = 0
    for _ in range(300):
        d = rng.choice([-1.0, 0.0, 0.0, 1.0], size=(n_items, n_seeds))
        if rng.random() < 0.5:
            d[:, 1:] = d[:, :1]  # seeds agree exactly: no seed variance
        res = seeds_items_test(d)
        if np.isnan(res["p_value"]) or res["ci_low"] == res["ci_high"]:
            continue
        checked += 1
        excludes = res["ci_low"] > 0 or res["ci_high"] < 0
        assert excludes == (res["p_value"] < 0.05), (d.tolist(), res)
        assert P_VALUE_FLOOR <= res["p_value"] <= 1.0
        # with item-level differences in {-1, 0, 1} and at most 40 items, no p-value is astronomically small
        assert res["p_value"] > 1e-12 or abs(res["effect"]) > 0.5, res
    assert checked > 100
    # seeds that agree exactly, 4 of 12 items moved: the item-level t test on 11 df, p ~ 0.04
    d = np.zeros((12, 2))
    d[:4] = 1.0
    res = seeds_items_test(d)
    assert res["ci_low"] > 0 and res["p_value"] == pytest.approx(
        2 * sps.t.sf(abs(d.mean()) / (np.std(d.mean(axis=1), ddof=1) / np.sqrt(12)), 11), rel=1e-6)


# ------------------------------------------------------------------ honest intervals at small n
def test_two_items_all_unchanged_give_a_wide_interval_not_zero_width():
    """2 QA items answered the same by base and adapter: the data cannot say the effect is 0 +- 0."""
    for seeds in ({0: [1.0, 0.0]}, {0: [1.0, 0.0], 1: [1.0, 0.0]}):
        row = compute_effects(_arms({"v": seeds}, [1.0, 0.0], metric="acc"), EffectOptions(n_boot=100)).iloc[0]
        assert row["effect"] == 0.0 and row["p_value"] == 1.0
        assert row["ci_low"] < -0.5 and row["ci_high"] > 0.5, (row["ci_low"], row["ci_high"])
        assert "newcombe" in row["interval"]


def test_newcombe_interval_covers_paired_proportions_at_small_n():
    from valind.stats.paired import newcombe_paired_ci

    rng = np.random.default_rng(41)
    coverage, widths = [], []
    for n in (6, 12, 25):
        for p_base, p_ind, corr in ((0.5, 0.5, 0.5), (0.2, 0.4, 0.3), (0.9, 0.9, 0.8), (0.1, 0.3, 0.0)):
            truth = p_ind - p_base
            hits = 0
            for _ in range(400):
                u = rng.uniform(size=n)
                shared = rng.uniform(size=n) < corr  # a share of items carries one latent for both models
                v = np.where(shared, u, rng.uniform(size=n))
                lo, hi = newcombe_paired_ci((u < p_base).astype(int), (v < p_ind).astype(int))
                hits += lo <= truth <= hi
                widths.append(hi - lo)
            coverage.append(hits / 400)
    # Newcombe's method 10 is near nominal on average and rarely far below it (binomial SE at 400 draws: 0.011)
    assert np.mean(coverage) >= 0.93 and min(coverage) >= 0.88, coverage
    assert min(widths) > 0


def test_continuous_small_n_uses_t_and_covers_and_no_spread_is_never_zero_width():
    from valind.stats.paired import mean_ci

    rng = np.random.default_rng(5)
    hits = 0
    for _ in range(1000):
        lo, hi, how = mean_ci(rng.normal(0.2, 1.0, 8), rng=rng)
        hits += lo <= 0.2 <= hi
    assert how == "t" and 0.93 <= hits / 1000 <= 0.97, hits
    lo, hi, how = mean_ci(np.full(5, 0.3), rng=rng, bounded=True)  # 0-1 scores, every item +0.3
    assert how == "hoeffding" and lo < 0.3 < hi and hi - lo > 0.5
    lo, hi, how = mean_ci(np.full(5, 3.0), rng=rng)  # no spread and no known scale: no interval at all
    assert how == "none" and np.isnan(lo) and np.isnan(hi)


# ------------------------------------------------------------------ seeds as replication: the chosen method
def _seed_sim(rng, reps, n_items, n_seeds, delta, sd_seed, sd_item=0.5, conservative=True):
    """Share of replicates rejected at 0.05 by (the item-level t test, components, conservative)."""
    from valind.stats.paired import seeds_items_test

    out = np.zeros((reps, 3), dtype=bool)
    t_crit = sps.t.isf(0.025, n_items - 1)
    for k in range(reps):
        d = (delta + rng.normal(0, sd_item, (n_items, 1)) + rng.normal(0, sd_seed, (1, n_seeds))
             + rng.normal(0, 1, (n_items, n_seeds)))
        m = d.mean(axis=1)
        out[k, 0] = abs(m.mean()) > t_crit * m.std(ddof=1) / np.sqrt(n_items)
        out[k, 1] = seeds_items_test(d)["p_value"] < 0.05
        out[k, 2] = conservative and seeds_items_test(d, method="conservative")["p_value"] < 0.05
    return out.mean(axis=0)


def test_seed_method_false_positive_rate_and_power_on_a_small_simulation():
    """The bench's question in miniature (bench/RESULTS.md has the full table): 40 items, item sd 0.5, noise 1,
    300 replicates per condition (binomial SE 0.013 at p = 0.05).

    False positives with seeds that differ (seed sd 0.5, where the item-level test rejects far too often):
    3 seeds near 0.05 (0.071 in 20,000 replicates; asserted <= 0.10); 2 seeds higher (0.125 in 20,000;
    asserted <= 0.17): no test holds 0.05 there and keeps the item-level power (the bench's bound).
    Power with seeds that do not differ: 2 seeds at least twice the conservative rule's and within 0.3 of
    the item-level test; 5 seeds within 0.06 of it."""
    rng = np.random.default_rng(2027)
    reps = 300
    for n_seeds, limit in ((3, 0.10), (2, 0.17)):
        item, ours, _ = _seed_sim(rng, reps, 40, n_seeds, 0.0, 0.5, conservative=False)
        assert ours <= limit and item > 0.3, (n_seeds, item, ours)
    item, ours, conservative = _seed_sim(rng, reps, 40, 2, 0.45, 0.0)
    assert ours >= 2 * conservative and ours >= item - 0.3, (item, ours, conservative)
    item, ours, _ = _seed_sim(rng, reps, 40, 5, 0.45, 0.0, conservative=False)
    assert ours >= item - 0.06, (item, ours)
