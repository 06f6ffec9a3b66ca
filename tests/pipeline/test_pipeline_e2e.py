"""The whole pipeline on a tiny Llama built in the test, asserting on outcomes.

Subsets obey the XOR rule and the flip, equal budgets hold, the control
adapter trained on a pool draw of the matched size, the DPO loss fell and the
adapter weights changed, the implicit-reward check ran, generations exist for
the base model and every adapter (the control included) over the held-out
value suite, the results table has rows for every (model, induced value,
measure), and the report holds both contrasts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from safetensors.torch import load_file

from valind.config import parse_study
from valind.context import RunContext
from valind.pipeline import run_stage
from tests.conftest import e2e_study

VALUES = ["empathy", "humor"]


@pytest.fixture(scope="module")
def finished_run(tiny_model_dir, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    ctx = RunContext(config=parse_study(e2e_study(tiny_model_dir)), run_dir=run_dir, progress=False)
    for stage in ["ingest", "extract", "curate", "train", "generate", "evaluate", "report"]:
        run_stage(ctx, stage)
    return ctx


def test_subsets_obey_xor_rule_and_flip(finished_run):
    run_dir = finished_run.run_dir
    ann = pd.read_parquet(run_dir / "extract" / "annotations.parquet").set_index("id")
    pairs = pd.read_parquet(run_dir / "ingest" / "pairs.parquet").set_index("id")
    stats = pd.read_csv(run_dir / "curate" / "stats.csv").set_index("value")
    assert stats["train"].nunique() == 1  # equal budgets: every value trains on as many pairs
    for value in VALUES:
        recs = [json.loads(line) for part in ("train", "heldout")
                for line in open(run_dir / "curate" / "subsets" / value / f"{part}.jsonl")]
        assert len(recs) == stats.loc[value, "train"] + stats.loc[value, "heldout"] > 0
        n_flipped = 0
        for r in recs:
            in_c = value in list(ann.loc[r["id"], "chosen_values"])
            in_r = value in list(ann.loc[r["id"], "rejected_values"])
            assert in_c != in_r, f"{r['id']} is not an XOR pair for {value}"
            src = pairs.loc[r["id"]]
            if r["flipped"]:
                n_flipped += 1
                assert in_r and r["chosen"] == src["rejected"] and r["rejected"] == src["chosen"]
            else:
                assert in_c and r["chosen"] == src["chosen"] and r["rejected"] == src["rejected"]
        # every XOR pair of the source counts; it is in the subset unless subsampled away for equal budgets or
        # held out for another value (held out for one, held out for all)
        expected = sum((value in list(c)) != (value in list(rj))
                       for c, rj in zip(ann["chosen_values"], ann["rejected_values"]))
        assert expected == stats.loc[value, "pairs"] >= len(recs) + stats.loc[value, "subsampled"]
        if len(recs) == stats.loc[value, "pairs"]:  # the share is over all XOR pairs
            assert stats.loc[value, "flipped_share"] == pytest.approx(n_flipped / len(recs), abs=1e-4)


def test_control_adapter_trained_on_a_size_matched_pool_draw(finished_run):
    run_dir = finished_run.run_dir
    stats = pd.read_csv(run_dir / "curate" / "stats.csv").set_index("value")
    draw = [json.loads(line) for line in open(run_dir / "curate" / "subsets" / "control" / "seed0" / "train.jsonl")]
    assert len(draw) == stats["train"].iloc[0]  # the values' (equalized) size
    heldout = {json.loads(line)["id"] for v in VALUES
               for line in open(run_dir / "curate" / "subsets" / v / "heldout.jsonl")}
    xor_pool = {json.loads(line)["id"] for v in VALUES
                for line in open(run_dir / "curate" / "subsets" / v / "train.jsonl")}
    assert not {r["id"] for r in draw} & heldout and len({r["id"] for r in draw} - xor_pool) <= sum(stats["subsampled"])
    pairs = pd.read_parquet(run_dir / "ingest" / "pairs.parquet").set_index("id")
    assert all(r["chosen"] == pairs.loc[r["id"], "chosen"] for r in draw)  # the data's own preference
    metrics = json.loads((run_dir / "train" / "tiny" / "control" / "seed0" / "metrics.json").read_text())
    assert metrics["n_train"] == len(draw) and metrics["value"] == "control"
    assert metrics["steps"] == json.loads((run_dir / "train" / "tiny" / "empathy" / "seed0" / "metrics.json")
                                          .read_text())["steps"]  # same steps as the value adapters
    assert set(metrics["heldout_rewards"]["values"]) == set(VALUES)  # the judge-free check on every held-out set


def test_dpo_loss_fell_and_adapter_weights_changed(finished_run):
    for value in [*VALUES, "control"]:
        d = finished_run.run_dir / "train" / "tiny" / value / "seed0"
        metrics = json.loads((d / "metrics.json").read_text())
        losses = [h["loss"] for h in metrics["log_history"] if "loss" in h]
        if value != "control":  # the control's mixed slice need not fall in 4 steps; its weights must still move
            assert losses[-1] < losses[0], f"{value}: DPO loss did not fall: {losses}"
        weights = load_file(d / "adapter" / "adapter_model.safetensors")
        lora_b = [t for n, t in weights.items() if "lora_B" in n]
        assert lora_b and all(t.abs().sum() > 0 for t in lora_b)  # lora_B starts at zero
        assert metrics["lora_tensors_changed"] == metrics["lora_tensors"] > 0


def test_generations_for_base_and_every_adapter(finished_run):
    gen = finished_run.run_dir / "generate" / "tiny"
    for variant in ["base/seed0", "control/seed0"] + [f"{v}/seed0" for v in VALUES]:
        for suite, n in (("value_prompts", 4), ("harmful_requests", 4)):
            rows = [json.loads(line) for line in open(gen / variant / f"{suite}.jsonl")]
            assert len(rows) == n and all(isinstance(r["response"], str) for r in rows)
    # the value prompts are held-out prompts of the source data, with where they came from
    suite = [json.loads(line) for line in open(gen / "base" / "seed0" / "value_prompts.jsonl")]
    assert all(r["meta"]["source"] == "demo" and r["meta"]["pair_id"] == r["item_id"] for r in suite)


def test_results_table_covers_every_model_value_measure(finished_run):
    res = pd.read_parquet(finished_run.run_dir / "evaluate" / "results.parquet")
    assert list(res.columns) == ["study", "model", "induced_value", "seed", "suite", "item_id", "metric", "value"]
    assert set(res["induced_value"]) == {"base", "control", *VALUES}
    summary = res.groupby(["model", "induced_value", "metric"]).size()
    metrics = {"refused"} | {f"expresses:{v}" for v in VALUES}
    for induced in ["base", "control", *VALUES]:
        for metric in metrics:
            assert summary.get(("tiny", induced, metric), 0) == 4
    assert (finished_run.run_dir / "evaluate" / "value_matrix.png").stat().st_size > 1000


def test_report_is_written(finished_run):
    html = (finished_run.run_dir / "report" / "report.html").read_text()
    assert "<html" in html.lower() and "empathy" in html
    effects = pd.read_csv(finished_run.run_dir / "report" / "effects.csv")
    vc = effects[effects["contrast"] == "vs_control"]
    assert set(vc["induced_value"]) == set(VALUES) and set(vc["reference"]) == {"control"}
    assert "control" in set(effects.loc[effects["contrast"] == "vs_base", "induced_value"])
    assert "One seed per adapter" in html and "Implicit-reward accuracy" in html
    assert 'src="http' not in html and 'href="http' not in html  # self-contained, no network references
    assert (finished_run.run_dir / "report" / "summary.md").exists()


def test_rerun_skips_every_stage(finished_run):
    ctx = RunContext(config=finished_run.config, run_dir=finished_run.run_dir, progress=False)
    for stage in ["ingest", "extract", "curate", "train", "generate", "evaluate", "report"]:
        assert run_stage(ctx, stage).get("_skipped"), f"{stage} reran although nothing changed"


def test_interrupted_training_resumes_with_only_the_rest(finished_run, tmp_path, monkeypatch):
    import shutil

    import valind.train.stage as train_stage

    for stage in ["ingest", "extract", "curate"]:  # reuse the finished upstream stages
        shutil.copytree(finished_run.run_dir / stage, tmp_path / stage)
    ctx = RunContext(config=finished_run.config, run_dir=tmp_path, progress=False)
    assert run_stage(ctx, "curate").get("_skipped")
    real = train_stage.train_adapter
    trained: list[str] = []

    def first_then_crash(job, work):
        if trained:
            raise KeyboardInterrupt("simulated kill after the first adapter")
        trained.append(job.job_id)
        return real(job, work)

    monkeypatch.setattr(train_stage, "train_adapter", first_then_crash)
    with pytest.raises(KeyboardInterrupt):
        run_stage(ctx, "train")
    assert len(trained) == 1
    first = trained[0]
    monkeypatch.setattr(train_stage, "train_adapter", lambda job, work: (trained.append(job.job_id), real(job, work))[1])
    run_stage(ctx, "train")
    assert trained[0] == first and first not in trained[1:]
    assert len(trained) == 1 + (len(VALUES) + 1 - 1)  # the values and the control, less the first
    assert not list((tmp_path / "train").rglob("*.partial"))


def test_sweep_points_get_their_own_generations_and_rows(finished_run, tmp_path):
    """Two beta values for one value and seed: separate adapters, generation folders and result rows."""
    import shutil

    for stage in ["ingest", "extract", "curate"]:
        shutil.copytree(finished_run.run_dir / stage, tmp_path / stage)
    data = e2e_study(Path(finished_run.config.models[0].name), values=["empathy"], sweep={"training.beta": [0.1, 0.5]})
    data["training"]["max_steps"] = 1
    data["evaluation"] = {"suites": [{"name": "harmful_requests", "limit": 2}]}
    ctx = RunContext(config=parse_study(data), run_dir=tmp_path, progress=False)
    for stage in ["curate", "train", "generate", "evaluate"]:
        run_stage(ctx, stage)
    res = pd.read_parquet(tmp_path / "evaluate" / "results.parquet")
    induced = sorted(set(res["induced_value"]) - {"base"})
    assert induced == ["control@beta=0.1", "control@beta=0.5", "empathy@beta=0.1", "empathy@beta=0.5"], induced
    for label in induced:
        assert (tmp_path / "generate" / "tiny" / label / "seed0" / "harmful_requests.jsonl").exists()
        assert (res["induced_value"] == label).sum() == 2 * res[res["induced_value"] == "base"]["metric"].nunique()
