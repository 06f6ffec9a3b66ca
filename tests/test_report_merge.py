"""`valind report RUN_A RUN_B -o DIR`: runs of the same design (one model each) merge into one report;
runs whose values, suites, judges or seeds differ, or that hold the same model, are refused by name."""

from __future__ import annotations

import json

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
