"""Sweep grids: axes expand into jobs with stable ids; doses cap the data; `valind plan` lists every job."""

from __future__ import annotations

import json
import math
from argparse import Namespace
from pathlib import Path

import pytest
import yaml

from valind.config import StudyConfig
from valind.context import RunContext
from valind.errors import ConfigError
from valind.sweep import plan
from valind.sweep.grid import sweep_points
from valind.train.stage import plan_jobs

from tests.conftest import sweep_config, write_curated

def test_no_sweep_keeps_plain_ids(tmp_path, tiny_model_dir):
    write_curated(tmp_path, {"empathy": 10, "humor": 10})
    jobs = plan_jobs(RunContext(config=sweep_config(tiny_model_dir), run_dir=tmp_path))
    assert [j.job_id for j in jobs] == ["tiny/empathy/seed0", "tiny/empathy/seed1", "tiny/humor/seed0", "tiny/humor/seed1"]
    assert jobs[0].out_dir == str(tmp_path / "train" / "tiny" / "empathy" / "seed0")


def test_axes_cross_models_values_seeds_with_stable_ids_and_doses(tmp_path, tiny_model_dir):
    write_curated(tmp_path, {"empathy": 10, "humor": 10})
    sweep = {"training.beta": [0.05, 0.2], "training.lora.r": [2, 8], "curation.max_subset_size": [4, 50]}
    ctx = RunContext(config=sweep_config(tiny_model_dir, sweep), run_dir=tmp_path)
    jobs = plan_jobs(ctx)
    assert len(jobs) == 2 * 2 * 2 * 2 * 2  # beta x r x dose x values x seeds
    assert len({j.job_id for j in jobs}) == len(jobs) and len({j.out_dir for j in jobs}) == len(jobs)
    again = plan_jobs(RunContext(config=sweep_config(tiny_model_dir, dict(reversed(list(sweep.items())))),
                                 run_dir=tmp_path))
    assert [(j.job_id, j.job_hash) for j in again] == [(j.job_id, j.job_hash) for j in jobs]  # stable, order-free

    job = next(j for j in jobs if j.job_id == "tiny/empathy/max_subset_size=4_beta=0.05_r=8/seed1")
    assert job.training.beta == 0.05 and job.training.lora.r == 8 and job.training.epochs == 2
    dose = [json.loads(line) for line in open(job.train_file)]
    full = [json.loads(line) for line in open(tmp_path / "curate" / "subsets" / "empathy" / "train.jsonl")]
    assert dose == full[:4]  # the first 4 of the seeded order: smaller doses nest inside larger ones
    big = next(j for j in jobs if j.job_id == "tiny/empathy/max_subset_size=50_beta=0.05_r=8/seed1")
    assert sum(1 for _ in open(big.train_file)) == 10 and big.data_hash != job.data_hash
    # a different beta is a different job; the same point and seed on another value too
    assert len({j.job_hash for j in jobs}) == len(jobs)


@pytest.mark.parametrize("sweep, message", [
    ({"training.bogus": [1]}, "sweep.training.bogus: unknown field 'bogus'"),
    ({"training.beta": [-1.0]}, "training.beta: Input should be greater than 0"),
    ({"training.seeds": [[1]]}, "list them in training.seeds"),
    ({"generation.temperature": [0.7]}, "not a sweep axis"),
    ({"training.beta": [0.1, 0.1]}, "repeated values"),
])
def test_bad_axes_name_the_axis(tiny_model_dir, sweep, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        sweep_points(sweep_config(tiny_model_dir, sweep))


def test_plan_prints_every_job_with_cost(tmp_path, tiny_model_dir, capsys):
    write_curated(tmp_path / "run", {"empathy": 10, "humor": 10})
    cfg = sweep_config(tiny_model_dir, {"training.beta": [0.05, 0.2]}).model_dump(mode="json")
    cfg["evaluation"] = {"suites": [{"name": "value_prompts", "limit": 5}]}
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(cfg))
    assert plan.main(Namespace(study=str(study), utilisation=0.5, out=str(tmp_path / "run"))) == 0
    out = capsys.readouterr().out
    jobs = plan_jobs(RunContext(config=StudyConfig(**cfg), run_dir=tmp_path / "run"))
    assert len(jobs) == 8
    for job in jobs:
        assert job.job_id in out and job.job_hash in out
    assert "Training jobs (8)" in out and "at 50% utilisation" in out and "989 TFLOP/s" in out

    est = plan.estimate(RunContext(config=StudyConfig(**cfg), run_dir=tmp_path / "run"), 0.5)
    params = plan.model_params(str(tiny_model_dir)).params
    from transformers import AutoModelForCausalLM
    assert params == sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(tiny_model_dir).parameters())
    row = next(r for r in est["rows"] if r["job_id"] == jobs[0].job_id)
    assert row["pairs"] == 10
    # tokens = pairs x epochs x tokens per pair, measured on the subset with the model's tokenizer
    _, per_pair = plan.subset_tokens(jobs[0].train_file, plan._token_counter(str(tiny_model_dir))[0], 64)
    assert row["tokens"] == pytest.approx(10 * 2 * per_pair)
    assert row["flops"] == pytest.approx(6 * params * row["tokens"] + 2 * params * 10 * per_pair)  # + one ref pass
    assert row["gpu_hours"] == pytest.approx(row["flops"] / (0.5 * 989e12) / 3600)
    gen = [r for r in est["rows"] if r["kind"] == "generate"]
    assert len(gen) == 1 + 8 and all(r["pairs"] == 5 for r in gen)  # base + every adapter, 5 prompts each
    assert math.isclose(est["total"]["flops"], sum(r["flops"] for r in est["rows"]))


def test_plan_before_curation_and_unknown_hub_model(tmp_path, tiny_model_dir, monkeypatch):
    cfg = sweep_config(tiny_model_dir, {"curation.max_subset_size": [30, 300]})
    cfg.evaluation.suites = []
    est = plan.estimate(RunContext(config=cfg, run_dir=tmp_path / "fresh"), 0.4)
    train = [r for r in est["rows"] if r["kind"] == "train"]
    # doses x (2 values + the planned control adapter) x seeds; the dose is the assumed size
    assert len(train) == 2 * 3 * 2 and sorted({r["pairs"] for r in train}) == [30, 300]
    assert sum("/control/" in r["job_id"] for r in train) == 2 * 2
    assert any("not curated yet" in n for n in est["notes"])
    # epochs x (prompt+chosen and prompt+rejected at max_length) per pair: the stated upper bound
    assert all(r["tokens"] == r["pairs"] * 2 * 2 * 64 for r in train)

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    size = plan.model_params("some-org/NotCached-7B-Instruct")
    assert size.params == 7e9 and "from the name" in size.source
    assert math.isnan(plan.model_params("some-org/no-size-here").params)


def test_plan_counts_every_stage_of_the_paper_config_and_compares_with_the_study(tmp_path):
    from valind.config import load_study

    repo = Path(__file__).resolve().parents[2]
    cfg = load_study(repo / "configs" / "paper_plus.yaml")
    cfg.models = [m for m in cfg.models if m.name == "meta-llama/Llama-3.1-8B-Instruct"]  # one of the eight
    cfg.plan.subset_sizes = "all_pairs"  # the published-size bound: tests/pipeline/test_paper_configs.py
    est = plan.estimate(RunContext(config=cfg, run_dir=tmp_path / "fresh"), 0.4)
    stages = {s.stage: s for s in est["stages"]}
    assert list(stages) == ["extract", "train", "generate", "judge", "qa"]
    source_pairs = sum(plan.HUB_SOURCE_PAIRS.values())  # before ingestion: the four datasets' card sizes
    assert stages["extract"].calls == 2 * source_pairs  # listing only: one call per chosen and rejected response
    # 15 values and the control adapter, 3 seeds each; the upper bound before curation
    assert est["adapters"] == 48 and est["controls"] == 1 and stages["train"].calls == 48 * source_pairs
    variants = 1 + 48
    # LLM-judged generations: AnthroBench 960 conversations x 3 assistant turns x 13 (pronoun use is counted, not
    # asked), sycophancy 44 x 3, value prompts 1 listing call each (before curation, the held-out suite's 20
    # prompts x 15 values); refusal (advbench, xstest) by the offline judge
    assert all(s.judge != "llm" for s in cfg.evaluation.suites if s.name in ("advbench", "xstest"))
    value_prompts = cfg.curation.value_suite_per_value * 15
    assert stages["judge"].calls == variants * (960 * 3 * 13 + 44 * 3 + value_prompts)
    # training memory: the paper's micro-batch fits an 80 GB GPU only with gradient checkpointing, which it sets
    size = plan.model_params(cfg.models[0].name)
    assert size.params == pytest.approx(8.03e9, rel=0.01) and size.config is not None
    t = cfg.training
    assert plan.training_memory_gb(size, "bfloat16", t.batch_size, t.max_length, "dpo", True) < 80
    assert plan.training_memory_gb(size, "bfloat16", t.batch_size, t.max_length, "dpo", False) > 80
    text = plan.format_summary(est)
    assert "4,608 GPU-h" in text and "upper bound" in text


def test_readme_shows_the_plan_the_command_prints(tmp_path, monkeypatch):
    """The README's figures for the two paper configs are `valind plan configs/paper_llama8b.yaml
    configs/paper_plus.yaml --summary` output (each summary, the training-pairs note, and the side by side)."""
    from valind.config import load_study

    repo = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(tmp_path)  # no run folder of that name here: the plan before anything ran
    readme = (repo / "README.md").read_text()
    block = readme.split("<!-- plan:start -->")[1].split("<!-- plan:end -->")[0]
    totals = []
    for name in ("paper_llama8b.yaml", "paper_plus.yaml"):
        cfg = load_study(repo / "configs" / name)
        est = plan.estimate(RunContext(config=cfg, run_dir=tmp_path / cfg.output_dir), 0.4)
        assert plan.format_summary(est) in block
        assert next(f"Note: {n}" for n in est["notes"] if n.startswith("training pairs")) in block
        totals.append((name, cfg.name, est))
    assert plan.format_side_by_side(totals) in block
