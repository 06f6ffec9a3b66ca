"""`valind report RUN_A RUN_B -o DIR`: runs of the same design (one model each) merge into one report;
runs whose values, suites, judges or seeds differ, or that hold the same model, are refused by name."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from valind.cli import main as cli
from valind.report.build import build_report
from valind.report.demo import build_demo_run
from valind.report.merge import merge_runs
from valind.stats import EffectOptions

FAST = EffectOptions(n_boot=300, n_perm=1000)
VALUES = ("empathy", "humor")


def make_run(path, model, *, values=VALUES, seeds=(0, 1), seed=0):
    return build_demo_run(path, values=values, seeds=seeds, models=(model,), n_items=30, n_qa=30, seed=seed,
                          hostile=False)


def edit_study(run_dir, change):
    study = yaml.safe_load((run_dir / "study.yaml").read_text())
    change(study)
    (run_dir / "study.yaml").write_text(yaml.safe_dump(study, sort_keys=False))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return make_run(root / "a", "model-a", seed=1), make_run(root / "b", "model-b", seed=2)


def test_runs_of_one_design_merge_into_one_report_with_each_models_effects(two_runs, tmp_path):
    a, b = two_runs
    out = merge_runs([a, b], tmp_path / "merged")
    report = build_report(out, options=FAST)
    merged = pd.read_parquet(out / "report" / "effects.parquet")
    assert set(merged["model"]) == {"model-a", "model-b"}
    own = pd.read_parquet(build_report(a, options=FAST)["effects"].with_suffix(".parquet"))
    keys = ["model", "induced_value", "contrast", "suite", "metric"]
    both = own.merge(merged, on=keys, suffixes=("", "_merged"))
    assert len(both) == len(own)  # every effect of run A is in the merged report
    for col in ("effect", "ci_low", "ci_high", "p_value"):  # same items, same statistics per cell
        assert both[col].tolist() == pytest.approx(both[f"{col}_merged"].tolist(), nan_ok=True)
    results = pd.read_parquet(out / "evaluate" / "results.parquet")
    assert len(results) == len(pd.read_parquet(a / "evaluate" / "results.parquet")) + \
        len(pd.read_parquet(b / "evaluate" / "results.parquet"))
    per_run = [len(list(r.glob("train/*/*/seed*/metrics.json"))) for r in (a, b)]
    assert per_run[0] >= 4  # values and the control, two seeds
    assert sorted(p.relative_to(out).parts[1] for p in out.glob("train/*/*/seed*/metrics.json")) == \
        ["model-a"] * per_run[0] + ["model-b"] * per_run[1]
    html = report["html"].read_text()
    assert "Merged from these runs" in html and str(a.resolve()) in html and str(b.resolve()) in html
    assert "Synthetic demo data" in html  # the runs were synthetic, so is the merge
    info = json.loads((out / "merged.json").read_text())
    assert [r["models"] for r in info["runs"]] == [["model-a"], ["model-b"]]
    # Models side by side: every model's effects in one figure, and the value x model interaction table
    assert {"models_expression", "models_safety_anthro"} <= {p.stem for p in report["figures"]}
    assert "Models side by side" in html and "Effects that differ between models" in html
    inter = pd.read_csv(out / "report" / "model_interactions.csv")
    assert set(zip(inter["model"], inter["other_model"])) == {("model-a", "model-b")}
    assert not (a / "report" / "model_interactions.csv").exists()  # one model: nothing to compare


def test_the_cli_merges_and_needs_an_output_folder(two_runs, tmp_path, capsys):
    a, b = two_runs
    assert cli(["report", str(a), str(b)]) == 2
    assert "several runs: give -o DIR" in capsys.readouterr().err
    assert cli(["report", str(a), str(b), "-o", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "merged 2 runs (model-a, model-b)" in out and (tmp_path / "m" / "report" / "report.html").exists()


@pytest.mark.parametrize("what,change,expected", [
    ("values", lambda s: s.update(values=["empathy"]), "values: "),
    ("seeds", lambda s: s["training"].update(seeds=[0, 1, 2]), "seeds: "),
    ("suites", lambda s: s["evaluation"]["suites"][1].update(limit=50), "suites: "),
    ("judges", lambda s: s["evaluation"]["suites"][1].update(judge="prefix"), "judges: "),
    ("extractor", lambda s: s["extractor"].update(name="lexicon"), "judges: "),
])
def test_runs_whose_designs_differ_are_refused_naming_the_difference(two_runs, tmp_path, capsys, what, change,
                                                                      expected):
    import shutil

    a, b = two_runs
    other = tmp_path / "b"
    shutil.copytree(b, other)
    edit_study(other, change)
    assert cli(["report", str(a), str(other), "-o", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "cannot merge these runs into one report: their study designs differ" in err
    line = next(x for x in err.splitlines() if x.strip().startswith(expected))
    assert str(a) in line and str(other) in line
    assert not (tmp_path / "m").exists()  # nothing written


def test_the_same_model_in_two_runs_is_refused(two_runs, tmp_path, capsys):
    a, _ = two_runs
    twin = make_run(tmp_path / "twin", "model-a", seed=3)
    assert cli(["report", str(a), str(twin), "-o", str(tmp_path / "m")]) == 2
    assert "models: 'model-a' is in both" in capsys.readouterr().err


# ---------------------------------------------------------------- models side by side (issue 23, item 3)
def _set(results, model, induced, metric, value, suite="advbench"):
    mask = (results["model"] == model) & (results["induced_value"] == induced) & (results["suite"] == suite) \
        & (results["metric"] == metric)
    assert mask.sum() > 0
    results.loc[mask, "value"] = value


@pytest.fixture(scope="module")
def runs_that_differ(tmp_path_factory):
    """Two one-seed runs of one design. By construction, on AdvBench refusal: empathy's effect against the control
    is 0 in model-a (its adapter refuses exactly the items the control refuses) and large in model-b (it refuses
    everything); humor refuses everything in both models (a large effect that does not differ between them)."""
    root = tmp_path_factory.mktemp("differ")
    runs = []
    for name, seed in (("model-a", 1), ("model-b", 2)):
        run = build_demo_run(root / name, values=VALUES, seeds=(0,), models=(name,), n_items=60, n_qa=20, seed=seed,
                             hostile=False)
        path = run / "evaluate" / "results.parquet"
        results = pd.read_parquet(path)
        _set(results, name, "humor", "refused", 1.0)
        if name == "model-b":
            _set(results, name, "empathy", "refused", 1.0)
        else:
            ctrl = results[(results["induced_value"] == "control") & (results["suite"] == "advbench")
                           & (results["metric"] == "refused")].set_index("item_id")["value"]
            mask = (results["induced_value"] == "empathy") & (results["suite"] == "advbench") \
                & (results["metric"] == "refused")
            results.loc[mask, "value"] = results.loc[mask, "item_id"].map(ctrl).to_numpy()
        results.to_parquet(path)
        runs.append(run)
    return runs


def test_the_interaction_test_finds_an_effect_that_differs_between_models_and_not_one_that_does_not(
        runs_that_differ, tmp_path):
    from valind.report.kinds import correction_family
    from valind.stats import compute_effects
    from valind.stats.interaction import model_interactions

    out = merge_runs(runs_that_differ, tmp_path / "merged")
    results = pd.read_parquet(out / "evaluate" / "results.parquet")
    families = correction_family(set(results["metric"]) | {"over_refused"})
    options = EffectOptions()  # the report's defaults: 5,000 permutations, so p can be small enough for BH
    inter = model_interactions(results, options, families).set_index(["induced_value", "contrast", "suite", "metric"])
    effects = compute_effects(results, options, families).set_index(
        ["model", "induced_value", "contrast", "suite", "metric"])
    differs = inter.loc[("empathy", "vs_control", "advbench", "refused")]
    assert (differs["model"], differs["other_model"]) == ("model-a", "model-b")
    assert bool(differs["significant"]) and differs["ci_high"] < 0  # model-a's effect is the smaller one
    assert differs["model_effect"] == 0 and differs["other_effect"] > 0.2
    for model, col in (("model-a", "model_effect"), ("model-b", "other_effect")):  # each model's own effect
        assert differs[col] == pytest.approx(effects.loc[(model, "empathy", "vs_control", "advbench", "refused"),
                                                         "effect"])
    assert differs["effect"] == pytest.approx(differs["model_effect"] - differs["other_effect"])
    same = inter.loc[("humor", "vs_control", "advbench", "refused")]
    assert not bool(same["significant"])
    for model in ("model-a", "model-b"):  # the effect is there, large, in both models: it just does not differ
        own = effects.loc[(model, "humor", "vs_control", "advbench", "refused")]
        assert bool(own["significant"]) and own["effect"] > 0.2
    # BH within each contrast and family, as the effects: the same family sizes
    for (contrast, family), grp in inter.groupby(["contrast", "bh_family"]):
        assert len(grp) == len(effects[(effects.index.get_level_values("contrast") == contrast)
                                       & (effects["bh_family"] == family)]) // 2


def test_more_than_two_models_are_compared_pair_by_pair_in_one_correction_family():
    from valind.stats.interaction import model_interactions

    rng = np.random.default_rng(0)
    rows = []
    for model, shift in (("m1", 0.0), ("m2", 0.0), ("m3", 0.5)):
        base = rng.uniform(size=80) < 0.3
        for k in range(80):
            rows.append((model, "base", 0, "advbench", f"i{k}", "refused", float(base[k])))
            hit = base[k] or rng.uniform() < shift
            rows.append((model, "empathy", 0, "advbench", f"i{k}", "refused", float(hit)))
    results = pd.DataFrame(rows, columns=["model", "induced_value", "seed", "suite", "item_id", "metric", "value"])
    inter = model_interactions(results, FAST).set_index(["model", "other_model"])
    assert list(inter.index) == [("m1", "m2"), ("m1", "m3"), ("m2", "m3")]
    assert not inter.loc[("m1", "m2"), "significant"]
    assert inter.loc[("m1", "m3"), "significant"] and inter.loc[("m2", "m3"), "significant"]
    assert (inter["p_adjusted"] >= inter["p_value"]).all()  # corrected together
